"""render_tracks end to end on small generated tracks with real FluidSynth."""

from __future__ import annotations

import csv
import json

import numpy as np
import pretty_midi
import pyarrow.parquet as pq
import pytest
import soundfile

from adtos.render import RenderInputError, integrated_loudness, render_tracks
from adtos.render.assign import VOICES
from adtos.render.loudness import MIX_CEILING
from test_render_support import kit, make_tracks, patch, small_library


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    root = tmp_path_factory.mktemp("render")
    ids = make_tracks(root / "tracks", n=3, seconds=4.0, voices=len(VOICES))
    report = render_tracks(root / "tracks", small_library(), root / "out", workers=1, stems=True,
                           progress=False)
    return root, ids, report


def table(out):
    return pq.read_table(out / "render.parquet").to_pylist()


def test_writes_the_rendered_audio_layout(rendered):
    root, ids, report = rendered
    out = root / "out"
    assert sorted(report.rendered) == ids and not report.failed
    for track_id in ids:
        assert (out / "audio" / f"{track_id}.flac").is_file()
        for voice in VOICES:
            assert (out / "stems" / track_id / f"{voice}.flac").is_file()
        source = root / "tracks"
        # The assembled annotation, each line extended by velocity, level_db and smr_db.
        rendered_lines = (out / "annotations" / f"{track_id}.txt").read_text().splitlines()
        assert ["\t".join(line.split("\t")[:3]) for line in rendered_lines] == \
            (source / "annotations" / f"{track_id}.txt").read_text().splitlines()
        assert {len(line.split("\t")) for line in rendered_lines} == {6}
        assert (out / "midi" / f"{track_id}.mid").read_bytes() == \
            (source / "midi" / f"{track_id}.mid").read_bytes()
        drums_only = pretty_midi.PrettyMIDI(str(out / "annotations" / f"{track_id}.mid"))
        assert [i.name for i in drums_only.instruments] == ["drums"]
    assert (out / "render_errors.csv").read_text() == "track_id,reason\n"
    assert not list(out.rglob(".*.partial*"))


def test_render_parquet_records_presets_loudness_gain_and_hash(rendered):
    root, ids, _ = rendered
    rows = table(root / "out")
    assert [r["track_id"] for r in rows] == ids
    library = {p.id: p for p in small_library()}
    from adtos.fileio import sha256_file

    for row in rows:
        assert row["split"] == "train" and row["sample_rate"] == 44100
        for voice, column in [("drums", "drum_preset"), ("piano", "piano_preset"),
                              ("bass", "bass_preset"), ("guitar", "guitar_preset"),
                              ("lead", "lead_preset"), ("bridge", "bridge_preset")]:
            assert library[row[column]].role == voice
            assert row[f"{voice}_lufs_after"] == pytest.approx(-23.0, abs=0.5)
        assert row["duration"] == pytest.approx(4.0 + 1.0, abs=0.6)
        assert row["audio_sha256"] == sha256_file(root / "out" / "audio" / f"{row['track_id']}.flac")
    # the three kits are each used once before any is used twice
    assert len({r["drum_preset"] for r in rows}) == 3


def test_stems_are_at_the_target_loudness_and_the_mix_does_not_clip(rendered):
    root, ids, _ = rendered
    for track_id in ids:
        mix, sr = soundfile.read(root / "out" / "audio" / f"{track_id}.flac", dtype="float32")
        assert mix.shape[1] == 2 and sr == 44100
        assert np.max(np.abs(mix)) < 1.0
        for voice in VOICES:
            stem, _ = soundfile.read(root / "out" / "stems" / track_id / f"{voice}.flac",
                                     dtype="float64")
            assert integrated_loudness(stem, sr) == pytest.approx(-23.0, abs=0.5)


def test_a_loud_target_engages_the_clip_guard(tmp_path):
    make_tracks(tmp_path / "tracks", n=1, seconds=3.0)
    render_tracks(tmp_path / "tracks", small_library(), tmp_path / "out", workers=1,
                  target_lufs=-6.0, progress=False)
    row = table(tmp_path / "out")[0]
    assert row["mix_gain"] < 1.0 and row["mix_peak"] <= MIX_CEILING + 1e-6
    mix, _ = soundfile.read(tmp_path / "out" / "audio" / "train00000.flac", dtype="float32")
    assert np.max(np.abs(mix)) <= MIX_CEILING + 1e-4


def test_same_outputs_with_two_workers_and_fewer_voices_keep_the_drum_preset(rendered, tmp_path):
    root, ids, _ = rendered
    render_tracks(root / "tracks", small_library(), tmp_path / "two", workers=2, stems=True,
                  progress=False)
    assert table(tmp_path / "two") == table(root / "out")
    for track_id in ids:
        assert (tmp_path / "two" / "audio" / f"{track_id}.flac").read_bytes() == \
            (root / "out" / "audio" / f"{track_id}.flac").read_bytes()

    render_tracks(root / "tracks", small_library(), tmp_path / "drums", voices=("drums",),
                  workers=1, progress=False)
    full, drums = table(root / "out"), table(tmp_path / "drums")
    for a, b in zip(full, drums):
        assert b["drum_preset"] == a["drum_preset"] and b["piano_preset"] is None
        assert b["voices"] == "drums" and b["duration"] == a["duration"]
    only = pretty_midi.PrettyMIDI(str(tmp_path / "drums" / "midi" / f"{ids[0]}.mid"))
    assert [i.name for i in only.instruments] == ["drums"]


def test_soundfonts_are_loaded_once_per_worker(tmp_path):
    # Each worker builds one SoundfontBank (which keeps every soundfont it
    # loads) and renders all its tracks with it.
    from adtos.render.executors import run_local
    from adtos.render.pipeline import read_tracks
    from adtos.render.worker import RenderOptions, TrackJob

    make_tracks(tmp_path / "tracks", n=6, seconds=1.0, voices=1)
    jobs = [TrackJob(t.track_id, t.split, t.midi_path, t.annotation_path, {"drums": kit(0)})
            for t in read_tracks(tmp_path / "tracks")]
    results = []
    run_local(jobs, RenderOptions(tmp_path / "out"), 2, results.append)
    assert len(results) == 6 and not [r.error for r in results if r.error]
    assert len({r.worker for r in results}) <= 2
    assert {r.banks_created for r in results} == {1}


def test_bad_inputs_fail_their_track_and_the_others_finish(tmp_path):
    tracks = tmp_path / "tracks"
    ids = make_tracks(tracks, n=5, seconds=2.0, voices=2)
    (tracks / "midi" / f"{ids[0]}.mid").write_bytes(b"MThd\x00\x00\x00\x06broken")
    silent_piano = patch("piano", 0, synth={"gain": 0.0})
    presets = small_library() + [silent_piano]
    good = {"drums": kit(0).id, "piano": patch("piano", 0).id}
    assignment = {ids[0]: good, ids[1]: {**good, "drums": "drums-0000000000"},
                  ids[2]: {**good, "piano": "piano-0000000000"},
                  ids[3]: {**good, "piano": silent_piano.id}, ids[4]: good}
    report = render_tracks(tracks, presets, tmp_path / "out", workers=1, assignment=assignment,
                           progress=False)
    assert report.rendered == [ids[4]]
    reasons = dict(csv.reader((tmp_path / "out" / "render_errors.csv").open()))
    assert "does not parse" in reasons[ids[0]]
    assert "drums-0000000000" in reasons[ids[1]] and "not in the library" in reasons[ids[1]]
    assert "piano-0000000000" in reasons[ids[2]]
    assert f"silent stem piano with preset {silent_piano.id}" in reasons[ids[3]]
    assert [r["track_id"] for r in table(tmp_path / "out")] == [ids[4]]
    for failed in ids[:4]:
        assert not (tmp_path / "out" / "audio" / f"{failed}.flac").exists()

    # With the MIDI file fixed, a rerun renders that track, retries the others
    # and leaves the finished one alone.
    finished = tmp_path / "out" / "audio" / f"{ids[4]}.flac"
    mtime = finished.stat().st_mtime_ns
    make_tracks(tracks, n=5, seconds=2.0, voices=2)
    again = render_tracks(tracks, presets, tmp_path / "out", workers=1, assignment=assignment,
                          progress=False)
    assert again.skipped == [ids[4]] and again.rendered == [ids[0]]
    assert finished.stat().st_mtime_ns == mtime
    assert [t for t, _ in again.failed] == ids[1:4]
    assert [r["track_id"] for r in table(tmp_path / "out")] == [ids[0], ids[4]]


def test_a_missing_soundfont_stops_the_render_before_any_track(tmp_path):
    ids = make_tracks(tmp_path / "tracks", n=3, seconds=2.0, voices=1)
    missing_kit = kit(0, soundfont="NoSuchKit.sf2")
    with pytest.raises(RenderInputError, match=f"NoSuchKit.sf2.*not found.*{missing_kit.id}"):
        render_tracks(tmp_path / "tracks", [kit(0), missing_kit], tmp_path / "out", workers=1,
                      assignment={ids[1]: {"drums": missing_kit.id}}, progress=False)
    assert not list((tmp_path / "out").glob("audio/*"))
    # A library whose unused presets name a missing soundfont still renders.
    report = render_tracks(tmp_path / "tracks", [kit(0), missing_kit], tmp_path / "out",
                           workers=1, assignment={i: {"drums": kit(0).id} for i in ids},
                           progress=False)
    assert report.rendered == ids


def test_clear_errors_for_a_bad_library_or_changed_settings(tmp_path):
    make_tracks(tmp_path / "tracks", n=1, seconds=2.0, voices=1)
    with pytest.raises(RenderInputError, match="no drum preset"):
        render_tracks(tmp_path / "tracks", [patch("piano")], tmp_path / "out", progress=False)
    with pytest.raises(RenderInputError, match="preset library not found"):
        render_tracks(tmp_path / "tracks", tmp_path / "none.jsonl", tmp_path / "out")
    with pytest.raises(RenderInputError, match="format"):
        render_tracks(tmp_path / "tracks", [kit()], tmp_path / "out", fmt="mp3")
    render_tracks(tmp_path / "tracks", [kit()], tmp_path / "out", workers=1, progress=False)
    with pytest.raises(RenderInputError, match="other settings.*sample_rate"):
        render_tracks(tmp_path / "tracks", [kit()], tmp_path / "out", sample_rate=22050)
    settings = json.loads((tmp_path / "out" / ".render" / "settings.json").read_text())
    assert settings["sample_rate"] == 44100

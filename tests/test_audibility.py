"""Per-onset audibility measured by the renderer (adtos.render.audibility), end to end."""

from __future__ import annotations

import mir_eval
import numpy as np
import pretty_midi
import pytest
import soundfile

from adtos.annotations import read_annotations
from adtos.datasets import load_dataset
from adtos.render import render_tracks
from adtos.render.audibility import HIT_WINDOW_S, band_energies, third_octave_bands
from test_render_support import kit, patch, write_track, write_tracks_table

SR = 44100


def rows(path):
    return [line.split("\t") for line in path.read_text().splitlines()]


def render(tmp_path, tracks: dict[str, pretty_midi.PrettyMIDI], presets, stems=False):
    folder = tmp_path / "tracks"
    for track_id, midi in tracks.items():
        write_track(folder, track_id, midi)
    write_tracks_table(folder, list(tracks))
    out = tmp_path / "out"
    report = render_tracks(folder, presets, out, workers=1, stems=stems, progress=False)
    assert not report.failed, report.failed
    return out


def song(drum_notes, chords=()):
    midi = pretty_midi.PrettyMIDI(initial_tempo=120.0)
    drums = pretty_midi.Instrument(0, is_drum=True, name="drums")
    drums.notes = [pretty_midi.Note(v, p, t, t + 0.05) for v, p, t in drum_notes]
    midi.instruments.append(drums)
    if chords:
        piano = pretty_midi.Instrument(0, name="piano")
        piano.notes = [pretty_midi.Note(v, p, t, t + d) for v, p, t, d in chords]
        midi.instruments.append(piano)
    return midi


@pytest.fixture(scope="module")
def isolated(tmp_path_factory):
    """Hits 1.5 s apart, each alone, at several velocities, with stems written."""
    tmp = tmp_path_factory.mktemp("isolated")
    hits = [(127, 36, 0.5), (40, 38, 2.0), (90, 42, 3.5), (20, 38, 5.0), (110, 49, 6.5)]
    return render(tmp, {"train00000": song(hits)}, [kit(0)], stems=True), hits


def test_an_isolated_hit_has_the_level_measured_on_its_stem(isolated):
    out, hits = isolated
    stem, sr = soundfile.read(out / "stems" / "train00000" / "drums.flac", dtype="float64",
                              always_2d=True)
    stem = stem.mean(axis=1)  # measured on the mono downmix, as the transcriber hears it
    lines = rows(out / "annotations" / "train00000.txt")
    assert len(lines) == len(hits) and all(len(r) == 6 for r in lines)
    window = int(round(HIT_WINDOW_S * sr))
    for (velocity, note, _), line in zip(hits, lines):
        assert int(line[1]) == note and int(line[3]) == velocity
        # FluidSynth starts the note on the 64-sample block nearest the annotated time.
        start = int(round(float(line[0]) * sr / 64)) * 64
        expected = 10 * np.log10(np.mean(stem[start:start + window] ** 2))
        assert float(line[4]) == pytest.approx(expected, abs=0.06), line


def test_softer_hits_measure_lower_and_louder_than_nothing(isolated):
    out, _ = isolated
    lines = rows(out / "annotations" / "train00000.txt")
    snare_loud, snare_soft = float(lines[1][4]), float(lines[3][4])  # velocity 40, 20
    assert snare_soft < snare_loud - 3.0
    # No accompaniment: only the decay of earlier hits masks them, from far below.
    assert all(float(r[5]) > 15.0 for r in lines)


def test_a_hit_under_a_loud_chord_has_a_lower_masking_figure(tmp_path):
    # Two identical snare ghost notes; a loud, long piano chord sounds over the first only.
    hits = [(50, 38, 1.0), (50, 38, 4.0)]
    chord = [(127, p, 0.98, 1.5) for p in (48, 52, 55, 60, 64, 67, 72)]
    out = render(tmp_path, {"train00000": song(hits, chord)}, [kit(0), patch("piano", 0)])
    masked, alone = rows(out / "annotations" / "train00000.txt")
    assert float(masked[4]) == pytest.approx(float(alone[4]), abs=0.5)  # same hit, same stem level
    assert float(masked[5]) < float(alone[5]) - 20.0


def test_a_hit_is_isolated_from_a_simultaneous_hit_of_another_class(tmp_path):
    """A soft hi-hat struck with a loud kick keeps the level it has alone."""
    together = song([(127, 36, 1.0), (50, 42, 1.0), (127, 36, 3.0)])
    alone = song([(127, 36, 1.0), (50, 42, 3.0)])
    out = render(tmp_path, {"train00000": together, "train00001": alone}, [kit(0)])
    hat_together = [r for r in rows(out / "annotations" / "train00000.txt") if r[1] == "42"][0]
    hat_alone = [r for r in rows(out / "annotations" / "train00001.txt") if r[1] == "42"][0]
    assert float(hat_together[4]) == pytest.approx(float(hat_alone[4]), abs=0.3)
    # ... while the kick masks it: its masking figure falls.
    assert float(hat_together[5]) < float(hat_alone[5]) - 10.0


def test_annotation_files_with_extra_columns_still_read_as_three_columns(isolated):
    out, hits = isolated
    path = out / "annotations" / "train00000.txt"
    # The project's reader: times, notes, classes as before, plus the new arrays.
    times, notes, _ = read_annotations(path)
    assert notes.tolist() == [n for _, n, _ in hits]
    track = load_dataset("adtos", out).tracks[0]
    assert track.velocities.tolist() == [v for v, _, _ in hits]
    assert track.level_db.shape == track.onsets.shape == track.smr_db.shape
    # mir_eval: the full six columns, and the old three-column call (its last
    # column keeps the rest of the line, so the class is its first field).
    t6, n6, c6, v6, level, smr = mir_eval.io.load_delimited(
        str(path), [float, int, str, int, float, float])
    assert np.allclose(t6, times) and n6 == notes.tolist() and v6 == [v for v, _, _ in hits]
    t3, n3, c3 = mir_eval.io.load_delimited(str(path), [float, int, str])
    assert np.allclose(t3, times) and n3 == notes.tolist()
    assert [c.split()[0] for c in c3] == c6 == ["BD", "SD", "HH", "SD", "CY"]
    # numpy's column reader with the first two columns, as a three-column script would.
    old = np.loadtxt(path, usecols=(0, 1))
    assert np.allclose(old[:, 0], times) and old[:, 1].astype(int).tolist() == notes.tolist()


def test_band_energies_sum_to_the_segment_energy():
    rng = np.random.default_rng(0)
    audio = rng.normal(size=(2, 10000)).astype(np.float32)
    mono = audio.mean(axis=0)
    bands = third_octave_bands(SR)
    starts, lengths = np.array([100, 5000, -300, 9000]), np.array([2205, 441, 2205, 2205])
    energies = band_energies(audio, starts, lengths, bands)
    expected = [np.sum(mono[100:2305] ** 2), np.sum(mono[5000:5441] ** 2),
                np.sum(mono[0:1905] ** 2), np.sum(mono[9000:] ** 2)]
    assert energies.sum(axis=1) == pytest.approx(expected, rel=1e-4)


def test_onset_strength_rises_with_the_hit_and_is_zero_in_steady_sound(isolated):
    from adtos.render.audibility import onset_strength

    out, hits = isolated
    mix, sr = soundfile.read(out / "audio" / "train00000.flac", dtype="float32")
    strength = onset_strength(mix, sr, np.array([t for _, _, t in hits]))
    assert strength[1] > strength[3] > 3.0  # snare at velocity 40 vs 20, both clear onsets
    hum = np.tile(np.sin(2 * np.pi * 220 * np.arange(SR) / SR).astype(np.float32), 2)
    noise = np.random.default_rng(0).normal(size=2 * SR).astype(np.float32) * 0.1
    for steady in (hum, noise):
        assert onset_strength(steady, SR, np.array([0.5, 0.77, 1.2])) == \
            pytest.approx([0.0] * 3, abs=0.7)


def test_stats_writes_velocity_and_audibility_per_class_for_synthetic_and_real(isolated, tmp_path):
    import csv

    from adtos.stats.compare import compare_datasets

    out, _ = isolated
    synthetic = load_dataset("adtos", out, name="ours")
    # A "real" set: the same audio and onsets without any MIDI-derived figure.
    real_tracks = [type(t)(t.track_id, t.audio_path, t.onsets, t.labels) for t in synthetic]
    from adtos.datasets.track import Dataset

    real = Dataset("real", "mdb", out, real_tracks)
    _, written = compare_datasets([synthetic, real], tmp_path, audibility=True)
    names = {p.name for p in written}
    assert {"audibility_per_class.csv", "audibility_shares.csv",
            "audibility_per_class.png"} <= names
    rows = list(csv.DictReader(open(tmp_path / "audibility_per_class.csv")))
    figures = {(r["dataset"], r["figure"]) for r in rows}
    assert ("ours", "velocity") in figures and ("ours", "smr_db") in figures
    assert ("real", "onset_strength_db") in figures and ("real", "velocity") not in figures
    sd = [r for r in rows if r["class"] == "SD" and r["figure"] == "onset_strength_db"]
    assert {r["dataset"] for r in sd} == {"ours", "real"} and sd[0]["p50"] == sd[1]["p50"]


def test_manifest_and_card_summarize_the_share_under_the_mix(tmp_path):
    import pyarrow.parquet as pq

    from adtos.build.card import audibility_lines
    from adtos.build.manifest import build_manifest
    from adtos.render.audibility import audibility_summary

    # A ghost snare under a loud chord, a loud snare alone, a pedal hi-hat.
    hits = [(30, 38, 1.0), (120, 38, 4.0), (80, 44, 5.0)]
    chord = [(127, p, 0.98, 1.5) for p in (48, 52, 55, 60, 64, 67, 72)]
    out = render(tmp_path, {"train00000": song(hits, chord)}, [kit(0), patch("piano", 0)])
    summary = audibility_summary(out / "annotations" / "train00000.txt")
    assert summary["onsets_SD"] == 2 and summary["under_mix_SD"] == 0.5
    assert summary["onsets_HH"] == 1 and summary["pedal_hihat"] == 1
    assert summary["under_mix_BD"] is None  # no kick: nothing measured, not 0 %
    manifest = build_manifest(pq.read_table(tmp_path / "tracks" / "tracks.parquet"),
                              pq.read_table(out / "render.parquet"), out, voices=("drums", "piano"),
                              quantized=False)
    row = manifest.to_pylist()[0]
    assert row["under_mix_SD"] == 0.5 and row["onsets_SD"] == 2 and row["pedal_hihat"] == 1
    card = "\n".join(audibility_lines(manifest.to_pylist(), manifest.column_names))
    assert "| SD | 2 | 50.0 % |" in card and "| BD | 0 | not measured |" in card
    assert "Pedal hi-hat (GM 44): 1 onsets, 33.3 %" in card


def test_annotated_onsets_find_their_midi_notes_across_the_printed_rounding():
    from adtos.render.audibility import match_notes

    drums = pretty_midi.Instrument(0, is_drum=True, name="drums")
    drums.notes = [pretty_midi.Note(31, 38, 0.12344999999, 0.2), pretty_midi.Note(90, 42, 0.12345, 0.2),
                   pretty_midi.Note(100, 38, 0.5, 0.6), pretty_midi.Note(70, 38, 0.5004, 0.6)]
    times = np.array([0.123450, 0.123450, 0.5004, 0.5, 0.9])
    notes = np.array([38, 42, 38, 38, 36])
    assert match_notes(times, notes, drums).tolist() == [0, 1, 3, 2, -1]

"""adtos assemble on synthetic loop indexes (same schema as `adtos index`)."""

from __future__ import annotations

import json
import math

import numpy as np
import pretty_midi
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from adtos.assemble import AssembleError, AssembleOptions, assemble_tracks, quantize_track_file
from adtos.assemble.harmony import parse_key
from adtos.assemble.synthetic import synthetic_loop_index
from adtos.vocab import GM_TO_CLASS

RES = 480


@pytest.fixture(scope="module")
def loops() -> pa.Table:
    return synthetic_loop_index({"drums": 48, "piano": 24, "bass": 12, "guitar": 12}, seed=3)


@pytest.fixture(scope="module")
def built(loops, tmp_path_factory):
    out = tmp_path_factory.mktemp("tracks")
    options = AssembleOptions(tracks=4, duration=45.0, voices=4, seed=7)
    table = assemble_tracks(loops, out, options)
    return out, table, options


def loop_rows(loops: pa.Table) -> dict[str, dict]:
    return {row["loop_id"]: row for row in loops.to_pylist()}


def read_annotation(path) -> list[tuple[float, int, str]]:
    lines = path.read_text().splitlines()
    return [(float(t), int(n), c) for t, n, c in (line.split("\t") for line in lines)]


def test_layout_and_midi_read_back(built):
    out, table, options = built
    assert table.num_rows == 4
    assert pq.read_table(out / "tracks.parquet").equals(table)
    summary = json.loads((out / "assemble.json").read_text())
    assert summary["options"]["seed"] == 7
    for row in table.to_pylist():
        midi = pretty_midi.PrettyMIDI(str(out / row["midi_path"]))
        assert [i.name for i in midi.instruments] == ["drums", "piano", "bass", "guitar"]
        assert [i.is_drum for i in midi.instruments] == [True, False, False, False]
        # One tempo per section (repeated tempi are not re-written).
        times, tempi = midi.get_tempo_changes()
        expected = [(s, t) for k, (s, t) in enumerate(zip(row["section_start_sec"], row["section_tempi"]))
                    if k == 0 or t != row["section_tempi"][k - 1]]
        assert np.allclose(times, [s for s, _ in expected]) and np.allclose(tempi, [t for _, t in expected])
        signatures = midi.time_signature_changes
        assert f"{signatures[0].numerator}/{signatures[0].denominator}" == row["meter"]
        tonic, mode = parse_key(row["key"])
        assert midi.key_signature_changes[0].key_number == tonic + 12 * mode
        # The track ends at the first bar line at or after the requested duration.
        last_tempo, bar_qn = row["section_tempi"][-1], float(row["meter"][0]) if row["meter"] != "6/8" else 3.0
        assert options.duration <= row["duration"] < options.duration + bar_qn * 60 / last_tempo + 1e-6
        assert midi.get_end_time() <= row["duration"] + 1e-9


def test_annotation_matches_drum_track_note_by_note(built):
    out, table, _ = built
    for row in table.to_pylist():
        midi = pretty_midi.PrettyMIDI(str(out / row["midi_path"]))
        drums = sorted((float(f"{n.start:.6f}"), n.pitch) for n in midi.instruments[0].notes)
        annotation = read_annotation(out / row["annotation_path"])
        assert [(t, n) for t, n, _ in annotation] == drums
        assert all(c == GM_TO_CLASS.get(n, "-") for _, n, c in annotation)
        assert len(annotation) == row["drum_onsets"]
        # No same-note onsets within 1 ms.
        by_note: dict[int, list[float]] = {}
        for t, n, _ in annotation:
            by_note.setdefault(n, []).append(t)
        assert all(np.all(np.diff(ts) >= 1e-3 - 1e-6) for ts in by_note.values())


def expected_notes(loop: dict, start_qn: float, repeats: int, transpose: int, end_qn: float):
    loop_qn = loop["bars"] * loop["bar_qn"]
    notes = set()
    for r in range(repeats):
        for onset, pitch in zip(loop["note_start_qn"], loop["note_pitch"]):
            if start_qn + r * loop_qn + onset < end_qn:
                notes.add((int(np.rint((start_qn + r * loop_qn + onset) * RES)), pitch + transpose))
    return notes


def test_every_voice_is_locked_to_the_master_grid_and_transposed(built, loops):
    out, table, options = built
    rows = loop_rows(loops)
    for row in table.to_pylist():
        midi = pretty_midi.PrettyMIDI(str(out / row["midi_path"]))
        row["duration_qn"] = midi.time_to_tick(row["duration"]) / RES
        section_qn = np.cumsum([0] + [b * (4.0 if m == "4/4" else 3.0)
                                      for b, m in zip(row["section_bars"], row["section_meters"])])
        tonic, mode = parse_key(row["key"])
        masters = {p["section"]: rows[p["loop_id"]] for p in row["loops"][::-1]
                   if p["voice"] == "drums"}   # the first drum loop of a section is its master
        for placement in row["loops"]:
            if placement["derived"]:
                continue
            loop, master = rows[placement["loop_id"]], masters[placement["section"]]
            section = placement["section"]
            # Compatibility with the section's master.
            assert loop["meter"] == master["meter"] and loop["split"] == "train"
            assert abs(loop["tempo"] / master["tempo"] - 1) <= options.tempo_tolerance + 1e-9
            assert row["section_bars"][section] % loop["bars"] == 0
            # A drum fill replaces the master's last bars; everything else spans the section.
            later = [p["start_qn"] for p in row["loops"] if p["section"] == section
                     and p["voice"] == placement["voice"] and p["start_qn"] > placement["start_qn"]]
            span_end = min(later + [section_qn[section + 1], row["duration_qn"]])
            if loop["beat_type"] == "fill":
                assert placement["start_qn"] + loop["bars"] * loop["bar_qn"] == section_qn[section + 1]
            else:
                assert placement["start_qn"] == section_qn[section]
                assert math.isclose(placement["start_sec"], row["section_start_sec"][section])
            assert placement["start_qn"] % loop["bar_qn"] == 0
            assert math.isclose(placement["start_sec"], midi.tick_to_time(int(placement["start_qn"] * RES)))
            if placement["voice"] != "drums":
                loop_tonic, loop_mode = parse_key(loop["key"])
                target = tonic if loop_mode == mode else (tonic + 9 if mode == 0 else tonic + 3)
                assert (loop_tonic + placement["transpose"] - target) % 12 == 0
                assert -6 <= placement["transpose"] <= 5
            # The voice's notes in this section are the loop's notes, placed in beats.
            instrument = midi.instruments[options.voice_names.index(placement["voice"])]
            lo, hi = int(round(placement["start_qn"] * RES)), int(round(span_end * RES))
            actual = {(midi.time_to_tick(n.start), n.pitch) for n in instrument.notes
                      if lo <= midi.time_to_tick(n.start) < hi}
            assert actual == expected_notes(loop, placement["start_qn"], placement["repeats"],
                                            placement["transpose"], span_end)


def test_same_seed_same_bytes_different_seed_different_tracks(loops, tmp_path):
    options = AssembleOptions(tracks=2, duration=30.0, voices=4, seed=11)
    for name in ("a", "b"):
        assemble_tracks(loops, tmp_path / name, options)
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    assert len(files) == 2 * 2 + 2
    for path in files:
        assert (tmp_path / "a" / path).read_bytes() == (tmp_path / "b" / path).read_bytes(), path
    other = assemble_tracks(loops, tmp_path / "c", AssembleOptions(tracks=2, duration=30.0, seed=12))
    first = pq.read_table(tmp_path / "a" / "tracks.parquet")
    assert first.column("loops").to_pylist() != other.column("loops").to_pylist()


def test_quantize_changes_only_drum_timing_and_velocity(loops, tmp_path):
    plain = assemble_tracks(loops, tmp_path / "plain", AssembleOptions(tracks=2, duration=30.0, seed=5))
    quant = assemble_tracks(loops, tmp_path / "quant",
                            AssembleOptions(tracks=2, duration=30.0, seed=5, quantize=True))
    assert plain.column("loops").equals(quant.column("loops"))
    assert plain.column("section_tempi").equals(quant.column("section_tempi"))
    for track_id in plain.column("track_id").to_pylist():
        a = pretty_midi.PrettyMIDI(str(tmp_path / "plain" / "midi" / f"{track_id}.mid"))
        b = pretty_midi.PrettyMIDI(str(tmp_path / "quant" / "midi" / f"{track_id}.mid"))
        drums = b.instruments[0]
        assert all(b.time_to_tick(n.start) % (RES // 4) == 0 for n in drums.notes)
        assert {n.velocity for n in drums.notes} <= {100, 127}
        assert len({n.velocity for n in a.instruments[0].notes}) > 2
        for x, y in zip(a.instruments[1:], b.instruments[1:]):
            assert [(n.start, n.end, n.pitch, n.velocity) for n in x.notes] == \
                   [(n.start, n.end, n.pitch, n.velocity) for n in y.notes]
        # Quantizing the written plain track (what `--variant quantize=true` does)
        # gives the same drum part, the same pitched voices and its annotation.
        data, annotation = quantize_track_file(tmp_path / "plain" / "midi" / f"{track_id}.mid")
        (tmp_path / "requantized.mid").write_bytes(data)
        c = pretty_midi.PrettyMIDI(str(tmp_path / "requantized.mid"))
        assert sorted((c.time_to_tick(n.start), n.pitch, n.velocity) for n in c.instruments[0].notes) == \
               sorted((b.time_to_tick(n.start), n.pitch, n.velocity) for n in drums.notes)
        for x, y in zip(a.instruments[1:], c.instruments[1:]):
            assert [(n.start, n.end, n.pitch, n.velocity) for n in x.notes] == \
                   [(n.start, n.end, n.pitch, n.velocity) for n in y.notes]
        assert c.get_end_time() == a.get_end_time()
        assert np.array_equal(c.get_tempo_changes()[1], a.get_tempo_changes()[1])
        expected = sorted((n.start, n.pitch) for n in c.instruments[0].notes)
        assert [tuple(line.split("\t")[:2]) for line in annotation.splitlines()] == \
               [(f"{t:.6f}", str(p)) for t, p in expected]


def test_usage_term_covers_the_library_evenly(tmp_path):
    library = synthetic_loop_index({"drums": 40, "piano": 20}, seed=1, meters=("4/4",),
                                   tempo_range=(100.0, 110.0), val_share=0.0)
    table = assemble_tracks(library, tmp_path, AssembleOptions(tracks=40, duration=60.0, voices=2,
                                                               seed=0))
    for voice, size in (("drums", 40), ("piano", 20)):
        ids = [p["loop_id"] for row in table.column("loops").to_pylist() for p in row
               if p["voice"] == voice]
        counts = np.unique(ids, return_counts=True)[1]
        assert len(counts) == size, f"{voice}: {size - len(counts)} loops never used"
        assert counts.max() <= 2.2 * counts.mean(), (voice, counts.max(), counts.mean())


def test_voices_and_derived_parts(tmp_path):
    library = synthetic_loop_index({"drums": 16, "piano": 12}, seed=2, meters=("4/4",),
                                   tempo_range=(100.0, 110.0), val_share=0.0)
    one = assemble_tracks(library, tmp_path / "one", AssembleOptions(tracks=1, duration=20, voices=1))
    midi = pretty_midi.PrettyMIDI(str(tmp_path / "one" / "midi" / "train00000.mid"))
    assert [i.name for i in midi.instruments] == ["drums"] and one.column("key")[0].as_py() == ""

    four = assemble_tracks(library, tmp_path / "four", AssembleOptions(tracks=2, duration=20, voices=4))
    assert four.column("derived_voices").to_pylist() == [["bass", "guitar"]] * 2
    for row in four.to_pylist():
        midi = pretty_midi.PrettyMIDI(str(tmp_path / "four" / row["midi_path"]))
        drums, piano, bass, guitar = midi.instruments
        assert [i.program for i in midi.instruments] == [0, 0, 33, 25]
        # Guitar: piano chords voiced into E2..E5, at most six strings per strum.
        assert guitar.notes and all(40 <= n.pitch <= 76 for n in guitar.notes)
        strums = np.diff(sorted(n.start for n in guitar.notes)) > 0.05
        assert np.diff(np.flatnonzero(np.concatenate([[True], strums, [True]]))).max() <= 6
        # Bass: the chord root at every kick (and every bar line), in a bass range.
        kicks = {round(n.start, 4) for n in drums.notes if n.pitch in (35, 36)}
        bass_onsets = {round(n.start, 4) for n in bass.notes}
        assert bass_onsets and all(n.pitch <= 45 for n in bass.notes)
        assert len(kicks & bass_onsets) >= 0.8 * len(bass_onsets) - len(row["section_bars"]) * 16
        key_tonic, _ = parse_key(row["key"])
        piano_pcs = {n.pitch % 12 for n in piano.notes}
        assert {n.pitch % 12 for n in bass.notes} <= piano_pcs | {key_tonic}
        derived = [p for p in row["loops"] if p["voice"] in ("bass", "guitar")]
        assert derived and all(p["derived"] for p in derived)
        assert all(p["loop_id"].startswith("synthetic/piano/") for p in derived if p["voice"] == "guitar")


def test_split_draws_only_that_split(loops, tmp_path):
    rows = loop_rows(loops)
    table = assemble_tracks(loops, tmp_path, AssembleOptions(tracks=2, duration=20, split="val",
                                                             voices=1))
    used = [p["loop_id"] for row in table.column("loops").to_pylist() for p in row]
    assert used and all(rows[i]["split"] == "val" for i in used)
    assert table.column("track_id").to_pylist() == ["val00000", "val00001"]


def test_three_four_tracks_keep_their_meter(loops, tmp_path):
    table = assemble_tracks(loops, tmp_path, AssembleOptions(tracks=2, duration=20, meters=("3/4",)))
    assert set(pc.list_flatten(table.column("section_meters")).to_pylist()) == {"3/4"}
    midi = pretty_midi.PrettyMIDI(str(tmp_path / "midi" / "train00000.mid"))
    beats, downbeats = midi.get_beats(), midi.get_downbeats()
    assert len(beats) == pytest.approx(3 * len(downbeats), abs=3)


@pytest.mark.parametrize("change, message", [
    (lambda t: t.drop_columns(["note_velocity"]), "note_velocity"),
    (lambda t: t.filter(pc.not_equal(t.column("role"), "piano")), "piano"),
    (lambda t: t.filter(pc.not_equal(t.column("role"), "drums")), "drum"),
])
def test_unsatisfiable_requests_fail_before_writing(loops, tmp_path, change, message):
    with pytest.raises(AssembleError, match=message):
        assemble_tracks(change(loops), tmp_path / "out", AssembleOptions(tracks=1, voices=2))
    assert not (tmp_path / "out").exists()


def test_unknown_meter_and_bad_options_are_named(loops, tmp_path):
    with pytest.raises(AssembleError, match="7/8"):
        assemble_tracks(loops, tmp_path / "out", AssembleOptions(tracks=1, meters=("7/8",)))
    assert not (tmp_path / "out").exists()
    with pytest.raises(AssembleError, match="voices"):
        AssembleOptions(voices=5)
    with pytest.raises(AssembleError, match="tempo_tolerance"):
        AssembleOptions(tempo_tolerance=0)


def test_cli_writes_tracks_and_reports_bad_indexes(loops, tmp_path, capsys):
    from adtos.cli import build_parser, main

    index = tmp_path / "loops.parquet"
    pq.write_table(loops, index)
    assert main(["assemble", "--index", str(index), "--out", str(tmp_path / "o"), "--tracks", "2",
                 "--duration", "15", "--voices", "2", "--seed", "3", "--quantize"]) == 0
    table = pq.read_table(tmp_path / "o" / "tracks.parquet")
    assert table.column("quantize").to_pylist() == [True, True]
    assert sorted(p.name for p in (tmp_path / "o" / "annotations").iterdir()) == \
        ["train00000.txt", "train00001.txt"]

    assert main(["assemble", "--index", str(tmp_path / "missing.parquet"), "--out",
                 str(tmp_path / "p")]) == 2
    assert "missing.parquet" in capsys.readouterr().err
    broken = tmp_path / "broken.parquet"
    pq.write_table(loops.drop_columns(["tempo"]), broken)
    assert main(["assemble", "--index", str(index), "--index", str(broken), "--out",
                 str(tmp_path / "p")]) == 2
    error = capsys.readouterr().err
    assert "broken.parquet" in error and "tempo" in error
    assert not (tmp_path / "p").exists()

    parser = build_parser()
    help_text = parser._subparsers._group_actions[0].choices["assemble"].format_help()
    for option in ("--index", "--out", "--tracks", "--duration", "--voices", "--seed", "--split",
                   "--prefix", "--quantize", "--meter", "--section-bars", "--tempo-tolerance",
                   "--usage-weight", "--selection-noise", "--resolution"):
        assert option in help_text


def test_unplaceable_loops_are_left_out_and_counted(loops, tmp_path):
    tempo = loops.column("tempo").to_numpy().copy()
    tempo[:3] = 0.0
    meter = loops.column("meter").to_pylist()
    meter[3] = "four"
    broken = loops.set_column(loops.column_names.index("tempo"), "tempo", pa.array(tempo))
    broken = broken.set_column(broken.column_names.index("meter"), "meter", pa.array(meter))
    assemble_tracks(broken, tmp_path, AssembleOptions(tracks=2, duration=20, voices=1))
    summary = json.loads((tmp_path / "assemble.json").read_text())
    assert summary["invalid_loops"] == 4
    bad = set(summary["invalid_loop_examples"])
    used = {p["loop_id"] for row in pq.read_table(tmp_path / "tracks.parquet").column("loops").to_pylist()
            for p in row}
    assert not bad & used


def test_transposition_and_chord_roots_known_answers():
    from adtos.assemble.harmony import chord_roots, key_signature, transpose_interval

    C_MAJOR, A_MINOR = (0, 0), (9, 1)
    assert transpose_interval(2, 0, *C_MAJOR) == -2      # D major -> C major: down a tone
    assert transpose_interval(7, 0, *C_MAJOR) == 5       # G major -> C major: up a fourth
    assert transpose_interval(6, 0, *C_MAJOR) == -6      # the tritone goes down
    assert transpose_interval(9, 1, *C_MAJOR) == 0       # A minor is C major's relative minor
    assert transpose_interval(4, 1, *C_MAJOR) == 5       # E minor -> A minor
    assert transpose_interval(0, 0, *A_MINOR) == 0       # C major over A minor stays
    assert transpose_interval(-1, -1, *C_MAJOR) == 0     # unknown key: left alone
    assert key_signature(6, 0) == (6, 0) and key_signature(9, 1) == (0, 1) and key_signature(5, 0) == (-1, 0)
    # Two windows: C major triad, then A minor triad (with A in the bass); then silence.
    starts = np.array([0.0, 0.0, 0.0, 2.0, 2.0, 2.0])
    pitches = np.array([60, 64, 67, 57, 60, 64])
    roots = chord_roots(starts, np.full(6, 1.5), pitches, 0.0, 2.0, 3, 2, C_MAJOR)
    assert roots.tolist() == [0, 9, 9]
    # No piano at all: I-V-vi-IV of the key, one chord per bar.
    empty = np.zeros(0)
    assert chord_roots(empty, empty, empty.astype(int), 0.0, 2.0, 8, 2, (7, 0)).tolist() == \
        [7, 7, 2, 2, 4, 4, 0, 0]


def test_three_voices_and_six_eight(tmp_path):
    library = synthetic_loop_index({"drums": 12, "piano": 8, "bass": 8}, seed=4, meters=("6/8",),
                                   tempo_range=(90.0, 95.0), val_share=0.0)
    table = assemble_tracks(library, tmp_path, AssembleOptions(tracks=1, duration=20, voices=3))
    midi = pretty_midi.PrettyMIDI(str(tmp_path / "midi" / "train00000.mid"))
    assert [i.name for i in midi.instruments] == ["drums", "piano", "bass"]
    signature = midi.time_signature_changes[0]
    assert (signature.numerator, signature.denominator) == (6, 8)
    assert table.column("meter")[0].as_py() == "6/8"
    # A 6/8 bar is 3 quarter notes: every section starts on such a bar line.
    qn = [p["start_qn"] for p in table.column("loops")[0].as_py()]
    assert all(q % 3.0 == 0 for q in qn)

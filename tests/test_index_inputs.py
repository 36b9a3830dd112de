"""Adapters (generic, groove, pop909), bad inputs, the table contract and determinism."""

from __future__ import annotations

import csv

import mido
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from adtos.cli import main
from adtos.index import (LibraryError, StrictModeError, detect_kind, index_library, read_loop_index,
                         write_loop_index)
from adtos.index.schema import LOOP_SCHEMA, errors_path

TPB = 480


def midi_file(path, parts, *, bpm=120, meter=(4, 4), end=None, tempo=True, names=None):
    """parts: one list per track of (channel, program or None, [(onset, dur, pitch, vel)])."""
    midi = mido.MidiFile(ticks_per_beat=TPB)
    for index, (channel, program, notes) in enumerate(parts):
        events = []
        if index == 0:
            if tempo:
                events.append((0, 0, mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(bpm))))
            events.append((0, 0, mido.MetaMessage("time_signature", numerator=meter[0], denominator=meter[1])))
        if names:
            events.append((0, 0, mido.MetaMessage("track_name", name=names[index])))
        if program is not None:
            events.append((0, 1, mido.Message("program_change", channel=channel, program=program)))
        for onset, duration, pitch, velocity in notes:
            events.append((onset, 3, mido.Message("note_on", channel=channel, note=pitch, velocity=velocity)))
            events.append((onset + duration, 2, mido.Message("note_off", channel=channel, note=pitch)))
        events.sort(key=lambda e: (e[0], e[1]))
        track, now = mido.MidiTrack(), 0
        for tick, _, message in events:
            track.append(message.copy(time=tick - now))
            now = tick
        track.append(mido.MetaMessage("end_of_track", time=max(0, (end or now) - now)))
        midi.tracks.append(track)
    path.parent.mkdir(parents=True, exist_ok=True)
    midi.save(path)
    return path


def quarter_notes(count, pitch, start=0, velocity=90):
    return [(start + i * TPB, TPB - 20, pitch, velocity) for i in range(count)]


C_MAJOR_PHRASE = [60, 64, 67, 72, 67, 64, 60, 55]


# --- generic --------------------------------------------------------------------------

def test_generic_roles_from_midi_and_names(tmp_path):
    lib = tmp_path / "mylib"
    band = [(9, None, quarter_notes(16, 36)),
            (0, 0, [(i * TPB, TPB, C_MAJOR_PHRASE[i % 8], 80) for i in range(16)]),
            (1, 33, quarter_notes(16, 36 + 7)),   # bass on G
            (2, 48, quarter_notes(16, 72))]       # strings: not a role the index knows
    midi_file(lib / "songs" / "band_take.mid", band, end=16 * TPB)
    midi_file(lib / "Funk" / "drums" / "groove_fill_96bpm.mid", [(0, None, quarter_notes(8, 38))],
              tempo=False, end=8 * TPB)
    midi_file(lib / "keys" / "soul" / "soul_Gs-min_01.mid", [(0, 0, quarter_notes(4, 68))], bpm=84, end=4 * TPB)
    rows = index_library(lib, "auto", workers=1).loops.to_pylist()
    by_id = {r["loop_id"]: r for r in rows}

    assert set(by_id) == {"mylib/songs/band_take/0-4:drums", "mylib/songs/band_take/0-4:piano",
                          "mylib/songs/band_take/0-4:bass", "mylib/Funk/drums/groove_fill_96bpm/0-2",
                          "mylib/keys/soul/soul_Gs-min_01/0-1"}
    piano = by_id["mylib/songs/band_take/0-4:piano"]
    assert (piano["role"], piano["key"], piano["key_source"], piano["genre"], piano["theme"]) == (
        "piano", "C:maj", "estimated", "songs", "songs")
    assert by_id["mylib/songs/band_take/0-4:drums"]["key"] == ""
    # A role word in the path wins over channel 1; tempo from the name when the MIDI has none.
    fill = by_id["mylib/Funk/drums/groove_fill_96bpm/0-2"]
    assert (fill["role"], fill["genre"], fill["beat_type"], fill["tempo"]) == ("drums", "funk", "fill", 96.0)
    soul = by_id["mylib/keys/soul/soul_Gs-min_01/0-1"]
    assert (soul["role"], soul["genre"], soul["key"], soul["key_source"]) == ("piano", "soul", "G#:min", "label")
    assert soul["tempo"] == pytest.approx(84.0, abs=1e-3)
    assert {r["split"] for r in rows} <= {"train", "val"} and {r["kind"] for r in rows} == {"generic"}


# --- bad input ------------------------------------------------------------------------

def bad_library(root):
    midi_file(root / "drums" / "good.mid", [(9, None, quarter_notes(16, 36))], end=16 * TPB)
    (root / "drums" / "garbage.mid").write_bytes(b"this is not a MIDI file at all")
    (root / "drums" / "zero.mid").write_bytes(b"")
    good = (root / "drums" / "good.mid").read_bytes()
    (root / "drums" / "truncated.mid").write_bytes(good[: len(good) // 2])
    midi_file(root / "drums" / "silent.mid", [(9, None, [])], end=8 * TPB)
    midi_file(root / "drums" / "no_tempo.mid", [(9, None, quarter_notes(8, 36))], tempo=False)
    # Notes in bar 0 and bar 8 only: the loop of bars 4-8 has no notes.
    midi_file(root / "drums" / "gap.mid", [(9, None, quarter_notes(4, 36) + quarter_notes(16, 38, start=32 * TPB))])
    return {
        "drums/garbage.mid": "unreadable MIDI",
        "drums/zero.mid": "zero-length file",
        "drums/truncated.mid": "unreadable MIDI",
        "drums/silent.mid": "no notes",
        "drums/no_tempo.mid": "no tempo",
        "drums/gap.mid": "loop 4-8: no notes",
    }


def test_each_bad_input_is_skipped_with_its_reason(tmp_path):
    expected = bad_library(tmp_path / "lib")
    index = index_library(tmp_path / "lib", "generic", workers=2)
    reasons = dict(index.errors)
    assert set(reasons) == set(expected)
    for source, reason in expected.items():
        assert reasons[source].startswith(reason), (source, reasons[source])
    assert set(index.loops.column("source").to_pylist()) == {"drums/good.mid", "drums/gap.mid"}
    assert index.loops.num_rows == 1 + 2  # good: bars 0-4; gap: bars 0-4 and 8-12

    out = tmp_path / "out" / "lib.parquet"
    write_loop_index(index, out)
    with open(errors_path(out), newline="") as handle:
        table = list(csv.reader(handle))
    assert table[0] == ["source", "reason"] and dict(table[1:]) == reasons


def test_strict_stops_at_the_first_bad_input(tmp_path):
    bad_library(tmp_path / "lib")
    with pytest.raises(StrictModeError, match="strict"):
        index_library(tmp_path / "lib", "generic", workers=1, strict=True)


def test_cli_counts_skips_and_strict_fails(tmp_path, capsys):
    bad_library(tmp_path / "lib")
    out = tmp_path / "idx" / "lib.parquet"
    assert main(["index", str(tmp_path / "lib"), "--kind", "generic", "--out", str(out), "--workers", "1"]) == 0
    printed = capsys.readouterr().out
    assert "3 loops from 2 files" in printed and "6 skipped" in printed and "zero-length file" in printed
    assert read_loop_index(out).num_rows == 3
    assert main(["index", str(tmp_path / "lib"), "--out", str(out), "--strict", "--workers", "1"]) == 2
    assert "strict" in capsys.readouterr().err


def test_folder_without_midi_is_a_clear_error(tmp_path, capsys):
    (tmp_path / "empty" / "sub").mkdir(parents=True)
    (tmp_path / "empty" / "notes.txt").write_text("no midi here")
    with pytest.raises(LibraryError, match="no MIDI files"):
        index_library(tmp_path / "empty")
    with pytest.raises(LibraryError, match="not found"):
        index_library(tmp_path / "missing")
    assert main(["index", str(tmp_path / "empty"), "--out", str(tmp_path / "x.parquet")]) == 2
    assert "no MIDI files" in capsys.readouterr().err


# --- groove ---------------------------------------------------------------------------

def test_groove_adapter_reads_info_csv_and_remaps_td11(tmp_path):
    lib = tmp_path / "groove"
    beat = quarter_notes(8, 22) + quarter_notes(8, 26, start=20) + quarter_notes(8, 58, start=40)
    midi_file(lib / "drummer1/session1/1_rock_100_beat_4-4.mid", [(9, None, beat)], bpm=100, end=8 * TPB)
    midi_file(lib / "drummer1/session1/2_rock_100_fill_4-4.mid", [(9, None, quarter_notes(3, 38))], bpm=100,
              end=int(3.7 * TPB))
    midi_file(lib / "drummer2/session2/3_jazz-swing_150_beat_3-4.mid", [(9, None, quarter_notes(12, 51))],
              bpm=150, meter=(3, 4), end=12 * TPB)
    fields = ["drummer", "session", "id", "style", "bpm", "beat_type", "time_signature", "midi_filename",
              "audio_filename", "duration", "split"]
    rows = [["drummer1", "drummer1/session1", "drummer1/session1/1", "rock", "100", "beat", "4-4",
             "drummer1/session1/1_rock_100_beat_4-4.mid", "", "4.8", "train"],
            ["drummer1", "drummer1/session1", "drummer1/session1/2", "rock", "100", "fill", "4-4",
             "drummer1/session1/2_rock_100_fill_4-4.mid", "", "2.2", "validation"],
            ["drummer2", "drummer2/session2", "drummer2/session2/3", "jazz/swing", "150", "beat", "3-4",
             "drummer2/session2/3_jazz-swing_150_beat_3-4.mid", "", "4.8", "test"],
            ["drummer2", "drummer2/session2", "drummer2/session2/4", "jazz", "150", "beat", "4-4",
             "drummer2/session2/4_missing.mid", "", "4.8", "test"]]
    with open(lib / "info.csv", "w", newline="") as handle:
        csv.writer(handle).writerows([fields] + rows)
    assert detect_kind(lib) == "groove"
    index = index_library(lib, workers=1)
    loops = index.loops.to_pylist()
    assert [(r["source"].split("/")[-1], r["start_bar"], r["end_bar"]) for r in loops] == [
        ("1_rock_100_beat_4-4.mid", 0, 2), ("2_rock_100_fill_4-4.mid", 0, 1), ("3_jazz-swing_150_beat_3-4.mid", 0, 4)]
    assert set(loops[0]["note_pitch"]) == {42, 46, 43}
    assert [r["split"] for r in loops] == ["train", "val", "test"]
    assert [r["beat_type"] for r in loops] == ["beat", "fill", "beat"]
    assert [r["theme"] for r in loops] == ["drummer1/session1/rock"] * 2 + ["drummer2/session2/jazz"]
    assert [r["genre"] for r in loops] == ["rock", "rock", "jazz"]
    assert [r["drummer"] for r in loops] == ["drummer1", "drummer1", "drummer2"]
    assert loops[2]["meter"] == "3/4" and loops[2]["tempo"] == pytest.approx(150, abs=1e-3)
    assert index.errors == [("drummer2/session2/4_missing.mid", "listed in info.csv but not found")]


# --- pop909 ---------------------------------------------------------------------------

def test_pop909_adapter_uses_beats_and_key_labels(tmp_path):
    lib = tmp_path / "pop909"
    song = lib / "001"
    # Rubato: beat i at t = 0.5 + 0.6·i + 0.01·i² seconds; the piano plays exactly on each beat.
    beat_times = [0.5 + 0.6 * i + 0.01 * i * i for i in range(17)]
    tempo_us = 500000  # 120 bpm in the file; the beats, not the file's tempo, set the grid
    seconds_per_tick = tempo_us / 1e6 / TPB
    piano = [(round(t / seconds_per_tick), 100, 62 if i % 2 else 66, 70) for i, t in enumerate(beat_times[:16])]
    melody = [(round(beat_times[1] / seconds_per_tick), 50, 80, 90)]  # one note, on beat 1
    midi_file(song / "001.mid", [(0, None, []), (0, 0, melody), (1, 0, piano)],
              names=["", "MELODY", "PIANO"], end=round(beat_times[-1] / seconds_per_tick))
    with open(song / "beat_midi.txt", "w") as handle:
        for i, t in enumerate(beat_times):
            handle.write(f"{t} {float(i % 2 == 0)} {float(i % 4 == 0)}\n")
    (song / "key_audio.txt").write_text("0.0\t5.0\tGb:maj\n5.0\t30.0\tEb:min\n")
    assert detect_kind(lib) == "pop909"
    index = index_library(lib, loop_bars=2, workers=1)
    everything = index.loops.to_pylist()
    loops = [r for r in everything if r["role"] == "piano"]
    assert [(r["start_bar"], r["end_bar"]) for r in loops] == [(0, 2), (2, 4)]
    # MELODY is the lead, cut on the piano's bars; its silent second span is no loop and no error.
    (lead,) = [r for r in everything if r["role"] == "lead"]
    assert lead["loop_id"] == loops[0]["loop_id"] + ":lead"
    assert (lead["note_pitch"], lead["start_bar"], lead["key"]) == ([80], 0, "F#:maj")
    assert not index.errors
    for r in loops:
        assert (r["role"], r["meter"], r["theme"], r["genre"], r["key_source"]) == ("piano", "4/4", "001", "pop", "label")
        assert r["note_start_qn"] == pytest.approx(range(8), abs=1e-3)  # rubato absorbed
        assert 80 not in r["note_pitch"]  # the melody is not the piano
        assert r["start_sec"] == pytest.approx(beat_times[r["start_bar"] * 4], abs=1e-6)
    assert [r["key"] for r in loops] == ["F#:maj", "D#:min"]
    assert loops[0]["tempo"] == pytest.approx(60 * 8 / (beat_times[8] - beat_times[0]))


# --- contract and determinism ---------------------------------------------------------

def test_written_index_has_the_contract_schema_and_is_deterministic(tmp_path):
    lib = tmp_path / "lib"
    for n in range(6):
        midi_file(lib / "drums" / f"take{n}.mid", [(9, None, quarter_notes(8 + 4 * n, 36 + n))], end=(8 + 4 * n) * TPB)
        midi_file(lib / "bass" / f"line{n}.mid", [(0, 33, quarter_notes(8, 40 + n))], end=8 * TPB)
    a, b = tmp_path / "a.parquet", tmp_path / "b.parquet"
    write_loop_index(index_library(lib, workers=1), a)
    write_loop_index(index_library(lib, workers=2), b)
    assert a.read_bytes() == b.read_bytes()
    table = read_loop_index(a)
    assert table.schema.equals(LOOP_SCHEMA)
    assert len(set(table.column("loop_id").to_pylist())) == table.num_rows


def test_read_loop_index_names_the_bad_column(tmp_path):
    good = LOOP_SCHEMA.empty_table()
    pq.write_table(good.drop_columns(["tempo"]), tmp_path / "missing.parquet")
    with pytest.raises(ValueError, match="'tempo' is missing"):
        read_loop_index(tmp_path / "missing.parquet")
    wrong = good.set_column(good.schema.get_field_index("bars"), "bars", pa.array([], pa.string()))
    pq.write_table(wrong, tmp_path / "wrong.parquet")
    with pytest.raises(ValueError, match="'bars' has type string, expected int32"):
        read_loop_index(tmp_path / "wrong.parquet")
    with pytest.raises(FileNotFoundError):
        read_loop_index(tmp_path / "nope.parquet")


def test_wrong_kind_is_a_clear_error(tmp_path):
    midi_file(tmp_path / "lib" / "drums" / "a.mid", [(9, None, quarter_notes(8, 36))])
    with pytest.raises(LibraryError, match="info.csv"):
        index_library(tmp_path / "lib", "groove", workers=1)
    with pytest.raises(LibraryError, match="no MIDI files found for kind 'pop909'"):
        index_library(tmp_path / "lib", "pop909", workers=1)
    with pytest.raises(LibraryError, match="kind must be one of"):
        index_library(tmp_path / "lib", "slakh", workers=1)


def test_corrupt_meter_or_length_is_refused_not_hung(tmp_path):
    lib = tmp_path / "lib"
    midi_file(lib / "drums" / "tiny_bars.mid", [(9, None, quarter_notes(8, 36))], meter=(4, 128))
    midi_file(lib / "drums" / "endless.mid", [(9, None, quarter_notes(8, 36) + [(2**27, 10, 36, 90)])])
    midi_file(lib / "drums" / "good.mid", [(9, None, quarter_notes(8, 36))])
    reasons = dict(index_library(lib, "generic", workers=1).errors)
    assert reasons["drums/tiny_bars.mid"] == "time signature 4/128 at tick 0 is not usable"
    assert reasons["drums/endless.mid"].startswith("implausibly long")


def test_a_folder_of_only_bad_midi_files_is_an_error_not_an_empty_index(tmp_path, capsys):
    lib = tmp_path / "lib"
    (lib / "drums").mkdir(parents=True)
    for name in ("a.mid", "b.mid"):
        (lib / "drums" / name).write_bytes(b"MThd\x00\x00\x00\x06garbage")
    with pytest.raises(LibraryError, match="no loop in any of its 2 MIDI files"):
        index_library(lib, "generic", workers=1)
    out = tmp_path / "x.parquet"
    assert main(["index", str(lib), "--out", str(out)]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "no loop in any of its 2 MIDI files" in error
    assert not out.exists()


def test_index_removes_what_a_killed_run_left_beside_its_output(tmp_path):
    lib = tmp_path / "lib"
    midi_file(lib / "drums" / "good.mid", [(9, None, quarter_notes(8, 36))])
    out = tmp_path / "idx" / "lib.parquet"
    out.parent.mkdir()
    leftover = out.parent / ".lib.abc123.partial.parquet"
    other = out.parent / ".other.abc123.partial.parquet"  # another index's: not ours to touch
    leftover.write_bytes(b"PAR1half")
    other.write_bytes(b"PAR1half")
    assert main(["index", str(lib), "--out", str(out), "--workers", "1"]) == 0
    assert out.is_file() and not leftover.exists() and other.exists()

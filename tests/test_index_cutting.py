"""Cutting performances at bar lines: meter and tempo changes, tails, early downbeats; key estimation."""

from __future__ import annotations

import itertools

import mido
import numpy as np
import pytest

from adtos.index import estimate_key, index_library, normalize_key, parse_key
from adtos.index.bars import BarGrid, bars_from_midi, plan_loops
from adtos.index.keys import PITCH_CLASSES
from adtos.midi import read_midi_file

TPB = 480


def write_midi(path, notes, *, tempi=((0, 120),), meters=((0, 4, 4),), channel=9, program=None, end=None):
    """notes: (onset tick, duration ticks, pitch, velocity). Written with mido, read by our parser."""
    events = []
    for tick, bpm in tempi:
        events.append((tick, 0, mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(bpm))))
    for tick, num, den in meters:
        events.append((tick, 0, mido.MetaMessage("time_signature", numerator=num, denominator=den)))
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
    midi = mido.MidiFile(ticks_per_beat=TPB)
    midi.tracks.append(track)
    path.parent.mkdir(parents=True, exist_ok=True)
    midi.save(path)
    return path


def beats(first_tick, count, pitch=38, velocity=100):
    return [(first_tick + i * TPB, 60, pitch, velocity) for i in range(count)]


def test_meter_and_tempo_change(tmp_path):
    # 2 bars of 4/4 at 120 bpm, then 4 bars of 3/4; the tempo drops to 90 at the second 3/4 bar.
    meter_change = 8 * TPB
    tempo_change = meter_change + 3 * TPB
    notes = beats(0, 8 + 12)
    lib = tmp_path / "lib"
    write_midi(lib / "drums" / "meter_change.mid", notes, tempi=((0, 120), (tempo_change, 90)),
               meters=((0, 4, 4), (meter_change, 3, 4)), end=20 * TPB)
    loops = index_library(lib, "generic", loop_bars=2, workers=1).loops.to_pylist()

    assert [(r["start_bar"], r["end_bar"], r["meter"]) for r in loops] == [
        (0, 2, "4/4"), (2, 4, "3/4"), (4, 6, "3/4")]
    assert [r["bar_qn"] for r in loops] == [4.0, 3.0, 3.0]
    # Seconds follow the tempo map: 8 qn at 120, then 3 qn at 120 and 3 qn at 90, then 6 qn at 90.
    assert [r["start_sec"] for r in loops] == pytest.approx([0.0, 4.0, 7.5])
    assert [r["end_sec"] for r in loops] == pytest.approx([4.0, 7.5, 11.5])
    assert [r["tempo"] for r in loops] == pytest.approx([120.0, 60 * 6 / 3.5, 90.0])
    for row in loops:
        assert row["note_count"] == row["bars"] * row["bar_qn"]
        assert row["note_start_qn"] == pytest.approx(np.arange(row["note_count"]))
        assert row["timing_mad_ms"] == pytest.approx(0.0, abs=1e-3)


def test_tail_is_cut_into_largest_loops_and_tiles_bar_by_bar(tmp_path):
    lib = tmp_path / "lib"
    write_midi(lib / "drums" / "long.mid", beats(0, 15 * 4), end=15 * 4 * TPB)
    for loop_bars, expected in [(4, [(0, 4), (4, 8), (8, 12), (12, 14), (14, 15)]),
                                (8, [(0, 8), (8, 12), (12, 14), (14, 15)]),
                                (1, [(b, b + 1) for b in range(15)])]:
        rows = index_library(lib, "generic", loop_bars=loop_bars, workers=1).loops.to_pylist()
        assert [(r["start_bar"], r["end_bar"]) for r in rows] == expected
        assert [r["bars"] for r in rows] == [b - a for a, b in expected]
        assert sum(r["note_count"] for r in rows) == 60


def test_trailing_incomplete_bar_is_dropped_unless_mostly_played(tmp_path):
    lib = tmp_path / "lib"
    # Last notes end 0.3 bar into bar 6 → 6 bars; 0.7 bar into bar 6 → 7 bars.
    write_midi(lib / "drums" / "short_tail.mid", beats(0, 25), end=int(6.3 * 4 * TPB))
    write_midi(lib / "drums" / "long_tail.mid", beats(0, 27), end=int(6.7 * 4 * TPB))
    rows = index_library(lib, "generic", loop_bars=1, workers=1).loops.to_pylist()
    ends = {r["source"]: max(x["end_bar"] for x in rows if x["source"] == r["source"]) for r in rows}
    assert ends == {"drums/short_tail.mid": 6, "drums/long_tail.mid": 7}


def test_early_downbeat_stays_with_its_bar(tmp_path):
    lib = tmp_path / "lib"
    # A hit 10 ticks before bar 1's downbeat belongs to bar 1 (nearest 16th) and is
    # placed on that loop's downbeat; the timing figure still counts it as played.
    notes = [(0, 30, 36, 100), (4 * TPB - 10, 30, 36, 90), (5 * TPB, 30, 38, 100)]
    write_midi(lib / "drums" / "early.mid", notes, end=8 * TPB)
    rows = index_library(lib, "generic", loop_bars=1, workers=1).loops.to_pylist()
    assert [r["note_count"] for r in rows] == [1, 2]
    assert rows[1]["note_start_qn"] == pytest.approx([0.0, 1.0])
    assert all(0 <= t < r["bars"] * r["bar_qn"] for r in rows for t in r["note_start_qn"])
    # 10 ticks at 120 bpm = 10.4 ms off the grid, one of two notes.
    assert rows[1]["timing_mad_ms"] == pytest.approx(10 / TPB * 500 / 2, rel=1e-3)


def test_meter_change_in_mid_bar_leaves_an_unusable_bar(tmp_path):
    path = write_midi(tmp_path / "odd.mid", beats(0, 16), meters=((0, 4, 4), (6 * TPB, 3, 4)), end=16 * TPB)
    grid = bars_from_midi(read_midi_file(path))
    assert grid.meter[:3] == ["4/4", "4/4", "3/4"]
    assert list(grid.usable[:3]) == [True, False, True]
    assert grid.boundary_qn[:4] == pytest.approx([0, 4, 6, 9])
    plan = plan_loops(grid, 4)
    assert (1, 2) not in plan and plan[0] == (0, 1)


def test_plan_loops_rejects_other_lengths():
    grid = BarGrid(np.arange(4.0), np.arange(4.0), ["4/4"] * 3, np.full(3, 4.0), np.ones(3, bool))
    with pytest.raises(ValueError, match="loop_bars"):
        plan_loops(grid, 3)


def test_humanness_figures(tmp_path):
    lib = tmp_path / "lib"
    # 16 sixteenths, every other one 20 ticks late (at 120 bpm, 20 ticks = 20.8 ms); velocities 80/100.
    notes = [(i * TPB // 4 + (20 if i % 2 else 0), 30, 42, 80 if i % 2 else 100) for i in range(16)]
    write_midi(lib / "drums" / "swingy.mid", notes, end=4 * TPB)
    row = index_library(lib, "generic", loop_bars=1, workers=1).loops.to_pylist()[0]
    assert row["timing_mad_ms"] == pytest.approx(20 / TPB * 500 / 2, rel=1e-3)
    assert row["velocity_std"] == pytest.approx(10.0)
    assert row["velocity_distinct"] == pytest.approx(2 / 16)


# --- keys ------------------------------------------------------------------------------

MAJOR_SCALE = (0, 2, 4, 5, 7, 9, 11)
HARMONIC_MINOR_SCALE = (0, 2, 3, 5, 7, 8, 11)


@pytest.mark.parametrize("tonic,mode", list(itertools.product(range(12), ("maj", "min"))))
def test_key_estimation_on_scales(tonic, mode):
    # A scale up and down, then the tonic triad held: the way a loop states its key.
    scale = MAJOR_SCALE if mode == "maj" else HARMONIC_MINOR_SCALE
    third = 4 if mode == "maj" else 3
    pitches = [60 + tonic + s for s in scale + scale[::-1]] + [48 + tonic, 60 + tonic + third, 60 + tonic + 7]
    durations = [0.5] * 14 + [2.0, 2.0, 2.0]
    assert estimate_key(pitches, durations) == f"{PITCH_CLASSES[tonic]}:{mode}"


def test_key_estimation_of_relative_keys_follows_the_weight():
    # Same notes (C major / A natural minor); what is held longest decides.
    scale = [60 + s for s in MAJOR_SCALE]
    assert estimate_key(scale + [48, 64, 67], [0.5] * 7 + [4, 4, 4]) == "C:maj"
    assert estimate_key(scale + [45, 60, 64], [0.5] * 7 + [4, 4, 4]) == "A:min"


def test_key_names_are_normalised_to_sharps():
    assert normalize_key("Gb:maj") == "F#:maj"
    assert normalize_key("Db:min") == "C#:min"
    assert normalize_key("Bb major") == "A#:maj"
    assert normalize_key("Am") == "A:min"
    assert parse_key("E:min") == (4, "min")
    assert estimate_key([], []) == ""
    with pytest.raises(ValueError, match="not a key"):
        parse_key("H:dur")


def test_note_pairing_first_in_first_out():
    from adtos.midi import ProgramChange, pair_notes

    programs = [ProgramChange(0, 0, 5, before_note=0),   # program 5 on channel 0
                ProgramChange(45, 9, 7, before_note=5)]  # after the stray note-off, before the kick
    events = [0, 0, 60, 100,      # two overlapping C4s: the first off closes the first on
              10, 0, 60, 80,
              20, 0, 60, 0,
              30, 0, 60, 0,
              40, 0, 61, 0,       # a stray note-off is ignored
              50, 9, 36, 90]      # never switched off: ends with the track
    start, end, pitch, velocity, channel, program = pair_notes(events, end_tick=99, programs=programs)
    notes = sorted(zip(start.tolist(), end.tolist(), pitch.tolist(), velocity.tolist(), channel.tolist(),
                       program.tolist()))
    assert notes == [(0, 20, 60, 100, 0, 5), (10, 30, 60, 80, 0, 5), (50, 99, 36, 90, 9, 7)]

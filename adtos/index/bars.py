"""Bar grids and how a performance is tiled into loops.

A bar grid is the list of bars of one performance: where each starts in
quarter notes (qn) and in seconds, and its meter. It comes either from the
MIDI file's tempo and meter maps (a performance recorded to a click, like the
Groove MIDI Dataset) or from beat and downbeat annotations (POP909's
`beat_midi.txt`), in which case one beat is one quarter note and the tempo
follows the annotated beats, so rubato is absorbed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from adtos.midi import MidiFile

LOOP_SIZES = (8, 4, 2, 1)

# Takes are stopped by hand, so the final bar is rarely exactly full: it
# counts when the performance reaches into its second half.
TRAILING_BAR_SHARE = 0.5


@dataclass
class BarGrid:
    """`n` bars: boundaries have n + 1 entries, per-bar fields n entries."""

    boundary_qn: np.ndarray  # float64 (n + 1,)
    boundary_sec: np.ndarray  # float64 (n + 1,)
    meter: list[str]  # (n,) "4/4"
    bar_qn: np.ndarray  # float64 (n,) nominal bar length of the meter
    usable: np.ndarray  # bool (n,) False for bars that may not be part of a loop

    def __len__(self) -> int:
        return len(self.meter)


def meter_bar_qn(numerator: int, denominator: int) -> float:
    """Length of one bar in quarter notes: 4/4 → 4.0, 6/8 → 3.0, 5/8 → 2.5."""
    return numerator * 4.0 / denominator


def bars_from_midi(midi: MidiFile, end_tick: int | None = None) -> BarGrid:
    """Bar lines from the meter map, from tick 0 to the end of the performance.

    A time signature that arrives in the middle of a bar starts a new bar there
    (the bar it cut short is marked unusable). A trailing incomplete bar is kept
    only when the performance reaches past its middle, or when it is the only
    bar (a short fill).
    """
    tpb = midi.ticks_per_beat
    end = midi.end_tick if end_tick is None else end_tick
    starts: list[float] = []
    lengths: list[float] = []
    meters: list[str] = []
    nominal: list[float] = []
    usable: list[bool] = []
    for index, (tick, numerator, denominator) in enumerate(midi.time_signatures):
        bar_ticks = meter_bar_qn(numerator, denominator) * tpb
        if bar_ticks <= 0:
            continue
        segment_end = midi.time_signatures[index + 1][0] if index + 1 < len(midi.time_signatures) else np.inf
        position = float(tick)
        while position < min(segment_end, end):
            length, whole = bar_ticks, True
            if position + bar_ticks > segment_end:  # cut short by the next time signature
                length, whole = segment_end - position, False
            elif (position + bar_ticks > end and (end - position) / bar_ticks < TRAILING_BAR_SHARE
                  and starts):
                break  # trailing incomplete bar (but a take shorter than one bar keeps its bar)
            starts.append(position); lengths.append(length); usable.append(whole)
            meters.append(f"{numerator}/{denominator}"); nominal.append(bar_ticks)
            position += length
    if not starts:
        return BarGrid(np.zeros(1), np.zeros(1), [], np.zeros(0), np.zeros(0, dtype=bool))
    boundary_ticks = np.append(starts, starts[-1] + lengths[-1])
    return BarGrid(
        boundary_qn=boundary_ticks / tpb,
        boundary_sec=midi.seconds(boundary_ticks),
        meter=meters,
        bar_qn=np.asarray(nominal) / tpb,
        usable=np.asarray(usable, dtype=bool),
    )


def bars_from_beats(beat_sec: np.ndarray, downbeat: np.ndarray) -> BarGrid:
    """Bar grid from annotated beats (seconds) and a downbeat flag per beat.

    Beats are quarter notes. Bars run from one downbeat to the next; the bar
    after the last downbeat needs as many beats as the song's usual bar (its
    end is one beat interval after the last beat). Bars of another length than
    the usual one (an inserted 2/4 bar, a pickup) are unusable for loops.
    """
    beat_sec = np.asarray(beat_sec, dtype=np.float64)
    downbeat_index = np.flatnonzero(np.asarray(downbeat, dtype=bool))
    if len(beat_sec) < 2 or len(downbeat_index) == 0:
        return BarGrid(np.zeros(1), np.zeros(1), [], np.zeros(0), np.zeros(0, dtype=bool))
    spans = np.diff(downbeat_index)
    usual = int(np.bincount(spans).argmax()) if len(spans) else len(beat_sec) - downbeat_index[0]
    # One beat past the last annotated beat closes the final bar.
    beats = np.append(beat_sec, beat_sec[-1] + (beat_sec[-1] - beat_sec[-2]))
    starts = list(downbeat_index)
    if len(beats) - 1 - downbeat_index[-1] >= usual:
        starts.append(downbeat_index[-1] + usual)
    boundary_beat = np.asarray(starts, dtype=np.int64)
    lengths = np.diff(boundary_beat)
    return BarGrid(
        boundary_qn=boundary_beat.astype(np.float64),
        boundary_sec=beats[boundary_beat],
        meter=[f"{int(n)}/4" for n in lengths],
        bar_qn=lengths.astype(np.float64),
        usable=lengths == usual,
    )


def plan_loops(grid: BarGrid, loop_bars: int = 4) -> list[tuple[int, int]]:
    """(start_bar, end_bar) of each loop, end exclusive.

    Runs of consecutive usable bars of one meter are tiled from their first bar
    with loops of `loop_bars`; the tail shorter than that is cut into the
    largest of 8/4/2/1 bars that fits, so the loops cover every usable bar.
    """
    if loop_bars not in LOOP_SIZES:
        raise ValueError(f"loop_bars must be one of {LOOP_SIZES}, got {loop_bars}")
    plan: list[tuple[int, int]] = []
    bar = 0
    n = len(grid)
    while bar < n:
        if not grid.usable[bar]:
            bar += 1
            continue
        run_end = bar
        while run_end < n and grid.usable[run_end] and grid.meter[run_end] == grid.meter[bar]:
            run_end += 1
        position = bar
        while position < run_end:
            remaining = run_end - position
            size = loop_bars if remaining >= loop_bars else max(s for s in LOOP_SIZES if s <= remaining)
            plan.append((position, position + size))
            position += size
        bar = run_end
    return plan

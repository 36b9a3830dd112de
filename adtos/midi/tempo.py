"""The tempo map: ticks ↔ seconds for a piecewise-constant tempo.

The one tick→seconds conversion of ADTOS (index, assemble, datasets, stats,
variants). Its arithmetic is pretty_midi's (`PrettyMIDI._update_tick_to_time`:
the same per-tick scale 60 / (bpm · resolution), accumulated segment by
segment, a repeated tempo dropped), so a time ADTOS writes into an annotation
is the time `pretty_midi.PrettyMIDI(path)` reads back, to the last bit.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

DEFAULT_MPQN = 500_000  # MIDI's tempo before the first set_tempo event: 120 bpm


class TempoMap:
    """Tempo changes (tick, microseconds per quarter note) at `resolution` ticks per quarter note."""

    def __init__(self, changes: Iterable[tuple[int, float]], resolution: int):
        """`changes` in any order; at one tick the last given wins, as in a sequencer.
        Before the first change (or with none) MIDI's default 120 bpm applies."""
        if resolution <= 0:
            raise ValueError(f"resolution must be positive ticks per quarter note, got {resolution}")
        by_tick: dict[int, float] = {0: float(DEFAULT_MPQN)}
        for tick, mpqn in sorted(changes, key=lambda change: change[0]):  # stable sort
            if mpqn <= 0:
                raise ValueError(f"tempo at tick {tick} must be positive µs per quarter note, got {mpqn}")
            by_tick[int(tick)] = float(mpqn)
        ticks, values = [], []
        for tick in sorted(by_tick):
            if not values or by_tick[tick] != values[-1]:
                ticks.append(tick)
                values.append(by_tick[tick])
        self.resolution = int(resolution)
        self.ticks = np.asarray(ticks, dtype=np.int64)
        self.mpqn = np.asarray(values, dtype=np.float64)
        self.scale = np.array([60.0 / ((6e7 / m) * resolution) for m in values])  # seconds per tick
        self.start = np.zeros(len(ticks))  # seconds at each change
        for k in range(1, len(ticks)):
            self.start[k] = self.start[k - 1] + self.scale[k - 1] * (self.ticks[k] - self.ticks[k - 1])

    def __repr__(self) -> str:
        bpm = ", ".join(f"{t}: {b:.3f}" for t, b in zip(self.ticks.tolist(), self.bpm.tolist()))
        return f"TempoMap({{{bpm}}} bpm, resolution={self.resolution})"

    @property
    def bpm(self) -> np.ndarray:
        """Quarter notes per minute of each segment."""
        return 6e7 / self.mpqn

    def seconds(self, ticks) -> np.ndarray:
        """Seconds of each tick (ints or fractional ticks; past the last change the tempo holds)."""
        ticks = np.asarray(ticks)
        k = np.clip(np.searchsorted(self.ticks, ticks, side="right") - 1, 0, None)
        return self.start[k] + self.scale[k] * (ticks - self.ticks[k])

    def ticks_at(self, seconds) -> np.ndarray:
        """The (fractional) tick of each time in seconds: the inverse of `seconds`."""
        seconds = np.asarray(seconds, dtype=np.float64)
        k = np.clip(np.searchsorted(self.start, seconds, side="right") - 1, 0, None)
        return self.ticks[k] + (seconds - self.start[k]) / self.scale[k]

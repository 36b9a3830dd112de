"""The quantization ablation: drums on the 16th-note grid, velocities 100 or 127.

The paper trains on quantized drums to measure what human timing and
dynamics are worth. Only drum onsets and velocities change; durations,
pitched voices and the choice of loops stay as they are.
"""

from __future__ import annotations

import copy

import numpy as np

GRID_QN = 0.25                 # a 16th note
SOFT, ACCENT = 100, 127
ACCENT_FROM = (SOFT + ACCENT + 1) // 2   # nearest of the two: 114 and above is an accent
DUPLICATE_SEC = 1e-3           # same-note onsets closer than this are one hit


def snap_velocities(velocities: np.ndarray) -> np.ndarray:
    return np.where(np.asarray(velocities) >= ACCENT_FROM, ACCENT, SOFT).astype(np.int64)


def quantize_qn(starts_qn: np.ndarray) -> np.ndarray:
    return np.round(np.asarray(starts_qn, dtype=np.float64) / GRID_QN) * GRID_QN


def quantize_drums(midi):
    """A copy of `midi` (pretty_midi.PrettyMIDI) with every drum instrument's
    onsets snapped to the 16th-note grid of its tempo map and velocities to
    100 or 127. Durations are kept; same-note hits that land within 1 ms of
    each other are merged (the first is kept). Other instruments are untouched."""
    import pretty_midi

    if not isinstance(midi, pretty_midi.PrettyMIDI):
        raise TypeError(f"quantize_drums expects a pretty_midi.PrettyMIDI, got {type(midi).__name__}")
    result = copy.deepcopy(midi)
    end = midi.get_end_time()
    step = result.resolution * GRID_QN
    for instrument in result.instruments:
        if not instrument.is_drum:
            continue
        notes = []
        for note in instrument.notes:
            tick = result.time_to_tick(note.start)
            start = float(result.tick_to_time(int(round(round(tick / step) * step))))
            if start >= end:
                continue
            notes.append(pretty_midi.Note(int(snap_velocities([note.velocity])[0]), note.pitch,
                                          start, start + (note.end - note.start)))
        notes.sort(key=lambda n: (n.pitch, n.start))
        kept: list = []
        for note in notes:
            if kept and kept[-1].pitch == note.pitch and note.start - kept[-1].start < DUPLICATE_SEC:
                continue
            kept.append(note)
        instrument.notes = sorted(kept, key=lambda n: (n.start, n.pitch))
    return result

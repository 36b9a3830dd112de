"""Timing measures on plain arrays: tempo, onset merging, intervals in beats.

Onsets and beats are seconds (1-D float arrays). Beats must increase; the
local beat duration at a time is the inter-beat interval around it, so
intervals are in beats: a quarter note in 4/4 is 1.0, an 8th 0.5, an 8th-note
triplet 1/3, whatever the tempo and its changes.
"""

from __future__ import annotations

import numpy as np

from adtos.datasets.common import tempo_from_beats

__all__ = ["tempo_from_beats", "merge_onsets", "local_beat_durations", "onset_intervals_in_beats",
           "validate_beats", "validate_onsets"]


def validate_onsets(onsets: np.ndarray, name: str = "onsets") -> np.ndarray:
    onsets = np.asarray(onsets, dtype=np.float64)
    if onsets.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of seconds, got shape {onsets.shape}")
    if not np.all(np.isfinite(onsets)):
        raise ValueError(f"{name} must be finite")
    return onsets


def validate_beats(beats: np.ndarray) -> np.ndarray:
    beats = validate_onsets(beats, "beats")
    if beats.size < 2:
        raise ValueError(f"need at least two beats to measure in beats, got {beats.size}")
    if np.any(np.diff(beats) <= 0):
        raise ValueError("beats must be strictly increasing")
    return beats


def merge_onsets(onsets: np.ndarray, window: float = 0.05) -> np.ndarray:
    """Sorted onsets with every onset within `window` s after a kept one removed.

    A flam or a kick and hi-hat played together count as one event, as a
    listener hears them; the first onset of the group is kept.
    """
    onsets = np.sort(validate_onsets(onsets))
    if onsets.size < 2 or window <= 0:
        return onsets
    # Chains of onsets closer than `window` to their neighbour; a chain shorter
    # than `window` is one event. Longer chains (rolls, buzzes) are rare and
    # walked one onset at a time, keeping each onset more than `window` after
    # the last one kept.
    starts = np.flatnonzero(np.concatenate([[True], np.diff(onsets) > window]))
    ends = np.append(starts[1:], onsets.size)
    keep = np.zeros(onsets.size, dtype=bool)
    keep[starts] = True
    long = onsets[ends - 1] - onsets[starts] > window
    for start, end in zip(starts[long].tolist(), ends[long].tolist()):
        last = onsets[start]
        for i in range(start + 1, end):
            if onsets[i] - last > window:
                keep[i], last = True, onsets[i]
    return onsets[keep]


def local_beat_durations(times: np.ndarray, beats: np.ndarray) -> np.ndarray:
    """Duration of the beat each time falls in (the first/last beat outside the grid)."""
    return _beat_durations(np.asarray(times, dtype=np.float64), validate_beats(beats))


def _beat_durations(times: np.ndarray, beats: np.ndarray) -> np.ndarray:
    index = np.clip(np.searchsorted(beats, times, side="right") - 1, 0, beats.size - 2)
    return beats[index + 1] - beats[index]


def onset_intervals_in_beats(onsets: np.ndarray, beats: np.ndarray, merge: float = 0.05,
                             max_beats: float = 1.0) -> np.ndarray:
    """Intervals between consecutive drum onsets, in beats.

    Onsets within `merge` seconds are merged first; intervals longer than
    `max_beats` (a quarter note by default: rests, breaks) are dropped. Only
    intervals starting within the beat grid (from half a beat before the first
    beat to the last beat) are measured, where the beat is known.
    """
    beats = validate_beats(beats)
    merged = merge_onsets(onsets, merge)
    if merged.size < 2:
        return np.zeros(0)
    starts = merged[:-1]
    inside = (starts >= beats[0] - 0.5 * (beats[1] - beats[0])) & (starts < beats[-1])
    intervals = np.diff(merged)[inside] / _beat_durations(starts[inside], beats)
    # A tolerance, so that a quarter note measured on a slightly uneven grid is kept.
    return intervals[intervals <= max_beats * (1 + 1e-6)]

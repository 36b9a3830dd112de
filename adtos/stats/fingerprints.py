"""Beat fingerprints and coverage (Zehren et al., Appendix A).

A beat's fingerprint is the set of (class, position) pairs of the drum notes
in it, positions quantized to `bins` evenly spaced bins per beat (12 holds
both 16ths and triplets), velocity ignored, duplicates of one class in one
bin counted once. It is stored as an integer with one bit per
(bin, class): bit = bin·5 + class, so a set is its bitmask and two beats
have the same fingerprint exactly when their integers are equal.
"""

from __future__ import annotations

import numpy as np

from adtos.stats.rhythm import validate_beats, validate_onsets
from adtos.vocab import CLASSES

N_CLASSES = len(CLASSES)


def beat_fingerprints(onsets: np.ndarray, labels: np.ndarray, beats: np.ndarray,
                      bins: int = 12) -> np.ndarray:
    """One fingerprint (uint64) per beat interval beats[i]..beats[i+1]; 0 = no drums.

    An onset goes to the nearest grid point, so a note played a little early
    lands on the next beat's first bin, as a musician would read it. Onsets
    outside the grid (before the first or after the last beat) are left out.
    """
    onsets = validate_onsets(onsets)
    labels = np.asarray(labels, dtype=np.int64)
    beats = validate_beats(beats)
    if labels.shape != onsets.shape:
        raise ValueError(f"{onsets.size} onsets but {labels.size} labels")
    if labels.size and (labels.min() < 0 or labels.max() >= N_CLASSES):
        raise ValueError(f"labels must be class indices 0..{N_CLASSES - 1}")
    if not 1 <= bins <= 64 // N_CLASSES:
        raise ValueError(f"bins must be 1..{64 // N_CLASSES} (a fingerprint is a 64-bit mask), "
                         f"got {bins}")
    fingerprints = np.zeros(beats.size - 1, dtype=np.uint64)
    if onsets.size == 0:
        return fingerprints
    index = np.clip(np.searchsorted(beats, onsets, side="right") - 1, 0, beats.size - 2)
    position = index + (onsets - beats[index]) / (beats[index + 1] - beats[index])
    grid = np.rint(position * bins).astype(np.int64)
    beat, bin_ = grid // bins, grid % bins
    inside = (beat >= 0) & (beat < beats.size - 1)
    bits = np.left_shift(np.uint64(1), (bin_[inside] * N_CLASSES + labels[inside]).astype(np.uint64))
    np.bitwise_or.at(fingerprints, beat[inside], bits)
    return fingerprints


def fingerprint_counts(fingerprints: np.ndarray, skip_empty: bool = True
                       ) -> tuple[np.ndarray, np.ndarray]:
    """(unique fingerprints, beats with each), sorted by fingerprint; empty beats left out."""
    fingerprints = np.asarray(fingerprints, dtype=np.uint64)
    if skip_empty:
        fingerprints = fingerprints[fingerprints != 0]
    return np.unique(fingerprints, return_counts=True)


def coverage(source: np.ndarray, target: np.ndarray, target_counts: np.ndarray | None = None
             ) -> tuple[float, float]:
    """(share of target beats, share of unique target fingerprints) found in source.

    `source` and `target` are fingerprints; give `target_counts` when `target`
    is already unique (from `fingerprint_counts`). NaN when the target is empty.
    """
    source = np.unique(np.asarray(source, dtype=np.uint64))
    target = np.asarray(target, dtype=np.uint64)
    if target_counts is None:
        target, target_counts = np.unique(target, return_counts=True)
    if target.size == 0:
        return float("nan"), float("nan")
    found = np.isin(target, source, assume_unique=True)
    return (float(target_counts[found].sum() / target_counts.sum()), float(found.mean()))


def describe_fingerprint(fingerprint: int, bins: int = 12) -> str:
    """Readable form, e.g. 'BD@0 HH@0 HH@6' (class@bin, in bin order)."""
    value = int(fingerprint)
    parts = [f"{CLASSES[bit % N_CLASSES]}@{bit // N_CLASSES}"
             for bit in range(bins * N_CLASSES) if value >> bit & 1]
    return " ".join(parts) if parts else "-"

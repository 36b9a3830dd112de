"""Peak picking: from per-frame activations to onset times.

A frame is an onset when its activation reaches the class threshold and is the
largest within ±`window` frames (the first frame of a flat top wins), and it is
at least `min_distance` frames after the previous onset of that class.

Beyond the ends the activation is taken to continue at its edge value, so a
peak must rise within the track: an activation that starts high and falls
(a network's output at the first frames, where its convolutions see zero
padding as silence before a sound) is no onset at 0.000 s. madmom's
`peak_picking` pads with 0 instead and reports such a frame; see
docs/transcriber.md for that and the other differences. With the
defaults (±2 frames, 2 frames apart at 100 fps) two hits of one drum 20 ms
apart are still separate, which is faster than any drummer plays one piece.
"""

from __future__ import annotations

import numpy as np


def local_maxima(activation: np.ndarray, window: int = 2) -> np.ndarray:
    """Frames that are the largest within ±`window` frames (first frame of a flat top)."""
    activation = np.asarray(activation, dtype=np.float64)
    if activation.ndim != 1:
        raise ValueError(f"expected a 1-D activation, got shape {activation.shape}")
    n = activation.size
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    padded = np.pad(activation, window, mode="edge")
    is_peak = np.ones(n, dtype=bool)
    for offset in range(1, window + 1):
        before = padded[window - offset:window - offset + n]
        after = padded[window + offset:window + offset + n]
        is_peak &= (activation > before) & (activation >= after)
    return np.flatnonzero(is_peak)


def _keep_apart(frames: np.ndarray, min_distance: int) -> np.ndarray:
    kept: list[int] = []
    for frame in frames:
        if not kept or frame - kept[-1] >= min_distance:
            kept.append(int(frame))
    return np.asarray(kept, dtype=np.int64)


def pick_peaks(activation: np.ndarray, threshold: float, fps: float = 100.0, window: int = 2,
               min_distance: int = 2, maxima: np.ndarray | None = None) -> np.ndarray:
    """Onset times in seconds (float64, sorted) from a 1-D activation function.

    `maxima` may pass precomputed `local_maxima(activation, window)`, which does
    not depend on the threshold (threshold tuning tries many thresholds).
    """
    activation = np.asarray(activation, dtype=np.float64)
    if not 0.0 <= threshold <= 1.0:  # also refuses NaN
        raise ValueError(f"threshold must be in [0, 1], got {threshold}")
    if maxima is None:
        maxima = local_maxima(activation, window)
    frames = maxima[activation[maxima] >= threshold]
    return _keep_apart(frames, min_distance).astype(np.float64) / fps


def pick_all(activations: np.ndarray, thresholds, fps: float = 100.0, **options
             ) -> tuple[np.ndarray, np.ndarray]:
    """Onsets of every class from (frames, classes) activations: (times, class indices), by time."""
    activations = np.asarray(activations)
    thresholds = np.broadcast_to(np.asarray(thresholds, dtype=np.float64), (activations.shape[1],))
    times, labels = [], []
    for index in range(activations.shape[1]):
        onsets = pick_peaks(activations[:, index], float(thresholds[index]), fps, **options)
        times.append(onsets)
        labels.append(np.full(onsets.size, index, dtype=np.int64))
    times, labels = np.concatenate(times), np.concatenate(labels)
    order = np.lexsort((labels, times))
    return times[order], labels[order]

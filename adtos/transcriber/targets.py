"""Frame targets: one row per feature frame, one column per class (BD, SD, TT, HH, CY).

An onset at t seconds sets frame round(t · fps) of its class to 1. Optionally
the neighbouring frames get `widen_value` (target widening, as in Vogl et al.
2017), which forgives annotations that are one frame off; it is off by default
so that the loss is the plain per-frame binary cross-entropy.
"""

from __future__ import annotations

import numpy as np

from adtos.transcriber.labels import IGNORE, IGNORE_FRAMES
from adtos.vocab import CLASSES


def frame_targets(onsets: np.ndarray, labels: np.ndarray, n_frames: int, fps: float = 100.0,
                  widen: int = 0, widen_value: float = 0.5, start: int = 0,
                  values: np.ndarray | None = None) -> np.ndarray:
    """float32 (n_frames, len(CLASSES)) for frames start .. start + n_frames - 1 of a track.

    Onsets outside those frames are dropped; a snippet's targets are therefore
    exactly the matching rows of the whole track's targets. `values` (a label
    policy's, adtos.transcriber.labels) gives each onset its target instead of 1:
    a soft value, or IGNORE (-1), which marks the onset's frame and ±IGNORE_FRAMES
    around it as left out of the loss; a kept onset wins over an ignored one.
    """
    onsets = np.asarray(onsets, dtype=np.float64)
    labels = np.asarray(labels, dtype=np.int64)
    if onsets.shape != labels.shape:
        raise ValueError(f"{onsets.size} onsets but {labels.size} labels")
    values = np.ones(onsets.size) if values is None else np.asarray(values, dtype=np.float64)
    targets = np.zeros((n_frames, len(CLASSES)), dtype=np.float32)
    frames = np.round(onsets * fps).astype(np.int64) - start
    ignored = values < 0
    for offset in range(-IGNORE_FRAMES, IGNORE_FRAMES + 1):
        shifted = frames[ignored] + offset
        ok = (shifted >= 0) & (shifted < n_frames)
        targets[shifted[ok], labels[ignored][ok]] = IGNORE
    kept = ~ignored
    frames, labels, values = frames[kept], labels[kept], values[kept]
    inside = (frames >= 0) & (frames < n_frames)
    for offset in range(1, widen + 1):
        for shifted in (frames - offset, frames + offset):
            ok = (shifted >= 0) & (shifted < n_frames)
            np.maximum.at(targets, (shifted[ok], labels[ok]), widen_value * values[ok])
    np.maximum.at(targets, (frames[inside], labels[inside]), values[inside].astype(np.float32))
    return targets

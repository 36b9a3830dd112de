"""Planar audio, (channels, samples), as the renderer keeps it from the synthesizer to the mix."""

from __future__ import annotations

import numpy as np


def fit_length(audio: np.ndarray, n_samples: int) -> np.ndarray:
    """Trim or zero-pad planar (channels, n) float32 audio to exactly n_samples frames;
    mono (n,) audio becomes two equal channels."""
    audio = np.asarray(audio, dtype=np.float32)
    if audio.ndim == 1:
        audio = np.stack([audio, audio])
    if audio.shape[1] >= n_samples:
        return audio[:, :n_samples]
    return np.pad(audio, ((0, 0), (0, n_samples - audio.shape[1])))

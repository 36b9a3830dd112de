"""Audio loading shared by every reader: float32, optional mono, resampled."""

from __future__ import annotations

import os
from math import gcd

import numpy as np


def load_audio(path: str | os.PathLike, sr: int = 44100, mono: bool = True) -> np.ndarray:
    # Lazy: scipy.signal takes a second or more to import, and reading annotations needs no audio.
    import soundfile as sf
    from scipy.signal import resample_poly

    audio, file_sr = sf.read(str(path), dtype="float32", always_2d=True)
    if mono:
        audio = audio.mean(axis=1, keepdims=True)
    if file_sr != sr:
        g = gcd(int(file_sr), int(sr))
        audio = resample_poly(audio, sr // g, file_sr // g, axis=0).astype(np.float32)
    return audio[:, 0] if mono else audio

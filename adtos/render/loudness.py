"""Loudness normalization of stems (ITU-R BS.1770 / EBU R128) and the clip guard.

Each stem is brought to a target integrated loudness so that a preset's output
level does not decide how loud a voice is in the mix; the mix of such stems
can exceed full scale, so it is scaled down as a whole (a gain, never hard
clipping, which would add distortion a real recording does not have).
"""

from __future__ import annotations

import functools
import warnings

import numpy as np

DEFAULT_TARGET_LUFS = -23.0  # EBU R128 programme loudness
# Below this a stem is taken as silent: BS.1770's absolute gate is -70 LUFS, so
# a stem measuring lower has (next to) no gated block at all.
SILENCE_LUFS = -70.0
# A normalized stem further from the target than this is corrected once more.
LOUDNESS_TOLERANCE_LU = 0.05
# The mix peak ceiling, -1 dBFS: headroom for inter-sample peaks and for the
# rounding of 16-bit PCM, as EBU R128 recommends for distribution.
MIX_CEILING = 10.0 ** (-1.0 / 20.0)


class SilentStemError(ValueError):
    """A voice with notes whose rendering is (nearly) silent."""


@functools.lru_cache(maxsize=4)
def _meter(sample_rate: int):
    import pyloudnorm

    return pyloudnorm.Meter(sample_rate)


def integrated_loudness(audio: np.ndarray, sample_rate: int) -> float:
    """Integrated loudness in LUFS of float audio shaped (n,) or (n, channels)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(_meter(sample_rate).integrated_loudness(np.asarray(audio, dtype=np.float64)))


def normalize_stem(audio: np.ndarray, sample_rate: int, target_lufs: float = DEFAULT_TARGET_LUFS
                   ) -> tuple[np.ndarray, float, float]:
    """Scale a stem to `target_lufs`; return (stem, loudness before, loudness after).

    Raises SilentStemError when the stem measures below SILENCE_LUFS.
    """
    import pyloudnorm

    before = integrated_loudness(audio, sample_rate)
    if not np.isfinite(before) or before < SILENCE_LUFS:
        raise SilentStemError(f"stem is silent (integrated loudness {before:.1f} LUFS)")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pyloudnorm warns of peaks >= 1; the mix guard handles them
        normalized = pyloudnorm.normalize.loudness(audio, before, target_lufs).astype(np.float32)
        after = integrated_loudness(normalized, sample_rate)
        if abs(after - target_lufs) > LOUDNESS_TOLERANCE_LU:
            # The -70 LUFS absolute gate admits other blocks once the gain is
            # applied (quiet tails of a loud stem); one more step settles it.
            normalized = pyloudnorm.normalize.loudness(normalized, after, target_lufs).astype(np.float32)
            after = integrated_loudness(normalized, sample_rate)
    return normalized, before, after


def guard_clipping(mix: np.ndarray, ceiling: float = MIX_CEILING) -> tuple[np.ndarray, float]:
    """Scale `mix` so that its peak is at most `ceiling`; return (mix, gain applied)."""
    peak = float(np.max(np.abs(mix))) if mix.size else 0.0
    if peak <= ceiling:
        return mix, 1.0
    gain = ceiling / peak
    return (mix * np.float32(gain)).astype(np.float32), gain

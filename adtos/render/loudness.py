"""Loudness normalization of stems (ITU-R BS.1770-4 / EBU R128) and the clip guard.

Each stem is brought to a target integrated loudness so that a preset's output
level does not decide how loud a voice is in the mix; the mix of such stems
can exceed full scale, so it is scaled down as a whole (a gain, never hard
clipping, which would add distortion a real recording does not have).

The measurement is pyloudnorm's (its K-weighting filter design, block layout
and gating, checked equal in tests/test_render_loudness.py) with the per-block
Python loops replaced by a cumulative sum: pyloudnorm's loops cost more than
synthesizing the stem. Keeping the block energies also gives the loudness
after a gain exactly, without filtering the stem again.
"""

from __future__ import annotations

import functools

import numpy as np

from adtos.render.biquads import high_pass, high_shelf

DEFAULT_TARGET_LUFS = -23.0  # EBU R128 programme loudness
# Below this a stem is taken as silent: BS.1770's absolute gate is -70 LUFS, so
# a stem measuring lower has (next to) no gated block at all.
SILENCE_LUFS = -70.0
# A normalized stem further from the target than this is corrected once more.
LOUDNESS_TOLERANCE_LU = 0.05
# The mix peak ceiling, -1 dBFS: headroom for inter-sample peaks and for the
# rounding of 16-bit PCM, as EBU R128 recommends for distribution.
MIX_CEILING = 10.0 ** (-1.0 / 20.0)

BLOCK_S = 0.4  # gating block, BS.1770-4
OVERLAP = 0.75
ABSOLUTE_GATE = -70.0
RELATIVE_GATE = -10.0
CHANNEL_GAINS = (1.0, 1.0, 1.0, 1.41, 1.41)  # L, R, C, Ls, Rs
DENORMAL_GUARD = 1e-15


class SilentStemError(ValueError):
    """A voice with notes whose rendering is (nearly) silent."""


# BS.1770's K-weighting as pyloudnorm designs it (RBJ cookbook biquads): a
# +4 dB high shelf at 1500 Hz (the head's acoustic effect) and a 38 Hz
# high-pass (the RLB curve). Computed here rather than read from pyloudnorm's
# private Meter._filters; tests/test_render_loudness.py checks both against
# pyloudnorm and against the standard's 48 kHz table.
HIGH_SHELF = (4.0, 1 / np.sqrt(2), 1500.0)  # gain dB, Q, centre Hz
HIGH_PASS = (0.5, 38.0)                     # Q, corner Hz


@functools.lru_cache(maxsize=4)
def _k_weighting(sample_rate: int) -> np.ndarray:
    """The two K-weighting stages as second-order sections [b0 b1 b2 a0 a1 a2], a0 = 1."""
    return np.array([high_shelf(*HIGH_SHELF, sample_rate), high_pass(*HIGH_PASS, sample_rate)])


def block_energies(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """Mean square of the K-weighted signal per gating block, shape (channels, blocks)."""
    return weighted_block_energies(k_weighted(audio, sample_rate), sample_rate)


def k_weighted(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """The K-weighted signal of (samples,) or (samples, <=5 channels) audio, planar float32.

    K-weighting is linear: the weighted signal of a sum of stems is the sum of
    their weighted signals (times their gains), which lets a caller measure a
    bus without filtering it again.
    """
    import scipy.signal  # lazy: scipy is slow to import

    data = np.asarray(audio)
    if data.ndim == 1:
        data = data[:, None]
    if data.ndim != 2 or data.shape[1] > len(CHANNEL_GAINS):
        raise ValueError(f"audio must be (samples,) or (samples, <=5 channels), got {data.shape}")
    n = data.shape[0]
    if n < BLOCK_S * sample_rate:
        raise ValueError(f"audio must be longer than one {BLOCK_S} s block, got {n} samples")
    # Filtering in float32 (half the memory traffic of float64) moves the
    # loudness by under 2e-6 LU; the sums over blocks are taken in float64.
    # In silence the filter state decays into subnormal numbers, which are up
    # to 10x slower to compute with (stems are mostly silence between notes).
    # A +-1e-15 signal at the Nyquist frequency, which both filter stages pass,
    # keeps the state normal; it adds about -290 LUFS, nothing measurable. It is
    # added while copying (the caller's audio is never changed).
    planar = np.add(data.T, _denormal_guard(n), dtype=np.float32)
    return scipy.signal.sosfilt(_k_weighting(sample_rate).astype(np.float32), planar, axis=1)


@functools.lru_cache(maxsize=2)
def _denormal_guard(n: int) -> np.ndarray:
    guard = np.empty(n, dtype=np.float32)
    guard[0::2] = DENORMAL_GUARD
    guard[1::2] = -DENORMAL_GUARD
    guard.flags.writeable = False
    return guard


def weighted_block_energies(weighted: np.ndarray, sample_rate: int) -> np.ndarray:
    """`block_energies` of a planar K-weighted signal (`k_weighted`), which is left unchanged."""
    weighted = np.asarray(weighted, dtype=np.float32)
    n = weighted.shape[1]
    # Block bounds exactly as pyloudnorm computes them (same float expressions).
    step = 1.0 - OVERLAP
    n_blocks = int(np.round((n / sample_rate - BLOCK_S) / (BLOCK_S * step))) + 1
    j = np.arange(n_blocks)
    lower = (BLOCK_S * (j * step) * sample_rate).astype(np.int64)
    upper = np.minimum((BLOCK_S * (j * step + 1) * sample_rate).astype(np.int64), n)
    # Overlapping blocks share their 0.1 s hops: sum each stretch between two
    # bounds once, then a block is a difference of running totals. Each stretch
    # is summed by numpy's pairwise float32 sum (relative error ~1e-7, 3x
    # faster than np.add.reduceat in float64, whose sums run one by one).
    edges = np.unique(np.concatenate([lower, upper, [n]]))
    stretches = np.empty((weighted.shape[0], edges.size - 1))
    for k, (start, stop) in enumerate(zip(edges[:-1].tolist(), edges[1:].tolist())):
        stretches[:, k] = np.square(weighted[:, start:stop]).sum(axis=1)
    totals = np.concatenate([np.zeros((weighted.shape[0], 1)), np.cumsum(stretches, axis=1)], axis=1)
    return (totals[:, np.searchsorted(edges, upper)] - totals[:, np.searchsorted(edges, lower)]) \
        / (BLOCK_S * sample_rate)


def gated_loudness(energies: np.ndarray) -> float:
    """Integrated loudness in LUFS from block energies (BS.1770-4 absolute and relative gates)."""
    gains = np.asarray(CHANNEL_GAINS[: energies.shape[0]])[:, None]
    weighted = np.sum(gains * energies, axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        block_loudness = -0.691 + 10.0 * np.log10(weighted)
        above_absolute = block_loudness >= ABSOLUTE_GATE
        if not above_absolute.any():
            return float("-inf")
        relative = -0.691 + 10.0 * np.log10(np.sum(gains[:, 0] * energies[:, above_absolute].mean(axis=1))) \
            + RELATIVE_GATE
        gated = (block_loudness > relative) & (block_loudness > ABSOLUTE_GATE)
        if not gated.any():
            return float("-inf")
        return float(-0.691 + 10.0 * np.log10(np.sum(gains[:, 0] * energies[:, gated].mean(axis=1))))


def integrated_loudness(audio: np.ndarray, sample_rate: int) -> float:
    """Integrated loudness in LUFS of float audio shaped (n,) or (n, channels)."""
    return gated_loudness(block_energies(audio, sample_rate))


def normalize_stem(audio: np.ndarray, sample_rate: int, target_lufs: float = DEFAULT_TARGET_LUFS,
                   bus: WeightedBus | None = None) -> tuple[np.ndarray, float, float]:
    """Scale a stem to `target_lufs`; return (stem, loudness before, loudness after).

    With `bus`, the stem's K-weighted signal, normalized, is added to it, so
    that the loudness of a sum of stems can be had without filtering the sum.
    Raises SilentStemError when the stem measures below SILENCE_LUFS.
    """
    stem, before, after, _ = normalize_stem_gain(audio, sample_rate, target_lufs, bus)
    return stem, before, after


def normalize_stem_gain(audio: np.ndarray, sample_rate: int, target_lufs: float,
                        bus: WeightedBus | None = None
                        ) -> tuple[np.ndarray, float, float, np.float32]:
    """`normalize_stem` and the float32 gain it applied (the per-class drum stems
    take the drum stem's gain)."""
    weighted = k_weighted(audio, sample_rate)
    gain_db, before, after = gain_for_energies(weighted_block_energies(weighted, sample_rate),
                                               target_lufs)
    gain = np.float32(10.0 ** (gain_db / 20.0))
    if bus is not None:
        bus.add(weighted, gain)
    return np.asarray(audio, dtype=np.float32) * gain, before, after, gain


class WeightedBus:
    """The K-weighted signal of a sum of stems, summed from theirs at their gains.

    K-weighting is linear, so this is the K-weighted sum (to float32 rounding),
    without one more filter pass over the summed audio.
    """

    def __init__(self) -> None:
        self.signal: np.ndarray | None = None  # planar float32

    def add(self, weighted: np.ndarray, gain: float) -> None:
        """Add a stem's K-weighted signal (planar, `k_weighted`; scaled in place) times `gain`."""
        weighted *= np.float32(gain)
        if self.signal is None:
            self.signal = weighted
        else:
            self.signal += weighted

    def block_energies(self, sample_rate: int) -> np.ndarray:
        if self.signal is None:
            raise ValueError("no stem added to the bus")
        return weighted_block_energies(self.signal, sample_rate)


def gain_to_loudness(audio: np.ndarray, sample_rate: int, target_lufs: float
                     ) -> tuple[float, float, float]:
    """The gain in dB that brings `audio` to `target_lufs`: (gain, loudness before, after).

    Raises SilentStemError when the audio measures below SILENCE_LUFS.
    """
    return gain_for_energies(block_energies(audio, sample_rate), target_lufs)


def gain_for_energies(energies: np.ndarray, target_lufs: float) -> tuple[float, float, float]:
    """`gain_to_loudness` from block energies already measured (`block_energies`)."""
    before = gated_loudness(energies)
    if not np.isfinite(before) or before < SILENCE_LUFS:
        raise SilentStemError(f"stem is silent (integrated loudness {before:.1f} LUFS)")
    gain_db = target_lufs - before
    after = gated_loudness(energies * 10.0 ** (gain_db / 10.0))
    if abs(after - target_lufs) > LOUDNESS_TOLERANCE_LU:
        # The -70 LUFS absolute gate admits other blocks once the gain is
        # applied (quiet tails of a loud stem); one more step settles it.
        gain_db += target_lufs - after
        after = gated_loudness(energies * 10.0 ** (gain_db / 10.0))
    return gain_db, before, after


def guard_clipping(mix: np.ndarray, ceiling: float = MIX_CEILING) -> tuple[np.ndarray, float]:
    """Scale `mix` so that its peak is at most `ceiling`; return (mix, gain applied)."""
    peak = float(np.max(np.abs(mix))) if mix.size else 0.0
    if peak <= ceiling:
        return mix, 1.0
    gain = ceiling / peak
    return (mix * np.float32(gain)).astype(np.float32), gain

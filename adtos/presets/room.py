"""A room reverb: convolution with a generated impulse response.

The late part of a room's impulse response is well modelled as noise under an
exponential envelope whose decay time falls with frequency (air and walls
absorb highs first); a few discrete early reflections sit in front of it
(Moorer 1979; the statistical model behind synthetic room IRs used for data
augmentation). The response is generated from the effect's parameters and a
seed, so a preset definition renders the same room every time.

Convolving a mono send of the stem with a two-channel response (decorrelated
left and right tails; `width` blends them towards mono) costs one forward and
two inverse FFTs per block: 0.45-0.65x the cost of pedalboard's Reverb
(Freeverb) on 30-60 s stereo stems, which was the largest single cost of rendering
(benchmarks/results/render.md, "Render benchmark").
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

# (name, low, high): the parameters of {"type": "Room", ...} and their ranges.
ROOM_PARAMETERS = (
    ("decay_s", 0.05, 4.0),      # RT60 of the low band: time to fall by 60 dB
    ("damping", 0.0, 1.0),       # 0: highs decay as slowly as lows; 1: 5x faster
    ("predelay_ms", 0.0, 100.0),  # gap between the direct sound and the first reflection
    ("wet_level", 0.0, 1.0),
    ("dry_level", 0.0, 1.0),
    ("width", 0.0, 1.0),         # 0: the same tail in both channels; 1: independent tails
)
ROOM_DEFAULTS = {"decay_s": 0.6, "damping": 0.5, "predelay_ms": 10.0, "wet_level": 0.2,
                 "dry_level": 0.9, "width": 1.0, "seed": 0}
CROSSOVER_HZ = 2000.0  # between the slowly and the quickly decaying band
EARLY_REFLECTIONS = 8
EARLY_WINDOW_S = 0.04  # reflections arrive within this time after the predelay
MIN_FFT = 1 << 17


def check_room(params: dict[str, Any]) -> dict[str, Any]:
    """The complete, validated parameters of a Room effect (defaults filled in).

    Raises ValueError naming the parameter and its allowed range.
    """
    unknown = sorted(set(params) - set(ROOM_DEFAULTS))
    if unknown:
        raise ValueError(f"unknown parameters {unknown}; Room takes {sorted(ROOM_DEFAULTS)}")
    full = {**ROOM_DEFAULTS, **params}
    for name, low, high in ROOM_PARAMETERS:
        value = full[name]
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        if not number or not low <= value <= high:
            raise ValueError(f"{name} must be a number in [{low}, {high}], got {value!r}")
    seed = full["seed"]
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    return full


@functools.lru_cache(maxsize=64)
def room_impulse_response(sample_rate: int, decay_s: float = 0.6, damping: float = 0.5,
                          predelay_ms: float = 10.0, width: float = 1.0, seed: int = 0
                          ) -> np.ndarray:
    """A two-channel room response, float32 of shape (2, samples), unit mean energy per channel.

    The response starts at the predelay (the direct sound is the dry path, so
    onsets are not moved), is `decay_s` + predelay long, and is cached: a
    worker renders many stems with the same few presets.
    """
    import scipy.signal  # lazy: a second or more to import, and most presets have no Room

    rng = np.random.default_rng(seed)
    predelay = int(round(predelay_ms * 1e-3 * sample_rate))
    length = max(int(round(decay_s * sample_rate)), 16)
    t = np.arange(length) / sample_rate
    noise = rng.standard_normal((2, length))
    # Two bands, each under its own 60 dB decay: ln(1000) = 6.91 per decay time.
    low_sos = scipy.signal.butter(2, CROSSOVER_HZ, "lowpass", fs=sample_rate, output="sos")
    high_sos = scipy.signal.butter(2, CROSSOVER_HZ, "highpass", fs=sample_rate, output="sos")
    high_decay = decay_s / (1.0 + 4.0 * damping)
    tail = (scipy.signal.sosfilt(low_sos, noise, axis=1) * np.exp(-6.91 * t / decay_s)
            + scipy.signal.sosfilt(high_sos, noise, axis=1) * np.exp(-6.91 * t / high_decay))
    # Early reflections: sparse taps, each channel its own, under the same envelope.
    early = np.zeros_like(tail)
    window = min(int(EARLY_WINDOW_S * sample_rate), length - 1)
    for channel in range(2):
        taps = rng.integers(0, window + 1, EARLY_REFLECTIONS)
        signs = rng.choice([-1.0, 1.0], EARLY_REFLECTIONS)
        early[channel, taps] += signs * 3.0 * np.exp(-6.91 * t[taps] / decay_s)
    response = tail + early
    # Width blends the two independent channels towards their mean (0: mono).
    mid, side = (response[0] + response[1]) / 2, (response[0] - response[1]) / 2
    response = np.stack([mid + width * side, mid - width * side])
    response /= np.sqrt(np.mean(np.sum(response ** 2, axis=1)))
    out = np.zeros((2, predelay + length), dtype=np.float32)
    out[:, predelay:] = response
    return out


def apply_room(planar: np.ndarray, sample_rate: int, params: dict[str, Any]) -> np.ndarray:
    """`planar` (channels, samples) float32 through the room; the same shape.

    out = dry_level · x + wet_level · (mono(x) ∗ response); the tail beyond the
    input's length is cut, as a plugin processing the same buffer would.
    """
    import scipy.fft  # lazy, as scipy.signal above

    p = check_room(params)
    response = room_impulse_response(int(sample_rate), float(p["decay_s"]), float(p["damping"]),
                                     float(p["predelay_ms"]), float(p["width"]), int(p["seed"]))
    channels, n = planar.shape
    send = planar.mean(axis=0, dtype=np.float32)
    taps = response.shape[1]
    # Overlap-add in power-of-two FFTs at least 4x the response: the fastest
    # on 60 s stems (0.13-0.15 s per stem for 0.2-0.9 s rooms).
    size = max(MIN_FFT, 1 << int(np.ceil(np.log2(4 * taps))))
    block = size - taps + 1
    spectrum = scipy.fft.rfft(response, size, axis=1) * np.float32(p["wet_level"])
    wet = spectrum if channels > 1 else spectrum.mean(axis=0, keepdims=True)
    if channels > 2:
        wet = wet[np.arange(channels) % 2]
    out = planar * np.float32(p["dry_level"])
    for start in range(0, n, block):
        piece = scipy.fft.irfft(wet * scipy.fft.rfft(send[start:start + block], size), size, axis=1)
        stop = min(start + size, n)
        out[:, start:stop] += piece[:, :stop - start]
    return out

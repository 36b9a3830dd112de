"""Filter sections for the loudness meter and the master bus, as second-order sections.

Each function returns one section [b0, b1, b2, 1, a1, a2] (normalized, a0 = 1)
for scipy.signal.sosfilt. The second-order designs are the RBJ Audio EQ
Cookbook's, the ones pyloudnorm uses for BS.1770's K-weighting and JUCE (so
pedalboard) for its shelving filters; the first-order high-pass is JUCE's
bilinear design. tests/test_render_biquads.py checks each against pedalboard's
impulse responses and pyloudnorm's coefficients.

A cascade of sections costs one sosfilt pass: filtering is bound by memory
traffic, so three sections in one call cost about what one does, where three
pedalboard plugins cost three passes.
"""

from __future__ import annotations

import numpy as np


def _normalized(b: list[float], a: list[float]) -> np.ndarray:
    return np.array([*b, *a], dtype=np.float64) / a[0]


def high_shelf(gain_db: float, q: float, centre_hz: float, sample_rate: int) -> np.ndarray:
    """RBJ high shelf: `gain_db` above `centre_hz`, unity below."""
    a = 10.0 ** (gain_db / 40.0)
    w0 = 2.0 * np.pi * centre_hz / sample_rate
    cos, root = np.cos(w0), 2.0 * np.sqrt(a) * np.sin(w0) / (2.0 * q)
    return _normalized([a * ((a + 1) + (a - 1) * cos + root), -2 * a * ((a - 1) + (a + 1) * cos),
                        a * ((a + 1) + (a - 1) * cos - root)],
                       [(a + 1) - (a - 1) * cos + root, 2 * ((a - 1) - (a + 1) * cos),
                        (a + 1) - (a - 1) * cos - root])


def low_shelf(gain_db: float, q: float, centre_hz: float, sample_rate: int) -> np.ndarray:
    """RBJ low shelf: `gain_db` below `centre_hz`, unity above."""
    a = 10.0 ** (gain_db / 40.0)
    w0 = 2.0 * np.pi * centre_hz / sample_rate
    cos, root = np.cos(w0), 2.0 * np.sqrt(a) * np.sin(w0) / (2.0 * q)
    return _normalized([a * ((a + 1) - (a - 1) * cos + root), 2 * a * ((a - 1) - (a + 1) * cos),
                        a * ((a + 1) - (a - 1) * cos - root)],
                       [(a + 1) + (a - 1) * cos + root, -2 * ((a - 1) + (a + 1) * cos),
                        (a + 1) + (a - 1) * cos - root])


def high_pass(q: float, corner_hz: float, sample_rate: int) -> np.ndarray:
    """RBJ second-order high-pass (12 dB per octave)."""
    w0 = 2.0 * np.pi * corner_hz / sample_rate
    alpha, cos = np.sin(w0) / (2.0 * q), np.cos(w0)
    return _normalized([(1 + cos) / 2, -(1 + cos), (1 + cos) / 2], [1 + alpha, -2 * cos, 1 - alpha])


def first_order_high_pass(corner_hz: float, sample_rate: int) -> np.ndarray:
    """First-order high-pass (6 dB per octave, -3 dB at the corner), bilinear with prewarping."""
    n = np.tan(np.pi * corner_hz / sample_rate)
    return _normalized([1.0, -1.0, 0.0], [n + 1.0, n - 1.0, 0.0])

"""The quantization ablation: drums on the 16th-note grid, velocities 100 or 127.

The paper trains on quantized drums to measure what human timing and
dynamics are worth. Only drum onsets and velocities change; durations,
pitched voices and the choice of loops stay as they are.
"""

from __future__ import annotations

import numpy as np

GRID_QN = 0.25                 # a 16th note
SOFT, ACCENT = 100, 127
ACCENT_FROM = (SOFT + ACCENT + 1) // 2   # nearest of the two: 114 and above is an accent
DUPLICATE_SEC = 1e-3           # same-note onsets closer than this are one hit


def snap_velocities(velocities: np.ndarray) -> np.ndarray:
    return np.where(np.asarray(velocities) >= ACCENT_FROM, ACCENT, SOFT).astype(np.int64)


def quantize_qn(starts_qn: np.ndarray) -> np.ndarray:
    return np.round(np.asarray(starts_qn, dtype=np.float64) / GRID_QN) * GRID_QN

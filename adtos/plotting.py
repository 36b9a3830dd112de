"""What every ADTOS figure shares: a printable size, the file formats, readable log ticks.

A figure is 6.4 × 4.8 in at 150 dpi (960 × 720 px) with 9–10 pt text, so that
it reads on screen and in print at column width; `--format svg` or `pdf` gives
vector files for papers. Files are written atomically and carry no date or
software version, so the same data give the same bytes.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

from adtos.fileio import atomic_path

PLOT_FORMATS: tuple[str, ...] = ("png", "svg", "pdf")
FIGURE_SIZE = (6.4, 4.8)  # inches
DPI = 150
FONT_SIZE = 9.0

# Mantissas of log-axis ticks, sparsest first: the sparsest set that puts
# enough ticks inside the data range is used, so a curve spanning four decades
# gets 0.001, 0.01, ... and one within a decade gets 0.04, 0.05, 0.06, ...
_TICK_MANTISSAS: tuple[tuple[float, ...], ...] = (
    (1.0,),
    (1.0, 2.0, 5.0),
    (1.0, 2.0, 3.0, 5.0),
    (1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0),
    tuple(float(m) for m in range(1, 10)),
    tuple(1.0 + 0.5 * k for k in range(18)),
    tuple(1.0 + 0.2 * k for k in range(45)),
    tuple(1.0 + 0.05 * k for k in range(180)),
)


def pyplot():
    """matplotlib.pyplot on the Agg backend (no display needed), with readable text."""
    import matplotlib  # lazy: heavy to import, and only figures need it

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # lazy: heavy to import, and only figures need it

    plt.rcParams.update({"font.size": FONT_SIZE, "axes.titlesize": FONT_SIZE + 1,
                         "axes.labelsize": FONT_SIZE, "legend.fontsize": FONT_SIZE - 1,
                         "xtick.labelsize": FONT_SIZE - 0.5, "ytick.labelsize": FONT_SIZE - 0.5,
                         # Fixed ids inside SVG files: the same figure, the same bytes.
                         "svg.hashsalt": "adtos"})
    return plt


def check_format(plot_format: str) -> str:
    """The format in lower case, or ValueError naming the ones there are."""
    fmt = plot_format.lower().lstrip(".")
    if fmt not in PLOT_FORMATS:
        raise ValueError(f"plot format {plot_format!r}: expected one of {', '.join(PLOT_FORMATS)}")
    return fmt


def save_figure(figure, path: str | os.PathLike) -> Path:
    """Write `figure` atomically in the format of the path's suffix and close it."""
    path = Path(path)
    fmt = check_format(path.suffix)
    # No software version or date in the file: identical data, identical bytes.
    metadata = {"png": {"Software": None}, "svg": {"Date": None, "Creator": None},
                "pdf": {"CreationDate": None, "Creator": None, "Producer": None}}[fmt]
    with atomic_path(path) as tmp:
        figure.savefig(tmp, format=fmt, dpi=DPI, metadata=metadata)
    pyplot().close(figure)
    return path


def log_ticks(low: float, high: float, min_inside: int = 4) -> list[float]:
    """Tick values for a log axis from `low` to `high`, every one worth a label.

    The sparsest "nice" set (1·10^k; 1, 2, 5·10^k; ...) with at least
    `min_inside` ticks within [low, high], plus the nearest tick below `low` and
    above `high`: setting the axis limits to the first and last tick puts every
    point between two labelled ticks.
    """
    if not (0 < low <= high and math.isfinite(high)):
        raise ValueError(f"log ticks need 0 < low <= high, got {low!r}, {high!r}")
    first, last = math.floor(math.log10(low)) - 1, math.ceil(math.log10(high)) + 1

    def ticks_of(mantissas: tuple[float, ...]) -> list[float]:
        return sorted({round(m * 10.0 ** k, 12 - k) for k in range(first, last + 1)
                       for m in mantissas})

    for level, mantissas in enumerate(_TICK_MANTISSAS):
        ticks = ticks_of(mantissas)
        inside = [t for t in ticks if low * (1 - 1e-9) <= t <= high * (1 + 1e-9)]
        if len(inside) >= min_inside:
            break
    # The end ticks come from the next denser set, so that the axis does not
    # stretch from 0.104 to 0.2 only because 0.2 is the next tick of this set.
    ends = ticks_of(_TICK_MANTISSAS[min(level + 1, len(_TICK_MANTISSAS) - 1)])
    below = max(t for t in ends if t <= low * (1 + 1e-9))
    above = min(t for t in ends if t >= high * (1 - 1e-9))
    if below == above:  # one value, itself a tick: a tick either side, not a zero-width axis
        below = max(t for t in ends if t < low * (1 - 1e-9))
        above = min(t for t in ends if t > high * (1 + 1e-9))
    return sorted({below, *inside, above})


def tick_label(value: float) -> str:
    """0.05, 0.065, 2, 1e+03 -> '0.05', '0.065', '2', '1000': plain numbers, no 5×10^-2."""
    return f"{value:.4g}" if 1e-4 <= abs(value) < 1e5 else f"{value:.3g}"

"""Log-log scaling plots: every group's points, its fitted curve and its γ dashed.

Synthetic groups get colours and round markers; real-data references are
black with square markers and a dash-dot curve, so that the eye finds the
reference first.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from adtos.fileio import atomic_path
from adtos.scaling.table import GroupFit


def plot_scaling(fits: list[GroupFit], path: str | os.PathLike, *, x: str = "n",
                 y: str = "test_loss", title: str | None = None) -> Path:
    """Write a PNG with one curve per group; return its path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, NullFormatter

    figure, axes = plt.subplots(figsize=(7.0, 4.8), dpi=120)
    colours = plt.get_cmap("tab10")
    synthetic_index = 0
    x_low = min((item.points.x.min() for item in fits), default=1.0)
    x_high = max((item.points.x.max() for item in fits), default=10.0)
    grid = np.geomspace(x_low, x_high, 200)
    for item in fits:
        if item.points.reference:
            colour, marker, curve_style = "black", "s", "-."
        else:
            colour, marker, curve_style = colours(synthetic_index % 10), "o", "-"
            synthetic_index += 1
        label = item.points.label + (" (reference)" if item.points.reference else "")
        if item.fit is not None:
            fit = item.fit
            label += f": α={fit.alpha:.3g}, β={fit.beta:.3g}, γ={fit.gamma:.3g}"
        elif item.error:
            label += " (too few points for a fit)" if "too few" in item.error else " (not fit)"
        axes.plot(item.points.x, item.points.y, marker, color=colour, markersize=5,
                  linestyle="none", label=label)
        if item.fit is not None:
            axes.plot(grid, item.fit.predict(grid), curve_style, color=colour, linewidth=1.4)
            if item.fit.gamma > 0:
                axes.axhline(item.fit.gamma, color=colour, linestyle="--", linewidth=1.0,
                             alpha=0.8)
        elif item.points.reference and item.points.y.size:
            # A reference too short for a curve (e.g. one model trained on real data)
            # is still a level to compare the synthetic curves with.
            axes.axhline(item.points.y.min(), color=colour, linestyle=":", linewidth=1.2)
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel(f"{x} (training tracks)" if x == "n" else x)
    axes.set_ylabel(y)
    axes.set_title(title or rf"{y} vs {x}: $L = \alpha\,{x}^{{-\beta}} + \gamma$ (dashed: $\gamma$)")
    # Plain numbers read better than 4×10^-1 on axes spanning a decade or two.
    for axis in (axes.xaxis, axes.yaxis):
        axis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:.3g}"))
        axis.set_minor_formatter(FuncFormatter(_minor_label))
    sizes = np.unique(np.concatenate([item.points.x for item in fits])) if fits else []
    if 0 < len(sizes) <= 16:  # a sweep's n (1, 2, 4, ...) as the ticks themselves
        axes.set_xticks(sizes)
        axes.xaxis.set_minor_formatter(NullFormatter())
    axes.grid(True, which="both", alpha=0.25)
    if fits:
        axes.legend(fontsize=7, loc="best")
    figure.subplots_adjust(left=0.11, right=0.97, bottom=0.11, top=0.92)  # tight_layout is slow
    path = Path(path)
    with atomic_path(path) as tmp:
        # No Software entry: the PNG stays byte-identical across matplotlib versions' metadata.
        figure.savefig(tmp, format="png", metadata={"Software": None})
    plt.close(figure)
    return path


def _minor_label(value: float, _position: int) -> str:
    """Label minor log ticks at 2..5·10^k only, so labels never crowd near the decade."""
    leading = f"{value:.1e}"[0]
    return f"{value:.3g}" if leading in "2345" else ""

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
    all_x = np.concatenate([item.points.x for item in fits]) if fits else np.array([1.0, 10.0])
    all_y = np.concatenate([item.points.y for item in fits]) if fits else np.array([0.1, 1.0])
    grid = np.geomspace(all_x.min(), all_x.max(), 200)
    # γ far below the points (a curve that has not bent yet) would squash them into a
    # line at the top; such a γ is given in the legend but not drawn.
    shown_floor = 0.1 * all_y.min()
    y_low, y_high = all_y.min(), all_y.max()
    synthetic_index = 0
    for item in fits:
        if item.points.reference:
            colour, marker, curve_style = "black", "s", "-."
        else:
            colour, marker, curve_style = colours(synthetic_index % 10), "o", "-"
            synthetic_index += 1
        label = item.points.label + (" (reference)" if item.points.reference else "")
        falls = item.fit is not None and item.fit.falls
        if falls:
            fit = item.fit
            label += f": α={fit.alpha:.3g}, β={fit.beta:.3g}, γ={fit.gamma:.3g}"
        elif item.fit is not None:  # a flat or rising curve: its α, β, γ mean nothing
            label += " (does not fall with n: no power law)"
        elif item.error:
            label += " (too few points for a fit)" if "too few" in item.error else " (not fit)"
        axes.plot(item.points.x, item.points.y, marker, color=colour, markersize=5,
                  linestyle="none", label=label)
        if item.fit is not None and not falls:
            order = np.argsort(item.points.x)
            axes.plot(item.points.x[order], item.points.y[order], ":", color=colour, linewidth=1.0)
        elif item.fit is not None:
            curve = item.fit.predict(grid)
            axes.plot(grid, curve, curve_style, color=colour, linewidth=1.4)
            y_low, y_high = min(y_low, curve.min()), max(y_high, curve.max())
            if item.fit.gamma >= shown_floor:
                axes.axhline(item.fit.gamma, color=colour, linestyle="--", linewidth=1.0,
                             alpha=0.8)
                y_low = min(y_low, item.fit.gamma)
        elif item.points.reference:
            # A reference too short for a curve (e.g. one model trained on real data)
            # is still a level to compare the synthetic curves with.
            axes.axhline(item.points.y.min(), color=colour, linestyle=":", linewidth=1.2)
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_ylim(y_low / 1.08, y_high * 1.08)
    axes.set_xlabel(f"{x} (training tracks)" if x == "n" else x)
    axes.set_ylabel(y)
    axes.set_title(title or rf"{y} vs {x}: $L = \alpha\,{x}^{{-\beta}} + \gamma$ (dashed: $\gamma$)")
    # Plain numbers read better than 4×10^-1 on axes spanning a decade or two;
    # over more decades only the decades are labelled.
    for axis, (low, high) in ((axes.xaxis, (all_x.min(), all_x.max())),
                              (axes.yaxis, (y_low, y_high))):
        axis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:.3g}"))
        decades = np.log10(high / low)
        if decades < 0.6:  # no decade in view: every minor tick is a label the reader needs
            minor = FuncFormatter(lambda value, _: f"{value:.3g}")
        elif decades < 1.5:
            minor = FuncFormatter(_minor_label)
        else:
            minor = NullFormatter()
        axis.set_minor_formatter(minor)
    sizes = np.unique(all_x)
    if fits and len(sizes) <= 16:  # a sweep's n (1, 2, 4, ...) as the ticks themselves
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

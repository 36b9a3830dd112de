"""Log-log scaling plots: every group's points, its fitted curve and its γ dashed.

Synthetic groups get colours and round markers; real-data references are
black with square markers and a dash-dot curve, so that the eye finds the
reference first.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from adtos.plotting import FIGURE_SIZE, FONT_SIZE, log_ticks, pyplot, save_figure, tick_label
from adtos.scaling.fit import INTERVALS_KEPT
from adtos.scaling.table import GroupFit


def plot_scaling(fits: list[GroupFit], path: str | os.PathLike, *, x: str = "n",
                 y: str = "test_loss", title: str | None = None) -> Path:
    """Write one curve per group (PNG, SVG or PDF after the path's suffix); return the path.

    The legend says for each group what the fit found: α, β, γ; γ and whether
    it is drawn; or why there is no curve (too few points, a loss that does not
    fall, a γ extrapolated far below the points).
    """
    # lazy: matplotlib, as adtos.plotting
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter, NullLocator

    plt = pyplot()
    # The legend goes below the axes (long labels never hide a point): the
    # figure grows by one line per group instead of the axes shrinking.
    legend_height = 0.12 + 0.19 * max(len(fits), 1)
    width, height = FIGURE_SIZE[0], FIGURE_SIZE[1] + legend_height - 0.3
    figure, axes = plt.subplots(figsize=(width, height))
    colours = plt.get_cmap("tab10")
    all_x = np.concatenate([item.points.x for item in fits]) if fits else np.array([1.0, 10.0])
    all_y = np.concatenate([item.points.y for item in fits]) if fits else np.array([0.1, 1.0])
    grid = np.geomspace(all_x.min(), all_x.max(), 200)
    # γ far below the points (a curve that has not bent yet) would squash them into a
    # line at the top; such a γ is given in the legend but not drawn.
    shown_floor = 0.1 * all_y.min()
    y_low, y_high = all_y.min(), all_y.max()
    synthetic_index = 0
    gamma_drawn = False
    for item in fits:
        if item.points.reference:
            colour, marker, curve_style = "black", "s", "-."
        else:
            colour, marker, curve_style = colours(synthetic_index % 10), "o", "-"
            synthetic_index += 1
        fit = item.fit
        falls = fit is not None and fit.falls
        draw_gamma = falls and not fit.gamma_extrapolated and fit.gamma >= shown_floor
        label = legend_label(item, gamma_drawn=draw_gamma)
        axes.plot(item.points.x, item.points.y, marker, color=colour, markersize=5,
                  linestyle="none", label=label)
        if fit is not None and not falls:
            order = np.argsort(item.points.x)
            axes.plot(item.points.x[order], item.points.y[order], ":", color=colour, linewidth=1.0)
        elif fit is not None:
            curve = fit.predict(grid)
            axes.plot(grid, curve, curve_style, color=colour, linewidth=1.4)
            y_low, y_high = min(y_low, curve.min()), max(y_high, curve.max())
            if draw_gamma:
                axes.axhline(fit.gamma, color=colour, linestyle="--", linewidth=1.0, alpha=0.8)
                y_low = min(y_low, fit.gamma)
                gamma_drawn = True
        elif item.points.reference:
            # A reference too short for a curve (e.g. one model trained on real data)
            # is still a level to compare the synthetic curves with.
            axes.axhline(item.points.y.min(), color=colour, linestyle=":", linewidth=1.2)
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel(f"{x} (training tracks)" if x == "n" else x)
    axes.set_ylabel(y)
    axes.set_title(title or rf"{y} vs {x}: $L = \alpha\,{x}^{{-\beta}} + \gamma$"
                   + (r" (dashed: $\gamma$)" if gamma_drawn else ""))
    # Every tick labelled, and the axis ends on a labelled tick, so each point
    # sits between two numbers the reader can see.
    x_ticks, x_limits = x_axis(all_x, sweep_sizes=bool(fits))
    y_ticks = log_ticks(y_low, y_high)
    for axis, ticks in ((axes.xaxis, x_ticks), (axes.yaxis, y_ticks)):
        axis.set_major_locator(FixedLocator(ticks))
        axis.set_major_formatter(FuncFormatter(lambda value, _: tick_label(value)))
        axis.set_minor_locator(NullLocator())
        axis.set_minor_formatter(NullFormatter())
    axes.set_ylim(y_ticks[0], y_ticks[-1])
    axes.set_xlim(*x_limits)
    axes.grid(True, which="major", alpha=0.3)
    bottom = (legend_height + 0.62) / height
    if fits:
        figure.legend(loc="lower left", bbox_to_anchor=(0.02, 0.0), frameon=False,
                      fontsize=FONT_SIZE - 1.5, borderaxespad=0.3)
    figure.subplots_adjust(left=0.12, right=0.97, bottom=bottom, top=1 - 0.35 / height)
    return save_figure(figure, path)


def x_axis(x: np.ndarray, *, sweep_sizes: bool = True) -> tuple[list[float], tuple[float, float]]:
    """Labelled ticks and limits of the log x axis for the points' `x`.

    With few distinct x (`sweep_sizes`: a sweep's n = 1, 2, 4, ...) the ticks are
    the x themselves, else "nice" log ticks; the axis reaches a little beyond the
    outermost points, and ends on a labelled tick.
    """
    sizes = np.unique(x)
    if sizes.size == 1:
        # One n (a sweep's first size, a single reference model): a log axis from n to n
        # has no width, so the point gets a factor of 2 either side, one step of the
        # doubling sweep, and sits mid-axis between labelled ticks.
        ticks = [float(sizes[0]) / 2, float(sizes[0]), float(sizes[0]) * 2]
        return ticks, (ticks[0], ticks[-1])
    ticks = (list(sizes) if sweep_sizes and len(sizes) <= 16
             else log_ticks(float(sizes[0]), float(sizes[-1])))
    pad = (sizes[-1] / sizes[0]) ** 0.04
    return ticks, (min(ticks[0], sizes[0] / pad), max(ticks[-1], sizes[-1] * pad))


def legend_label(item: GroupFit, *, gamma_drawn: bool) -> str:
    """What the legend says of a group: α, β, γ and whether γ is drawn, or why there is no curve."""
    label = item.points.label + (" (reference)" if item.points.reference else "")
    fit = item.fit
    if fit is not None and fit.falls:
        label += f": α={fit.alpha:.3g}, β={fit.beta:.3g}, γ={fit.gamma:.3g}"
        if fit.gamma_extrapolated:
            label += " (γ extrapolated: no measured gap, not drawn)"
        elif not gamma_drawn:
            label += " (γ below the plot, not drawn)"
        if set(fit.warnings) - INTERVALS_KEPT:
            label += "; no intervals"
        elif "intervals_too_narrow" in fit.warnings:
            label += "; intervals too narrow"
    elif fit is not None:  # a flat or rising curve: its α, β, γ mean nothing
        label += " (does not fall with n: no power law)"
    elif item.error:
        label += " (too few points for a fit)" if "too few" in item.error else " (not fit)"
    return label

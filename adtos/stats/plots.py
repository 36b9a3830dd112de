"""The statistics as figures (PNG, SVG or PDF after the file's suffix; matplotlib, Agg).

One column per dataset, synthetic sets first and real sets after them in
another colour. Continuous variables are violins, discrete ones are bars
drawn like violins (a bar per category, centred on the dataset's column);
either way each dataset's shape is scaled to the same width, so a set of
30 tracks reads as clearly as one of 10,000.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from adtos.plotting import FIGURE_SIZE, pyplot, save_figure
from adtos.stats.collect import DatasetStats
from adtos.vocab import CLASSES

SYNTHETIC_COLOR = "#3b75af"
REAL_COLOR = "#e08a2c"
HALF_WIDTH = 0.42
# Interval ticks: the note values a drummer plays, in beats.
INTERVAL_TICKS = [(1 / 12, "1/12"), (1 / 8, "1/8"), (1 / 6, "1/6"), (1 / 4, "1/4"), (1 / 3, "1/3"),
                  (1 / 2, "1/2"), (2 / 3, "2/3"), (3 / 4, "3/4"), (1.0, "1")]


def plot_order(stats: list[DatasetStats]) -> list[DatasetStats]:
    """Synthetic sets first, then real sets, each group in the order given."""
    return [s for s in stats if s.synthetic] + [s for s in stats if not s.synthetic]


def _save(fig, path: Path) -> Path:
    return save_figure(fig, path)


def _finish(fig, ax, stats: list[DatasetStats], title: str, path: Path, legend: bool = True) -> Path:
    """What every one-panel plot ends with: title, dataset columns, legend, layout, file."""
    ax.set_title(title, fontsize=11.5)
    _columns(ax, stats)
    if legend:
        _legend(ax, stats)
    fig.tight_layout()
    return _save(fig, path)


def _figure(n_columns: int, height: float = FIGURE_SIZE[1], panels: int = 1):
    # At least the printable 6.4 in: a plot of two datasets is not a thumbnail.
    width = max(FIGURE_SIZE[0], 1.1 * n_columns + 2.2)
    return pyplot().subplots(1, panels, figsize=(width * panels, height), squeeze=False)


def _columns(ax, stats: list[DatasetStats]) -> None:
    ax.set_xticks(range(len(stats)))
    ax.set_xticklabels([s.name for s in stats], rotation=30 if len(stats) > 3 else 0,
                       ha="right" if len(stats) > 3 else "center", fontsize=9.5)
    ax.set_xlim(-0.6, len(stats) - 0.4)
    n_synthetic = sum(s.synthetic for s in stats)
    if 0 < n_synthetic < len(stats):
        ax.axvline(n_synthetic - 0.5, color="0.6", lw=0.8, ls=":")
    ax.grid(axis="y", color="0.92", lw=0.6)
    ax.set_axisbelow(True)


def _legend(ax, stats: list[DatasetStats]) -> None:
    from matplotlib.patches import Patch  # lazy: matplotlib, as adtos.plotting

    kinds = sorted({s.synthetic for s in stats}, reverse=True)
    handles = [Patch(color=SYNTHETIC_COLOR if k else REAL_COLOR, label="synthetic" if k else "real")
               for k in kinds]
    ax.legend(handles=handles, fontsize=8.5, loc="upper left", bbox_to_anchor=(1.0, 1.0),
              frameon=False)


def violin_axes(ax, stats: list[DatasetStats], values: Sequence[np.ndarray | None],
                value_range: tuple[float, float], bins: int, smooth: float,
                missing: str | Sequence[str]) -> None:
    """Violins from a smoothed histogram (deterministic, no KDE failure on a
    single repeated value); `missing` is written where a dataset has no data."""
    from scipy.ndimage import gaussian_filter1d  # lazy, as matplotlib: only plots need it

    low, high = value_range
    edges = np.linspace(low, high, bins + 1)
    centers = (edges[:-1] + edges[1:]) / 2
    notes = [missing] * len(stats) if isinstance(missing, str) else list(missing)
    for x, (s, data) in enumerate(zip(stats, values)):
        if data is None or len(data) == 0:
            ax.text(x, (low + high) / 2, notes[x], ha="center", va="center", fontsize=9.5,
                    color="0.4", rotation=90)
            continue
        density = gaussian_filter1d(np.histogram(data, edges)[0].astype(float), smooth,
                                    mode="constant")
        density = density / density.max() * HALF_WIDTH
        color = SYNTHETIC_COLOR if s.synthetic else REAL_COLOR
        ax.fill_betweenx(centers, x - density, x + density, color=color, alpha=0.75, lw=0)
        q1, median, q3 = np.percentile(data, [25, 50, 75])
        ax.vlines(x, q1, q3, color="black", lw=2.5)
        ax.plot([x], [median], marker="o", ms=3.5, color="white", mec="black", mew=0.6)
    ax.set_ylim(low, high)


def bar_axes(ax, stats: list[DatasetStats], categories: list[str],
             shares: Sequence[np.ndarray | None], missing: str) -> None:
    """A horizontal bar per category, centred on each dataset's column."""
    for x, (s, share) in enumerate(zip(stats, shares)):
        if share is None or np.sum(share) == 0:
            ax.text(x, (len(categories) - 1) / 2, missing, ha="center", va="center", fontsize=9.5,
                    color="0.4", rotation=90)
            continue
        widths = np.asarray(share) / np.max(share) * 2 * HALF_WIDTH
        color = SYNTHETIC_COLOR if s.synthetic else REAL_COLOR
        ax.barh(range(len(categories)), widths, left=x - widths / 2, height=0.7, color=color,
                alpha=0.75)
        for y, value in enumerate(share):
            if value > 0:
                ax.text(x, y, f"{100 * value:.0f}%", ha="center", va="center", fontsize=8)
    ax.set_yticks(range(len(categories)))
    ax.set_yticklabels(categories)
    ax.set_ylim(-0.6, len(categories) - 0.4)


def plot_tempo(stats: list[DatasetStats], path: Path) -> Path:
    stats = plot_order(stats)
    values = [s.tempi for s in stats]
    every = np.concatenate([v for v in values if v.size]) if any(v.size for v in values) \
        else np.array([60.0, 200.0])
    low, high = np.floor(every.min() / 10) * 10 - 10, np.ceil(every.max() / 10) * 10 + 10
    fig, axes = _figure(len(stats))
    ax = axes[0, 0]
    violin_axes(ax, stats, values, (max(0.0, low), high), 200, 2.0, "no beats")
    ax.set_ylabel("tempo (bpm)")
    return _finish(fig, ax, stats, "Tempo per track", path)


def plot_velocity(stats: list[DatasetStats], path: Path) -> Path:
    stats = plot_order(stats)
    fig, axes = _figure(len(stats))
    ax = axes[0, 0]
    violin_axes(ax, stats, [s.velocities for s in stats], (0, 128), 128, 1.5, "no velocity")
    ax.set_ylabel("MIDI velocity")
    return _finish(fig, ax, stats, "Velocity per note", path)


def _interval_axes(ax, stats, values, missing: str | Sequence[str] = "no beats") -> None:
    violin_axes(ax, stats, values, (0, 1.02), 306, 1.0, missing)
    ax.set_yticks([t for t, _ in INTERVAL_TICKS])
    ax.set_yticklabels([label for _, label in INTERVAL_TICKS], fontsize=8.5)
    ax.set_ylabel("interval (beats)")


def plot_intervals(stats: list[DatasetStats], path: Path) -> Path:
    stats = plot_order(stats)
    fig, axes = _figure(len(stats), height=5.2)
    ax = axes[0, 0]
    _interval_axes(ax, stats, [s.intervals if s.has_beats else None for s in stats])
    return _finish(fig, ax, stats, "Interval between onsets", path)


def plot_meter(stats: list[DatasetStats], path: Path) -> Path:
    stats = plot_order(stats)
    meters = sorted({m for s in stats for m in s.meters},
                    key=lambda m: (int(m.split("/")[1]) if m.split("/")[-1].isdigit() else 0,
                                   int(m.split("/")[0]) if m.split("/")[0].isdigit() else 0))
    shares = []
    for s in stats:
        total = sum(s.meters.values())
        shares.append(np.array([s.meters.get(m, 0) / total for m in meters]) if total else None)
    fig, axes = _figure(len(stats), height=max(3.2, 0.5 * len(meters) + 2.0))
    ax = axes[0, 0]
    bar_axes(ax, stats, meters, shares, "no meter")
    ax.set_ylabel("time signature")
    return _finish(fig, ax, stats, "Time signature (share of tracks)", path, legend=False)


def plot_classes(stats: list[DatasetStats], path: Path) -> Path:
    stats = plot_order(stats)
    shares = [s.class_counts / s.class_counts.sum() if s.class_counts.sum() else None for s in stats]
    fig, axes = _figure(len(stats), height=4.2)
    ax = axes[0, 0]
    bar_axes(ax, stats, list(CLASSES), shares, "no onsets")
    ax.set_ylabel("class")
    return _finish(fig, ax, stats, "Onsets per class (share)", path, legend=False)


def plot_coverage(stats: list[DatasetStats], beats: np.ndarray, unique: np.ndarray,
                  path: Path) -> Path:
    """Two heatmaps: shares of target beats and of unique target fingerprints
    found in each source; axis labels carry the counts."""
    plt = pyplot()
    n = len(stats)
    size = max(3.2, 0.9 * n + 1.2)
    fig, axes = plt.subplots(1, 2, figsize=(2 * size + 3.6, size + 1.4), constrained_layout=True)
    counts = []
    for s in stats:
        if s.has_beats and s.beats_with_drums:
            counts.append(f"{s.name}\n{s.beats_with_drums:,} beats, {s.fingerprints.size:,} unique"
                          f"\n({100 * s.fingerprints.size / s.beats_with_drums:.1f}% unique)")
        else:
            counts.append(f"{s.name}\nno beats")
    titles = ("Share of target beats\nwhose fingerprint occurs in source",
              "Share of unique target fingerprints\nthat occur in source")
    for k, (ax, matrix, title) in enumerate(zip(axes, (beats, unique), titles)):
        image = ax.imshow(np.ma.masked_invalid(matrix), vmin=0, vmax=1, cmap="viridis")
        for i in range(n):
            for j in range(n):
                value = matrix[i, j]
                dark = np.isnan(value) or value < 0.6
                ax.text(j, i, "–" if np.isnan(value) else f"{value:.2f}", ha="center",
                        va="center", fontsize=9.5, color="white" if dark else "black")
        ax.set_xticks(range(n))
        ax.set_xticklabels([s.name for s in stats], rotation=30, ha="right", fontsize=9.5)
        ax.set_yticks(range(n))
        ax.set_yticklabels(counts if k == 0 else [s.name for s in stats], fontsize=8.5)
        ax.set_xlabel("target")
        ax.set_ylabel("source")
        ax.set_title(title, fontsize=10.5)
        ax.set_facecolor("0.75")
    fig.colorbar(image, ax=axes, fraction=0.03, pad=0.02)
    return _save(fig, path)


def plot_per_class(stats: list[DatasetStats], path: Path, variable: str) -> Path:
    """Intervals or velocities, one panel per class."""
    plt = pyplot()
    stats = plot_order(stats)
    width = max(3.2, 0.8 * len(stats) + 1.4)
    fig, axes = plt.subplots(1, len(CLASSES), figsize=(width * len(CLASSES), 4.4), squeeze=False)
    for ax, name in zip(axes[0], CLASSES):
        if variable == "intervals":
            _interval_axes(ax, stats, [s.class_intervals.get(name) for s in stats],
                           ["no beats" if not s.has_beats else "no notes" for s in stats])
        else:
            violin_axes(ax, stats, [s.class_velocities.get(name) for s in stats], (0, 128), 128,
                        1.5, ["no velocity" if not s.has_velocity else "no notes" for s in stats])
            ax.set_ylabel("MIDI velocity")
        ax.set_title(name, fontsize=11.5)
        _columns(ax, stats)
    fig.suptitle("Interval between onsets of the same class" if variable == "intervals"
                 else "Velocity per class", fontsize=11.5)
    fig.tight_layout()
    return _save(fig, path)

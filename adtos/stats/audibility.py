"""Per-class velocity and audibility, synthetic and real side by side (`adtos stats --audibility`).

Four figures per onset, each where the dataset has it:

- velocity: the MIDI velocity (MIDI-made sets only);
- onset strength: the mix's band-wise rise at the onset, in dB
  (adtos.render.audibility.onset_strength), computed from the audio of any
  set, real or synthetic, so that MDB Drums (no MIDI velocity) compares with a
  build;
- level_db and smr_db: the hit alone in its stem and against the rest of the
  mix, measured by the renderer (ADTOS builds only).

Written as audibility_per_class.csv (dataset, class, figure, count and
quantiles), audibility_shares.csv (per class: the share of onsets under the
default label policy's minimum, and the pedal hi-hat's share of HH) and
audibility_per_class.png (a row per figure, a column per class).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from adtos.datasets.track import Dataset
from adtos.plotting import pyplot
from adtos.stats.plots import _columns, _legend, _save, plot_order, violin_axes
from adtos.stats.tables import write_csv
from adtos.transcriber.labels import DEFAULT_POLICY
from adtos.vocab import CLASSES, PEDAL_HIHAT

FIGURES = ("velocity", "onset_strength_db", "level_db", "smr_db")
FIGURE_RANGE = {"velocity": (0.0, 128.0), "onset_strength_db": (0.0, 40.0),
                "level_db": (-80.0, 0.0), "smr_db": (-40.0, 60.0)}
QUANTILES = (10, 25, 50, 75, 90)


@dataclass
class AudibilityStats:
    name: str
    kind: str
    synthetic: bool
    values: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)  # (class, figure)
    pedal_hihat: int = 0      # onsets of note 44 (where the dataset has GM notes)
    hihat: int = 0            # HH onsets
    skipped: list = field(default_factory=list)  # (track, reason): audio that could not be read


def audibility_stats(dataset: Dataset, progress: bool = False, sample_rate: int = 44100
                     ) -> AudibilityStats:
    """Collect the four figures per class over every track of `dataset`."""
    from adtos.render.audibility import onset_strength

    parts: dict[tuple[str, str], list[np.ndarray]] = {}
    stats = AudibilityStats(dataset.name, dataset.kind, dataset.kind == "adtos")
    for track in tqdm(dataset.tracks, desc=f"audibility {dataset.name}", unit="track",
                      disable=not progress, leave=False):
        figures = {"velocity": track.velocities, "level_db": track.level_db,
                   "smr_db": track.smr_db, "onset_strength_db": None}
        if track.audio_path is not None and track.onsets.size:
            try:
                audio = track.load_audio(sr=sample_rate, mono=True)
                figures["onset_strength_db"] = onset_strength(audio, sample_rate, track.onsets)
            except (OSError, RuntimeError, ValueError) as error:
                stats.skipped.append((track.track_id, str(error)))
        for figure, values in figures.items():
            if values is None:
                continue
            for index, name in enumerate(CLASSES):
                parts.setdefault((name, figure), []).append(
                    np.asarray(values, dtype=np.float64)[track.labels == index])
        hihat = track.labels == CLASSES.index("HH")
        stats.hihat += int(hihat.sum())
        if track.notes is not None:
            stats.pedal_hihat += int(np.sum(np.asarray(track.notes)[hihat] == PEDAL_HIHAT))
    stats.values = {key: np.concatenate(v) for key, v in parts.items()}
    return stats


def write_audibility(stats: list[AudibilityStats], out: Path, plots: bool = True) -> list[Path]:
    out = Path(out)
    rows = []
    for s in stats:
        for name in CLASSES:
            for figure in FIGURES:
                values = s.values.get((name, figure))
                if values is None:
                    continue
                q = np.percentile(values, QUANTILES) if values.size else [np.nan] * len(QUANTILES)
                rows.append([s.name, "synthetic" if s.synthetic else "real", name, figure,
                             values.size, np.mean(values) if values.size else np.nan, *q])
    table = out / "audibility_per_class.csv"
    write_csv(table, ["dataset", "kind", "class", "figure", "count", "mean",
                      *[f"p{q}" for q in QUANTILES]], rows)
    share_rows = []
    figure = DEFAULT_POLICY.figure
    for s in stats:
        for name in CLASSES:
            values = s.values.get((name, figure))
            minimum = DEFAULT_POLICY.min_db.get(name)
            under = np.nan if values is None or not values.size or minimum is None \
                else float(np.mean(values < minimum))
            pedal = (s.pedal_hihat / s.hihat if s.hihat else np.nan) if name == "HH" else ""
            share_rows.append([s.name, name, figure, minimum, under, pedal])
    shares = out / "audibility_shares.csv"
    write_csv(shares, ["dataset", "class", "figure", "default_minimum_db",
                       "share_under_minimum", "pedal_hihat_share_of_hh"], share_rows)
    written = [table, shares]
    if plots:
        written.append(plot_audibility(stats, out / "audibility_per_class.png"))
    return written


def plot_audibility(stats: list[AudibilityStats], path: Path) -> Path:
    plt = pyplot()
    stats = plot_order(stats)
    width = max(2.4, 0.7 * len(stats) + 1.0)
    fig, axes = plt.subplots(len(FIGURES), len(CLASSES), squeeze=False,
                             figsize=(width * len(CLASSES), 2.6 * len(FIGURES)))
    for row, figure in enumerate(FIGURES):
        for column, name in enumerate(CLASSES):
            ax = axes[row][column]
            low, high = FIGURE_RANGE[figure]
            # Values beyond the axis sit on its edge rather than vanish from the violin.
            values = [None if s.values.get((name, figure)) is None
                      else np.clip(s.values[(name, figure)], low, high) for s in stats]
            violin_axes(ax, stats, values, FIGURE_RANGE[figure], bins=64, smooth=1.5,
                        missing="n/a")
            _columns(ax, stats)
            if row == 0:
                ax.set_title(name)
            if column == 0:
                ax.set_ylabel(figure)
            if row < len(FIGURES) - 1:
                ax.set_xticklabels([])
    _legend(axes[0][-1], stats)
    fig.tight_layout()
    return _save(fig, path)

"""`adtos stats` as a function: datasets in, tables and plots out."""

from __future__ import annotations

import os
from pathlib import Path

from adtos.datasets.track import Dataset
from adtos.plotting import check_format
from adtos.stats import plots as figures
from adtos.stats.audibility import audibility_stats, write_audibility
from adtos.stats.collect import DatasetStats, dataset_stats
from adtos.stats.tables import coverage_matrices, write_tables


def compare_datasets(datasets: list[Dataset], out: str | os.PathLike, per_class: bool = False,
                     per_genre: bool = False, merge: float = 0.05, max_beats: float = 1.0,
                     bins: int = 12, plots: bool = True, progress: bool = False,
                     plot_format: str = "png", audibility: bool = False,
                     ) -> tuple[list[DatasetStats], list[Path]]:
    """Measure each dataset and write the CSV tables and the plots (`plot_format`:
    png, svg or pdf) under `out`.

    Returns the per-dataset statistics and the files written.
    """
    suffix = "." + check_format(plot_format)
    names = [d.name for d in datasets]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"dataset names must differ, {duplicates[0]!r} is given twice; "
                         "name them with NAME=PATH")
    out = Path(out)
    stats = [dataset_stats(d, merge=merge, max_beats=max_beats, bins=bins, per_class=per_class,
                           progress=progress) for d in datasets]
    written = write_tables(stats, out, per_class=per_class, per_genre=per_genre)
    if plots:
        beats, unique = coverage_matrices(stats)
        written += [figures.plot_tempo(stats, out / f"tempo{suffix}"),
                    figures.plot_velocity(stats, out / f"velocity{suffix}"),
                    figures.plot_intervals(stats, out / f"intervals{suffix}"),
                    figures.plot_meter(stats, out / f"meter{suffix}"),
                    figures.plot_classes(stats, out / f"classes{suffix}"),
                    figures.plot_coverage(stats, beats, unique, out / f"coverage{suffix}")]
        if per_class:
            written += [figures.plot_per_class(stats, out / f"intervals_per_class{suffix}", "intervals"),
                        figures.plot_per_class(stats, out / f"velocity_per_class{suffix}", "velocity")]
    if audibility:  # reads every track's audio: only when asked

        written += write_audibility([audibility_stats(d, progress=progress) for d in datasets],
                                    out, plots=plots)
    return stats, written

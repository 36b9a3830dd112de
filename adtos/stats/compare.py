"""`adtos stats` as a function: datasets in, tables and plots out."""

from __future__ import annotations

import os
from pathlib import Path

from adtos.datasets.track import Dataset
from adtos.stats import plots as figures
from adtos.stats.collect import DatasetStats, dataset_stats
from adtos.stats.tables import coverage_matrices, write_tables


def compare_datasets(datasets: list[Dataset], out: str | os.PathLike, per_class: bool = False,
                     per_genre: bool = False, merge: float = 0.05, max_beats: float = 1.0,
                     bins: int = 12, plots: bool = True, progress: bool = False,
                     audibility: bool = False) -> tuple[list[DatasetStats], list[Path]]:
    """Measure each dataset and write the CSV tables and PNG plots under `out`.

    Returns the per-dataset statistics and the files written.
    """
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
        written += [figures.plot_tempo(stats, out / "tempo.png"),
                    figures.plot_velocity(stats, out / "velocity.png"),
                    figures.plot_intervals(stats, out / "intervals.png"),
                    figures.plot_meter(stats, out / "meter.png"),
                    figures.plot_classes(stats, out / "classes.png"),
                    figures.plot_coverage(stats, beats, unique, out / "coverage.png")]
        if per_class:
            written += [figures.plot_per_class(stats, out / "intervals_per_class.png", "intervals"),
                        figures.plot_per_class(stats, out / "velocity_per_class.png", "velocity")]
    if audibility:  # reads every track's audio: only when asked
        from adtos.stats.audibility import audibility_stats, write_audibility

        written += write_audibility([audibility_stats(d, progress=progress) for d in datasets],
                                    out, plots=plots)
    return stats, written

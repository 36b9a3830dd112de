"""`adtos fit` as a function: a result table in, `fit.csv` and one plot per y out."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from adtos.scaling.plots import plot_scaling
from adtos.scaling.table import (FIT_COLUMNS, DroppedRow, GroupFit, collect_points, fit_groups,
                                 fit_rows, read_table, write_csv)
from adtos.vocab import CLASSES


@dataclass
class CurvesReport:
    fit_csv: Path
    plots: list[Path] = field(default_factory=list)
    fits: dict[str, list[GroupFit]] = field(default_factory=dict)  # y -> fits
    dropped: dict[str, list[DroppedRow]] = field(default_factory=dict)  # y -> rows left out


def per_class_columns(columns: list[str], ys: list[str]) -> list[str]:
    """`test_loss` -> `test_loss_BD`, ..., `test_loss_CY` (those the table has).

    A y without per-class columns (the validation loss) adds none; ValueError
    when no y has any, so that a sweep's own fit fails with a message.
    """
    expanded = [f"{y}_{name}" for y in ys for name in CLASSES if f"{y}_{name}" in columns]
    if not expanded:
        raise ValueError(f"no per-class columns ({ys[0]}_BD ... {ys[0]}_CY) in the table for "
                         f"{', '.join(ys)}")
    return expanded


def fit_curves(table: str | os.PathLike, out_dir: str | os.PathLike, *, x: str = "n",
               ys: list[str] | tuple[str, ...] = ("test_loss",), group_by: list[str] | None = None,
               best_by: str | None = None, reference: list[str] | tuple[str, ...] = (),
               per_class: bool = False, bootstrap: int = 1000, seed: int = 0,
               confidence: float = 0.95, plot_format: str = "png") -> CurvesReport:
    """Fit L(x) = α·x^-β + γ per group for each y column; write `fit.csv` and `<y>.<format>`
    (`plot_format`: png, svg or pdf).

    `group_by=None` groups by whichever of `dataset` and `variant` the table has,
    and by `settings` when the table holds runs of several settings.
    Raises ValueError, writing nothing, when no row of the table has a positive
    number in `x` and in any of the `ys` (an empty or all-NaN table): an
    earlier fit.csv in `out_dir` is kept.
    """
    columns, rows = read_table(table)
    if group_by is None:
        group_by = [name for name in ("dataset", "variant") if name in columns]
        # A sweep's table with runs of several settings: never one curve over them.
        if len({row.get("settings", "") for row in rows}) > 1:
            group_by.append("settings")
    ys = list(ys)
    if per_class:
        ys = ys + per_class_columns(columns, ys)
    out_dir = Path(out_dir)
    report = CurvesReport(fit_csv=out_dir / "fit.csv")
    points = {}
    for y in ys:
        points[y] = collect_points(rows, columns, x=x, y=y, group_by=group_by,
                                   best_by=best_by, reference=reference)
    if not any(groups for groups, _ in points.values()):
        what = "has no rows" if not rows else (f"has no row with a positive number in {x!r} and "
                                               f"in {', '.join(map(repr, ys))}")
        raise ValueError(f"{Path(table)} {what}: nothing to fit")
    all_rows = []
    for y, (groups, dropped) in points.items():
        fits = fit_groups(groups, bootstrap=bootstrap, seed=seed, confidence=confidence)
        report.fits[y], report.dropped[y] = fits, dropped
        all_rows.extend(fit_rows(fits, y=y, x=x, group_by=group_by))
        report.plots.append(plot_scaling(fits, out_dir / f"{_file_stem(y)}.{plot_format}",
                                         x=x, y=y))
    write_csv(all_rows, [*group_by, *FIT_COLUMNS], report.fit_csv)
    return report


def _file_stem(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)

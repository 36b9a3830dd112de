"""Result tables (CSV) → groups of (n, L) points → fits → `fit.csv`.

Any CSV works, not only the sweep's `results.csv`: the x, y and grouping
columns are named by the caller. Rows whose x or y is missing, not a number or
not positive cannot be placed on a log-log curve; they are returned as
`DroppedRow`s so that the caller reports them, and left out.
"""

from __future__ import annotations

import csv
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from adtos.fileio import write_csv_atomic
from adtos.scaling.fit import MIN_POINTS, PARAMETERS, PowerLawFit, fit_power_law

TRUE_WORDS = {"1", "true", "yes", "y", "t"}


@dataclass
class DroppedRow:
    line: int  # line in the CSV file (the header is line 1)
    group: str
    reason: str


@dataclass
class GroupPoints:
    """The points of one group for one y column."""

    key: tuple[str, ...]  # values of the grouping columns
    label: str  # "gmd/4voices", shown in legends and messages
    x: np.ndarray
    y: np.ndarray
    reference: bool = False  # a real-data reference, drawn apart from synthetic groups


@dataclass
class GroupFit:
    points: GroupPoints
    fit: PowerLawFit | None
    error: str = ""  # why there is no fit (too few points, ...)
    extra: dict = field(default_factory=dict)


def read_table(path: str | os.PathLike) -> tuple[list[str], list[dict[str, str]]]:
    """Columns and rows of a CSV file (values as strings)."""
    path = Path(path)
    with open(path, newline="") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None:
            raise ValueError(f"{path}: empty file, expected a CSV header")
        return list(reader.fieldnames), list(reader)


def _number(text: str | None) -> float:
    try:
        return float(text) if text not in (None, "") else math.nan
    except ValueError:
        return math.nan


def collect_points(rows: list[dict[str, str]], columns: list[str], *, x: str, y: str,
                   group_by: list[str], best_by: str | None = None,
                   reference: list[str] | tuple[str, ...] = (),
                   reference_column: str = "reference",
                   ) -> tuple[list[GroupPoints], list[DroppedRow]]:
    """Group the rows, keep those with positive numeric x and y, return points per group.

    `best_by`: among rows of one group with the same x, keep only the one with
    the lowest value in that column (the sweep's best width per n on
    validation loss). `reference`: group labels that are real-data references;
    a group is also a reference when its rows say so in `reference_column`.
    """
    for name, role in [(x, "--x"), (y, "--y"), *((g, "--group") for g in group_by),
                       *(((best_by, "--best-by"),) if best_by else ())]:
        if name not in columns:
            raise KeyError(f"column {name!r} (from {role}) not in the table; "
                           f"columns are: {', '.join(columns)}")

    groups: dict[tuple[str, ...], list[tuple[float, float, float, bool]]] = {}
    dropped = []
    for line, row in enumerate(rows, start=2):
        key = tuple(row.get(g) or "" for g in group_by)
        label = _label(key, y)
        x_value, y_value = _number(row.get(x)), _number(row.get(y))
        reason = _why_not_positive(x, row.get(x), x_value) or _why_not_positive(y, row.get(y), y_value)
        if reason:
            dropped.append(DroppedRow(line, label, reason))
            continue
        rank = _number(row.get(best_by)) if best_by else 0.0
        is_reference = str(row.get(reference_column, "")).strip().lower() in TRUE_WORDS
        groups.setdefault(key, []).append((x_value, y_value, rank, is_reference))

    result = []
    for key, items in groups.items():
        if best_by:
            items = _best_per_x(items)
        items.sort(key=lambda item: item[0])
        label = _label(key, y)
        result.append(GroupPoints(
            key=key, label=label,
            x=np.array([item[0] for item in items]), y=np.array([item[1] for item in items]),
            reference=label in reference or any(item[3] for item in items)))
    return result, dropped


def _label(key: tuple[str, ...], y: str) -> str:
    return "/".join(value for value in key if value) or y


def _why_not_positive(column: str, text: str | None, value: float) -> str:
    if text is None or text.strip() == "":
        return f"{column} missing"
    if math.isnan(value):
        return f"{column} = {text!r} is not a number"
    if not math.isfinite(value) or value <= 0:
        return f"{column} = {text} is not positive"
    return ""


def _best_per_x(items: list[tuple[float, float, float, bool]]) -> list[tuple[float, float, float, bool]]:
    best: dict[float, tuple[float, float, float, bool]] = {}
    for item in items:
        rank = item[2] if math.isfinite(item[2]) else math.inf
        kept = best.get(item[0])
        if kept is None or rank < (kept[2] if math.isfinite(kept[2]) else math.inf):
            best[item[0]] = item
    return list(best.values())


def fit_groups(groups: list[GroupPoints], *, bootstrap: int = 1000, seed: int = 0,
               confidence: float = 0.95) -> list[GroupFit]:
    """Fit every group; a group that cannot be fit keeps its points and says why."""
    fits = []
    for points in groups:
        distinct = np.unique(points.x).size
        if distinct < MIN_POINTS:
            fits.append(GroupFit(points, None, f"too few points: {distinct} distinct "
                                               f"n, need at least {MIN_POINTS}"))
            continue
        try:
            fit = fit_power_law(points.x, points.y, bootstrap=bootstrap, seed=seed,
                                confidence=confidence)
        except (ValueError, RuntimeError) as error:
            fits.append(GroupFit(points, None, str(error)))
            continue
        fits.append(GroupFit(points, fit))
    return fits


NOT_FALLING = "loss does not fall with n (beta at its lower bound): no scaling law, no gap"
FIT_COLUMNS = ("y", "x", "group", "reference", "n_points",
               *(f"{p}{suffix}" for p in PARAMETERS for suffix in ("", "_low", "_high")),
               "residual", "bootstrap_used", "status")


def fit_rows(fits: list[GroupFit], *, y: str, x: str, group_by: list[str]) -> list[dict[str, str]]:
    """One `fit.csv` row per group: α, β, γ with their intervals, residual, status."""
    rows = []
    for item in fits:
        row = {name: value for name, value in zip(group_by, item.points.key)}
        row.update(y=y, x=x, group=item.points.label, reference=str(item.points.reference).lower(),
                   n_points=str(item.points.x.size))
        fit = item.fit
        for name in PARAMETERS:
            value = getattr(fit, name) if fit else math.nan
            low, high = fit.ci.get(name, (math.nan, math.nan)) if fit else (math.nan, math.nan)
            row[name], row[f"{name}_low"], row[f"{name}_high"] = map(_format, (value, low, high))
        row["residual"] = _format(fit.residual if fit else math.nan)
        row["bootstrap_used"] = str(fit.bootstrap_used if fit else 0)
        row["status"] = fit_status(item)
        rows.append(row)
    return rows


def fit_status(item: GroupFit) -> str:
    """`ok`, or what makes the fit of a group no result (fit.csv's status column)."""
    if item.fit is None:
        return item.error
    if not item.fit.falls:
        return NOT_FALLING
    return "; ".join(item.fit.warnings.values()) or "ok"


def _format(value: float) -> str:
    return "" if not math.isfinite(value) else format(value, ".8g")


def write_csv(rows: list[dict[str, str]], columns: list[str], path: str | os.PathLike) -> None:
    """Write rows atomically, columns in the given order."""
    write_csv_atomic(path, columns, rows)

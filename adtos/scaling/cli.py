"""`adtos sweep` and `adtos fit`: thin wrappers over adtos.scaling."""

from __future__ import annotations

import argparse
import sys

FIT_HELP = """\
Fit L(n) = alpha * n^-beta + gamma to a result table, one curve per group, by
least squares on log L with alpha > 0, 0 < beta <= 5, 0 <= gamma <= min(L);
bootstrap percentile intervals over the (n, L) points. Writes OUT/fit.csv (one
row per group and y) and OUT/<y>.png (log-log, gamma dashed). Works on any CSV:
name its columns with --x, --y and --group. Rows with a missing or
non-positive x or y are reported and left out."""


def register(subparsers: argparse._SubParsersAction) -> None:
    fit = subparsers.add_parser("fit", help="fit scaling curves L(n) = α·n^-β + γ to a result table",
                                description=FIT_HELP,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    fit.add_argument("table", help="result table (CSV), e.g. the sweep's results.csv or best.csv")
    fit.add_argument("--out", required=True, help="output folder for fit.csv and the plots")
    fit.add_argument("--x", default="n", help="column of training-set sizes (default: n)")
    fit.add_argument("--y", default="test_loss",
                     help="comma-separated loss columns, one plot each (default: test_loss)")
    fit.add_argument("--group", default=None,
                     help="comma-separated columns whose values make a group, one curve each "
                          "(default: dataset,variant where present; '' for one group)")
    fit.add_argument("--best-by", default=None, metavar="COLUMN",
                     help="among rows of a group with the same x keep the one with the lowest "
                          "COLUMN, e.g. val_loss to keep the best width per n")
    fit.add_argument("--reference", default="",
                     help="comma-separated group labels (values joined by '/', e.g. "
                          "'mdb-real/human') drawn as real-data references; rows with a true "
                          "'reference' column are references too")
    fit.add_argument("--per-class", action="store_true",
                     help="also fit each y's per-class columns <y>_BD ... <y>_CY")
    fit.add_argument("--bootstrap", type=int, default=1000,
                     help="bootstrap resamples for the intervals, 0 for none (default: 1000)")
    fit.add_argument("--confidence", type=float, default=0.95,
                     help="coverage of the intervals (default: 0.95)")
    fit.add_argument("--seed", type=int, default=0, help="seed of the bootstrap (default: 0)")
    fit.set_defaults(func=run_fit)


def _split_list(text: str | None) -> list[str]:
    return [item.strip() for item in (text or "").split(",") if item.strip()]


def run_fit(args: argparse.Namespace) -> int:
    from pathlib import Path

    from adtos.cli import CLIError
    from adtos.scaling.curves import fit_curves

    table = Path(args.table)
    if not table.is_file():
        raise CLIError(f"{table}: no such result table")
    ys = _split_list(args.y)
    if not ys:
        raise CLIError("--y: expected at least one column name")
    group_by = None if args.group is None else _split_list(args.group)
    try:
        report = fit_curves(table, args.out, x=args.x, ys=ys, group_by=group_by,
                            best_by=args.best_by, reference=_split_list(args.reference),
                            per_class=args.per_class, bootstrap=args.bootstrap, seed=args.seed,
                            confidence=args.confidence)
    except KeyError as error:
        raise CLIError(f"{table}: {error.args[0]}") from None
    except ValueError as error:
        raise CLIError(f"{table}: {error}") from None
    print_report(report)
    return 0


def print_report(report) -> None:
    """Dropped rows and fitted parameters, as a reader wants them on the terminal."""
    for y, dropped in report.dropped.items():
        if dropped:
            print(f"{y}: left out {len(dropped)} row(s):", file=sys.stderr)
            for row in dropped[:20]:
                print(f"  line {row.line} ({row.group}): {row.reason}", file=sys.stderr)
            if len(dropped) > 20:
                print(f"  ... and {len(dropped) - 20} more", file=sys.stderr)
    for y, fits in report.fits.items():
        for item in fits:
            name = f"{y} [{item.points.label}]"
            if item.fit is None:
                print(f"{name}: not fit: {item.error}")
                continue
            fit = item.fit
            parts = []
            for parameter in ("alpha", "beta", "gamma"):
                low, high = fit.ci[parameter]
                parts.append(f"{parameter}={getattr(fit, parameter):.4g} [{low:.3g}, {high:.3g}]")
            print(f"{name}: {', '.join(parts)}, residual={fit.residual:.3g}, "
                  f"{fit.n_points} points")
    print(f"wrote {report.fit_csv}")
    for path in report.plots:
        print(f"wrote {path}")

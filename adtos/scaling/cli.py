"""`adtos sweep` and `adtos fit`: thin wrappers over adtos.scaling.

The stage's own modules are imported inside the handlers, so that building the
parser stays instant: `adtos CMD` imports only its command's cli module, and
`adtos --help` every one of them (tests/test_cli.py).
"""

from __future__ import annotations

import argparse
import ast
import difflib
import math
import sys
from pathlib import Path

from adtos.cli import CLIError
from adtos.errors import ConfigError
from adtos.fileio import read_toml
from adtos.plotting import PLOT_FORMATS

FIT_HELP = """\
Fit L(n) = alpha * n^-beta + gamma to a result table, one curve per group, by
least squares on log L with alpha > 0, 0 < beta <= 5, 0 <= gamma <= min(L);
bootstrap percentile intervals over the (n, L) points. Writes OUT/fit.csv (one
row per group and y) and OUT/<y>.png (log-log, gamma dashed; --format svg or pdf
for vector files). What the points cannot support is flagged, never reported as
a result: a loss that does not fall, intervals from fewer than 5 distinct n or
that collapse or exclude their estimate (left empty), intervals from 5-7
distinct n (given, but too narrow: they undercover), a gamma extrapolated far
below the points; fit.csv's status column says which, "ok" otherwise. Works
on any CSV: name its columns with --x, --y and --group. Rows with a missing or
non-positive x or y are reported and left out; a table with no usable row is
refused and OUT is left as it was."""


SWEEP_HELP = """\
For each dataset (and variant) of CONFIG, each n and each width, train a CRNN
on the first n tracks of the training pool (the train split in manifest order,
or a subset list) with early stopping, and append a row to OUT/results.csv:
dataset, variant, n, width, parameters, steps, validation loss, test loss and
F-measure per test set and per class, wall time, and the training settings
with their hash (settings column). Then
OUT/best.csv keeps the best width per n on validation loss, and OUT/fit/ holds
its fitted curves. Rerunning resumes: finished (dataset, variant, n, width,
settings) runs are not redone. A rerun with other training settings (e.g.
--max-steps 8 after 32) trains afresh under a new settings hash and is never
fitted as one curve with the earlier runs.

Without CONFIG, --train names one dataset; options given on the command line
override CONFIG's. See configs/sweep_demo.toml for the format."""


def register(subparsers: argparse._SubParsersAction) -> None:
    sweep = subparsers.add_parser("sweep", help="train over n tracks x widths; results.csv, "
                                  "best width per n, fitted scaling curve",
                                  description=SWEEP_HELP,
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
    sweep.add_argument("config", nargs="?", help="sweep config (TOML)")
    sweep.add_argument("--out", required=True, help="output folder (results.csv, best.csv, "
                       "runs/, fit/); reuse it to resume")
    sweep.add_argument("--train", metavar="DATASET",
                       help="train on this dataset instead of CONFIG's [[datasets]] ([KIND:]PATH)")
    sweep.add_argument("--subset", metavar="LIST.txt",
                       help="with --train: draw the first n tracks from these ids instead")
    sweep.add_argument("--name", help="with --train: dataset name in results.csv "
                       "(default: the folder name)")
    sweep.add_argument("--variant", default="default",
                       help="with --train: variant name in results.csv (default: default)")
    sweep.add_argument("--val", metavar="DATASET", help="validation set (its 'val' split) for "
                       "every dataset (default: each dataset's own)")
    sweep.add_argument("--test", dest="tests", action="append", default=[],
                       metavar="NAME=KIND:PATH", help="a test set, e.g. mdb=mdb:../shared/data/"
                       "mdb_drums; repeat for more; replaces CONFIG's [tests]")
    sweep.add_argument("--sizes", help="comma-separated n, e.g. 1,2,4,8 (default: CONFIG's, "
                       "else 1, 2, 4, ... up to the training tracks)")
    sweep.add_argument("--n-max", type=int, help="largest n of the default sizes")
    sweep.add_argument("--widths", help="comma-separated CRNN width multipliers, e.g. 0.5,1 "
                       "(default: CONFIG's, else 1)")
    sweep.add_argument("--max-steps", type=int, help="training steps per run at most")
    sweep.add_argument("--patience", type=int, help="validations without improvement "
                       "before a run stops")
    sweep.add_argument("--val-every", type=int, help="steps between validations")
    sweep.add_argument("--batch-size", type=int, help="snippets per step")
    sweep.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                       help="any other training option for every run, e.g. workers=2; repeat")
    sweep.add_argument("--seed", type=int, help="seed of every run (default: CONFIG's, else 0)")
    sweep.add_argument("--device", choices=["auto", "cpu", "cuda"],
                       help="auto picks CUDA with mixed precision when present")
    sweep.add_argument("--bootstrap", type=int, help="bootstrap resamples of the final fit")
    sweep.add_argument("--no-fit", action="store_true", help="stop after results.csv and best.csv")
    sweep.add_argument("--no-progress", action="store_true", help="no progress bars")
    sweep.set_defaults(func=run_sweep_command)

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
                          "(default: dataset,variant where present, and settings when a sweep's "
                          "table holds runs of several settings; '' for one group)")
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
    fit.add_argument("--format", dest="plot_format", choices=PLOT_FORMATS, default="png",
                     help="file format of the plots: png (150 dpi), or svg / pdf for papers "
                     "(default png)")
    fit.set_defaults(func=run_fit)


def _split_list(text: str | None) -> list[str]:
    return [item.strip() for item in (text or "").split(",") if item.strip()]


def run_fit(args: argparse.Namespace) -> int:
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
                            confidence=args.confidence, plot_format=args.plot_format)
    except KeyError as error:
        raise CLIError(f"{table}: {error.args[0]}") from None
    except ValueError as error:
        raise CLIError(f"{table}: {error}") from None
    print_report(report)
    return 0


def _sweep_config(args: argparse.Namespace):
    """CONFIG (when given) with the command line's options laid over it, checked as one."""
    from adtos.scaling.config import SweepConfigError, parse_sweep_config, resolve_spec

    if not args.config and not args.train:
        raise CLIError("give a sweep CONFIG or --train DATASET")
    data: dict = {}
    base = Path.cwd()
    if args.config:
        path = Path(args.config)
        try:
            data = read_toml(path, missing="no such sweep config")
        except ConfigError as error:
            raise CLIError(str(error)) from None
        base = path.parent.resolve()

    # Paths typed on the command line are relative to the current folder, those
    # in the file to the file's folder: make the typed ones absolute.
    def here(spec: str) -> str:
        return resolve_spec(spec, Path.cwd().resolve())

    sweep = data.setdefault("sweep", {})
    train = data.setdefault("train", {})
    if args.train:
        entry = {"path": here(args.train), "variant": args.variant}
        if args.name:
            entry["name"] = args.name
        if args.subset:
            entry["subset"] = str(Path(args.subset).resolve())
        data["datasets"] = [entry]
    if args.val:
        sweep["val"] = here(args.val)
        for entry in data.get("datasets", []):
            entry.pop("val", None)
    if args.tests:
        data["tests"] = {}
        for text in args.tests:
            name, sep, spec = text.partition("=")
            if not sep or not name or not spec:
                raise CLIError(f"--test {text!r}: expected NAME=KIND:PATH")
            data["tests"][name] = here(spec)
    for key, value in (("n", _number_list(args.sizes, "--sizes", int)), ("n_max", args.n_max),
                       ("widths", _number_list(args.widths, "--widths")), ("seed", args.seed),
                       ("device", args.device), ("bootstrap", args.bootstrap)):
        if value is not None:
            sweep[key] = value
    for key, value in (("max_steps", args.max_steps), ("patience", args.patience),
                       ("val_every", args.val_every), ("batch_size", args.batch_size)):
        if value is not None:
            train[key] = value
    for text in args.option:
        key, sep, value = text.partition("=")
        if not sep:
            raise CLIError(f"--option {text!r}: expected KEY=VALUE")
        _check_option_name(key.strip(), text)
        try:
            train[key.strip()] = ast.literal_eval(value.strip())
        except (ValueError, SyntaxError):
            train[key.strip()] = value.strip()  # a bare word is a string
    try:
        return parse_sweep_config(data, base, args.config or "command line")
    except SweepConfigError as error:
        raise CLIError(str(error)) from None


def _check_option_name(key: str, text: str) -> None:
    """A --option KEY that is no training option is the command line's fault, not CONFIG's."""
    from adtos.scaling.config import TRAIN_OPTIONS_FIXED
    from adtos.transcriber.config import TrainConfig

    if key in TRAIN_OPTIONS_FIXED:
        flag = f"--{key.replace('_', '-')}"
        raise CLIError(f"--option {text!r}: {key} is set by the sweep itself"
                       + (f"; use {flag}" if key in ("seed", "device") else ""))
    names = sorted(set(TrainConfig.__dataclass_fields__) - TRAIN_OPTIONS_FIXED)
    if key not in names:
        close = difflib.get_close_matches(key, names, n=1)
        hint = f"did you mean {close[0]}? " if close else ""
        raise CLIError(f"--option {text!r}: {key!r} is not a training option; {hint}"
                       f"options are: {', '.join(names)}")


def _number_list(text: str | None, option: str, kind: type = float) -> list | None:
    """--sizes / --widths: comma-separated numbers of `kind` (int or float), None when not given."""
    if text is None:
        return None
    try:
        return [kind(v) for v in _split_list(text)]
    except ValueError:
        expected = "integers, e.g. 1,2,4" if kind is int else "numbers, e.g. 0.5,1"
        raise CLIError(f"{option} {text!r}: expected comma-separated {expected}") from None


def run_sweep_command(args: argparse.Namespace) -> int:
    from adtos.scaling.sweep import run_sweep

    config = _sweep_config(args)
    try:
        report = run_sweep(config, args.out, progress=not args.no_progress, fit=not args.no_fit)
    except (FileNotFoundError, ValueError) as error:
        raise CLIError(str(error)) from None
    print_sweep_summary(report)
    if report.curves is not None:
        print_report(report.curves)
    return 1 if report.failed else 0


# The summary and the fitted parameters are the commands' result and go to stdout
# (a script can keep them with `> summary.txt`, and the tables they come from are
# in OUT/); what happened on the way (each run starting, resuming, failing) is
# logged by adtos.scaling.sweep and shown on stderr as `[adtos sweep] …`.
def print_sweep_summary(report) -> None:
    from adtos.scaling.table import read_table

    print(f"sweep: {len(report.trained)} run(s) trained, {len(report.skipped_done)} already done, "
          f"{len(report.failed)} failed" + (" (see errors.csv)" if report.failed else ""))
    if report.busy:
        print(f"sweep: {len(report.busy)} run(s) left to the other sweep processes on this folder; "
              "best.csv and the fit cover the finished runs: rerun when they are done")
    columns, rows = read_table(report.best_csv)
    shown = [c for c in ("dataset", "variant", "settings", "n", "width", "params", "steps",
                         "val_loss",
                         "test_loss", "f_measure") if c in columns]
    widths = {c: max(len(c), *(len(r.get(c, "")) for r in rows)) if rows else len(c) for c in shown}
    print("best width per n (on validation loss):")
    print("  " + "  ".join(c.rjust(widths[c]) for c in shown))
    for row in rows:
        print("  " + "  ".join(row.get(c, "").rjust(widths[c]) for c in shown))
    print(f"wrote {report.results_csv}")
    print(f"wrote {report.best_csv}")


def print_report(report) -> None:
    """Dropped rows and fitted parameters, as a reader wants them on the terminal."""
    from adtos.scaling.table import NOT_FALLING

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
                interval = f" [{low:.3g}, {high:.3g}]" if math.isfinite(low) else ""
                parts.append(f"{parameter}={getattr(fit, parameter):.4g}{interval}")
            print(f"{name}: {', '.join(parts)}, residual={fit.residual:.3g}, "
                  f"{fit.n_points} points")
            if not fit.falls:
                print(f"  warning: {NOT_FALLING}")
            else:
                for message in fit.warnings.values():
                    print(f"  warning: {message}")
    print(f"wrote {report.fit_csv}")
    for path in report.plots:
        print(f"wrote {path}")

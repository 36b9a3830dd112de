"""The scaling sweep: one model per (dataset, variant, n, width), one results table.

For each dataset of the config, each n and each width, train a CRNN on the
first n tracks of the training pool (the train split in manifest order, or a
subset list in its order) with adtos.transcriber.train, and append a row to
OUT/results.csv. Then keep the best width per n on validation loss
(OUT/best.csv) and fit L(n) = α·n^-β + γ to it (OUT/fit/).

Resuming: a (dataset, variant, n, width, settings) already in results.csv is
not redone; a run folder whose training finished but whose row is missing is
read back from its results.json; one stopped midway continues from its last
checkpoint.

Settings: every run records a hash of the settings that define the model it
trains (the training options, seed and validation set; see `run_settings`)
in results.csv's `settings` column, beside the options themselves. A rerun
into the same OUT with other settings (say `--max-steps 8` after 32) trains
afresh under the new hash, in its own run folders, and never counts the
earlier runs as done: best.csv and the fit keep one curve per settings, so
runs trained differently are never fitted as one curve.

Several processes can share one OUT, e.g. one per GPU
(`CUDA_VISIBLE_DEVICES=k adtos sweep CONFIG --out OUT` on each): a run is
trained by the process that takes its lock (OUT/.locks/), the others skip it
and go on, and results.csv is rewritten under its own lock, so no row is lost.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import os
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from adtos.datasets.registry import READERS
from adtos.scaling.config import SweepConfig, SweepDataset, default_sizes
from adtos.scaling.curves import fit_curves
from adtos.scaling.table import read_table, write_csv
from adtos.transcriber import TrainConfig, train
from adtos.transcriber.sources import load_tracks
from adtos.vocab import CLASSES

logger = logging.getLogger(__name__)
KEY_COLUMNS = ("dataset", "variant", "n", "width", "settings")
ERROR_COLUMNS = (*KEY_COLUMNS, "reason")
# TrainConfig fields that do not change the model a run trains: where things
# are written and cached, how many processes help, what it is tested on. The
# training data enters through the key (dataset, variant, n) and the width
# through its own column; every other field, including any added later, is a
# setting. Where a dataset lies is no setting either (the validation set
# enters by its folder name), so a sweep folder moved to another machine resumes.
NOT_SETTINGS = frozenset({"train", "val", "out", "tests", "width", "device", "train_tracks",
                          "workers", "feature_workers", "feature_cache", "progress"})
# The settings shown as results.csv columns (all of them are in the hash).
SETTINGS_COLUMNS = ("max_steps", "batch_size", "snippet_seconds", "learning_rate",
                    "warmup_steps", "decay_steps", "decay_factor", "val_every", "patience",
                    "target_widen")


# Training options added after sweeps existed (the CPU recipe's): at their paper
# values they are left out of the settings, so that a sweep started before them
# keeps its run names and resumes.
LATER_OPTIONS = ("gru_layers", "flux", "input_norm", "prior", "pos_weight", "recipe")


def run_settings(config: SweepConfig, dataset: SweepDataset) -> dict:
    """The settings that define every run of `dataset` in this sweep, as plain values."""
    paper = asdict(TrainConfig("", "", ""))
    resolved = asdict(TrainConfig.from_recipe(train=dataset.path, val=dataset.val or dataset.path,
                                              out="", seed=config.seed, **config.train_options))
    settings = {name: value for name, value in resolved.items() if name not in NOT_SETTINGS
                and not (name in LATER_OPTIONS and value == paper[name])}
    settings["val"] = _dataset_folder_name(dataset.val or dataset.path)
    return settings


def settings_hash(settings: dict) -> str:
    """A short, stable name for a set of settings (10 hex digits of SHA-256)."""
    text = json.dumps(settings, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:10]


def _dataset_folder_name(spec: str) -> str:
    kind, sep, path = spec.partition(":")
    if not (sep and kind in READERS):
        kind, path = "", spec
    return f"{kind}:{Path(path).name}" if kind else Path(path).name


@dataclass
class PlannedRun:
    dataset: SweepDataset
    n: int
    width: float
    train_tracks: list[str]
    settings: dict = field(default_factory=dict)  # run_settings(); its hash is in the key

    @property
    def settings_id(self) -> str:
        return settings_hash(self.settings)

    @property
    def key(self) -> tuple[str, str, str, str, str]:
        return (self.dataset.name, self.dataset.variant, str(self.n), _width_text(self.width),
                self.settings_id)

    def run_dir(self, out_dir: Path) -> Path:
        return (out_dir / "runs" / self.dataset.label / self.settings_id
                / f"n{self.n:04d}-w{_width_text(self.width)}")


@dataclass
class SweepReport:
    results_csv: Path
    best_csv: Path
    trained: list[tuple[str, ...]] = field(default_factory=list)  # keys run in this call
    skipped_done: list[tuple[str, ...]] = field(default_factory=list)  # already in results.csv
    failed: list[tuple[tuple[str, ...], str]] = field(default_factory=list)
    busy: list[tuple[str, ...]] = field(default_factory=list)  # being trained by another process
    too_large: list[str] = field(default_factory=list)  # n beyond a dataset's training pool
    other_settings: list[str] = field(default_factory=list)  # hashes of earlier runs' settings
    curves: object = None  # adtos.scaling.curves.CurvesReport when fitted


def _width_text(width: float) -> str:
    return format(float(width), "g")


def result_columns(tests: list[str]) -> list[str]:
    """results.csv columns: the run, then means over test sets, then each test set.

    The pattern is <metric>[_<test set>][_<class>]; without a test set it is the
    mean over the test sets, so `test_loss` is the default y of `adtos fit`.
    """
    columns = [*KEY_COLUMNS, "reference", "seed", *SETTINGS_COLUMNS, "params", "steps",
               "stopped_by", "val_loss", "val_f_measure"]
    for suffix in ["", *(f"_{name}" for name in tests)]:
        columns += [f"test_loss{suffix}", *(f"test_loss{suffix}_{c}" for c in CLASSES),
                    f"f_measure{suffix}", *(f"f_measure{suffix}_{c}" for c in CLASSES)]
    return columns + ["train_tracks", "wall_time_s", "run_dir"]


def result_row(run: PlannedRun, result, config: SweepConfig, out_dir: Path) -> dict[str, str]:
    """One results.csv row from a TrainResult (or its dict from results.json)."""
    get = (lambda name: result[name]) if isinstance(result, dict) else (lambda name: getattr(result, name))
    row = dict(zip(KEY_COLUMNS, run.key))
    row.update({name: _setting_text(run.settings.get(name)) for name in SETTINGS_COLUMNS})
    row.update(reference=str(run.dataset.reference).lower(), seed=str(config.seed),
               params=str(get("params")), steps=str(get("steps")),
               stopped_by=str(get("stopped_by") or ""), val_loss=_num(get("val_loss")),
               val_f_measure=_num((get("val_f") or {}).get("all", math.nan)),
               train_tracks=str(len(run.train_tracks)), wall_time_s=f"{get('wall_time_s'):.1f}",
               run_dir=os.path.relpath(get("run_dir"), out_dir))
    test_loss, per_class, test_f = get("test_loss"), get("test_loss_per_class"), get("test_f")
    for name in config.tests:
        row[f"test_loss_{name}"] = _num(test_loss[name])
        row[f"f_measure_{name}"] = _num(test_f[name]["all"])
        for c in CLASSES:
            row[f"test_loss_{name}_{c}"] = _num(per_class[name][c])
            row[f"f_measure_{name}_{c}"] = _num(test_f[name][c])
    if config.tests:  # the mean over test sets, each set weighted equally
        def mean(values):
            return _num(sum(values) / len(values))
        row["test_loss"] = mean([test_loss[n] for n in config.tests])
        row["f_measure"] = mean([test_f[n]["all"] for n in config.tests])
        for c in CLASSES:
            row[f"test_loss_{c}"] = mean([per_class[n][c] for n in config.tests])
            row[f"f_measure_{c}"] = mean([test_f[n][c] for n in config.tests])
    return row


def _setting_text(value) -> str:
    return "" if value is None else format(value, "g") if isinstance(value, float) else str(value)


def _num(value: float) -> str:
    value = float(value)
    return "" if not math.isfinite(value) else format(value, ".6g")


def training_pool(dataset: SweepDataset) -> list[str]:
    """Track ids to draw the first n from: the train split in dataset order, or the subset list."""
    spec = f"{dataset.path}:{dataset.subset}" if dataset.subset else dataset.path
    _, _, tracks = load_tracks(spec, "train")
    return [track.track_id for track in tracks]


def plan_runs(config: SweepConfig, pools: dict[str, list[str]]) -> tuple[list[PlannedRun], list[str]]:
    """Every (dataset, n, width) to run, in order; and messages for n beyond a pool."""
    runs, too_large = [], []
    for dataset in config.datasets:
        pool = pools[dataset.label]
        settings = run_settings(config, dataset)
        sizes = config.sizes or default_sizes(len(pool), config.n_max)
        for n in sizes:
            if config.n_max and n > config.n_max:
                continue
            if n > len(pool):
                too_large.append(f"{dataset.label}: n={n} but only {len(pool)} training tracks")
                continue
            for width in config.widths:
                runs.append(PlannedRun(dataset, n, width, pool[:n], settings))
    return runs, too_large


def read_results(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    return read_table(path) if path.is_file() else ([], [])


def append_row(path: Path, row: dict[str, str], columns: list[str]) -> None:
    """Rewrite results.csv with one more row (atomically: a kill never leaves half a table).

    Columns are the union of the file's and this sweep's, so a sweep with
    another test set can share the table. A lock beside the table makes the
    read-and-rewrite safe when several sweep processes share OUT.
    """
    with file_lock(path.with_name(f".{path.name}.lock")):
        old_columns, rows = read_results(path)
        merged = old_columns + [c for c in columns if c not in old_columns]
        write_csv([*rows, row], merged, path)


@contextlib.contextmanager
def file_lock(path: Path, wait: bool = True):
    """An exclusive lock on `path` (created if missing) for the `with` block.

    Yields True when held; with `wait=False`, False at once if another process
    holds it. The operating system releases the lock of a process that dies,
    so a killed sweep never leaves a run locked.
    """
    import fcntl  # POSIX only, as in adtos.fileio

    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _other_settings(results_csv: Path, runs: list[PlannedRun]) -> list[str]:
    """Settings hashes in results.csv that none of this sweep's runs has."""
    _, rows = read_results(results_csv)
    mine = {(run.dataset.name, run.dataset.variant, run.settings_id) for run in runs}
    labels = {(run.dataset.name, run.dataset.variant) for run in runs}
    return sorted({row.get("settings", "") or "(none recorded)" for row in rows
                   if (row["dataset"], row["variant"], row.get("settings", "")) not in mine
                   and (row["dataset"], row["variant"]) in labels})


def _done_keys(results_csv: Path) -> set[tuple[str, ...]]:
    _, rows = read_results(results_csv)
    return {tuple(row.get(c, "") for c in KEY_COLUMNS) for row in rows}


def run_sweep(config: SweepConfig, out_dir: str | os.PathLike, *, progress: bool = True,
              fit: bool = True) -> SweepReport:
    """Run every planned (dataset, n, width) not yet in OUT/results.csv; then best.csv and the fit."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    report = SweepReport(results_csv=out_dir / "results.csv", best_csv=out_dir / "best.csv")
    columns = result_columns(list(config.tests))

    pools = {dataset.label: training_pool(dataset) for dataset in config.datasets}
    runs, report.too_large = plan_runs(config, pools)
    for message in report.too_large:
        logger.warning(f"skipped {message}")
    done = _done_keys(report.results_csv)
    report.other_settings = _other_settings(report.results_csv, runs)
    if report.other_settings:
        logger.warning(f"{report.results_csv} also holds runs with other settings "
                       f"({', '.join(report.other_settings)}): they are not redone or mixed in; "
                       "best.csv and the fit keep one curve per settings")

    for number, run in enumerate(runs, start=1):
        name = f"[{number}/{len(runs)}] {run.dataset.label} n={run.n} width={_width_text(run.width)}"
        if run.key in done:
            report.skipped_done.append(run.key)
            continue
        run_dir = run.run_dir(out_dir)
        # Several sweep processes may share OUT (one per GPU): each run is
        # trained by whichever takes its lock first; the others go on.
        lock = (out_dir / ".locks"
                / f"{run.dataset.label}-{run.settings_id}-{run_dir.name}.lock")
        with file_lock(lock, wait=False) as mine:
            if not mine:
                logger.info(f"{name}: another process is training it")
                report.busy.append(run.key)
                continue
            if run.key in _done_keys(report.results_csv):  # finished while we trained others
                report.skipped_done.append(run.key)
                continue
            _run_one(run, name, run_dir, config, out_dir, columns, progress, report)

    if (out_dir / "errors.csv").is_file():
        _write_errors(out_dir, report.failed)  # drop the failures that have since succeeded
    write_best(report.results_csv, report.best_csv)
    if fit:
        try:
            report.curves = fit_best(config, report.best_csv, out_dir / "fit")
        except ValueError as error:  # e.g. every run failed: the table is kept, the fit said why
            logger.warning(f"no fit: {error}")
    return report


def _run_one(run: PlannedRun, name: str, run_dir: Path, config: SweepConfig, out_dir: Path,
             columns: list[str], progress: bool, report: SweepReport) -> None:
    """Train (or resume, or read back) one run and append its row; a failure is recorded."""
    train_config = TrainConfig.from_recipe(
        train=run.dataset.path, val=run.dataset.val or run.dataset.path, out=str(run_dir),
        tests=dict(config.tests), width=run.width, seed=config.seed, device=config.device,
        train_tracks=list(run.train_tracks), **config.train_options)
    train_config = replace(train_config, progress=progress and train_config.progress)
    try:
        result = _train_or_resume(train, train_config, run_dir, name)
    except (KeyboardInterrupt, SystemExit):
        raise
    except Exception as error:  # one failed run must not end a sweep of hundreds
        reason = f"{type(error).__name__}: {error}"
        logger.error(f"{name} failed: {reason}")
        report.failed.append((run.key, reason))
        _write_errors(out_dir, report.failed)
        return
    append_row(report.results_csv, result_row(run, result, config, out_dir), columns)
    report.trained.append(run.key)


def _train_or_resume(train, train_config, run_dir: Path, name: str):
    finished = run_dir / "results.json"
    if finished.is_file():
        logger.info(f"{name}: finished earlier, reading {finished}")
        return json.loads(finished.read_text())["result"]
    if (run_dir / "checkpoints" / "last.pt").is_file():
        logger.info(f"{name}: resuming the stopped run in {run_dir}")
        return train(train_config, resume=True)
    logger.info(f"{name}: training")
    return train(train_config)


def _write_errors(out_dir: Path, failed: list[tuple[tuple[str, ...], str]]) -> None:
    """errors.csv: this process's failures, and other processes' for runs that are
    still not in results.csv (a run that has since succeeded drops out)."""
    path = out_dir / "errors.csv"
    with file_lock(out_dir / ".errors.csv.lock"):
        done = _done_keys(out_dir / "results.csv")
        mine = dict(failed)
        _, earlier = read_results(path)
        rows = [row for row in earlier
                if (key := tuple(row.get(c, "") for c in KEY_COLUMNS)) not in mine and key not in done]
        rows += [{**dict(zip(KEY_COLUMNS, key)), "reason": reason} for key, reason in failed]
        write_csv(rows, list(ERROR_COLUMNS), path)


def write_best(results_csv: Path, best_csv: Path) -> list[dict[str, str]]:
    """The row with the lowest validation loss per (dataset, variant, settings, n), n ascending."""
    columns, rows = read_results(results_csv)

    def curve(row: dict[str, str]) -> tuple[str, str, str]:
        return row["dataset"], row["variant"], row.get("settings", "")

    best: dict[tuple[str, ...], dict[str, str]] = {}
    for row in rows:
        key = (*curve(row), row["n"])
        loss = _float(row.get("val_loss"))
        if key not in best or loss < _float(best[key].get("val_loss")):
            best[key] = row
    order = {}
    for row in rows:  # curves in the order they first appear, then n ascending
        order.setdefault(curve(row), len(order))
    chosen = sorted(best.values(), key=lambda r: (order[curve(r)], int(r["n"])))
    write_csv(chosen, columns or result_columns([]), best_csv)
    return chosen


def _float(text: str | None) -> float:
    try:
        value = float(text)
    except (TypeError, ValueError):
        return math.inf
    return value if math.isfinite(value) else math.inf


def fit_best(config: SweepConfig, best_csv: Path, out_dir: Path):
    ys = config.fit_columns or (["test_loss"] if config.tests else ["val_loss"])
    per_class = config.fit_per_class and bool(config.tests)  # per-class losses are test losses
    _, rows = read_results(best_csv)
    # One curve per settings; the hash joins the label only when there are several.
    several = len({row.get("settings", "") for row in rows}) > 1
    group_by = ["dataset", "variant", *(["settings"] if several else [])]
    return fit_curves(best_csv, out_dir, x="n", ys=ys, group_by=group_by,
                      per_class=per_class, bootstrap=config.bootstrap, seed=config.seed)

"""The training loop, top to bottom.

    train(TrainConfig(train="out/ds", val="out/ds", tests={"mdb": "mdb:PATH"}, out="runs/x"))

1. check what can fail before the long work: the run folder is writable, every
   dataset (training, validation, test) reads and its features are cached;
2. build the CRNN, Adam, and (on CUDA) a gradient scaler for mixed precision;
3. resume from RUN_DIR/checkpoints/last.pt when asked (or start afresh when
   the run never reached a checkpoint);
4. loop: batch of snippets → BCE loss → step; every `val_every` steps a
   validation (see `validate` for its save order);
5. at the end, with the best checkpoint: tune thresholds on the validation set,
   then BCE and onset F on the validation set and every test set → results.json.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import logging
import math
import os
import time
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

import numpy as np

from adtos.datasets import DatasetSpec
from adtos.fileio import remove_partials, write_text_atomic
from adtos.transcriber.checkpoint import (CheckpointError, load_checkpoint, model_from_checkpoint,
                                          model_info, save_checkpoint)
from adtos.transcriber.config import RunFolderError, TrainConfig, TrainResult
from adtos.transcriber.data import SnippetBatches, batch_loader
from adtos.transcriber.evaluate import (evaluate_sets, predict_prepared, save_thresholds,
                                        tune_thresholds)
from adtos.transcriber.features import DEFAULT_SETTINGS
from adtos.transcriber.labels import masked_bce, parse_policy
from adtos.transcriber.schedule import learning_rate
from adtos.transcriber.sources import prepare_set, prepare_tests
from adtos.vocab import CLASSES

logger = logging.getLogger(__name__)
FPS = DEFAULT_SETTINGS.fps
METRICS_COLUMNS = (["step", "learning_rate", "train_loss", "val_loss"]
                   + [f"val_loss_{c}" for c in CLASSES]
                   + ["best_val_loss", "bad_validations", "wall_time_s", "snippets_per_s"])
# On a CPU the first steps are timed to say what the whole run will cost; step 1
# is left out of the measurement (allocation, loader start-up).
TIMED_STEPS = 3
CPU_SUGGESTION = "--recipe cpu"  # the README's CPU example


@dataclass
class TrainState:
    """Everything about a run's progress that a checkpoint must restore."""

    step: int = 0
    best_val_loss: float = math.inf
    best_step: int = 0
    bad_validations: int = 0
    stopped_by: str = ""               # "patience", "max_steps" or "" while running
    train_loss_sum: float = 0.0        # since the last validation
    train_loss_count: int = 0
    metrics: list[dict] = field(default_factory=list)  # the metrics.csv rows up to `step`

    @classmethod
    def from_dict(cls, data: dict) -> "TrainState":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def finished(self, config: TrainConfig) -> bool:
        return bool(self.stopped_by) or (config.max_steps is not None
                                         and self.step >= config.max_steps)


@dataclass
class Run:
    """What the loop works on: the model and its optimizer, the data, the run folder."""

    config: TrainConfig
    folder: Path
    device: str
    model: object
    optimizer: object
    scaler: object
    state: TrainState
    train_tracks: list
    val_tracks: list
    started: float

    @property
    def checkpoints(self) -> Path:
        return self.folder / "checkpoints"


def _check_disjoint(config: TrainConfig, train_tracks, val_tracks) -> None:
    """Refuse to validate on training tracks (same dataset without a 'val' split)."""
    def folder(spec: str) -> Path:
        return DatasetSpec.parse(spec).path.resolve()

    if folder(config.train) != folder(config.val):
        return
    shared = {t.track_id for t in train_tracks} & {t.track_id for t in val_tracks}
    if shared:
        raise ValueError(f"--val {config.val}: {len(shared)} validation tracks are also training "
                         f"tracks (e.g. {sorted(shared)[0]}); the dataset needs a 'val' split, "
                         "or give a separate --val dataset")


def _check_writable(folder: Path) -> None:
    """Fail now, not after hours of training, when the run folder cannot be written.

    The folders made for the test are removed again (the run's writes make them
    when needed), so a run refused by a later check leaves no empty folder behind.
    """
    made = [p for p in (folder, folder / "checkpoints") if not p.exists()]
    try:
        (folder / "checkpoints").mkdir(parents=True, exist_ok=True)
        write_text_atomic(folder / "checkpoints" / ".write-test", "")
        (folder / "checkpoints" / ".write-test").unlink()
    except OSError as error:
        raise RunFolderError(f"cannot write the run folder {folder}: "
                             f"{error.strerror or error}") from None
    finally:
        for path in reversed(made):
            try:
                path.rmdir()
            except OSError:
                pass


def validation_loss(model, tracks, device: str) -> np.ndarray:
    """Mean BCE per class over every frame of the validation tracks (whole tracks)."""
    return predict_prepared(model, tracks, device, FPS).bce_per_class


def write_metrics(path: Path, rows: list[dict]) -> None:
    """metrics.csv from the rows the checkpoint holds, written whole and atomically."""
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=METRICS_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    write_text_atomic(path, text.getvalue())


def _metrics_from_file(path: Path, last_step: int) -> list[dict]:
    """Rows of a metrics.csv written before checkpoints held them: one per step up to
    `last_step` (a killed run could leave a row twice, or one beyond its checkpoint)."""
    if not path.is_file():
        return []
    rows = {}
    with open(path, newline="") as handle:
        for row in csv.DictReader(handle):
            try:
                step = int(row["step"])
            except (KeyError, TypeError, ValueError):
                continue  # a torn last line
            if step <= last_step:
                rows[step] = {k: row.get(k, "") for k in METRICS_COLUMNS}
    return [rows[s] for s in sorted(rows)]


def _rng_state(device: str) -> dict:
    import torch

    state = {"torch": torch.get_rng_state()}
    if device == "cuda":
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict, device: str) -> None:
    import torch

    torch.set_rng_state(state["torch"])
    if device == "cuda" and "cuda" in state:
        torch.cuda.set_rng_state_all(state["cuda"])


class _StopRequest:
    """While active, Ctrl-C (SIGINT) only sets `requested`; the loop stops at a step boundary,
    so that last.pt never holds a half-done step. Outside the main thread it does nothing."""

    def __init__(self):
        self.requested = False
        self._previous = None

    def __enter__(self):
        import signal
        import threading

        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum, frame):
        if self.requested:  # a second Ctrl-C stops at once
            raise KeyboardInterrupt
        self.requested = True

    def __exit__(self, *exc):
        import signal

        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
        return False


def save_last(run: Run) -> None:
    save_checkpoint(run.checkpoints / "last.pt", {
        "model": run.model.state_dict(), "model_info": model_info(run.model),
        "optimizer": run.optimizer.state_dict(), "scaler": run.scaler.state_dict(),
        "rng": _rng_state(run.device), "state": asdict(run.state),
        "sampler": {"seed": run.config.seed, "next_step": run.state.step},
        "config": asdict(run.config)})


def save_best(run: Run) -> None:
    state = {k: v for k, v in asdict(run.state).items() if k != "metrics"}
    save_checkpoint(run.checkpoints / "best.pt", {"model": run.model.state_dict(),
                                                  "model_info": model_info(run.model),
                                                  "state": state})


def validate(run: Run, interval_s: float) -> None:
    """Validation loss, patience, then the three writes in an order a kill cannot spoil:

    last.pt first (it holds the state and every metrics row, and is the commit
    point), then best.pt, then metrics.csv. A run killed before last.pt repeats
    the validation on resume; one killed after it gets best.pt and metrics.csv
    rewritten from last.pt (`restore`), so no row is lost or doubled.
    """
    state, config = run.state, run.config
    val_loss = validation_loss(run.model, run.val_tracks, run.device)
    mean_val = float(val_loss.mean())
    if mean_val < state.best_val_loss:
        state.best_val_loss, state.best_step, state.bad_validations = mean_val, state.step, 0
    else:
        state.bad_validations += 1
    state.metrics.append({
        "step": state.step, "learning_rate": run.optimizer.param_groups[0]["lr"],
        "train_loss": state.train_loss_sum / max(state.train_loss_count, 1),
        "val_loss": mean_val, **{f"val_loss_{c}": float(v) for c, v in zip(CLASSES, val_loss)},
        "best_val_loss": state.best_val_loss, "bad_validations": state.bad_validations,
        "wall_time_s": round(time.perf_counter() - run.started, 3),
        "snippets_per_s": round(state.train_loss_count * config.batch_size / interval_s, 2)})
    state.train_loss_sum, state.train_loss_count = 0.0, 0
    if state.bad_validations >= config.patience:
        state.stopped_by = "patience"
    save_last(run)
    if state.best_step == state.step:
        save_best(run)
    write_metrics(run.folder / "metrics.csv", state.metrics)


def start_folder(config: TrainConfig, folder: Path) -> None:
    """A fresh run: the config first, and nothing left of an earlier start in this folder."""
    write_text_atomic(folder / "config.json", config.to_json() + "\n")
    for name in ("metrics.csv", "thresholds.json", "results.json", "evaluation.json",
                 "checkpoints/best.pt"):
        (folder / name).unlink(missing_ok=True)


def restore(run: Run, checkpoint: dict) -> None:
    """Continue from last.pt, and bring best.pt and metrics.csv in line with it."""
    import torch

    path = run.checkpoints / "last.pt"
    run.model = model_from_checkpoint(checkpoint, path, run.config.width).to(run.device)
    run.optimizer = torch.optim.Adam(run.model.parameters(), lr=0.0)
    run.optimizer.load_state_dict(checkpoint["optimizer"])
    run.scaler.load_state_dict(checkpoint["scaler"])
    run.state = TrainState.from_dict(checkpoint["state"])
    if "metrics" not in checkpoint["state"]:  # a checkpoint from before rows were kept in it
        run.state.metrics = _metrics_from_file(run.folder / "metrics.csv", run.state.step)
    if run.state.stopped_by != "patience":  # a step limit can be raised; patience is final
        run.state.stopped_by = ""
    _set_rng_state(checkpoint["rng"], run.device)
    best_path = run.checkpoints / "best.pt"
    best_step = None
    if best_path.is_file():
        try:
            best_step = load_checkpoint(best_path)["state"]["step"]
        except (CheckpointError, KeyError):
            best_step = None
    if run.state.best_step == run.state.step and best_step != run.state.step:
        save_best(run)  # killed between last.pt and best.pt: the best model is this one
    write_metrics(run.folder / "metrics.csv", run.state.metrics)
    logger.info(f"resuming {run.folder} at step {run.state.step}")


class CpuClock:
    """On a CPU, times the first steps and says what the run will cost."""

    def __init__(self, run: Run):
        self.run = run
        self.first_step = run.state.step + 1  # the step left out of the measurement
        self.start = None
        self.reported = run.device != "cpu"

    def step_done(self) -> None:
        if self.reported:
            return
        step = self.run.state.step
        if step == self.first_step:
            self.start = time.perf_counter()
        elif step == self.first_step + TIMED_STEPS:
            self.reported = True
            self.report((time.perf_counter() - self.start) / TIMED_STEPS)

    def report(self, seconds_per_step: float) -> None:
        config, step = self.run.config, self.run.state.step
        import torch

        threads = torch.get_num_threads()
        lines = [f"on this CPU ({threads} torch thread{'s' * (threads != 1)}) a step takes "
                 f"{seconds_per_step:.2f} s (steps {self.first_step + 1}-{step})"]
        if config.val_every > step:
            lines[0] += (f"; the first validation comes at step {config.val_every} "
                         f"(~{_duration(seconds_per_step * (config.val_every - step))})")
        if config.max_steps is not None:
            lines.append(f"{config.max_steps} steps will take "
                         f"~{_duration(seconds_per_step * (config.max_steps - step))} "
                         "plus validations")
        else:
            earliest = config.val_every * config.patience
            lines.append(f"no --max-steps: early stopping needs at least {earliest} steps "
                         f"(~{_duration(seconds_per_step * earliest)}), usually several times that")
        if config.recipe != "cpu" and (seconds_per_step > 1.0 or config.max_steps is None):
            lines.append(f"for a CPU, try e.g. {CPU_SUGGESTION} (see README: training on a CPU), "
                         "or train on a GPU")
        for line in lines:
            logger.info(line)


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 90:
        return f"{seconds} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def train_steps(run: Run) -> bool:
    """The loop: batches until max_steps, patience or Ctrl-C. Returns whether Ctrl-C stopped it."""
    import torch
    from tqdm import tqdm

    config, state = run.config, run.state
    use_amp = run.device == "cuda"
    batches = SnippetBatches(run.train_tracks, config.seed, config.batch_size,
                             int(round(config.snippet_seconds * FPS)), FPS, config.target_widen)
    loader = batch_loader(batches, state.step, config.workers, pin_memory=use_amp,
                          seed=config.seed)
    progress = tqdm(total=_bar_total(config, state), initial=state.step, desc="train",
                    disable=not config.progress, dynamic_ncols=True)
    clock = CpuClock(run)
    interrupt = _StopRequest()  # Ctrl-C ends the run after the current step, not inside it
    timer_start = time.perf_counter()
    with interrupt:
        for features, targets in loader:
            for group in run.optimizer.param_groups:
                group["lr"] = learning_rate(state.step, config.learning_rate,
                                            config.warmup_steps, config.decay_steps,
                                            config.decay_factor)
            run.model.train()
            features = features.to(run.device, non_blocking=True)
            targets = targets.to(run.device, non_blocking=True)
            with torch.autocast(device_type=run.device, dtype=torch.float16, enabled=use_amp):
                logits = run.model(features)
            loss = masked_bce(logits.float(), targets, config.pos_weight)
            run.optimizer.zero_grad(set_to_none=True)
            run.scaler.scale(loss).backward()
            run.scaler.step(run.optimizer)
            run.scaler.update()

            loss = float(loss.detach())
            state.step += 1
            state.train_loss_sum += loss
            state.train_loss_count += 1
            progress.update(1)
            progress.set_postfix(loss=f"{loss:.4f}", best_val=f"{state.best_val_loss:.4f}")
            clock.step_done()
            if state.step % config.val_every == 0:
                validate(run, interval_s=time.perf_counter() - timer_start)
                timer_start = time.perf_counter()
                progress.total = _bar_total(config, state)
                progress.refresh()
            if config.max_steps is not None and state.step >= config.max_steps:
                state.stopped_by = "max_steps"
                if not state.metrics:  # shorter than one validation interval: validate once
                    validate(run, interval_s=time.perf_counter() - timer_start)
            if state.stopped_by or interrupt.requested:
                break
    progress.close()
    save_last(run)
    return interrupt.requested


def _bar_total(config: TrainConfig, state: TrainState) -> int:
    """max_steps; without it, the earliest step at which patience can stop the run."""
    if config.max_steps is not None:
        return config.max_steps
    return max(state.step, state.best_step + config.patience * config.val_every)


def cpu_threads() -> int:
    """torch threads for CPU training: half the cores, the other half left to the loader.

    More threads than free cores make OpenMP's threads spin-wait on each other:
    on the shared 2-core machine, 2 threads beside one loader process made a step
    15-20x slower than 1 thread (benchmarks/RESULTS.md). It does not depend on
    --workers, because the thread count changes the floating-point sums, and the
    same config must give the same model.
    """
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, (cores or 2) // 2)


@contextlib.contextmanager
def torch_threads(threads: int | None):
    """torch's intra-op threads set to `threads` (None: unchanged) while inside."""
    import torch

    previous = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def train(config: TrainConfig, resume: bool = False) -> TrainResult:
    """Train a CRNN as `config` says; with `resume`, continue RUN_DIR's last checkpoint
    (a run stopped before its first checkpoint starts again from scratch)."""
    import torch

    from adtos.transcriber.model import CRNN, parameter_count  # torch: imported when used
    from adtos.transcriber.predict import resolve_device

    started = time.perf_counter()
    folder = Path(config.out)
    last = folder / "checkpoints" / "last.pt"
    if not resume and last.exists():
        raise FileExistsError(f"{folder} already holds a training run; resume it "
                              "(adtos train --resume) or choose a new --out folder")
    device = resolve_device(config.device)
    policy = parse_policy(config.label_policy)  # a bad policy fails before any folder exists

    # 1. everything that can fail, before the long work
    _check_writable(folder)
    remove_partials(folder)
    remove_partials(folder / "checkpoints")
    train_tracks, _ = prepare_set(config, config.train, "train", config.train_tracks)
    val_tracks, _ = prepare_set(config, config.val, "val")
    _check_disjoint(config, train_tracks, val_tracks)
    tests = prepare_tests(config, config.tests)
    # After the checks (an argument error stays one line), before the first step.
    logger.info(f"label policy: {policy.describe()}")

    # 2. model and optimizer
    torch.manual_seed(config.seed)
    model = CRNN(width=config.width, gru_layers=config.gru_layers, flux=config.flux,
                 input_norm=config.input_norm, prior=config.prior).to(device)
    run = Run(config, folder, device, model, torch.optim.Adam(model.parameters(), lr=0.0),
              torch.amp.GradScaler("cuda", enabled=device == "cuda"), TrainState(),
              train_tracks, val_tracks, started)

    # 3. resume, or start the folder
    checkpoint = load_checkpoint(last, device) if resume and last.exists() else None
    if checkpoint is not None:
        restore(run, checkpoint)
    else:
        if resume:
            logger.info(f"{folder} has no checkpoint yet: starting it from scratch with its "
                        "config.json")
        start_folder(config, folder)
    logger.info(f"CRNN width {config.width:g}: {parameter_count(run.model):,} parameters; "
                f"{len(train_tracks)} training and {len(val_tracks)} validation tracks; "
                f"device {device}")

    # 4. the loop
    with torch_threads(cpu_threads() if device == "cpu" else None):
        if run.state.finished(config):  # a finished run, or --max-steps 0 (untrained baseline)
            run.state.stopped_by = run.state.stopped_by or "max_steps"
        elif train_steps(run):
            logger.info(f"stopped at step {run.state.step}; continue with "
                        f"adtos train --resume {folder}")
            raise KeyboardInterrupt

        # 5. final evaluation with the best model (the last one if no validation ran)
        if not (run.checkpoints / "best.pt").exists():
            save_best(run)
        return final_evaluation(run, tests)


def final_evaluation(run: Run, tests: dict[str, tuple]) -> TrainResult:
    """Thresholds tuned on the validation set with the best model, then every set scored."""
    from adtos.transcriber.model import parameter_count

    config, state, device = run.config, run.state, run.device
    best_path = run.checkpoints / "best.pt"
    model = model_from_checkpoint(load_checkpoint(best_path, device), best_path).to(device)
    val_predictions = predict_prepared(model, run.val_tracks, device, FPS,
                                       progress=config.progress, desc="validation")
    thresholds = tune_thresholds(val_predictions, FPS)
    save_thresholds(run.folder, thresholds, config.val)
    results = evaluate_sets(model, thresholds, {"val": (config.val, val_predictions, [])},
                            device, progress=config.progress)
    results.update(evaluate_sets(model, thresholds, tests, device, progress=config.progress))
    # One line for a log (a sweep trains hundreds of runs); `adtos train` prints the
    # whole table from results.json, as `adtos evaluate` does.
    logger.info(f"best model (step {state.best_step}): " + "; ".join(
        f"{name} BCE {r['bce']['mean']:.4f} F {r['onsets']['all']['f_measure']:.3f}"
        for name, r in results.items()))
    test_sets = {name: r for name, r in results.items() if name != "val"}
    result = TrainResult(
        params=parameter_count(model), steps=int(state.step),
        val_loss=float(results["val"]["bce"]["mean"]),
        test_loss={n: r["bce"]["mean"] for n, r in test_sets.items()},
        test_loss_per_class={n: {c: r["bce"][c] for c in CLASSES} for n, r in test_sets.items()},
        test_f={n: {c: r["onsets"][c]["f_measure"] for c in list(CLASSES) + ["all"]}
                for n, r in test_sets.items()},
        wall_time_s=time.perf_counter() - run.started, run_dir=str(run.folder),
        val_f={c: results["val"]["onsets"][c]["f_measure"] for c in list(CLASSES) + ["all"]},
        stopped_by=state.stopped_by)
    write_text_atomic(run.folder / "results.json", json.dumps(
        {"result": asdict(result), "best_step": state.best_step,
         "label_policy": parse_policy(config.label_policy).describe(),
         "thresholds": dict(zip(CLASSES, thresholds)), "sets": results}, indent=2) + "\n")
    return result


def resume_training(run_dir, max_steps: int | None = None, device: str | None = None,
                    workers: int | None = None, tests: dict[str, str] | None = None
                    ) -> TrainResult:
    """Continue a run from RUN_DIR/checkpoints/last.pt with the options it was started with.

    `tests` adds test sets (or replaces those of the same name) for the final evaluation.
    """
    run_dir = Path(run_dir)
    if not (run_dir / "config.json").is_file():
        raise RunFolderError(f"{run_dir} is not a training run folder (no config.json)")
    config = TrainConfig.from_json_file(run_dir / "config.json")
    changes = {k: v for k, v in dict(max_steps=max_steps, device=device, workers=workers).items()
               if v is not None}
    if tests:
        changes["tests"] = {**config.tests, **tests}
    config = replace(config, out=str(run_dir), **changes)
    if changes:
        write_text_atomic(run_dir / "config.json", config.to_json() + "\n")
    return train(config, resume=True)

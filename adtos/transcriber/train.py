"""The training loop, top to bottom.

    train(TrainConfig(train="out/ds", val="out/ds", tests={"mdb": "mdb:PATH"}, out="runs/x"))

1. read the datasets (adtos.datasets) and cache their features;
2. build the CRNN, Adam, and (on CUDA) a gradient scaler for mixed precision;
3. resume from RUN_DIR/checkpoints/last.pt when asked;
4. loop: batch of snippets → BCE loss → step; every `val_every` steps the
   validation loss, metrics.csv, checkpoints, and the patience counter;
5. at the end, with the best checkpoint: tune thresholds on the validation set,
   then BCE and onset F on the validation set and every test set → results.json.
"""

from __future__ import annotations

import csv
import json
import math
import time
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

from adtos.fileio import write_text_atomic
from adtos.transcriber.checkpoint import (CheckpointError, load_checkpoint, model_from_checkpoint,
                                          model_info, save_checkpoint)
from adtos.transcriber.config import TrainConfig, TrainResult
from adtos.transcriber.data import SnippetBatches, batch_loader, prepare_tracks
from adtos.transcriber.features import DEFAULT_SETTINGS, default_cache_dir
from adtos.transcriber.labels import masked_bce, parse_policy
from adtos.transcriber.schedule import learning_rate
from adtos.vocab import CLASSES

FPS = DEFAULT_SETTINGS.fps
METRICS_COLUMNS = (["step", "learning_rate", "train_loss", "val_loss"]
                   + [f"val_loss_{c}" for c in CLASSES]
                   + ["best_val_loss", "bad_validations", "wall_time_s", "snippets_per_s"])


def prepare_set(config: TrainConfig, spec: str, split: str, track_ids=None):
    """Prepared tracks of one dataset split (features cached) and the tracks skipped."""
    from adtos.transcriber.sources import load_tracks

    name, root, tracks = load_tracks(spec, split, track_ids)
    cache = Path(config.feature_cache) if config.feature_cache else default_cache_dir(root)
    # The label policy shapes what the model is taught and validated on, not the test sets.
    policy = parse_policy(config.label_policy) if split in ("train", "val") else None
    prepared, errors = prepare_tracks(tracks, cache, DEFAULT_SETTINGS, config.feature_workers,
                                      desc=f"features {name}", progress=config.progress,
                                      policy=policy)
    for track_id, reason in errors:
        print(f"skipped track {track_id} of {spec}: {reason}")
    if not prepared:
        raise ValueError(f"{spec}: none of its {len(tracks)} tracks could be read")
    return prepared, errors


def _check_disjoint(config: TrainConfig, train_tracks, val_tracks) -> None:
    """Refuse to validate on training tracks (same dataset without a 'val' split)."""
    from adtos.datasets import parse_dataset_spec
    from adtos.transcriber.sources import _split_subset

    def folder(spec: str) -> Path:
        return Path(_split_subset(parse_dataset_spec(spec)[2])[0]).resolve()

    if folder(config.train) != folder(config.val):
        return
    shared = {t.track_id for t in train_tracks} & {t.track_id for t in val_tracks}
    if shared:
        raise ValueError(f"--val {config.val}: {len(shared)} validation tracks are also training "
                         f"tracks (e.g. {sorted(shared)[0]}); the dataset needs a 'val' split, "
                         "or give a separate --val dataset")


def validation_loss(model, tracks, device: str) -> np.ndarray:
    """Mean BCE per class over every frame of the validation tracks (whole tracks)."""
    from adtos.transcriber.evaluate import predict_prepared

    return predict_prepared(model, tracks, device, FPS).bce_per_class


def _append_metrics(path: Path, row: dict) -> None:
    new = not path.exists()
    with open(path, "a", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=METRICS_COLUMNS)
        if new:
            writer.writeheader()
        writer.writerow(row)


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


def train(config: TrainConfig, resume: bool = False) -> TrainResult:
    """Train a CRNN as `config` says; with `resume`, continue RUN_DIR's last checkpoint."""
    import torch
    from tqdm import tqdm

    from adtos.transcriber.model import CRNN, parameter_count
    from adtos.transcriber.predict import resolve_device

    started = time.perf_counter()
    run_dir = Path(config.out)
    checkpoints = run_dir / "checkpoints"
    if not resume and (checkpoints / "last.pt").exists():
        raise FileExistsError(f"{run_dir} already holds a training run; resume it "
                              "(adtos train --resume) or choose a new --out folder")
    device = resolve_device(config.device)
    use_amp = device == "cuda"
    torch.manual_seed(config.seed)

    # 1. data
    train_tracks, _ = prepare_set(config, config.train, "train", config.train_tracks)
    val_tracks, _ = prepare_set(config, config.val, "val")
    _check_disjoint(config, train_tracks, val_tracks)
    snippet_frames = int(round(config.snippet_seconds * FPS))
    batches = SnippetBatches(train_tracks, config.seed, config.batch_size, snippet_frames, FPS,
                             config.target_widen)

    # 2. model and optimizer
    model = CRNN(width=config.width).to(device)
    params = parameter_count(model)
    print(f"CRNN width {config.width:g}: {params:,} parameters; {len(train_tracks)} training "
          f"and {len(val_tracks)} validation tracks; device {device}")
    optimizer = torch.optim.Adam(model.parameters(), lr=0.0)
    scaler = torch.amp.GradScaler("cuda", enabled=use_amp)
    state = {"step": 0, "best_val_loss": math.inf, "best_step": 0, "bad_validations": 0,
             "stopped_by": "", "train_loss_sum": 0.0, "train_loss_count": 0}

    # 3. resume
    if resume:
        checkpoint = load_checkpoint(checkpoints / "last.pt", device)
        model = model_from_checkpoint(checkpoint, checkpoints / "last.pt", config.width).to(device)
        optimizer = torch.optim.Adam(model.parameters(), lr=0.0)
        optimizer.load_state_dict(checkpoint["optimizer"])
        scaler.load_state_dict(checkpoint["scaler"])
        state.update(checkpoint["state"])
        if state["stopped_by"] != "patience":  # a step limit can be raised; patience is final
            state["stopped_by"] = ""
        _set_rng_state(checkpoint["rng"], device)
        print(f"resuming {run_dir} at step {state['step']}")
    else:
        run_dir.mkdir(parents=True, exist_ok=True)
        write_text_atomic(run_dir / "config.json", config.to_json() + "\n")
        (run_dir / "metrics.csv").unlink(missing_ok=True)

    def checkpoint_dict() -> dict:
        return {"model": model.state_dict(), "model_info": model_info(model),
                "optimizer": optimizer.state_dict(), "scaler": scaler.state_dict(),
                "rng": _rng_state(device), "state": dict(state),
                "sampler": {"seed": config.seed, "next_step": state["step"]},
                "config": asdict(config)}

    def validate(interval_s: float) -> None:
        """Validation loss, best checkpoint, a metrics.csv row, patience, last checkpoint."""
        val_loss = validation_loss(model, val_tracks, device)
        mean_val = float(val_loss.mean())
        if mean_val < state["best_val_loss"]:
            state.update(best_val_loss=mean_val, best_step=state["step"], bad_validations=0)
            save_checkpoint(checkpoints / "best.pt", {"model": model.state_dict(),
                                                     "model_info": model_info(model),
                                                     "state": dict(state)})
        else:
            state["bad_validations"] += 1
        _append_metrics(run_dir / "metrics.csv", {
            "step": state["step"], "learning_rate": optimizer.param_groups[0]["lr"],
            "train_loss": state["train_loss_sum"] / max(state["train_loss_count"], 1),
            "val_loss": mean_val, **{f"val_loss_{c}": float(v) for c, v in zip(CLASSES, val_loss)},
            "best_val_loss": state["best_val_loss"], "bad_validations": state["bad_validations"],
            "wall_time_s": round(time.perf_counter() - started, 3),
            "snippets_per_s": round(state["train_loss_count"] * config.batch_size / interval_s, 2)})
        state["train_loss_sum"], state["train_loss_count"] = 0.0, 0
        if state["bad_validations"] >= config.patience:
            state["stopped_by"] = "patience"
        save_checkpoint(checkpoints / "last.pt", checkpoint_dict())

    def finished() -> bool:
        return bool(state["stopped_by"]) or (config.max_steps is not None
                                             and state["step"] >= config.max_steps)

    # 4. the loop
    if finished():  # nothing to do: a finished run, or --max-steps 0 (the untrained baseline)
        state["stopped_by"] = state["stopped_by"] or "max_steps"
    else:
        loader = batch_loader(batches, state["step"], config.workers, pin_memory=use_amp,
                              seed=config.seed)
        progress = tqdm(total=config.max_steps, initial=state["step"], desc="train",
                        disable=not config.progress, dynamic_ncols=True)
        interrupt = _StopRequest()  # Ctrl-C ends the run after the current step, not inside it
        timer_start = time.perf_counter()
        with interrupt:
            for features, targets in loader:
                step = state["step"]
                for group in optimizer.param_groups:
                    group["lr"] = learning_rate(step, config.learning_rate, config.warmup_steps,
                                                config.decay_steps, config.decay_factor)
                model.train()
                features = features.to(device, non_blocking=True)
                targets = targets.to(device, non_blocking=True)
                with torch.autocast(device_type=device, dtype=torch.float16, enabled=use_amp):
                    logits = model(features)
                loss = masked_bce(logits.float(), targets)
                optimizer.zero_grad(set_to_none=True)
                scaler.scale(loss).backward()
                scaler.step(optimizer)
                scaler.update()

                loss = float(loss.detach())
                state["step"] = step + 1
                state["train_loss_sum"] += loss
                state["train_loss_count"] += 1
                progress.update(1)
                progress.set_postfix(loss=f"{loss:.4f}", best_val=f"{state['best_val_loss']:.4f}")
                if state["step"] % config.val_every == 0:
                    validate(interval_s=time.perf_counter() - timer_start)
                    timer_start = time.perf_counter()
                if config.max_steps is not None and state["step"] >= config.max_steps:
                    state["stopped_by"] = "max_steps"
                if state["stopped_by"] or interrupt.requested:
                    break
        progress.close()
        save_checkpoint(checkpoints / "last.pt", checkpoint_dict())
        if interrupt.requested:
            print(f"stopped at step {state['step']}; continue with adtos train --resume {run_dir}")
            raise KeyboardInterrupt

    # 5. final evaluation with the best model (the last one if no validation ran yet)
    if not (checkpoints / "best.pt").exists():
        save_checkpoint(checkpoints / "best.pt", {"model": model.state_dict(),
                                                 "model_info": model_info(model),
                                                 "state": dict(state)})
    return final_evaluation(config, run_dir, val_tracks, device, state, params, started)


def final_evaluation(config: TrainConfig, run_dir: Path, val_tracks, device: str, state: dict,
                     params: int, started: float) -> TrainResult:
    from adtos.transcriber.evaluate import (format_report, predict_prepared, save_thresholds,
                                            score, tune_thresholds)

    best_path = run_dir / "checkpoints" / "best.pt"
    model = model_from_checkpoint(load_checkpoint(best_path, device), best_path).to(device)
    val_predictions = predict_prepared(model, val_tracks, device, FPS, progress=config.progress,
                                       desc="validation")
    thresholds = tune_thresholds(val_predictions, FPS)
    save_thresholds(run_dir, thresholds, config.val)
    results = {"val": {**score(val_predictions, thresholds, FPS), "spec": config.val}}
    for name, spec in config.tests.items():
        prepared, errors = prepare_set(config, spec, "test")
        predictions = predict_prepared(model, prepared, device, FPS, progress=config.progress,
                                       desc=name)
        results[name] = {**score(predictions, thresholds, FPS), "spec": spec,
                         "skipped": [list(e) for e in errors]}
    print(format_report(results))
    tests = {name: r for name, r in results.items() if name != "val"}
    result = TrainResult(
        params=params, steps=int(state["step"]),
        val_loss=float(results["val"]["bce"]["mean"]),
        test_loss={n: r["bce"]["mean"] for n, r in tests.items()},
        test_loss_per_class={n: {c: r["bce"][c] for c in CLASSES} for n, r in tests.items()},
        test_f={n: {c: r["onsets"][c]["f_measure"] for c in list(CLASSES) + ["all"]}
                for n, r in tests.items()},
        wall_time_s=time.perf_counter() - started, run_dir=str(run_dir),
        val_f={c: results["val"]["onsets"][c]["f_measure"] for c in list(CLASSES) + ["all"]},
        stopped_by=state.get("stopped_by", ""))
    write_text_atomic(run_dir / "results.json", json.dumps(
        {"result": asdict(result), "best_step": state.get("best_step"),
         "thresholds": dict(zip(CLASSES, thresholds)), "sets": results}, indent=2) + "\n")
    return result


def resume_training(run_dir, max_steps: int | None = None, device: str | None = None,
                    workers: int | None = None) -> TrainResult:
    """Continue a run from RUN_DIR/checkpoints/last.pt with the options it was started with."""
    run_dir = Path(run_dir)
    if not (run_dir / "config.json").is_file():
        raise FileNotFoundError(f"{run_dir}/config.json not found: not a training run folder")
    if not (run_dir / "checkpoints" / "last.pt").is_file():
        raise CheckpointError(f"{run_dir}/checkpoints/last.pt not found: nothing to resume")
    config = TrainConfig.from_json_file(run_dir / "config.json")
    changes = {k: v for k, v in dict(max_steps=max_steps, device=device, workers=workers).items()
               if v is not None}
    config = replace(config, out=str(run_dir), **changes)
    if changes:
        write_text_atomic(run_dir / "config.json", config.to_json() + "\n")
    return train(config, resume=True)

"""Evaluation: BCE and onset F per class, thresholds tuned on the validation set.

Peak-picking thresholds are chosen per class to maximise the validation set's
sum-over-tracks F, then stored with the model (RUN_DIR/thresholds.json) and
used unchanged on every test set.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from adtos.fileio import write_text_atomic
from adtos.transcriber.labels import don_t_care
from adtos.transcriber.metrics import WINDOW, Counts, onset_counts, summarize
from adtos.transcriber.peaks import local_maxima, pick_all, pick_peaks
from adtos.transcriber.predict import bce_sums, sigmoid, track_logits
from adtos.vocab import CLASSES

THRESHOLD_GRID = np.round(np.arange(0.02, 0.99, 0.02), 2)


@dataclass
class Predictions:
    """Per track: activations (frames, classes), reference onsets and labels."""

    track_ids: list[str]
    activations: list[np.ndarray]
    onsets: list[np.ndarray]
    labels: list[np.ndarray]
    bce_sum: np.ndarray  # per class, summed over all frames of all tracks
    frames: int

    @property
    def bce_per_class(self) -> np.ndarray:
        return self.bce_sum / max(self.frames, 1)


def predict_prepared(model, prepared, device: str = "cpu", fps: float = 100.0,
                     progress: bool = False, desc: str = "predict") -> Predictions:
    """Run the model over prepared tracks (adtos.transcriber.data.PreparedTrack)."""
    from tqdm import tqdm

    ids, activations, onsets, labels = [], [], [], []
    bce, frames = np.zeros(len(CLASSES)), 0
    for track in tqdm(prepared, desc=desc, leave=False, disable=not progress):
        logits = track_logits(model, track.features(), device)
        targets = track.targets(fps)
        bce += bce_sums(logits, targets)
        frames += logits.shape[0]
        ids.append(track.track_id)
        activation, reference = don_t_care(sigmoid(logits).astype(np.float32), targets, track)
        activations.append(activation)
        onsets.append(track.onsets[reference])
        labels.append(track.labels[reference])
    return Predictions(ids, activations, onsets, labels, bce, frames)


def tune_thresholds(predictions: Predictions, fps: float = 100.0,
                    grid: np.ndarray = THRESHOLD_GRID) -> list[float]:
    """Per class, the threshold of `grid` with the best sum-over-tracks F (ties: lowest)."""
    thresholds = []
    for c in range(len(CLASSES)):
        curves = [a[:, c] for a in predictions.activations]
        maxima = [local_maxima(curve) for curve in curves]
        references = [np.sort(o[l == c]) for o, l in zip(predictions.onsets, predictions.labels)]
        best, best_f = float(grid[len(grid) // 2]), -1.0
        for threshold in grid:
            total = Counts()
            for curve, peaks, reference in zip(curves, maxima, references):
                estimated = pick_peaks(curve, float(threshold), fps, maxima=peaks)
                total = total + onset_counts(reference, estimated, WINDOW, fast=True)
            f = 0.0 if np.isnan(total.f_measure) else total.f_measure
            if f > best_f:
                best, best_f = float(threshold), f
        thresholds.append(best)
    return thresholds


def score(predictions: Predictions, thresholds, fps: float = 100.0) -> dict:
    """BCE per class and mean, and P/R/F per class and overall (both summaries)."""
    from adtos.transcriber.metrics import track_counts

    per_track = []
    for activation, onsets, labels in zip(predictions.activations, predictions.onsets,
                                          predictions.labels):
        est_times, est_labels = pick_all(activation, thresholds, fps)
        per_track.append(track_counts(onsets, labels, est_times, est_labels, WINDOW))
    bce = predictions.bce_per_class
    return {"tracks": len(predictions.track_ids),
            "bce": {**{name: float(v) for name, v in zip(CLASSES, bce)}, "mean": float(bce.mean())},
            "onsets": summarize(per_track)}


def save_thresholds(run_dir: str | os.PathLike, thresholds, source: str) -> None:
    data = {"classes": list(CLASSES), "thresholds": [float(t) for t in thresholds],
            "tuned_on": source, "window_s": WINDOW}
    write_text_atomic(Path(run_dir) / "thresholds.json", json.dumps(data, indent=2) + "\n")


def load_thresholds(run_dir: str | os.PathLike) -> list[float]:
    path = Path(run_dir) / "thresholds.json"
    data = json.loads(path.read_text())
    if data.get("classes") != list(CLASSES):
        raise ValueError(f"{path}: thresholds are for classes {data.get('classes')}, "
                         f"expected {list(CLASSES)}")
    return [float(t) for t in data["thresholds"]]


def format_report(results: dict) -> str:
    """A plain table: one line per set and class."""
    lines = [f"{'set':<16}{'class':<6}{'BCE':>8}{'P':>8}{'R':>8}{'F':>8}{'F/track':>9}"]
    for set_name, result in results.items():
        for name in list(CLASSES) + ["all"]:
            o = result["onsets"][name]
            bce = result["bce"].get(name if name != "all" else "mean", float("nan"))
            lines.append(f"{set_name:<16}{name:<6}{bce:8.4f}{o['precision']:8.3f}"
                         f"{o['recall']:8.3f}{o['f_measure']:8.3f}{o['f_measure_mean_track']:9.3f}")
    return "\n".join(lines)


def evaluate(run_dir: str | os.PathLike, tests: dict[str, str], device: str = "auto",
             checkpoint: str = "best", progress: bool = True) -> dict:
    """Evaluate a trained run on test sets; write RUN_DIR/evaluation.json and return it.

    Thresholds come from RUN_DIR/thresholds.json; when missing they are tuned on
    the run's validation set first and stored there.
    """
    from adtos.transcriber.checkpoint import load_checkpoint, model_from_checkpoint
    from adtos.transcriber.config import TrainConfig
    from adtos.transcriber.predict import resolve_device
    from adtos.transcriber.train import prepare_set

    run_dir = Path(run_dir)
    config = TrainConfig.from_json_file(run_dir / "config.json")
    device = resolve_device(device)
    path = run_dir / "checkpoints" / f"{checkpoint}.pt"
    model = model_from_checkpoint(load_checkpoint(path), path, width=config.width).to(device)
    if (run_dir / "thresholds.json").exists():
        thresholds = load_thresholds(run_dir)
    else:
        val, _ = prepare_set(config, config.val, "val")
        thresholds = tune_thresholds(predict_prepared(model, val, device, progress=progress))
        save_thresholds(run_dir, thresholds, config.val)
    results = {}
    for name, spec in tests.items():
        prepared, errors = prepare_set(config, spec, "test")
        predictions = predict_prepared(model, prepared, device, progress=progress, desc=name)
        results[name] = {**score(predictions, thresholds), "spec": spec,
                         "skipped": [list(e) for e in errors]}
    out = run_dir / "evaluation.json"
    previous = json.loads(out.read_text()) if out.exists() else {}
    write_text_atomic(out, json.dumps({**previous, **results}, indent=2) + "\n")
    return results

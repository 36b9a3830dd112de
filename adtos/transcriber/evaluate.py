"""Evaluation: BCE and onset F per class, thresholds tuned on the validation set.

Peak-picking thresholds are chosen per class to maximise the validation set's
sum-over-tracks F, then stored with the model (RUN_DIR/thresholds.json) and
used unchanged on every test set.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from tqdm import tqdm

from adtos.fileio import write_text_atomic
from adtos.transcriber.labels import don_t_care
from adtos.transcriber.metrics import WINDOW, Counts, onset_counts, summarize, track_counts
from adtos.transcriber.peaks import local_maxima, pick_all, pick_peaks
from adtos.transcriber.predict import (bce_sums, load_run_model, load_thresholds,
                                       resolve_device, save_thresholds, sigmoid, track_logits)
from adtos.transcriber.sources import prepare_set, prepare_tests
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
    per_track = []
    for activation, onsets, labels in zip(predictions.activations, predictions.onsets,
                                          predictions.labels):
        est_times, est_labels = pick_all(activation, thresholds, fps)
        per_track.append(track_counts(onsets, labels, est_times, est_labels, WINDOW))
    bce = predictions.bce_per_class
    return {"tracks": len(predictions.track_ids),
            "bce": {**{name: float(v) for name, v in zip(CLASSES, bce)}, "mean": float(bce.mean())},
            "onsets": summarize(per_track)}


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


def evaluate_sets(model, thresholds, sets: dict[str, tuple], device: str = "cpu",
                  progress: bool = True) -> dict:
    """Score the model on each set: name -> (spec, prepared tracks or their Predictions,
    skipped tracks) gives name -> BCE, P/R/F per class and overall, spec and skipped."""
    results = {}
    for name, (spec, tracks, skipped) in sets.items():
        predictions = (tracks if isinstance(tracks, Predictions)
                       else predict_prepared(model, tracks, device, progress=progress, desc=name))
        results[name] = {**score(predictions, thresholds), "spec": spec,
                         "skipped": [list(e) for e in skipped]}
    return results


def evaluate(run_dir: str | os.PathLike, tests: dict[str, str], device: str = "auto",
             checkpoint: str = "best", progress: bool = True) -> dict:
    """Evaluate a trained run on test sets; write RUN_DIR/evaluation.json and return it.

    Thresholds come from RUN_DIR/thresholds.json; when missing they are tuned on
    the run's validation set first and stored there.
    """
    run_dir = Path(run_dir)
    device = resolve_device(device)
    model, config = load_run_model(run_dir, checkpoint, device)
    config = replace(config, progress=progress)
    sets = prepare_tests(config, tests)
    if (run_dir / "thresholds.json").exists():
        thresholds = load_thresholds(run_dir)
    else:
        val, _ = prepare_set(config, config.val, "val")
        thresholds = tune_thresholds(predict_prepared(model, val, device, progress=progress))
        save_thresholds(run_dir, thresholds, config.val)
    results = evaluate_sets(model, thresholds, sets, device, progress)
    if not (run_dir / "checkpoints").is_dir():  # a packaged model's folder stays as shipped
        return results
    out = run_dir / "evaluation.json"
    previous = json.loads(out.read_text()) if out.exists() else {}
    write_text_atomic(out, json.dumps({**previous, **results}, indent=2) + "\n")
    return results

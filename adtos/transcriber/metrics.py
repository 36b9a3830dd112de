"""Metrics: onset precision, recall and F-measure with a 50 ms window, and BCE.

Onsets are matched one-to-one with `mir_eval.util.match_events` (a hit is
|estimate - reference| <= window), class by class. Threshold tuning tries
dozens of thresholds per class and track, so it counts hits with
`count_hits`, a linear-time greedy matching that gives the same count (on a
line with one window for all, matching each reference to the earliest free
estimate in reach is a maximum matching; a test checks it against mir_eval). Two summaries are usual in
the field and both are given:

- sum over tracks: true/false positives and misses are added over all tracks
  (and, for "all", over all classes) before computing P, R and F. This is the
  figure most ADT papers report.
- mean per track: F of each track, averaged. A track with neither reference nor
  estimated onsets of a class has no F for it and is left out of that mean.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from adtos.vocab import CLASSES

WINDOW = 0.05


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def __add__(self, other: "Counts") -> "Counts":
        return Counts(self.tp + other.tp, self.fp + other.fp, self.fn + other.fn)

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f_measure(self) -> float:
        """2TP / (2TP + FP + FN); NaN when there is nothing to find and nothing found."""
        denominator = 2 * self.tp + self.fp + self.fn
        return 2 * self.tp / denominator if denominator else float("nan")


def _validated_times(times, name: str) -> np.ndarray:
    times = np.asarray(times, dtype=np.float64)
    if times.ndim != 1:
        raise ValueError(f"{name} onsets must be a 1-D array of seconds, got shape {times.shape}")
    if times.size and not np.all(np.isfinite(times)):
        raise ValueError(f"{name} onsets contain NaN or infinite times")
    return np.sort(times)


def count_hits(reference: np.ndarray, estimated: np.ndarray, window: float = WINDOW) -> int:
    """Size of a maximum one-to-one matching within `window`; both arrays sorted."""
    hits, j = 0, 0
    for time in reference:
        while j < estimated.size and estimated[j] < time - window:
            j += 1
        if j < estimated.size and estimated[j] <= time + window:
            hits += 1
            j += 1
    return hits


def onset_counts(reference, estimated, window: float = WINDOW, fast: bool = False) -> Counts:
    """Hits, false alarms and misses of one class in one track.

    `fast` counts with `count_hits` instead of mir_eval (same result, no checks).
    """
    if fast:
        hits = count_hits(reference, estimated, window)
        return Counts(hits, len(estimated) - hits, len(reference) - hits)
    import mir_eval  # lazy: mir_eval imports scipy

    reference = _validated_times(reference, "reference")
    estimated = _validated_times(estimated, "estimated")
    if reference.size == 0 or estimated.size == 0:
        return Counts(0, int(estimated.size), int(reference.size))
    hits = len(mir_eval.util.match_events(reference, estimated, window))
    return Counts(hits, int(estimated.size) - hits, int(reference.size) - hits)


def track_counts(ref_times, ref_labels, est_times, est_labels, window: float = WINDOW,
                 n_classes: int = len(CLASSES)) -> list[Counts]:
    """Counts per class for one track given (times, class index) of both sides."""
    ref_times, ref_labels = np.asarray(ref_times), np.asarray(ref_labels)
    est_times, est_labels = np.asarray(est_times), np.asarray(est_labels)
    return [onset_counts(ref_times[ref_labels == c], est_times[est_labels == c], window)
            for c in range(n_classes)]


def summarize(per_track: list[list[Counts]], classes=CLASSES) -> dict:
    """Per class and "all": precision, recall, F summed over tracks, and mean per-track F."""
    summary = {}
    names = list(classes) + ["all"]
    for index, name in enumerate(names):
        if name == "all":
            counts_per_track = [sum(track, Counts()) for track in per_track]
        else:
            counts_per_track = [track[index] for track in per_track]
        total = sum(counts_per_track, Counts())
        track_f = [c.f_measure for c in counts_per_track if not np.isnan(c.f_measure)]
        summary[name] = {
            "precision": total.precision, "recall": total.recall,
            "f_measure": 0.0 if np.isnan(total.f_measure) else total.f_measure,
            "f_measure_mean_track": float(np.mean(track_f)) if track_f else float("nan"),
            "tp": total.tp, "fp": total.fp, "fn": total.fn,
        }
    return summary


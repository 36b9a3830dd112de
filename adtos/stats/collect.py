"""From a dataset (the adtos.datasets shape) to the arrays the tables and
plots are made of. One pass over the tracks; nothing here reads files."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np
from tqdm import tqdm

from adtos.datasets.track import Dataset
from adtos.stats.fingerprints import beat_fingerprints, fingerprint_counts
from adtos.stats.rhythm import onset_intervals_in_beats, tempo_from_beats
from adtos.vocab import CLASSES


@dataclass
class TrackStats:
    track_id: str
    genre: str
    tempo: float | None  # None: no beats and no tempo known
    meter: str | None
    class_counts: np.ndarray  # (5,) onsets per class
    intervals: np.ndarray | None  # in beats; None without beats
    velocities: np.ndarray | None


@dataclass
class DatasetStats:
    name: str
    kind: str
    synthetic: bool
    tracks: list[TrackStats]
    fingerprints: np.ndarray  # unique fingerprints of beats with drums
    fingerprint_beats: np.ndarray  # beats with each
    class_intervals: dict[str, np.ndarray] = field(default_factory=dict)  # --per-class
    class_velocities: dict[str, np.ndarray] = field(default_factory=dict)
    dropped_labels: dict = field(default_factory=dict)
    unknown_labels: dict = field(default_factory=dict)

    @property
    def has_beats(self) -> bool:
        return any(t.intervals is not None for t in self.tracks)

    @property
    def has_velocity(self) -> bool:
        return any(t.velocities is not None for t in self.tracks)

    @property
    def tempi(self) -> np.ndarray:
        return np.array([t.tempo for t in self.tracks if t.tempo is not None], dtype=np.float64)

    @property
    def intervals(self) -> np.ndarray:
        parts = [t.intervals for t in self.tracks if t.intervals is not None]
        return np.concatenate(parts) if parts else np.zeros(0)

    @property
    def velocities(self) -> np.ndarray:
        parts = [t.velocities for t in self.tracks if t.velocities is not None]
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)

    @property
    def class_counts(self) -> np.ndarray:
        return np.sum([t.class_counts for t in self.tracks], axis=0) if self.tracks \
            else np.zeros(len(CLASSES), dtype=np.int64)

    @property
    def meters(self) -> Counter:
        return Counter(t.meter for t in self.tracks if t.meter)

    @property
    def beats_with_drums(self) -> int:
        return int(self.fingerprint_beats.sum())


def dataset_stats(dataset: Dataset, merge: float = 0.05, max_beats: float = 1.0, bins: int = 12,
                  per_class: bool = False, progress: bool = False) -> DatasetStats:
    """Measure every track of `dataset`. Tracks without beats get no tempo
    (unless the dataset states one), no intervals and no fingerprints."""
    tracks: list[TrackStats] = []
    all_fingerprints: list[np.ndarray] = []
    class_intervals: dict[str, list[np.ndarray]] = {c: [] for c in CLASSES}
    class_velocities: dict[str, list[np.ndarray]] = {c: [] for c in CLASSES}
    for track in tqdm(dataset.tracks, desc=f"measuring {dataset.name}", unit="track",
                      disable=not progress, leave=False):
        beats = track.beats if track.beats is not None and len(track.beats) >= 2 else None
        intervals = None
        if beats is not None:
            intervals = onset_intervals_in_beats(track.onsets, beats, merge, max_beats)
            all_fingerprints.append(beat_fingerprints(track.onsets, track.labels, beats, bins))
        tempo = track.tempo if track.tempo is not None else tempo_from_beats(beats)
        tracks.append(TrackStats(track.track_id, str(track.metadata.get("genre") or ""),
                                 tempo, track.meter,
                                 np.bincount(track.labels, minlength=len(CLASSES)),
                                 intervals, track.velocities))
        if per_class:
            for index, name in enumerate(CLASSES):
                mine = track.labels == index
                if beats is not None and mine.sum() >= 2:
                    class_intervals[name].append(
                        onset_intervals_in_beats(track.onsets[mine], beats, merge, max_beats))
                if track.velocities is not None:
                    class_velocities[name].append(track.velocities[mine])
    fingerprints = np.concatenate(all_fingerprints) if all_fingerprints \
        else np.zeros(0, dtype=np.uint64)
    unique, counts = fingerprint_counts(fingerprints)
    return DatasetStats(
        dataset.name, dataset.kind, dataset.kind == "adtos", tracks, unique, counts,
        {c: np.concatenate(v) for c, v in class_intervals.items() if v},
        {c: np.concatenate(v) for c, v in class_velocities.items() if v},
        dict(dataset.metadata.get("dropped_labels", {})),
        dict(dataset.metadata.get("unknown_labels", {})))

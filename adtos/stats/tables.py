"""The statistics as CSV tables, one file per variable (long format, one row
per dataset and value), written atomically and byte-identically for the same
inputs."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from adtos.fileio import write_csv_atomic
from adtos.stats.collect import DatasetStats
from adtos.stats.fingerprints import coverage, describe_fingerprint
from adtos.vocab import CLASSES

# Intervals are tabulated on a grid of 1/48 beat: fine enough to tell 16ths
# (12/48), triplets (16/48) and their swung neighbours apart.
INTERVAL_STEPS = 48
NO_BEATS = "no beats"
NO_VELOCITY = "no velocity"


def _fmt(value) -> str:
    if isinstance(value, (float, np.floating)):
        return "" if np.isnan(value) else f"{float(value):.6g}"
    return str(value)


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence]) -> None:
    write_csv_atomic(path, header, ([_fmt(v) for v in row] for row in rows))


def interval_histogram(intervals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(grid positions k/48 with counts, counts) for intervals in (0, 1]."""
    steps = np.rint(np.asarray(intervals) * INTERVAL_STEPS).astype(np.int64)
    values, counts = np.unique(steps, return_counts=True)
    return values / INTERVAL_STEPS, counts


def coverage_matrices(stats: list[DatasetStats]) -> tuple[np.ndarray, np.ndarray]:
    """[source, target] shares of target beats and of unique target fingerprints."""
    n = len(stats)
    beats, unique = np.full((n, n), np.nan), np.full((n, n), np.nan)
    for i, source in enumerate(stats):
        for j, target in enumerate(stats):
            if source.has_beats and target.has_beats:
                beats[i, j], unique[i, j] = coverage(source.fingerprints, target.fingerprints,
                                                     target.fingerprint_beats)
    return beats, unique


def write_tables(stats: list[DatasetStats], out: Path, per_class: bool = False,
                 per_genre: bool = False, top: int = 20) -> list[Path]:
    """Write every table under `out`; return the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []

    def emit(name: str, header: Sequence[str], rows: Iterable[Sequence]) -> None:
        write_csv(out / name, header, rows)
        written.append(out / name)

    emit("summary.csv",
         ["dataset", "kind", "synthetic", "tracks", "tracks_with_beats", "onsets", "tempo_median_bpm",
          "velocity_mean", "beats_with_drums", "unique_fingerprints", "unique_beat_share",
          "dropped_labels", "unknown_labels"],
         [[s.name, s.kind, s.synthetic, len(s.tracks),
           sum(t.intervals is not None for t in s.tracks), int(s.class_counts.sum()),
           float(np.median(s.tempi)) if s.tempi.size else NO_BEATS,
           float(s.velocities.mean()) if s.velocities.size else NO_VELOCITY,
           s.beats_with_drums if s.has_beats else NO_BEATS,
           s.fingerprints.size if s.has_beats else NO_BEATS,
           s.fingerprints.size / s.beats_with_drums if s.beats_with_drums else NO_BEATS,
           _labels(s.dropped_labels), _labels(s.unknown_labels)] for s in stats])
    emit("tempo.csv", ["dataset", "track_id", "tempo_bpm"],
         [[s.name, t.track_id, t.tempo if t.tempo is not None else NO_BEATS]
          for s in stats for t in s.tracks])
    emit("velocity.csv", ["dataset", "velocity", "notes", "share"],
         [row for s in stats for row in _count_rows(s.name, s.velocities)])
    emit("intervals.csv", ["dataset", "interval_beats", "intervals", "share"],
         [row for s in stats for row in _interval_rows(s.name, s.intervals)])
    emit("meter.csv", ["dataset", "meter", "tracks", "share"],
         [[s.name, meter, count, count / sum(s.meters.values())]
          for s in stats for meter, count in sorted(s.meters.items())])
    emit("classes.csv", ["dataset", "class", "onsets", "share"],
         [[s.name, c, int(n), n / max(1, s.class_counts.sum())]
          for s in stats for c, n in zip(CLASSES, s.class_counts)])
    emit("fingerprints.csv", ["dataset", "rank", "fingerprint", "beats", "share"],
         [row for s in stats for row in _top_fingerprints(s, top)])
    beats, unique = coverage_matrices(stats)
    names = [s.name for s in stats]
    for name, matrix in (("coverage_beats.csv", beats), ("coverage_unique.csv", unique)):
        emit(name, ["source \\ target", *names],
             [[source, *matrix[i]] for i, source in enumerate(names)])
    if per_class:
        emit("intervals_per_class.csv", ["dataset", "class", "interval_beats", "intervals", "share"],
             [[row[0], c, *row[1:]] for s in stats for c in CLASSES
              for row in _interval_rows(s.name, s.class_intervals.get(c, np.zeros(0)))])
        emit("velocity_per_class.csv", ["dataset", "class", "velocity", "notes", "share"],
             [[row[0], c, *row[1:]] for s in stats for c in CLASSES
              for row in _count_rows(s.name, s.class_velocities.get(c, np.zeros(0, int)))])
    if per_genre:
        emit("genres.csv", ["dataset", "genre", "tracks", "onsets", "tempo_median_bpm",
                            "velocity_mean", "interval_median_beats",
                            *[f"share_{c}" for c in CLASSES]],
             [row for s in stats for row in _genre_rows(s)])
    return written


def _labels(counts: dict) -> str:
    return " ".join(f"{label}:{count}" for label, count in sorted(counts.items()))


def _count_rows(name: str, values: np.ndarray) -> list[list]:
    values, counts = np.unique(np.asarray(values, dtype=np.int64), return_counts=True)
    return [[name, int(v), int(n), n / counts.sum()] for v, n in zip(values, counts)]


def _interval_rows(name: str, intervals: np.ndarray) -> list[list]:
    grid, counts = interval_histogram(intervals)
    return [[name, float(g), int(n), n / counts.sum()] for g, n in zip(grid, counts)]


def _top_fingerprints(s: DatasetStats, top: int) -> list[list]:
    order = np.lexsort((s.fingerprints, -s.fingerprint_beats))[:top]
    total = max(1, s.beats_with_drums)
    return [[s.name, rank + 1, describe_fingerprint(s.fingerprints[i]), int(s.fingerprint_beats[i]),
             s.fingerprint_beats[i] / total] for rank, i in enumerate(order)]


def _genre_rows(s: DatasetStats) -> list[list]:
    rows = []
    for genre in sorted({t.genre for t in s.tracks if t.genre}):
        tracks = [t for t in s.tracks if t.genre == genre]
        counts = np.sum([t.class_counts for t in tracks], axis=0)
        tempi = [t.tempo for t in tracks if t.tempo is not None]
        velocities = [t.velocities for t in tracks if t.velocities is not None]
        intervals = [t.intervals for t in tracks if t.intervals is not None]
        velocity = np.concatenate(velocities) if velocities else np.zeros(0)
        interval = np.concatenate(intervals) if intervals else np.zeros(0)
        rows.append([s.name, genre, len(tracks), int(counts.sum()),
                     float(np.median(tempi)) if tempi else NO_BEATS,
                     float(velocity.mean()) if velocity.size else NO_VELOCITY,
                     float(np.median(interval)) if interval.size else
                     (NO_BEATS if not intervals else ""),
                     *(counts / max(1, counts.sum()))])
    return rows

"""Pieces every reader shares: text annotations, beat files, label mapping,
subsets, and reporting what a reader dropped or did not recognise."""

from __future__ import annotations

import os
import warnings
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np

from adtos.datasets.track import Dataset, Track
from adtos.vocab import CLASS_INDEX, gm_class_indices


def read_text_columns(path: str | os.PathLike) -> list[list[str]]:
    """Whitespace-separated columns per non-empty line; `#` lines are comments."""
    rows = []
    with open(path, encoding="utf-8", errors="replace") as handle:
        for line in handle:
            fields = line.split()
            if fields and not fields[0].startswith("#"):
                rows.append(fields)
    return rows


def read_onset_file(path: str | os.PathLike) -> tuple[np.ndarray, list[str]]:
    """`time label` per line (tab or spaces) → (times, labels as written)."""
    rows = read_text_columns(path)
    bad = [i + 1 for i, row in enumerate(rows) if len(row) < 2]
    if bad:
        raise ValueError(f"{path}: line {bad[0]} has no label; expected 'time<TAB>label'")
    try:
        times = np.array([float(row[0]) for row in rows], dtype=np.float64)
    except ValueError as error:
        raise ValueError(f"{path}: onset times must be numbers ({error})") from None
    return times, [row[1] for row in rows]


def read_beat_file(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray | None]:
    """`time [beat number]` per line → (beat times, beat numbers or None).

    Beat numbers count 1..N within a bar (MDB Drums, RBMA13, ADTOF), so 1 marks
    a downbeat. Some files write the number as a float ("1.0").
    """
    rows = read_text_columns(path)
    times = np.array([float(row[0]) for row in rows], dtype=np.float64)
    if rows and all(len(row) >= 2 for row in rows):
        numbers = np.array([int(round(float(row[1]))) for row in rows], dtype=np.int64)
    else:
        numbers = None
    order = np.argsort(times, kind="stable")
    return times[order], None if numbers is None else numbers[order]


def downbeats_and_meter(beats: np.ndarray, numbers: np.ndarray | None
                        ) -> tuple[np.ndarray | None, str | None]:
    """Downbeats where the beat number is 1; the meter from the most common bar length.

    Beat annotations count beats, not note values, so the denominator is
    written as 4 ("3/4" for three beats a bar): it is the convention of every
    beat-annotated set read here, and it is what the stats compare.
    """
    if numbers is None or numbers.size == 0:
        return None, None
    downbeats = beats[numbers == 1]
    bar_starts = np.flatnonzero(numbers == 1)
    if bar_starts.size >= 2:
        lengths = np.diff(bar_starts)
        values, counts = np.unique(lengths, return_counts=True)
        per_bar = int(values[np.argmax(counts)])
    else:
        per_bar = int(numbers.max())
    return downbeats, f"{per_bar}/4"


def tempo_from_beats(beats: np.ndarray | None) -> float | None:
    """Median of 60 / inter-beat interval, in bpm; None with fewer than two beats."""
    if beats is None or len(beats) < 2:
        return None
    intervals = np.diff(np.asarray(beats, dtype=np.float64))
    intervals = intervals[intervals > 0]
    return float(np.median(60.0 / intervals)) if intervals.size else None


def map_labels(times: np.ndarray, labels: list[str], table: Mapping[str, str | None]
               ) -> tuple[np.ndarray, np.ndarray, Counter, Counter]:
    """Map dataset labels to class indices with `table` (label → class name or None).

    Returns (onsets, class indices, dropped, unknown): `dropped` counts labels
    the table knows but leaves out of the 5 classes (MDB's OT), `unknown`
    counts labels it does not know at all. Neither is lost silently.
    """
    keep = np.zeros(len(labels), dtype=bool)
    classes = np.zeros(len(labels), dtype=np.int64)
    dropped: Counter = Counter()
    unknown: Counter = Counter()
    for i, label in enumerate(labels):
        if label not in table:
            unknown[label] += 1
        elif table[label] is None:
            dropped[label] += 1
        else:
            keep[i] = True
            classes[i] = CLASS_INDEX[table[label]]
    return times[keep], classes[keep], dropped, unknown


def map_gm_notes(times: np.ndarray, notes: np.ndarray) -> tuple[np.ndarray, np.ndarray, Counter]:
    """GM notes → (onsets, class indices, dropped notes as str → count)."""
    notes = np.asarray(notes, dtype=np.int64)
    classes = np.full(notes.shape, -1, dtype=np.int64)
    in_range = (notes >= 0) & (notes <= 127)
    classes[in_range] = gm_class_indices(notes[in_range])
    keep = classes >= 0
    values, counts = np.unique(notes[~keep], return_counts=True)
    dropped = Counter({str(int(v)): int(c) for v, c in zip(values, counts)})
    return times[keep], classes[keep], dropped


def read_id_list(path: str | os.PathLike) -> list[str]:
    """A subset file: one track id per line; blank lines and `#` comments ignored."""
    lines = Path(path).read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]


def select(ids: list[str], subset: Iterable[str] | str | os.PathLike | None, where) -> list[str]:
    """Keep the ids listed in `subset` (ids or a list file), in the listed order (a list
    made for a scaling sweep is read from its start); each id once."""
    if subset is None:
        return ids
    wanted = read_id_list(subset) if isinstance(subset, (str, os.PathLike)) else list(subset)
    known = set(ids)
    missing = [i for i in wanted if i not in known]
    if missing:
        raise ValueError(f"{where}: {len(missing)} listed track ids are not in the dataset, "
                         f"e.g. {missing[0]!r}")
    return list(dict.fromkeys(wanted))


def finish_dataset(name: str, kind: str, root: Path, tracks: list[Track],
                   skipped: list[tuple[str, str]] | None = None) -> Dataset:
    """Sum the per-track label reports into the dataset and warn once about
    unknown labels and skipped files."""
    dropped: Counter = Counter()
    unknown: Counter = Counter()
    for track in tracks:
        dropped.update(track.metadata.get("dropped_labels", {}))
        unknown.update(track.metadata.get("unknown_labels", {}))
    metadata = {"dropped_labels": dict(sorted(dropped.items())),
                "unknown_labels": dict(sorted(unknown.items())),
                "skipped": list(skipped or [])}
    if unknown:
        listing = ", ".join(f"{label!r} ×{count}" for label, count in sorted(unknown.items()))
        warnings.warn(f"{kind} dataset {root}: labels outside the mapping were left out: {listing}",
                      stacklevel=3)
    if skipped:
        warnings.warn(f"{kind} dataset {root}: skipped {len(skipped)} unreadable tracks, "
                      f"first: {skipped[0][0]}: {skipped[0][1]}", stacklevel=3)
    return Dataset(name, kind, root, tracks, metadata)

"""Readers for sets annotated as `time<TAB>MIDI note` text files (RBMA13, ADTOF).

The two sets share a shape: a folder of drum annotations, a folder of beat
annotations with beat numbers, and a folder of audio with the same stems.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np

from adtos.datasets.common import (downbeats_and_meter, finish_dataset, map_gm_notes,
                                   read_beat_file, read_onset_file, select, tempo_from_beats)
from adtos.datasets.track import Dataset, Track

AUDIO_SUFFIXES = (".wav", ".flac", ".mp3", ".ogg")


def first_dir(root: Path, candidates: tuple[str, ...]) -> Path | None:
    for candidate in candidates:
        if (root / candidate).is_dir():
            return root / candidate
    return None


def read_note_text_dataset(root: Path, kind: str, name: str | None, subset,
                           annotation_dirs: tuple[str, ...], beat_dirs: tuple[str, ...],
                           audio_dirs: tuple[str, ...], to_gm: Callable[[str], int | None]
                           ) -> Dataset:
    """Read every annotation file under the first existing `annotation_dirs`.

    `to_gm` turns a label as written into a GM note, or None when the set's
    label has no GM equivalent (reported as unknown).
    """
    annotation_dir = first_dir(root, annotation_dirs)
    if annotation_dir is None:
        raise FileNotFoundError(f"{root}: none of {', '.join(annotation_dirs)} exists; "
                                f"is this a {kind} dataset?")
    files = {p.stem.removesuffix(".drums"): p for p in sorted(annotation_dir.iterdir())
             if p.suffix in (".txt", ".drums") and not p.name.startswith(".")}
    beat_dir = first_dir(root, beat_dirs)
    audio_dir = first_dir(root, audio_dirs)
    tracks, skipped = [], []
    for track_id in select(sorted(files), subset, root):
        try:
            tracks.append(_read_track(track_id, files[track_id], beat_dir, audio_dir, to_gm))
        except (OSError, ValueError) as error:
            skipped.append((track_id, str(error)))
    return finish_dataset(name or root.name, kind, root, tracks, skipped)


def _read_track(track_id: str, annotation: Path, beat_dir: Path | None, audio_dir: Path | None,
                to_gm: Callable[[str], int | None]) -> Track:
    times, raw = read_onset_file(annotation)
    gm = [to_gm(label) for label in raw]
    known = np.array([note is not None for note in gm], dtype=bool)
    unknown = Counter(label for label, note in zip(raw, gm) if note is None)
    notes = np.array([note for note in gm if note is not None], dtype=np.int64)
    onsets, labels, dropped = map_gm_notes(times[known], notes)
    beats = downbeats = meter = None
    if beat_dir is not None and (beat_dir / f"{track_id}.txt").exists():
        beats, numbers = read_beat_file(beat_dir / f"{track_id}.txt")
        downbeats, meter = downbeats_and_meter(beats, numbers)
    audio = None
    if audio_dir is not None:
        audio = next((audio_dir / f"{track_id}{s}" for s in AUDIO_SUFFIXES
                      if (audio_dir / f"{track_id}{s}").exists()), None)
    return Track(track_id, audio, onsets, labels, original_labels=raw, original_onsets=times,
                 beats=beats, downbeats=downbeats, tempo=tempo_from_beats(beats), meter=meter,
                 metadata={"dropped_labels": dict(dropped), "unknown_labels": dict(unknown)})


def integer_label(label: str) -> int | None:
    try:
        return int(round(float(label)))
    except ValueError:
        return None

"""The shape every dataset has, synthetic or real: a list of tracks.

A track knows where its audio is, its drum onsets as (time, 5-class label),
the dataset's own labels, and beats/tempo/meter when the dataset has them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from adtos.vocab import CLASSES


@dataclass
class Track:
    track_id: str
    audio_path: Path | None
    onsets: np.ndarray  # seconds, float64, sorted
    labels: np.ndarray  # class index into adtos.vocab.CLASSES, int64, one per onset
    original_labels: list[str] = field(default_factory=list)  # the dataset's own labels, all onsets
    original_onsets: np.ndarray | None = None  # times of original_labels (before mapping/dropping)
    beats: np.ndarray | None = None  # seconds
    downbeats: np.ndarray | None = None  # seconds
    tempo: float | None = None  # bpm
    meter: str | None = None  # "4/4"
    velocities: np.ndarray | None = None  # MIDI velocity per onset, MIDI datasets only
    # Per onset, where the dataset has them (ADTOS renders: adtos.render.audibility):
    notes: np.ndarray | None = None     # GM note (e.g. 44, the pedal hi-hat, within HH)
    level_db: np.ndarray | None = None  # the hit alone in its drum stem, dB re full scale
    smr_db: np.ndarray | None = None    # the hit against the rest of the mix, dB
    split: str | None = None
    metadata: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.onsets = np.asarray(self.onsets, dtype=np.float64)
        self.labels = np.asarray(self.labels, dtype=np.int64)
        if self.onsets.shape != self.labels.shape:
            raise ValueError(f"track {self.track_id}: {self.onsets.size} onsets but "
                             f"{self.labels.size} labels")
        if self.labels.size and (self.labels.min() < 0 or self.labels.max() >= len(CLASSES)):
            raise ValueError(f"track {self.track_id}: labels must be class indices 0..{len(CLASSES) - 1}")
        order = np.argsort(self.onsets, kind="stable")
        self.onsets, self.labels = self.onsets[order], self.labels[order]
        for name in ("velocities", "notes", "level_db", "smr_db"):
            values = getattr(self, name)
            if values is None:
                continue
            values = np.asarray(values)
            if values.shape != self.onsets.shape:
                raise ValueError(f"track {self.track_id}: {values.size} {name} for "
                                 f"{self.onsets.size} onsets")
            setattr(self, name, values[order])

    def load_audio(self, sr: int = 44100, mono: bool = True) -> np.ndarray:
        """Audio as float32, shape (n,) when mono else (n, channels), resampled to `sr`."""
        from adtos.datasets.audio import load_audio

        if self.audio_path is None:
            raise FileNotFoundError(f"track {self.track_id} has no audio")
        return load_audio(self.audio_path, sr=sr, mono=mono)


@dataclass
class Dataset:
    name: str
    kind: str
    root: Path
    tracks: list[Track]
    # Reader notes about the whole set, e.g. {"dropped_labels": {"OT": 6},
    # "unknown_labels": {"xx": 2}, "skipped": [(file, reason)]}.
    metadata: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.tracks)

    def __iter__(self):
        return iter(self.tracks)

    def __getitem__(self, index: int) -> Track:
        return self.tracks[index]

    def split(self, name: str) -> "Dataset":
        """The tracks of one split (`train`, `val`, `test`) as a dataset of their own."""
        return Dataset(f"{self.name}[{name}]", self.kind, self.root,
                       [t for t in self.tracks if t.split == name], dict(self.metadata))

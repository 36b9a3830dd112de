"""MDB Drums (Southall et al., ISMIR 2017): 23 MedleyDB tracks.

    annotations/class/<name>_class.txt    time<TAB>KD|SD|HH|TT|CY|OT
    annotations/beats/<name>_MIX.beats    time<TAB>beat number (1 = downbeat)
    audio/full_mix/<name>_MIX.wav, audio/drum_only/<name>_Drum.wav

OT ("other": tambourine, cowbell...) has no place in the 5 classes; it is
dropped and counted in the track's and dataset's `dropped_labels`.

What its annotators marked: onsets of the recorded drum kit, manually
annotated and double-checked (MIREX 2017), with a subclass file that names the
playing technique. They mark what a listener hears of the kit: in the four
tracks kept here, 198 closed and 9 open hi-hats but no pedal hi-hat (PHH),
and 4 ghost notes (SDG) among 82 snares; over 13 tracks the pedal hi-hat
appears once (docs/datasets.md). No velocities: adtos stats compares it with
synthetic sets through an onset strength measured from the audio.
"""

from __future__ import annotations

import os
from pathlib import Path

from adtos.datasets.common import (downbeats_and_meter, finish_dataset, map_labels, read_beat_file,
                                   read_onset_file, select, tempo_from_beats)
from adtos.datasets.track import Dataset, Track

MDB_CLASSES: dict[str, str | None] = {"KD": "BD", "SD": "SD", "TT": "TT", "HH": "HH", "CY": "CY",
                                      "OT": None}
MIXES = {"full_mix": "_MIX.wav", "drum_only": "_Drum.wav"}


def read_mdb_drums(path: str | os.PathLike, mix: str = "full_mix", subset=None,
                   name: str | None = None) -> Dataset:
    """Read MDB Drums from its root folder; `mix` is `full_mix` or `drum_only`."""
    root = Path(path)
    if mix not in MIXES:
        raise ValueError(f"MDB Drums mix must be one of {', '.join(MIXES)}, got {mix!r}")
    class_dir = root / "annotations" / "class"
    if not class_dir.is_dir():
        raise FileNotFoundError(f"{root}: no annotations/class folder; is this MDB Drums?")
    ids = sorted(p.name[: -len("_class.txt")] for p in class_dir.glob("*_class.txt"))
    tracks, skipped = [], []
    for track_id in select(ids, subset, root):
        try:
            tracks.append(_read_track(root, track_id, mix))
        except (OSError, ValueError) as error:
            skipped.append((track_id, str(error)))
    return finish_dataset(name or root.name, "mdb", root, tracks, skipped)


def read_mdb_drum_only(path: str | os.PathLike, subset=None, name: str | None = None) -> Dataset:
    """MDB Drums' drum-only stems with the same annotations (kind `mdb_drum_only`):
    beside the full mixes, they tell what a model misses because of the
    accompaniment from what it misses in the drums themselves."""
    return read_mdb_drums(path, mix="drum_only", subset=subset, name=name)


def _read_track(root: Path, track_id: str, mix: str) -> Track:
    times, raw = read_onset_file(root / "annotations" / "class" / f"{track_id}_class.txt")
    onsets, labels, dropped, unknown = map_labels(times, raw, MDB_CLASSES)
    beats = downbeats = meter = None
    beat_file = root / "annotations" / "beats" / f"{track_id}_MIX.beats"
    if beat_file.exists():
        beats, numbers = read_beat_file(beat_file)
        downbeats, meter = downbeats_and_meter(beats, numbers)
    audio = root / "audio" / mix / f"{track_id}{MIXES[mix]}"
    return Track(track_id, audio if audio.exists() else None, onsets, labels,
                 original_labels=raw, original_onsets=times, beats=beats, downbeats=downbeats,
                 tempo=tempo_from_beats(beats), meter=meter,
                 metadata={"dropped_labels": dict(dropped), "unknown_labels": dict(unknown)})

"""Groove MIDI Dataset adapter: `info.csv` says style, bpm, meter, beat/fill, split, drummer.

GMD is recorded to a click, so the bar lines come from the file's own tempo
and meter maps. The TD-11's non-GM pitches are remapped with GMD_TO_GM.
"""

from __future__ import annotations

import csv
from pathlib import Path

from adtos.vocab import GMD_TO_GM

from .common import Job, cut_on_midi_bars, read_source_midi, voice_from_notes
from .loops import LoopRows, SourceInfo

INFO_FILE = "info.csv"
REQUIRED_FIELDS = ("drummer", "session", "style", "bpm", "beat_type", "time_signature", "midi_filename", "split")
SPLIT_NAMES = {"train": "train", "validation": "val", "test": "test"}


def is_groove_library(root: Path) -> bool:
    return (root / INFO_FILE).is_file()


def find_jobs(root: Path) -> list[Job]:
    """One job per row of info.csv, in the file's order."""
    info_path = root / INFO_FILE
    if not info_path.is_file():
        raise ValueError(f"{info_path} not found: --kind groove needs the Groove MIDI Dataset's "
                         f"info.csv at the library root")
    with open(info_path, newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [name for name in REQUIRED_FIELDS if name not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{info_path}: missing column(s) {', '.join(missing)}; "
                             f"expected the Groove MIDI Dataset's info.csv")
        return [Job(source=row["midi_filename"], meta=dict(row)) for row in reader]


def index_job(root: Path, job: Job, library: str, loop_bars: int,
              rows: LoopRows, errors: list[tuple[str, str]]) -> None:
    meta = job.meta
    path = root / job.source
    if not path.is_file():
        errors.append((job.source, "listed in info.csv but not found"))
        return
    midi = read_source_midi(path, job.source, errors)
    if midi is None:
        return
    style = meta["style"].strip().lower()
    genre = style.split("/")[0]
    session = meta["session"].strip()
    split = SPLIT_NAMES.get(meta["split"].strip().lower())
    if split is None:
        errors.append((job.source, f"info.csv split {meta['split']!r} is not train, validation or test"))
        return
    info = SourceInfo(
        library=library, source=job.source, kind="groove", genre=genre,
        # Loops of one session in one style belong together: beats and their fills.
        theme=f"{session}/{genre}", split=split, beat_type=meta["beat_type"].strip().lower(),
        drummer=meta["drummer"].strip())
    voice = voice_from_notes(midi.notes, midi.ticks_per_beat, "drums", pitch_map=GMD_TO_GM)
    cut_on_midi_bars(midi, [voice], info, loop_bars, rows, errors)

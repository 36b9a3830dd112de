"""Small slices of the real loop libraries: for tests and benchmarks that need
real MIDI (the Groove MIDI Dataset, POP909) but not all of it.

Indexing all of GMD and POP909 takes minutes, so a slice links a few dozen of
their files into a folder of the same layout (GMD's info.csv cut to them),
which `adtos index --kind groove` / `--kind pop909` reads like the original.
"""

from __future__ import annotations

import csv
from pathlib import Path

from adtos.fileio import write_csv_atomic


def groove_slice(groove: Path, out: Path, per_split: dict[str, int]) -> Path:
    """The first `count` 4/4 beats of each split of GMD, linked into `out` with their info.csv."""
    with open(groove / "info.csv", newline="") as handle:
        reader = csv.DictReader(handle)
        fields, rows = reader.fieldnames, list(reader)
    chosen = []
    for split, count in per_split.items():
        chosen += [r for r in rows if r["split"] == split and r["beat_type"] == "beat"
                   and r["time_signature"] == "4-4"][:count]
    for row in chosen:
        target = out / row["midi_filename"]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.symlink_to(groove / row["midi_filename"])
    write_csv_atomic(out / "info.csv", fields, chosen)
    return out


def pop909_slice(pop909: Path, out: Path, songs: int) -> Path:
    """The first `songs` POP909 song folders, their files linked into `out`."""
    out.mkdir(parents=True)
    for song in sorted(p for p in pop909.iterdir() if p.is_dir())[:songs]:
        (out / song.name).mkdir()
        for path in song.iterdir():  # files linked one by one: rglob does not follow links
            if path.is_file():
                (out / song.name / path.name).symlink_to(path)
    return out

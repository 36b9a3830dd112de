"""`adtos build` on the real libraries: a slice of GMD (drums) and POP909 (piano).

Indexing all of GMD and POP909 takes minutes, so the test links a few dozen
files of each into a folder of the same layout (GMD's info.csv cut to them)
and builds 2 train + 1 val tracks from it.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from adtos.cli import main as adtos

pytestmark = pytest.mark.shared_data


def groove_slice(groove: Path, out: Path, per_split: dict[str, int]) -> Path:
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
    with open(out / "info.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(chosen)
    return out


def pop909_slice(pop909: Path, out: Path, songs: int) -> Path:
    out.mkdir(parents=True)
    for song in sorted(p for p in pop909.iterdir() if p.is_dir())[:songs]:
        (out / song.name).mkdir()
        for path in song.iterdir():  # files linked one by one: rglob does not follow links
            if path.is_file():
                (out / song.name / path.name).symlink_to(path)
    return out


def test_build_from_groove_and_pop909(shared_data, tmp_path):
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from test_build_e2e import tiny_presets

    groove = groove_slice(shared_data / "groove", tmp_path / "groove",
                          {"train": 16, "validation": 6})
    pop = pop909_slice(shared_data / "pop909", tmp_path / "pop909", songs=40)
    tiny_presets(tmp_path / "presets.jsonl")
    (tmp_path / "real.toml").write_text(f"""
[dataset]
name = "real-slice"

[[libraries]]
path = "{groove.name}"
kind = "groove"

[[libraries]]
path = "{pop.name}"
kind = "pop909"

[presets]
library = "presets.jsonl"

[tracks]
train = 2
val = 1
duration = 8.0
voices = 2
""")
    out = tmp_path / "ds"
    assert adtos(["build", str(tmp_path / "real.toml"), "--out", str(out), "--workers", "2"]) == 0
    rows = pq.read_table(out / "manifest.parquet").to_pylist()
    assert [r["split"] for r in rows] == ["train", "train", "val"]
    train_loops = {loop for r in rows if r["split"] == "train" for loop in r["loops"]}
    val_loops = {loop for r in rows if r["split"] == "val" for loop in r["loops"]}
    assert not train_loops & val_loops
    libraries = {loop.split("/", 1)[0] for loop in train_loops | val_loops}
    assert libraries == {"groove", "pop909"}
    card = (out / "README.md").read_text()
    assert "CC BY 4.0" in card and "MIT — POP909" in card
    for row in rows:
        assert row["voices"] == ["drums", "piano"]
        assert (out / row["audio"]).is_file()

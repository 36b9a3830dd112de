"""`adtos build` on the real libraries: a slice of GMD (drums) and POP909 (piano).

Indexing all of GMD and POP909 takes minutes, so the test links a few dozen
files of each into a folder of the same layout (GMD's info.csv cut to them)
and builds 2 train + 1 val tracks from it.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest

from adtos.cli import main as adtos
from adtos.index.testing import groove_slice, pop909_slice

pytestmark = pytest.mark.shared_data


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

"""On real POP909 songs: the lead loops are the MELODY track, the bridge loops the BRIDGE track."""

from __future__ import annotations

from collections import Counter

import pretty_midi
import pytest

from adtos.index import index_library
from adtos.index.testing import groove_slice, pop909_slice

pytestmark = [pytest.mark.shared_data, pytest.mark.slow]
MARGIN_S = 0.1  # notes this close to a loop boundary may belong to either loop


def test_lead_and_bridge_loops_hold_the_melody_and_bridge_notes(shared_data, tmp_path):
    library = pop909_slice(shared_data / "pop909", tmp_path / "pop909", songs=4)
    loops = index_library(library, "pop909", workers=1).loops.to_pylist()
    ids = {r["loop_id"] for r in loops}
    midis = {song.name: pretty_midi.PrettyMIDI(str(song / f"{song.name}.mid"))
             for song in library.iterdir()}
    for role, track in (("lead", "MELODY"), ("bridge", "BRIDGE")):
        mine = [r for r in loops if r["role"] == role]
        assert mine, role
        for row in mine:
            assert row["loop_id"].endswith(f":{role}") and row["loop_id"].split(":")[0] in ids
            midi = midis[row["theme"]]
            (instrument,) = [i for i in midi.instruments if i.name.strip().upper() == track]
            inside = [n.pitch for n in instrument.notes
                      if row["start_sec"] + MARGIN_S <= n.start < row["end_sec"] - MARGIN_S]
            around = Counter(n.pitch for n in instrument.notes
                             if row["start_sec"] - MARGIN_S <= n.start < row["end_sec"] + MARGIN_S)
            assert len(inside) <= row["note_count"] <= sum(around.values())
            assert not Counter(row["note_pitch"]) - around  # every lead note is a MELODY note


def test_build_with_lead_bridge_balance_and_master(shared_data, tmp_path):
    """`adtos build` on a GMD + POP909 slice with every mix lever on: the lead is
    heard, the drawn mix is in the manifest and the card, the master meets its target."""
    import sys
    from pathlib import Path

    import pyarrow.parquet as pq

    from adtos.cli import main as adtos
    from adtos.presets import Preset, load_presets, save_presets

    sys.path.insert(0, str(Path(__file__).parent))
    from test_build_e2e import tiny_presets

    groove_slice(shared_data / "groove", tmp_path / "groove", {"train": 12, "validation": 4})
    pop909_slice(shared_data / "pop909", tmp_path / "pop909", songs=24)
    tiny_presets(tmp_path / "presets.jsonl")
    extra = [Preset(role="lead", name="flute", source={"soundfont": "TimGM6mb.sf2", "bank": 0,
                                                        "program": 73}),
             Preset(role="bridge", name="strings", source={"soundfont": "TimGM6mb.sf2", "bank": 0,
                                                            "program": 48})]
    save_presets(load_presets(tmp_path / "presets.jsonl") + extra, tmp_path / "presets.jsonl")
    (tmp_path / "mix.toml").write_text("""
[dataset]
name = "mix-slice"

[[libraries]]
path = "groove"
kind = "groove"

[[libraries]]
path = "pop909"
kind = "pop909"

[presets]
library = "presets.jsonl"

[tracks]
train = 2
val = 1
duration = 12.0
voices = 2
lead = true
bridge = true

[render]
balance_db = [-12.0, 0.0]
master = true
master_lufs = [-18.0, -10.0]
""")
    out = tmp_path / "ds"
    assert adtos(["build", str(tmp_path / "mix.toml"), "--out", str(out), "--workers", "1"]) == 0
    rows = pq.read_table(out / "manifest.parquet").to_pylist()
    assert any("lead" in r["voices"] for r in rows)
    for row in rows:
        assert -12.0 <= row["balance_db"] <= 0.0
        assert abs(row["master_lufs"] - row["master_lufs_target"]) <= 0.5
        if "lead" in row["voices"]:
            assert row["lead_preset"] == extra[0].id
            assert any(loop.endswith(":lead") for loop in row["loops"])
    card = (out / "README.md").read_text()
    assert "drums minus accompaniment" in card and "master bus" in card

"""On real POP909 songs: the lead loops are the MELODY track, the bridge loops the BRIDGE track."""

from __future__ import annotations

from collections import Counter

import pretty_midi
import pytest

from adtos.index import index_library

pytestmark = [pytest.mark.shared_data, pytest.mark.slow]
MARGIN_S = 0.1  # notes this close to a loop boundary may belong to either loop


def test_lead_and_bridge_loops_hold_the_melody_and_bridge_notes(shared_data, tmp_path):
    songs = sorted(p for p in (shared_data / "pop909").iterdir() if p.is_dir())[:4]
    library = tmp_path / "pop909"
    library.mkdir()
    for song in songs:
        (library / song.name).symlink_to(song, target_is_directory=True)
    loops = index_library(library, "pop909", workers=1).loops.to_pylist()
    ids = {r["loop_id"] for r in loops}
    midis = {song: pretty_midi.PrettyMIDI(str(library / song / f"{song}.mid"))
             for song in (s.name for s in songs)}
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

"""Lead and bridge voices: the melody of the piano loop's own song section.

The loop index is the synthetic one of test_assemble.py plus, for most piano
loops, a `lead` loop and a `bridge` loop with the piano's id and suffix, as the
POP909 adapter writes them (adtos.index.pop909).
"""

from __future__ import annotations

import numpy as np
import pretty_midi
import pyarrow as pa
import pytest

from adtos.assemble import AssembleError, AssembleOptions, assemble_tracks
from adtos.assemble.synthetic import synthetic_loop_index

SUFFIX = {"lead": ":lead", "bridge": ":bridge"}


def with_companions(loops: pa.Table) -> pa.Table:
    """Every piano loop but each fifth gets a lead (its top notes an octave up) and a bridge."""
    rows = loops.to_pylist()
    extra = []
    pianos = [r for r in rows if r["role"] == "piano"]
    for k, piano in enumerate(pianos):
        if k % 5 == 4:
            continue
        for role, shift in (("lead", 12), ("bridge", -5)):
            row = dict(piano, loop_id=piano["loop_id"] + SUFFIX[role], role=role)
            starts = np.asarray(piano["note_start_qn"])
            keep = np.r_[True, np.diff(starts) > 1e-6]  # one note per onset: a line, not chords
            row["note_start_qn"] = starts[keep].tolist()
            row["note_dur_qn"] = np.asarray(piano["note_dur_qn"])[keep].tolist()
            row["note_pitch"] = (np.asarray(piano["note_pitch"])[keep] + shift).tolist()
            row["note_velocity"] = np.asarray(piano["note_velocity"])[keep].tolist()
            row["note_count"] = len(row["note_pitch"])
            extra.append(row)
    return pa.Table.from_pylist(rows + extra, schema=loops.schema)


@pytest.fixture(scope="module")
def loops() -> pa.Table:
    return with_companions(synthetic_loop_index({"drums": 32, "piano": 20, "bass": 8, "guitar": 8},
                                                seed=5))


def assemble(loops, out, **options):
    table = assemble_tracks(loops, out, AssembleOptions(tracks=3, duration=40.0, voices=4, seed=2,
                                                        **options))
    return table.to_pylist()


def notes_of(midi_path, name):
    midi = pretty_midi.PrettyMIDI(str(midi_path))
    (instrument,) = [i for i in midi.instruments if i.name == name]
    return [(round(n.start, 6), n.pitch, n.velocity) for n in instrument.notes]


def test_lead_and_bridge_come_from_the_piano_loops_section(loops, tmp_path):
    by_id = {r["loop_id"]: r for r in loops.to_pylist()}
    rows = assemble(loops, tmp_path, lead=True, bridge=True)
    heard = 0
    for row in rows:
        assert row["voice_names"] == ["drums", "piano", "bass", "guitar", "lead", "bridge"]
        pianos = {p["section"]: p for p in row["loops"] if p["voice"] == "piano"}
        for placement in row["loops"]:
            if placement["voice"] not in SUFFIX:
                continue
            piano = pianos[placement["section"]]
            assert placement["loop_id"] == piano["loop_id"] + SUFFIX[placement["voice"]]
            assert placement["transpose"] == piano["transpose"]  # in the piano's key
            assert by_id[placement["loop_id"]]["role"] == placement["voice"]
            heard += placement["voice"] == "lead"
        # A section whose piano loop has no lead has no lead placement.
        for section, piano in pianos.items():
            has_lead = piano["loop_id"] + ":lead" in by_id
            assert has_lead == any(p["voice"] == "lead" and p["section"] == section
                                   for p in row["loops"])
        lead_notes = notes_of(tmp_path / row["midi_path"], "lead")
        assert lead_notes, "the lead voice is in the MIDI"
    assert heard > 0


def test_the_lead_lever_changes_no_other_voice(loops, tmp_path):
    plain = assemble(loops, tmp_path / "plain")
    lead = assemble(loops, tmp_path / "lead", lead=True, bridge=True)
    for a, b in zip(plain, lead):
        assert [p for p in b["loops"] if p["voice"] not in SUFFIX] == a["loops"]
        for voice in ("drums", "piano", "bass", "guitar"):
            assert notes_of(tmp_path / "plain" / a["midi_path"], voice) == \
                notes_of(tmp_path / "lead" / b["midi_path"], voice)
        assert (tmp_path / "plain" / a["annotation_path"]).read_bytes() == \
            (tmp_path / "lead" / b["annotation_path"]).read_bytes()


def test_lead_needs_companion_loops_and_the_piano(tmp_path):
    bare = synthetic_loop_index({"drums": 8, "piano": 4}, seed=1)
    with pytest.raises(AssembleError, match="voice 'lead' needs loops of role lead.*MELODY"):
        assemble_tracks(bare, tmp_path, AssembleOptions(tracks=1, voices=2, lead=True))
    assert AssembleOptions(voices=1, lead=True, bridge=True).voice_names == ("drums",)
    assert AssembleOptions(voices=2, bridge=True).voice_names == ("drums", "piano", "bridge")

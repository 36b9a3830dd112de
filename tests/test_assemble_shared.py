"""Must-show: 100 tracks of 180 s with 4 voices from a GMD and a POP909 index,
read back with pretty_midi and checked voice by voice.

To stay under a minute the indexes are made from every sixth row of GMD's info.csv
and every twelfth POP909 song (the libraries' own readers, real MIDI).
"""

from __future__ import annotations

import csv

import numpy as np
import pretty_midi
import pyarrow as pa
import pytest

from adtos.assemble import AssembleOptions, assemble_tracks
from adtos.assemble.harmony import STRUM_QN, parse_key
from adtos.vocab import GM_TO_CLASS

pytestmark = pytest.mark.shared_data


@pytest.fixture(scope="module")
def real_loops(shared_data, tmp_path_factory) -> pa.Table:
    from adtos.index import index_library, read_loop_index, write_loop_index

    root = tmp_path_factory.mktemp("libraries")
    groove = root / "groove"
    groove.mkdir()
    with open(shared_data / "groove" / "info.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    with open(groove / "info.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows[::6])
    # Links to the files (not folders: the indexer does not follow folder links).
    for row in rows[::6]:
        link = groove / row["midi_filename"]
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(shared_data / "groove" / row["midi_filename"])
    pop909 = root / "pop909"
    for song in sorted(p for p in (shared_data / "pop909").iterdir() if p.is_dir())[::12]:
        (pop909 / song.name).mkdir(parents=True)
        for file in song.iterdir():
            (pop909 / song.name / file.name).symlink_to(file)
    tables = []
    for library in (groove, pop909):
        index = index_library(library, workers=2)
        write_loop_index(index, root / f"{library.name}.parquet")
        tables.append(read_loop_index(root / f"{library.name}.parquet"))
    return pa.concat_tables(tables)


@pytest.fixture(scope="module")
def real_tracks(real_loops, tmp_path_factory):
    out = tmp_path_factory.mktemp("tracks")
    options = AssembleOptions(tracks=100, duration=180.0, voices=4, seed=0)
    return out, assemble_tracks(real_loops, out, options), options


def ticks_of(midi: pretty_midi.PrettyMIDI, times: np.ndarray) -> np.ndarray:
    """Seconds -> ticks through the file's tempo map (vectorised time_to_tick)."""
    change_times, tempi = midi.get_tempo_changes()
    change_ticks = [0]
    for k in range(1, len(change_times)):
        change_ticks.append(change_ticks[-1] + (change_times[k] - change_times[k - 1])
                            * tempi[k - 1] / 60 * midi.resolution)
    k = np.searchsorted(change_times, times, side="right") - 1
    return np.rint(np.asarray(change_ticks)[k] + (times - change_times[k]) * tempi[k] / 60
                   * midi.resolution).astype(np.int64)


def test_hundred_real_tracks_read_back_voice_by_voice(real_loops, real_tracks):
    out, table, options = real_tracks
    assert table.num_rows == 100
    rows = {r["loop_id"]: r for r in real_loops.select(
        ["loop_id", "role", "tempo", "meter", "bars", "bar_qn", "key", "split", "beat_type",
         "note_pitch", "note_start_qn"]).to_pylist()}
    res = options.resolution
    libraries, derived_voices = set(), set()
    for track in table.to_pylist():
        midi = pretty_midi.PrettyMIDI(str(out / track["midi_path"]))
        assert [i.name for i in midi.instruments] == ["drums", "piano", "bass", "guitar"]
        assert 180.0 <= track["duration"] and midi.get_end_time() <= track["duration"] + 1e-9
        libraries.update(track["libraries"])
        derived_voices.update(track["derived_voices"])

        # Tempo map: one tempo per section; meter; key signature.
        times, tempi = midi.get_tempo_changes()
        starts = np.asarray(track["section_start_sec"])
        section_tempi = np.asarray(track["section_tempi"])
        changed = np.concatenate([[True], section_tempi[1:] != section_tempi[:-1]])
        assert np.allclose(times, starts[changed]) and np.allclose(tempi, section_tempi[changed])
        signature = midi.time_signature_changes[0]
        assert f"{signature.numerator}/{signature.denominator}" == track["meter"]
        tonic, mode = parse_key(track["key"])
        assert midi.key_signature_changes[0].key_number == tonic + 12 * mode

        # Annotation file against the drum track, note by note.
        drums = [(f"{t:.6f}", p) for t, p in sorted((n.start, n.pitch) for n in midi.instruments[0].notes)]
        lines = [line.split("\t") for line in (out / track["annotation_path"]).read_text().splitlines()]
        assert [(t, int(n)) for t, n, _ in lines] == drums
        assert all(c == GM_TO_CLASS.get(int(n), "-") for _, n, c in lines)

        voice_ticks = {i.name: (ticks_of(midi, np.array([n.start for n in i.notes])),
                                np.array([n.pitch for n in i.notes])) for i in midi.instruments}
        end_tick = ticks_of(midi, np.array([track["duration"]]))[0]
        section_qn = [p["start_qn"] for p in track["loops"] if p["voice"] == "piano"] + [end_tick / res]
        masters = {p["section"]: rows[p["loop_id"]] for p in track["loops"][::-1] if p["voice"] == "drums"}
        for placement in track["loops"]:
            voice, section = placement["voice"], placement["section"]
            later = [p["start_qn"] for p in track["loops"] if p["section"] == section
                     and p["voice"] == voice and p["start_qn"] > placement["start_qn"]]
            span = (placement["start_qn"], min(later + [section_qn[section + 1]]))
            ticks, pitches = voice_ticks[voice]
            inside = (ticks >= round(span[0] * res)) & (ticks < round(span[1] * res))
            actual = set(zip(ticks[inside].tolist(), pitches[inside].tolist()))
            if placement["loop_id"] == "":           # bass from the harmony: on kicks and bar lines
                kick_ticks = {t for t, p in zip(*voice_ticks["drums"]) if p in (35, 36)}
                bar_ticks = round(masters[section]["bar_qn"] * res)
                assert actual and all({t - 1, t, t + 1} & kick_ticks or (t - span[0] * res) % bar_ticks == 0
                                      for t, _ in actual)
                continue
            loop, master = rows[placement["loop_id"]], masters[section]
            assert loop["split"] == "train" and loop["meter"] == master["meter"]
            assert abs(loop["tempo"] / master["tempo"] - 1) <= options.tempo_tolerance + 1e-9
            assert (span[0] - section_qn[section]) % loop["bar_qn"] == 0    # on the bar grid
            if voice != "drums":
                loop_tonic, loop_mode = parse_key(loop["key"])
                target = tonic if loop_mode == mode else (tonic + 9 if mode == 0 else tonic + 3)
                assert (loop_tonic + placement["transpose"] - target) % 12 == 0
            loop_qn = loop["bars"] * loop["bar_qn"]
            expected = {(int(np.rint((span[0] + r * loop_qn + s) * res)), p + placement["transpose"])
                        for r in range(placement["repeats"])
                        for s, p in zip(loop["note_start_qn"], loop["note_pitch"])
                        if span[0] + r * loop_qn + s < span[1]}
            if placement["derived"]:   # guitar voiced from a piano loop: chord onsets + strum
                onsets = np.array(sorted({t for t, _ in expected}))
                strum = int(np.ceil(6 * STRUM_QN * res))
                guitar = np.array(sorted(actual))
                before = np.searchsorted(onsets, guitar[:, 0], side="right") - 1
                assert (before >= 0).all() and (guitar[:, 0] - onsets[before] <= strum).all()
                assert ((guitar[:, 1] >= 40) & (guitar[:, 1] <= 76)).all()
                continue
            if voice == "drums":      # same-note hits within 1 ms are merged
                assert actual <= expected and len(actual) >= 0.97 * len(expected)
            else:
                assert actual <= expected and len(expected - actual) <= len(expected) * 0.02
    assert libraries == {"groove", "pop909"}
    assert derived_voices == {"bass", "guitar"}   # neither library has bass or guitar loops

"""The index on the real libraries in ../shared/data: the full Groove MIDI Dataset and a POP909 slice."""

from __future__ import annotations

import csv
from collections import defaultdict

import numpy as np
import pytest

from adtos.cli import main
from adtos.index import index_library, normalize_key, read_loop_index
from adtos.index.schema import errors_path

pytestmark = [pytest.mark.shared_data, pytest.mark.slow]


@pytest.fixture(scope="module")
def groove_index(shared_data, tmp_path_factory):
    out = tmp_path_factory.mktemp("idx") / "groove.parquet"
    assert main(["index", str(shared_data / "groove"), "--kind", "groove", "--out", str(out)]) == 0
    with open(errors_path(out), newline="") as handle:
        errors = list(csv.DictReader(handle))
    with open(shared_data / "groove" / "info.csv", newline="") as handle:
        info = {row["midi_filename"]: row for row in csv.DictReader(handle)}
    return read_loop_index(out).to_pandas(), errors, info


def test_every_gmd_performance_is_indexed(groove_index):
    loops, _, info = groove_index
    assert len(info) == 1150
    assert set(loops.source) == set(info)
    assert loops.loop_id.is_unique
    assert (loops.role == "drums").all() and (loops.key == "").all()


def test_gmd_tempo_meter_and_metadata_agree_with_info_csv(groove_index):
    loops, _, info = groove_index
    expected_bpm = loops.source.map(lambda s: float(info[s]["bpm"]))
    assert np.allclose(loops.tempo, expected_bpm, atol=0.01)
    assert (loops.meter == loops.source.map(lambda s: info[s]["time_signature"].replace("-", "/"))).all()
    assert (loops.beat_type == loops.source.map(lambda s: info[s]["beat_type"])).all()
    splits = {"train": "train", "validation": "val", "test": "test"}
    assert (loops.split == loops.source.map(lambda s: splits[info[s]["split"]])).all()
    assert (loops.drummer == loops.source.map(lambda s: info[s]["drummer"])).all()
    # TD-11 pitches are remapped to GM.
    pitches = np.concatenate(loops.note_pitch.to_numpy())
    assert not np.isin(pitches, [22, 26, 58]).any()


def test_gmd_loops_tile_each_performance_bar_by_bar(groove_index):
    loops, errors, _ = groove_index
    spans = defaultdict(list)
    for source, start, end in zip(loops.source, loops.start_bar, loops.end_bar):
        spans[source].append((start, end))
    for row in errors:  # loops with no notes are skipped but still part of the tiling
        if row["reason"].startswith("loop "):
            start, end = row["reason"].split()[1].rstrip(":").split("-")
            spans[row["source"]].append((int(start), int(end)))
    for source, ranges in spans.items():
        ranges.sort()
        assert ranges[0][0] == 0, source
        for (_, end), (next_start, _) in zip(ranges, ranges[1:]):
            assert end == next_start, source
    assert set(loops.bars) <= {1, 2, 4}
    # Seconds follow the bars: a loop lasts bars × beats-per-bar × 60 / bpm.
    beats = loops.bars * loops.bar_qn
    assert np.allclose(loops.end_sec - loops.start_sec, beats * 60.0 / loops.tempo, rtol=1e-6)


def test_pop909_piano_loops_take_their_keys_from_the_key_files(shared_data, tmp_path):
    songs = sorted(p for p in (shared_data / "pop909").iterdir() if p.is_dir())[:40]
    library = tmp_path / "pop909"
    library.mkdir()
    for song in songs:
        (library / song.name).symlink_to(song, target_is_directory=True)
    index = index_library(library, "pop909", workers=2)
    loops = index.loops.to_pandas()
    assert set(loops.source.str.split("/").str[0]) == {s.name for s in songs}
    assert set(loops.role) == {"piano", "lead", "bridge"} and (loops.key_source == "label").all()
    assert set(loops.meter) <= {"4/4", "3/4"}
    for song in songs:
        labels = {normalize_key(line.split()[2]) for line in (song / "key_audio.txt").read_text().splitlines()
                  if line.strip()}
        song_loops = loops[loops.theme == song.name]
        assert set(song_loops.key) <= labels, song.name
        if len(labels) == 1:
            assert set(song_loops.key) == labels
        # Loops start on annotated beats.
        beat_times = np.loadtxt(song / "beat_midi.txt")[:, 0]
        gaps = np.abs(song_loops.start_sec.to_numpy()[:, None] - beat_times[None, :]).min(axis=1)
        assert gaps.max() < 1e-6, song.name

"""The built-in loop pack: deterministic for a seed, varied, and read correctly by the generic adapter."""

from __future__ import annotations

import re

import numpy as np
import pytest

from adtos.cli import main
from adtos.fileio import sha256_file
from adtos.index import index_library, make_loop_pack


@pytest.fixture(scope="module")
def pack(tmp_path_factory):
    out = tmp_path_factory.mktemp("pack")
    paths = make_loop_pack(out, seed=7)
    return out, paths


@pytest.fixture(scope="module")
def pack_loops(pack):
    out, _ = pack
    index = index_library(out, "auto", workers=2)
    return index


def digests(root):
    return {p.relative_to(root).as_posix(): sha256_file(p) for p in sorted(root.rglob("*.mid"))}


def test_same_seed_gives_byte_identical_files(pack, tmp_path):
    out, paths = pack
    again = tmp_path / "again"
    assert main(["make-loops", str(again), "--seed", "7"]) == 0
    assert digests(again) == digests(out)
    assert [p.relative_to(out) for p in paths] == sorted(p.relative_to(out) for p in paths)


def test_another_seed_gives_other_performances(pack, tmp_path):
    out, _ = pack
    other = tmp_path / "other"
    make_loop_pack(other, seed=8)
    first, second = digests(out), digests(other)
    assert first.keys() == second.keys()
    assert sum(first[k] != second[k] for k in first) == len(first)


def test_pack_has_the_promised_variety(pack_loops):
    index = pack_loops
    assert index.errors == []
    loops = index.loops.to_pandas()
    assert 200 <= len(loops) <= 1000
    drums = loops[loops.role == "drums"]
    assert drums.genre.nunique() >= 4
    assert {"4/4", "3/4", "6/8"} <= set(drums.meter)
    assert {"beat", "fill"} == set(drums.beat_type)
    assert drums.tempo.round().nunique() >= 6
    for role in ("piano", "bass"):
        pitched = loops[loops.role == role]
        assert len(pitched) >= 50
        assert (pitched.key_source == "label").all()
        modes = {key.split(":")[1] for key in pitched.key}
        assert modes == {"maj", "min"} and pitched.key.nunique() >= 6


def test_pack_is_read_with_role_genre_tempo_meter_from_names(pack_loops):
    loops = pack_loops.loops.to_pandas()
    for row in loops.itertuples():
        role_folder, genre_folder, name = row.source.split("/")
        assert row.role == role_folder and row.genre == genre_folder
        assert row.tempo == pytest.approx(float(re.search(r"(\d+)bpm", name).group(1)), abs=0.01)
        assert row.theme == f"{role_folder}/{genre_folder}"
    meters = loops.groupby("genre").meter.unique()
    assert list(meters["waltz"]) == ["3/4"] and list(meters["ballad"]) == ["6/8"]
    assert (loops.loc[loops.genre == "ballad", "bar_qn"] == 3.0).all()


def test_pack_sounds_human(pack_loops):
    loops = pack_loops.loops.to_pandas()
    # Gaussian timing jitter and velocity variation, but close to the grid.
    assert loops.timing_mad_ms.median() > 2.0 and loops.timing_mad_ms.median() < 20.0
    assert (loops.velocity_std > 2.0).all()
    assert (loops.velocity_distinct > 0.1).all()
    # Every note lies inside its loop.
    for starts, bars, bar_qn in zip(loops.note_start_qn, loops.bars, loops.bar_qn):
        assert np.all((starts >= 0) & (starts < bars * bar_qn))

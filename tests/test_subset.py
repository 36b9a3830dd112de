"""Preset-ablation subsets: the first P drum presets, at most R tracks each."""

from __future__ import annotations

import pyarrow as pa
import pytest

from adtos.build.subset import select_subset, write_track_list


def manifest() -> pa.Table:
    # Presets in order of first use over train ids: d3, d1, d2; d9 only in val.
    rows = [
        ("train00000", "train", "d3"), ("train00001", "train", "d1"),
        ("train00002", "train", "d3"), ("train00003", "train", "d2"),
        ("train00004", "train", "d1"), ("train00005", "train", "d3"),
        ("val00000", "val", "d9"),
    ]
    rows = rows[::-1]  # the manifest's row order must not matter
    return pa.table({"track_id": [r[0] for r in rows], "split": [r[1] for r in rows],
                     "drum_preset": [r[2] for r in rows]})


def test_first_presets_by_first_use_with_reuse_cap():
    subset = select_subset(manifest(), drum_presets=2, reuse=2)
    assert subset.presets_selected == ["d3", "d1"]
    assert subset.track_ids == ["train00000", "train00001", "train00002", "train00004"]
    assert subset.tracks_per_preset == {"d3": 2, "d1": 2}
    assert subset.presets_available == 3 and subset.tracks_available == 6


def test_no_reuse_cap_takes_every_track_of_the_presets():
    subset = select_subset(manifest(), drum_presets=1)
    assert subset.track_ids == ["train00000", "train00002", "train00005"]


def test_more_presets_than_exist_selects_all_and_says_so():
    subset = select_subset(manifest(), drum_presets=10, reuse=1)
    assert subset.presets_selected == ["d3", "d1", "d2"]
    assert len(subset.track_ids) == 3
    text = subset.summary()
    assert "6 tracks with 3 drum presets" in text and "selected 3 presets" in text


def test_subsets_nest():
    small = set(select_subset(manifest(), drum_presets=1, reuse=1).track_ids)
    large = set(select_subset(manifest(), drum_presets=3, reuse=1).track_ids)
    assert small < large


def test_val_split_is_never_selected_from_train():
    assert "val00000" not in select_subset(manifest(), drum_presets=9).track_ids
    assert select_subset(manifest(), drum_presets=1, split="val").track_ids == ["val00000"]


def test_bad_arguments():
    with pytest.raises(ValueError, match="drum_presets must be >= 1"):
        select_subset(manifest(), drum_presets=0)
    with pytest.raises(ValueError, match="reuse must be >= 1"):
        select_subset(manifest(), drum_presets=1, reuse=0)
    with pytest.raises(ValueError, match="no 'drum_preset' column"):
        select_subset(pa.table({"track_id": ["a"], "split": ["train"]}), drum_presets=1)


def test_track_list_file(tmp_path):
    write_track_list(["train00000", "train00002"], tmp_path / "list.txt")
    assert (tmp_path / "list.txt").read_text() == "train00000\ntrain00002\n"


def test_reuse_that_cannot_be_met_is_said_and_points_to_the_ablation_config():
    # d2 has one training track: two uses of each of the three presets cannot be had.
    subset = select_subset(manifest(), drum_presets=3, reuse=2)
    message = subset.shortfall()
    assert "reuse 2 requested, but 1 of the 3 selected presets have fewer tracks" in message
    assert "configs/ablation_presets.toml" in message
    assert "16 drum presets requested, the split has 3" in select_subset(
        manifest(), drum_presets=16, reuse=1).shortfall()
    assert select_subset(manifest(), drum_presets=2, reuse=2).shortfall() == ""
    assert select_subset(manifest(), drum_presets=3).shortfall() == ""  # no R asked


def test_cli_refuses_to_name_a_file_p16_r2_that_is_not(tmp_path, capsys):
    import pyarrow.parquet as pq

    from adtos.cli import main

    # Every track with its own kit, as in a default build.
    ids = [f"train{i:05d}" for i in range(16)]
    pq.write_table(pa.table({"track_id": ids, "split": ["train"] * 16,
                             "drum_preset": [f"kit{i}" for i in range(16)]}),
                   tmp_path / "manifest.parquet")
    listing = tmp_path / "p16_r2.txt"
    assert main(["subset", str(tmp_path), "--drum-presets", "16", "--reuse", "2",
                 "--out", str(listing)]) == 2
    error = capsys.readouterr().err
    assert "reuse 2 requested" in error and "configs/ablation_presets.toml" in error
    assert not listing.exists()
    assert main(["subset", str(tmp_path), "--drum-presets", "16", "--reuse", "2",
                 "--out", str(listing), "--allow-fewer"]) == 0
    assert "warning: reuse 2 requested" in capsys.readouterr().err
    assert len(listing.read_text().split()) == 16

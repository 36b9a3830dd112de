"""`adtos stats` on hand-made tracks with known answers."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from adtos.cli import main
from adtos.datasets import Dataset, Track, load_dataset
from adtos.datasets.testing import rock_beat, write_adtos_track, write_manifest
from adtos.stats import (beat_fingerprints, compare_datasets, coverage, dataset_stats,
                         describe_fingerprint, merge_onsets, onset_intervals_in_beats,
                         tempo_from_beats)
from adtos.vocab import CLASS_INDEX

BEAT = 0.5  # seconds at 120 bpm


def pattern_track(track_id: str, swing: float = 0.5, bars: int = 4, beats: bool = True) -> Track:
    """The rock beat of adtos.datasets.testing, in seconds at 120 bpm."""
    notes = rock_beat(bars, swing=swing)
    onsets = np.array([qn * BEAT for qn, _, _ in notes])
    labels = np.array([CLASS_INDEX["BD"] if p == 36 else CLASS_INDEX["SD"] if p == 38
                       else CLASS_INDEX["HH"] for _, p, _ in notes])
    grid = np.arange(bars * 4 + 1) * BEAT
    return Track(track_id, None, onsets, labels, beats=grid if beats else None,
                 velocities=np.array([v for _, _, v in notes]), meter="4/4" if beats else None)


def test_straight_rock_beat_at_120_bpm():
    track = pattern_track("rock")
    assert tempo_from_beats(track.beats) == pytest.approx(120.0)
    intervals = onset_intervals_in_beats(track.onsets, track.beats)
    np.testing.assert_allclose(intervals, 0.5)
    assert intervals.size == 4 * 8 - 1
    fingerprints = beat_fingerprints(track.onsets, track.labels, track.beats)
    assert fingerprints.size == 16
    assert {describe_fingerprint(f) for f in fingerprints} == {"BD@0 HH@0 HH@6", "SD@0 HH@0 HH@6"}


def test_shuffled_beat_lands_in_triplet_bins():
    track = pattern_track("shuffle", swing=2 / 3)
    fingerprints = beat_fingerprints(track.onsets, track.labels, track.beats)
    assert {describe_fingerprint(f) for f in fingerprints} == {"BD@0 HH@0 HH@8", "SD@0 HH@0 HH@8"}
    intervals = onset_intervals_in_beats(track.onsets, track.beats)
    np.testing.assert_allclose(np.unique(np.round(intervals, 6)), [1 / 3, 2 / 3], atol=1e-6)


def test_onsets_within_50_ms_are_merged():
    np.testing.assert_allclose(merge_onsets([0.0, 0.03, 0.5, 0.52, 0.56, 1.0]), [0, 0.5, 0.56, 1.0])
    beats = np.arange(5) * BEAT
    # a flam (20 ms) before each 8th: still 8ths
    onsets = np.sort(np.concatenate([np.arange(8) * 0.25, np.arange(8) * 0.25 + 0.02]))
    np.testing.assert_allclose(onset_intervals_in_beats(onsets, beats), 0.5)
    # without merging, the flams give 0.04-beat intervals
    assert onset_intervals_in_beats(onsets, beats, merge=0).min() == pytest.approx(0.04)


def test_intervals_above_a_quarter_note_are_dropped_and_tempo_changes_respected():
    beats = np.array([0.0, 0.5, 1.0, 2.0, 3.0])  # 120 bpm, then 60 bpm
    onsets = np.array([0.0, 0.25, 1.0, 1.5, 3.0])
    # 0.25 s of a 0.5 s beat; 0.75 s (1.5 beats) dropped; 0.5 s of a 1 s beat; 1.5 s dropped
    np.testing.assert_allclose(onset_intervals_in_beats(onsets, beats), [0.5, 0.5])


def test_early_note_belongs_to_the_next_beat():
    beats = np.arange(3) * BEAT
    fingerprints = beat_fingerprints(np.array([0.49]), np.array([CLASS_INDEX["SD"]]), beats)
    assert describe_fingerprint(fingerprints[1]) == "SD@0" and fingerprints[0] == 0


def test_same_class_in_same_bin_counts_once():
    beats = np.arange(2) * BEAT
    hh = CLASS_INDEX["HH"]
    once = beat_fingerprints(np.array([0.0]), np.array([hh]), beats)
    twice = beat_fingerprints(np.array([0.0, 0.005]), np.array([hh, hh]), beats)
    assert once[0] == twice[0]


def test_coverage_known_answers():
    assert coverage([1, 2, 3], [1, 2, 3]) == (1.0, 1.0)
    # target beats: 1,1,1,4 -> 3 of 4 beats covered, 1 of 2 unique
    assert coverage([1, 2], [1, 1, 1, 4]) == (0.75, 0.5)
    assert np.isnan(coverage([1], [])[0])


def test_inputs_are_validated():
    with pytest.raises(ValueError, match="strictly increasing"):
        onset_intervals_in_beats([0.1], [0.0, 0.5, 0.5])
    with pytest.raises(ValueError, match="at least two beats"):
        beat_fingerprints([0.1], [0], [0.0])
    with pytest.raises(ValueError, match="bins must be"):
        beat_fingerprints([0.1], [0], [0.0, 0.5], bins=13)
    with pytest.raises(ValueError, match="class indices"):
        beat_fingerprints([0.1], [7], [0.0, 0.5])


def test_coverage_of_a_dataset_by_itself_is_one_and_no_beats_is_reported(tmp_path):
    ours = Dataset("ours", "adtos", tmp_path, [pattern_track("a"), pattern_track("b", 2 / 3)])
    real = Dataset("nobeats", "enst", tmp_path, [pattern_track("c", beats=False)])
    stats, written = compare_datasets([ours, real], tmp_path / "out", per_class=True)
    names = {p.name for p in written}
    for name in ("summary.csv", "tempo.csv", "velocity.csv", "intervals.csv", "meter.csv",
                 "classes.csv", "fingerprints.csv", "coverage_beats.csv", "coverage_unique.csv",
                 "intervals_per_class.csv", "velocity_per_class.csv", "tempo.png", "velocity.png",
                 "intervals.png", "meter.png", "classes.png", "coverage.png",
                 "intervals_per_class.png", "velocity_per_class.png"):
        assert name in names and (tmp_path / "out" / name).stat().st_size > 0
    rows = list(csv.reader(open(tmp_path / "out" / "coverage_beats.csv")))
    assert rows[1][:3] == ["ours", "1", ""]  # self-coverage 1; no beats -> empty, not guessed
    summary = {r["dataset"]: r for r in csv.DictReader(open(tmp_path / "out" / "summary.csv"))}
    assert summary["nobeats"]["tempo_median_bpm"] == "no beats"
    assert summary["nobeats"]["unique_fingerprints"] == "no beats"
    assert summary["ours"]["tempo_median_bpm"] == "120"
    assert summary["ours"]["unique_fingerprints"] == "4"
    assert summary["ours"]["unique_beat_share"] == "0.125"  # 4 unique in 32 beats
    tempo = list(csv.DictReader(open(tmp_path / "out" / "tempo.csv")))
    assert [r["tempo_bpm"] for r in tempo] == ["120", "120", "no beats"]
    intervals = list(csv.DictReader(open(tmp_path / "out" / "intervals.csv")))
    ours_intervals = {r["interval_beats"]: int(r["intervals"]) for r in intervals
                      if r["dataset"] == "ours"}
    assert set(ours_intervals) == {"0.5", "0.333333", "0.666667"}
    assert stats[0].class_intervals["HH"].size > 0


def test_stats_are_byte_identical_between_runs(tmp_path):
    from adtos.stats import plots
    from adtos.stats.tables import coverage_matrices

    ours = Dataset("ours", "adtos", tmp_path, [pattern_track("a"), pattern_track("b", 2 / 3)])
    stats, first = compare_datasets([ours], tmp_path / "one", plots=False)
    _, second = compare_datasets([ours], tmp_path / "two", plots=False)
    beats, unique = coverage_matrices(stats)
    for folder in ("one", "two"):  # two plot kinds stand for all (plots are slow to draw)
        first_or_second = first if folder == "one" else second
        first_or_second.append(plots.plot_intervals(stats, tmp_path / folder / "intervals.png"))
        first_or_second.append(plots.plot_coverage(stats, beats, unique,
                                                   tmp_path / folder / "coverage.png"))
    for a, b in zip(first, second):
        assert a.read_bytes() == b.read_bytes(), a.name


def test_plots_print_at_150_dpi_and_come_as_svg_or_pdf(tmp_path):
    import struct

    from adtos.stats import plots

    ours = Dataset("ours", "adtos", tmp_path, [pattern_track("a"), pattern_track("b", 2 / 3)])
    stats, _ = compare_datasets([ours], tmp_path / "one", plots=False)
    png = plots.plot_tempo(stats, tmp_path / "tempo.png").read_bytes()
    width, height = struct.unpack(">II", png[16:24])  # the IHDR chunk
    assert width >= 960 and height >= 700  # 6.4 x 4.8 in at 150 dpi, not 400 x 340 px
    assert plots.plot_classes(stats, tmp_path / "classes.svg").read_text().startswith("<?xml")
    assert plots.plot_meter(stats, tmp_path / "meter.pdf").read_bytes().startswith(b"%PDF")


def test_dataset_stats_from_an_adtos_folder(tmp_path):
    root = tmp_path / "ds"
    write_adtos_track(root, "t0", rock_beat(4, velocity=100))
    write_adtos_track(root, "t1", rock_beat(4, swing=2 / 3, velocity=90), tempi=[(0, 90.0)])
    write_manifest(root, [{"track_id": "t0", "split": "train", "genre": "rock"},
                          {"track_id": "t1", "split": "train", "genre": "blues"}])
    stats = dataset_stats(load_dataset("adtos", root))
    assert sorted(stats.tempi.tolist()) == pytest.approx([90.0, 120.0])
    assert stats.velocities.max() == 100 and stats.velocities.min() == 70
    assert stats.fingerprints.size == 4 and stats.beats_with_drums == 32
    assert stats.meters == {"4/4": 2}


def test_per_class_and_per_genre_breakdowns(tmp_path):
    root = tmp_path / "ds"
    write_adtos_track(root, "t0", rock_beat(4, velocity=100))
    write_adtos_track(root, "t1", rock_beat(4, swing=2 / 3, velocity=90), tempi=[(0, 90.0)])
    write_manifest(root, [{"track_id": "t0", "genre": "rock"}, {"track_id": "t1", "genre": "blues"}])
    stats = dataset_stats(load_dataset("adtos", root), per_class=True)
    # per class: kicks every half note are dropped (2 beats > 1), snares likewise; hats every 8th
    assert set(np.round(stats.class_intervals["HH"], 6)) == {0.5, round(1 / 3, 6), round(2 / 3, 6)}
    assert stats.class_intervals["BD"].size == 0 and stats.class_velocities["TT"].size == 0
    assert set(stats.class_velocities["BD"].tolist()) == {100, 90}
    from adtos.stats.tables import write_tables

    write_tables([stats], tmp_path / "out", per_genre=True)
    genres = {r["genre"]: r for r in csv.DictReader(open(tmp_path / "out" / "genres.csv"))}
    assert genres["blues"]["tempo_median_bpm"] == "90" and genres["rock"]["tempo_median_bpm"] == "120"
    assert genres["rock"]["interval_median_beats"] == "0.5"
    assert genres["rock"]["share_HH"] == "0.666667"


def test_cli_writes_tables_and_reports_bad_dataset(tmp_path, capsys):
    root = tmp_path / "ds"
    write_adtos_track(root, "t0", rock_beat(2))
    assert main(["stats", str(root), f"again={root}", "--out", str(tmp_path / "out"),
                 "--per-genre", "--no-plots"]) == 0
    assert (tmp_path / "out" / "genres.csv").exists()
    assert not (tmp_path / "out" / "tempo.png").exists()
    assert main(["stats", str(tmp_path / "absent"), "--out", str(tmp_path / "out")]) == 2
    assert "not found" in capsys.readouterr().err
    assert main(["stats", str(root), str(root), "--out", str(tmp_path / "out")]) == 2
    assert "given twice" in capsys.readouterr().err


@pytest.mark.shared_data
def test_stats_on_fixture_and_mdb_drums(tmp_path, shared_data):
    root = tmp_path / "ours"
    for i in range(3):
        write_adtos_track(root, f"t{i}", rock_beat(8, swing=0.5 if i else 2 / 3),
                          tempi=[(0, 100.0 + 10 * i)])
    out = tmp_path / "stats"
    assert main(["stats", str(root), f"mdb:{shared_data / 'mdb_drums'}", "--out", str(out),
                 "--per-genre"]) == 0
    for name in ("tempo.png", "velocity.png", "intervals.png", "meter.png", "classes.png",
                 "coverage.png", "summary.csv", "coverage_unique.csv", "genres.csv"):
        assert (out / name).stat().st_size > 0
    coverage_rows = list(csv.reader(open(out / "coverage_beats.csv")))
    assert coverage_rows[2][2] == "1"  # MDB covers itself
    # the 8th-note rock beat is MDB's most common pattern family: some MDB beats are covered
    assert 0 < float(coverage_rows[1][2]) < 1

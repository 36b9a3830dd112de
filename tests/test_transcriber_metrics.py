"""Peak picking, onset matching, F-measure summaries, targets and the LR schedule,
checked against cases computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from adtos.transcriber.evaluate import Predictions, score, tune_thresholds
from adtos.transcriber.metrics import Counts, onset_counts, summarize, track_counts
from adtos.transcriber.peaks import pick_all, pick_peaks
from adtos.transcriber.schedule import learning_rate
from adtos.transcriber.targets import frame_targets


def test_hit_window_is_50_ms_inclusive():
    reference = [1.0, 2.0, 3.0, 4.0]
    # 1.0 exact hit, 2.049 is 49 ms late (hit), 3.051 is 51 ms late (false alarm and a miss),
    # 4.0 has no estimate (miss), 5.0 has no reference (false alarm).
    estimated = [1.0, 2.049, 3.051, 5.0]
    counts = onset_counts(reference, estimated)
    assert (counts.tp, counts.fp, counts.fn) == (2, 2, 2)
    assert counts.precision == 0.5 and counts.recall == 0.5 and counts.f_measure == 0.5
    assert onset_counts([2.0], [1.951]).tp == 1
    assert onset_counts([2.0], [1.949]).tp == 0


def test_missing_and_extra_onsets():
    assert onset_counts([1.0, 2.0], [1.0]) == Counts(1, 0, 1)        # one missing
    assert onset_counts([1.0], [1.0, 1.5]) == Counts(1, 1, 0)        # one extra
    assert onset_counts([], [0.5]) == Counts(0, 1, 0)
    assert onset_counts([0.5], []) == Counts(0, 0, 1)
    assert math.isnan(onset_counts([], []).f_measure)
    # one estimate cannot hit two references
    assert onset_counts([1.0, 1.02], [1.01]) == Counts(1, 0, 1)


def test_inputs_are_validated():
    with pytest.raises(ValueError, match="1-D"):
        onset_counts(np.zeros((2, 2)), [1.0])
    with pytest.raises(ValueError, match="NaN"):
        onset_counts([1.0], [np.nan])


def test_sum_over_tracks_and_mean_per_track_differ_as_computed_by_hand():
    # class BD only. Track 1: one hit (F = 1). Track 2: one hit, three false alarms
    # (F = 2/(2+3) = 0.4). Track 3: nothing to find, nothing found (left out of the mean).
    tracks = [track_counts([1.0], [0], [1.0], [0]),
              track_counts([1.0], [0], [1.0, 2.0, 3.0, 4.0], [0, 0, 0, 0]),
              track_counts([], [], [], [])]
    summary = summarize(tracks)
    assert summary["BD"]["f_measure"] == pytest.approx(4 / 7)          # TP 2, FP 3, FN 0
    assert summary["BD"]["f_measure_mean_track"] == pytest.approx(0.7)
    assert summary["BD"]["precision"] == pytest.approx(2 / 5)
    assert summary["BD"]["recall"] == 1.0
    assert summary["all"]["f_measure"] == pytest.approx(4 / 7)
    assert math.isnan(summary["SD"]["f_measure_mean_track"]) and summary["SD"]["f_measure"] == 0.0


def test_classes_are_matched_separately():
    counts = track_counts([1.0, 1.0], [0, 1], [1.0, 1.0], [1, 3])
    assert counts[0] == Counts(0, 0, 1) and counts[1] == Counts(1, 0, 0)
    assert counts[3] == Counts(0, 1, 0)


def test_peak_picking_by_hand():
    a = np.zeros(60)
    a[10] = 0.9            # clear peak
    a[20] = 0.4            # below threshold
    a[30], a[32] = 0.6, 0.7  # two maxima 2 frames apart: only the larger is a ±2 maximum
    a[40] = a[41] = 0.8    # flat top: the first frame wins
    a[50], a[51] = 0.5, 0.2  # exactly at the threshold counts
    assert pick_peaks(a, 0.5).tolist() == [0.10, 0.32, 0.40, 0.50]
    # with a ±1 window both 30 and 32 are maxima; min_distance 3 keeps the earlier only
    assert pick_peaks(a, 0.5, window=1, min_distance=3).tolist() == [0.10, 0.30, 0.40, 0.50]
    assert pick_peaks(a, 0.5, window=1, min_distance=1).tolist() == [0.10, 0.30, 0.32, 0.40, 0.50]
    assert pick_peaks(np.array([0.9, 0.1, 0.1]), 0.5).tolist() == []   # no rise: no onset
    assert pick_peaks(np.array([0.6, 0.9, 0.1]), 0.5).tolist() == [0.01]
    with pytest.raises(ValueError, match="threshold"):
        pick_peaks(a, 1.5)


def test_pick_all_uses_a_threshold_per_class():
    activations = np.zeros((30, 5))
    activations[5, 0] = 0.6
    activations[15, 3] = 0.6
    times, labels = pick_all(activations, [0.5, 0.5, 0.5, 0.7, 0.5])
    assert times.tolist() == [0.05] and labels.tolist() == [0]


def test_threshold_tuning_and_scoring_on_known_activations():
    # class 0 has true peaks of 0.6 and a false one of 0.3: the best threshold lies in (0.3, 0.6]
    activation = np.zeros((200, 5), dtype=np.float32)
    activation[[20, 80, 140], 0] = 0.6
    activation[110, 0] = 0.3
    onsets, labels = np.array([0.2, 0.8, 1.4]), np.zeros(3, dtype=np.int64)
    predictions = Predictions(["t"], [activation], [onsets], [labels], np.zeros(5), 200)
    thresholds = tune_thresholds(predictions)
    assert 0.3 < thresholds[0] <= 0.6
    result = score(predictions, thresholds)
    assert result["onsets"]["BD"]["f_measure"] == 1.0
    assert result["onsets"]["all"]["tp"] == 3 and result["onsets"]["all"]["fp"] == 0


def test_frame_targets():
    targets = frame_targets([0.004, 0.016, 0.5, 9.0], [0, 3, 1, 2], n_frames=100)
    assert targets.shape == (100, 5) and targets.sum() == 3      # 9.0 s is beyond the last frame
    assert targets[0, 0] == 1 and targets[2, 3] == 1 and targets[50, 1] == 1
    widened = frame_targets([0.5], [1], n_frames=100, widen=1)
    assert widened[49:52, 1].tolist() == [0.5, 1.0, 0.5]
    # a snippet's targets are the matching rows of the whole track's
    whole = frame_targets([0.3, 0.55, 0.9], [0, 1, 2], n_frames=100)
    assert np.array_equal(frame_targets([0.3, 0.55, 0.9], [0, 1, 2], 40, start=30), whole[30:70])


def test_learning_rate_schedule():
    assert learning_rate(0) == 0.0
    assert learning_rate(64) == pytest.approx(2.5e-4)
    assert learning_rate(128) == pytest.approx(5e-4)
    assert learning_rate(128 + 8192) == pytest.approx(5e-5)
    assert learning_rate(128 + 2 * 8192) == pytest.approx(5e-6)


def test_fast_hit_count_agrees_with_mir_eval():
    import mir_eval

    from adtos.transcriber.metrics import count_hits

    rng = np.random.default_rng(0)
    for _ in range(300):
        reference = np.sort(rng.uniform(0, 2, rng.integers(0, 30)))
        found = reference[rng.random(reference.size) < 0.7]
        extra = rng.uniform(0, 2, rng.integers(0, 30))
        # jitter of the order of the window, so that near misses and crowded pairs are common
        estimated = np.sort(np.concatenate([found, extra]) + rng.normal(0, 0.03, found.size + extra.size))
        expected = (len(mir_eval.util.match_events(reference, estimated, 0.05))
                    if reference.size and estimated.size else 0)
        assert count_hits(reference, estimated, 0.05) == expected

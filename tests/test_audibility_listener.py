"""The pure functions of benchmarks/experiments/audibility_listener.py on tiny arrays."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def listener():
    spec = importlib.util.spec_from_file_location(
        "audibility_listener", REPO / "benchmarks" / "experiments" / "audibility_listener.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    yield module
    del sys.modules[spec.name]


def test_isolation_keeps_hits_with_no_accompaniment_note_within_the_radius(listener):
    hits = np.array([0.0, 1.0, 2.0, 3.0])
    accompaniment = np.array([0.049, 1.051, 1.9, 3.0])
    # 0.049 is inside ±50 ms, 1.051 just outside, 1.9 far, 3.0 on the hit
    assert listener.isolated(hits, accompaniment, 0.05).tolist() == [False, True, True, False]


def test_solo_isolation_counts_the_hit_itself_once(listener):
    hits = np.array([0.0, 0.5, 1.0])
    drums = np.array([0.0, 0.5, 0.52, 1.0, 1.0])  # a flam at 0.5, two notes at 1.0
    kept = listener.isolated(hits, np.array([]), 0.05, drums=drums)
    assert kept.tolist() == [True, False, False]


def test_neighbour_counts_refuses_unsorted_others(listener):
    with pytest.raises(ValueError, match="sorted"):
        listener.neighbour_counts(np.array([0.0]), np.array([1.0, 0.0]), 0.05)


def test_detected_uses_a_symmetric_window(listener):
    hits = np.array([1.0, 2.0, 3.0])
    detections = np.array([3.03, 0.976, 2.024])  # out of order on purpose
    assert listener.detected(hits, detections, 0.025).tolist() == [True, True, False]


def test_quiet_probes_keep_away_from_every_note_on(listener):
    probes = listener.quiet_probes(np.array([0.52, 0.23]), 1.0, radius=0.05, step=0.1)
    # probes at .05, .15, ..., .85 (the last leaves the radius before the end);
    # .25 is within 50 ms of 0.23 and .55 of 0.52
    assert probes == pytest.approx([0.05, 0.15, 0.35, 0.45, 0.65, 0.75, 0.85])
    with pytest.raises(ValueError, match="duration"):
        listener.quiet_probes(np.array([]), 0.0)


def test_bins_are_half_open_with_open_outer_bins(listener):
    edges = np.array([-10.0, 0.0, 10.0, 20.0])
    smr = np.array([-50.0, -10.0, -0.1, 0.0, 9.9, 10.0, 99.0])
    heard = np.array([0, 1, 1, 1, 0, 1, 1], dtype=bool)
    counts, rates = listener.bin_rates(smr, heard, edges)
    assert counts.tolist() == [3, 2, 2]
    assert rates.tolist() == pytest.approx([2 / 3, 0.5, 1.0])
    _, empty = listener.bin_rates(np.array([15.0]), np.array([True]), edges)
    assert np.isnan(empty[0]) and np.isnan(empty[1]) and empty[2] == 1.0


def test_half_ceiling_crossing_interpolates_from_the_top(listener):
    centres = np.array([-20.0, -10.0, 0.0, 10.0])
    # noisy low end (0.6 at -20) must not matter: scanning starts at the top
    rates = np.array([0.6, 0.2, 0.6, 0.8])
    assert listener.half_ceiling_crossing(centres, rates, 0.8) == pytest.approx(-10 + 10 * 0.2 / 0.4)
    assert np.isnan(listener.half_ceiling_crossing(centres, np.array([0.5, 0.6, 0.7, 0.8]), 0.8))
    assert np.isnan(listener.half_ceiling_crossing(centres, np.array([0.9, 0.9, 0.9, 0.3]), 0.8))
    skipped = np.array([0.1, np.nan, 0.6, 0.8])  # an empty bin is stepped over
    assert listener.half_ceiling_crossing(centres, skipped, 0.8) == pytest.approx(-20 + 20 * 0.3 / 0.5)


def test_curve_and_bootstrap_on_a_step_listener(listener):
    # a listener hearing exactly the hits above -7.5 dB: the crossing lies in the
    # bins around it and every resample of identical tracks gives the same one
    smr = np.repeat(np.arange(-30.0, 20.0, 1.0), 2)
    heard = smr >= -7.5
    result = listener.curve(smr, heard, min_onsets=1)
    assert result.ceiling == 1.0
    assert -12.5 < result.crossing < -2.5
    crossings, rates = listener.bootstrap([(smr, heard)] * 3, resamples=5, min_onsets=1)
    assert crossings == pytest.approx([result.crossing] * 5)
    assert rates.shape == (5, len(listener.SMR_EDGES) - 1)

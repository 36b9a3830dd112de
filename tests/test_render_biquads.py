"""The filter sections of adtos.render.biquads against the libraries whose designs they follow."""

from __future__ import annotations

import numpy as np
import pedalboard
import pytest
import scipy.signal

from adtos.render.biquads import first_order_high_pass, high_shelf, low_shelf
from adtos.render.mix import HIGH_SHELF_HZ, HIGHPASS_HZ, LOW_SHELF_HZ, MixDraw, master_eq

SHELF_Q = 1.0 / np.sqrt(2.0)


def impulse_response(section: np.ndarray, n: int = 8192) -> np.ndarray:
    impulse = np.zeros(n)
    impulse[0] = 1.0
    return scipy.signal.sosfilt(np.atleast_2d(section), impulse)


def pedalboard_response(plugin, sample_rate: int, n: int = 8192) -> np.ndarray:
    impulse = np.zeros((1, n), dtype=np.float32)
    impulse[0, 0] = 1.0
    return plugin(impulse, sample_rate)[0].astype(np.float64)


@pytest.mark.parametrize("sample_rate", [44100, 48000])
@pytest.mark.parametrize("corner", [20.0, 30.0, 80.0])
def test_first_order_high_pass_is_pedalboards(sample_rate, corner):
    ours = impulse_response(first_order_high_pass(corner, sample_rate))
    theirs = pedalboard_response(pedalboard.HighpassFilter(corner), sample_rate)
    np.testing.assert_allclose(ours, theirs, atol=1e-6)


@pytest.mark.parametrize("sample_rate", [44100, 48000])
@pytest.mark.parametrize("gain_db", [-3.0, -0.7, 1.5, 3.0])
def test_shelves_are_pedalboards(sample_rate, gain_db):
    for design, plugin, centre in ((low_shelf, pedalboard.LowShelfFilter, 120.0),
                                   (high_shelf, pedalboard.HighShelfFilter, 8000.0)):
        ours = impulse_response(design(gain_db, SHELF_Q, centre, sample_rate))
        theirs = pedalboard_response(plugin(centre, gain_db), sample_rate)
        # pedalboard (JUCE) rounds its coefficients to float32: differences of ~1e-5 at most
        np.testing.assert_allclose(ours, theirs, atol=2e-5)


def test_shelf_gains_are_the_asked_ones():
    freqs = np.array([10.0, 20000.0])
    _, low = scipy.signal.sosfreqz(np.atleast_2d(low_shelf(-3.0, SHELF_Q, 120.0, 44100)), freqs,
                                   fs=44100)
    _, high = scipy.signal.sosfreqz(np.atleast_2d(high_shelf(2.0, SHELF_Q, 8000.0, 44100)), freqs,
                                    fs=44100)
    assert 20 * np.log10(np.abs(low)) == pytest.approx([-3.0, 0.0], abs=0.02)
    assert 20 * np.log10(np.abs(high)) == pytest.approx([0.0, 2.0], abs=0.1)


def test_master_eq_is_pedalboards_three_filters_on_music_like_audio():
    draw = MixDraw(balance_db=-6.0, master_lufs=-14.0, low_shelf_db=2.2, high_shelf_db=-1.4,
                   comp_ratio=2.0, comp_attack_ms=10.0, comp_release_ms=100.0, comp_above_db=3.0,
                   limiter_release_ms=20.0)
    rng = np.random.default_rng(3)
    sr = 44100
    # Decaying noise bursts (a drum-like signal with silence between hits) over a low tone.
    t = np.arange(4 * sr) / sr
    bursts = rng.standard_normal((2, t.size)) * np.exp(-((t * 4) % 1.0) * 30.0)
    audio = (0.3 * bursts + 0.2 * np.sin(2 * np.pi * 55.0 * t)).astype(np.float32)
    ours = scipy.signal.sosfilt(master_eq(draw, sr), audio, axis=1)
    board = pedalboard.Pedalboard([
        pedalboard.HighpassFilter(HIGHPASS_HZ),
        pedalboard.LowShelfFilter(LOW_SHELF_HZ, draw.low_shelf_db),
        pedalboard.HighShelfFilter(HIGH_SHELF_HZ, draw.high_shelf_db)])
    theirs = board(audio, sr)
    # Both filter in float32 (JUCE also rounds its coefficients): they differ by
    # about -79 dB of the peak, in the low shelf's slowly decaying state.
    assert np.max(np.abs(ours - theirs)) < 10 ** (-70 / 20) * np.max(np.abs(theirs))

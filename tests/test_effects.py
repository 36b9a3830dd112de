"""Effect chains computed with numpy: Distortion (pedalboard's, faster) and the Room reverb."""

from __future__ import annotations

import numpy as np
import pedalboard
import pytest

from adtos.presets.effects import apply_effects, build_chain
from adtos.presets.model import Preset
from adtos.presets.room import apply_room, room_impulse_response

SR = 44100


def noise(seconds: float = 2.0, seed: int = 0) -> np.ndarray:
    """Planar (2, n) float32 noise bursts with silence between them."""
    n = int(seconds * SR)
    audio = np.random.default_rng(seed).standard_normal((2, n)).astype(np.float32) * 0.2
    audio *= (np.arange(n) % (SR // 2) < SR // 20)
    return audio


def kit(effects: list[dict]) -> Preset:
    return Preset(role="drums", source={"soundfont": "TimGM6mb.sf2", "bank": 128, "program": 0},
                  effects=effects)


@pytest.mark.parametrize("drive_db", [2.0, 6.0, 10.0, 25.0])
def test_distortion_equals_pedalboards(drive_db):
    audio = noise()
    ours = apply_effects(kit([{"type": "Distortion", "drive_db": drive_db}]), audio, SR, planar=True)
    theirs = pedalboard.Pedalboard([pedalboard.Distortion(drive_db=drive_db)])(audio, SR, reset=True)
    np.testing.assert_allclose(ours, theirs, atol=1e-6)


def test_mixed_chain_keeps_the_order_and_layouts_agree():
    chain = [{"type": "HighpassFilter", "cutoff_frequency_hz": 80.0},
             {"type": "Distortion", "drive_db": 6.0},
             {"type": "PeakFilter", "cutoff_frequency_hz": 1000.0, "gain_db": 4.0, "q": 1.0},
             {"type": "Room", "decay_s": 0.4, "seed": 3}]
    audio = noise()
    planar = apply_effects(kit(chain), audio, SR, planar=True)
    interleaved = apply_effects(kit(chain), np.ascontiguousarray(audio.T), SR)
    np.testing.assert_array_equal(planar, interleaved.T)
    # the same chain in another order is another sound
    swapped = apply_effects(kit([chain[1], chain[0], *chain[2:]]), audio, SR, planar=True)
    assert np.abs(swapped - planar).max() > 1e-3
    assert len(build_chain(chain)) == 4  # pedalboard, numpy, pedalboard, numpy


def test_room_is_deterministic_and_its_seed_matters():
    audio = noise()
    room = {"type": "Room", "decay_s": 0.6, "wet_level": 0.3, "seed": 1}
    a = apply_effects(kit([room]), audio, SR, planar=True)
    assert np.array_equal(a, apply_effects(kit([room]), audio, SR, planar=True))
    other = apply_effects(kit([{**room, "seed": 2}]), audio, SR, planar=True)
    assert kit([room]).id != kit([{**room, "seed": 2}]).id
    assert np.abs(a - other).max() > 1e-3
    assert a.shape == audio.shape and a.dtype == np.float32


def test_room_leaves_the_onset_where_it_was():
    impulse = np.zeros((2, SR), np.float32)
    impulse[:, 1000] = 1.0
    out = apply_room(impulse, SR, {"decay_s": 0.5, "predelay_ms": 10.0, "dry_level": 0.9,
                                   "wet_level": 0.3})
    assert np.abs(out[:, :1000]).max() < 1e-6  # FFT round-off only: nothing arrives early
    np.testing.assert_allclose(out[:, 1000], 0.9, atol=1e-4)  # the direct sound, undelayed
    first_reflection = 1000 + int(0.010 * SR)
    assert np.abs(out[:, 1001:first_reflection - 2]).max() < 1e-4
    assert np.abs(out[:, first_reflection:first_reflection + int(0.05 * SR)]).max() > 1e-3


@pytest.mark.parametrize("decay_s", [0.3, 0.8])
def test_room_decays_by_60_db_over_its_decay_time(decay_s):
    response = room_impulse_response(SR, decay_s, 0.0, 0.0, 1.0, 0)
    energy = np.sum(response.astype(np.float64) ** 2, axis=0)
    window = int(0.02 * SR)
    start = float(np.mean(energy[window:2 * window]))  # after the early reflections
    end = float(np.mean(energy[-2 * window:-window]))
    measured_db = 10 * np.log10(start / end)
    expected_db = 60.0 * (len(energy) - 3 * window) / (decay_s * SR)
    assert measured_db == pytest.approx(expected_db, abs=6.0)


def test_room_damping_darkens_the_tail():
    def late_treble_share(damping: float) -> float:
        response = room_impulse_response(SR, 0.8, damping, 0.0, 1.0, 0)
        late = response[:, int(0.3 * SR):].mean(axis=0)
        spectrum = np.abs(np.fft.rfft(late)) ** 2
        freqs = np.fft.rfftfreq(late.size, 1 / SR)
        return float(spectrum[freqs > 4000].sum() / spectrum.sum())

    assert late_treble_share(1.0) < 0.1 * late_treble_share(0.0)


def test_room_width_zero_is_mono():
    out = apply_room(noise(), SR, {"width": 0.0, "dry_level": 0.0, "wet_level": 1.0})
    wide = apply_room(noise(), SR, {"width": 1.0, "dry_level": 0.0, "wet_level": 1.0})
    np.testing.assert_allclose(out[0], out[1], atol=1e-6)
    assert np.abs(wide[0] - wide[1]).max() > 1e-2


@pytest.mark.parametrize("params, message", [
    ({"decay_s": 9.0}, "decay_s must be a number in"),
    ({"wet_level": "lots"}, "wet_level must be a number"),
    ({"seed": -1}, "seed must be a non-negative integer"),
    ({"room_size": 0.5}, "unknown parameters"),
])
def test_bad_room_parameters_name_the_parameter(params, message):
    preset = kit([{"type": "Room", **params}])
    with pytest.raises(ValueError, match=f"{preset.id}.*Room.*{message}"):
        apply_effects(preset, noise(), SR, planar=True)


def test_room_overlap_add_equals_direct_convolution():
    """Several FFT blocks (the signal is longer than one block) sum to the direct convolution."""
    from adtos.presets.room import MIN_FFT

    send = np.random.default_rng(4).standard_normal(int(1.2 * MIN_FFT)).astype(np.float32)
    params = {"decay_s": 0.05, "predelay_ms": 0.0, "dry_level": 0.0, "wet_level": 0.7, "seed": 2}
    out = apply_room(np.stack([send, send]), SR, params)
    response = room_impulse_response(SR, 0.05, 0.5, 0.0, 1.0, 2).astype(np.float64)
    for channel in (1,):  # one channel: a direct convolution of this length takes seconds
        direct = 0.7 * np.convolve(send.astype(np.float64), response[channel])[:send.size]
        np.testing.assert_allclose(out[channel], direct, atol=2e-4 * np.abs(direct).max())

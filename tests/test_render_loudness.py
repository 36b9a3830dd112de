"""Stem loudness normalization and the mix clip guard, on synthetic signals."""

from __future__ import annotations

import numpy as np
import pyloudnorm
import pytest

from adtos.render.loudness import (MIX_CEILING, SilentStemError, guard_clipping,
                                   integrated_loudness, normalize_stem)

SR = 44100


def tone(seconds=3.0, freq=440.0, amplitude=0.1, sr=SR):
    t = np.arange(int(seconds * sr)) / sr
    mono = amplitude * np.sin(2 * np.pi * freq * t)
    return np.stack([mono, mono], axis=1).astype(np.float32)


@pytest.mark.parametrize("sr", [44100, 48000, 22050])
@pytest.mark.parametrize("shape", ["stereo", "mono", "sparse", "fading"])
def test_loudness_matches_pyloudnorm(sr, shape):
    rng = np.random.default_rng(0)
    n = int(3.37 * sr)
    noise = rng.normal(0.0, 0.1, (n, 2))
    if shape == "mono":
        audio = noise[:, 0]
    elif shape == "sparse":  # silence between bursts exercises both gates
        audio = noise * (np.arange(n)[:, None] % sr < sr // 10)
    elif shape == "fading":
        audio = noise * np.geomspace(1.0, 1e-5, n)[:, None]
    else:
        audio = noise
    expected = pyloudnorm.Meter(sr).integrated_loudness(audio)
    # float32 filtering (adtos.render.loudness) stays within 2e-6 LU of pyloudnorm's float64
    assert integrated_loudness(audio, sr) == pytest.approx(expected, abs=1e-5)


@pytest.mark.parametrize("sr", [22050, 44100, 48000, 96000])
def test_k_weighting_coefficients_are_pyloudnorms(sr):
    from adtos.render.loudness import _k_weighting

    stages = pyloudnorm.Meter(sr)._filters.values()  # private: compared here, never used in adtos
    theirs = np.array([np.concatenate([s.passband_gain * np.asarray(s.b), s.a]) for s in stages])
    np.testing.assert_allclose(_k_weighting(sr), theirs, rtol=1e-12, atol=1e-15)


def test_k_weighting_follows_the_bs1770_table_at_48k():
    """Within 0.05 dB of the standard's own 48 kHz coefficients (ITU-R BS.1770-4, Tables 1-2)."""
    import scipy.signal

    from adtos.render.loudness import _k_weighting

    itu = np.array([[1.53512485958697, -2.69169618940638, 1.19839281085285,
                     1.0, -1.69065929318241, 0.73248077421585],
                    [1.0, -2.0, 1.0, 1.0, -1.99004745483398, 0.99007225036621]])
    freqs = np.geomspace(20, 20000, 200)
    _, ours = scipy.signal.sosfreqz(_k_weighting(48000), freqs, fs=48000)
    _, theirs = scipy.signal.sosfreqz(itu, freqs, fs=48000)
    assert np.abs(20 * np.log10(np.abs(ours) / np.abs(theirs))).max() < 0.05


@pytest.mark.parametrize("amplitude", [0.001, 0.05, 0.9])
@pytest.mark.parametrize("target", [-23.0, -16.0])
def test_normalized_stem_reaches_the_target(amplitude, target):
    stem, before, after = normalize_stem(tone(amplitude=amplitude), SR, target)
    assert stem.dtype == np.float32
    assert after == pytest.approx(target, abs=0.05)
    assert integrated_loudness(stem, SR) == pytest.approx(target, abs=0.05)
    assert before == pytest.approx(integrated_loudness(tone(amplitude=amplitude), SR))


def test_sparse_hits_are_normalized_too():
    # A few clicks in silence: the gating ignores the silence.
    audio = np.zeros((SR * 4, 2), np.float32)
    for start in (SR // 2, 2 * SR, 3 * SR):
        audio[start:start + 2000] = tone(2000 / SR, 200.0, 0.5)
    _, _, after = normalize_stem(audio, SR, -23.0)
    assert after == pytest.approx(-23.0, abs=0.5)


def test_too_short_or_wrong_shape_is_an_error():
    with pytest.raises(ValueError, match="longer than"):
        integrated_loudness(np.zeros((100, 2)), SR)
    with pytest.raises(ValueError, match="channels"):
        integrated_loudness(np.zeros((SR, 8)), SR)


def test_silence_is_an_error():
    with pytest.raises(SilentStemError, match="silent"):
        normalize_stem(np.zeros((SR * 2, 2), np.float32), SR)
    with pytest.raises(SilentStemError):
        normalize_stem(tone(amplitude=1e-5), SR)  # about -100 LUFS


def test_clip_guard_scales_the_whole_mix_and_keeps_its_shape():
    mix = tone(amplitude=1.7)
    guarded, gain = guard_clipping(mix)
    assert np.max(np.abs(guarded)) <= MIX_CEILING + 1e-6
    assert gain == pytest.approx(MIX_CEILING / np.max(np.abs(mix)))
    np.testing.assert_allclose(guarded, mix * gain, rtol=1e-6)  # a gain, not clipping
    quiet = tone(amplitude=0.5)
    same, unity = guard_clipping(quiet)
    assert unity == 1.0 and same is quiet


def test_weighted_bus_measures_the_sum_of_its_stems():
    from adtos.render.loudness import WeightedBus, block_energies, gated_loudness

    rng = np.random.default_rng(5)
    stems = [tone(freq=110.0, amplitude=0.3), tone(freq=2500.0, amplitude=0.01),
             (rng.normal(0.0, 0.05, (3 * SR, 2)) * (np.arange(3 * SR)[:, None] % SR < SR // 4)
              ).astype(np.float32)]
    bus = WeightedBus()
    normalized = [normalize_stem(stem, SR, -23.0, bus)[0] for stem in stems]
    summed = normalized[0] + normalized[1] + normalized[2]
    np.testing.assert_allclose(bus.block_energies(SR), block_energies(summed, SR), rtol=1e-5)
    assert gated_loudness(bus.block_energies(SR)) == pytest.approx(integrated_loudness(summed, SR),
                                                                   abs=1e-4)
    # the stems handed to the bus are not changed by it
    np.testing.assert_array_equal(normalize_stem(stems[0], SR, -23.0)[0], normalized[0])

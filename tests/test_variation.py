"""Per-piece variation: the DSP on one-shots, the preset field, and the sampler applying it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pretty_midi
import pytest
from kit_fixtures import SR, one_shot, write_hydrogen_kit

from adtos.presets.sampler import KitSampler
from adtos.presets.model import Preset
from adtos.presets.variation import (change_decay, check_variation, draw_variation, saturate,
                                     spectral_centroid, tilt_spectrum)


def decaying_noise(seconds: float = 1.0, t60: float = 0.5, seed: int = 0) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    noise = np.random.default_rng(seed).standard_normal((2, t.size))
    return (0.3 * noise * np.exp(-t * np.log(1000) / t60)).astype(np.float32)


def time_to_fall(audio: np.ndarray, db: float) -> float:
    """Seconds until the 10 ms RMS falls `db` below its first frame."""
    frames = audio.mean(axis=0)[: audio.shape[1] // 441 * 441].reshape(-1, 441)
    level = 10 * np.log10((frames ** 2).mean(axis=1) + 1e-20)
    return float(np.argmax(level < level[0] - db) * 0.01)


@pytest.mark.parametrize("factor", [0.6, 1.5])
def test_decay_scales_the_decay_time(factor):
    audio = decaying_noise()
    varied = change_decay(audio, SR, factor)
    assert time_to_fall(varied, 20) == pytest.approx(factor * time_to_fall(audio, 20), rel=0.1)
    np.testing.assert_array_equal(varied[:, :10], audio[:, :10])  # the attack is kept


def test_tilt_moves_the_centroid_and_keeps_the_onset():
    audio = decaying_noise(0.3)
    audio[:, :100] = 0.0  # the hit starts at sample 100
    brighter, darker = tilt_spectrum(audio, SR, 1.5), tilt_spectrum(audio, SR, -1.5)
    c = spectral_centroid(audio, SR)
    assert spectral_centroid(darker, SR) < 0.8 * c < c < 1.2 * c < spectral_centroid(brighter, SR)
    # Minimum phase is causal: nothing before the onset.
    for tilted in (brighter, darker):
        assert np.abs(tilted[:, :100]).max() < 1e-3 * np.abs(tilted).max()


def test_saturation_keeps_the_peak_and_compresses():
    audio = decaying_noise(0.3)
    driven = saturate(audio, 12.0)
    assert np.abs(driven).max() == pytest.approx(np.abs(audio).max(), rel=1e-5)
    rms = lambda x: float(np.sqrt((x ** 2).mean()))  # noqa: E731
    assert rms(driven) > 1.5 * rms(audio)


def test_variation_is_drawn_seeded_and_checked():
    a, b = draw_variation(np.random.default_rng(1)), draw_variation(np.random.default_rng(1))
    assert a == b and set(a["pieces"]) == {"kick", "snare", "toms", "hihat", "cymbals"}
    assert 1.0 <= a["velocity_exponent"] <= 2.0
    with pytest.raises(ValueError, match="decay must be"):
        check_variation({"pieces": {"kick": {"decay": 0.0}}})
    with pytest.raises(ValueError, match="unknown fields"):
        check_variation({"pieces": {"kick": {"reverb": 1.0}}})
    # Neutral values are dropped, so a neutral variation is no variation.
    assert check_variation({"pieces": {"kick": {"pitch": 0.0, "decay": 1.0}}}) == {}


def test_variation_is_part_of_the_id_and_refused_for_soundfonts():
    source = {"type": "kit", "format": "hydrogen", "kit": "TestKit"}
    plain = Preset(role="drums", source=source)
    varied = Preset(role="drums", source=source,
                    variation={"pieces": {"snare": {"pitch": -2.0}}})
    assert plain.id != varied.id
    assert "variation" not in plain.to_json()
    assert Preset.from_json(varied.to_json()).id == varied.id
    with pytest.raises(ValueError, match="sampled kit source"):
        Preset(role="drums", source={"soundfont": "TimGM6mb.sf2", "bank": 128, "program": 0},
               variation={"pieces": {"snare": {"pitch": -2.0}}})


def _hits(notes):
    instrument = pretty_midi.Instrument(0, is_drum=True)
    for i, (note, velocity) in enumerate(notes):
        instrument.notes.append(pretty_midi.Note(velocity, note, 0.5 * i, 0.5 * i + 0.05))
    return instrument


def test_sampler_applies_variation_once_per_sample(tmp_path, monkeypatch):
    write_hydrogen_kit(tmp_path / "kits" / "VaryKit")
    monkeypatch.setenv("ADTOS_KIT_PATH", str(tmp_path / "kits"))
    source = {"type": "kit", "format": "hydrogen", "kit": "VaryKit", "hit_gain_db": 0.0,
              "hit_detune_cents": 0.0}
    plain = Preset(role="drums", source=source)
    down = Preset(role="drums", source=source, variation={
        "velocity_exponent": 2.0,
        "pieces": {"snare": {"pitch": -12.0, "decay": 0.5, "gain_db": -6.0}}})
    sampler = KitSampler(SR)
    notes = _hits([(38, 127), (38, 127), (38, 64)])
    a, b = sampler.render(plain, notes, 1.6), sampler.render(down, notes, 1.6)
    np.testing.assert_array_equal(b, sampler.render(down, notes, 1.6))  # deterministic
    first = slice(0, int(0.2 * SR))
    # An octave down: the 200/300 Hz snare layers sound at 100/150 Hz.
    assert spectral_centroid(b[first].T, SR, 0.2) < 0.6 * spectral_centroid(a[first].T, SR, 0.2)
    peak = lambda x, i: float(np.abs(x[int(0.5 * i * SR):int(0.5 * (i + 1) * SR)]).max())  # noqa: E731
    assert 20 * np.log10(peak(b, 0) / peak(a, 0)) == pytest.approx(-6.0, abs=0.5)
    # Velocity 64 against 127: -6 dB with the kit's linear curve, -12 dB with the square law.
    assert 20 * np.log10(peak(a, 2) / peak(a, 0)) == pytest.approx(-5.9, abs=0.5)
    assert 20 * np.log10(peak(b, 2) / peak(b, 0)) == pytest.approx(-11.9, abs=0.5)
    # Applied once per sample and parameters, then kept (two snare layers: two shaped
    # copies, each pitch-shifted once: 2 more entries).
    shaped = [k for k in sampler._samples if len(k) == 4 and k[1] == "shaped"]
    assert len(shaped) == 2
    assert len([k for k in sampler._samples if len(k) == 4 and k[1] != "shaped"]) == 2


def test_library_draws_sampled_kits_with_variation(tmp_path):
    from pathlib import Path

    from adtos.presets.library import LibraryReport, build_preset_library

    kits = [write_hydrogen_kit(tmp_path / name, name) for name in ("KitA", "KitB", "KitC")]
    for kit in kits:  # kicks low enough for the kit check (most power below 150 Hz)
        one_shot(kit.parent / "kick_soft.flac", 55)
        one_shot(kit.parent / "kick_hard.flac", 65)
    hand = write_hydrogen_kit(tmp_path / "HandPerc", "HandPerc")
    text = hand.read_text()
    for old, new in (("Kick", "Djembe Low"), ("Snare", "Conga"), ("Closed HH", "Shaker"),
                     ("Open HH", "Tambourine"), ("Tom Mid", "Bongo"), ("Crash", "Cowbell")):
        text = text.replace(f"<name>{old}</name>", f"<name>{new}</name>")
    hand.write_text(text)
    report = LibraryReport()
    # No soundfonts (their kit checks are tested in test_presets): sampled kits alone.
    library = build_preset_library([], drums=20, other=0, seed=1, val_share=0.3,
                                   report=report, cache=None, progress=False, workers=1,
                                   kits=[k.parent for k in kits] + [hand.parent])
    assert len(library) == 20
    sampled = [p for p in library if p.sampled]
    # Kits off the search path are named by their folder.
    assert {Path(k).name for p in sampled for _, k in p.kits()} <= {"KitA", "KitB", "KitC"}
    assert [Path(name).name for name, _, _, check in report.sampled_checks
            if check is None] == ["HandPerc"]  # percussion only: kept out of the drum role
    varied = [p for p in sampled if p.variation]
    assert varied and any(p.pieces for p in varied)
    # Pools are disjoint by kit: the validation kit is never heard in training.
    train = {k for p in library if p.pool == "train" for _, k in p.kits()}
    val = {k for p in library if p.pool == "val" for _, k in p.kits()}
    assert train and val and not train & val
    # Same seed, same library (ids are hashes of the definitions, variation included).
    again = build_preset_library([], drums=20, other=0, seed=1, val_share=0.3,
                                 cache=None, progress=False, workers=1,
                                 kits=[k.parent for k in kits] + [hand.parent])
    assert [p.id for p in again] == [p.id for p in library]
    sampler = KitSampler(SR)
    a = sampler.render(varied[0], _hits([(36, 100), (38, 100), (42, 100)]), 1.6)
    b = sampler.render(varied[1], _hits([(36, 100), (38, 100), (42, 100)]), 1.6)
    assert np.abs(a).max() > 0.01 and not np.allclose(a, b, atol=1e-3)


HYDROGEN = Path("/usr/share/hydrogen/data/drumkits")
PIECE_NOTES = {"kick": 36, "snare": 38, "toms": 45, "hihat": 42, "cymbals": 49}
# The sampler shapes a sample once (decay, tilt) and pitch-shifts the shaped copy per
# detune step; before, it shaped every shifted copy. Against that reference, at every
# corner of PIECE_RANGES (all 16 per piece, each with and without a detune step) on
# recorded kits: the third-octave band levels of the first 50 ms, of 100-300 ms and of
# the whole one-shot (above the lowest band, 0-28 Hz, the DC that saturation leaves)
# stay within BAND_TOLERANCE_DB in the bands within 30 dB of the
# strongest, within FAINT_BAND_TOLERANCE_DB in those 30-40 dB under it (measured at
# most 1.9 dB there: a snare's lowest band, 36 dB down, shifted +3 semitones; linear
# interpolation aliases differently when the tilt comes before the shift), and the
# difference signal stays DIFFERENCE_TOLERANCE_DB under the sound (measured at most
# -29.2 dB, a hi-hat tilted +1 dB/octave and shifted +2 semitones).
BAND_TOLERANCE_DB = 1.0
FAINT_BAND_TOLERANCE_DB = 2.5
DIFFERENCE_TOLERANCE_DB = -25.0


def band_levels_db(audio: np.ndarray, start: int, length: int) -> np.ndarray:
    from adtos.render.audibility import third_octave_bands

    segment = audio.astype(np.float64).mean(axis=0)[start:start + length]
    size = 1 << int(np.ceil(np.log2(max(length, 2))))
    power = np.abs(np.fft.rfft(segment, size)) ** 2
    return 10 * np.log10(np.bincount(third_octave_bands(SR, size), power) + 1e-20)


def test_moving_average_is_the_centred_convolution_it_replaces():
    from adtos.presets.variation import moving_average

    envelope = np.abs(decaying_noise(0.5)).max(axis=0)
    for width in (1, 2, 220, 221, envelope.size, envelope.size + 7):
        reference = np.convolve(envelope, np.ones(width) / width, mode="same")
        np.testing.assert_allclose(moving_average(envelope, width), reference, rtol=1e-9,
                                   atol=1e-12)


@pytest.mark.skipif(not (HYDROGEN / "GMRockKit").is_dir(), reason="hydrogen-drumkits not installed")
@pytest.mark.parametrize("kit_name", ["GMRockKit", "The Black Pearl 1.0"])
def test_shaping_once_then_shifting_sounds_as_shaping_each_shifted_copy(kit_name):
    from itertools import product

    from adtos.kits import load_kit
    from adtos.presets.variation import PIECE_RANGES, vary_one_shot

    if not (HYDROGEN / kit_name).is_dir():
        pytest.skip(f"{kit_name} not installed")
    kit = load_kit(kit_name)
    for piece, note in PIECE_NOTES.items():
        instrument = kit.instrument_for(note)
        path = instrument.layers[-1].sample
        ranges = PIECE_RANGES[piece]
        corners = product(ranges["pitch"], ranges["decay"], ranges["tilt"],
                          (ranges["drive_db"][1], 0.0))
        for pitch, decay, tilt, drive in corners:
            params = {"pitch": pitch, "decay": decay, "tilt": tilt, "drive_db": drive}
            for detune in (0.0, 0.15):  # a per-hit detune step shifts the shaped copy
                sampler = KitSampler(SR)
                reference = vary_one_shot(sampler.sample(path, pitch + detune), SR, params)
                ours = sampler.varied_sample(path, pitch, params, detune)
                assert ours.shape == reference.shape
                difference = reference.astype(np.float64) - ours
                error_db = 10 * np.log10((difference ** 2).sum()
                                         / (reference.astype(np.float64) ** 2).sum())
                assert error_db < DIFFERENCE_TOLERANCE_DB, (piece, params, error_db)
                for start, length in ((0, int(0.05 * SR)), (int(0.1 * SR), int(0.2 * SR)),
                                      (0, reference.shape[1])):
                    if start >= reference.shape[1]:
                        continue
                    a = band_levels_db(reference, start, length)
                    b = band_levels_db(ours, start, length)
                    loud, faint = a > a.max() - 30, a > a.max() - 40
                    loud[0] = faint[0] = False  # 0-28 Hz: DC (saturation's offset), unheard
                    assert np.abs(a - b)[loud].max() < BAND_TOLERANCE_DB, (piece, params, start)
                    assert np.abs(a - b)[faint].max() < FAINT_BAND_TOLERANCE_DB, (piece, params)


def reference_tilt(audio: np.ndarray, sample_rate: int, db_per_octave: float) -> np.ndarray:
    """tilt_spectrum as it was before its response was cached and its FFTs made single
    precision: the log-linear gain, minimum phase by folding the real cepstrum, float64."""
    n = audio.shape[-1]
    size = 1 << int(np.ceil(np.log2(2 * n)))
    freqs = np.fft.rfftfreq(size, 1.0 / sample_rate)
    octaves = np.log2(np.maximum(freqs, 20.0) / 1000.0)
    log_gain = np.clip(db_per_octave * octaves, -12.0, 12.0) * (np.log(10) / 20)
    cepstrum = np.fft.irfft(log_gain, n=size)
    cepstrum[1:size // 2] *= 2.0
    cepstrum[size // 2 + 1:] = 0.0
    spectrum = np.fft.rfft(audio.astype(np.float64), n=size, axis=-1) * np.exp(np.fft.rfft(cepstrum))
    return np.fft.irfft(spectrum, n=size, axis=-1)[..., :n]


@pytest.mark.parametrize("tilt", [-1.5, 1.5])
def test_the_cached_single_precision_tilt_is_the_double_precision_one(tilt):
    audio = decaying_noise(1.2)
    ours = tilt_spectrum(audio, SR, tilt)
    reference = reference_tilt(audio, SR, tilt)
    # float32 FFTs: errors around 1e-7 of the peak, far under a 16-bit step (3e-5).
    assert np.abs(ours - reference).max() < 1e-5 * np.abs(reference).max()
    np.testing.assert_array_equal(tilt_spectrum(audio, SR, tilt), ours)  # cached: the same

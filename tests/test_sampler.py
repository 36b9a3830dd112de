"""The native drum sampler: layers, round robin, choke, stereo, resampling, determinism."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pretty_midi
import pytest
import soundfile

from adtos.kits import KitError
from adtos.presets.sampler import KitSampler, pitch_shift
from adtos.presets.model import Preset
from kit_fixtures import SR, one_shot, write_hydrogen_kit

HYDROGEN_DIR = Path("/usr/share/hydrogen/data/drumkits")


@pytest.fixture
def kit_dir(tmp_path, monkeypatch):
    write_hydrogen_kit(tmp_path / "kits" / "TestKit")
    monkeypatch.setenv("ADTOS_KIT_PATH", str(tmp_path / "kits"))
    return tmp_path / "kits"


def preset(kit: str = "TestKit", **source) -> Preset:
    fields = {"hit_gain_db": 0.0, "hit_detune_cents": 0.0, **source}
    return Preset(role="drums", source={"type": "kit", "format": "hydrogen", "kit": kit, **fields})


def drums(*hits: tuple[float, int, int]) -> pretty_midi.Instrument:
    """(time, note, velocity) hits, 10 ms long as GMD's."""
    instrument = pretty_midi.Instrument(0, is_drum=True)
    for time, note, velocity in hits:
        instrument.notes.append(pretty_midi.Note(velocity, note, time, time + 0.01))
    return instrument


def frequency(audio: np.ndarray, start: float, seconds: float = 0.1) -> float:
    segment = audio[int(start * SR):int((start + seconds) * SR), 0].astype(np.float64)
    spectrum = np.abs(np.fft.rfft(segment * np.hanning(segment.size), 1 << 16))
    return float(np.argmax(spectrum) * SR / (1 << 16))


def test_the_velocity_picks_the_layer(kit_dir):
    audio = KitSampler(SR).render(preset(), drums((0.1, 36, 30), (1.1, 36, 120)), 2.0)
    assert frequency(audio, 0.1) == pytest.approx(60, abs=3)  # soft layer
    assert frequency(audio, 1.1) == pytest.approx(90, abs=3)  # hard layer
    # Level follows velocity too (Hydrogen's linear law on top of the layer).
    assert np.abs(audio[int(1.1 * SR):]).max() > 3 * np.abs(audio[:int(1.1 * SR)]).max()


def test_layers_sharing_a_velocity_range_play_in_turn(kit_dir):
    times = (0.1, 0.6, 1.1, 1.6)
    audio = KitSampler(SR).render(preset(), drums(*((t, 38, 100) for t in times)), 2.2)
    assert [round(frequency(audio, t, 0.05) / 100) for t in times] == [2, 3, 2, 3]


def test_an_open_hat_is_cut_by_the_next_closed_hat(kit_dir):
    sampler = KitSampler(SR)
    open_alone = sampler.render(preset(), drums((0.1, 46, 100)), 2.0)
    choked = sampler.render(preset(), drums((0.1, 46, 100), (0.5, 42, 100)), 2.0)
    closed_alone = sampler.render(preset(), drums((0.5, 42, 100)), 2.0)
    after = slice(int(0.52 * SR), None)  # past the 10 ms fade
    assert np.abs(open_alone[after]).max() > 0.05  # it would still ring
    np.testing.assert_allclose(choked[after], closed_alone[after], atol=1e-6)  # it does not
    before = slice(0, int(0.5 * SR))
    np.testing.assert_array_equal(choked[before], open_alone[before])
    fade = choked[int(0.5 * SR):int(0.51 * SR)] - closed_alone[int(0.5 * SR):int(0.51 * SR)]
    assert 0 < np.abs(fade).max() < np.abs(open_alone[int(0.49 * SR):int(0.5 * SR)]).max()
    # A pedal hat cuts it too; a kick does not.
    pedal = sampler.render(preset(), drums((0.1, 46, 100), (0.5, 44, 100)), 2.0)
    assert np.abs(pedal[int(0.6 * SR):]).max() < 1e-6
    kick = sampler.render(preset(), drums((0.1, 46, 100), (0.5, 36, 100)), 2.0)
    np.testing.assert_array_equal(kick[int(0.9 * SR):], open_alone[int(0.9 * SR):])


def test_every_hit_starts_on_its_sample_and_stereo_stays_stereo(kit_dir):
    onsets = (0.123457, 0.777777)
    audio = KitSampler(SR).render(preset(), drums((onsets[0], 38, 100), (onsets[1], 46, 100)), 2.0)
    for onset in onsets:
        first = int(round(onset * SR))
        assert audio[first - 1, 0] == 0 or abs(audio[first - 1, 0]) < 1e-3 * np.abs(audio).max()
        assert np.flatnonzero(np.abs(audio[first:first + 20, 0]) > 0).size > 0
    hat = audio[int(0.8 * SR):int(1.5 * SR)]
    np.testing.assert_allclose(hat[:, 1], 0.25 * hat[:, 0], atol=1e-6)  # the sample's own image


def test_samples_are_resampled_and_read_once(kit_dir):
    one_shot(kit_dir / "TestKit" / "crash.flac", 0, 1.5, sr=48000, noise=True, seed=3)
    sampler = KitSampler(SR)
    notes = drums((0.1, 49, 100), (0.2, 36, 100), (2.0, 49, 100))
    first = sampler.render(preset(), notes, 4.0)
    assert sampler.files_read == 2
    again = sampler.render(preset(), notes, 4.0)
    assert sampler.files_read == 2 and np.array_equal(first, again)
    crash = sampler.sample(kit_dir / "TestKit" / "crash.flac")
    assert abs(crash.shape[1] - 1.5 * SR) < 0.01 * SR  # 48 kHz → 44.1 kHz, not played fast


def test_same_id_same_audio_different_id_audibly_different(kit_dir):
    hits = [(0.1 + 0.25 * i, (36, 38, 42)[i % 3], 90) for i in range(24)]
    varied = preset(hit_gain_db=1.0, hit_detune_cents=10.0)
    a = KitSampler(SR).render(varied, drums(*hits), 7.0)
    b = KitSampler(SR).render(varied, drums(*hits), 7.0)  # a fresh process-like sampler
    assert np.array_equal(a, b)
    # The same kit with another id (here: another effect chain) draws other variations.
    other = Preset(role="drums", source=dict(varied.source),
                   effects=[{"type": "Gain", "gain_db": 0.0}])
    c = KitSampler(SR).render(other, drums(*hits), 7.0)
    assert other.id != varied.id

    def hit_levels_db(audio):
        return np.array([20 * np.log10(np.abs(audio[int(t * SR):int((t + 0.05) * SR)]).max())
                         for t, _, _ in hits])

    differences = np.abs(hit_levels_db(a) - hit_levels_db(c))
    assert differences.max() > 0.5 and np.median(differences) > 0.1  # dB, per hit
    plain = KitSampler(SR).render(preset(), drums(*hits), 7.0)
    assert np.std(hit_levels_db(plain)[::3]) < 1e-6  # no variation asked: identical kicks


def test_composite_pieces_and_chosen_instruments(kit_dir):
    write_hydrogen_kit(kit_dir / "Other")
    one_shot(kit_dir / "Other" / "snare_a.flac", 600)
    one_shot(kit_dir / "Other" / "snare_b.flac", 600)
    composite = Preset(role="drums", source={"type": "kit", "format": "hydrogen", "kit": "TestKit",
                                             "hit_gain_db": 0, "hit_detune_cents": 0},
                       pieces={"snare": {"kit": "Other", "format": "hydrogen", "tune_cents": 0,
                                         "gain_db": 0}})
    audio = KitSampler(SR).render(composite, drums((0.1, 38, 100), (0.6, 36, 100)), 1.2)
    assert frequency(audio, 0.1) == pytest.approx(600, abs=3)
    assert frequency(audio, 0.6) == pytest.approx(90, abs=3)
    tom_as_kick = preset(instruments={"36": "Tom Mid"})
    audio = KitSampler(SR).render(tom_as_kick, drums((0.1, 36, 100)), 1.0)
    assert frequency(audio, 0.1) == pytest.approx(120, abs=3)
    with pytest.raises(KitError, match="no instrument named 'Gong'"):
        KitSampler(SR).render(preset(instruments={"36": "Gong"}), drums((0.1, 36, 100)), 1.0)


def test_a_note_of_a_class_the_kit_lacks_is_an_error_naming_the_kit(kit_dir):
    write_hydrogen_kit(kit_dir / "NoCrash", name="NoCrash", skip=("Crash",))
    with pytest.raises(KitError, match=r"NoCrash.*note 49 \(class CY\)"):
        KitSampler(SR).render(preset("NoCrash"), drums((0.1, 49, 100)), 1.0)
    silent = KitSampler(SR).render(preset("NoCrash"), drums((0.1, 56, 100)), 1.0)
    assert not silent.any()  # a cowbell the kit lacks is silent, as on a GM module


@pytest.mark.skipif(not (HYDROGEN_DIR / "GMRockKit").is_dir(), reason="hydrogen-drumkits absent")
def test_pitch_shift_matches_scipy_resampling_on_a_recorded_sample():
    from scipy.signal import resample

    audio, sr = soundfile.read(HYDROGEN_DIR / "GMRockKit" / "Snare-Hard.wav", dtype="float32",
                               always_2d=True)
    audio = audio.T[:, :sr // 2]
    for semitones in (-0.1, 0.05, -1.0):
        ours = pitch_shift(audio, semitones)
        reference = resample(audio, int(round(audio.shape[1] / 2 ** (semitones / 12))), axis=1)
        n = min(ours.shape[1], reference.shape[1]) - 100
        error = np.sum((ours[:, :n] - reference[:, :n]) ** 2) / np.sum(reference[:, :n] ** 2)
        assert abs(ours.shape[1] - reference.shape[1]) <= 2
        assert 10 * np.log10(error) < -25  # dB below the signal


def test_trim_starts_the_sample_at_its_attack_and_fades_the_lead_in():
    from adtos.presets.sampler import ONSET_LEAD_S, trim

    rng = np.random.default_rng(0)
    rustle = 10 ** (-45 / 20) * rng.uniform(-1, 1, (2, int(0.010 * SR)))  # 10 ms, -45 dB
    hit = np.exp(-np.arange(SR // 4) / 2000.0) * np.sin(np.arange(SR // 4) * 0.3)
    audio = np.concatenate([np.zeros((2, 500)), rustle, np.stack([hit, hit])], axis=1)
    trimmed = trim(audio.astype(np.float32), SR)
    lead = int(round(ONSET_LEAD_S * SR))
    start = 500 + rustle.shape[1] + 1  # sin(0) = 0: the hit's first loud sample is its second
    np.testing.assert_allclose(trimmed[:, lead:lead + 200], audio[:, start:start + 200], atol=1e-6)
    assert trimmed[0, 0] == 0.0 and np.all(np.abs(trimmed[:, :lead]) <= 10 ** (-45 / 20) + 1e-6)


@pytest.mark.slow  # reads every installed kit: ~6 s alone
@pytest.mark.skipif(not HYDROGEN_DIR.is_dir(), reason="hydrogen-drumkits absent")
def test_every_installed_drum_kit_starts_every_class_note_within_2ms():
    """Each 5-class note of every installed drum kit, soft and hard, alone: its onset (the
    alignment test's measure, 2 % of the peak) within 2 ms of the note-on."""
    from adtos.kits import load_kits
    from adtos.presets.kitcheck import kit_preset
    from adtos.vocab import GM_TO_CLASS

    sampler = KitSampler(SR)
    kits = [k for k in load_kits()[0] if k.kind == "drums"]
    assert len(kits) >= 10
    worst = 0.0
    for kit in kits:
        played = kit_preset(str(kit.path), kit.format)
        for note in (n for n in sorted(GM_TO_CLASS) if kit.instrument_for(n) is not None):
            for velocity in (30, 110):
                audio = sampler.render(played, drums((0.2, note, velocity)), 0.4)
                envelope = np.abs(audio[int(0.18 * SR):]).max(axis=1)
                onset = 0.18 + np.flatnonzero(envelope >= 0.02 * envelope.max())[0] / SR
                worst = max(worst, abs(onset - 0.2))
                assert abs(onset - 0.2) < 0.002, (kit.name, note, velocity, onset - 0.2)
    assert worst > 0  # the measure saw real onsets

"""Synthesis: SoundfontBank.render and apply_effects on real FluidSynth and pedalboard.

Uses pretty_midi's bundled TimGM6mb.sf2; the AVL test needs the Debian package.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pretty_midi
import pytest
from scipy.signal import stft

from adtos.presets.effects import apply_effects, random_effect_chain
from adtos.presets.model import Preset
from adtos.presets.soundfonts import pretty_midi_soundfont
from adtos.presets.synth import FLUID_BLOCK, SoundfontBank

SR = 44100
TIMGM = pretty_midi_soundfont()
SPECTRAL_DISTANCE_DB = 1.0  # below this two renders count as the same sound


@pytest.fixture(scope="module")
def bank() -> SoundfontBank:
    return SoundfontBank(SR, soundfonts=[TIMGM])


def kit(program: int = 0, **kw) -> Preset:
    return Preset(role="drums", source={"type": "soundfont", "soundfont": "TimGM6mb.sf2",
                                        "bank": 128, "program": program}, **kw)


def drum_groove(bars: int = 2) -> pretty_midi.Instrument:
    instrument = pretty_midi.Instrument(0, is_drum=True)
    for step in range(16 * bars):
        t = step * 0.125
        instrument.notes.append(pretty_midi.Note(90, 42, t, t + 0.05))
        if step % 8 == 0:
            instrument.notes.append(pretty_midi.Note(110, 36, t, t + 0.05))
        if step % 8 == 4:
            instrument.notes.append(pretty_midi.Note(105, 38, t, t + 0.05))
        if step % 16 == 14:
            instrument.notes.append(pretty_midi.Note(100, 45, t, t + 0.05))
    instrument.notes.append(pretty_midi.Note(110, 49, 0.0, 0.05))
    return instrument


def one_note(pitch: int, start: float = 0.1, velocity: int = 100) -> pretty_midi.Instrument:
    instrument = pretty_midi.Instrument(0, is_drum=True)
    instrument.notes.append(pretty_midi.Note(velocity, pitch, start, start + 0.05))
    return instrument


def spectral_distance_db(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute difference of log-magnitude spectrograms (dB), mono, 2048-point frames."""
    _, _, sa = stft(a.mean(axis=1), SR, nperseg=2048)
    _, _, sb = stft(b.mean(axis=1), SR, nperseg=2048)
    la, lb = 20 * np.log10(np.abs(sa) + 1e-5), 20 * np.log10(np.abs(sb) + 1e-5)
    return float(np.mean(np.abs(la - lb)))


def onset_sample(audio: np.ndarray, threshold: float = 1e-3) -> int:
    return int(np.argmax(np.abs(audio).max(axis=1) > threshold))


def test_render_shape_and_length(bank):
    audio = bank.render(kit(), drum_groove(), 2.345)
    assert audio.dtype == np.float32 and audio.shape == (round(2.345 * SR), 2)
    assert 0.01 < np.abs(audio).max() < 1.0
    assert bank.render(kit(), drum_groove(), 0.0).shape == (0, 2)


def test_same_preset_renders_identical_audio_whatever_came_before(bank):
    first = bank.render(kit(), drum_groove(), 4.0)
    piano = Preset(role="piano", source={"soundfont": "TimGM6mb.sf2", "bank": 0, "program": 0})
    chord = pretty_midi.Instrument(0)
    chord.notes += [pretty_midi.Note(100, p, 0.0, 2.0) for p in (48, 52, 55, 60)]
    bank.render(piano, chord, 1.0)  # a render in between must not leak into the next
    again = bank.render(kit(), drum_groove(), 4.0)
    other_bank = SoundfontBank(SR, soundfonts=[TIMGM]).render(kit(), drum_groove(), 4.0)
    assert np.array_equal(first, again) and np.array_equal(first, other_bank)


def test_lent_soundfont_renders_like_one_the_synth_loads_itself(bank, monkeypatch):
    lent = bank.render(kit(25), drum_groove(), 2.0)
    own = SoundfontBank(SR, soundfonts=[TIMGM])

    def select_by_loading(channel, soundfont, bank_number, program):
        if soundfont not in own._sfids:  # the synthesizer reads the file itself
            own._sfids[soundfont] = own._synth.sfload(str(own.soundfont_path(soundfont)))
        assert own._synth.program_select(channel, own._sfids[soundfont], bank_number, program) == 0

    monkeypatch.setattr(own, "_select", select_by_loading)
    assert np.array_equal(lent, own.render(kit(25), drum_groove(), 2.0))


def test_different_presets_render_audibly_different_audio(bank):
    standard, tr808 = kit(0), kit(25)
    assert standard.id != tr808.id
    a = bank.render(standard, drum_groove(), 4.0)
    b = bank.render(tr808, drum_groove(), 4.0)
    assert spectral_distance_db(a, a.copy()) == 0.0
    assert spectral_distance_db(a, b) > SPECTRAL_DISTANCE_DB
    # an effect-chain variant of the same kit is a different preset and sounds different
    eq = kit(0, effects=[{"type": "HighShelfFilter", "cutoff_frequency_hz": 4000.0,
                          "gain_db": -6.0, "q": 0.707}])
    c = apply_effects(eq, bank.render(eq, drum_groove(), 4.0), SR)
    assert eq.id != standard.id and spectral_distance_db(a, c) > SPECTRAL_DISTANCE_DB


def test_note_starts_at_its_sample(bank):
    early = bank.render(kit(), one_note(38, start=0.0), 1.0)
    late = bank.render(kit(), one_note(38, start=0.5), 1.5)
    shift = onset_sample(late) - onset_sample(early)
    assert abs(shift - round(0.5 * SR)) <= FLUID_BLOCK


def test_drum_hits_ring_past_short_midi_notes(bank):
    audio = bank.render(kit(), one_note(49, start=0.0), 2.0)  # a 50 ms crash note
    ring = audio[int(0.8 * SR):int(1.0 * SR)]
    assert np.sqrt(np.mean(ring ** 2)) > 1e-3


def test_remap_plays_the_target_note(bank):
    remapped = bank.render(kit(remap={59: 51}), one_note(59), 1.0)
    target = bank.render(kit(), one_note(51), 1.0)
    assert np.array_equal(remapped, target)


def piece(program: int, tune: float = 0.0, gain: float = 0.0) -> dict:
    return {"soundfont": "TimGM6mb.sf2", "bank": 128, "program": program, "tune_cents": tune,
            "gain_db": gain}


def test_composite_piece_plays_from_its_own_kit(bank):
    composite = kit(0, pieces={"snare": piece(25)})
    snare = bank.render(composite, one_note(38), 1.0)
    kick = bank.render(composite, one_note(36), 1.0)
    tr808_snare = bank.render(kit(25), one_note(38), 1.0)
    standard_kick = bank.render(kit(0), one_note(36), 1.0)
    headroom = 10 ** (-6.0 / 20)  # composites leave 6 dB for piece gains
    assert np.allclose(snare, tr808_snare * headroom, atol=1e-4)
    assert np.allclose(kick, standard_kick * headroom, atol=1e-4)


def test_piece_gain_changes_level_by_its_db(bank):
    quiet = bank.render(kit(0, pieces={"toms": piece(25, gain=0.0)}), one_note(45), 1.0)
    loud = bank.render(kit(0, pieces={"toms": piece(25, gain=3.0)}), one_note(45), 1.0)
    ratio_db = 20 * np.log10(np.abs(loud).max() / np.abs(quiet).max())
    assert ratio_db == pytest.approx(3.0, abs=0.2)


def pitch_ratio(a: np.ndarray, b: np.ndarray) -> float:
    """The frequency scale s for which |B(f)| best matches |A(f / s)|."""
    n = 16384
    spec_a = np.abs(np.fft.rfft(a[:n].mean(axis=1) * np.hanning(n)))
    spec_b = np.abs(np.fft.rfft(b[:n].mean(axis=1) * np.hanning(n)))
    bins = np.arange(len(spec_a))
    scales = np.linspace(0.9, 1.12, 441)
    scores = [np.dot(np.interp(bins / s, bins, spec_a), spec_b) for s in scales]
    return float(scales[int(np.argmax(scores))])


def test_piece_tuning_changes_pitch(bank):
    plain = bank.render(kit(0, pieces={"toms": piece(0)}), one_note(45, start=0.0), 0.5)
    up = bank.render(kit(0, pieces={"toms": piece(0, tune=100.0)}), one_note(45, start=0.0), 0.5)
    down = bank.render(kit(0, pieces={"toms": piece(0, tune=-100.0)}), one_note(45, start=0.0),
                       0.5)
    semitone = 2 ** (1 / 12)
    assert pitch_ratio(plain, up) == pytest.approx(semitone, abs=0.01)
    assert pitch_ratio(plain, down) == pytest.approx(1 / semitone, abs=0.01)


def test_pitched_voice_plays_sustain_pedal(bank):
    piano = Preset(role="piano", source={"soundfont": "TimGM6mb.sf2", "bank": 0, "program": 0})
    staccato = pretty_midi.Instrument(0)
    staccato.notes.append(pretty_midi.Note(100, 60, 0.0, 0.1))
    pedalled = pretty_midi.Instrument(0)
    pedalled.notes.append(pretty_midi.Note(100, 60, 0.0, 0.1))
    pedalled.control_changes.append(pretty_midi.ControlChange(64, 127, 0.0))
    dry = bank.render(piano, staccato, 1.5)
    held = bank.render(piano, pedalled, 1.5)
    tail = slice(int(1.0 * SR), int(1.5 * SR))
    assert np.abs(held[tail]).max() > 10 * np.abs(dry[tail]).max()


def test_missing_patch_and_soundfont_raise(bank):
    with pytest.raises(Exception, match="no preset at bank 5 program 3"):
        bank.render(Preset(role="other", source={"soundfont": "TimGM6mb.sf2", "bank": 5,
                                                 "program": 3}), one_note(60), 0.5)
    with pytest.raises(FileNotFoundError, match="nowhere.sf2"):
        bank.render(Preset(role="other", source={"soundfont": "nowhere.sf2", "bank": 0,
                                                 "program": 0}), one_note(60), 0.5)


def test_avl_kit_at_bank_0_program_0_sounds():
    path = Path("/usr/share/sounds/sf2/Black_Pearl_4_LV2.sf2")
    if not path.is_file():
        pytest.skip("avldrums.lv2-soundfont not installed")
    avl = SoundfontBank(SR)
    preset = Preset(role="drums", source={"soundfont": path.name, "bank": 0, "program": 0})
    audio = avl.render(preset, one_note(38), 1.0)
    assert np.abs(audio).max() > 0.01


# -- effects -----------------------------------------------------------------------------


def test_effects_change_audio_deterministically(bank):
    dry = bank.render(kit(), drum_groove(), 3.0)
    chain = [{"type": "HighpassFilter", "cutoff_frequency_hz": 200.0},
             {"type": "Compressor", "threshold_db": -30.0, "ratio": 4.0},
             {"type": "Reverb", "room_size": 0.4, "wet_level": 0.3, "dry_level": 0.85},
             {"type": "Room", "decay_s": 0.5, "wet_level": 0.2, "seed": 7}]
    preset = kit(effects=chain)
    wet = apply_effects(preset, dry, SR)
    assert wet.shape == dry.shape and wet.dtype == np.float32
    assert spectral_distance_db(dry, wet) > SPECTRAL_DISTANCE_DB
    assert np.array_equal(wet, apply_effects(preset, dry, SR))
    assert apply_effects(kit(), dry, SR) is not None
    assert np.array_equal(apply_effects(kit(), dry, SR), dry)


def test_bad_effect_is_reported_with_the_preset_id():
    preset = kit(effects=[{"type": "Flanger9000", "amount": 1}])
    with pytest.raises(ValueError, match=f"{preset.id}.*Flanger9000"):
        apply_effects(preset, np.zeros((100, 2), np.float32), SR)
    bad_param = kit(effects=[{"type": "Gain", "loudness": 3}])
    with pytest.raises(ValueError, match="bad parameters"):
        apply_effects(bad_param, np.zeros((100, 2), np.float32), SR)


def test_random_chains_are_seeded_varied_and_keep_the_level_musical():
    chains = [random_effect_chain(np.random.default_rng(0), "drums") for _ in range(2)]
    assert chains[0] == chains[1]  # the seed decides the chain
    rng = np.random.default_rng(0)
    chains = [random_effect_chain(rng, "drums") for _ in range(300)]
    assert 0.05 < np.mean([not c for c in chains]) < 0.3  # dry_share=0.15 of them dry
    assert len({json.dumps(c, sort_keys=True) for c in chains if c}) > 0.9 * sum(map(bool, chains))
    audio = np.random.default_rng(1).standard_normal((SR, 2)).astype(np.float32) * 0.1
    dry_rms = np.sqrt(np.mean(audio ** 2))
    for chain in chains[:12]:
        out = apply_effects(kit(effects=chain), audio, SR)  # every chain builds a valid preset
        change_db = 20 * np.log10(np.sqrt(np.mean(out ** 2)) / dry_rms)
        assert np.isfinite(out).all() and -12.0 < change_db < 12.0, chain


def test_overlapping_notes_of_one_pitch_do_not_cut_each_other(bank):
    organ = Preset(role="other", source={"soundfont": "TimGM6mb.sf2", "bank": 0, "program": 19})
    overlapping = pretty_midi.Instrument(0)
    overlapping.notes += [pretty_midi.Note(100, 60, 0.0, 1.0), pretty_midi.Note(100, 60, 0.5, 2.0)]
    single = pretty_midi.Instrument(0)
    single.notes.append(pretty_midi.Note(100, 60, 0.0, 1.0))
    both = bank.render(organ, overlapping, 2.5)
    one = bank.render(organ, single, 2.5)
    held = slice(int(1.3 * SR), int(1.9 * SR))  # after the first note's end, before the second's
    assert np.abs(both[held]).max() > 0.02 and np.abs(one[held]).max() < 0.01


# -- velocity curves (docs/presets.md, "Velocity curves") --------------------------------

CURVE_VELOCITIES = (30, 60, 100, 127)
CURVE_TOLERANCE_DB = 0.5  # TimGM6mb follows the SF2 square law; measured within 0.15 dB


def hit_level_db(bank: SoundfontBank, preset: Preset, pitch: int, velocity: int) -> float:
    """Energy of a hit's first 300 ms, in dB."""
    audio = bank.render(preset, one_note(pitch, start=0.05, velocity=velocity), 0.4)
    return float(10 * np.log10(np.mean(audio[int(0.05 * SR):int(0.35 * SR)] ** 2)))


@pytest.mark.parametrize("pitch", [38, 42])
def test_velocity_curve_sets_the_level_of_soundfont_hits(bank, pitch):
    """A real soundfont hit at velocities 30/60/100/127: its level relative to 127
    follows 20·e·log10(v/127) dB for two drawn exponents and for the SF2 default."""
    for exponent in (1.0, 1.5, None):
        preset = kit(0, variation={"velocity_exponent": exponent} if exponent else {})
        levels = {v: hit_level_db(bank, preset, pitch, v) for v in CURVE_VELOCITIES}
        e = exponent or 2.0
        for velocity in CURVE_VELOCITIES[:-1]:
            measured = levels[velocity] - levels[127]
            assert measured == pytest.approx(20 * e * np.log10(velocity / 127),
                                             abs=CURVE_TOLERANCE_DB), (exponent, velocity)
    # A ghost note at velocity 30 is about 12.5 dB louder with the linear curve than with
    # the square law, and the same at 127.
    linear, square = kit(0, variation={"velocity_exponent": 1.0}), kit(0)
    assert hit_level_db(bank, linear, pitch, 30) - hit_level_db(bank, square, pitch, 30) \
        == pytest.approx(12.5, abs=CURVE_TOLERANCE_DB)
    assert hit_level_db(bank, linear, pitch, 127) == hit_level_db(bank, square, pitch, 127)


def test_preset_without_a_curve_sends_the_midi_velocities(bank):
    """No `velocity_exponent`: FluidSynth gets each note's velocity as played, so the
    audio is what it was before curves existed; on a kit with the SF2 default law
    (TimGM6mb's), e = 2 is the identity, byte for byte."""
    groove = drum_groove()
    for note, velocity in zip(groove.notes, range(1, 128, 3)):
        note.velocity = velocity
    plain = kit(0)
    sent = [e.b for e in bank._events(plain, groove, 10 * SR) if e.kind == "on"]
    assert sorted(sent) == sorted(n.velocity for n in groove.notes)
    square = kit(0, variation={"velocity_exponent": 2.0})
    assert square.id != plain.id
    assert np.array_equal(bank.render(plain, groove, 4.0), bank.render(square, groove, 4.0))
    curved = kit(0, variation={"velocity_exponent": 1.0})
    sent = [e.b for e in bank._events(curved, groove, 10 * SR) if e.kind == "on"]
    assert sorted(sent) != sorted(n.velocity for n in groove.notes)


def test_curve_velocity_maps_the_square_law_onto_the_exponent():
    from adtos.presets.synth import curve_velocity

    assert [curve_velocity(v, 2.0) for v in range(1, 128)] == list(range(1, 128))
    assert curve_velocity(127, 1.0) == 127 and curve_velocity(1, 4.0) == 1  # clamped to 1..127
    for velocity in (10, 30, 64, 100):
        sent = curve_velocity(velocity, 1.0)
        assert sent > velocity  # a flatter curve lifts soft notes
        assert 2 * np.log10(sent / 127) == pytest.approx(np.log10(velocity / 127), abs=0.03)
    assert curve_velocity(60, 3.0) < 60


def test_velocity_curve_is_validated_at_load(tmp_path):
    from adtos.presets.model import load_presets

    good = kit(0, variation={"velocity_exponent": 1.37})
    line = good.to_json()
    assert line["variation"] == {"velocity_exponent": 1.37}
    for bad, message in ((9.0, r"velocity_exponent must be a number in \[0.25, 4\]"),
                         ("steep", r"velocity_exponent must be a number in \[0.25, 4\]"),
                         (float("nan"), "velocity_exponent")):
        path = tmp_path / "bad.jsonl"
        data = {**line, "id": "", "variation": {"velocity_exponent": bad}}
        path.write_text(json.dumps(data) + "\n")
        with pytest.raises(ValueError, match=f"bad.jsonl, line 1: .*{message}"):
            load_presets(path)
    with pytest.raises(ValueError, match="may hold only a drum kit's 'velocity_exponent'"):
        kit(0, variation={"velocity_exponent": 1.5, "pieces": {"kick": {"pitch": 1.0}}})
    with pytest.raises(ValueError, match="may hold only a drum kit's 'velocity_exponent'"):
        Preset(role="piano", source={"soundfont": "TimGM6mb.sf2", "bank": 0, "program": 0},
               variation={"velocity_exponent": 1.5})


def test_kit_with_its_own_velocity_law_plays_the_drawn_curve(tmp_path):
    """A kit whose zones carry their own velocity modulator (MuseScore General's kits:
    800 cB, level (v/127)^1.67) is remapped from its own law, not the SF2 default's:
    a written soundfont whose law is linear plays e = 1.5 and 2 as drawn."""
    from adtos.presets.soundfonts import SoundfontError, read_velocity_exponents
    from sf2_fixture import write_drum_soundfont

    linear = write_drum_soundfont(tmp_path / "Linear.sf2", velocity_cb=480)
    flat = write_drum_soundfont(tmp_path / "Flat.sf2", velocity_cb=0)
    assert read_velocity_exponents(linear) == {(128, 0): 1.0}
    assert read_velocity_exponents(flat) == {(128, 0): 0.0}
    own = SoundfontBank(SR, soundfonts=[linear, flat])
    for exponent in (None, 1.5, 2.0):
        preset = Preset(role="drums", source={"soundfont": "Linear.sf2", "bank": 128,
                                              "program": 0},
                        variation={"velocity_exponent": exponent} if exponent else {})
        levels = {v: hit_level_db(own, preset, 38, v) for v in CURVE_VELOCITIES}
        e = exponent or 1.0  # no curve: the kit's own, linear
        for velocity in CURVE_VELOCITIES[:-1]:
            assert levels[velocity] - levels[127] == pytest.approx(
                20 * e * np.log10(velocity / 127), abs=CURVE_TOLERANCE_DB), (exponent, velocity)
    deaf = Preset(role="drums", source={"soundfont": "Flat.sf2", "bank": 128, "program": 0},
                  variation={"velocity_exponent": 1.5})
    with pytest.raises(SoundfontError, match="Flat.sf2 bank 128 program 0: its level does not "
                                             "follow the velocity"):
        own.render(deaf, one_note(38), 0.5)


def test_velocity_laws_of_the_installed_soundfonts():
    """TimGM6mb's kits keep the SF2 default; MuseScore General's override it (800 cB)."""
    from adtos.presets.soundfonts import read_velocity_exponents, resolve_soundfont

    laws = read_velocity_exponents(TIMGM)
    assert {e for (bank, _), e in laws.items() if bank == 128} == {2.0}
    try:
        musescore = resolve_soundfont("MuseScore_General_Full.sf3")
    except FileNotFoundError:
        return
    kits = {program: e for (bank, program), e in read_velocity_exponents(musescore).items()
            if bank == 128}
    assert kits[0] == pytest.approx(2 * 800 / 960) and len(kits) == 38


def test_an_sf3_loaded_on_demand_renders_as_one_loaded_whole():
    """MuseScore's SF3 is loaded with dynamic sample loading (0.02 s, not 6-8 s of
    decoding): a preset's samples are decoded when first selected and kept. The
    renders are the same samples as from the file loaded whole."""
    import time

    from adtos.presets.soundfonts import resolve_soundfont
    from adtos.render.worker import _on_nearest_block

    try:
        resolve_soundfont("MuseScore_General_Full.sf3")
    except FileNotFoundError:
        pytest.skip("musescore-general-soundfont not installed")
    groove = _on_nearest_block(drum_groove(), SR)
    piano = pretty_midi.Instrument(0)
    piano.notes = [pretty_midi.Note(90, p, 0.1 * i, 0.1 * i + 0.5) for i, p in enumerate((60, 64, 67))]
    presets = [(Preset(role="drums", source={"type": "soundfont", "soundfont":
                                             "MuseScore_General_Full.sf3", "bank": 128,
                                             "program": program}), groove) for program in (0, 25)]
    presets.append((Preset(role="piano", source={"type": "soundfont", "soundfont":
                                                 "MuseScore_General_Full.sf3", "bank": 0,
                                                 "program": 4}), piano))
    on_demand = SoundfontBank(SR)
    whole = SoundfontBank(SR)
    whole._keeper_for = lambda path: whole._keeper  # loads every sample at once, as before
    for preset, notes in presets:
        np.testing.assert_array_equal(on_demand.render(preset, notes, 2.0),
                                      whole.render(preset, notes, 2.0))
    start = time.process_time()  # decoded once: a render again costs no decoding
    on_demand.render(presets[0][0], groove, 2.0)
    assert time.process_time() - start < 0.5


def test_an_sf3_piece_of_a_composite_kit_stays_held(capfd):
    """A composite kit lends TimGM6mb first, so MuseScore's SF3 is renumbered when it
    is lent second: its preset must still be held by the SF3 keeper (selected by
    name), with no FluidSynth error line and no decoding on the next render."""
    import time

    from adtos.presets.soundfonts import resolve_soundfont

    try:
        resolve_soundfont("MuseScore_General_Full.sf3")
    except FileNotFoundError:
        pytest.skip("musescore-general-soundfont not installed")
    fresh = SoundfontBank(SR, soundfonts=[TIMGM])
    composite = kit(0, pieces={"cymbals": {"soundfont": "MuseScore_General_Full.sf3", "bank": 128,
                                           "program": 25, "tune_cents": 0.0, "gain_db": 0.0}})
    first = fresh.render(composite, drum_groove(), 2.0)
    assert ("MuseScore_General_Full.sf3", 128, 25) in fresh._held
    start = time.process_time()
    again = fresh.render(composite, drum_groove(), 2.0)
    assert time.process_time() - start < 0.5
    np.testing.assert_array_equal(first, again)
    assert "fluidsynth: error" not in capfd.readouterr().err

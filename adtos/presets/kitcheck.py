"""Check that a drum kit really plays every GM note the 5-class labels depend on.

A kit that is silent on a note, or plays a sustained or melodic sound there,
produces audio that contradicts its annotation; such kits are a known source of
wrong labels in earlier synthetic datasets. Each vocabulary note is rendered
alone and must show:

- energy: a peak above `FLOOR_DB` (dBFS of the rendered note at velocity 100);
- an onset: within `ATTACK_WINDOW_S` of the note start it comes within
  `ATTACK_WITHIN_DB` of its peak, which rises at least `ONSET_RISE_DB` above
  what was sounding just before;
- decay: `DECAY_DB` below the peak by the end of the held note, so not a looped
  or sustained patch;
- a spectrum like its class: hi-hats put `HH_MIN_HIGH_SHARE` of their power
  above `HIGH_HZ` (cymbals a little), kicks `KICK_MIN_LOW_SHARE` below `LOW_HZ`;
  a melodic patch used as a kit has no hi-hat and is excluded (measured: 0.01-0.22
  for piano, music box, xylophone, synth drum; 0.5-1.0 for every kit's hats).

A note that fails is remapped to a passing note of the same class in that kit;
a kit with a class that has no passing note is excluded.

Sampled kits get the same check (`check_sampled_kit`): each of the 21 notes of
the 5-class vocabulary is played alone at velocity 100 by the native sampler
(`adtos.presets.sampler`), without per-hit variation, and judged by the same
measures and thresholds. A sampled kit with a class that has no passing note
cannot be a whole drum kit (it can still lend the pieces that pass to composite
kits, and a kit lacking only FILLABLE_CLASSES is filled from another kit).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from adtos.kits.model import Kit
from adtos.kits.names import PREFERRED_NOTES  # the notes a remap prefers, per class
from adtos.presets.model import Preset
from adtos.vocab import CLASSES, GM_TO_CLASS

if TYPE_CHECKING:
    from adtos.presets.sampler import KitSampler
    from adtos.presets.synth import SoundfontBank

VOCAB_NOTES: tuple[int, ...] = tuple(sorted(GM_TO_CLASS))

CHECK_VELOCITY = 100
HOLD_S = 1.0  # the note is held this long (a looped patch keeps sounding)
SLOT_S = 1.25  # notes are this far apart in the check render
FRAME_S = 0.01
FLOOR_DB = -60.0
ATTACK_WITHIN_DB = 12.0
ATTACK_WINDOW_S = 0.05
ONSET_RISE_DB = 20.0
DECAY_DB = 10.0
HIGH_HZ = 1000.0
HH_MIN_HIGH_SHARE = 0.3  # hi-hats: share of power above HIGH_HZ (melodic patches: < 0.25)
CY_MIN_HIGH_SHARE = 0.03  # cymbals: recorded crashes (AVL) can be as dark as 0.04
KICK_MIN_LOW_SHARE = 0.5  # kicks: share of power below LOW_HZ (kits: > 0.8)
LOW_HZ = 150.0


@dataclass
class NoteCheck:
    note: int
    peak_db: float
    rise_db: float
    attack_s: float
    decay_db: float
    low_share: float
    high_share: float
    reason: str = ""  # empty when the note passes

    @property
    def ok(self) -> bool:
        return not self.reason


@dataclass
class KitCheck:
    """The result for one kit: per-note checks, the remap it needs, whether it is usable."""

    soundfont: str
    bank: int
    program: int
    notes: dict[int, NoteCheck] = field(default_factory=dict)
    remap: dict[int, int] = field(default_factory=dict)
    missing_classes: list[str] = field(default_factory=list)

    @property
    def usable(self) -> bool:
        return not self.missing_classes

    def passing_notes(self, label: str) -> list[int]:
        return [n for n in PREFERRED_NOTES[label] if self.notes[n].ok]

    def failures(self) -> list[NoteCheck]:
        return [check for check in self.notes.values() if not check.ok]

    def describe(self) -> str:
        failed = ", ".join(f"{c.note} ({c.reason})" for c in self.failures()) or "none"
        state = "excluded" if not self.usable else "ok"
        extra = f"; no sounding note for {', '.join(self.missing_classes)}" if not self.usable else ""
        remap = f"; remap {self.remap}" if self.remap else ""
        return (f"{self.soundfont} bank {self.bank} program {self.program}: {state}; "
                f"failed notes: {failed}{remap}{extra}")


def measure_note(audio: np.ndarray, sample_rate: int, onset: int) -> NoteCheck:
    """Energy, onset, decay and brightness of one note rendered at sample `onset`."""
    mono = audio.mean(axis=1) if audio.ndim == 2 else audio
    frame = int(round(FRAME_S * sample_rate))
    held = mono[onset:onset + int(HOLD_S * sample_rate)]
    frames = held[:len(held) // frame * frame].reshape(-1, frame)
    rms_db = 10 * np.log10(np.mean(frames.astype(np.float64) ** 2, axis=1) + 1e-20)
    before = mono[max(0, onset - 3 * frame):onset].astype(np.float64)
    before_db = 10 * np.log10(np.mean(before ** 2) + 1e-20) if before.size else -200.0
    peak_db = float(rms_db.max())
    # A crash swells for ~100 ms after the stick hits; its attack is where it
    # first comes within ATTACK_WITHIN_DB of its peak.
    attack_frame = int(np.argmax(rms_db >= peak_db - ATTACK_WITHIN_DB))
    tail_db = float(np.mean(rms_db[-10:]))  # the last 100 ms of the held note
    # Spectral balance (power) of the first 200 ms, where the hit is.
    attack = held[:int(0.2 * sample_rate)].astype(np.float64)
    power = np.abs(np.fft.rfft(attack * np.hanning(len(attack)))) ** 2
    freqs = np.fft.rfftfreq(len(attack), 1.0 / sample_rate)
    total = float(power.sum()) + 1e-30
    return NoteCheck(note=-1, peak_db=round(peak_db, 1), rise_db=round(peak_db - before_db, 1),
                     attack_s=round(attack_frame * FRAME_S, 3),
                     decay_db=round(peak_db - tail_db, 1),
                     low_share=round(float(power[freqs < LOW_HZ].sum()) / total, 3),
                     high_share=round(float(power[freqs > HIGH_HZ].sum()) / total, 3))


def judge_note(check: NoteCheck, label: str) -> str:
    """Why a measured note does not work as `label`; empty string when it does."""
    if check.peak_db < FLOOR_DB:
        return "silent"
    if check.attack_s > ATTACK_WINDOW_S or check.rise_db < ONSET_RISE_DB:
        return "no clear onset"
    if check.decay_db < DECAY_DB:
        return "sustained (no decay)"
    if label == "HH" and check.high_share < HH_MIN_HIGH_SHARE:
        return "too dark for HH (pitched patch?)"
    if label == "CY" and check.high_share < CY_MIN_HIGH_SHARE:
        return "too dark for CY (pitched patch?)"
    if label == "BD" and check.low_share < KICK_MIN_LOW_SHARE:
        return "no low end for BD (pitched patch?)"
    return ""


def check_drum_kit(bank: SoundfontBank, soundfont: str, bank_number: int, program: int,
                   notes: tuple[int, ...] = VOCAB_NOTES) -> KitCheck:
    """Render each vocabulary note of one kit alone and judge it (see module doc)."""
    import pretty_midi  # lazy, as the synth this check renders with (the caller's bank)

    # Rendered as a pitched role so that notes end when told and the all-sound-off
    # control (CC 120) at the end of each slot cuts any tail before the next note.
    preset = Preset(role="other", source={"type": "soundfont", "soundfont": soundfont,
                                          "bank": bank_number, "program": program})
    instrument = pretty_midi.Instrument(0)
    for i, note in enumerate(notes):
        start = 0.1 + i * SLOT_S
        instrument.notes.append(pretty_midi.Note(CHECK_VELOCITY, note, start, start + HOLD_S))
        instrument.control_changes.append(pretty_midi.ControlChange(120, 0, start + SLOT_S - 0.05))
    sr = bank.sample_rate
    audio = bank.render(preset, instrument, 0.1 + len(notes) * SLOT_S)
    result = KitCheck(soundfont, bank_number, program)
    for i, note in enumerate(notes):
        check = measure_note(audio, sr, int(round((0.1 + i * SLOT_S) * sr)))
        check.note = note
        check.reason = judge_note(check, GM_TO_CLASS[note])
        result.notes[note] = check
    return judge_kit(result)


def judge_kit(result: KitCheck) -> KitCheck:
    """Fill `remap` (failing note → a passing note of its class) and `missing_classes`."""
    for label in CLASSES:
        passing = [n for n in PREFERRED_NOTES[label] if n in result.notes and result.notes[n].ok]
        failing = [n for n in PREFERRED_NOTES[label] if n in result.notes and not result.notes[n].ok]
        if failing and not passing:
            result.missing_classes.append(label)
        elif failing:
            for note in failing:
                result.remap[note] = passing[0]
    result.remap = dict(sorted(result.remap.items()))
    return result


# Sampled kits (check_sampled_kit).
LEAD_S = 0.1  # silence before the note, for the onset measure
# Classes a kit may lack entirely and still play drum presets, the missing pieces
# taken from another kit (adtos.presets.library): half the kits people own are a
# kick, a snare and a hi-hat. A kit without kick or snare is not a drum kit.
FILLABLE_CLASSES: tuple[str, ...] = ("TT", "HH", "CY")


def kit_preset(kit_name: str, format: str, **source) -> Preset:
    """A drum preset playing a sampled kit as it is (no per-hit variation unless asked)."""
    fields = {"hit_gain_db": 0.0, "hit_detune_cents": 0.0, **source}
    return Preset(role="drums", source={"type": "kit", "format": format, "kit": kit_name,
                                        **fields})


def check_sampled_kit(kit: Kit, kit_name: str, sampler: KitSampler) -> KitCheck:
    """Render each vocabulary note of a sampled kit alone and judge it.

    The result's `soundfont` field holds "<format>:<kit name>" (bank and program 0).
    """
    import pretty_midi  # lazy, as in check_drum_kit

    preset = kit_preset(str(kit.path), kit.format)  # by path: the kit may be off the search path
    sr = sampler.sample_rate
    result = KitCheck(f"{kit.format}:{kit_name}", 0, 0)
    onset = int(round(LEAD_S * sr))
    for note in VOCAB_NOTES:
        instrument = pretty_midi.Instrument(0, is_drum=True)
        instrument.notes.append(pretty_midi.Note(CHECK_VELOCITY, note, LEAD_S, LEAD_S + 0.01))
        if kit.instrument_for(note) is None:  # the kit has no instrument of this class
            audio = np.zeros((int(round((LEAD_S + HOLD_S + 0.01) * sr)), 2), dtype=np.float32)
        else:  # a sample that cannot be read is a KitError naming it (the sampler's)
            audio = sampler.render(preset, instrument, LEAD_S + HOLD_S + 0.01)
        check = measure_note(audio, sr, onset)
        check.note = note
        check.reason = judge_note(check, GM_TO_CLASS[note])
        result.notes[note] = check
    return judge_kit(result)


def lacking_classes(kit: Kit, check: KitCheck) -> list[str]:
    """The classes a partial kit lacks, when it is one: every class the check finds no
    sounding note for has no instrument at all in the kit, and is one of
    FILLABLE_CLASSES. [] for a whole kit, and for a kit whose failing class has an
    instrument that does not sound right (that kit is excluded, not filled)."""
    absent = [c for c in CLASSES
              if all(kit.instrument_for(n) is None for n, label in GM_TO_CLASS.items()
                     if label == c)]
    missing = list(check.missing_classes)
    if missing and all(c in absent and c in FILLABLE_CLASSES for c in missing):
        return missing
    return []


def verdict(kit: Kit, check: KitCheck) -> str:
    """One line on a checked drum kit: ok, partial, or why it cannot play drums."""
    if check.usable:
        text = "ok"
    elif lacking := lacking_classes(kit, check):
        text = (f"partial: no {', '.join(lacking)} (filled from another kit in a preset "
                "library)")
    else:
        text = f"no sounding note for {', '.join(check.missing_classes)}"
    failed = ", ".join(f"{c.note} ({c.reason})" for c in check.failures()
                       if kit.instrument_for(c.note) is not None)
    return text + (f"; failed notes: {failed}" if failed else "")

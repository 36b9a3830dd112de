"""The drum-kit check (adtos.presets.kitcheck) applied to sampled kits.

Each of the 21 notes of the 5-class vocabulary is played alone at velocity 100
by the native sampler, without per-hit variation, and judged by the same
measures and thresholds as the soundfont kits (energy, onset, decay, spectrum
like its class). A failing note is remapped to a passing note of its class; a
kit with a class that has no passing note cannot be a whole drum kit (it can
still lend the pieces that pass to composite kits).
"""

from __future__ import annotations

import numpy as np

from adtos.kits.model import Kit
from adtos.presets.kitcheck import (CHECK_VELOCITY, HOLD_S, VOCAB_NOTES, KitCheck, judge_kit,
                                    judge_note, measure_note)
from adtos.presets.model import Preset
from adtos.vocab import CLASSES, GM_TO_CLASS

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


def check_sampled_kit(kit: Kit, kit_name: str, sampler) -> KitCheck:
    """Render each vocabulary note of a sampled kit alone and judge it.

    The result's `soundfont` field holds "<format>:<kit name>" (bank and program 0).
    """
    import pretty_midi

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

"""Velocity-to-level curves of soundfont drum presets, measured (docs/presets.md, "Velocity curves").

Renders single hits (kick 36, snare 38, closed hi-hat 42) of soundfont drum kits
with FluidSynth at several velocities, with no drawn curve (the kit's own: the
SF2 default e = 2, or what its modulators say) and with velocity_exponent
e = 1, 1.5, 2, and prints each hit's level relative to velocity 127 next to
the intended 20·e·log10(v/127) dB. The level is the
energy of the first 300 ms after the note-on (both channels), in dB.

Then the rendering cost: a 60 s drum groove (16th-note hats, kick and snare,
velocities 20..127) rendered with and without a curve, median of --repeats.

    python benchmarks/experiments/velocity_curve.py [--kits FluidR3_GM.sf2:128:0 ...] [--repeats 5]

Question (issue #13): does the drawn velocity curve of soundfont drum presets
give the level it intends, and at what cost? Answer (benchmarks/results/
presets.md, "Velocity curves of the soundfont drum presets"): within 0.15 dB
(TimGM6mb, sf_GMbank), 0.99 dB (FluidR3) and 1.22 dB (MuseScore) over
velocities 20-100 once each kit's own law is read from its modulators; 9.3 dB
on the AVL Black Pearl (its recorded layers); no measurable rendering cost.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pretty_midi

from adtos.presets import Preset, SoundfontBank
from adtos.presets.soundfonts import resolve_soundfont

SR = 44100
VELOCITIES = (20, 30, 40, 60, 80, 100, 127)
NOTES = {36: "kick", 38: "snare", 42: "closed HH"}
EXPONENTS = (None, 1.0, 1.5, 2.0)
DEFAULT_KITS = ("FluidR3_GM.sf2:128:0", "TimGM6mb.sf2:128:0", "sf_GMbank.sf2:128:0",
                "MuseScore_General_Full.sf3:128:0", "Black_Pearl_4_LV2.sf2:0:0")
ONSET_S, WINDOW_S = 0.05, 0.3


def kit_preset(spec: str, exponent: float | None) -> Preset:
    soundfont, bank, program = spec.rsplit(":", 2)
    return Preset(role="drums", source={"soundfont": soundfont, "bank": int(bank),
                                        "program": int(program)},
                  variation={"velocity_exponent": exponent} if exponent is not None else {})


def hit_level_db(bank: SoundfontBank, preset: Preset, note: int, velocity: int) -> float:
    """Energy of one hit's first WINDOW_S seconds, in dB."""
    instrument = pretty_midi.Instrument(0, is_drum=True)
    instrument.notes.append(pretty_midi.Note(velocity, note, ONSET_S, ONSET_S + 0.1))
    audio = bank.render(preset, instrument, ONSET_S + WINDOW_S + 0.05)
    hit = audio[int(ONSET_S * SR):int((ONSET_S + WINDOW_S) * SR)].astype(np.float64)
    return float(10 * np.log10(np.mean(hit ** 2) + 1e-30))


def groove(seconds: float = 60.0) -> pretty_midi.Instrument:
    rng = np.random.default_rng(0)
    instrument = pretty_midi.Instrument(0, is_drum=True)
    step = 60 / 120 / 4
    for i in range(int(seconds / step)):
        t = i * step
        hits = [42] + ([36] if i % 8 == 0 else []) + ([38] if i % 8 == 4 else [])
        for note in hits:
            velocity = int(rng.integers(20, 128))
            instrument.notes.append(pretty_midi.Note(velocity, note, t, t + 0.05))
    return instrument


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kits", nargs="+", default=list(DEFAULT_KITS), metavar="SF:BANK:PROG")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    bank = SoundfontBank(SR)
    kits = []
    for spec in args.kits:
        try:
            resolve_soundfont(spec.rsplit(":", 2)[0])
            kits.append(spec)
        except FileNotFoundError:
            print(f"skipped {spec}: soundfont not installed")
    shown = [v for v in VELOCITIES if v != 127]
    print("level relative to velocity 127, dB (measured / intended 20·e·log10(v/127))")
    print(f"| kit | note | e | " + " | ".join(f"v={v}" for v in shown) + " | max error |")
    print("|---|---|---|" + "---|" * len(shown) + "---|")
    errors: dict[tuple[str, float | None], list[float]] = {}
    for spec in kits:
        for note, name in NOTES.items():
            for exponent in EXPONENTS:
                preset = kit_preset(spec, exponent)
                levels = {v: hit_level_db(bank, preset, note, v) for v in VELOCITIES}
                source = preset.source
                wanted = exponent if exponent is not None else bank.velocity_law(
                    source["soundfont"], source["bank"], source["program"])
                diffs = [levels[v] - levels[127] for v in shown]
                intended = [20 * wanted * np.log10(v / 127) for v in shown]
                error = max(abs(d - i) for d, i in zip(diffs, intended))
                errors.setdefault((spec, exponent), []).append(error)
                cells = " | ".join(f"{d:.1f} / {i:.1f}" for d, i in zip(diffs, intended))
                label = f"own ({wanted:.2f})" if exponent is None else f"{exponent:g}"
                print(f"| {spec.split(':')[0]} | {name} | {label} | {cells} | {error:.1f} |",
                      flush=True)
    print("\nmax |measured - intended| over velocities and notes, dB:")
    for (spec, exponent), values in errors.items():
        label = "kit's own curve" if exponent is None else f"e={exponent:g}"
        print(f"  {spec:36s} {label:18s} {max(values):.2f}")

    # e = 2 sends the same velocities as no curve (the remap's own cost); e = 1 and 1.5
    # make soft hits louder, so FluidSynth's voices stay above its silence threshold longer.
    instrument = groove()
    spec = kits[0]
    runs = {"no curve": None, "e=2": 2.0, "e=1.5": 1.5, "e=1": 1.0}
    timings: dict[str, list[float]] = {label: [] for label in runs}
    for _ in range(args.repeats):
        for label, exponent in runs.items():
            preset = kit_preset(spec, exponent)
            start = time.process_time()
            bank.render(preset, instrument, 60.0)
            timings[label].append(time.process_time() - start)
    base = float(np.median(timings["no curve"]))
    print(f"\n60 s groove ({len(instrument.notes)} hits) on {spec}, CPU-s, median of "
          f"{args.repeats}:")
    for label in runs:
        median = float(np.median(timings[label]))
        print(f"  {label:9s} {median:.3f}  ratio {median / base:.3f}")


if __name__ == "__main__":
    main()

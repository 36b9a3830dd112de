"""Preset-stage timings: discovery, kit checks, rendering speed, effect chains.

    .venv/bin/python benchmarks/bench_presets.py [--repeats 5]

Prints medians of CPU time (process_time) and wall time. Real-time factors are
seconds of audio per CPU-second. The reference for rendering is the same
FluidSynth work on one reused synthesizer (what the renderer would do without
the fresh-synth-per-render rule that makes renders reproducible), so the ratio
is the price of determinism.

Recorded in benchmarks/results/presets.md, "Preset stage: measured figures"
("Benchmark script"); the summary row "#4 presets" of benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np
import pretty_midi

from adtos.presets.discover import scan_soundfonts
from adtos.presets.effects import apply_effects
from adtos.presets.kitcheck import check_drum_kit
from adtos.presets.model import Preset
from adtos.presets.soundfonts import find_soundfonts, pretty_midi_soundfont
from adtos.presets.synth import SoundfontBank

SR = 44100
DURATION = 30.0


def groove(duration: float) -> pretty_midi.Instrument:
    instrument = pretty_midi.Instrument(0, is_drum=True)
    rng = np.random.default_rng(0)
    for step in range(int(duration / 0.125)):
        t = step * 0.125
        instrument.notes.append(pretty_midi.Note(int(rng.integers(60, 110)), 42, t, t + 0.05))
        if step % 8 in (0, 3):
            instrument.notes.append(pretty_midi.Note(110, 36, t, t + 0.05))
        if step % 8 == 4:
            instrument.notes.append(pretty_midi.Note(105, 38, t, t + 0.05))
        if step % 32 == 0:
            instrument.notes.append(pretty_midi.Note(110, 49, t, t + 0.05))
    return instrument


def timed(function, repeats: int) -> tuple[float, float]:
    cpu, wall = [], []
    for _ in range(repeats):
        c, w = time.process_time(), time.perf_counter()
        function()
        cpu.append(time.process_time() - c)
        wall.append(time.perf_counter() - w)
    return statistics.median(cpu), statistics.median(wall)


def reused_synth_render(preset: Preset, instrument: pretty_midi.Instrument, synth_cache: dict):
    """The reference: the same events on one long-lived synthesizer (not reproducible)."""
    import fluidsynth

    from adtos.presets.soundfonts import resolve_soundfont

    name = preset.source["soundfont"]
    if name not in synth_cache:
        synth = fluidsynth.Synth(gain=0.4, samplerate=float(SR), **{
            "synth.cpu-cores": 1, "synth.reverb.active": 0, "synth.chorus.active": 0})
        synth_cache[name] = (synth, synth.sfload(str(resolve_soundfont(name))))
    synth, sfid = synth_cache[name]
    synth.system_reset()
    synth.program_select(0, sfid, preset.source["bank"], preset.source["program"])
    events = sorted([(n.start, 1, n.pitch, n.velocity) for n in instrument.notes]
                    + [(n.start + 2.0, 0, n.pitch, 0) for n in instrument.notes])
    chunks, cursor = [], 0
    for t, kind, pitch, velocity in events:
        sample = min(int(round(t * SR)), int(DURATION * SR))
        if sample > cursor:
            chunks.append(synth.get_samples(sample - cursor))
            cursor = sample
        synth.noteon(0, pitch, velocity) if kind else synth.noteoff(0, pitch)
    chunks.append(synth.get_samples(int(DURATION * SR) - cursor))
    return np.concatenate(chunks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    fonts = find_soundfonts()
    print(f"soundfonts: {', '.join(f.name for f in fonts)}")

    cpu, wall = timed(lambda: scan_soundfonts(fonts), args.repeats)
    patches, _ = scan_soundfonts(fonts)
    print(f"discovery (header read) of {len(fonts)} files, {len(patches)} patches: "
          f"{cpu * 1000:.1f} ms CPU, {wall * 1000:.1f} ms wall")

    names = {f.name for f in fonts}
    candidates = [("FluidR3_GM.sf2", 128, 0), ("MuseScore_General_Full.sf3", 128, 0),
                  ("Black_Pearl_4_LV2.sf2", 0, 0), ("TimGM6mb.sf2", 128, 0)]
    kits = [k for k in candidates if k[0] in names] or [(pretty_midi_soundfont().name, 128, 0)]
    bank = SoundfontBank(SR)
    instrument = groove(DURATION)
    reference_cache: dict = {}
    print(f"\nrendering a {DURATION:.0f} s drum groove ({len(instrument.notes)} notes), "
          f"median of {args.repeats}:")
    print(f"{'preset':40s} {'fresh synth x RT':>16s} {'reused synth x RT':>18s} {'ratio':>6s}")
    for soundfont, bank_number, program in kits:
        preset = Preset(role="drums", source={"soundfont": soundfont, "bank": bank_number,
                                              "program": program})
        bank.render(preset, instrument, 1.0)  # first load of the soundfont, not timed
        reused_synth_render(preset, instrument, reference_cache)
        cpu, _ = timed(lambda: bank.render(preset, instrument, DURATION), args.repeats)
        ref_cpu, _ = timed(lambda: reused_synth_render(preset, instrument, reference_cache),
                           args.repeats)
        print(f"{soundfont + f' {bank_number}:{program}':40s} {DURATION / cpu:16.0f} "
              f"{DURATION / ref_cpu:18.0f} {cpu / ref_cpu:6.2f}")

    soundfont = kits[0][0]
    composite = Preset(role="drums", source={"soundfont": soundfont, "bank": kits[0][1],
                                             "program": kits[0][2]},
                       pieces={p: {"soundfont": soundfont, "bank": 128, "program": prog,
                                   "tune_cents": 20, "gain_db": 1.0}
                               for p, prog in (("snare", 25), ("hihat", 32), ("cymbals", 40))})
    cpu, _ = timed(lambda: bank.render(composite, instrument, DURATION), args.repeats)
    print(f"{'composite kit (3 pieces), ' + soundfont:40s} {DURATION / cpu:16.0f}")

    dry = bank.render(composite, instrument, DURATION)
    chains = {
        "EQ (HPF + 3 bands)": [{"type": "HighpassFilter", "cutoff_frequency_hz": 40.0},
                               {"type": "LowShelfFilter", "cutoff_frequency_hz": 120.0,
                                "gain_db": 2.0},
                               {"type": "PeakFilter", "cutoff_frequency_hz": 1000.0,
                                "gain_db": -3.0, "q": 1.0},
                               {"type": "HighShelfFilter", "cutoff_frequency_hz": 6000.0,
                                "gain_db": 2.0}],
        "compressor": [{"type": "Compressor", "threshold_db": -20.0, "ratio": 3.0}],
        "room reverb (Room, 0.6 s)": [{"type": "Room", "decay_s": 0.6, "wet_level": 0.2}],
        "pedalboard Reverb": [{"type": "Reverb", "room_size": 0.4, "wet_level": 0.2}],
        "saturation": [{"type": "Distortion", "drive_db": 6.0}],
    }
    print(f"\neffects on the {DURATION:.0f} s stereo stem (x real time per CPU-second):")
    for label, chain in chains.items():
        preset = Preset(role="drums", source=composite.source, effects=chain)
        cpu, _ = timed(lambda: apply_effects(preset, dry, SR), args.repeats)
        print(f"  {label:26s} {DURATION / cpu:8.0f}")

    print("\nkit check (21 GM notes rendered and judged), per kit:")
    for soundfont, bank_number, program in kits:
        cpu, wall = timed(lambda: check_drum_kit(bank, soundfont, bank_number, program),
                          max(1, args.repeats // 2))
        print(f"  {soundfont:30s} {cpu:.2f} s CPU, {wall:.2f} s wall")


if __name__ == "__main__":
    main()

"""Benchmark the native drum sampler against FluidSynth on the same GMD drum stems.

    .venv/bin/python benchmarks/bench_sampler.py [--groove DIR] [--tracks 20] [--seconds 60]

Takes the first `--seconds` of the `--tracks` longest Groove MIDI Dataset takes
(TD-11 pitches mapped to GM, as `adtos index` does) and renders each drum stem:

  (a) native sampler: `KitSampler.render` (what `adtos render` calls for a
      preset with a sampled-kit source) on The Black Pearl 1.0 (Hydrogen, 106
      velocity layers), with the default per-hit variation and hi-hat choke;
  (b) FluidSynth through our pipeline: `SoundfontBank.render` (what `adtos
      render` calls for soundfont presets; drum notes held 2 s) on the AVL
      Black_Pearl_4_LV2.sf2, a multi-layer SF2 of a recorded Pearl kit, and on
      FluidR3_GM's standard kit;
  (c) the bare `fluidsynth` program (`-ni -R 0 -C 0`, one call per stem, one
      core) on the same AVL kit and the same notes written to a MIDI file (drum
      notes held 2 s as in (b), on a melodic channel so that bank 0 program 0,
      the AVL kit, plays).

CPU time per stem (process time; the children's rusage for (c)), median over
the stems; the first stem of (a) and (b) also pays for loading the kit once
per process and is reported apart. Ratios are taken within this one run.

Recorded in benchmarks/results/presets.md, "Native drum sampler vs FluidSynth";
the summary row "#12 sampler" of benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

HOLD_S = 2.0  # SoundfontBank's DRUM_MIN_HOLD_S, repeated for the MIDI file of (c)


def gmd_stems(groove: Path, tracks: int, seconds: float):
    """The drum notes of the first `seconds` of the `tracks` longest GMD takes."""
    import pretty_midi

    from adtos.vocab import GMD_TO_GM

    files = sorted(groove.rglob("*.mid"), key=lambda p: (-p.stat().st_size, str(p)))
    stems = []
    for path in files:
        midi = pretty_midi.PrettyMIDI(str(path))
        if midi.get_end_time() < seconds:
            continue
        drums = pretty_midi.Instrument(0, is_drum=True, name="drums")
        for note in midi.instruments[0].notes:
            if note.start < seconds:
                pitch = GMD_TO_GM.get(note.pitch, note.pitch)
                drums.notes.append(pretty_midi.Note(note.velocity, pitch, note.start, note.end))
        stems.append((path.name, drums))
        if len(stems) == tracks:
            break
    return stems


def timed(function) -> float:
    start = time.process_time()
    function()
    return time.process_time() - start


def bare_fluidsynth(sf2: Path, drums, seconds: float, work: Path) -> float:
    """CPU seconds of one `fluidsynth` call rendering `drums` to a WAV file."""
    import pretty_midi

    midi = pretty_midi.PrettyMIDI(initial_tempo=120.0)
    voice = pretty_midi.Instrument(0, is_drum=False)
    notes = sorted(drums.notes, key=lambda n: (n.pitch, n.start))
    for i, note in enumerate(notes):
        end = note.start + HOLD_S
        if i + 1 < len(notes) and notes[i + 1].pitch == note.pitch:
            end = min(end, notes[i + 1].start)
        voice.notes.append(pretty_midi.Note(note.velocity, note.pitch, note.start,
                                            max(end, note.start + 0.001)))
    midi.instruments.append(voice)
    midi_path, wav = work / "stem.mid", work / "stem.wav"
    midi.write(str(midi_path))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(["fluidsynth", "-ni", "-q", "-R", "0", "-C", "0", "-g", "0.4", "-r", "44100",
                    "-o", "synth.cpu-cores=1", "-F", str(wav), str(sf2), str(midi_path)],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--groove", type=Path, default=REPO.parent / "shared" / "data" / "groove")
    parser.add_argument("--tracks", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--kit", default="The Black Pearl 1.0")
    parser.add_argument("--sf2", default="Black_Pearl_4_LV2.sf2")
    args = parser.parse_args()

    from adtos.presets.sampler import KitSampler
    from adtos.presets.model import Preset
    from adtos.presets.soundfonts import resolve_soundfont
    from adtos.presets.synth import SoundfontBank

    stems = gmd_stems(args.groove, args.tracks, args.seconds)
    notes = sum(len(d.notes) for _, d in stems)
    print(f"{len(stems)} GMD stems x {args.seconds:.0f} s, {notes} notes")
    duration = args.seconds + 1.0
    native = Preset(role="drums", source={"type": "kit", "format": "hydrogen", "kit": args.kit})
    avl = Preset(role="drums", source={"soundfont": args.sf2, "bank": 0, "program": 0})
    fluid_r3 = Preset(role="drums", source={"soundfont": "FluidR3_GM.sf2", "bank": 128, "program": 0})
    sampler, bank = KitSampler(44100), SoundfontBank(44100)
    times: dict[str, list[float]] = {"native": [], "fluidsynth_avl": [], "fluidsynth_r3": [],
                                      "bare_fluidsynth_avl": []}
    sf2 = resolve_soundfont(args.sf2)
    with tempfile.TemporaryDirectory() as tmp:
        for _, drums in stems:
            times["native"].append(timed(lambda: sampler.render(native, drums, duration, planar=True)))
            times["fluidsynth_avl"].append(timed(lambda: bank.render(avl, drums, duration, planar=True)))
            times["fluidsynth_r3"].append(timed(lambda: bank.render(fluid_r3, drums, duration,
                                                                    planar=True)))
            times["bare_fluidsynth_avl"].append(bare_fluidsynth(sf2, drums, args.seconds, Path(tmp)))
    medians = {k: statistics.median(v[1:]) for k, v in times.items()}  # warm stems
    print(f"\nCPU seconds per {args.seconds:.0f} s drum stem, median of stems 2..{len(stems)} "
          "(first stem, with loading, in brackets):")
    for name, values in times.items():
        print(f"  {name:22s} {medians[name]:.4f}  ({values[0]:.3f} first)  "
              f"= {args.seconds / medians[name]:.0f}x real time")
    per_stem = np.array(times["fluidsynth_avl"][1:]) / np.array(times["native"][1:])
    print(f"\nspeed-up of the native sampler, per stem (median): "
          f"{np.median(per_stem):.1f}x over FluidSynth in our pipeline (AVL kit), "
          f"{medians['fluidsynth_r3'] / medians['native']:.1f}x over FluidR3's kit, "
          f"{medians['bare_fluidsynth_avl'] / medians['native']:.1f}x over the bare fluidsynth "
          "program (AVL kit, loading included)")
    print(f"samples read from disk: {sampler.files_read} (once per process)")


if __name__ == "__main__":
    main()

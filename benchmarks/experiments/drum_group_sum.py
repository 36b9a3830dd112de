"""How far the sum of a FluidSynth kit's class-group renders is from one render of the whole part.

    .venv/bin/python benchmarks/experiments/drum_group_sum.py [--tracks 3] [--seconds 60] [--kits 3]

Question (issue #23): once the drum stem is the sum of its class groups, how far is
it from the whole-part render a FluidSynth kit used to give? Answer
(benchmarks/results/render.md, "The default render path at the speed of its
parts"): FluidR3 −46.5 dB, MuseScore −47.8 dB, TimGM6mb −41.8 dB of the part's
energy; the AVL kits −29 dB (worst 50 ms window −6 dB, in fills where toms and
hi-hats overlap), not explained by polyphony.

The renderer makes a drum stem as the sum of its class groups (BD, SD, TT, HH,
CY, other), each rendered on a fresh synthesizer (docs/render.md, "Per-onset
audibility"). FluidSynth is linear but not exactly so across renders: a voice
slot ramps its gain from the note it played before, and the polyphony (256)
is per render. For each soundfont family of the default library's drum
presets, this renders `--kits` kits on the drum parts of `--tracks` GMD
tracks (bench_render_default's tracks) both ways and prints the energy of the
difference relative to the whole render (dB), and the worst 50 ms window's
difference relative to that window's energy.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from functools import partial
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from bench_render_default import make_tracks  # noqa: E402

SR = 44100
WINDOW = int(0.05 * SR)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tracks", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--kits", type=int, default=3, help="kits per soundfont family")
    parser.add_argument("--work", type=Path, default=None)
    args = parser.parse_args()

    from adtos.presets.sampler import sum_groups
    from adtos.presets import load_presets
    from adtos.presets.synth import SoundfontBank
    from adtos.render.audibility import render_groups
    from adtos.render.inputs import load_voices
    from adtos.render.worker import RELEASE_TAIL_S, _on_nearest_block

    work = args.work or Path(tempfile.mkdtemp(prefix="drum_group_sum."))
    tracks = make_tracks(work, args.tracks, args.seconds)
    parts = []
    for midi_path in sorted((tracks / "midi").glob("*.mid"))[:args.tracks]:
        midi, instruments = load_voices(midi_path)
        parts.append((_on_nearest_block(instruments["drums"], SR), midi.get_end_time() + RELEASE_TAIL_S))
    families: dict[str, list] = {}
    for preset in load_presets(REPO / "presets" / "default.jsonl"):
        if preset.role == "drums" and not preset.sampled and not preset.pieces:
            families.setdefault(preset.source["soundfont"], []).append(preset)
    bank = SoundfontBank(SR)
    print(f"{len(parts)} GMD drum parts x {args.seconds:g} s; group sum vs whole render")
    print(f"{'soundfont':30s} {'kits':>4s} {'energy (median, worst)':>24s} {'worst 50 ms window':>20s}")
    for soundfont, presets in sorted(families.items()):
        errors, windows = [], []
        for preset in presets[:args.kits]:
            for part, duration in parts:
                n = int(round(duration * SR))
                whole = bank.render(preset, part, duration, planar=True).astype(np.float64)
                groups = render_groups(partial(bank.render, preset, planar=True), part, n, SR)
                difference = sum_groups(groups, n).astype(np.float64) - whole
                errors.append(10 * np.log10((difference ** 2).sum() / (whole ** 2).sum()))
                frames = n // WINDOW
                energy = (whole[:, :frames * WINDOW] ** 2).reshape(2, frames, WINDOW).sum(axis=(0, 2))
                error = (difference[:, :frames * WINDOW] ** 2).reshape(2, frames, WINDOW).sum(axis=(0, 2))
                loud = energy > energy.max() * 1e-4  # windows within 40 dB of the loudest
                windows.append(10 * np.log10((error[loud] / energy[loud]).max()))
        print(f"{soundfont:30s} {min(len(presets), args.kits):4d} "
              f"{np.median(errors):11.1f} {max(errors):7.1f} dB {max(windows):17.1f} dB", flush=True)


if __name__ == "__main__":
    main()

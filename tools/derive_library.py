"""A preset library with one lever off, derived from an existing library.

    python tools/derive_library.py presets/default.jsonl out/nokits.jsonl --no-sampled-kits
    python tools/derive_library.py presets/default.jsonl out/novar.jsonl --no-variation

An ablation must change one thing. Generating a second library with a lever
off (`adtos presets --no-sampled-kits`) draws every preset again, from the
soundfonts and kits installed today, so it differs from the committed library
in more than the lever. Deriving keeps every other preset as it is:

  --no-sampled-kits  drops the drum presets that play a recorded kit with the
                     native sampler; the soundfont kits and every other preset stay;
  --no-variation     removes the per-piece variation (pitch, decay, tilt, drive,
                     gain) from the recorded-kit presets, keeping their velocity
                     curve, effects and everything else; presets that become one
                     definition are kept once (their id is the definition's hash).

Used by benchmarks/transfer_experiment.sh's `presets` step.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from adtos.presets import load_presets, save_presets
from adtos.presets.model import Preset


def without_sampled_kits(library: list[Preset]) -> list[Preset]:
    return [p for p in library if not (p.role == "drums" and p.sampled)]


def without_variation(library: list[Preset]) -> list[Preset]:
    out, seen = [], set()
    for preset in library:
        if preset.role == "drums" and preset.sampled and "pieces" in preset.variation:
            kept = {k: v for k, v in preset.variation.items() if k != "pieces"}
            preset = dataclasses.replace(preset, variation=kept, id="")  # id from the new definition
        if preset.id not in seen:
            seen.add(preset.id)
            out.append(preset)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("library", type=Path)
    parser.add_argument("out", type=Path)
    lever = parser.add_mutually_exclusive_group(required=True)
    lever.add_argument("--no-sampled-kits", action="store_true")
    lever.add_argument("--no-variation", action="store_true")
    args = parser.parse_args()
    library = load_presets(args.library)
    derived = without_sampled_kits(library) if args.no_sampled_kits else without_variation(library)
    drums = sum(p.role == "drums" for p in derived)
    save_presets(derived, args.out)
    print(f"{args.out}: {len(derived)} presets ({drums} drums) from {len(library)} in {args.library}")


if __name__ == "__main__":
    main()

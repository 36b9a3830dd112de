"""Audibility figures of a rendered ADTOS dataset: what the label policy's default rests on.

    .venv/bin/python benchmarks/experiments/audibility_figures.py DATASET [--split train]

Prints, per class: onsets, the pedal hi-hat's share, medians of velocity,
level_db and smr_db, the share of onsets under 0 / -5 (the default policy's
minimum) / -10 / -20 dB of signal-to-mask ratio; the median smr_db per
velocity band (the bands of the public-transcriber recall figures in
design.md: < 40, 40-60, 60-80, 80-100, >= 100), and what the default label
policy keeps, ignores and drops.

Question (issue #13): how much of a rendered build's annotated onsets sit
under the mix, by class and by velocity, and so where should the label
policy's minimum go? Answer (benchmarks/results/audibility.md, "A GMD + POP909
build measured"): on 32 tracks of configs/adtos.toml, 31-37 % of BD, SD and HH
onsets are under -5 dB of signal-to-mask ratio (15-19 % of TT and CY), the pedal
hi-hat is 13.8 % of the onsets, and velocity < 40 has a median smr_db of -13.2;
the default policy ignores onsets under -5 dB and the pedal hi-hat.
`adtos stats --audibility` now gives the per-class figures for any dataset;
this script keeps the velocity bands and the policy's keep/ignore/drop counts.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from adtos.datasets import load_dataset  # noqa: E402
from adtos.transcriber.labels import DEFAULT_POLICY, IGNORE  # noqa: E402
from adtos.vocab import CLASSES  # noqa: E402

VELOCITY_BANDS = [(1, 40), (40, 60), (60, 80), (80, 100), (100, 128)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dataset")
    parser.add_argument("--split", default=None)
    args = parser.parse_args()
    ds = load_dataset("adtos", args.dataset)
    tracks = [t for t in ds.tracks if args.split is None or t.split == args.split]
    tracks = [t for t in tracks if t.smr_db is not None]
    if not tracks:
        sys.exit(f"{args.dataset}: no track with measured audibility (render it with this ADTOS)")
    cat = {name: np.concatenate([getattr(t, name) for t in tracks])
           for name in ("labels", "notes", "velocities", "level_db", "smr_db")}
    total = cat["labels"].size
    print(f"{args.dataset}: {len(tracks)} tracks, {total} onsets in the 5 classes; "
          f"pedal hi-hat (44) {np.mean(cat['notes'] == 44):.1%} of them")
    print(f"{'class':6}{'onsets':>8}{'share':>7}{'vel':>6}{'level':>8}{'smr p10':>9}{'p50':>7}"
          f"{'p90':>7}{'<0dB':>7}{'<-5':>7}{'<-10':>7}{'<-20':>7}")
    for index, name in enumerate(CLASSES):
        mine = cat["labels"] == index
        if not mine.any():
            continue
        smr = cat["smr_db"][mine]
        p10, p50, p90 = np.percentile(smr, [10, 50, 90])
        print(f"{name:6}{mine.sum():8d}{mine.mean():7.1%}{np.median(cat['velocities'][mine]):6.0f}"
              f"{np.median(cat['level_db'][mine]):8.1f}{p10:9.1f}{p50:7.1f}{p90:7.1f}"
              f"{np.mean(smr < 0):7.1%}{np.mean(smr < -5):7.1%}{np.mean(smr < -10):7.1%}{np.mean(smr < -20):7.1%}")
    pedal = cat["notes"] == 44
    print(f"pedal hi-hat: median velocity {np.median(cat['velocities'][pedal]):.0f}, "
          f"level {np.median(cat['level_db'][pedal]):.1f} dB, smr {np.median(cat['smr_db'][pedal]):.1f} dB"
          if pedal.any() else "pedal hi-hat: none")
    print("\nmedian smr_db (and share of onsets) per velocity band, all classes:")
    for low, high in VELOCITY_BANDS:
        band = (cat["velocities"] >= low) & (cat["velocities"] < high)
        if band.any():
            print(f"  velocity {low:3d}-{high - 1:3d}: {np.median(cat['smr_db'][band]):6.1f} dB "
                  f"(p25 {np.percentile(cat['smr_db'][band], 25):6.1f}, "
                  f"p75 {np.percentile(cat['smr_db'][band], 75):6.1f}; {band.mean():5.1%} of onsets)")
    print("\ndefault label policy:", DEFAULT_POLICY)
    kept = ignored = dropped = 0
    per_class = np.zeros((len(CLASSES), 2))
    for t in tracks:
        onsets, labels, values = DEFAULT_POLICY.targets(t)
        dropped += t.onsets.size - onsets.size
        ignored += int(np.sum(values == IGNORE))
        kept += int(np.sum(values != IGNORE))
        for index in range(len(CLASSES)):
            per_class[index] += [np.sum((labels == index) & (values == IGNORE)),
                                 np.sum(t.labels == index)]
    print(f"  kept {kept} ({kept / total:.1%}), ignored {ignored} ({ignored / total:.1%}), "
          f"dropped {dropped}")
    print("  ignored per class: " + ", ".join(
        f"{name} {ign / max(n, 1):.1%}" for name, (ign, n) in zip(CLASSES, per_class)))


if __name__ == "__main__":
    main()

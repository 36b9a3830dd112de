"""Why do hi-hats and cymbals not transfer (issue #22, item 4)?

Question: models trained on ADTOS data with the CPU recipe score BD and SD on
MDB Drums but almost no HH or CY. Is it the label policy (which hats are
taught), the sound of the rendered hats (their spectrum and level in the mix),
or what the model does with real hats (silent, or firing as another class)?

What it measures, for each dataset given (synthetic builds and real sets alike;
nothing here is tuned, and no threshold is chosen on a real set):

1. targets: per class, how many annotated onsets there are and the share the
   label policy leaves out of the loss (synthetic sets, train split);
2. sound: per class, the median onset profile, i.e. the rise of the log-filtered
   spectrogram (84 bands) from the frame before an onset to the onset's strongest
   following frame, summarized as the share of the rise above 5 kHz and the
   median rise in log units over all bands and above 5 kHz (with the quartiles,
   and for a build with audibility figures, the medians of the onsets the default
   policy teaches and of those it ignores);
3. model (with --run RUN_DIR): at each annotated onset of a class, the model's
   largest activation of each class within ±2 frames (the confusion a 50 ms window
   sees), median over onsets, next to the run's thresholds, which were tuned on
   its own synthetic validation split.

    python benchmarks/experiments/hh_study.py new=adtos:runs/data/new \\
        mdb=mdb:../shared/data/mdb_drums --run RUN_DIR --out runs/hh_study

Writes OUT/targets.csv, OUT/sound.csv, OUT/model.csv and prints them.

Answer (benchmarks/results/transcriber.md, "Why hi-hats and cymbals do not
transfer"): the default policy ignores 54 % of the training hi-hats; a real
hi-hat in MDB's mixes rises 0.037 above 5 kHz (median), a hat the policy teaches
0.138, one it ignores 0.029; on real hats the model stays silent (median HH
activation 0.009), it does not call them another class. Given MDB's drum-only
stems too (`mdbdrums=mdb_drum_only:PATH`, results "Levers on a CPU"): the hats
rise 0.040 there and the model still does not fire (median 0.059): the miss is
in the hats' sound, not in the mix.
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

import numpy as np

HIGH_HZ = 5000.0


def band_frequencies() -> np.ndarray:
    from madmom.audio.filters import LogarithmicFilterbank
    from madmom.audio.stft import fft_frequencies

    from adtos.transcriber.features import DEFAULT_SETTINGS as s

    bank = LogarithmicFilterbank(fft_frequencies(s.frame_size // 2, s.sample_rate),
                                 num_bands=s.bands_per_octave, fmin=s.fmin, fmax=s.fmax,
                                 norm_filters=True, unique_filters=True)
    return np.asarray(bank.center_frequencies)


def onset_rises(features: np.ndarray, frames: np.ndarray) -> np.ndarray:
    """(onsets, bands): the strongest of frames f..f+2 minus frame f-1, per band."""
    n = features.shape[0]
    frames = frames[(frames >= 1) & (frames < n - 2)]
    after = np.max(np.stack([features[frames + k] for k in range(3)]), axis=0)
    return after - features[frames - 1]


def write_rows(path: Path, rows: list[dict]) -> None:
    columns = list(dict.fromkeys(key for row in rows for key in row))
    rows = [{key: row.get(key, "") for key in columns} for row in rows]
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, columns)
        writer.writeheader()
        writer.writerows(rows)
    print(f"\n{path.name}")
    print(" | ".join(rows[0]))
    for row in rows:
        print(" | ".join(f"{v:.3f}" if isinstance(v, float) else str(v) for v in row.values()))


def main() -> None:
    from adtos.transcriber.config import TrainConfig
    from adtos.transcriber.labels import DEFAULT_POLICY, IGNORE
    from adtos.transcriber.sources import load_tracks, prepare_set
    from adtos.vocab import CLASSES

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sets", nargs="+", metavar="NAME=KIND:PATH")
    parser.add_argument("--run", help="a trained run folder (its best checkpoint and thresholds)")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    high = band_frequencies() >= HIGH_HZ
    config = TrainConfig(train="", val="", out="", label_policy="none", progress=False)

    model = thresholds = None
    if args.run:
        from adtos.transcriber.checkpoint import load_checkpoint, model_from_checkpoint

        best = Path(args.run) / "checkpoints" / "best.pt"
        model = model_from_checkpoint(load_checkpoint(best), best).eval()
        thresholds = json.loads((Path(args.run) / "thresholds.json").read_text())["thresholds"]

    target_rows, sound_rows, model_rows = [], [], []
    for item in args.sets:
        name, _, spec = item.partition("=")
        kind = spec.partition(":")[0]
        split = "val" if kind == "adtos" else "test"
        if kind == "adtos":
            _, _, train_tracks = load_tracks(spec, "train")
            for c, label in enumerate(CLASSES):
                total = ignored = 0
                for track in train_tracks:
                    labels = np.asarray(track.labels)
                    _, kept_labels, values = DEFAULT_POLICY.targets(track)
                    total += int((labels == c).sum())
                    ignored += int(((kept_labels == c) & (values == IGNORE)).sum())
                target_rows.append({"set": name, "class": label, "onsets": total,
                                    "ignored_by_default_policy": ignored / max(total, 1)})
        prepared, _ = prepare_set(config, spec, split)
        _, _, raw = load_tracks(spec, split)
        smr = {t.track_id: getattr(t, "smr_db", None) for t in raw}
        rises = {c: [] for c in range(len(CLASSES))}
        taught = {c: [] for c in range(len(CLASSES))}  # per onset: smr_db >= the policy's minimum
        peaks = {c: [] for c in range(len(CLASSES))}
        for track in prepared:
            features = np.asarray(track.features())
            frames = np.round(np.asarray(track.onsets) * 100).astype(int)
            labels = np.asarray(track.labels)
            if model is not None:
                from adtos.transcriber.predict import sigmoid, track_logits

                activation = sigmoid(track_logits(model, features))
            for c in range(len(CLASSES)):
                mine = frames[labels == c]
                if mine.size:
                    rises[c].append(onset_rises(features, mine))
                    inside = (mine >= 1) & (mine < features.shape[0] - 2)
                    figure = smr[track.track_id]
                    taught[c].append(np.full(int(inside.sum()), np.nan) if figure is None else
                                     np.asarray(figure, dtype=float)[labels == c][inside]
                                     >= DEFAULT_POLICY.min_db[CLASSES[c]])
                if model is not None and mine.size:
                    for f in mine:
                        lo, hi = max(f - 2, 0), min(f + 3, activation.shape[0])
                        if hi > lo:
                            peaks[c].append(activation[lo:hi].max(axis=0))
        for c, label in enumerate(CLASSES):
            if not rises[c]:
                continue
            rise = np.concatenate(rises[c])
            positive = np.clip(rise, 0, None)
            high_rise = rise[:, high].mean(axis=1)
            kept = np.concatenate(taught[c]).astype(float)
            row = {"set": name, "class": label, "onsets": int(rise.shape[0]),
                   "rise_all_bands": float(np.median(rise.mean(axis=1))),
                   "rise_above_5k": float(np.median(high_rise)),
                   "share_of_rise_above_5k": float(np.median(
                       positive[:, high].sum(axis=1) / np.maximum(positive.sum(axis=1), 1e-9))),
                   "rise_above_5k_p25": float(np.percentile(high_rise, 25)),
                   "rise_above_5k_p75": float(np.percentile(high_rise, 75))}
            if not np.isnan(kept).all():  # a build with smr_db: the onsets the policy teaches
                row["rise_above_5k_taught"] = float(np.median(high_rise[kept == 1]))
                row["rise_above_5k_ignored"] = float(np.median(high_rise[kept == 0]))
            sound_rows.append(row)
            if model is not None and peaks[c]:
                activation = np.median(np.stack(peaks[c]), axis=0)
                model_rows.append({"set": name, "onsets_of": label,
                                   **{f"act_{k}": float(activation[i]) for i, k in enumerate(CLASSES)},
                                   f"heard_as_{label}": float(np.mean(
                                       np.stack(peaks[c])[:, c] >= thresholds[c]))})
    if target_rows:
        write_rows(out / "targets.csv", target_rows)
    write_rows(out / "sound.csv", sound_rows)
    if model_rows:
        print("\nthresholds (tuned on synthetic validation): "
              + ", ".join(f"{k} {t:.2f}" for k, t in zip(CLASSES, thresholds)))
        write_rows(out / "model.csv", model_rows)


if __name__ == "__main__":
    main()

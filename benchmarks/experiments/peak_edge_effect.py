"""How much a run's MDB figures depend on onsets at the first frame.

    python benchmarks/experiments/peak_edge_effect.py RUN_DIR MDB_DRUMS_FOLDER

Scores the run's best model on MDB Drums twice with the same thresholds: with
today's local maxima (the activation continued at its edge value beyond the
ends) and with the earlier ones (-inf beyond the ends, as madmom's zero padding
for activations in [0, 1]), and prints TP, FP and F per class for both.

Question (issue #16.3): how much do a run's MDB figures depend on onsets
reported at the first frame? Answer (benchmarks/results/transcriber.md, "Peak
picking at the first frame"): a little, and against the change: on run_b the
edge-value maxima remove 7 false and 5 true positives (F 0.2534 -> 0.2438),
since the MDB excerpts start with drums; the change was kept (an onset at
0.000 s that did not rise in the track is the network's answer to its padding).
"""

from __future__ import annotations

import argparse
from dataclasses import replace

import numpy as np

import adtos.transcriber.evaluate as evaluate_module
from adtos.transcriber.evaluate import evaluate_sets, load_thresholds, predict_prepared
from adtos.transcriber.predict import load_run_model
from adtos.transcriber.sources import prepare_tests
from adtos.vocab import CLASSES


def minus_inf_local_maxima(activation, window: int = 2) -> np.ndarray:
    activation = np.asarray(activation, dtype=np.float64)
    n = activation.size
    padded = np.concatenate([np.full(window, -np.inf), activation, np.full(window, -np.inf)])
    is_peak = np.ones(n, dtype=bool)
    for offset in range(1, window + 1):
        is_peak &= ((activation > padded[window - offset:window - offset + n])
                    & (activation >= padded[window + offset:window + offset + n]))
    return np.flatnonzero(is_peak)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir")
    parser.add_argument("mdb")
    args = parser.parse_args()
    model, config = load_run_model(args.run_dir, "best", "cpu")
    sets = prepare_tests(replace(config, progress=False), {"mdb": f"mdb:{args.mdb}"})
    thresholds = load_thresholds(args.run_dir)
    predictions = predict_prepared(model, sets["mdb"][1], "cpu")
    scored = {}
    for name in ("edge", "minus_inf"):
        if name == "minus_inf":  # pick_all -> pick_peaks -> local_maxima, looked up at call time
            import adtos.transcriber.peaks as peaks
            peaks.local_maxima = evaluate_module.local_maxima = minus_inf_local_maxima
        scored[name] = evaluate_sets(model, thresholds, {"mdb": ("mdb", predictions, [])},
                                     "cpu", progress=False)["mdb"]["onsets"]
    above = sum(int((a[0] >= np.array(thresholds)).sum()) for a in predictions.activations)
    print(f"first frames above their threshold: {above} of {len(CLASSES) * len(predictions.activations)}")
    for c in list(CLASSES) + ["all"]:
        old, new = scored["minus_inf"][c], scored["edge"][c]
        print(f"{c:4} -inf: TP {old['tp']:4} FP {old['fp']:4} F {old['f_measure']:.4f}   "
              f"edge: TP {new['tp']:4} FP {new['fp']:4} F {new['f_measure']:.4f}")


if __name__ == "__main__":
    main()

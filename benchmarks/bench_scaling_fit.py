"""Benchmark the scaling-law fit: recovery, interval coverage and time.

    .venv/bin/python benchmarks/bench_scaling_fit.py [--draws 40] [--bootstrap 1000]

Points are drawn from L(n) = α·n^-β + γ with multiplicative log-normal noise at
n = 1, 2, 4, ... 8192 (14 points, the paper's sweep) and at n = 1, 8, 64, 512
(4 points), for a curve with a gap (γ > 0) and one without (γ = 0). For each
setting it prints the median relative error of α, β, γ, how often the
bootstrap interval holds the true value (per parameter; nominal 95%), and the
median time of one fit with its intervals.

Recorded in benchmarks/results/scaling.md, "The fit: recovery, interval
coverage, time"; the summary row "#8 scaling" (fit) of benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from adtos.scaling.fit import PARAMETERS, fit_power_law  # noqa: E402

SETTINGS = [
    # name, n, (alpha, beta, gamma), noise (sd of log L)
    ("14 points, gap", 2.0 ** np.arange(14), (0.5, 0.4, 0.08), 0.01),
    ("14 points, gap, 3% noise", 2.0 ** np.arange(14), (0.5, 0.4, 0.08), 0.03),
    ("14 points, no gap", 2.0 ** np.arange(14), (0.6, 0.35, 0.0), 0.01),
    ("4 points, gap", np.array([1.0, 8.0, 64.0, 512.0]), (0.5, 0.4, 0.08), 0.01),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--draws", type=int, default=40, help="noise draws per setting")
    parser.add_argument("--bootstrap", type=int, default=1000, help="resamples per fit")
    args = parser.parse_args()

    print(f"{args.draws} draws per setting, {args.bootstrap} bootstrap resamples per fit")
    print(f"{'setting':<26} {'|err| α':>8} {'|err| β':>8} {'err γ':>9} "
          f"{'cover α':>8} {'cover β':>8} {'cover γ':>8} {'s/fit':>7}")
    for name, n, true, noise in SETTINGS:
        errors = {p: [] for p in PARAMETERS}
        covered = {p: 0 for p in PARAMETERS}
        seconds, withheld = [], 0
        for draw in range(args.draws):
            rng = np.random.default_rng(1000 + draw)
            loss = (true[0] * n ** -true[1] + true[2]) * np.exp(rng.normal(0, noise, n.size))
            started = time.process_time()
            fit = fit_power_law(n, loss, bootstrap=args.bootstrap, seed=draw)
            seconds.append(time.process_time() - started)
            for parameter, value in zip(PARAMETERS, true):
                estimate = getattr(fit, parameter)
                # γ = 0 has no relative error: report it relative to the smallest loss.
                scale = value if value > 0 else float(loss.min())
                errors[parameter].append(abs(estimate - value) / scale)
                low, high = fit.ci[parameter]
                covered[parameter] += bool(low <= value <= high)
            withheld += bool(np.isnan(fit.ci["alpha"][0]))
        # Fewer than 5 distinct n, or a degenerate bootstrap: `fit` gives no interval.
        cover = (" ".join(f"{100 * covered[p] / args.draws:7.0f}%" for p in PARAMETERS)
                 if withheld < args.draws else f"{'withheld':>26}")
        print(f"{name:<26} "
              + " ".join(f"{100 * statistics.median(errors[p]):7.2f}%" for p in ("alpha", "beta"))
              + f" {100 * statistics.median(errors['gamma']):8.2f}% " + cover
              + f" {statistics.median(seconds):7.2f}")
    print("errors: median |estimate - true| / true (γ = 0: relative to the smallest loss); "
          "cover: share of draws whose interval holds the true value; s/fit: CPU seconds")
    return 0


if __name__ == "__main__":
    sys.exit(main())

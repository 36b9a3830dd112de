"""Seconds per CRNN training step on CPU with 1 and with 2 torch threads.

    python benchmarks/experiments/bench_cpu_threads.py --width 0.25 --batch-size 8 --frames 200

Why `adtos train` on a CPU uses half the cores as torch threads: with more
threads than free cores, OpenMP's threads spin-wait on each other, which on a
shared machine made a step many times slower. Prints the median of --steps
steps (after one warm-up step) per thread count.

Question: how many torch threads should `adtos train` use on a
CPU? Answer (benchmarks/results/transcriber.md, "torch threads on a shared
CPU"): half the cores (1 on the 2-core dev box): with 2 threads a step took
15-25x longer under load (1 thread 2.2-2.6 s, 2 threads 36-65 s at width 0.25;
8.1 s against 161.8 s with this script at load 16-19).
"""

from __future__ import annotations

import argparse
import statistics
import time


def step_seconds(threads: int, width: float, batch: int, frames: int, steps: int) -> float:
    import torch

    from adtos.transcriber.model import CRNN

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = CRNN(width=width)
    optimizer = torch.optim.Adam(model.parameters())
    features = torch.randn(batch, frames, 84)
    targets = (torch.rand(batch, frames, 5) < 0.05).float()
    times = []
    for _ in range(steps + 1):
        start = time.perf_counter()
        optimizer.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(model(features), targets)
        loss.backward()
        optimizer.step()
        times.append(time.perf_counter() - start)
    return statistics.median(times[1:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=float, default=0.25)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--frames", type=int, default=200, help="snippet frames (100 = 1 s)")
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    for threads in args.threads:
        seconds = step_seconds(threads, args.width, args.batch_size, args.frames, args.steps)
        print(f"{threads} threads: {seconds:.3f} s/step (median of {args.steps})")


if __name__ == "__main__":
    main()

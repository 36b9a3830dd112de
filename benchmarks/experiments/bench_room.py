"""The Room reverb's convolution: ADTOS's overlap-add loop against scipy.signal.oaconvolve.

    .venv/bin/python benchmarks/experiments/bench_room.py [--repeat 5]

Question (issue #15): should `apply_room` keep its own overlap-add loop, or
call scipy.signal.oaconvolve? Answer (benchmarks/results/index.md, "Room
reverb"): the loop stays; it is faster from the default 0.6 s room up (1.13-2.98x
at 30 s, 1.26-2.00x at 60 s), scipy's is 20 % faster for the shortest 0.2 s rooms.

Times `apply_room` itself (wet only: dry_level 0, wet_level 1) on a stereo stem
whose channels are one mono send (30 s and 60 s at 44.1 kHz), with 0.2 s, 0.6 s
and 1.5 s rooms, against scipy's oaconvolve of the same send with the same
two-channel response, and checks that both agree. Prints the median CPU
seconds per call. (The response is cached by `room_impulse_response`, so
both sides time the convolution.)
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np
import scipy.signal

from adtos.presets.room import apply_room, room_impulse_response

SR = 44100


def room_params(decay_s: float) -> dict:
    """A room that returns only the wet signal, so the two sides compute the same thing."""
    return {"decay_s": decay_s, "damping": 0.5, "predelay_ms": 10.0, "width": 1.0, "seed": 0,
            "wet_level": 1.0, "dry_level": 0.0}


def adtos_room(planar: np.ndarray, decay_s: float) -> np.ndarray:
    return apply_room(planar, SR, room_params(decay_s))


def scipy_oaconvolve(planar: np.ndarray, decay_s: float) -> np.ndarray:
    p = room_params(decay_s)
    response = room_impulse_response(SR, p["decay_s"], p["damping"], p["predelay_ms"], p["width"],
                                     p["seed"])
    send = planar.mean(axis=0, dtype=np.float32)
    return scipy.signal.oaconvolve(send[None, :], response, mode="full", axes=1)[:, :send.size]


def cpu(fn, *args, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.process_time()
        fn(*args)
        times.append(time.process_time() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    print(f"load {os.getloadavg()[0]:.1f}; median CPU-s of {args.repeat}")
    print(f"{'stem':>6} {'room':>6} {'apply_room':>12} {'oaconvolve':>11} {'ratio':>6}")
    for seconds in (30, 60):
        send = rng.standard_normal(seconds * SR).astype(np.float32)
        planar = np.stack([send, send])
        for decay in (0.2, 0.6, 1.5):
            a, b = adtos_room(planar, decay), scipy_oaconvolve(planar, decay)
            assert np.abs(a - b).max() < 1e-3 * np.abs(b).max()
            ours = cpu(adtos_room, planar, decay, repeat=args.repeat)
            theirs = cpu(scipy_oaconvolve, planar, decay, repeat=args.repeat)
            print(f"{seconds:5d}s {decay:5.1f}s {ours:12.3f} {theirs:11.3f} {theirs / ours:6.2f}")


if __name__ == "__main__":
    main()

"""The Room reverb's convolution: ADTOS's overlap-add loop against scipy.signal.oaconvolve.

    .venv/bin/python benchmarks/experiments/bench_room.py [--repeat 5]

Times convolving a mono send (30 s and 60 s at 44.1 kHz) with the two-channel
room response (0.2 s, 0.6 s and 1.5 s rooms), the way `apply_room` does it,
and checks that both agree. Prints the median CPU seconds per call.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np
import scipy.fft
import scipy.signal

from adtos.presets.room import MIN_FFT, room_impulse_response

SR = 44100


def overlap_add(send: np.ndarray, response: np.ndarray) -> np.ndarray:
    """The loop apply_room used: power-of-two FFT blocks at least 4x the response."""
    n, taps = send.size, response.shape[1]
    size = max(MIN_FFT, 1 << int(np.ceil(np.log2(4 * taps))))
    block = size - taps + 1
    spectrum = scipy.fft.rfft(response, size, axis=1)
    out = np.zeros((2, n), np.float32)
    for start in range(0, n, block):
        piece = scipy.fft.irfft(spectrum * scipy.fft.rfft(send[start:start + block], size), size, axis=1)
        stop = min(start + size, n)
        out[:, start:stop] += piece[:, :stop - start]
    return out


def scipy_oaconvolve(send: np.ndarray, response: np.ndarray) -> np.ndarray:
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
    print(f"{'stem':>6} {'room':>6} {'overlap-add':>12} {'oaconvolve':>11} {'ratio':>6}")
    for seconds in (30, 60):
        send = rng.standard_normal(seconds * SR).astype(np.float32)
        for decay in (0.2, 0.6, 1.5):
            response = room_impulse_response(SR, decay, 0.5, 10.0, 1.0, 0)
            a, b = overlap_add(send, response), scipy_oaconvolve(send, response)
            assert np.abs(a - b).max() < 1e-3 * np.abs(b).max()
            ours = cpu(overlap_add, send, response, repeat=args.repeat)
            theirs = cpu(scipy_oaconvolve, send, response, repeat=args.repeat)
            print(f"{seconds:5d}s {decay:5.1f}s {ours:12.3f} {theirs:11.3f} {theirs / ours:6.2f}")


if __name__ == "__main__":
    main()

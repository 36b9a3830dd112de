"""Index a generated library of 150,000 loops (the size of the paper's library): time and peak memory.

    .venv/bin/python benchmarks/bench_index_large.py [--loops 150000] [--library DIR] [--workers N]

The library is written once into DIR (default: a folder under the system temp
directory, kept for reruns): 16-bar MIDI files of drums, piano or bass in six
genre folders, so each file gives four 4-bar loops. Then `index_library` runs
in a fresh process, which reports its wall time and the peak resident memory
of itself and of its worker processes (getrusage).

Recorded in benchmarks/results/index.md, "Generated library of 150,000 loops";
the summary row "#2 index" (150,000 loops) of benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from adtos.midi import encode_smf

TPB = 480
BARS_PER_FILE = 16
LOOPS_PER_FILE = BARS_PER_FILE // 4
GENRES = ("rock", "funk", "jazz", "latin", "pop", "soul")
ROLES = ("drums", "piano", "bass")
MAJOR = np.array([0, 2, 4, 5, 7, 9, 11])


def write_library(root: Path, files: int, seed: int = 0) -> None:
    """`files` random-but-plausible 16-bar performances with human timing and velocity."""
    rng = np.random.default_rng(seed)
    for number in range(files):
        role = ROLES[number % 3]
        genre = GENRES[(number // 3) % len(GENRES)]
        bpm = int(rng.integers(70, 170))
        folder = root / role / genre
        if role == "drums":
            steps = np.arange(BARS_PER_FILE * 16)
            hats = steps[rng.random(len(steps)) < 0.9]
            kicks = steps[(steps % 8 == 0) | (rng.random(len(steps)) < 0.08)]
            snares = steps[steps % 8 == 4]
            onsets = np.concatenate([hats, kicks, snares]) * TPB // 4
            pitches = np.concatenate([np.full(len(hats), 42), np.full(len(kicks), 36), np.full(len(snares), 38)])
            durations = np.full(len(onsets), TPB // 8)
            channel, program = 9, None
        else:
            per_bar = 8 if role == "piano" else 4
            count = BARS_PER_FILE * per_bar
            onsets = np.arange(count) * (4 * TPB // per_bar)
            tonic = int(rng.integers(0, 12))
            base = 60 if role == "piano" else 36
            pitches = base + tonic + MAJOR[rng.integers(0, 7, count)]
            durations = np.full(count, 4 * TPB // per_bar - 20)
            channel, program = 0, (0 if role == "piano" else 33)
        jitter = np.round(rng.normal(0, 0.012 * bpm / 60 * TPB, len(onsets))).astype(int)
        onsets = np.maximum(onsets + jitter, 0)
        velocities = np.clip(rng.normal(90, 12, len(onsets)), 1, 127).astype(int)
        events = [(0, b"\xff\x51\x03" + int(60e6 / bpm).to_bytes(3, "big")),
                  (0, b"\xff\x58\x04\x04\x02\x18\x08")]
        if program is not None:
            events.append((0, bytes([0xC0 | channel, program])))
        notes = []
        for onset, duration, pitch, velocity in zip(onsets.tolist(), durations.tolist(), pitches.tolist(),
                                                     velocities.tolist()):
            notes.append((onset + duration, 0, bytes([0x80 | channel, pitch, 0])))
            notes.append((onset, 1, bytes([0x90 | channel, pitch, velocity])))
        notes.sort(key=lambda n: (n[0], n[1]))
        events += [(tick, data) for tick, _, data in notes]
        events.append((max(BARS_PER_FILE * 4 * TPB, events[-1][0]), b"\xff\x01\x00"))
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{genre}_{bpm}bpm_{number:06d}.mid").write_bytes(encode_smf(TPB, events))


def index_and_measure(library: Path, workers: int | None) -> None:
    """Runs in a fresh process: index, write, and report time and peak memory as JSON."""
    import resource

    from adtos.index import index_library, write_loop_index

    start = time.perf_counter()
    cpu_start = os.times()
    index = index_library(library, "generic", workers=workers)
    cpu_end = os.times()
    cpu = sum(getattr(cpu_end, f) - getattr(cpu_start, f)
              for f in ("user", "system", "children_user", "children_system"))
    indexed = time.perf_counter() - start
    out = library.parent / f"{library.name}.parquet"
    write_loop_index(index, out)
    total = time.perf_counter() - start
    self_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    child_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(json.dumps({"loops": index.loops.num_rows, "skipped": len(index.errors), "index_s": indexed,
                      "index_and_write_s": total, "cpu_s": cpu, "peak_rss_main_mb": self_kb / 1024,
                      "peak_rss_worker_mb": child_kb / 1024, "parquet_mb": out.stat().st_size / 2**20,
                      "table_mb": index.loops.nbytes / 2**20}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--loops", type=int, default=150_000)
    parser.add_argument("--library", type=Path, default=None)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--index-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    files = -(-args.loops // LOOPS_PER_FILE)
    library = args.library or Path(tempfile.gettempdir()) / f"adtos_bench_library_{files}"
    if args.index_only:
        index_and_measure(library, args.workers)
        return
    marker = library / ".complete"
    if not marker.exists():
        start = time.perf_counter()
        write_library(library, files)
        marker.write_text(str(files))
        print(f"wrote {files} files ({files * LOOPS_PER_FILE} loops) to {library} "
              f"in {time.perf_counter() - start:.1f} s")
    else:
        print(f"reusing {library} ({files} files)")
    command = [sys.executable, __file__, "--index-only", "--loops", str(args.loops), "--library", str(library)]
    if args.workers:
        command += ["--workers", str(args.workers)]
    load = os.getloadavg()[0]
    result = json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)
    print(f"indexed {result['loops']} loops ({result['skipped']} skipped) in {result['index_s']:.1f} s "
          f"({result['loops'] / result['index_s']:.0f} loops/s, {result['cpu_s']:.0f} s CPU), with writing {result['index_and_write_s']:.1f} s; "
          f"peak RSS main {result['peak_rss_main_mb']:.0f} MB, largest worker {result['peak_rss_worker_mb']:.0f} MB; "
          f"table {result['table_mb']:.0f} MB in memory, {result['parquet_mb']:.0f} MB Parquet; "
          f"load average before {load:.1f}, {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()

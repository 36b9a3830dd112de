"""Benchmark `assemble_tracks`: N tracks of D seconds from a large loop index.

    .venv/bin/python benchmarks/bench_assemble.py            # 1,000 x 180 s from 150,000 loops
    .venv/bin/python benchmarks/bench_assemble.py --tracks 100 --loops 20000

The index is synthetic (adtos.assemble.synthetic: the loop-index schema, real
note lists) so the benchmark needs no MIDI library: two thirds drum loops and
one third piano loops, like GMD + POP909, so bass and guitar are derived (the
heavier path). Prints tracks/s and the peak resident memory of the process.

Recorded in benchmarks/results/assemble.md, "assemble — benchmark results"; the summary
row "#3 assemble" of benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tracks", type=int, default=1000)
    parser.add_argument("--duration", type=float, default=180.0)
    parser.add_argument("--loops", type=int, default=150_000)
    parser.add_argument("--voices", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None, help="keep the tracks here (default: a temporary folder)")
    args = parser.parse_args()

    from adtos.assemble import AssembleOptions, assemble_tracks
    from adtos.assemble.synthetic import synthetic_loop_index

    start, cpu = time.perf_counter(), time.process_time()
    drums = args.loops * 2 // 3
    loops = synthetic_loop_index({"drums": drums, "piano": args.loops - drums}, seed=args.seed,
                                 meters=("4/4", "3/4"), theme_size=8, tempo_range=(60.0, 180.0))
    index_s, index_cpu = time.perf_counter() - start, time.process_time() - cpu
    notes = sum(len(chunk.values) for chunk in loops.column("note_pitch").chunks)
    print(f"index: {loops.num_rows:,} loops, {notes:,} notes, built in {index_s:.1f} s "
          f"({index_cpu:.1f} CPU-s)")

    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="bench_assemble_"))
    try:
        options = AssembleOptions(tracks=args.tracks, duration=args.duration, voices=args.voices,
                                  seed=args.seed)
        start, cpu = time.perf_counter(), time.process_time()
        tracks = assemble_tracks(loops, out, options)
        elapsed, elapsed_cpu = time.perf_counter() - start, time.process_time() - cpu
    finally:
        if not args.out:
            shutil.rmtree(out, ignore_errors=True)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024   # Linux: KiB
    used = {p["loop_id"] for row in tracks.column("loops").to_pylist() for p in row}
    print(f"assemble: {tracks.num_rows} tracks x {args.duration:.0f} s, {args.voices} voices in "
          f"{elapsed:.1f} s wall, {elapsed_cpu:.1f} CPU-s (including loading the index into arrays)")
    print(f"tracks/s: {tracks.num_rows / elapsed:.1f} (wall clock), "
          f"{tracks.num_rows / elapsed_cpu:.1f} (per CPU-second; the process is single-threaded)")
    print(f"peak memory (max RSS, whole process): {peak_mb:,.0f} MB")
    print(f"distinct loops used: {len(used):,}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Index the full Groove MIDI Dataset and print files/s and loops/s.

    .venv/bin/python benchmarks/bench_index_gmd.py [GROOVE_DIR] [--repeat 3] [--workers N]

GROOVE_DIR defaults to $ADTOS_SHARED_DATA/groove or ../shared/data/groove
beside the repository. Reports the median over the repeats, and the load
average, since the machine may be shared.

Recorded in benchmarks/results/index.md, "Full Groove MIDI Dataset"; the summary
row "#2 index" (full GMD) of benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

from adtos.index import index_library

REPO = Path(__file__).resolve().parents[1]


def default_groove_dir() -> Path:
    root = Path(os.environ.get("ADTOS_SHARED_DATA", REPO.parent / "shared" / "data"))
    return root / "groove"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("groove_dir", nargs="?", type=Path, default=default_groove_dir())
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workers", type=int, default=None, help="default: CPU count")
    args = parser.parse_args()
    if not (args.groove_dir / "info.csv").is_file():
        raise SystemExit(f"no info.csv in {args.groove_dir}; pass the Groove MIDI Dataset folder")

    walls, cpus = [], []
    for run in range(args.repeat):
        load = os.getloadavg()[0]
        start, cpu_start = time.perf_counter(), os.times()
        index = index_library(args.groove_dir, "groove", workers=args.workers)
        wall = time.perf_counter() - start
        cpu_end = os.times()
        cpu = (cpu_end.user + cpu_end.system + cpu_end.children_user + cpu_end.children_system
               - cpu_start.user - cpu_start.system - cpu_start.children_user - cpu_start.children_system)
        files = len(set(index.loops.column("source").to_pylist()))
        loops = index.loops.num_rows
        walls.append(wall)
        cpus.append(cpu)
        print(f"run {run + 1}: {files} files, {loops} loops, {len(index.errors)} skipped, "
              f"{wall:.2f} s wall, {cpu:.2f} s CPU, load average before {load:.1f}")
    wall = statistics.median(walls)
    print(f"median wall {wall:.2f} s over {args.repeat} runs (workers={args.workers or os.cpu_count()}, "
          f"{os.cpu_count()} CPUs): {files / wall:.0f} files/s, {loops / wall:.0f} loops/s; "
          f"median CPU {statistics.median(cpus):.2f} s")


if __name__ == "__main__":
    main()

"""Time `adtos build` on the paper-shaped config: how many hours of audio per hour.

    .venv/bin/python benchmarks/bench_build.py                 # 64 tracks of 60 s
    .venv/bin/python benchmarks/bench_build.py --tracks 8 --duration 30
    .venv/bin/python benchmarks/bench_build.py --config configs/ablation_mix_flat.toml --set tracks.lead=false

Builds configs/adtos.toml (GMD + POP909 from ../shared/data, 4 voices) from
scratch into a temporary folder, with the track count and duration overridden,
and prints the wall time of each step and the throughput: hours of audio per
hour of wall time, for the whole build and for the render step alone. (No
CPU-time figure: the render's workers are children of multiprocessing's
forkserver, not of this process, so getrusage cannot see them.)

Recorded in benchmarks/results/build.md, "adtos build — measured figures" (and the
mix levers' whole-build figure in results/render.md, "Mix levers"); the
summary rows "#5 build" and "#13 mix" of benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", default=str(REPO_ROOT / "configs" / "adtos.toml"))
    parser.add_argument("--tracks", type=int, default=64, help="training tracks (default 64)")
    parser.add_argument("--val", type=int, default=0, help="validation tracks (default 0)")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds per track")
    parser.add_argument("--workers", type=int, default=None, help="default: every core")
    parser.add_argument("--out", default=None, help="build folder (default: a temporary one, "
                        "removed afterwards)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config key, as `adtos build --set` (repeatable; "
                        "VALUE is TOML, e.g. tracks.lead=false)")
    args = parser.parse_args()

    from adtos.build import build_dataset, load_config
    from adtos.build.cli import parse_overrides
    from adtos.errors import AdtosError

    try:
        overrides = {"tracks.train": args.tracks, "tracks.val": args.val,
                     "tracks.duration": args.duration, **parse_overrides(args.set)}
        config = load_config(args.config, overrides=overrides)
    except AdtosError as error:
        print(f"bench_build: {error}", file=sys.stderr)
        return 2
    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="adtos-bench-")) / "ds"
    started = time.perf_counter()
    try:
        report = build_dataset(config, out, workers=args.workers)
    finally:
        wall = time.perf_counter() - started
        if args.out is None:
            shutil.rmtree(out.parent, ignore_errors=True)
    audio_hours = report.hours
    print(f"config: {args.config} {' '.join(args.set)} with {args.tracks} train + {args.val} val tracks "
          f"of {args.duration:g} s, workers={args.workers or os.cpu_count()}")
    for step, seconds in report.seconds.items():
        print(f"  {step:<9} {seconds:8.1f} s")
    print(f"total wall time: {wall:.1f} s for {report.tracks} tracks, "
          f"{audio_hours * 60:.1f} min of audio")
    print(f"hours of audio per hour (whole build): {audio_hours / (wall / 3600):.1f}")
    render = report.seconds.get("render", 0.0)
    if render > 0:
        print(f"hours of audio per hour (render step): {audio_hours / (render / 3600):.1f}")
    if report.failed:
        print(f"failed tracks: {len(report.failed)}: {report.failed[:3]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""What the mix levers cost: hours of audio per CPU-hour with and without them.

    .venv/bin/python benchmarks/bench_mix.py [--tracks 8] [--seconds 60] [--repeats 3]

Assembles `--tracks` tracks once from a slice of the real libraries in
../shared/data (GMD beats for the drums, POP909 for piano, lead and bridge;
bass and guitar derived, as in configs/adtos.toml), with the lead and bridge
voices on. Then renders the same tracks in this process (workers 1) with the
committed preset library, each repeat running every setting in turn:

  flat        drums, piano, bass, guitar; every stem at -23 LUFS (the paper's mix)
  lead        + lead, flat mix
  bus         the four voices; drawn balance; master bus (EQ, compressor, limiter)
  lead+bus    + lead; drawn balance; master bus
  full        + lead + bridge; drawn balance; master bus

and prints, per setting, the median CPU seconds and hours of audio per
CPU-hour, and the ratio to `flat` (target for lead+bus: at least 0.8, i.e. no
more than 25 % slower). Soundfonts are loaded by a warm-up render first, so
no setting pays for loading them.

Recorded in benchmarks/results/render.md, "Mix levers: what the lead voice and the
master bus cost"; the summary row "#13 mix" of benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from adtos.render.mix import DEFAULT_BALANCE_DB, MixOptions  # noqa: E402

BASE = ("drums", "piano", "bass", "guitar")
BUS = MixOptions(balance_db=DEFAULT_BALANCE_DB, master=True)
SETTINGS = {
    "flat": (BASE, MixOptions()),
    "lead": (BASE + ("lead",), MixOptions()),
    "bus": (BASE, BUS),
    "lead+bus": (BASE + ("lead",), MixOptions(balance_db=DEFAULT_BALANCE_DB, master=True)),
    "full": (BASE + ("lead", "bridge"), MixOptions(balance_db=DEFAULT_BALANCE_DB, master=True)),
}


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def assemble(shared: Path, work: Path, tracks: int, seconds: float, takes: int, songs: int) -> Path:
    import pyarrow as pa

    from adtos.assemble import AssembleOptions, assemble_tracks
    from adtos.index import index_library
    from adtos.index.testing import groove_slice, pop909_slice

    groove = groove_slice(shared / "groove", work / "groove", {"train": takes})
    pop = pop909_slice(shared / "pop909", work / "pop909", songs)
    loops = pa.concat_tables([index_library(groove, "groove", workers=1).loops,
                              index_library(pop, "pop909", workers=1).loops])
    options = AssembleOptions(tracks=tracks, duration=seconds, voices=4, lead=True, bridge=True,
                              seed=0)
    assemble_tracks(loops, work / "tracks", options)
    return work / "tracks"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tracks", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--takes", type=int, default=60, help="GMD takes indexed")
    parser.add_argument("--songs", type=int, default=40, help="POP909 songs indexed")
    parser.add_argument("--settings", nargs="+", choices=list(SETTINGS), default=list(SETTINGS),
                        help="settings to run (default: all; flat is always run, as the reference)")
    parser.add_argument("--presets", default=str(REPO / "presets" / "default.jsonl"),
                        help="the preset library (default: presets/default.jsonl; to compare with "
                        "a checkout from before a library change, give both the same file)")
    parser.add_argument("--shared", default=os.environ.get("ADTOS_SHARED_DATA",
                                                       str(REPO.parent / "shared" / "data")),
                        help="the shared data folder (default: $ADTOS_SHARED_DATA or ../shared/data)")
    args = parser.parse_args()

    import pyarrow.parquet as pq

    from adtos.presets import load_presets
    from adtos.render import render_tracks

    work = Path(tempfile.mkdtemp(prefix="adtos-bench-mix-"))
    try:
        tracks = assemble(Path(args.shared), work, args.tracks, args.seconds, args.takes, args.songs)
        presets = load_presets(Path(args.presets))
        render_tracks(tracks, presets, work / "warm-up", workers=1, progress=False)  # load soundfonts
        shutil.rmtree(work / "warm-up")
        chosen = {name: SETTINGS[name] for name in SETTINGS
                  if name == "flat" or name in args.settings}
        cpu: dict[str, list[float]] = {name: [] for name in chosen}
        audio_s = 0.0
        for repeat in range(args.repeats):
            for name, (voices, mix) in chosen.items():
                out = work / f"{name}-{repeat}"
                started, wall = cpu_seconds(), time.perf_counter()
                report = render_tracks(tracks, presets, out, voices=voices, workers=1, mix=mix,
                                       progress=False)
                cpu[name].append(cpu_seconds() - started)
                if report.failed:
                    print(f"{name}: failed {report.failed[:2]}", file=sys.stderr)
                if name == "flat":
                    audio_s = sum(pq.read_table(out / "render.parquet").column("duration").to_pylist())
                print(f"repeat {repeat + 1} {name:<9} CPU {cpu[name][-1]:6.1f} s, "
                      f"wall {time.perf_counter() - wall:6.1f} s", flush=True)
                shutil.rmtree(out)
        flat = statistics.median(cpu["flat"])
        print(f"\n{args.tracks} tracks x {args.seconds:g} s ({audio_s / 3600:.3f} h of audio), "
              f"{args.repeats} repeats, medians:")
        print("| setting | CPU s | hours of audio per CPU-hour | relative to flat |")
        print("|---|---:|---:|---:|")
        for name, seconds in cpu.items():
            median = statistics.median(seconds)
            print(f"| {name} | {median:.1f} | {audio_s / median:.1f} | {flat / median:.2f} |")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

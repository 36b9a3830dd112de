"""What a user runs: `adtos render` with the default library on GMD tracks, against bare FluidSynth.

    .venv/bin/python benchmarks/bench_render_default.py            # 20 tracks x 60 s, 3 repeats
    .venv/bin/python benchmarks/bench_render_default.py --tracks 4 --repeats 1 --profile

Assembles `--tracks` tracks of `--seconds` from the Groove MIDI Dataset and
POP909 in ../shared/data (indexed once into the work folder; 4 voices plus
the lead and bridge of configs/adtos.toml), then, alternating in each repeat:

  drums  (a) `adtos render --voices drums --workers 1 --presets presets/default.jsonl`,
             a fresh process (imports, kit and soundfont loading, effects,
             loudness, audibility, FLAC and annotations included);
         (b) `fluidsynth -ni -R 0 -C 0` with FluidR3 on each track's drum MIDI,
             one call per track (the program must load the soundfont per call);
  all    (c) `adtos render --workers 1` of every voice with the default config's
             mix (balance [-12, 0] LU, master bus [-18, -8] LUFS);
         (d) one `fluidsynth` pass per track over the whole track MIDI with FluidR3.

Prints the CPU-time ratios (b)/(a) (target >= 5) and (d)/(c) (target >= 0.9)
as medians over the repeats (each repeat's ratio too), the load average, and
with `--profile` a cProfile table of one drums render (cumulative seconds of
the steps the issue #23 profile named). `--build N` also times the default
config's whole build (configs/adtos.toml, N training tracks of `--seconds`, no
validation tracks, `--workers 1`, one process) in hours of audio per CPU-hour.

Recorded in benchmarks/results/render.md, section "The default render path at the
speed of its parts (issue #23)"; summary rows #23 render.
"""

from __future__ import annotations

import argparse
import os
import pstats
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from bench_render import timed  # noqa: E402

SHARED = Path(os.environ.get("ADTOS_SHARED_DATA", REPO.parent / "shared" / "data"))
FLUIDR3 = "/usr/share/sounds/sf2/FluidR3_GM.sf2"
MIX = ["--balance-db", "-12", "0", "--master", "--master-lufs", "-18", "-8"]  # configs/adtos.toml

# (label, function names as pstats shows them, file fragment) for the profile table.
PROFILE_STEPS = [
    ("sampler: render (hits, variation, mix)", "render", "presets/sampler.py"),
    ("sampler: render_groups (the same, per group)", "render_groups", "presets/sampler.py"),
    ("  variation (vary_one_shot, before #23)", "vary_one_shot", "presets/variation.py"),
    ("  variation (shape_one_shot)", "shape_one_shot", "presets/variation.py"),
    ("  saturate", "saturate", "presets/variation.py"),
    ("    tilt", "tilt_spectrum", "presets/variation.py"),
    ("    change_decay", "change_decay", "presets/variation.py"),
    ("  pitch_shift", "pitch_shift", "presets/sampler.py"),
    ("  load_kit", "load_kit", "kits/library.py"),
    ("FluidSynth: SoundfontBank.render", "render", "presets/synth.py"),
    ("  sfload", "sfload", "fluidsynth.py"),
    ("  velocity_law", "velocity_law", "presets/synth.py"),
    ("effects (apply_effects)", "apply_effects", "presets/effects.py"),
    ("  room", "apply_room", "presets/room.py"),
    ("  build_chain", "build_chain", "presets/effects.py"),
    ("loudness (normalize_stem)", "normalize_stem", "render/loudness.py"),
    ("loudness (normalize_stem_gain)", "normalize_stem_gain", "render/loudness.py"),
    ("audibility (annotate_audibility)", "annotate_audibility", "render/audibility.py"),
    ("FluidSynth drum groups (render_groups)", "render_groups", "render/audibility.py"),
    ("FLAC (_write_audio)", "_write_audio", "render/worker.py"),
    ("render_track (one track, all steps)", "render_track", "render/worker.py"),
]


def adtos(*args: str, source: Path | None = None) -> list[str]:
    """An adtos command; with `source`, run from that source tree (the code before)."""
    # `python -m` imports from the working folder first: run in the tree itself.
    prefix = ["env", "-C", str(source), f"PYTHONPATH={source}"] if source else []
    return [*prefix, sys.executable, "-m", "adtos", *args]


def make_tracks(work: Path, n: int, seconds: float) -> Path:
    """Index GMD and POP909 (once, kept in `work`) and assemble `n` tracks of `seconds`."""
    indexes = []
    for name, kind in (("groove", "groove"), ("pop909", "pop909")):
        index = work / f"{name}.parquet"
        if not index.is_file():
            subprocess.run(adtos("index", str(SHARED / name), "--kind", kind, "--out", str(index)),
                           check=True, stdout=subprocess.DEVNULL)
        indexes += ["--index", str(index)]
    tracks = work / f"tracks-{n}x{seconds:g}"
    if not (tracks / "tracks.parquet").is_file():
        shutil.rmtree(tracks, ignore_errors=True)
        subprocess.run(adtos("assemble", *indexes, "--tracks", str(n), "--duration", str(seconds),
                             "--voices", "4", "--lead", "--bridge", "--seed", "0", "--out",
                             str(tracks)), check=True, stdout=subprocess.DEVNULL)
    return tracks


def drum_midis(tracks: Path, out: Path) -> list[Path]:
    """Each track's drum part alone as a MIDI file (what the drums render plays)."""
    from adtos.render.inputs import midi_with_voices

    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for midi in sorted((tracks / "midi").glob("*.mid")):
        path = out / midi.name
        path.write_bytes(midi_with_voices(midi, {"drums"}))
        paths.append(path)
    return paths


def fluidsynth(midis: list[Path], out: Path) -> list[list[str]]:
    out.mkdir(parents=True, exist_ok=True)
    return [["fluidsynth", "-ni", "-R", "0", "-C", "0", "-r", "44100", "-F",
             str(out / f"{m.stem}.wav"), FLUIDR3, str(m)] for m in midis]


def render(tracks: Path, presets: Path, out: Path, drums: bool, source: Path | None = None
           ) -> list[str]:
    shutil.rmtree(out, ignore_errors=True)
    extra = ["--voices", "drums"] if drums else MIX
    return adtos("render", str(tracks), "--presets", str(presets), "--out", str(out),
                 "--workers", "1", "--no-progress", *extra, source=source)


def profile_table(command: list[str], out: Path, version: str) -> None:
    """Run `command` (an adtos render) under cProfile; print the cumulative time of each step."""
    stats_path = out.with_suffix(".prof")
    at = command.index(sys.executable)
    subprocess.run([*command[:at + 1], "-m", "cProfile", "-o", str(stats_path),
                    *command[at + 1:]], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    stats = pstats.Stats(str(stats_path)).stats  # (file, line, name) -> (cc, nc, tt, ct, callers)
    total = max(ct for _, _, _, ct, _ in stats.values())
    print(f"\ncProfile ({version}) of `{' '.join(command[at + 3:at + 5])} ...` ({total:.1f} s in "
          "all; cumulative seconds and calls, nested steps indented):")
    for label, name, fragment in PROFILE_STEPS:
        rows = [(v[3], v[1]) for (f, _, n), v in stats.items()
                if n == name and f.replace(os.sep, "/").endswith(fragment)]
        if rows:
            print(f"  {label:40s} {sum(r[0] for r in rows):7.2f} s  {sum(r[1] for r in rows):6d}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tracks", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--presets", type=Path, default=REPO / "presets" / "default.jsonl")
    parser.add_argument("--only", choices=("drums", "all"), default=None,
                        help="time one comparison only")
    parser.add_argument("--profile", action="store_true",
                        help="also a cProfile table of one drums render")
    parser.add_argument("--before", type=Path, default=None, metavar="SRC",
                        help="also time the code of this source tree (e.g. `git worktree add "
                        "/tmp/before COMMIT`), alternating with this one")
    parser.add_argument("--build", type=int, default=0, metavar="N",
                        help="also time `adtos build configs/adtos.toml` with N tracks")
    parser.add_argument("--work", type=Path, default=None,
                        help="keep the indexes, tracks and renders here (reused when rerun)")
    args = parser.parse_args()
    if shutil.which("fluidsynth") is None:
        sys.exit("the fluidsynth program is not installed (Debian: apt install fluidsynth)")
    work = (args.work or Path(tempfile.mkdtemp(prefix="bench_render_default."))).resolve()
    args.presets = args.presets.resolve()
    work.mkdir(parents=True, exist_ok=True)
    tracks = make_tracks(work, args.tracks, args.seconds)
    drums_midi = drum_midis(tracks, work / "drum-midi")
    whole_midi = sorted((tracks / "midi").glob("*.mid"))
    print(f"{args.tracks} GMD+POP909 tracks x {args.seconds:g} s, presets {args.presets}, "
          f"{os.cpu_count()} CPUs; work folder {work}", flush=True)

    comparisons = [c for c in ("drums", "all") if args.only in (None, c)]
    versions = {"adtos": None, **({"before": args.before.resolve()} if args.before else {})}
    times: dict[str, list[tuple[float, float]]] = {}
    for repeat in range(args.repeats):
        line = [f"repeat {repeat + 1}:"]
        for name in comparisons:
            for version, source in versions.items():
                ours = timed([render(tracks, args.presets, work / f"out-{name}", name == "drums",
                                     source)])
                times.setdefault(f"{name}-{version}", []).append(ours)
                line.append(f"{name}: {version} {ours[1]:.1f} s CPU ({ours[0]:.1f} wall),")
            bare = timed(fluidsynth(drums_midi if name == "drums" else whole_midi,
                                    work / f"fluidsynth-{name}"))
            times.setdefault(f"{name}-bare", []).append(bare)
            line.append(f"fluidsynth {bare[1]:.1f} s CPU ({bare[0]:.1f} wall);")
        print(" ".join(line), f"load average {os.getloadavg()[0]:.1f}", flush=True)

    targets = {"drums": 5.0, "all": 0.9}
    print(f"\nmedians of {args.repeats} repeats (CPU seconds; ratio = fluidsynth / adtos):")
    for name in comparisons:
        bare = statistics.median(c for _, c in times[f"{name}-bare"])
        for version in versions:
            runs = times[f"{name}-{version}"]
            ours = statistics.median(c for _, c in runs)
            per = ", ".join(f"{b[1] / a[1]:.2f}" for a, b in zip(runs, times[f"{name}-bare"]))
            print(f"  {name:5s} {version:6s} {ours:6.1f} s  fluidsynth {bare:6.1f} s  ratio "
                  f"{bare / ours:.2f} (target >= {targets[name]:g}; per repeat {per})")
    print(f"load average now {os.getloadavg()[0]:.1f}")
    for version, source in versions.items() if args.build else ():
        build = work / "build"
        shutil.rmtree(build, ignore_errors=True)
        wall, cpu = timed([adtos("build", str(REPO / "configs" / "adtos.toml"), "--out", str(build),
                                 "--workers", "1", "--set", f"tracks.train={args.build}",
                                 "--set", "tracks.val=0", "--set",
                                 f"tracks.duration={args.seconds}", source=source)])
        hours = args.build * args.seconds / 3600
        print(f"build configs/adtos.toml ({version}), {args.build} tracks x {args.seconds:g} s, "
              f"--workers 1: {cpu:.1f} s CPU ({wall:.1f} wall): {hours / (cpu / 3600):.1f} "
              f"hours of audio per CPU-hour; load average {os.getloadavg()[0]:.1f}", flush=True)
    for version, source in versions.items() if args.profile else ():
        profile_table(render(tracks, args.presets, work / "out-profile", True, source),
                      work / f"drums-{version}", version)
    if args.work is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

"""Benchmark `adtos render` against bare FluidSynth on the same stems.

    .venv/bin/python benchmarks/bench_render.py [--tracks 20] [--seconds 60] [--repeats 3]

Makes `--tracks` assembled tracks of `--seconds` with 4 voices (the built-in
loop pack, indexed and assembled), and a preset library of SF2 patches with
seeded random effect chains. Then, each `--repeats` times:

  (a) `adtos render --workers 1` (a fresh process: soundfont loading, effects,
      loudness, mixing, FLAC and annotations included);
  (b) the fluidsynth program on every stem alone (`fluidsynth -ni -R 0 -C 0`,
      reverb and chorus off), one call per stem with that stem's soundfont and
      patch: bare synthesis, loading the soundfont per call as the program must;
  (c) `adtos render --workers 2`.

Prints medians: (b)/(a) time (target >= 0.9), the (c) speed-up over (a)
(target >= 1.8), seconds of audio per CPU-second, and where (a)'s time goes
(CPU time per step of the in-process renderer on a few tracks).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from adtos.render.assign import VOICES  # noqa: E402

# SF2 only: the fluidsynth program would decode an SF3 (MuseScore) for 7-8 s per
# call, which would flatter the renderer that loads it once.
SOUNDFONTS = ("FluidR3_GM.sf2", "TimGM6mb.sf2")
PROGRAMS = {"piano": range(0, 8), "bass": range(32, 40), "guitar": range(24, 32)}
PER_ROLE = 6
AUDIBILITY_STEP = "audibility (adtos.render.audibility)"


def make_tracks(work: Path, n: int, seconds: float) -> Path:
    from adtos.assemble import AssembleOptions, assemble_tracks
    from adtos.index import index_library, make_loop_pack

    make_loop_pack(work / "pack", seed=0)
    loops = index_library(work / "pack").loops
    assemble_tracks(loops, work / "tracks", AssembleOptions(tracks=n, duration=seconds, voices=4,
                                                            seed=0))
    return work / "tracks"


def make_presets(path: Path, seed: int = 0, dry: bool = False) -> list:
    """PER_ROLE presets per role from the SF2 soundfonts, each with a random effect chain
    (none with `dry`)."""
    from adtos.presets import Preset, save_presets
    from adtos.presets.effects import random_effect_chain
    from adtos.presets.soundfonts import read_patches, resolve_soundfont

    rng = np.random.default_rng(seed)
    candidates: dict[str, list] = {role: [] for role in VOICES}
    for name in SOUNDFONTS:
        for patch in read_patches(resolve_soundfont(name)):
            if patch.bank == 128:
                candidates["drums"].append(patch)
            elif patch.bank == 0:
                for role, programs in PROGRAMS.items():
                    if patch.program in programs:
                        candidates[role].append(patch)
    presets = []
    for role, patches in candidates.items():
        for i in rng.choice(len(patches), size=min(PER_ROLE, len(patches)), replace=False):
            patch = patches[int(i)]
            presets.append(Preset(role=role, name=patch.name,
                                  source={"soundfont": patch.soundfont, "bank": patch.bank,
                                          "program": patch.program},
                                  effects=[] if dry else random_effect_chain(rng, role)))
    save_presets(presets, path)
    return presets


def stem_midis(tracks: Path, rendered: Path, presets: list, out: Path) -> list[tuple[Path, Path]]:
    """One MIDI file per stem, its patch selected by program change; (soundfont, midi) pairs."""
    import mido
    import pyarrow.parquet as pq

    from adtos.presets.soundfonts import resolve_soundfont
    from adtos.render.assign import PRESET_COLUMN

    by_id = {p.id: p for p in presets}
    jobs = []
    out.mkdir(parents=True, exist_ok=True)
    for row in pq.read_table(rendered / "render.parquet").to_pylist():
        source = mido.MidiFile(tracks / "midi" / f"{row['track_id']}.mid")
        for voice in VOICES:
            preset = by_id[row[PRESET_COLUMN[voice]]]
            stem = mido.MidiFile(type=1, ticks_per_beat=source.ticks_per_beat)
            for track in source.tracks:
                name = next((m.name for m in track if m.type == "track_name"), "")
                if not any(not m.is_meta for m in track):
                    stem.tracks.append(track)
                elif name == voice:
                    stem.tracks.append(mido.MidiTrack(
                        m.copy(program=preset.source["program"]) if m.type == "program_change"
                        else m for m in track))
            path = out / f"{row['track_id']}-{voice}.mid"
            stem.save(path)
            jobs.append((resolve_soundfont(preset.source["soundfont"]), path))
    return jobs


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(commands: list[list[str]]) -> tuple[float, float]:
    """Run commands one after another; (wall seconds, CPU seconds of the processes)."""
    cpu, wall = children_cpu(), time.perf_counter()
    for command in commands:
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - wall, children_cpu() - cpu


def adtos_render(tracks: Path, presets: Path, out: Path, workers: int) -> list[str]:
    return [sys.executable, "-m", "adtos", "render", str(tracks), "--presets", str(presets),
            "--out", str(out), "--workers", str(workers), "--no-progress"]


def fluidsynth_commands(stems: list[tuple[Path, Path]], out: Path) -> list[list[str]]:
    out.mkdir(parents=True, exist_ok=True)
    return [["fluidsynth", "-ni", "-R", "0", "-C", "0", "-r", "44100", "-F",
             str(out / f"{midi.stem}.wav"), str(soundfont), str(midi)] for soundfont, midi in stems]


def profile(tracks: Path, presets: list, work: Path, n: int) -> list[tuple[str, float]]:
    """CPU seconds per step of the in-process renderer, per track, over `n` tracks.

    Each step is timed by wrapping the function the renderer calls; one track
    is rendered first and not counted, so imports and soundfont loading (once
    per worker) do not land on one step.
    """
    import pyarrow.parquet as pq

    import adtos.fileio
    import adtos.presets.effects
    import adtos.presets.synth
    import adtos.render.worker as worker
    from adtos.render import render_tracks

    spent: dict[str, float] = {}
    active: list[str] = []  # a step called inside another counts to the outer one

    def timed_call(owner, name: str, label: str) -> None:
        function = getattr(owner, name)

        def wrapper(*args, **kwargs):
            if active:
                return function(*args, **kwargs)
            active.append(label)
            start = time.process_time()
            try:
                return function(*args, **kwargs)
            finally:
                active.pop()
                spent[label] = spent.get(label, 0.0) + time.process_time() - start
        setattr(owner, name, wrapper)

    timed_call(adtos.presets.synth.SoundfontBank, "render", "synthesis (FluidSynth)")
    timed_call(adtos.presets.effects, "apply_effects", "effects (pedalboard)")
    timed_call(worker, "normalize_stem", "loudness (BS.1770)")
    timed_call(worker, "_write_audio", "FLAC encode + write")
    timed_call(worker, "load_voices", "MIDI parse")
    timed_call(worker, "midi_with_voices", "drum MIDI file")
    timed_call(worker, "sha256_file", "hash")
    # Per-onset audibility: the drum part's group renders and the band energies.
    timed_call(worker, "annotate_audibility", AUDIBILITY_STEP)
    table = pq.read_table(tracks / "tracks.parquet")
    work.mkdir(parents=True, exist_ok=True)
    for name, rows in (("warm", table.slice(0, 1)), ("profiled", table.slice(1, n))):
        subset = work / f"subset-{name}"
        shutil.copytree(tracks, subset, dirs_exist_ok=True)
        pq.write_table(rows, subset / "tracks.parquet")
        spent.clear()
        start = time.process_time()
        render_tracks(subset, presets, work / name, workers=1, progress=False)
        total = time.process_time() - start
    rows = [(label, seconds / n) for label, seconds in spent.items()]
    rows.append(("other (mix, copies, records)", (total - sum(spent.values())) / n))
    rows.append(("total per track", total / n))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tracks", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--profile-tracks", type=int, default=4)
    parser.add_argument("--work", type=Path, default=None, help="keep the files here")
    parser.add_argument("--profile-only", action="store_true",
                        help="only the per-step breakdown (no fluidsynth comparison)")
    parser.add_argument("--dry", action="store_true",
                        help="presets without effect chains: the pipeline's own cost over synthesis")
    args = parser.parse_args()
    if shutil.which("fluidsynth") is None and not args.profile_only:
        sys.exit("the fluidsynth program is not installed (Debian: apt install fluidsynth)")

    work = args.work or Path(tempfile.mkdtemp(prefix="bench_render."))
    work.mkdir(parents=True, exist_ok=True)
    tracks = make_tracks(work, args.tracks, args.seconds)
    presets_path = work / "presets.jsonl"
    presets = make_presets(presets_path, dry=args.dry)
    print(f"{args.tracks} tracks x {args.seconds:.0f} s, 4 voices; {len(presets)} presets "
          f"({', '.join(SOUNDFONTS)}, {'no effects' if args.dry else 'random effect chains'}); "
          f"work folder {work}")

    ours, bare, two = [], [], []
    stems = None
    for repeat in range(args.repeats if not args.profile_only else 0):
        for name in (f"a{repeat}", f"b{repeat}", f"c{repeat}"):
            shutil.rmtree(work / name, ignore_errors=True)
        ours.append(timed([adtos_render(tracks, presets_path, work / f"a{repeat}", 1)]))
        if stems is None:
            stems = stem_midis(tracks, work / "a0", presets, work / "stems")
        bare.append(timed(fluidsynth_commands(stems, work / f"b{repeat}")))
        two.append(timed([adtos_render(tracks, presets_path, work / f"c{repeat}", 2)]))
        print(f"repeat {repeat + 1}: (a) workers=1 {ours[-1][0]:.1f} s wall {ours[-1][1]:.1f} s CPU;"
              f" (b) fluidsynth {bare[-1][0]:.1f} s wall {bare[-1][1]:.1f} s CPU;"
              f" (c) workers=2 {two[-1][0]:.1f} s wall; load average {os.getloadavg()[0]:.1f}",
              flush=True)

    if args.profile_only:
        report_profile(args, tracks, presets, work)
        return
    import pyarrow.parquet as pq

    audio_s = sum(pq.read_table(work / "a0" / "render.parquet").column("duration").to_pylist())
    median = statistics.median
    a_wall, a_cpu = median(w for w, _ in ours), median(c for _, c in ours)
    b_wall, b_cpu = median(w for w, _ in bare), median(c for _, c in bare)
    c_wall = median(w for w, _ in two)
    print(f"\nmedians over {args.repeats} repeats, {len(stems)} stems, {audio_s:.0f} s of mixed audio")
    print(f"(a) adtos render --workers 1: {a_wall:.1f} s wall, {a_cpu:.1f} s CPU")
    print(f"(b) fluidsynth per stem:      {b_wall:.1f} s wall, {b_cpu:.1f} s CPU")
    # (c)'s CPU is not shown: pool workers are children of the forkserver, which
    # getrusage(RUSAGE_CHILDREN) of this process does not see.
    print(f"(c) adtos render --workers 2: {c_wall:.1f} s wall")
    print(f"ratio (b)/(a), CPU time:  {b_cpu / a_cpu:.2f}   (target >= 0.9)")
    print(f"ratio (b)/(a), wall time: {b_wall / a_wall:.2f}")
    print(f"speed-up workers 2 over 1 (wall): {a_wall / c_wall:.2f}   (target >= 1.8; "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f})")
    print(f"audio per CPU-second: {audio_s / a_cpu:.1f} s of mix "
          f"({4 * audio_s / a_cpu:.1f} s of stems); bare fluidsynth {4 * audio_s / b_cpu:.1f} s of stems")

    report_profile(args, tracks, presets, work)


def report_profile(args, tracks: Path, presets: list, work: Path) -> None:
    if args.profile_tracks > 0:  # 0 skips the breakdown
        print(f"\nwhere (a)'s time goes (CPU s per 4-voice track, in-process, mean of "
              f"{args.profile_tracks} tracks after a warm-up track):")
        rows = profile(tracks, presets, work, args.profile_tracks)
        total = rows[-1][1]
        for label, seconds in rows:
            print(f"  {label:36s} {seconds:6.3f} s  {100 * seconds / total:5.1f} %")
        audibility = dict(rows).get(AUDIBILITY_STEP, 0.0)
        print(f"hours of audio per CPU-hour: {args.seconds / total:.1f} with the audibility "
              f"measure, {args.seconds / (total - audibility):.1f} without it "
              f"({100 * audibility / (total - audibility):.0f} % more CPU)")
    if args.work is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

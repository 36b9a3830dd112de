"""What a drums render cannot go below: the floor under issue #23's ratio target.

    .venv/bin/python benchmarks/experiments/render_floor.py --tracks 20 --repeats 3

The target compares the whole `adtos render --voices drums --workers 1` process
with the bare `fluidsynth -ni` program on the same drum MIDI (ratio = fluidsynth
CPU / adtos CPU >= 5). Three costs of that process do not depend on how fast
the renderer's own code is, and this script measures each, in CPU seconds:

  start    a fresh Python process importing what a render imports (the CLI,
           the render stage, FluidSynth's binding, scipy.signal, pedalboard,
           soundfile, pyarrow), nothing rendered;
  flac     writing each track's 60 s stereo mix as 16-bit FLAC at the level the
           renderer uses (the bare program writes WAV);
  fluid    FluidSynth itself on the tracks whose drum preset is a soundfont kit
           (35 % of presets/default.jsonl's drum presets): at best those tracks
           cost what the bare program spends on them.

Their sum over `--tracks` tracks divided into the bare program's time is the
highest ratio any renderer of this output with this library could reach. It
also times the tracks rendered with only the sampled-kit drum presets and only
the soundfont-kit ones (the same tracks), so the two families' ratios are
known apart. The tracks are bench_render_default.py's (GMD + POP909, 60 s).

Answer (benchmarks/results/render.md, "The floor under the drums ratio"): on
20 tracks, start 1.68 + FLAC 1.49 + the 8 soundfont-kit tracks 4.40 = 7.57 CPU-s
against the bare program's 11.00: no renderer can exceed a ratio of 1.45 with
this library and output (target 5); `adtos render` reaches 0.71.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "benchmarks"))
sys.path.insert(0, str(REPO / "tools"))

from bench_render import timed  # noqa: E402
from bench_render_default import drum_midis, fluidsynth, make_tracks, render  # noqa: E402

IMPORTS = ("import adtos.cli, adtos.render.pipeline, adtos.render.worker, adtos.presets.sampler, "
           "adtos.presets.synth, fluidsynth, scipy.signal, pedalboard, soundfile, pyarrow.parquet")


def cpu_of(command: list[str]) -> float:
    return timed([command])[1]


def split_library(library: Path, out: Path) -> dict[str, Path]:
    """The default library with only its sampled-kit drum presets, and with only its
    soundfont-kit ones (every other preset kept in both)."""
    from adtos.presets import load_presets, save_presets
    from derive_library import without_sampled_kits

    presets = load_presets(library)
    families = {"sampled": [p for p in presets if p.role != "drums" or p.sampled],
                "soundfont": without_sampled_kits(presets)}
    paths = {}
    for name, family in families.items():
        paths[name] = out / f"{name}.jsonl"
        save_presets(family, paths[name])
    return paths


def flac_cpu(audio_dir: Path) -> float:
    """CPU seconds to write every mix of `audio_dir` again as FLAC, as the renderer does."""
    import soundfile

    from adtos.render.worker import FLAC_COMPRESSION_LEVEL, PCM_SUBTYPE

    mixes = [soundfile.read(path, dtype="float32")[0] for path in sorted(audio_dir.glob("*.flac"))]
    with tempfile.TemporaryDirectory() as scratch:
        start = time.process_time()
        for k, mix in enumerate(mixes):
            soundfile.write(Path(scratch) / f"{k}.flac", mix, 44100, subtype=PCM_SUBTYPE,
                            format="FLAC", compression_level=FLAC_COMPRESSION_LEVEL)
        return time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tracks", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--work", type=Path, default=None)
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="adtos_floor_"))
    work.mkdir(parents=True, exist_ok=True)
    tracks = make_tracks(work, args.tracks, args.seconds)
    midis = drum_midis(tracks, work / "drum-midi")
    libraries = {"default": REPO / "presets" / "default.jsonl",
                 **split_library(REPO / "presets" / "default.jsonl", work)}
    rows: dict[str, list[float]] = {name: [] for name in
                                    ("bare", "start", "flac", *libraries)}
    soundfont_tracks: set[str] = set()
    for repeat in range(args.repeats):
        rows["bare"].append(timed(fluidsynth(midis, work / "fluid"))[1])
        rows["start"].append(cpu_of([sys.executable, "-c", IMPORTS]))
        for name, library in libraries.items():
            rows[name].append(cpu_of(render(tracks, library, work / f"out-{name}", drums=True)))
        rows["flac"].append(flac_cpu(work / "out-default" / "audio"))
        if repeat == 0:  # which tracks the default library gives a soundfont kit
            import pyarrow.parquet as pq

            from adtos.presets import load_presets

            kinds = {p.id: p.source["type"] for p in load_presets(libraries["default"])}
            for row in pq.read_table(work / "out-default" / "render.parquet").to_pylist():
                if kinds[row["drum_preset"]] != "kit":
                    soundfont_tracks.add(row["track_id"])
        print(f"repeat {repeat + 1}: " + ", ".join(f"{k} {v[-1]:.2f}" for k, v in rows.items())
              + f"; load {os.getloadavg()[0]:.1f}", flush=True)
    median = {k: statistics.median(v) for k, v in rows.items()}
    bare = median["bare"]
    share = len(soundfont_tracks) / args.tracks
    floor = median["start"] + median["flac"] + share * bare
    print(f"\nmedians of {args.repeats} (CPU s, {args.tracks} tracks x {args.seconds:g} s):")
    print(f"  bare fluidsynth, drum MIDI            {bare:7.2f}")
    print(f"  process start and imports            {median['start']:7.2f}")
    print(f"  FLAC writing of the mixes            {median['flac']:7.2f}")
    print(f"  soundfont-kit tracks ({len(soundfont_tracks)} of {args.tracks}) at the bare program's cost "
          f"{share * bare:6.2f}")
    print(f"  floor (their sum)                    {floor:7.2f}  -> highest reachable ratio "
          f"{bare / floor:.2f} (target 5)")
    for name in libraries:
        print(f"  adtos render, {name:9s} drum kits    {median[name]:7.2f}  ratio {bare / median[name]:.2f}")


if __name__ == "__main__":
    main()

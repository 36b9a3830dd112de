"""Benchmark `adtos stats`: 1,000 tracks of 60–180 s (and MDB Drums when present).

    .venv/bin/python benchmarks/bench_stats.py [--tracks 1000] [--data DIR] [--repeats 3]

The dataset is an ADTOS-layout folder (annotations .txt/.mid, midi/, manifest,
no audio: stats reads no audio) made from Groove MIDI Dataset takes looped to
length, or from humanized rock patterns when the GMD is absent. Making it is
not timed; reading the dataset and computing every table and plot is.

Recorded in benchmarks/results/stats.md, "`adtos stats` benchmark"; the summary
row "#6 stats" of benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from adtos.datasets import load_dataset  # noqa: E402
from adtos.datasets.testing import rock_beat, write_adtos_track, write_manifest  # noqa: E402
from adtos.midi import read_midi_file  # noqa: E402
from adtos.stats import compare_datasets  # noqa: E402
from adtos.vocab import GMD_TO_GM  # noqa: E402


def gmd_takes(groove: Path) -> list[tuple[list[tuple[float, int, int]], float, float, str]]:
    """(notes in qn, length in qn, bpm, style) of each 4/4 GMD beat take."""
    takes = []
    with open(groove / "info.csv") as handle:
        for row in csv.DictReader(handle):
            if row["beat_type"] != "beat" or row["time_signature"] != "4-4":
                continue
            midi = read_midi_file(groove / row["midi_filename"])
            qn = midi.notes.start_tick / midi.ticks_per_beat
            pitches = [GMD_TO_GM.get(int(p), int(p)) for p in midi.notes.pitch]
            notes = list(zip(qn.tolist(), pitches, midi.notes.velocity.tolist()))
            length = np.ceil(max(qn.max(), 1) / 4) * 4 if len(notes) else 0
            if len(notes) >= 16:
                takes.append((notes, float(length), float(row["bpm"]), row["style"].split("/")[0]))
    return takes


def make_dataset(out: Path, n_tracks: int, groove: Path | None, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    takes = gmd_takes(groove) if groove and (groove / "info.csv").exists() else []
    rows = []
    for i in range(n_tracks):
        duration = rng.uniform(60, 180)
        if takes:
            notes, length, bpm, style = takes[int(rng.integers(len(takes)))]
        else:  # humanized rock beats, straight or swung
            bpm, style = float(rng.uniform(70, 180)), "rock"
            notes = [(qn + rng.normal(0, 0.02), p, int(np.clip(v + rng.normal(0, 10), 1, 127)))
                     for qn, p, v in rock_beat(8, swing=0.5 if rng.random() < 0.7 else 2 / 3)]
            length = 32.0
        total_qn = duration * bpm / 60
        looped = [(max(0.0, qn + k * length), p, v) for k in range(int(total_qn // length) + 1)
                  for qn, p, v in notes if qn + k * length < total_qn]
        track_id = f"train{i:05d}"
        write_adtos_track(out, track_id, looped, tempi=[(0.0, bpm)])
        rows.append({"track_id": track_id, "split": "train", "tempo": bpm, "meter": "4/4",
                     "genre": style})
    write_manifest(out, rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tracks", type=int, default=1000)
    parser.add_argument("--data", type=Path, help="keep (or reuse) the generated dataset here")
    parser.add_argument("--groove", type=Path, default=REPO.parent / "shared" / "data" / "groove")
    parser.add_argument("--mdb", type=Path, default=REPO.parent / "shared" / "data" / "mdb_drums")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    data = args.data or Path(tempfile.mkdtemp(prefix="bench_stats_")) / "ours"
    if not (data / "manifest.parquet").exists():
        start = time.perf_counter()
        make_dataset(data, args.tracks, args.groove if args.groove.exists() else None)
        print(f"made {args.tracks} tracks in {data} ({time.perf_counter() - start:.1f} s, not timed)")

    # Wall time is what a user waits; CPU time of this process is reported too
    # because the development machine is shared and its wall times are noisy.
    read_times, stats_times, cpu_times = [], [], []
    for repeat in range(args.repeats):
        cpu = time.process_time()
        start = time.perf_counter()
        datasets = [load_dataset("adtos", data, name="ours")]
        if args.mdb.exists():
            datasets.append(load_dataset("mdb", args.mdb, name="mdb"))
        read_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        stats, written = compare_datasets(datasets, data.parent / "stats_out", per_class=True,
                                          per_genre=True)
        stats_times.append(time.perf_counter() - start)
        cpu_times.append(time.process_time() - cpu)
        print(f"run {repeat + 1}: read {read_times[-1]:.1f} s, stats+plots {stats_times[-1]:.1f} s "
              f"(wall); {cpu_times[-1]:.1f} s CPU")
    ours = stats[0]
    hours = sum(t.onsets.max() for t in datasets[0].tracks if t.onsets.size) / 3600
    print(f"dataset: {len(datasets[0])} tracks, {hours:.1f} h, {int(ours.class_counts.sum()):,} "
          f"onsets, {ours.beats_with_drums:,} beats, {ours.fingerprints.size:,} unique fingerprints")
    total = [r + s for r, s in zip(read_times, stats_times)]
    print(f"median over {args.repeats}: read {statistics.median(read_times):.1f} s, "
          f"stats+plots {statistics.median(stats_times):.1f} s, "
          f"total {statistics.median(total):.1f} s wall (budget 60 s), "
          f"{statistics.median(cpu_times):.1f} s CPU; {len(written)} files")


if __name__ == "__main__":
    main()

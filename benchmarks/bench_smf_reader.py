"""Read every Groove MIDI Dataset file with adtos.midi, mido and pretty_midi; print CPU seconds.

    .venv/bin/python benchmarks/bench_smf_reader.py [GROOVE_DIR] [--repeat 3]

GROOVE_DIR defaults to $ADTOS_SHARED_DATA/groove or ../shared/data/groove
beside the repository. Each reader gets the file bytes already in memory
(mido from a BytesIO), so only parsing is timed; the figures are medians over
the repeats of process CPU time, and the ratios are taken within one run.

    adtos.midi parse_smf    the byte walker alone (typed events per track)
    adtos.midi read         read_midi_file: + note pairing, tempo and meter maps
    mido                    mido.MidiFile: one message object per event
    pretty_midi             pretty_midi.PrettyMIDI: mido + its object model

Recorded in benchmarks/results/index.md, "MIDI reader (`adtos.midi`) and the
Room convolution"; the summary row "#15 MIDI" of benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import tempfile
import time
from pathlib import Path

import mido
import pretty_midi

from adtos.midi import parse_smf, read_midi_file

REPO = Path(__file__).resolve().parents[1]


def default_groove_dir() -> Path:
    root = Path(os.environ.get("ADTOS_SHARED_DATA", REPO.parent / "shared" / "data"))
    return root / "groove"


def cpu_seconds(read, items) -> float:
    start = time.process_time()
    for item in items:
        read(item)
    return time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("groove_dir", nargs="?", type=Path, default=default_groove_dir())
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-pretty-midi", action="store_true", help="the slowest reader; skip it")
    args = parser.parse_args()
    files = sorted(args.groove_dir.rglob("*.mid"))
    if not files:
        raise SystemExit(f"no .mid files under {args.groove_dir}; pass the Groove MIDI Dataset folder")
    blobs = [path.read_bytes() for path in files]
    with tempfile.TemporaryDirectory() as tmp:
        # read_midi_file reads from disk; a page-cached copy keeps the disk out of the timing.
        copies = []
        for k, blob in enumerate(blobs):
            copies.append(Path(tmp) / f"{k}.mid")
            copies[-1].write_bytes(blob)
        readers = {
            "adtos.midi parse_smf": (parse_smf, blobs),
            "adtos.midi read": (read_midi_file, copies),
            "mido": (lambda blob: mido.MidiFile(file=io.BytesIO(blob)), blobs),
        }
        if not args.skip_pretty_midi:
            readers["pretty_midi"] = (lambda blob: pretty_midi.PrettyMIDI(io.BytesIO(blob)), blobs)
        runs: dict[str, list[float]] = {name: [] for name in readers}
        for _ in range(args.repeat):
            for name, (read, items) in readers.items():
                runs[name].append(cpu_seconds(read, items))
    print(f"{len(files)} files, {sum(map(len, blobs)) / 1e6:.1f} MB, load {os.getloadavg()[0]:.1f}, "
          f"median of {args.repeat}")
    ours = statistics.median(runs["adtos.midi read"])
    for name, seconds in runs.items():
        median = statistics.median(seconds)
        print(f"  {name:22s} {median:7.2f} CPU-s   {median / ours:5.2f}× adtos.midi read")


if __name__ == "__main__":
    main()

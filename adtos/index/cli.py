"""`adtos index` and `adtos make-loops`.

The stage's own modules are imported inside the handlers, so that building the
parser stays instant: `adtos CMD` imports only its command's cli module, and
`adtos --help` every one of them (tests/test_cli.py).
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

from adtos.cli import CLIError


def register(subparsers) -> None:
    index = subparsers.add_parser(
        "index", help="index a MIDI loop library into a Parquet table of bar-aligned loops",
        description="Scan LIBRARY_DIR for MIDI performances, cut them at bar lines into loops of "
        "--loop-bars bars, and write one row per loop (role, genre, theme, tempo, meter, key, "
        "humanness figures and the notes themselves). Files that cannot be used are skipped and "
        "listed, with the reason, in <out stem>.errors.csv beside the index.")
    index.add_argument("library_dir", metavar="LIBRARY_DIR", type=Path, help="folder of the library")
    index.add_argument("--kind", choices=("auto", "groove", "pop909", "generic"), default="auto",
                       help="library adapter: groove (Groove MIDI Dataset, reads info.csv), pop909 "
                       "(PIANO track, beat_midi.txt bars, key_audio.txt keys), generic (roles, genre and "
                       "tempo from folder names, file names and the MIDI). auto picks groove when there "
                       "is an info.csv, pop909 when song folders hold key_audio.txt, else generic "
                       "(default: %(default)s)")
    index.add_argument("--out", type=Path, default=None,
                       help="output Parquet file (default: loops_index/<folder name>.parquet)")
    index.add_argument("--loop-bars", type=int, choices=(1, 2, 4, 8), default=4,
                       help="loop length in bars; the tail of a performance is cut into the largest "
                       "of 8/4/2/1 bars that fits (default: %(default)s)")
    index.add_argument("--workers", type=int, default=None,
                       help="worker processes (default: number of CPUs; 1 = no pool)")
    index.add_argument("--library", default=None,
                       help="library name used in the `library` column and loop ids (default: folder name)")
    index.add_argument("--strict", action="store_true",
                       help="stop at the first bad input instead of skipping and reporting it")
    index.set_defaults(func=run_index)

    pack = subparsers.add_parser(
        "make-loops", help="write the built-in generated loop pack (drums, piano, bass)",
        description="Generate the project's own MIDI loop library: drums in several styles and meters, "
        "piano comping and bass lines over chord progressions in several keys, with human timing "
        "and velocity. Folder and file names carry role, genre, tempo and key, so "
        "`adtos index OUT_DIR --kind generic` reads them. The same seed gives byte-identical files.")
    pack.add_argument("out_dir", metavar="OUT_DIR", type=Path, help="folder to write the pack into")
    pack.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")
    pack.set_defaults(func=run_make_loops)


def run_index(args: argparse.Namespace) -> int:
    from .library import LibraryError, index_library
    from .schema import errors_path, write_loop_index

    out = args.out or Path("loops_index") / f"{args.library or args.library_dir.resolve().name}.parquet"
    if out.suffix != ".parquet":
        raise CLIError(f"--out {out}: expected a .parquet file name")
    if args.workers is not None and args.workers < 1:
        raise CLIError(f"--workers {args.workers}: expected a positive number")
    try:
        index = index_library(args.library_dir, args.kind, loop_bars=args.loop_bars, workers=args.workers,
                              strict=args.strict, library=args.library, progress=sys.stderr.isatty())
    except LibraryError as error:
        raise CLIError(str(error)) from None
    # A run killed while writing left `.<stem>.*.partial.parquet` beside the index.
    for leftover in out.parent.glob(f".{out.stem}.*.partial*"):
        leftover.unlink(missing_ok=True)
    write_loop_index(index, out)
    sources = len(set(index.loops.column("source").to_pylist()))
    print(f"{len(index)} loops from {sources} files → {out}")
    if index.errors:
        print(f"{len(index.errors)} skipped (files or empty loops), reasons in {errors_path(out)}:")
        reasons = Counter(_reason_kind(reason) for _, reason in index.errors)
        for reason, count in reasons.most_common():
            print(f"  {count:6d}  {reason}")
    return 0


def _reason_kind(reason: str) -> str:
    """Group reasons for the console: `loop 4-8: no notes` → `loop: no notes`."""
    if reason.startswith("loop "):
        return "loop: " + reason.split(": ", 1)[-1]
    return reason.split(" (", 1)[0]


def run_make_loops(args: argparse.Namespace) -> int:
    from .pack import make_loop_pack

    paths = make_loop_pack(args.out_dir, seed=args.seed)
    print(f"{len(paths)} MIDI files → {args.out_dir}")
    return 0

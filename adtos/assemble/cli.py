"""`adtos assemble`: loop indexes -> themed multi-voice tracks.

The stage's own modules are imported inside the handlers, so that building the
parser stays instant: `adtos CMD` imports only its command's cli module, and
`adtos --help` every one of them (tests/test_cli.py).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from adtos.cli import CLIError


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "assemble",
        help="assemble multi-voice tracks (MIDI + drum annotations) from loop indexes",
        description="Assemble tracks section by section from loop indexes (made by `adtos index`). "
        "Each section starts from a drum loop (its tempo, meter, genre and theme); piano, bass and "
        "guitar loops of close tempo, the same meter and a length dividing the section are layered "
        "on it, transposed to the track key. Loops are drawn by a distance that adds the "
        "compatibility cost and how often the loop was already used, so the library is covered "
        "evenly. Writes OUT/midi/<id>.mid, OUT/annotations/<id>.txt (time, GM note, class), "
        "OUT/tracks.parquet (one row per track: loops used, tempi, meter, key, theme) and "
        "OUT/assemble.json. Same indexes, options and seed give byte-identical files.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--index", action="append", required=True, metavar="PARQUET",
                        default=argparse.SUPPRESS,
                        help="a loop index file; repeat to combine libraries (e.g. drums from GMD, "
                        "piano from POP909)")
    parser.add_argument("--out", required=True, metavar="DIR", default=argparse.SUPPRESS, help="output folder")
    parser.add_argument("--tracks", type=int, default=10, help="number of tracks")
    parser.add_argument("--duration", type=float, default=60.0, metavar="SECONDS",
                        help="track length; a track ends at the first bar line at or after it")
    parser.add_argument("--voices", type=int, default=4, choices=(1, 2, 3, 4),
                        help="1 = drums, 2 = + piano, 3 = + bass, 4 = + guitar; bass and guitar are "
                        "derived (bass from harmony and kick, guitar from piano loops) when the "
                        "index has no compatible loops of that role")
    parser.add_argument("--lead", action="store_true",
                        help="add a lead voice: the melody of each piano loop's own song section "
                        "(role lead, POP909's MELODY); needs --voices >= 2")
    parser.add_argument("--bridge", action="store_true",
                        help="add a second melodic voice from the same section (role bridge, "
                        "POP909's BRIDGE); needs --voices >= 2")
    parser.add_argument("--seed", type=int, default=0, help="random seed (>= 0)")
    parser.add_argument("--split", default="train", choices=("train", "val", "test"),
                        help="draw only loops of this split, so validation tracks use unseen MIDI")
    parser.add_argument("--prefix", default=argparse.SUPPRESS,
                        help="track id prefix (ids are PREFIX + 5 digits); default: the split")
    parser.add_argument("--quantize", action="store_true",
                        help="ablation: drum onsets on the 16th-note grid and drum velocities 100 or "
                        "127; the same loops are placed in the same places as without it")
    parser.add_argument("--meter", action="append", default=argparse.SUPPRESS, metavar="N/D",
                        help="allow only this meter (repeatable); default: every meter in the index")
    parser.add_argument("--section-bars", type=int, nargs=2, default=(4, 16), metavar=("MIN", "MAX"),
                        help="shortest and longest section in bars")
    parser.add_argument("--tempo-tolerance", type=float, default=0.08, metavar="FRACTION",
                        help="largest relative tempo difference between a layered loop and the "
                        "section's drum loop (0.08 = ±8%%)")
    parser.add_argument("--usage-weight", type=float, default=1.0,
                        help="weight of the usage term (uses / mean uses of the role) in the distance")
    parser.add_argument("--selection-noise", type=float, default=0.5,
                        help="draw among candidates within this distance of the nearest")
    parser.add_argument("--resolution", type=int, default=480, help="MIDI ticks per quarter note")
    parser.set_defaults(func=run)


def read_indexes(paths: list[str]):
    """Read and concatenate loop indexes, keeping the columns the assembler uses."""
    import pyarrow as pa

    from adtos.assemble.library import REQUIRED_COLUMNS, check_loop_table
    from adtos.assemble.options import AssembleError

    tables = []
    for path in paths:
        if not Path(path).is_file():
            raise CLIError(f"loop index {path}: no such file (make one with `adtos index`)")
        try:
            from adtos.index import read_loop_index
        except ImportError:
            read_loop_index = None
        try:
            if read_loop_index is not None:
                table = read_loop_index(path)
            else:
                import pyarrow.parquet as pq

                table = pq.read_table(path)
            tables.append(check_loop_table(table, f"loop index {path}"))
        except AssembleError as error:
            raise CLIError(str(error)) from None
        except CLIError:
            raise
        except (OSError, pa.ArrowException, ValueError) as error:
            raise CLIError(f"loop index {path}: {error}") from None
    table = pa.concat_tables(tables)
    return table.select(list(REQUIRED_COLUMNS))


def run(args) -> int:
    from adtos.assemble.options import AssembleError, AssembleOptions
    from adtos.assemble.tracks import assemble_tracks

    if (args.lead or args.bridge) and args.voices < 2:
        raise CLIError("--lead and --bridge play beside the piano: they need --voices 2 or more")
    try:
        options = AssembleOptions(
            tracks=args.tracks, duration=args.duration, voices=args.voices, seed=args.seed,
            lead=args.lead, bridge=args.bridge,
            quantize=args.quantize, split=args.split, id_prefix=getattr(args, "prefix", None),
            section_bars=tuple(args.section_bars), tempo_tolerance=args.tempo_tolerance,
            meters=tuple(getattr(args, "meter", ())), usage_weight=args.usage_weight,
            selection_noise=args.selection_noise, resolution=args.resolution)
    except AssembleError as error:
        raise CLIError(str(error)) from None
    loops = read_indexes(args.index)
    try:
        tracks = assemble_tracks(loops, args.out, options, sources=list(args.index), progress=True)
    except AssembleError as error:
        raise CLIError(str(error)) from None
    derived = sorted({v for row in tracks.column("derived_voices").to_pylist() for v in row})
    print(f"wrote {tracks.num_rows} tracks to {args.out}"
          + (f" (derived voices: {', '.join(derived)})" if derived else ""))
    return 0

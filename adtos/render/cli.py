"""`adtos render`: assembled tracks + a preset library → audio, stems and annotations.

The stage's own modules are imported inside the handlers, so that building the
parser stays instant: `adtos CMD` imports only its command's cli module, and
`adtos --help` every one of them (tests/test_cli.py).
"""

from __future__ import annotations

import argparse

from adtos.cli import CLIError

VOICE_CHOICES = ("drums", "piano", "bass", "guitar", "lead", "bridge")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "render",
        help="render assembled tracks to audio (per stem, EBU R128 loudness, mix)",
        description="Render each voice of each track alone with its preset (FluidSynth, reverb "
        "and chorus off unless the preset asks), apply the preset's effect chain, normalize the "
        "stem to a target integrated loudness, mix, scale the mix down if it would clip, and "
        "write audio/<id>.flac, annotations/<id>.txt and .mid, midi/<id>.mid, render.parquet "
        "(presets, loudness, gain, hash per track) and render_errors.csv. Stopped and started "
        "again, it renders only the tracks not yet done.",
    )
    parser.add_argument("tracks_dir", metavar="TRACKS_DIR",
                        help="assembled-tracks folder (midi/, annotations/, tracks.parquet), "
                        "as written by `adtos assemble`")
    parser.add_argument("--presets", required=True, metavar="FILE",
                        help="preset library, e.g. presets/default.jsonl")
    parser.add_argument("--out", required=True, metavar="DIR", help="output folder")
    parser.add_argument("--voices", nargs="+", choices=VOICE_CHOICES, metavar="VOICE",
                        help="render only these voices (drums piano bass guitar lead bridge); default: every "
                        "voice of each track. The preset choice does not change with it")
    parser.add_argument("--workers", type=int, default=None, metavar="K",
                        help="worker processes (or Ray actors); default: every CPU; 1 renders in "
                        "this process")
    parser.add_argument("--executor", choices=("local", "ray"), default="local",
                        help="local: a process pool on this machine (default); ray: Ray tasks "
                        "(needs pip install 'adtos[ray]')")
    parser.add_argument("--address", metavar="ADDR",
                        help="with --executor ray: address of an existing Ray cluster; default: "
                        "start a local Ray")
    parser.add_argument("--sample-rate", type=int, default=44100, metavar="HZ",
                        help="sample rate in Hz (default 44100)")
    parser.add_argument("--format", dest="fmt", choices=("flac", "wav"), default="flac",
                        help="audio file format, 16-bit PCM (default flac)")
    parser.add_argument("--stems", action="store_true",
                        help="also write each voice's stem to stems/<id>/<voice>.<format> (at its "
                        "level in the mix before the master bus; the clip-guard gain is not applied)")
    parser.add_argument("--drum-stems", action="store_true",
                        help="also write one stem per drum class to drum_stems/<id>/<CLASS>.<format> "
                        "(BD, SD, TT, HH, CY, other: the classes the track plays), each at its "
                        "level in the mix before the master bus; the drum preset's effect chain "
                        "runs on each class alone, so with a compressor or distortion they do not "
                        "sum exactly to the drum stem (render.parquet: drum_stems_residual_db)")
    parser.add_argument("--target-lufs", type=float, default=-23.0, metavar="LUFS",
                        help="integrated loudness of every stem (default -23, EBU R128)")
    parser.add_argument("--balance-db", type=float, nargs=2, metavar=("LOW", "HIGH"),
                        help="draw drums minus accompaniment per track in [LOW, HIGH] LU (e.g. -12 0) "
                        "instead of every stem at the target loudness (docs/render.md, Mix)")
    parser.add_argument("--master", action="store_true",
                        help="master bus: EQ, glue compression and a limiter to a drawn loudness")
    parser.add_argument("--master-lufs", type=float, nargs=2, metavar=("LOW", "HIGH"),
                        default=None, help="with --master: range of the master's integrated "
                        "loudness in LUFS (default -18 -8)")
    parser.add_argument("--cymbals-db", type=float, nargs=2, metavar=("LOW", "HIGH"),
                        help="draw the hi-hats' and cymbals' gain against the rest of the kit per "
                        "track in [LOW, HIGH] dB (e.g. -12 0); labels follow (docs/render.md, Mix)")
    parser.add_argument("--cymbals-shelf-db", type=float, nargs=2, metavar=("LOW", "HIGH"),
                        help="draw a high shelf at 5 kHz on the hi-hats and cymbals per track in "
                        "[LOW, HIGH] dB (e.g. -9 0: darker)")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed of the preset assignment and the drawn mix (default 0)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from adtos.render.pipeline import render_tracks
    from adtos.render.inputs import RenderInputError

    from adtos.render.mix import DEFAULT_MASTER_LUFS, MixOptions

    if args.address and args.executor != "ray":
        raise CLIError("--address is for --executor ray")
    if args.master_lufs is not None and not args.master:
        raise CLIError("--master-lufs is for --master")
    try:
        mix = MixOptions(balance_db=tuple(args.balance_db) if args.balance_db else None,
                         master=args.master, master_lufs=tuple(args.master_lufs or DEFAULT_MASTER_LUFS),
                         cymbals_db=tuple(args.cymbals_db) if args.cymbals_db else None,
                         cymbals_shelf_db=tuple(args.cymbals_shelf_db) if args.cymbals_shelf_db else None)
    except ValueError as error:
        message = str(error)
        for name in ("balance_db", "master_lufs", "cymbals_shelf_db", "cymbals_db"):
            message = message.replace(f"{name}:", f"--{name.replace('_', '-')}:")
        raise CLIError(message) from error
    try:
        report = render_tracks(args.tracks_dir, args.presets, args.out, voices=args.voices,
                               workers=args.workers, executor=args.executor, address=args.address,
                               sample_rate=args.sample_rate, fmt=args.fmt, stems=args.stems,
                               target_lufs=args.target_lufs, mix=mix, seed=args.seed,
                               drum_stems=args.drum_stems,
                               progress=not args.no_progress)
    except (RenderInputError, FileNotFoundError) as error:
        raise CLIError(str(error)) from error
    except ValueError as error:  # a malformed preset library names its file and line
        raise CLIError(str(error)) from error
    print(f"rendered {len(report.rendered)} tracks, {len(report.skipped)} already done, "
          f"{len(report.failed)} failed -> {report.out_dir}")
    if report.failed:
        print(f"failures listed in {report.out_dir / 'render_errors.csv'}:")
        for track_id, reason in report.failed[:10]:
            print(f"  {track_id}: {reason}")
    # Any failed track makes the run fail: a script must not mistake 13 of 16 tracks
    # for a finished dataset. A rerun renders only the failed ones.
    return 1 if report.failed else 0

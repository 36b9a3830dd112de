"""`adtos build` and `adtos subset`.

The stage's own modules are imported inside the handlers, so that building the
parser stays instant: `adtos CMD` imports only its command's cli module, and
`adtos --help` every one of them (tests/test_cli.py).
"""

from __future__ import annotations

import argparse
import sys
import tomllib

from adtos.cli import CLIError


def register(subparsers: argparse._SubParsersAction) -> None:
    build = subparsers.add_parser(
        "build", help="build a dataset from a TOML config (index → assemble → render)",
        description="Build a dataset folder from one TOML config: index the loop libraries, "
        "make or read the preset library, assemble train and validation tracks, render them, "
        "and write manifest.parquet, config.toml and a README.md dataset card. A build that "
        "was stopped resumes where it stopped when run again with the same config and --out. "
        "See configs/ for examples.")
    build.add_argument("config", help="the build config (.toml); its paths are relative to "
                       "the file's folder")
    build.add_argument("--out", required=True, help="dataset folder to write (or resume)")
    build.add_argument("--workers", type=int, default=None,
                       help="parallel processes for indexing and rendering (default: all cores)")
    build.add_argument("--executor", choices=("local", "ray"), default="local",
                       help="where render jobs run: a local process pool or a Ray cluster")
    build.add_argument("--address", default=None,
                       help="Ray cluster address (with --executor ray; default: start one)")
    build.add_argument("--variant", action="append", default=[], metavar="KEY=VALUE",
                       help="render the tracks of the base build in --out again, into a "
                       "sibling folder: voices=1..4 (fewer voices; OUT.voices1) or "
                       "quantize=true (drums on the 16th grid; OUT.quantized). Repeatable")
    build.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                       dest="overrides",
                       help="override one config value, as TOML (e.g. --set tracks.train=64 "
                       "--set tracks.duration=60.0). Repeatable")
    build.set_defaults(func=run_build)

    subset = subparsers.add_parser(
        "subset", help="list the tracks of a preset-ablation subset (P drum presets × R uses)",
        description="Select training tracks whose drum preset is among the first P presets "
        "(ranked by first use in track-id order), at most R tracks per preset, and write "
        "their ids one per line. Train on the subset with DATASET:LIST.txt. When the dataset "
        "has fewer presets than P or fewer tracks per preset than R, nothing is written "
        "(see configs/ablation_presets.toml for a build made for this ablation).")
    subset.add_argument("dataset", help="dataset folder built by `adtos build`")
    subset.add_argument("--drum-presets", type=int, required=True, metavar="P",
                        help="how many drum presets to keep")
    subset.add_argument("--reuse", type=int, default=None, metavar="R",
                        help="at most this many tracks per preset (default: all)")
    subset.add_argument("--split", default="train", help="split to select from (default: train)")
    subset.add_argument("--out", required=True, help="text file to write, one track id a line")
    subset.add_argument("--allow-fewer", action="store_true",
                        help="write the subset even when the dataset cannot give P presets "
                        "x R tracks (with a warning)")
    subset.set_defaults(func=run_subset)


def parse_overrides(items: list[str]) -> dict[str, object]:
    overrides = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or "." not in key:
            raise CLIError(f"--set {item!r}: expected SECTION.KEY=VALUE, e.g. tracks.train=64")
        try:
            overrides[key.strip()] = tomllib.loads(f"v = {value.strip()}")["v"]
        except tomllib.TOMLDecodeError:
            overrides[key.strip()] = value.strip()  # a bare word is a string
    return overrides


def run_build(args: argparse.Namespace) -> int:
    from adtos.build.config import load_config

    config = load_config(args.config, overrides=parse_overrides(args.overrides))
    if args.workers is not None and args.workers < 1:
        raise CLIError(f"--workers: expected an integer >= 1, got {args.workers}")
    if args.variant:
        from adtos.build.variants import build_variant, parse_variants

        report = build_variant(config, args.out, parse_variants(args.variant),
                               workers=args.workers, executor=args.executor,
                               address=args.address)
    else:
        from adtos.build.pipeline import build_dataset

        report = build_dataset(config, args.out, workers=args.workers, executor=args.executor,
                               address=args.address)
    print(report.summary())
    for track_id, reason in report.failed[:10]:
        print(f"  {track_id}: {reason}")
    # Any failed track makes the build fail (the dataset is incomplete); rerun to retry them.
    return 1 if report.tracks == 0 or report.failed else 0


def run_subset(args: argparse.Namespace) -> int:
    from adtos.build.subset import read_manifest, select_subset, write_track_list

    manifest = read_manifest(args.dataset)
    try:
        subset = select_subset(manifest, args.drum_presets, args.reuse, split=args.split)
    except ValueError as error:
        raise CLIError(str(error)) from None
    if not subset.track_ids:
        raise CLIError(f"{args.dataset}: no {args.split} tracks with a drum preset")
    shortfall = subset.shortfall()
    if shortfall and not args.allow_fewer:
        raise CLIError(f"{args.dataset}: {shortfall}; nothing written to {args.out} "
                       "(--allow-fewer writes what there is)")
    if shortfall:
        print(f"adtos subset: warning: {shortfall}", file=sys.stderr)
    write_track_list(subset.track_ids, args.out)
    print(subset.summary())
    print(f"wrote {len(subset.track_ids)} track ids to {args.out}")
    return 0

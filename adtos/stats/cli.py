"""`adtos stats`: compare datasets the way the paper's Figure 1 and Appendix A do.

The stage's own modules are imported inside the handlers, so that building the
parser stays instant: `adtos CMD` imports only its command's cli module, and
`adtos --help` every one of them (tests/test_cli.py).
"""

from __future__ import annotations

import argparse
import warnings

from adtos.cli import CLIError
from adtos.plotting import PLOT_FORMATS

EPILOG = """\
DATASET is [NAME=][KIND:]PATH. KIND is adtos (default), mdb, enst, rbma13 or
adtof; NAME labels the dataset in tables and plots (default: the folder name);
PATH:LIST.txt keeps only the track ids listed in LIST.txt.

examples:
  adtos stats out/ds quantized=out/ds_quantized mdb:../shared/data/mdb_drums --out stats/
  adtos stats ours=out/ds:out/ds/val.txt enst:ENST-drums-public --out stats/ --per-class

writes under --out: summary.csv, tempo.csv, velocity.csv, intervals.csv,
meter.csv, classes.csv, fingerprints.csv (most common beats), coverage_beats.csv,
coverage_unique.csv (rows: source, columns: target), with --per-class
intervals_per_class.csv and velocity_per_class.csv, with --per-genre genres.csv;
and tempo.png, velocity.png, intervals.png, meter.png, classes.png, coverage.png
(+ *_per_class.png; .svg or .pdf with --format); with --audibility
audibility_per_class.csv, audibility_shares.csv and audibility_per_class.png.
Datasets without beat annotations are reported as 'no
beats' for tempo, intervals and fingerprints, never guessed.
"""


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "stats", help="compare datasets: tempo, velocity, intervals, meter, classes, beat coverage",
        description="Distributions (tempo, velocity, onset interval in beats, time signature, "
        "5-class labels) and beat-fingerprint coverage between datasets, as CSV tables and PNG "
        "plots, to see where a synthetic set lacks realism before training on it.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("datasets", nargs="+", metavar="DATASET",
                        help="[NAME=][KIND:]PATH of a dataset (see below)")
    parser.add_argument("--out", required=True, metavar="DIR", help="folder for tables and plots")
    parser.add_argument("--per-class", action="store_true",
                        help="also intervals and velocities per drum class")
    parser.add_argument("--per-genre", action="store_true",
                        help="also a table per genre, where the dataset has genres")
    parser.add_argument("--merge", type=float, default=0.05, metavar="SECONDS",
                        help="onsets closer than this count as one for intervals (default 0.05)")
    parser.add_argument("--max-interval", type=float, default=1.0, metavar="BEATS",
                        help="intervals longer than this are dropped (default 1.0, a quarter note)")
    parser.add_argument("--bins", type=int, default=12,
                        help="fingerprint positions per beat (default 12: 16ths and triplets)")
    parser.add_argument("--audibility", action="store_true",
                        help="also per-class velocity, onset strength (from the audio, for "
                             "every set), stem level and masking (ADTOS renders) side by side: "
                             "audibility_per_class.csv/.png, audibility_shares.csv; reads "
                             "every track's audio")
    parser.add_argument("--no-plots", action="store_true", help="write the tables only")
    parser.add_argument("--format", dest="plot_format", choices=PLOT_FORMATS, default="png",
                        help="file format of the plots: png (150 dpi), or svg / pdf for papers "
                        "(default png)")
    parser.set_defaults(func=run_stats)


def run_stats(args: argparse.Namespace) -> int:
    from adtos.datasets import load_dataset, parse_dataset_spec
    from adtos.stats.compare import compare_datasets

    if args.merge < 0 or args.max_interval <= 0:
        raise CLIError("--merge must be ≥ 0 and --max-interval > 0")
    if not 1 <= args.bins <= 12:
        raise CLIError(f"--bins must be 1..12 (a fingerprint holds 5 classes × 12 bins), "
                       f"got {args.bins}")
    datasets = []
    for spec in args.datasets:
        name, kind, path = parse_dataset_spec(spec)
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                # Only ADTOS folders come in thousands of tracks; real sets are small.
                extra = {"progress": True} if kind == "adtos" else {}
                dataset = load_dataset(kind, path, name=name, **extra)
        except (FileNotFoundError, ValueError) as error:
            raise CLIError(f"dataset {spec!r}: {error}") from None
        for warning in caught:
            print(f"adtos stats: warning: {warning.message}")
        with_beats = sum(t.beats is not None for t in dataset.tracks)
        print(f"{dataset.name}: {kind}, {len(dataset)} tracks, {with_beats} with beats")
        datasets.append(dataset)
    try:
        _, written = compare_datasets(datasets, args.out, per_class=args.per_class,
                                      per_genre=args.per_genre, merge=args.merge,
                                      max_beats=args.max_interval, bins=args.bins,
                                      plots=not args.no_plots, progress=True,
                                      plot_format=args.plot_format, audibility=args.audibility)
    except ValueError as error:
        raise CLIError(str(error)) from None
    print(f"wrote {len(written)} files to {args.out}")
    return 0

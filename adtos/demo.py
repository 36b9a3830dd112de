"""`make demo`: build the demo dataset, then run whichever later stages exist.

    python -m adtos.demo --out demo_out

1. `adtos build configs/demo.toml --out OUT/dataset` (built-in loop pack, a
   small generated preset library, ten short tracks);
2. then, for each later stage whose command is installed, a tiny run of it on
   that dataset: statistics, a few training steps, a four-point sweep and the
   scaling fit. The whole demo is sized to finish in a few minutes on a
   2-core laptop; it proves the pipeline runs end to end, not that the tiny
   model transcribes anything.

Every step goes through `adtos.cli.main`, exactly as a user would type it, and
each resumes: running the demo again redoes nothing already done.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from adtos.cli import build_parser, main as adtos

REPO_ROOT = Path(__file__).resolve().parents[1]
DEMO_CONFIG = REPO_ROOT / "configs" / "demo.toml"


def available_commands() -> set[str]:
    """The `adtos` commands whose stage package is installed."""
    parser = build_parser()
    for action in parser._actions:  # argparse keeps subcommands on its subparsers action
        if isinstance(action, argparse._SubParsersAction):
            return set(action.choices)
    return set()


def shared_mdb() -> Path | None:
    """MDB Drums beside the repository (../shared/data), a real test set when present."""
    root = Path(os.environ.get("ADTOS_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))
    return root / "mdb_drums" if (root / "mdb_drums").is_dir() else None


def demo_steps(out: Path, dataset: Path, commands: set[str]) -> list[tuple[str, list[str]]]:
    """(name, argv) of each later stage to run, for the commands that exist."""
    mdb = shared_mdb()
    steps = []
    if "stats" in commands:
        sets = [f"demo={dataset}"] + ([f"mdb=mdb:{mdb}"] if mdb else [])
        steps.append(("stats", ["stats", *sets, "--out", str(out / "stats")]))
    # Tiny on purpose: a few steps of a 3·10^4-parameter CRNN show that training,
    # evaluation on real music, the sweep and the fit run, in about a minute each.
    tiny = ["--width", "0.25", "--batch-size", "4", "--val-every", "4"]
    if "train" in commands:
        tests = ["--test", f"mdb=mdb:{mdb}"] if mdb else []
        steps.append(("train", ["train", "--train", str(dataset), "--val", str(dataset),
                                "--out", str(out / "run"), "--max-steps", "4", *tiny,
                                "--workers", "0", "--feature-workers", "1", *tests]))
    if "sweep" in commands:
        # Four sizes, so that the fit has a point to spare and its bootstrap
        # intervals exist; tested on MDB Drums when it is there.
        tests = ["--test", f"mdb=mdb:{mdb}"] if mdb else []
        steps.append(("sweep", ["sweep", "--train", str(dataset), "--val", str(dataset),
                                "--name", "demo", "--variant", "4voices",
                                "--out", str(out / "sweep"), "--sizes", "1,2,4,8",
                                "--widths", "0.25", "--max-steps", "2", "--batch-size", "4",
                                "--val-every", "2", "--option", "workers=0",
                                "--option", "feature_workers=1", "--no-fit", *tests]))
    if "fit" in commands and "sweep" in commands:
        y = "test_loss" if mdb else "val_loss"
        steps.append(("fit", ["fit", str(out / "sweep" / "results.csv"), "--y", y,
                              "--out", str(out / "fit"), "--bootstrap", "200"]))
    return steps


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m adtos.demo", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="demo_out", help="folder for everything the demo "
                        "writes (default: demo_out)")
    parser.add_argument("--config", default=str(DEMO_CONFIG),
                        help="build config (default: the repository's configs/demo.toml)")
    parser.add_argument("--workers", type=int, default=None,
                        help="render processes (default: every core)")
    parser.add_argument("--build-only", action="store_true",
                        help="stop after the dataset is built")
    args = parser.parse_args(argv)

    out = Path(args.out)
    dataset = out / "dataset"
    if not Path(args.config).is_file():
        print(f"demo: {args.config}: config not found (run from a clone of the repository, "
              "or pass --config)", file=sys.stderr)
        return 2
    started = time.perf_counter()
    build = ["build", args.config, "--out", str(dataset)]
    if args.workers:
        build += ["--workers", str(args.workers)]
    results: list[tuple[str, str, float]] = []
    status = _run("build", build, adtos, results)
    if status != 0:
        return status
    if not args.build_only:
        for name, argv_step in demo_steps(out, dataset, available_commands()):
            status = _run(name, argv_step, adtos, results)
            if status != 0:
                print(f"demo: {name} failed; the steps before it are done", file=sys.stderr)
                break

    total = time.perf_counter() - started
    print("\n" + "=" * 72)
    print(f"ADTOS demo finished in {total / 60:.1f} min. Results:")
    for name, where, seconds in results:
        print(f"  {name:<6} {seconds:6.1f} s  {where}")
    print(f"  the dataset card: {dataset / 'README.md'}")
    print("=" * 72)
    return status


def _run(name: str, argv: list[str], adtos, results: list) -> int:
    print(f"\n== demo: adtos {' '.join(argv)}", flush=True)
    started = time.perf_counter()
    status = adtos(argv)
    where = next((argv[i + 1] for i, a in enumerate(argv) if a == "--out"), "")
    results.append((name, where, time.perf_counter() - started))
    return status


if __name__ == "__main__":
    sys.exit(main())

"""`adtos presets`: discover soundfont presets and grow the preset library."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "presets",
        help="discover soundfont presets, check drum kits, grow the preset library",
        description="Discover every preset of the given SF2/SF3 soundfonts (default: the "
        "Debian soundfont folders, $ADTOS_SOUNDFONT_PATH, else pretty_midi's TimGM6mb.sf2), "
        "classify them (drums, piano, bass, guitar, other), check every drum kit on the GM "
        "notes of the 5-class vocabulary, and grow the library to the requested counts with "
        "composite kits and seeded effect chains. Writes one JSON definition per line.",
    )
    parser.add_argument("--soundfont", action="append", type=Path, metavar="PATH",
                        help="an SF2/SF3 file to use (repeatable); default: every soundfont on "
                        "the search path")
    parser.add_argument("--drums", type=int, default=512, metavar="N",
                        help="number of drum presets to make (default: 512)")
    parser.add_argument("--other", type=int, default=458, metavar="N",
                        help="number of pitched presets (piano, bass, guitar first, then other "
                        "timbres) to make (default: 458)")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed for kit selection, composites, effect chains and pools "
                        "(default: 0)")
    parser.add_argument("--val-share", type=float, default=0.1, metavar="F",
                        help="share of each role assigned to the validation pool; the rest is "
                        "train (default: 0.1)")
    parser.add_argument("--out", type=Path, metavar="JSONL",
                        help="preset library to write, e.g. presets/default.jsonl; a kit-check "
                        "report goes beside it as <name>.kits.csv")
    parser.add_argument("--list", action="store_true",
                        help="only list what was found: presets per role per soundfont")
    parser.add_argument("--cache", type=Path, default=None, metavar="JSON",
                        help="kit-check cache file (default: ~/.cache/adtos/kitcheck.json; "
                        "results are keyed by soundfont name, size and mtime)")
    parser.add_argument("--no-cache", action="store_true", help="check every kit again")
    parser.add_argument("--workers", type=int, default=None, metavar="N",
                        help="processes for the kit checks, one soundfont each (default: one "
                        "per CPU)")
    parser.add_argument("--kit", action="append", type=Path, metavar="PATH", default=[],
                        help="a sampled kit of your own to add (repeatable): a Hydrogen kit "
                        "folder or its drumkit.xml, a kit.toml folder, or an .sfz file. Presets "
                        "name it by its absolute path, so render finds it without "
                        "$ADTOS_KIT_PATH; used with or without --soundfont; a kit that cannot "
                        "be read is an error")
    parser.add_argument("--no-sampled-kits", action="store_true",
                        help="leave the sampled kits of the kit search path (Hydrogen, SFZ, "
                        "kit.toml folders on $ADTOS_KIT_PATH, Debian's Hydrogen kits, see "
                        "`adtos kits`) out of the drum presets; by default they are used, whole "
                        "and with per-piece variation, unless --soundfont is given (the run "
                        "says so); --kit kits are used either way")
    parser.add_argument("--sampled-kits", action="store_true",
                        help="use the search path's sampled kits with --soundfont too")
    parser.add_argument("--variation-share", type=float, default=0.75, metavar="F",
                        help="share of the drum presets beyond the whole kits that are sampled "
                        "kits with per-piece variation (pitch, decay, tilt, saturation, gain, "
                        "velocity curve); the rest are soundfont composites (default: 0.75)")
    parser.add_argument("--no-velocity-curves", action="store_true",
                        help="soundfont drum presets play their kit's own velocity curve (in "
                        "most soundfonts the SF2 default, level = (velocity/127)^2, velocity 30 "
                        "at -25 dB) instead of a drawn one; by default each draws "
                        "velocity_exponent uniformly in [1, 2] "
                        "(1: linear, as Hydrogen; 2: the SF2 default), as the varied sampled "
                        "kits do, from a seed stream of its own so that nothing else changes")
    parser.add_argument("--diversity", type=Path, metavar="LIBRARY",
                        help="instead of building: count the distinct drum sounds per piece in "
                        "a preset library (each drum preset rendered dry, one hit per piece at "
                        "velocity 100, 64-band log spectra of the first 186 ms grouped at "
                        "cosine > 0.995; see docs/presets.md) and write "
                        "<LIBRARY stem>.diversity.csv, .sounds.csv and .diversity.png beside "
                        "it (or beside --out)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from adtos.cli import CLIError

    for path in args.soundfont or ():
        if not path.exists():
            raise CLIError(f"--soundfont {path}: file not found")
    if args.list:
        return _list(args)
    if args.diversity is not None:
        return _diversity(args)
    if args.out is None:
        raise CLIError("--out: give the library file to write (e.g. presets/default.jsonl), "
                       "or --list to only list the soundfonts' presets")
    if args.drums < 0 or args.other < 0:
        raise CLIError(f"--drums/--other: expected counts >= 0, got {args.drums}/{args.other}")
    if not 0.0 <= args.val_share < 1.0:
        raise CLIError(f"--val-share: expected a share in [0, 1), got {args.val_share}")

    from adtos.presets.library import LibraryReport, build_preset_library
    from adtos.presets.model import save_presets

    if args.sampled_kits and args.no_sampled_kits:
        raise CLIError("--sampled-kits and --no-sampled-kits: give one or the other")
    for path in args.kit:
        if not path.exists():
            raise CLIError(f"--kit {path}: no such file or folder")
    cache = None if args.no_cache else (args.cache or "auto")
    report = LibraryReport()
    kits = None if args.no_sampled_kits else "search path" if args.sampled_kits else "auto"
    if kits == "auto" and args.soundfont:
        print("sampled kits of the kit search path: not used, as --soundfont is given "
              "(--sampled-kits uses them too; --kit kits are used either way)")
    try:
        library = build_preset_library(args.soundfont, drums=args.drums, other=args.other,
                                       seed=args.seed, val_share=args.val_share, report=report,
                                       cache=cache, workers=args.workers, kits=kits,
                                       variation_share=args.variation_share,
                                       velocity_curves=not args.no_velocity_curves,
                                       user_kits=args.kit)
    except ValueError as error:
        raise CLIError(str(error)) from error
    for path, reason in report.errors:
        print(f"skipped soundfont {path}: {reason}")
    for path, reason in report.kit_errors:
        print(f"skipped kit {path}: {reason}")
    save_presets(library, args.out)
    kits_csv = args.out.with_name(args.out.stem + ".kits.csv")
    _write_kit_report(report, kits_csv)
    excluded = report.excluded_kits()
    remapped = [c for _, c in report.kit_checks if c.usable and c.remap]
    print(f"checked {len(report.kit_checks)} drum kits: {len(report.kit_checks) - len(excluded)} "
          f"usable ({len(remapped)} with remapped notes), {len(excluded)} excluded")
    for patch, check in excluded:
        print(f"  excluded {patch.soundfont} {patch.name!r}: no sounding note for "
              f"{', '.join(check.missing_classes)}")
    if report.sampled_checks:
        usable = sum(1 for *_, c in report.sampled_checks if c is not None and c.usable)
        percussion = [n for n, _, _, c in report.sampled_checks if c is None]
        print(f"checked {len(report.sampled_checks) - len(percussion)} sampled drum kits: "
              f"{usable} usable, {len(report.partial_kits)} partial; percussion only, kept "
              f"out of the drum role: {', '.join(percussion) or 'none'}")
        for name, fmt, _, check in report.sampled_checks:
            if name in report.partial_kits:
                print(f"  partial {fmt}:{name}: no {', '.join(report.partial_kits[name])}; "
                      "its presets take them from another kit")
            elif check is not None and not check.usable:
                print(f"  excluded {fmt}:{name}: no sounding note for "
                      f"{', '.join(check.missing_classes)}")
    drums = [p for p in library if p.role == "drums"]
    if drums:
        print(f"  drum presets: {sum(not p.sampled and not p.pieces for p in drums)} soundfont "
              f"kits, {sum(not p.sampled and bool(p.pieces) for p in drums)} soundfont "
              f"composites, {sum(p.sampled and not p.variation for p in drums)} sampled kits, "
              f"{sum(p.sampled and bool(p.variation) for p in drums)} varied sampled kits")
        curves = sorted(p.variation["velocity_exponent"] for p in drums
                        if "velocity_exponent" in p.variation)
        if curves:
            print(f"  velocity curves: {len(curves)} drum presets draw one, exponent "
                  f"{curves[0]:.2f}-{curves[-1]:.2f}; {len(drums) - len(curves)} play "
                  "their kit's own")
    counts: dict[tuple[str, str | None], int] = {}
    for preset in library:
        counts[(preset.role, preset.pool)] = counts.get((preset.role, preset.pool), 0) + 1
    for role in sorted({r for r, _ in counts}):
        print(f"  {role:7s} train {counts.get((role, 'train'), 0):4d}  "
              f"val {counts.get((role, 'val'), 0):4d}")
    print(f"wrote {len(library)} presets to {args.out} (kit report: {kits_csv})")
    return 0


def _diversity(args: argparse.Namespace) -> int:
    from adtos.cli import CLIError
    from adtos.presets.diversity import DIVERSITY_NOTES, measure_diversity, write_diversity
    from adtos.presets.model import load_presets
    from adtos.presets.synth import SoundfontBank

    try:
        presets = load_presets(args.diversity)
        report = measure_diversity(presets, SoundfontBank(44100, soundfonts=args.soundfont))
    except (OSError, ValueError) as error:
        raise CLIError(f"--diversity {args.diversity}: {error}") from error
    for preset_id, reason in report.skipped:
        print(f"skipped preset {preset_id}: {reason}")
    target = args.out if args.out is not None else args.diversity
    paths = write_diversity(report, target.with_name(target.stem))
    table = report.table()
    pieces = list(DIVERSITY_NOTES)
    print(f"distinct sounds among {len(report.preset_ids)} drum presets "
          f"(cosine > {report.threshold}):")
    print(f"{'':30s}" + "".join(f"{p:>14s}" for p in pieces))
    for subset, row in table.items():
        print(f"{subset:30s}" + "".join(f"{row[p]:14d}" for p in pieces))
    print("wrote " + ", ".join(str(p) for p in paths))
    return 0


def _list(args: argparse.Namespace) -> int:
    from adtos.presets.discover import discover_presets
    from adtos.presets.model import ROLES

    errors: list[tuple[str, str]] = []
    presets = discover_presets(args.soundfont, errors=errors)
    for path, reason in errors:
        print(f"skipped soundfont {path}: {reason}")
    fonts = sorted({p.source["soundfont"] for p in presets})
    header = f"{'soundfont':32s}" + "".join(f"{role:>8s}" for role in ROLES) + f"{'total':>8s}"
    print(header)
    for font in fonts:
        mine = [p for p in presets if p.source["soundfont"] == font]
        row = "".join(f"{sum(p.role == role for p in mine):8d}" for role in ROLES)
        print(f"{font:32s}{row}{len(mine):8d}")
    row = "".join(f"{sum(p.role == role for p in presets):8d}" for role in ROLES)
    print(f"{'all':32s}{row}{len(presets):8d}")
    return 0


def _write_kit_report(report, path: Path) -> None:
    from adtos.fileio import write_csv_atomic
    from adtos.presets.soundfonts import SOUNDFONT_LICENCES

    rows = []

    def verdict(check) -> list[str]:
        failed = " ".join(f"{c.note}:{c.reason}" for c in check.failures())
        remap = " ".join(f"{k}->{v}" for k, v in check.remap.items())
        status = "ok" if check.usable else "excluded (no " + "/".join(check.missing_classes) + ")"
        return [status, failed, remap]

    for patch, check in report.kit_checks:
        rows.append([patch.soundfont, patch.bank, patch.program, patch.name, *verdict(check),
                     SOUNDFONT_LICENCES.get(patch.soundfont, "")])
    # Sampled kits: "<format>:<kit>" in the soundfont column, bank and program 0.
    for name, fmt, licence, check in report.sampled_checks:
        row = verdict(check) if check is not None else ["excluded (percussion only)", "", ""]
        if name in report.partial_kits:
            row[0] = ("partial (no " + "/".join(report.partial_kits[name])
                      + "): filled from other kits")
        rows.append([f"{fmt}:{name}", 0, 0, name, *row, licence])
    # Kits that could not be read or checked: the file, and why, in the status.
    for kit_file, reason in report.kit_errors:
        rows.append([f"kit:{kit_file}", 0, 0, Path(kit_file).name,
                     f"skipped: {reason}", "", "", ""])
    write_csv_atomic(path, ["soundfont", "bank", "program", "name", "status", "failed_notes",
                            "remap", "licence"], rows)

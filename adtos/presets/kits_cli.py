"""`adtos kits`: list the sampled kits found, how their instruments map to GM notes, and check them."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "kits",
        help="list sampled drum kits (Hydrogen, SFZ, kit.toml folders), their GM mapping and check",
        description="Find every sampled kit on the search path ($ADTOS_KIT_PATH, then Debian's "
        "Hydrogen folder /usr/share/hydrogen/data/drumkits) or in --kit-dir folders, map their "
        "instruments to GM notes through the name table, and print one line per kit. Kits that "
        "share a name are all listed, told apart by their folders. Kits that cannot be read (a "
        "missing or empty sample file, a corrupt drumkit.xml, an unsupported SFZ opcode, no "
        "kick or no snare) are reported and skipped; with --check, a sample that cannot be "
        "decoded fails its kit's check and the others go on.",
    )
    parser.add_argument("--kit-dir", action="append", type=Path, metavar="DIR",
                        help="a folder of kits, or a kit's own folder, to use instead of the "
                        "search path (repeatable)")
    parser.add_argument("--check", action="store_true",
                        help="also run the drum-kit check (every 5-class note rendered alone by "
                        "the native sampler and judged as soundfont kits are)")
    parser.add_argument("--out", type=Path, metavar="DIR",
                        help="write kits.csv (one row per kit, with licence and check result), "
                        "instruments.csv (one row per instrument: GM note, or empty when "
                        "unmapped) and kit_errors.csv here")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from adtos.cli import CLIError
    from adtos.kits.folder import KIT_FILE
    from adtos.kits.library import find_kits, load_kits, mapping_rows

    for folder in args.kit_dir or ():
        if not folder.is_dir():
            raise CLIError(f"--kit-dir {folder}: not a folder")
        if not find_kits([folder]):
            raise CLIError(f"--kit-dir {folder}: no kit found (a kit is a folder holding "
                           f"drumkit.xml or {KIT_FILE}, or an .sfz file; looked in the folder "
                           "and its sub-folders)")
    kits, errors = load_kits(args.kit_dir)
    rows = kit_rows(kits, check=args.check)
    header = f"{'kit':28s} {'format':8s} {'kind':10s} {'mapped':>6s} {'unmapped':>8s} {'layers':>6s}  missing  licence"
    print(header)
    for row in rows:
        print(f"{row['kit'][:28]:28s} {row['format']:8s} {row['kind']:10s} {row['mapped']:6d} "
              f"{row['unmapped']:8d} {row['layers']:6d}  {row['missing_classes'] or '-':7s}  "
              f"{row['licence'][:50]}")
        if args.check and row["check"] not in ("ok", ""):
            print(f"    check: {row['check']}")
    for kit in kits:
        for warning in kit.warnings:
            print(f"warning: {warning}")
    for path, reason in errors:
        print(f"skipped {path}: {reason}")
    print(f"{len(kits)} kits read ({sum(k.kind == 'drums' for k in kits)} drum kits, "
          f"{sum(k.kind == 'percussion' for k in kits)} percussion), {len(errors)} skipped")
    if args.out is not None:
        from adtos.fileio import write_csv_atomic

        instruments = mapping_rows(kits)
        write_csv_atomic(args.out / "kits.csv", list(rows[0]) if rows else ["kit"], rows)
        write_csv_atomic(args.out / "instruments.csv",
                         list(instruments[0]) if instruments else ["kit"], instruments)
        write_csv_atomic(args.out / "kit_errors.csv", ["file", "reason"], errors)
        print(f"wrote {args.out / 'kits.csv'}, instruments.csv and kit_errors.csv")
    return 0


def kit_rows(kits, check: bool = False) -> list[dict]:
    """One summary row per kit (and the kit check's verdict when `check`).

    A kit whose check fails on a sample that cannot be read gets that failure as
    its verdict; the other kits are still checked.
    """
    from adtos.kits.library import kit_name
    from adtos.kits.model import KitError
    from adtos.kits.names import missing_classes

    sampler = None
    if check:
        from adtos.presets.sampler import KitSampler

        sampler = KitSampler()
    rows = []
    for kit in kits:
        name = kit.display_name or kit_name(kit.format, kit.path)
        verdict = ""
        if sampler is not None and kit.kind == "drums":
            from adtos.presets.kitcheck import check_sampled_kit
            from adtos.presets.kitcheck import verdict as check_verdict

            try:
                verdict = check_verdict(kit, check_sampled_kit(kit, name, sampler))
            except KitError as error:
                verdict = f"failed: {error}"
        rows.append({"kit": name, "format": kit.format, "kind": kit.kind, "title": kit.name,
                     "mapped": len(kit.mapped()), "unmapped": len(kit.unmapped()),
                     "layers": kit.layers,
                     "missing_classes": " ".join(missing_classes(kit.notes))
                     if kit.kind == "drums" else "",
                     "licence": kit.licence, "author": kit.author, "check": verdict,
                     "path": str(kit.path)})
    return rows

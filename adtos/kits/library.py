"""Find, read and check sampled kits: one entry point for every kit format.

    kit = load_kit("GMRockKit")                      # by name, on the search path
    kit = load_kit("path/to/kit.sfz", format="sfz")  # or by path
    kits, errors = load_kits()                       # every kit found; bad ones reported

Kits are found on a search path like soundfonts: `$ADTOS_KIT_PATH` (folders,
`os.pathsep`-separated) first, then Debian's Hydrogen folder (packages
hydrogen-drumkits, hydrogen-data), then the kit.toml files bundled with ADTOS
(`adtos/kits/bundled`: a kit of sonic-pi-samples' CC0 one-shots). In each folder a kit is a sub-folder holding
`drumkit.xml` (Hydrogen) or `kit.toml` (a one-shot folder), or an `.sfz` file
(directly in the folder or one level down); a folder that holds `drumkit.xml` or
`kit.toml` itself is that kit. A kit's name is its folder name (Hydrogen, folder
kits) or its .sfz file name. A kit is identified by its file: kits that share a
name are all read and listed (shown with their parent folders); a name finds the
first of them on the search path, presets name the others by path.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from adtos.kits.folder import KIT_FILE, read_folder_kit
from adtos.kits.hydrogen import read_hydrogen_kit
from adtos.kits.model import KIT_FORMATS, Kit, KitError
from adtos.kits.names import assign_notes, is_percussion_kit, missing_classes
from adtos.kits.sfz import read_sfz_kit

DEBIAN_KIT_DIRS = ("/usr/share/hydrogen/data/drumkits",)
# Debian's machine-readable copyright files name the licence of kits whose
# drumkit.xml does not (ColomboAcousticDrumkit, the Millo kits).
DEBIAN_COPYRIGHT_FILES = ("/usr/share/doc/hydrogen-drumkits/copyright",
                          "/usr/share/doc/hydrogen-data/copyright")
ENV_KIT_PATH = "ADTOS_KIT_PATH"
_READERS = {"hydrogen": read_hydrogen_kit, "sfz": read_sfz_kit, "folder": read_folder_kit}
_CACHE: dict[tuple[str, str], Kit] = {}
_RESOLVED: dict[tuple[str, str | None, tuple[str, ...]], tuple[str, Path]] = {}


# Kit descriptions shipped with ADTOS for samples that Debian packages install
# without one (sonic-pi-samples' CC0 one-shots).
BUNDLED_KIT_DIR = Path(__file__).parent / "bundled"


def kit_search_dirs() -> list[Path]:
    """$ADTOS_KIT_PATH first, then the Debian Hydrogen folder, then ADTOS's bundled kits.

    An $ADTOS_KIT_PATH entry that is not a folder is a KitError naming it: a typo
    there used to leave the user's kits out without a word.
    """
    dirs = [Path(p) for p in os.environ.get(ENV_KIT_PATH, "").split(os.pathsep) if p]
    for folder in dirs:
        if not folder.is_dir():
            raise KitError(f"${ENV_KIT_PATH} entry {folder}: "
                           f"{'not a folder' if folder.exists() else 'no such folder'}; "
                           f"fix or remove it (${ENV_KIT_PATH}={os.environ[ENV_KIT_PATH]})")
    return dirs + [Path(d) for d in DEBIAN_KIT_DIRS] + [BUNDLED_KIT_DIR]


def _search_entries(dirs: list[Path] | None) -> list[Path]:
    """The folders and files of the search folders that may be kits, in search order."""
    entries = []
    for folder in kit_search_dirs() if dirs is None else dirs:
        folder = Path(folder)
        if folder.is_dir():
            entries += [folder] if _is_kit_folder(folder) else sorted(folder.iterdir())
    return entries


def find_kits(dirs: list[Path] | None = None) -> list[tuple[str, Path]]:
    """(format, description file) of every kit in the search folders, in search order.

    A kit is its file: kits that share a name (three `kit.sfz` in three folders)
    are all found; one found twice (a folder on the path twice) counts once. A
    folder that is itself a kit (holds drumkit.xml or kit.toml) is that kit.
    """
    found: dict[Path, tuple[str, Path]] = {}
    for entry in _search_entries(dirs):
        for fmt, path in _kit_files(entry):
            found.setdefault(path.resolve(), (fmt, path))
    return list(found.values())


def unread_kit_files(dirs: list[Path] | None = None) -> list[tuple[str, str]]:
    """(file, reason) for the kit files in a kit folder that are not read because the
    folder's drumkit.xml (or kit.toml) is the kit it holds: a folder that ships one
    kit in two formats is read once, and the other files are named, not lost."""
    unread, seen = [], set()
    for entry in _search_entries(dirs):
        kits = _kit_files(entry)
        if not entry.is_dir() or not kits or kits[0][0] == "sfz":
            continue
        others = ([entry / KIT_FILE] if kits[0][0] == "hydrogen" and (entry / KIT_FILE).is_file()
                  else []) + sorted(entry.glob("*.sfz"))
        for path in others:
            if path.resolve() not in seen:
                seen.add(path.resolve())
                unread.append((str(path), f"not read: this folder's kit is {kits[0][1].name} "
                               f"({kits[0][1]})"))
    return unread


def _is_kit_folder(folder: Path) -> bool:
    return (folder / "drumkit.xml").is_file() or (folder / KIT_FILE).is_file()


def _kit_files(entry: Path) -> list[tuple[str, Path]]:
    if entry.is_file() and entry.suffix.lower() == ".sfz":
        return [("sfz", entry)]
    if not entry.is_dir():
        return []
    if (entry / "drumkit.xml").is_file():
        return [("hydrogen", entry / "drumkit.xml")]
    if (entry / KIT_FILE).is_file():
        return [("folder", entry / KIT_FILE)]
    return [("sfz", p) for p in sorted(entry.glob("*.sfz"))]


def kit_location(fmt: str, path: Path) -> Path:
    """A kit's own place: the .sfz file, or the folder holding its description file."""
    return path if fmt == "sfz" else path.parent


def kit_name(fmt: str, path: Path) -> str:
    """How presets name a kit: the folder (Hydrogen, folder kits) or the .sfz file name."""
    return kit_location(fmt, path).name


def kit_reference(kit: Kit, absolute: bool = False) -> str:
    """How a preset's source names `kit`: by its name (kit_name) where that name finds
    this very kit on the search path, else by its place (kit_location), made absolute
    when `absolute` (a kit the user gave by path, whatever the search path holds)."""
    name = kit_name(kit.format, kit.path)
    try:
        on_path = resolve_kit(name, kit.format)[1].resolve() == kit.path.resolve()
    except KitError:
        on_path = False
    if on_path and not absolute:
        return name
    place = kit_location(kit.format, kit.path)
    return str(place.resolve() if absolute else place)


def display_names(found: list[tuple[str, Path]]) -> dict[Path, str]:
    """A distinct name to show for each kit file: its kit name, or, where kits share
    one, the name with as many parent folders as tell them apart ("a/kit.sfz")."""
    def named(fmt: str, path: Path, depth: int) -> str:
        return Path(*kit_location(fmt, path).parts[-depth - 1:]).as_posix()

    names: dict[Path, str] = {}
    groups: dict[str, list[tuple[str, Path]]] = {}
    for fmt, path in found:
        groups.setdefault(kit_name(fmt, path), []).append((fmt, path))
    for name, members in groups.items():
        depth = 0
        while len({named(f, p, depth) for f, p in members}) < len(members) and \
                depth < max(len(p.parts) for _, p in members):
            depth += 1
        for fmt, path in members:
            names[path] = named(fmt, path, depth)
    return names


def resolve_kit(name: str, format: str | None = None) -> tuple[str, Path]:
    """(format, description file) of a kit named as presets name it, or given by path."""
    if format is not None and format not in KIT_FORMATS:
        raise KitError(f"kit format must be one of {KIT_FORMATS}, got {format!r}")
    candidate = Path(name)
    if candidate.exists() and (candidate.is_absolute() or len(candidate.parts) > 1):
        kits = _kit_files(candidate) if candidate.is_dir() else (
            [("sfz", candidate)] if candidate.suffix.lower() == ".sfz" else
            [("folder", candidate)] if candidate.name == KIT_FILE else
            [("hydrogen", candidate)])
        for fmt, path in kits:
            if format in (None, fmt):
                return fmt, path
    for fmt, path in find_kits():
        if kit_name(fmt, path) == name and format in (None, fmt):
            return fmt, path
    raise KitError(f"kit {name!r}{f' ({format})' if format else ''} not found in "
                   f"${ENV_KIT_PATH} or {', '.join(DEBIAN_KIT_DIRS)}; install the Debian "
                   f"packages hydrogen-drumkits and hydrogen-data, or add the kit's folder "
                   f"to ${ENV_KIT_PATH}")


def read_kit(path: str | os.PathLike, format: str) -> Kit:
    """Read one kit file and map it: GM notes, kind (drums or percussion), hi-hat choke.

    KitError (naming the file) for a kit that cannot be read, and for a drum kit
    with no kick or no snare.
    """
    if format not in _READERS:
        raise KitError(f"kit format must be one of {KIT_FORMATS}, got {format!r}")
    kit = _READERS[format](path)
    if not kit.licence and format == "hydrogen":
        kit.licence = debian_licence(Path(path).parent.name if Path(path).is_file() else
                                     Path(path).name)
    _map_notes(kit)
    _drop_missing_samples(kit)
    names = [i.name for i in kit.instruments]
    notes = [i.gm_note for i in kit.instruments]
    if is_percussion_kit(names, notes):
        kit.kind = "percussion"
    else:
        lacking = [c for c in missing_classes(kit.notes) if c in ("BD", "SD")]
        if lacking:
            words = {"BD": "kick", "SD": "snare"}
            raise KitError(f"{kit.path}: drum kit {kit.name!r} has no "
                           f"{' and no '.join(words[c] for c in lacking)} among its instruments "
                           f"({', '.join(repr(n) for n in names[:12])}"
                           f"{', ...' if len(names) > 12 else ''})")
    _default_hihat_choke(kit)
    return kit


def debian_licence(folder_name: str) -> str:
    """The licence Debian's copyright file gives a Hydrogen kit folder, or ""."""
    for copyright_file in DEBIAN_COPYRIGHT_FILES:
        try:
            text = Path(copyright_file).read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        for stanza in re.split(r"\n\s*\n", text):
            files = re.search(r"^Files:(.*?)(?=^\S)", stanza + "\nEnd", re.M | re.S)
            if not files or f"drumkits/{folder_name}." not in files.group(1):
                continue
            licence = re.search(r"^License:\s*(\S.*)$", stanza, re.M)
            if licence:
                return f"{licence.group(1).strip()} (Debian copyright file)"
            if "General Public" in stanza:
                return "GPL (Debian copyright file)"
    return ""


def _map_notes(kit: Kit) -> None:
    explicit = [i.source_note if kit.format == "folder" else None for i in kit.instruments]
    fallback = [i.source_note if kit.format == "sfz" else None for i in kit.instruments]
    notes, kit.notes = assign_notes([i.name for i in kit.instruments], explicit, fallback)
    for instrument, note in zip(kit.instruments, notes):
        instrument.gm_note = note


def _drop_missing_samples(kit: Kit) -> None:
    """A missing or empty sample file of a 5-class instrument is an error (the kit
    would not sound as its annotations say); another instrument (a cowbell) is
    dropped and the kit keeps the rest, with a warning."""
    kept = []
    for instrument in kit.instruments:
        missing = [layer.sample for layer in instrument.layers if not layer.sample.is_file()]
        # A 0-byte file (a failed copy or download) cannot be a sample either.
        empty = [s for s in (layer.sample for layer in instrument.layers)
                 if s.is_file() and s.stat().st_size == 0]
        if not missing and not empty:
            kept.append(instrument)
            continue
        if missing:
            where = (f"{kit.path}: instrument {instrument.name!r} names sample file "
                     f"{missing[0].name!r}, which does not exist in {missing[0].parent}")
        else:
            where = (f"{kit.path}: instrument {instrument.name!r}: sample file {empty[0]} "
                     "is empty (0 bytes)")
        if instrument.label is not None:
            raise KitError(where)
        kit.warnings.append(f"{where}; instrument dropped")
    if len(kept) < len(kit.instruments):
        kit.instruments = kept
        _map_notes(kit)


def _default_hihat_choke(kit: Kit) -> None:
    """An open hi-hat is cut by the next closed or pedal hat, unless the kit says otherwise."""
    hats = [i for i in kit.instruments if i.gm_note in (42, 44, 46)]
    opens = [i for i in hats if i.gm_note == 46]
    if not opens or any(i.choked_by for i in opens):
        return
    for hat in hats:
        if hat.choke_group is None:
            hat.choke_group = "hihat"
    for hat in opens:
        hat.choked_by = tuple(dict.fromkeys(
            g for g in (h.choke_group for h in hats if h.gm_note in (42, 44)) if g))


def load_kit(name: str, format: str | None = None) -> Kit:
    """A kit by name (on the search path) or path, read once per process.

    Where a name was found is kept too (per search path), so the sampler's
    every render does not list the kit folders again."""
    where = (name, format, tuple(map(str, kit_search_dirs())))
    if where not in _RESOLVED:
        _RESOLVED[where] = resolve_kit(name, format)
    fmt, path = _RESOLVED[where]
    key = (fmt, str(path))
    if key not in _CACHE:
        _CACHE[key] = read_kit(path, fmt)
    return _CACHE[key]


def load_kits(dirs: list[Path] | None = None) -> tuple[list[Kit], list[tuple[str, str]]]:
    """Every kit on the search path: (kits read, (file, reason) for each kit skipped).

    Every kit file found is in one list or the other. Each kit's `display_name`
    tells it apart from the others; kits that share a name get a warning saying so.
    Warnings of the kits read (instruments dropped, shared names) are in each
    `Kit.warnings`."""
    kits, errors = [], unread_kit_files(dirs)
    found = find_kits(dirs)
    shown = display_names(found)
    for fmt, path in found:
        try:
            kit = read_kit(path, fmt)
        except KitError as error:
            errors.append((str(path), str(error)))
            continue
        kit.display_name = shown[path]
        name = kit_name(fmt, path)
        twins = [p for f, p in found if kit_name(f, p) == name]
        if len(twins) > 1:
            kit.warnings.insert(0, (
                f"{len(twins)} kits are named {name!r} ({', '.join(shown[p] for p in twins)}); "
                f"this one ({path}) is shown as {shown[path]!r}; a preset names "
                + ("it by name" if twins[0] == path else "it by its path")
                + " (the first one on the search path is the one a name finds)"))
        kits.append(kit)
    return kits, errors


def mapping_rows(kits: list[Kit]) -> list[dict[str, object]]:
    """One row per instrument: kit, format, kind, licence, instrument, GM note (or empty), layers."""
    rows = []
    for kit in kits:
        for instrument in kit.instruments:
            rows.append({"kit": kit.display_name or kit_name(kit.format, kit.path),
                         "format": kit.format,
                         "kind": kit.kind, "licence": kit.licence, "author": kit.author,
                         "instrument": instrument.name,
                         "gm_note": "" if instrument.gm_note is None else instrument.gm_note,
                         "class": instrument.label or "", "layers": len(instrument.layers)})
    return rows


"""Find soundfont files and list the presets inside them without decoding samples.

An SF2 file is a RIFF container; its preset headers ('phdr' in the 'pdta' list)
hold name, program and bank of every preset. SF3 (MuseScore) is the same
container with Ogg-compressed samples, so reading the headers directly costs
milliseconds where loading the file into FluidSynth costs seconds.
"""

from __future__ import annotations

import os
import struct
import sys
from dataclasses import dataclass
from pathlib import Path

# Where Debian's soundfont packages install (fluid-soundfont-gm/-gs,
# musescore-general-soundfont, timgm6mb-soundfont, avldrums.lv2-soundfont,
# csound-soundfont), in order of preference.
DEBIAN_SOUNDFONT_DIRS = ("/usr/share/sounds/sf2", "/usr/share/sounds/sf3", "/usr/share/soundfonts")
SOUNDFONT_SUFFIXES = (".sf2", ".sf3")
ENV_SEARCH_PATH = "ADTOS_SOUNDFONT_PATH"

_PHDR_RECORD = struct.Struct("<20sHHHIII")  # name, program, bank, bag index, library, genre, morphology


class SoundfontError(ValueError):
    """A file that is not a readable SF2/SF3 soundfont."""


@dataclass(frozen=True)
class SoundfontPatch:
    """One preset header of a soundfont."""

    soundfont: str  # file name, the way presets refer to soundfonts
    bank: int
    program: int
    name: str


def pretty_midi_soundfont() -> Path | None:
    """pretty_midi's bundled TimGM6mb.sf2, present wherever pretty_midi is installed."""
    try:
        import pretty_midi
    except ImportError:  # pragma: no cover - pretty_midi is a dependency
        return None
    path = Path(pretty_midi.__file__).parent / "TimGM6mb.sf2"
    return path if path.is_file() else None


def search_dirs() -> list[Path]:
    """Folders searched for soundfonts: $ADTOS_SOUNDFONT_PATH first, then the Debian folders."""
    dirs = [Path(p) for p in os.environ.get(ENV_SEARCH_PATH, "").split(os.pathsep) if p]
    dirs += [Path(d) for d in DEBIAN_SOUNDFONT_DIRS]
    return dirs


def find_soundfonts() -> list[Path]:
    """Every soundfont on the search path, one per real file and one per file name.

    Debian installs aliases (default-GM.sf2 → FluidR3_GM.sf2, MuseScore_General.sf3 →
    MuseScore_General_Full.sf3); symlinks are resolved so a file counts once, under its
    real name. pretty_midi's TimGM6mb.sf2 is used only when nothing else is found.
    """
    found: dict[str, Path] = {}
    seen_real: set[Path] = set()
    for folder in search_dirs():
        if not folder.is_dir():
            continue
        for path in sorted(folder.iterdir()):
            if path.suffix.lower() not in SOUNDFONT_SUFFIXES or not path.is_file():
                continue
            real = path.resolve()
            if real in seen_real or real.name in found:
                continue
            seen_real.add(real)
            found[real.name] = real
    if not found and (bundled := pretty_midi_soundfont()) is not None:
        found[bundled.name] = bundled
    return list(found.values())


def resolve_soundfont(name: str, extra: list[Path] | None = None) -> Path:
    """The file a preset's soundfont name refers to.

    `extra` are files given explicitly (e.g. on the command line); they win over the
    search path. An absolute or relative path that exists is taken as is.
    """
    for path in extra or ():
        if Path(path).name == name or Path(path).resolve().name == name:
            return Path(path)
    candidate = Path(name)
    if candidate.is_file() and (candidate.is_absolute() or len(candidate.parts) > 1):
        return candidate
    for folder in search_dirs():
        path = folder / name
        if path.is_file():
            return path
    bundled = pretty_midi_soundfont()
    if bundled is not None and bundled.name == name:
        return bundled
    raise FileNotFoundError(
        f"soundfont {name!r} not found in ${ENV_SEARCH_PATH}, "
        f"{', '.join(DEBIAN_SOUNDFONT_DIRS)} or pretty_midi's folder; install it "
        f"(Debian: fluid-soundfont-gm, musescore-general-soundfont, ...) or add its folder "
        f"to ${ENV_SEARCH_PATH}")


def read_patches(path: str | os.PathLike) -> list[SoundfontPatch]:
    """The presets of an SF2/SF3 file, read from its 'phdr' chunk (no sample decoding)."""
    path = Path(path)
    name = path.resolve().name if path.is_symlink() else path.name
    with open(path, "rb") as handle:
        header = handle.read(12)
        if len(header) < 12 or header[:4] != b"RIFF" or header[8:12] != b"sfbk":
            raise SoundfontError(f"{path}: not a soundfont (no RIFF 'sfbk' header)")
        riff_end = 8 + struct.unpack("<I", header[4:8])[0]
        phdr = _find_phdr(handle, riff_end, path)
    if len(phdr) % _PHDR_RECORD.size or len(phdr) < 2 * _PHDR_RECORD.size:
        raise SoundfontError(f"{path}: 'phdr' chunk of {len(phdr)} bytes is not a preset table")
    patches = []
    # The last record is the terminal 'EOP' sentinel.
    for offset in range(0, len(phdr) - _PHDR_RECORD.size, _PHDR_RECORD.size):
        raw_name, program, bank, *_ = _PHDR_RECORD.unpack_from(phdr, offset)
        label = raw_name.split(b"\0", 1)[0].decode("latin-1").strip()
        if program > 127 or bank > 128:
            continue  # not addressable by MIDI bank/program
        patches.append(SoundfontPatch(name, bank, program, label))
    patches.sort(key=lambda p: (p.bank, p.program))
    return patches


def _find_phdr(handle, riff_end: int, path: Path) -> bytes:
    position = 12
    while position + 8 <= riff_end:
        handle.seek(position)
        chunk_id, size = struct.unpack("<4sI", handle.read(8))
        if chunk_id == b"LIST":
            list_type = handle.read(4)
            if list_type == b"pdta":
                sub, sub_end = position + 12, position + 8 + size
                while sub + 8 <= sub_end:
                    handle.seek(sub)
                    sub_id, sub_size = struct.unpack("<4sI", handle.read(8))
                    if sub_id == b"phdr":
                        return handle.read(sub_size)
                    sub += 8 + sub_size + (sub_size & 1)
        position += 8 + size + (size & 1)
    raise SoundfontError(f"{path}: no 'phdr' preset table found")


if __name__ == "__main__":  # pragma: no cover - quick look at a file
    for patch in read_patches(sys.argv[1]):
        print(patch)

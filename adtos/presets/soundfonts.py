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

# Licences of the soundfonts Debian packages ship, from each package's
# /usr/share/doc/<package>/copyright; read by the dataset card (adtos.build.card)
# and the kit report of `adtos presets`.
SOUNDFONT_LICENCES: dict[str, str] = {
    "FluidR3_GM.sf2": "MIT — Frank Wen (Debian fluid-soundfont-gm)",
    "FluidR3_GS.sf2": "MIT — Frank Wen (Debian fluid-soundfont-gs)",
    "MuseScore_General.sf3": "MIT, parts public domain/CC0 — S. Christian Collins et al. "
                             "(Debian musescore-general-soundfont)",
    "MuseScore_General_Full.sf3": "MIT, parts public domain/CC0 — S. Christian Collins et al. "
                                  "(Debian musescore-general-soundfont)",
    "TimGM6mb.sf2": "GPL-2 — Tim Brechbill (Debian timgm6mb-soundfont; also bundled "
                    "with pretty_midi)",
    "Black_Pearl_4_LV2.sf2": "CC BY-SA 3.0 — Glen MacArthur, AVL Drumkits "
                             "(Debian avldrums.lv2-soundfont)",
    "Red_Zeppelin_4_LV2.sf2": "CC BY-SA 3.0 — Glen MacArthur, AVL Drumkits "
                              "(Debian avldrums.lv2-soundfont)",
    "sf_GMbank.sf2": "public domain — Csound's sf_GMbank (Debian csound-soundfont)",
}

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
        import pretty_midi  # lazy: only to find the soundfont pretty_midi ships
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
    phdr = _read_pdta(path, ("phdr",))["phdr"]
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


def _read_pdta(path: Path, names: tuple[str, ...]) -> dict[str, bytes]:
    """Sub-chunks `names` of the 'pdta' list (the preset and instrument tables),
    found by seeking past the sample data, which is never read."""
    found: dict[str, bytes] = {}
    with open(path, "rb") as handle:
        header = handle.read(12)
        if len(header) < 12 or header[:4] != b"RIFF" or header[8:12] != b"sfbk":
            raise SoundfontError(f"{path}: not a soundfont (no RIFF 'sfbk' header)")
        riff_end = 8 + struct.unpack("<I", header[4:8])[0]
        position = 12
        while position + 8 <= riff_end:
            handle.seek(position)
            chunk_id, size = struct.unpack("<4sI", handle.read(8))
            if chunk_id == b"LIST" and handle.read(4) == b"pdta":
                sub, sub_end = position + 12, position + 8 + size
                while sub + 8 <= sub_end:
                    handle.seek(sub)
                    sub_id, sub_size = struct.unpack("<4sI", handle.read(8))
                    if sub_id.decode("latin-1") in names:
                        found[sub_id.decode("latin-1")] = handle.read(sub_size)
                    sub += 8 + sub_size + (sub_size & 1)
            position += 8 + size + (size & 1)
    missing = [n for n in names if n not in found]
    if missing:
        what = "preset table" if missing == ["phdr"] else "preset and instrument tables"
        raise SoundfontError(f"{path}: no {' '.join(repr(n) for n in missing)} {what} found")
    return found


# The SF2 default velocity-to-attenuation modulator (SoundFont 2.04, 8.4.2): source
# velocity, negative unipolar concave (0x0502), no second source, to initial
# attenuation (48), 960 cB, which makes level = (velocity/127) ** 2. FluidSynth lets
# an instrument zone's identical modulator replace its amount and a preset zone's
# add to it (MuseScore General's kits: 800 cB, (velocity/127) ** 1.67).
_VELOCITY_MODULATOR = (0x0502, 48, 0)
_DEFAULT_VELOCITY_CB = 960
_BAG, _MOD, _GEN = struct.Struct("<HH"), struct.Struct("<HHhHH"), struct.Struct("<HH")
_INST = struct.Struct("<20sH")
_GEN_INSTRUMENT, _GEN_SAMPLE = 41, 53


def read_velocity_exponents(path: str | os.PathLike) -> dict[tuple[int, int], float]:
    """{(bank, program): e} for every preset of a soundfont: its voices' level follows
    (velocity/127) ** e, from the velocity-to-attenuation modulator each zone ends up
    with (2.0 under the SF2 default). Where zones of one preset differ, the most
    common value (none of the Debian soundfonts' kits has more than one)."""
    path = Path(path)
    tables = _read_pdta(path, ("phdr", "pbag", "pmod", "pgen", "inst", "ibag", "imod", "igen"))

    def records(name: str, layout: struct.Struct) -> list[tuple]:
        return list(layout.iter_unpack(tables[name][:len(tables[name]) // layout.size
                                                   * layout.size]))

    phdr, instruments = records("phdr", _PHDR_RECORD), records("inst", _INST)
    preset_zones = _zones(records("pbag", _BAG), records("pgen", _GEN), records("pmod", _MOD))
    instrument_zones = _zones(records("ibag", _BAG), records("igen", _GEN),
                              records("imod", _MOD))

    def with_global(zones: list, link: int) -> list[tuple[dict, dict]]:
        # A first zone without the linking generator is the global zone: its
        # modulators apply to every zone that does not have its own.
        glob = zones[0][1] if zones and link not in zones[0][0] else {}
        return [(gens, {**glob, **mods}) for gens, mods in zones if link in gens]

    out: dict[tuple[int, int], float] = {}
    for i in range(len(phdr) - 1):
        _, program, bank, first_bag, *_ = phdr[i]
        amounts: dict[int, int] = {}
        for gens, mods in with_global(preset_zones[first_bag:phdr[i + 1][3]], _GEN_INSTRUMENT):
            index = gens[_GEN_INSTRUMENT]
            if index + 1 >= len(instruments):
                continue
            added = mods.get(_VELOCITY_MODULATOR, 0)
            zones = instrument_zones[instruments[index][1]:instruments[index + 1][1]]
            for _, inst_mods in with_global(zones, _GEN_SAMPLE):
                amount = inst_mods.get(_VELOCITY_MODULATOR, _DEFAULT_VELOCITY_CB) + added
                amounts[amount] = amounts.get(amount, 0) + 1
        if amounts and program <= 127 and bank <= 128:
            amount = max(sorted(amounts), key=amounts.__getitem__)
            out[(bank, program)] = 2.0 * amount / _DEFAULT_VELOCITY_CB
    return out


def _zones(bags: list[tuple], gens: list[tuple], mods: list[tuple]
           ) -> list[tuple[dict[int, int], dict[tuple[int, int, int], int]]]:
    """Per bag: its generators {operator: amount} and modulators {(src, dest, src2): amount}."""
    zones = []
    for (gen_start, mod_start), (gen_end, mod_end) in zip(bags, bags[1:]):
        zone_gens = {operator: amount for operator, amount in gens[gen_start:gen_end]}
        zone_mods = {(src, dest, src2): amount
                     for src, dest, amount, src2, _ in mods[mod_start:mod_end]}
        zones.append((zone_gens, zone_mods))
    return zones


if __name__ == "__main__":  # pragma: no cover - quick look at a file
    for patch in read_patches(sys.argv[1]):
        print(patch)

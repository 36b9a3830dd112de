"""Discover the patches of soundfont files and classify them by role.

Drums: bank 128 (the SF2 percussion bank), bank 120 (GM2/XG rhythm bank), and
patches whose name says kit, drums, percussion or "4pc" (the AVL kits sit at
bank 0 program 0). GM's percussive family (programs 112-119: steel drums, taiko,
synth drum, ...) are single instruments, not kits. Pitched patches follow the GM
program families (0-7 piano, 24-31 guitar, 32-39 bass); bank 127 is the GS
"MT-32 map", whose program numbers are not GM, so there only the name counts.

Two more roles voice the parts a pop arrangement has beside its rhythm
section: `lead`, the timbres that carry a melody as a singer would (choir and
voice patches, trumpet, saxophones, reeds and pipes, synth leads), and
`bridge`, those of a second, sustained accompaniment (organs, strings and
string ensembles, pads). Everything else stays `other`.
"""

from __future__ import annotations

import os
import re
import warnings
from pathlib import Path

from adtos.presets.model import DEFAULT_SYNTH, Preset
from adtos.presets.soundfonts import SoundfontError, SoundfontPatch, find_soundfonts, read_patches

DRUM_BANKS = (120, 128)
MT32_BANK = 127
GM_PERCUSSIVE_PROGRAMS = range(112, 120)
_DRUM_NAME = re.compile(r"\b(kit|drums?|drumset|percussion)\b|\b\d\s*-?\s*pc\b", re.IGNORECASE)
_FAMILY_NAMES = {
    "piano": re.compile(r"piano|\bpno\b", re.IGNORECASE),
    "guitar": re.compile(r"guitar|\bgtr\b", re.IGNORECASE),
    "bass": re.compile(r"\bbass\b(?!.*(lead|drum))", re.IGNORECASE),
}
# GM program families of the lead and bridge roles (0-based programs).
LEAD_PROGRAMS = frozenset([*range(52, 55), 56, *range(64, 88)])  # voices, trumpet, reeds, pipes, synth leads
# The contrabass (43) is no bridge voice: POP909's BRIDGE lines sit around C4-C6,
# and FluidR3's Contrabass is silent from A#3 (MIDI 58) up: a silent stem failed a track.
BRIDGE_PROGRAMS = frozenset([*range(16, 24), 40, 41, 42, 44, 45, *range(48, 52),
                             *range(88, 96)])  # organs, strings, pads
_LEAD_NAME = re.compile(r"choir|\bvoice\b|\bvox\b|\baahs?\b|\boohs?\b|\bsax|flute|\blead\b",
                        re.IGNORECASE)
_BRIDGE_NAME = re.compile(r"organ|strings?\b|\bpad\b|ensemble|violin|viola|cello",
                          re.IGNORECASE)
# MuseScore's "Expr." patches sound only under a breath or expression
# controller the assembled MIDI does not send: silent as a lead or bridge.
_CONTROLLER_NAME = re.compile(r"\bexpr\b", re.IGNORECASE)
# Sound effects named after an instrument ("Gtr. Cut Noise") are not that instrument.
_EFFECT_NAME = re.compile(r"noise|\bs?fx\b", re.IGNORECASE)


def classify_patch(bank: int, program: int, name: str) -> str:
    """The role of a soundfont patch: drums, piano, bass, guitar, lead, bridge or other."""
    if bank in DRUM_BANKS:
        return "drums"
    name = name.replace("_", " ")  # "Black_Pearl_4pc"
    if _DRUM_NAME.search(name) and program not in GM_PERCUSSIVE_PROGRAMS:
        return "drums"
    by_name = [family for family, pattern in _FAMILY_NAMES.items()
               if pattern.search(name) and not _EFFECT_NAME.search(name)]
    if bank == MT32_BANK:
        return by_name[0] if len(by_name) == 1 else _melodic_role(name, None)
    if 0 <= program <= 7:
        return "piano"
    if 24 <= program <= 31:
        return "guitar"
    if 32 <= program <= 39:
        return "bass"
    return by_name[0] if len(by_name) == 1 else _melodic_role(name, program)


def _melodic_role(name: str, program: int | None) -> str:
    """`lead`, `bridge` or `other` for a patch that is no piano, bass or guitar."""
    if _EFFECT_NAME.search(name) or _CONTROLLER_NAME.search(name):
        return "other"
    if program in LEAD_PROGRAMS or (program is None and _LEAD_NAME.search(name)):
        return "lead"
    if program in BRIDGE_PROGRAMS or (program is None and _BRIDGE_NAME.search(name)):
        return "bridge"
    return "other"


def preset_role(preset) -> str:
    """The role a preset plays: its own, or for an `other` preset of a library
    made before the lead and bridge roles existed, its patch classified again."""
    source = getattr(preset, "source", None) or {}
    if preset.role != "other" or "program" not in source:
        return preset.role
    role = classify_patch(int(source.get("bank", 0)), int(source["program"]),
                          getattr(preset, "name", "") or "")
    return role if role in ("lead", "bridge") else "other"


def scan_soundfonts(soundfonts: list[str | os.PathLike] | None = None
                    ) -> tuple[list[SoundfontPatch], list[tuple[str, str]]]:
    """Every patch of the given files (default: the search path); unreadable files skipped.

    Returns (patches, errors) with errors as (path, reason). The same real file
    given twice (a symlink and its target) counts once.
    """
    paths = find_soundfonts() if soundfonts is None else [Path(p) for p in soundfonts]
    patches: list[SoundfontPatch] = []
    errors: list[tuple[str, str]] = []
    seen: set[Path] = set()
    for path in paths:
        try:
            real = path.resolve(strict=True)
        except OSError as error:
            errors.append((str(path), f"cannot open: {error.strerror or error}"))
            continue
        if real in seen:
            continue
        seen.add(real)
        try:
            patches.extend(read_patches(path))
        except (SoundfontError, OSError, ValueError) as error:
            errors.append((str(path), str(error)))
    return patches, errors


def patch_preset(patch: SoundfontPatch, role: str | None = None) -> Preset:
    """A dry preset playing one soundfont patch as it is."""
    stem = Path(patch.soundfont).stem
    return Preset(role=role or classify_patch(patch.bank, patch.program, patch.name),
                  name=f"{stem} {patch.name}".strip(),
                  source={"type": "soundfont", "soundfont": patch.soundfont, "bank": patch.bank,
                          "program": patch.program},
                  synth=dict(DEFAULT_SYNTH))


def discover_presets(soundfonts: list[str | os.PathLike] | None = None, *,
                     errors: list[tuple[str, str]] | None = None) -> list[Preset]:
    """Every patch of the soundfonts as a dry, classified preset.

    Soundfonts that cannot be read are skipped; their (path, reason) go to
    `errors` when given, else are reported as warnings.
    """
    patches, failures = scan_soundfonts(soundfonts)
    if errors is not None:
        errors.extend(failures)
    else:
        for path, reason in failures:
            warnings.warn(f"skipped soundfont {path}: {reason}", stacklevel=2)
    return [patch_preset(patch) for patch in patches]

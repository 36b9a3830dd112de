"""Grow a preset library from the installed soundfonts to the requested counts.

Drums: every kit that passes the kit check (with its remap), then composite
kits, each piece (kick, snare, toms, hi-hat, cymbals) from a different kit with
its own tuning and gain. Other roles: the pitched patches, piano, bass and
guitar first, then the other timbres, then effect variants if more are asked
for. Every preset gets a seeded effect chain (some stay dry). Everything follows
from the seed; ids are hashes of the definitions, so they are all distinct.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from adtos.presets.discover import classify_patch, patch_preset, scan_soundfonts
from adtos.presets.effects import random_effect_chain
from adtos.presets.kitcheck import KitCheck
from adtos.presets.kitruns import LibraryReport, checked_kits, default_cache_path
from adtos.presets.model import PIECE_CLASSES, PIECE_NOTES, Preset
from adtos.presets.soundfonts import SoundfontPatch, find_soundfonts

PITCHED_FIRST = ("piano", "bass", "guitar")
TUNE_CENTS = 100.0  # composite-kit pieces are retuned by up to ± this
PIECE_GAIN_DB = 4.0  # and their level changed by up to ± this
MIN_PIECES, MAX_PIECES = 2, 5  # pieces a composite takes from other kits


def build_preset_library(soundfonts: list[str | os.PathLike] | None = None, drums: int = 512,
                         other: int = 458, seed: int = 0, val_share: float = 0.1, *,
                         report: LibraryReport | None = None,
                         cache: str | os.PathLike | None = "auto",
                         progress: bool = True, sample_rate: int = 44100,
                         workers: int | None = None) -> list[Preset]:
    """The preset library: `drums` drum presets and `other` pitched ones (see module doc).

    `cache` is a JSON file of kit-check results (keyed by soundfont name, size and
    modification time) that makes a rebuild skip the rendering; "auto" is
    `default_cache_path()`, None checks every kit again. Kit checks run in up to
    `workers` processes (default: one per CPU), one soundfont per process.
    Unreadable soundfonts are skipped and listed in `report.errors`.
    """
    if drums < 0 or other < 0:
        raise ValueError(f"preset counts must be >= 0, got drums={drums}, other={other}")
    if not 0.0 <= val_share < 1.0:
        raise ValueError(f"val_share must be in [0, 1), got {val_share}")
    report = report if report is not None else LibraryReport()
    if cache == "auto":
        cache = default_cache_path()
    patches, errors = scan_soundfonts(soundfonts)
    report.errors.extend(errors)
    paths = _soundfont_paths(soundfonts)
    by_role: dict[str, list[SoundfontPatch]] = {}
    for patch in patches:
        by_role.setdefault(classify_patch(patch.bank, patch.program, patch.name), []).append(patch)

    kits = checked_kits(by_role.get("drums", []), paths, report, cache, progress, sample_rate,
                         workers)
    rng = np.random.default_rng(seed)
    library = _drum_presets(kits, drums, rng) if drums else []
    library += _pitched_presets(by_role, other, rng) if other else []
    _assign_pools(library, val_share, seed)
    return library


def _soundfont_paths(soundfonts: list[str | os.PathLike] | None) -> list[Path]:
    if soundfonts is None:
        return find_soundfonts()
    return [Path(p) for p in soundfonts]


# -- drum kits ----------------------------------------------------------------------------


def _kit_preset(patch: SoundfontPatch, check: KitCheck, effects: list[dict[str, Any]]) -> Preset:
    base = patch_preset(patch, role="drums")
    return Preset(role="drums", name=base.name, source=base.source, remap=check.remap,
                  effects=effects)


def _drum_presets(kits: list[tuple[SoundfontPatch, KitCheck]], count: int,
                  rng: np.random.Generator) -> list[Preset]:
    if not kits:
        raise ValueError("no usable drum kit found: install soundfonts with drum kits "
                         "(Debian: fluid-soundfont-gm) or pass --soundfont")
    presets: dict[str, Preset] = {}
    order = list(rng.permutation(len(kits)))
    for index in order[:count]:
        patch, check = kits[index]
        preset = _kit_preset(patch, check, random_effect_chain(rng, "drums"))
        presets.setdefault(preset.id, preset)
    attempts = 0
    while len(presets) < count:
        attempts += 1
        if attempts > 50 * count + 1000:
            raise ValueError(f"could only make {len(presets)} distinct drum presets from "
                             f"{len(kits)} kits; ask for fewer")
        preset = composite_kit(kits, rng)
        presets.setdefault(preset.id, preset)
    return list(presets.values())


def composite_kit(kits: list[tuple[SoundfontPatch, KitCheck]], rng: np.random.Generator
                  ) -> Preset:
    """A kit whose pieces come from different kits, each retuned and re-levelled.

    The source kit plays every note outside the replaced pieces; each replaced
    piece comes from its own kit, none of them the source kit.
    """
    base_index = int(rng.integers(len(kits)))
    base_patch, base_check = kits[base_index]
    others = [i for i in range(len(kits)) if i != base_index]
    n_pieces = int(rng.integers(MIN_PIECES, min(MAX_PIECES, len(others)) + 1)) if others else 0
    piece_names = sorted(rng.choice(list(PIECE_CLASSES), size=n_pieces, replace=False).tolist(),
                         key=list(PIECE_CLASSES).index)
    donors = rng.choice(others, size=n_pieces, replace=False).tolist() if n_pieces else []
    pieces: dict[str, dict[str, Any]] = {}
    remap = {n: t for n, t in base_check.remap.items()}
    labels = []
    for piece, donor in zip(piece_names, donors):
        patch, check = kits[donor]
        pieces[piece] = {"soundfont": patch.soundfont, "bank": patch.bank,
                         "program": patch.program,
                         "tune_cents": round(float(rng.uniform(-TUNE_CENTS, TUNE_CENTS)), 0),
                         "gain_db": round(float(rng.uniform(-PIECE_GAIN_DB, PIECE_GAIN_DB)), 1)}
        for note in PIECE_NOTES[piece]:
            remap.pop(note, None)
            if note in check.remap:
                remap[note] = check.remap[note]
        labels.append(f"{piece} from {Path(patch.soundfont).stem} {patch.name}")
    base = patch_preset(base_patch, role="drums")
    return Preset(role="drums", name=f"{base.name} + " + ", ".join(labels), source=base.source,
                  pieces=pieces, remap=remap, effects=random_effect_chain(rng, "drums"))


# -- pitched roles ------------------------------------------------------------------------


def _pitched_presets(by_role: dict[str, list[SoundfontPatch]], count: int,
                     rng: np.random.Generator) -> list[Preset]:
    first = _round_robin([[(role, p) for p in by_role.get(role, [])] for role in PITCHED_FIRST],
                         rng)
    # Other timbres: melodic instruments before GM's percussive and sound-effect
    # programs (112-127: taiko, gunshot, seashore, ...), which fill in only if needed.
    extra = []
    for tier in (range(0, 112), range(112, 128)):
        group = [("other", p) for p in by_role.get("other", []) if p.program in tier]
        extra += [group[i] for i in rng.permutation(len(group))]
    if not first and not extra:
        raise ValueError("no pitched patches found in the soundfonts")
    chosen = first[:count]
    if len(chosen) < count and extra:
        chosen = chosen + extra[:count - len(chosen)]
    presets: dict[str, Preset] = {}
    for role, patch in chosen:
        preset = patch_preset(patch, role=role)
        preset = Preset(role=role, name=preset.name, source=preset.source,
                        effects=random_effect_chain(rng, role))
        presets.setdefault(preset.id, preset)
    pool = first or extra
    attempts = 0
    while len(presets) < count:  # more than installed: effect variants of the patches
        attempts += 1
        if attempts > 50 * count + 1000:
            raise ValueError(f"could only make {len(presets)} distinct pitched presets")
        role, patch = pool[int(rng.integers(len(pool)))]
        base = patch_preset(patch, role=role)
        preset = Preset(role=role, name=base.name, source=base.source,
                        effects=random_effect_chain(rng, role, dry_share=0.0))
        presets.setdefault(preset.id, preset)
    return list(presets.values())


def _round_robin(groups: list[list[Any]], rng: np.random.Generator) -> list[Any]:
    """Items of each group in seeded order, interleaved, so a prefix keeps the roles balanced."""
    shuffled = [[group[i] for i in rng.permutation(len(group))] for group in groups]
    out = []
    for i in range(max((len(g) for g in shuffled), default=0)):
        out.extend(group[i] for group in shuffled if i < len(group))
    return out


# -- pools --------------------------------------------------------------------------------


def _assign_pools(presets: list[Preset], val_share: float, seed: int) -> None:
    """A seeded `val_share` of each role goes to the validation pool, the rest to train."""
    rng = np.random.default_rng([seed, 1])
    for role in sorted({p.role for p in presets}):
        members = [p for p in presets if p.role == role]
        n_val = int(round(val_share * len(members)))
        if val_share > 0 and len(members) >= 2:
            n_val = max(1, min(n_val, len(members) - 1))
        val = set(rng.permutation(len(members))[:n_val].tolist())
        for i, preset in enumerate(members):
            preset.pool = "val" if i in val else "train"


def assign_pools(presets: list[Preset], val_share: float = 0.1, seed: int = 0) -> list[Preset]:
    """Assign (or reassign) disjoint train/val pools in place; returns the presets."""
    if not 0.0 <= val_share < 1.0:
        raise ValueError(f"val_share must be in [0, 1), got {val_share}")
    _assign_pools(presets, val_share, seed)
    return presets

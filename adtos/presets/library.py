"""Grow a preset library from the installed soundfonts to the requested counts.

Drums: every kit that passes the kit check (with its remap), then composite
kits, each piece (kick, snare, toms, hi-hat, cymbals) from a different kit with
its own tuning and gain. Other roles: the pitched patches, piano, bass,
guitar, lead and bridge first (interleaved), then the other timbres, then effect variants if more are asked
for. Every preset gets a seeded effect chain (some stay dry), every soundfont
drum preset a velocity curve (as the varied sampled kits have one). Everything
follows from the seed; ids are hashes of the definitions, so they are all distinct.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from adtos.presets.discover import classify_patch, patch_preset, scan_soundfonts
from adtos.presets.effects import random_effect_chain
from adtos.presets.kitcheck import KitCheck
from adtos.presets.kitruns import LibraryReport, checked_kits, default_cache_path
from adtos.presets.model import NOTE_PIECE, PIECE_CLASSES, PIECE_NOTES, Preset
from adtos.presets.soundfonts import SoundfontPatch, find_soundfonts

logger = logging.getLogger(__name__)

PITCHED_FIRST = ("piano", "bass", "guitar", "lead", "bridge")
TUNE_CENTS = 100.0  # composite-kit pieces are retuned by up to ± this
PIECE_GAIN_DB = 4.0  # and their level changed by up to ± this
MIN_PIECES, MAX_PIECES = 2, 5  # pieces a composite takes from other kits
# Drum presets beyond the whole kits: this share are sampled kits with per-piece
# variation (adtos.presets.variation), the rest soundfont composites.
VARIATION_SHARE = 0.75
# Seed streams of their own ([seed, stream]), so that one kind of draw never
# moves another: 1 pitched pools, 2 drum-kit pools, 3 soundfont velocity curves.
VELOCITY_CURVE_STREAM = 3


def build_preset_library(soundfonts: list[str | os.PathLike] | None = None, drums: int = 512,
                         other: int = 458, seed: int = 0, val_share: float = 0.1, *,
                         report: LibraryReport | None = None,
                         cache: str | os.PathLike | None = "auto",
                         progress: bool = True, sample_rate: int = 44100,
                         workers: int | None = None, kits: Any = "auto",
                         variation_share: float = VARIATION_SHARE,
                         velocity_curves: bool = True,
                         user_kits: Sequence[str | os.PathLike] = ()) -> list[Preset]:
    """The preset library: `drums` drum presets and `other` pitched ones (see module doc).

    `kits` are the sampled drum kits (adtos.kits) to draw from: names or paths
    of kits, None for none, or "auto": every kit on the kit search path when
    `soundfonts` is None (the default library), none when soundfonts are given
    explicitly. `user_kits` are paths of kits the user names (`adtos presets --kit`,
    `[presets.generate] kits`): used besides `kits`, with or without soundfonts,
    named in the presets by absolute path (so that render finds them without
    $ADTOS_KIT_PATH); one that cannot be read is a KitError. A partial sampled kit
    (no toms, cymbals or hi-hat at all, `adtos.presets.kitcheck.lacking_classes`) plays
    its missing pieces from a whole sampled kit of its pool, named in the preset's
    `pieces` and name. `variation_share` of the drum presets beyond the whole kits are
    sampled kits with per-piece variation; the rest are soundfont composites.
    With `velocity_curves` every soundfont drum preset (FluidSynth plays it)
    draws a velocity curve too, as the varied sampled kits do
    (`soundfont_velocity_curves`); without, it plays its kit's own curve (the
    SF2 default, level = (velocity/127)^2, in most soundfonts).

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

    if not 0.0 <= variation_share <= 1.0:
        raise ValueError(f"variation_share must be in [0, 1], got {variation_share}")
    font_kits = checked_kits(by_role.get("drums", []), paths, report, cache, progress,
                             sample_rate, workers) if drums else []
    if isinstance(kits, str) and kits == "auto":
        kits = "search path" if soundfonts is None else None
        if kits is None and drums:
            logger.info("sampled kits of the kit search path left out: soundfonts are given")
    sampled = _checked_sampled_kits(kits, report, sample_rate, progress, user_kits) \
        if drums and (kits or user_kits) else []
    entries = [_soundfont_entry(p, c) for p, c in font_kits] + sampled
    rng = np.random.default_rng(seed)
    if drums:
        library = _drum_presets(entries, drums, rng, val_share, seed, variation_share)
        if velocity_curves:
            library = soundfont_velocity_curves(library, seed)
    else:
        library = []
    pitched = _pitched_presets(by_role, other, rng) if other else []
    _assign_pools(pitched, val_share, seed)
    return library + pitched


def _soundfont_paths(soundfonts: list[str | os.PathLike] | None) -> list[Path]:
    if soundfonts is None:
        return find_soundfonts()
    return [Path(p) for p in soundfonts]


# -- drum kits ----------------------------------------------------------------------------


@dataclass
class KitEntry:
    """A usable drum kit to draw presets from: a soundfont kit or a sampled kit."""

    source: dict[str, Any]  # a preset source (type soundfont or kit)
    name: str
    check: KitCheck
    family: str  # "soundfont" or "sampled"
    # Sampled kits: GM note -> the names of every instrument mapped to it, where a
    # kit has more than one (two snares, three kicks); presets draw one of them.
    alternates: dict[int, list[str]] = field(default_factory=dict)
    # A partial kit: the pieces (PIECE_CLASSES names) it has no instrument for,
    # which its presets take from a whole kit of the pool (_fill_pieces).
    fill: tuple[str, ...] = ()

    @property
    def piece_source(self) -> dict[str, Any]:
        """What a composite's piece names to take a piece from this kit."""
        if self.family == "sampled":
            return {"kit": self.source["kit"], "format": self.source["format"]}
        return {k: self.source[k] for k in ("soundfont", "bank", "program")}


def _soundfont_entry(patch: SoundfontPatch, check: KitCheck) -> KitEntry:
    base = patch_preset(patch, role="drums")
    return KitEntry(base.source, base.name, check, "soundfont")


def _checked_sampled_kits(kits: Any, report: LibraryReport, sample_rate: int,
                          progress: bool, user_kits: Sequence[str | os.PathLike] = ()
                          ) -> list[KitEntry]:
    """Read and check sampled drum kits; percussion-only kits stay out of the drum role.

    Every kit is in `report.sampled_checks` or, when it cannot be read or
    checked, in `report.kit_errors`."""
    from tqdm import tqdm

    from adtos.presets.kitcheck import check_sampled_kit, lacking_classes
    from adtos.kits.library import kit_name, kit_reference, load_kit, load_kits
    from adtos.kits.model import KitError
    from adtos.presets.sampler import KitSampler

    found = []
    if kits == "search path":
        found, errors = load_kits()
        report.kit_errors.extend(errors)
    elif kits:
        for name in kits:
            try:
                found.append(load_kit(str(name)))
            except KitError as error:
                report.kit_errors.append((str(name), str(error)))
    # Kits the user named: by absolute path, whatever the search path holds.
    named_by_path = set()
    for path in user_kits:
        kit = load_kit(str(Path(path).resolve()))  # KitError: the user asked for this kit
        named_by_path.add(kit.path.resolve())
        if all(k.path.resolve() != kit.path.resolve() for k in found):
            found.append(kit)
    sampler = KitSampler(sample_rate)
    entries = []
    for kit in tqdm(found, desc="checking sampled kits", unit="kit", disable=not progress):
        # by name on the search path, any other kit (or one the user named) by its path
        name = kit_reference(kit, absolute=kit.path.resolve() in named_by_path)
        if kit.kind != "drums":
            report.sampled_checks.append((name, kit.format, kit.licence, None))
            continue
        try:
            check = check_sampled_kit(kit, name, sampler)
        except KitError as error:  # a sample file that cannot be read, say
            report.kit_errors.append((str(kit.path), str(error)))
            continue
        report.sampled_checks.append((name, kit.format, kit.licence, check))
        lacking = lacking_classes(kit, check)
        if lacking:
            report.partial_kits[name] = lacking
        if check.usable or lacking:
            source = {"type": "kit", "format": kit.format, "kit": name}
            alternates: dict[int, list[str]] = {}
            for instrument in kit.instruments:
                if instrument.label is not None:
                    alternates.setdefault(instrument.gm_note, []).append(instrument.name)
            alternates = {n: names for n, names in sorted(alternates.items()) if len(names) > 1
                          and n not in check.remap}
            pieces = tuple(p for p, c in PIECE_CLASSES.items() if c in lacking)
            entries.append(KitEntry(source, kit_name(kit.format, kit.path), check, "sampled",
                                    alternates, pieces))
    return entries


def _kit_preset(entry: KitEntry, effects: list[dict[str, Any]],
                variation: dict[str, Any] | None = None) -> Preset:
    return Preset(role="drums", name=entry.name + (" (varied)" if variation else ""),
                  source=entry.source, remap=entry.check.remap, effects=effects,
                  variation=variation or {})


def _split_kits(entries: list[KitEntry], val_share: float, seed: int
                ) -> dict[str, list[KitEntry]]:
    """Base kits by pool: a seeded `val_share` of each family's kits (at least one where a
    family has two or more) is validation-only, so no validation preset shares a kit with
    a training preset."""
    rng = np.random.default_rng([seed, 2])
    pools: dict[str, list[KitEntry]] = {"train": [], "val": []}
    for family in ("soundfont", "sampled"):
        members = [e for e in entries if e.family == family]
        val = _val_indices(len(members), val_share, rng)
        for i, entry in enumerate(members):
            pools["val" if i in val else "train"].append(entry)
    return pools


def _drum_presets(entries: list[KitEntry], count: int, rng: np.random.Generator,
                  val_share: float = 0.0, seed: int = 0,
                  variation_share: float = VARIATION_SHARE) -> list[Preset]:
    """Every kit once, then composites and varied sampled kits, per pool (see module doc)."""
    if not entries:
        raise ValueError("no usable drum kit found: install soundfonts with drum kits "
                         "(Debian: fluid-soundfont-gm) or pass --soundfont")
    pools = _split_kits(entries, val_share, seed)
    share = len(pools["val"]) / len(entries)
    wanted = {"val": int(round(count * share)) if pools["val"] else 0}
    wanted["train"] = count - wanted["val"]
    presets: list[Preset] = []
    for pool in ("train", "val"):
        made = _pool_presets(pools[pool], wanted[pool], rng, variation_share)
        for preset in made:
            preset.pool = pool if val_share > 0 else "train"
        presets += made
    return presets


def _pool_presets(kits: list[KitEntry], count: int, rng: np.random.Generator,
                  variation_share: float) -> list[Preset]:
    presets: dict[str, Preset] = {}
    if count <= 0 or not kits:
        return []
    wholes = [k for k in kits if k.family == "sampled" and not k.fill]
    partial = [k for k in kits if k.fill]
    if partial and not wholes:
        logger.warning(f"partial kits {', '.join(k.name for k in partial)} left out of a pool: "
                       "it has no whole sampled kit to take their missing pieces from")
        kits = [k for k in kits if not k.fill]
        if not kits:
            return []
    for index in list(rng.permutation(len(kits)))[:count]:
        preset = _kit_preset(kits[int(index)], random_effect_chain(rng, "drums"))
        preset = _fill_pieces(preset, kits, rng)
        presets.setdefault(preset.id, preset)
    families = {f: [k for k in kits if k.family == f] for f in ("soundfont", "sampled")}
    attempts = 0
    while len(presets) < count:
        attempts += 1
        if attempts > 50 * count + 1000:
            raise ValueError(f"could only make {len(presets)} distinct drum presets from "
                             f"{len(kits)} kits; ask for fewer")
        varied = families["sampled"] and (not families["soundfont"]
                                          or rng.random() < variation_share)
        if varied:
            preset = varied_kit(families["sampled"], rng)
        else:
            preset = composite_kit(families["soundfont"] or families["sampled"], rng)
        preset = _fill_pieces(preset, kits, rng)
        presets.setdefault(preset.id, preset)
    return list(presets.values())


def _fill_pieces(preset: Preset, kits: list[KitEntry], rng: np.random.Generator) -> Preset:
    """A preset on a partial kit, with each piece the kit lacks (and no composite
    piece replaced) taken from a whole sampled kit of `kits`, drawn; the preset's
    name says which, and why. Any other preset is returned as it is, and draws
    nothing from `rng` (libraries without partial kits are unchanged)."""
    if not preset.sampled:
        return preset
    base = next(k for k in kits if k.source == {key: preset.source[key]
                                                for key in ("type", "format", "kit")})
    missing = [piece for piece in base.fill if piece not in preset.pieces]
    if not missing:
        return preset
    donors = [k for k in kits if k.family == "sampled" and not k.fill]
    data = preset.to_json()
    pieces, remap, labels = dict(data.get("pieces") or {}), dict(preset.remap), []
    for piece in missing:
        donor = donors[int(rng.integers(len(donors)))]
        pieces[piece] = {**donor.piece_source, "tune_cents": 0.0, "gain_db": 0.0}
        for note in PIECE_NOTES[piece]:
            remap.pop(note, None)
            if note in donor.check.remap:
                remap[note] = donor.check.remap[note]
        labels.append(f"{piece} from {donor.name}")
    varied = " (varied)" if preset.name.endswith(" (varied)") else ""
    name = preset.name[:len(preset.name) - len(varied)]
    data.update(id="", pieces=pieces, remap={str(k): v for k, v in sorted(remap.items())},
                name=f"{name}, {', '.join(labels)} (the kit has none){varied}")
    return Preset.from_json(data)


def composite_kit(kits: list[KitEntry], rng: np.random.Generator,
                  variation: dict[str, Any] | None = None) -> Preset:
    """A kit whose pieces come from different kits of one family.

    The source kit plays every note outside the replaced pieces; each replaced
    piece comes from its own kit, none of them the source kit. Without a
    `variation` each piece is retuned (up to +-TUNE_CENTS) and re-levelled (up
    to +-PIECE_GAIN_DB); with one, the variation does that and more.
    """
    base_index = int(rng.integers(len(kits)))
    base = kits[base_index]
    # A partial kit lends no piece (it may lack the one drawn); _fill_pieces fills its own.
    others = [i for i in range(len(kits)) if i != base_index and not kits[i].fill]
    n_pieces = int(rng.integers(MIN_PIECES, min(MAX_PIECES, len(others)) + 1)) \
        if len(others) >= MIN_PIECES else len(others)
    piece_names = sorted(rng.choice(list(PIECE_CLASSES), size=n_pieces, replace=False).tolist(),
                         key=list(PIECE_CLASSES).index)
    donors = rng.choice(others, size=n_pieces, replace=False).tolist() if n_pieces else []
    pieces: dict[str, dict[str, Any]] = {}
    remap = dict(base.check.remap)
    labels = []
    for piece, donor in zip(piece_names, donors):
        entry = kits[donor]
        tune = 0.0 if variation else round(float(rng.uniform(-TUNE_CENTS, TUNE_CENTS)), 0)
        gain = 0.0 if variation else round(float(rng.uniform(-PIECE_GAIN_DB, PIECE_GAIN_DB)), 1)
        pieces[piece] = {**entry.piece_source, "tune_cents": tune, "gain_db": gain}
        for note in PIECE_NOTES[piece]:
            remap.pop(note, None)
            if note in entry.check.remap:
                remap[note] = entry.check.remap[note]
        labels.append(f"{piece} from {entry.name}")
    name = f"{base.name} + " + ", ".join(labels) if labels else base.name
    return Preset(role="drums", name=name + (" (varied)" if variation else ""),
                  source=base.source, pieces=pieces, remap=remap,
                  effects=random_effect_chain(rng, "drums"), variation=variation or {})


def varied_kit(kits: list[KitEntry], rng: np.random.Generator) -> Preset:
    """A sampled kit, whole or composite (half each), with a drawn per-piece variation."""
    from adtos.presets.variation import draw_variation

    variation = draw_variation(rng)
    if len(kits) > 1 and rng.random() < 0.5:
        preset = composite_kit(kits, rng, variation)
    else:
        preset = _kit_preset(kits[int(rng.integers(len(kits)))],
                             random_effect_chain(rng, "drums"), variation)
    # Where the base kit has several instruments for a note (a jazz and a rock
    # snare), one is drawn: recorded sounds, not only varied ones.
    entry = next(k for k in kits if k.source == {key: preset.source[key]
                                                 for key in ("type", "format", "kit")})
    chosen = {str(note): names[int(rng.integers(len(names)))]
              for note, names in entry.alternates.items()
              if NOTE_PIECE.get(note) not in preset.pieces}
    if not chosen:
        return preset
    data = preset.to_json()
    data.update(id="", source={**data["source"], "instruments": chosen})
    return Preset.from_json(data)


def soundfont_velocity_curves(presets: list[Preset], seed: int) -> list[Preset]:
    """The presets, each soundfont drum preset with a drawn `velocity_exponent`.

    The exponents come from their own seeded stream, in library order, so every
    other draw of a library (kits, composites, effect chains, pools) is what it
    is without them; only that field, and so the id, changes.
    """
    from adtos.presets.variation import draw_velocity_exponent

    rng = np.random.default_rng([seed, VELOCITY_CURVE_STREAM])
    out = []
    for preset in presets:
        if preset.role == "drums" and not preset.sampled:
            data = preset.to_json()
            data.update(id="", variation={"velocity_exponent": draw_velocity_exponent(rng)})
            preset = Preset.from_json(data)
        out.append(preset)
    return out


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


def _val_indices(count: int, val_share: float, rng: np.random.Generator) -> set[int]:
    """A seeded `val_share` of `count` members for validation: at least one and never all
    where there are two or more."""
    n_val = int(round(val_share * count))
    if val_share > 0 and count >= 2:
        n_val = max(1, min(n_val, count - 1))
    return set(rng.permutation(count)[:n_val].tolist())


def _assign_pools(presets: list[Preset], val_share: float, seed: int) -> None:
    """A seeded `val_share` of each role goes to the validation pool, the rest to train."""
    rng = np.random.default_rng([seed, 1])
    for role in sorted({p.role for p in presets}):
        members = [p for p in presets if p.role == role]
        val = _val_indices(len(members), val_share, rng)
        for i, preset in enumerate(members):
            preset.pool = "val" if i in val else "train"


def assign_pools(presets: list[Preset], val_share: float = 0.1, seed: int = 0) -> list[Preset]:
    """Assign (or reassign) disjoint train/val pools in place; returns the presets."""
    if not 0.0 <= val_share < 1.0:
        raise ValueError(f"val_share must be in [0, 1), got {val_share}")
    _assign_pools(presets, val_share, seed)
    return presets

"""The preset object model and its JSON Lines files.

A preset is everything that decides a voice's timbre: a source patch (soundfont,
bank, program), optional per-piece overrides for composite drum kits, a note
remap for kits that cannot play some GM notes, synth settings and an effect
chain. Its id is a hash of that definition, so a definition always has the same
id and two presets with the same id sound the same.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from adtos.fileio import write_text_atomic
# The drum pieces a composite kit can take from different kits, one per class of
# the 5-class vocabulary, so that every labelled note has exactly one source; they
# live in adtos.vocab so that adtos.presets.variation needs nothing from this module.
from adtos.vocab import NOTE_PIECE, PIECE_CLASSES, PIECE_NOTES  # noqa: F401 (re-exported)
from adtos.presets.variation import check_variation

ROLES: tuple[str, ...] = ("drums", "piano", "bass", "guitar", "lead", "bridge", "other")
POOLS: tuple[str | None, ...] = ("train", "val", None)

DEFAULT_SYNTH: dict[str, Any] = {"gain": 0.4, "reverb": False, "chorus": False}


@dataclass
class Preset:
    """One timbre. See docs/ARCHITECTURE.md, "Preset library", for the JSON form."""

    role: str
    source: dict[str, Any]
    name: str = ""
    pool: str | None = None
    pieces: dict[str, dict[str, Any]] = field(default_factory=dict)
    remap: dict[int, int] = field(default_factory=dict)
    synth: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_SYNTH))
    effects: list[dict[str, Any]] = field(default_factory=list)
    # Per-piece variation of a sampled kit (adtos.presets.variation): pitch,
    # decay, tilt, saturation, gain per piece and a velocity curve per kit; a
    # soundfont drum kit carries only the velocity curve.
    variation: dict[str, Any] = field(default_factory=dict)
    id: str = ""

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"preset role must be one of {ROLES}, got {self.role!r}")
        if self.pool not in POOLS:
            raise ValueError(f"preset pool must be 'train', 'val' or null, got {self.pool!r}")
        source_type = self.source.get("type", "soundfont")
        if source_type not in SOURCE_TYPES:
            raise ValueError(f"preset source type {source_type!r} is not supported "
                             f"(one of {SOURCE_TYPES})")
        if source_type == "kit":
            if self.role != "drums":
                raise ValueError(f"a sampled kit source plays drums, this preset is {self.role!r}")
            self.source = normalize_kit_source(self.source)
        else:
            for key in ("soundfont", "bank", "program"):
                if key not in self.source:
                    raise ValueError(f"preset source needs {key!r}, got {self.source}")
            self.source = {"type": "soundfont", "soundfont": str(self.source["soundfont"]),
                           "bank": int(self.source["bank"]),
                           "program": int(self.source["program"])}
        unknown = set(self.pieces) - set(PIECE_CLASSES)
        if unknown:
            raise ValueError(f"unknown drum pieces {sorted(unknown)}; expected {list(PIECE_CLASSES)}")
        if self.pieces and self.role != "drums":
            raise ValueError(f"only drum presets have pieces, this one is {self.role!r}")
        self.pieces = {p: _normalize_piece(self.pieces[p], source_type)
                       for p in PIECE_CLASSES if p in self.pieces}
        self.remap = {int(k): int(v) for k, v in sorted(self.remap.items(), key=lambda kv: int(kv[0]))}
        self.synth = {**DEFAULT_SYNTH, **self.synth}
        self.effects = [dict(e) for e in self.effects]
        if self.variation:
            self.variation = check_variation(self.variation)
            if self.source["type"] != "kit" and (self.role != "drums"
                                                 or set(self.variation) - {"velocity_exponent"}):
                # FluidSynth plays a velocity curve (adtos.presets.synth.curve_velocity)
                # but cannot retune, reshape or saturate a soundfont's samples.
                raise ValueError("a soundfont preset's variation may hold only a drum kit's "
                                 "'velocity_exponent'; per-piece variation needs a sampled kit "
                                 "source (type 'kit'), which the native sampler plays")
        for effect in self.effects:
            if "type" not in effect:
                raise ValueError(f"every effect needs a 'type' (a pedalboard class or Room), "
                                 f"got {effect}")
        expected = preset_id(self)
        if not self.id:
            self.id = expected
        elif self.id != expected:
            raise ValueError(f"preset id {self.id!r} does not match its definition "
                             f"(hash gives {expected!r}); was the definition edited by hand?")

    def definition(self) -> dict[str, Any]:
        """Everything that decides the sound: what the id hashes."""
        return {"role": self.role, "source": self.source, "pieces": self.pieces,
                "remap": {str(k): v for k, v in self.remap.items()}, "synth": self.synth,
                "effects": self.effects,
                # Only when present, so presets without one keep the ids they had.
                **({"variation": self.variation} if self.variation else {})}

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "role": self.role, "name": self.name,
                               "pool": self.pool}
        definition = self.definition()
        out["source"] = definition["source"]
        if self.pieces:
            out["pieces"] = definition["pieces"]
        if self.remap:
            out["remap"] = definition["remap"]
        out["synth"] = definition["synth"]
        out["effects"] = definition["effects"]
        if self.variation:
            out["variation"] = definition["variation"]
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Preset:
        known = {"id", "role", "name", "pool", "source", "pieces", "remap", "synth", "effects",
                 "variation"}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown preset fields {sorted(unknown)}; expected {sorted(known)}")
        return cls(role=data["role"], source=data["source"], name=data.get("name", ""),
                   pool=data.get("pool"), pieces=data.get("pieces") or {},
                   remap=data.get("remap") or {}, synth=data.get("synth") or {},
                   effects=data.get("effects") or [], variation=data.get("variation") or {},
                   id=data.get("id", ""))

    @property
    def sampled(self) -> bool:
        """True when a sampled kit (adtos.kits) plays this preset, not FluidSynth."""
        return self.source["type"] == "kit"

    def soundfonts(self) -> list[str]:
        """Every soundfont file name this preset plays from (none for a sampled kit)."""
        if self.sampled:
            return []
        names = [self.source["soundfont"]] + [p["soundfont"] for p in self.pieces.values()]
        return list(dict.fromkeys(names))

    def kits(self) -> list[tuple[str, str]]:
        """Every sampled kit (format, name) this preset plays from."""
        if not self.sampled:
            return []
        kits = [(self.source["format"], self.source["kit"])]
        kits += [(p["format"], p["kit"]) for p in self.pieces.values()]
        return list(dict.fromkeys(kits))


SOURCE_TYPES: tuple[str, ...] = ("soundfont", "kit")
KIT_SOURCE_FORMATS: tuple[str, ...] = ("hydrogen", "sfz", "folder")
# Per-hit variation of the native sampler (adtos.presets.sampler): each hit's gain is
# drawn uniformly within +-hit_gain_db and its pitch within +-hit_detune_cents
# (in steps of DETUNE_STEP_CENTS). A drummer's strokes at one velocity differ by
# about a dB; a few cents keep repeated hits from being bit-identical copies.
DEFAULT_HIT_GAIN_DB = 1.0
DEFAULT_HIT_DETUNE_CENTS = 10.0


def normalize_kit_source(source: dict[str, Any]) -> dict[str, Any]:
    """The canonical form of a sampled-kit source (see docs/presets.md, "Sampled kits")."""
    known = {"type", "format", "kit", "instruments", "hit_gain_db", "hit_detune_cents"}
    unknown = set(source) - known
    if unknown:
        raise ValueError(f"unknown kit source fields {sorted(unknown)}; expected {sorted(known)}")
    if source.get("format") not in KIT_SOURCE_FORMATS:
        raise ValueError(f"kit source 'format' must be one of {KIT_SOURCE_FORMATS}, "
                         f"got {source.get('format')!r}")
    if not source.get("kit"):
        raise ValueError(f"kit source needs 'kit' (a kit name or path), got {source}")
    instruments = {str(int(k)): str(v) for k, v in (source.get("instruments") or {}).items()}
    out: dict[str, Any] = {"type": "kit", "format": source["format"], "kit": str(source["kit"])}
    if instruments:
        out["instruments"] = dict(sorted(instruments.items(), key=lambda kv: int(kv[0])))
    out["hit_gain_db"] = round(float(source.get("hit_gain_db", DEFAULT_HIT_GAIN_DB)), 2)
    out["hit_detune_cents"] = round(float(source.get("hit_detune_cents",
                                                     DEFAULT_HIT_DETUNE_CENTS)), 1)
    if out["hit_gain_db"] < 0 or out["hit_detune_cents"] < 0:
        raise ValueError(f"hit_gain_db and hit_detune_cents must be >= 0, got {source}")
    return out


def _normalize_piece(piece: dict[str, Any], source_type: str = "soundfont") -> dict[str, Any]:
    # A composite kit takes its pieces from the same kind of source as its base:
    # FluidSynth plays soundfont pieces, the native sampler kit pieces.
    keys = ("kit", "format") if source_type == "kit" else ("soundfont", "bank", "program")
    for key in keys:
        if key not in piece:
            raise ValueError(f"drum piece of a {source_type} preset needs {key!r}, got {piece}")
    if source_type == "kit":
        if piece["format"] not in KIT_SOURCE_FORMATS:
            raise ValueError(f"drum piece 'format' must be one of {KIT_SOURCE_FORMATS}, "
                             f"got {piece['format']!r}")
        base = {"kit": str(piece["kit"]), "format": str(piece["format"])}
    else:
        base = {"soundfont": str(piece["soundfont"]), "bank": int(piece["bank"]),
                "program": int(piece["program"])}
    return {**base, "tune_cents": round(float(piece.get("tune_cents", 0.0)), 1),
            "gain_db": round(float(piece.get("gain_db", 0.0)), 2)}


def preset_id(preset: Preset) -> str:
    """`<role>-<10 hex>`: a hash of the canonical JSON of the definition."""
    canonical = json.dumps(preset.definition(), sort_keys=True, separators=(",", ":"))
    return f"{preset.role}-{hashlib.sha256(canonical.encode()).hexdigest()[:10]}"


def save_presets(presets: list[Preset], path: str | os.PathLike) -> None:
    """Write presets as JSON Lines, atomically (a killed run leaves the old file whole)."""
    ids = [p.id for p in presets]
    if len(set(ids)) != len(ids):
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        raise ValueError(f"duplicate preset ids: {duplicates[:5]}")
    lines = [json.dumps(p.to_json(), separators=(", ", ": ")) for p in presets]
    write_text_atomic(path, "".join(line + "\n" for line in lines))


def load_presets(path: str | os.PathLike) -> list[Preset]:
    """Read a preset library; errors name the file and line."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"preset library {path} does not exist")
    presets = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            presets.append(Preset.from_json(json.loads(line)))
        except (ValueError, KeyError, TypeError) as error:
            raise ValueError(f"{path}, line {number}: {error}") from error
    return presets

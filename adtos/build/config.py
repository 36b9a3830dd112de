"""The build config: one TOML file that says what dataset to build.

The schema is a handful of dataclasses. Each field's type and default come from
the dataclass; ranges and choices from its metadata. `load_config` checks the
whole file before any work starts and reports every problem at once, as

    demo.toml: [tracks].duration: expected a number > 0, got -3

Paths in the file are relative to the file's own folder, so a config and the
data it names can move together.
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import math
import os
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from adtos.errors import ConfigError
from adtos.fileio import read_toml
from adtos.render.mix import MixOptions

BUILTIN_LIBRARIES = ("loop-pack",)
# The library kinds adtos.index reads; "auto" lets it guess from the folder.
LIBRARY_KINDS = ("auto", "groove", "pop909", "generic")
VOICE_ORDER = ("drums", "piano", "bass", "guitar")
COMPANION_VOICES = ("lead", "bridge")  # play beside the piano (adtos.assemble.options)


def _meta(help: str, *, min: float | None = None, max: float | None = None,
          min_open: bool = False, choices: tuple | None = None, path: bool = False) -> dict:
    return {"help": help, "min": min, "max": max, "min_open": min_open,
            "choices": choices, "path": path}


@dataclass
class DatasetSection:
    name: str = field(default="adtos", metadata=_meta("dataset name, used in the card"))
    seed: int = field(default=0, metadata=_meta("seed of every random choice", min=0))
    sample_rate: int = field(default=44100, metadata=_meta("audio sample rate in Hz",
                                                           min=8000, max=192000))
    format: str = field(default="flac", metadata=_meta("audio file format",
                                                       choices=("flac", "wav")))


@dataclass
class LibrarySpec:
    """One loop source: a MIDI folder to index, an existing index, or a built-in pack."""

    path: str | None = field(default=None, metadata=_meta("MIDI library folder", path=True))
    kind: str = field(default="auto", metadata=_meta("library adapter", choices=LIBRARY_KINDS))
    index: str | None = field(default=None, metadata=_meta("existing loop index (.parquet)",
                                                           path=True))
    builtin: str | None = field(default=None, metadata=_meta("built-in loop library",
                                                             choices=BUILTIN_LIBRARIES))
    loop_bars: int = field(default=4, metadata=_meta("bars per loop when cutting long takes",
                                                     choices=(1, 2, 4, 8)))
    name: str | None = field(default=None, metadata=_meta("name of the index file "
                                                          "(default: folder or file name)"))


@dataclass
class GenerateSection:
    drums: int = field(default=512, metadata=_meta("drum presets to generate", min=1))
    other: int = field(default=458, metadata=_meta("pitched presets to generate", min=0))
    soundfonts: list[str] | None = field(default=None, metadata=_meta(
        "soundfont file names (default: every one found on the search path)"))
    val_share: float = field(default=0.1, metadata=_meta("share of presets kept for validation",
                                                         min=0.0, max=0.9))
    velocity_curves: bool = field(default=True, metadata=_meta(
        "soundfont drum presets draw a velocity curve (velocity_exponent in [1, 2]); "
        "false: each kit's own curve (mostly the SF2 default square law)"))
    kits: list[str] = field(default_factory=list, metadata=_meta(
        "sampled kits of your own to add (Hydrogen or kit.toml folders, .sfz files; "
        "relative to the config's folder), as `adtos presets --kit`", path=True))


@dataclass
class PresetsSection:
    library: str | None = field(default=None, metadata=_meta("preset library (.jsonl)",
                                                             path=True))
    generate: GenerateSection | None = field(default=None, metadata=_meta(
        "generate a preset library instead of reading one"))


@dataclass
class TracksSection:
    train: int = field(default=64, metadata=_meta("training tracks", min=0))
    val: int = field(default=8, metadata=_meta("validation tracks", min=0))
    duration: float = field(default=60.0, metadata=_meta("track duration in seconds",
                                                         min=0.0, min_open=True, max=3600.0))
    voices: int = field(default=4, metadata=_meta("voices: drums, +piano, +bass, +guitar",
                                                  min=1, max=4))
    lead: bool = field(default=False, metadata=_meta(
        "a lead voice: the melody of each piano loop's song section (POP909's MELODY)"))
    bridge: bool = field(default=False, metadata=_meta(
        "a second melodic voice: POP909's BRIDGE track of the same section"))
    quantize: bool = field(default=False, metadata=_meta(
        "drums on the 16th grid, velocities snapped to {100, 127}"))
    section_bars: list[int] = field(default_factory=lambda: [4, 16], metadata=_meta(
        "shortest and longest section in bars, [min, max]", min=1))
    meters: list[str] = field(default_factory=list, metadata=_meta(
        "meters allowed, e.g. [\"4/4\"]; empty = any meter of the libraries"))


@dataclass
class RenderSection:
    target_lufs: float = field(default=-23.0, metadata=_meta("loudness of each stem, LUFS",
                                                             min=-70.0, max=0.0))
    stems: bool = field(default=False, metadata=_meta("also write each voice's stem"))
    drum_stems: bool = field(default=False, metadata=_meta(
        "also write one stem per drum class (BD, SD, TT, HH, CY, other) at its level in the "
        "mix: drum_stems/<id>/<CLASS>.<format>"))
    balance_db: list[float] = field(default_factory=list, metadata=_meta(
        "drums minus accompaniment in LU, [low, high], drawn per track; [] = every stem "
        "at target_lufs"))
    master: bool = field(default=False, metadata=_meta(
        "master bus: EQ, glue compression, limiter to a drawn loudness"))
    master_lufs: list[float] = field(default_factory=lambda: [-18.0, -8.0], metadata=_meta(
        "integrated loudness of the master in LUFS, [low, high], drawn per track"))
    cymbals_db: list[float] = field(default_factory=list, metadata=_meta(
        "hi-hats and cymbals against the rest of the kit in dB, [low, high], drawn per "
        "track; [] = as the kit has them"))
    cymbals_shelf_db: list[float] = field(default_factory=list, metadata=_meta(
        "high shelf at 5 kHz on the hi-hats and cymbals in dB, [low, high], drawn per "
        "track (negative: darker); [] = none"))

    def mix_options(self):
        """The render's MixOptions (adtos.render.mix) for this section."""
        return MixOptions(balance_db=tuple(self.balance_db) if self.balance_db else None,
                          master=self.master, master_lufs=tuple(self.master_lufs),
                          cymbals_db=tuple(self.cymbals_db) if self.cymbals_db else None,
                          cymbals_shelf_db=tuple(self.cymbals_shelf_db)
                          if self.cymbals_shelf_db else None)


@dataclass
class BuildConfig:
    dataset: DatasetSection = field(default_factory=DatasetSection)
    libraries: list[LibrarySpec] = field(default_factory=list)
    presets: PresetsSection = field(default_factory=PresetsSection)
    tracks: TracksSection = field(default_factory=TracksSection)
    render: RenderSection = field(default_factory=RenderSection)
    # Not in the file: where relative paths start from, and the file itself.
    base_dir: Path = field(default=Path("."), metadata={"internal": True})
    source: str = field(default="config.toml", metadata={"internal": True})

    def resolve(self, path: str) -> Path:
        """A path from the config, made absolute against the config's folder."""
        return (self.base_dir / path).resolve() if not os.path.isabs(path) else Path(path)

    @property
    def voices(self) -> tuple[str, ...]:
        """The voices rendered: lead and bridge belong to the piano (voices >= 2)."""
        voices = VOICE_ORDER[: self.tracks.voices]
        if "piano" in voices:
            voices += tuple(v for v in COMPANION_VOICES if getattr(self.tracks, v))
        return voices


# ---------------------------------------------------------------------------
# Loading and validation


def load_config(path: str | os.PathLike, overrides: dict[str, Any] | None = None) -> BuildConfig:
    """Read and check a build config; raise one ConfigError listing every problem.

    `overrides` maps dotted keys (``"tracks.train"``) to values, applied before
    validation, so that command-line overrides are checked like the file.
    """
    path = Path(path)
    raw = read_toml(path)
    for dotted, value in (overrides or {}).items():
        section, _, key = dotted.partition(".")
        raw.setdefault(section, {})[key] = value
    return parse_config(raw, base_dir=path.resolve().parent, source=path.name)


def parse_config(raw: dict, *, base_dir: str | os.PathLike = ".",
                 source: str = "config.toml") -> BuildConfig:
    """Check a parsed TOML document against the schema; see `load_config`."""
    problems: list[str] = []
    config = _parse_table(BuildConfig, raw, "", problems, source)
    config.base_dir = Path(base_dir)
    config.source = source
    # Cross-field checks run on what parsed (a bad value fell back to its
    # default), so that one run lists every problem of the file.
    _check_semantics(config, problems, source)
    if problems:
        listing = "\n  ".join(problems)
        plural = "s" if len(problems) > 1 else ""
        raise ConfigError(f"{len(problems)} problem{plural} in the build config:\n  {listing}")
    return config


def _public_fields(cls) -> list[dataclasses.Field]:
    return [f for f in dataclasses.fields(cls) if not f.metadata.get("internal")]


def _parse_table(cls, raw: Any, where: str, problems: list[str], source: str):
    """Build dataclass `cls` from TOML table `raw`, appending problems instead of raising."""
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in _public_fields(cls)}
    label = f"[{where}]" if where else "top level"
    if not isinstance(raw, dict):
        problems.append(f"{source}: {label}: expected a table, got {_show(raw)}")
        return cls()
    values = {}
    for key, value in raw.items():
        if key not in fields:
            guess = difflib.get_close_matches(key, list(fields), n=1, cutoff=0.6)
            hint = f"; did you mean '{guess[0]}'?" if guess else \
                f"; valid keys: {', '.join(fields)}"
            what = "section" if not where else "key"
            name = f"[{key}]" if not where else f"{label}.{key}"
            problems.append(f"{source}: {name}: unknown {what}{hint}")
            continue
        hint = hints[key]
        sub = f"{where}.{key}" if where else key
        values[key] = _parse_value(hint, value, sub, fields[key], problems, source)
    return cls(**{k: v for k, v in values.items() if v is not _INVALID})


_INVALID = object()


def _parse_value(hint, value, where: str, fld: dataclasses.Field, problems: list[str],
                 source: str):
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):  # `X | None`: None is simply "not given"
        hint = next(a for a in typing.get_args(hint) if a is not type(None))
        origin = typing.get_origin(hint)
    section, _, key = where.rpartition(".")
    name = f"[{section}].{key}" if section else f"[{key}]"

    def bad(expected: str, hint: str = "") -> object:
        problems.append(f"{source}: {name}: expected {expected}, got {_show(value)}{hint}")
        return _INVALID

    if dataclasses.is_dataclass(hint):
        return _parse_table(hint, value, where, problems, source)
    if origin is list:
        (item,) = typing.get_args(hint)
        if not isinstance(value, list):
            return bad(f"a list ({'tables' if dataclasses.is_dataclass(item) else 'strings'})")
        if dataclasses.is_dataclass(item):
            return [_parse_table(item, v, f"{where}[{i}]", problems, source)
                    for i, v in enumerate(value)]
        if item is int:
            low = fld.metadata.get("min")
            if not all(isinstance(v, int) and not isinstance(v, bool)
                       and (low is None or v >= low) for v in value):
                return bad("a list of integers" + (f" >= {low:g}" if low is not None else ""))
        elif item is float:
            if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
                       for v in value):
                return bad("a list of numbers")
            return [float(v) for v in value]
        elif not all(isinstance(v, str) for v in value):
            return bad("a list of strings")
        return list(value)
    if hint is bool:
        return value if isinstance(value, bool) else bad("true or false")
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            return bad(_range_text("an integer", fld.metadata))
    elif hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) \
                or not math.isfinite(value):
            return bad(_range_text("a number", fld.metadata))
        value = float(value)
    elif hint is str:
        if not isinstance(value, str):
            return bad("a string" + (" (path)" if fld.metadata.get("path") else ""))
        choices = fld.metadata.get("choices")
        if choices and value not in choices:
            guess = difflib.get_close_matches(value, choices, n=1, cutoff=0.6)
            return bad("one of " + ", ".join(repr(c) for c in choices),
                       f"; did you mean '{guess[0]}'?" if guess else "")
        return value
    meta = fld.metadata
    if meta.get("choices") and value not in meta["choices"]:
        return bad("one of " + ", ".join(repr(c) for c in meta["choices"]))
    low, high = meta.get("min"), meta.get("max")
    if (low is not None and (value < low or (meta.get("min_open") and value == low))) or \
            (high is not None and value > high):
        return bad(_range_text("an integer" if hint is int else "a number", meta))
    return value


def _range_text(kind: str, meta: dict) -> str:
    low, high = meta.get("min"), meta.get("max")
    fmt = (lambda v: f"{v:g}")
    if low is not None and high is not None:
        return f"{kind} in {'(' if meta.get('min_open') else '['}{fmt(low)}, {fmt(high)}]"
    if low is not None:
        return f"{kind} {'>' if meta.get('min_open') else '>='} {fmt(low)}"
    if high is not None:
        return f"{kind} <= {fmt(high)}"
    return kind


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    return str(value)


def _check_semantics(config: BuildConfig, problems: list[str], source: str) -> None:
    """Checks that span fields: exactly one source per library, paths that exist."""
    if not config.libraries:
        problems.append(f"{source}: [[libraries]]: expected at least one loop library "
                        "(path = ..., index = ... or builtin = \"loop-pack\"), got none")
    for i, lib in enumerate(config.libraries):
        name = f"[libraries[{i}]]"
        given = [k for k in ("path", "index", "builtin") if getattr(lib, k) is not None]
        if len(given) != 1:
            problems.append(f"{source}: {name}: expected exactly one of path, index, builtin, "
                            f"got {', '.join(given) or 'none'}")
            continue
        if lib.path is not None and not config.resolve(lib.path).is_dir():
            problems.append(f"{source}: {name}.path: expected an existing folder, got "
                            f"{lib.path!r} (resolved to {config.resolve(lib.path)})")
        if lib.index is not None and not config.resolve(lib.index).is_file():
            problems.append(f"{source}: {name}.index: expected an existing .parquet file, got "
                            f"{lib.index!r} (resolved to {config.resolve(lib.index)})")
    names = [library_name(lib) for lib in config.libraries
             if sum(getattr(lib, k) is not None for k in ("path", "index", "builtin")) == 1]
    for dup in sorted({n for n in names if names.count(n) > 1}):
        problems.append(f"{source}: [[libraries]]: expected distinct library names, got "
                        f"{dup!r} twice (set name = ... on one of them)")
    presets = config.presets
    if (presets.library is None) == (presets.generate is None):
        problems.append(f"{source}: [presets]: expected exactly one of library = \"FILE.jsonl\" "
                        "or [presets.generate], got "
                        + ("both" if presets.library is not None else "neither"))
    elif presets.library is not None and not config.resolve(presets.library).is_file():
        problems.append(f"{source}: [presets].library: expected an existing .jsonl file, got "
                        f"{presets.library!r} (resolved to {config.resolve(presets.library)})")
    low_high = config.tracks.section_bars
    if len(low_high) != 2 or low_high[0] > low_high[1]:
        problems.append(f"{source}: [tracks].section_bars: expected [min, max] with min <= max, "
                        f"got {low_high}")
    render = config.render
    if render.balance_db and len(render.balance_db) != 2:
        problems.append(f"{source}: [render].balance_db: expected [] or [low, high] in LU, "
                        f"got {render.balance_db}")
    elif len(render.master_lufs) != 2:
        problems.append(f"{source}: [render].master_lufs: expected [low, high] in LUFS, "
                        f"got {render.master_lufs}")
    elif any(len(value) not in (0, 2) for value in (render.cymbals_db, render.cymbals_shelf_db)):
        problems.append(f"{source}: [render].cymbals_db and cymbals_shelf_db: expected [] or "
                        f"[low, high] in dB, got {render.cymbals_db} and {render.cymbals_shelf_db}")
    else:
        try:
            render.mix_options()
        except ValueError as error:
            problems.append(f"{source}: [render].{error}")
    if config.tracks.train + config.tracks.val == 0:
        problems.append(f"{source}: [tracks]: expected train + val >= 1, got 0 tracks")


def library_name(lib: LibrarySpec) -> str:
    """The name a library's index file gets under DIR/index/."""
    if lib.name:
        return lib.name
    if lib.builtin:
        return lib.builtin
    return Path(lib.index or lib.path or "library").stem or "library"


# ---------------------------------------------------------------------------
# Writing the resolved config


def config_to_toml(config: BuildConfig, relative_to: str | os.PathLike | None = None,
                   index_dir: str | os.PathLike | None = None) -> str:
    """The config with every default filled in, as TOML.

    Paths are rewritten relative to `relative_to` (the dataset folder) so that
    the copy stays valid where it is written and holds no absolute path. A
    dataset folder rebuilds from itself: the preset library is named as the
    folder's own copy (`presets.jsonl`), and with `index_dir` (where the build
    keeps its loop indexes, DIR/index) a MIDI folder is named by its index
    there, so the sources outside the folder need not exist any more.
    """
    def path_text(value: str) -> str:
        if relative_to is None:
            return value
        return Path(os.path.relpath(config.resolve(value), Path(relative_to).resolve())).as_posix()

    if relative_to is not None:  # absolute here, relative to the folder when written
        config = copy.deepcopy(config)
        if config.presets.library is not None:
            config.presets.library = str(Path(relative_to).resolve() / "presets.jsonl")
        if index_dir is not None:
            for lib in config.libraries:
                if lib.path is not None:
                    lib.index = str(Path(index_dir).resolve() / f"{library_name(lib)}.parquet")
                    lib.path = None

    lines = ["# Resolved build config: every default filled in. Paths are relative to",
             "# this file's folder, so `adtos build config.toml --out .` rebuilds here.", ""]

    def table(header: str, obj) -> None:
        lines.append(header)
        nested = []
        for f in _public_fields(type(obj)):
            value = getattr(obj, f.name)
            if value is None:
                continue
            if dataclasses.is_dataclass(value):
                nested.append((f.name, value))
                continue
            if f.metadata.get("path"):
                value = [path_text(v) for v in value] if isinstance(value, list) \
                    else path_text(value)
            lines.append(f"{f.name} = {_toml_value(value)}")
        lines.append("")
        for name, sub in nested:
            table(f"[{header.strip('[]')}.{name}]", sub)

    table("[dataset]", config.dataset)
    for lib in config.libraries:
        table("[[libraries]]", lib)
    table("[presets]", config.presets)
    table("[tracks]", config.tracks)
    table("[render]", config.render)
    return "\n".join(lines)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {value!r} as TOML")

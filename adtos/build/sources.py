"""Where a build's loops and presets come from: the index and presets steps.

    DIR/index/<name>.parquet   one loop index per library (a given index is read in place)
    DIR/index/loop-pack/       the built-in pack's MIDI, generated with the dataset's seed
    DIR/presets.jsonl          the preset library used, copied or generated

Both steps skip work whose output exists, so a resumed build reuses them.
"""

from __future__ import annotations

import logging
import shutil
import zlib
from collections import Counter
from pathlib import Path

import pyarrow as pa

from adtos.build.config import BuildConfig, library_name
from adtos.errors import ConfigError
from adtos.fileio import atomic_path, sha256_file
from adtos.index import (LibraryError, index_library, make_loop_pack, read_loop_index,
                         write_loop_index)
from adtos.presets import build_preset_library, load_presets, save_presets
from adtos.presets.soundfonts import resolve_soundfont
from adtos.render.pipeline import forget_render_settings, rendered_track_count


logger = logging.getLogger(__name__)


def index_step(config: BuildConfig, out_dir: Path, workers: int | None) -> list[tuple[str, str, pa.Table]]:
    """(name, kind, loops table) per library; indexes are built once under DIR/index/."""
    tables = []
    for lib in config.libraries:
        name = library_name(lib)
        if lib.index is not None:
            # A rebuilt folder names its libraries by their index: keep the kind for the card.
            kind = lib.kind if lib.kind != "auto" else "index"
            tables.append((name, kind, read_given_index(config, lib.index)))
            continue
        target = out_dir / "index" / f"{name}.parquet"
        if lib.builtin is not None:
            source, kind = out_dir / "index" / name, "auto"
            if not target.is_file():
                logger.info(f"generating the built-in {lib.builtin} into {source}")
                make_loop_pack(source, seed=config.dataset.seed)
        else:
            source, kind = config.resolve(lib.path), lib.kind
        if not target.is_file():
            logger.info(f"indexing {source} ({kind})")
            try:
                index = index_library(source, kind, loop_bars=lib.loop_bars, workers=workers,
                                      library=lib.name, progress=True)
            except LibraryError as error:
                raise ConfigError(f"{config.source}: [[libraries]] {name}: {error}") from None
            if lib.builtin is not None:
                index.loops = hold_out_sources(index.loops, BUILTIN_VAL_SHARE)
            if index.errors:
                logger.info(f"{len(index.errors)} inputs of {name} skipped (see {target.stem}.errors.csv)")
            write_loop_index(index, target)
        tables.append((name, lib.builtin or lib.kind, read_loop_index(target)))
    return tables


# Share of the built-in pack's source files kept for validation tracks.
BUILTIN_VAL_SHARE = 0.2


def hold_out_sources(loops: pa.Table, share: float) -> pa.Table:
    """Re-split a small library by source file so that validation has every kind of loop.

    The generic adapter splits by theme (folder), one in ten: right for a large
    library, but the built-in pack has only 18 folders (role/genre), which
    can leave validation without any drum loop. Here every (role, genre,
    beat/fill) group with two or more files gives about `share` of its files,
    at least one, to `val`; the choice is a hash of the file name, so it is the
    same on every machine.
    """
    def position(source: str) -> float:
        return zlib.crc32(source.encode()) / 2**32

    groups: dict[tuple, set[str]] = {}
    for role, genre, beat_type, source in zip(*(loops.column(c).to_pylist() for c in
                                                ("role", "genre", "beat_type", "source"))):
        groups.setdefault((role, genre, beat_type), set()).add(source)
    held_out: set[str] = set()
    for sources in groups.values():
        if len(sources) < 2:
            continue
        ranked = sorted(sources, key=position)
        count = min(len(ranked) - 1, max(1, round(share * len(ranked))))
        held_out.update(ranked[:count])
    split = ["val" if source in held_out else "train"
             for source in loops.column("source").to_pylist()]
    return loops.set_column(loops.column_names.index("split"), "split",
                            pa.array(split, loops.schema.field("split").type))


def read_given_index(config: BuildConfig, path: str) -> pa.Table:
    try:
        return read_loop_index(config.resolve(path))
    except (OSError, ValueError) as error:
        raise ConfigError(f"{config.source}: [[libraries]] index = {path!r}: {error}") from None


def soundfont_paths(config: BuildConfig) -> list[Path] | None:
    """[presets.generate].soundfonts as files: names are looked up on the soundfont
    search path (Debian folders, pretty_midi's TimGM6mb, $ADTOS_SOUNDFONT_PATH),
    paths relative to the config's folder."""
    names = config.presets.generate.soundfonts if config.presets.generate else None
    if names is None:
        return None
    paths, missing = [], []
    for name in names:
        local = config.resolve(name)
        try:
            paths.append(local if ("/" in name and local.is_file()) else resolve_soundfont(name))
        except FileNotFoundError as error:
            missing.append(f"{config.source}: [presets.generate].soundfonts: {error}")
    if missing:
        raise ConfigError("\n".join(missing))
    return paths


def user_kit_paths(config: BuildConfig) -> list[Path]:
    """[presets.generate].kits as paths (relative to the config's folder); a missing
    one is a ConfigError naming it, before any work."""
    names = config.presets.generate.kits if config.presets.generate else []
    paths = [config.resolve(name) for name in names]
    missing = [f"{config.source}: [presets.generate].kits: {name!r}: no such file or folder "
               f"({path})" for name, path in zip(names, paths) if not path.exists()]
    if missing:
        raise ConfigError("\n".join(missing))
    return paths


def presets_step(config: BuildConfig, out_dir: Path) -> list:
    """The preset library, kept as DIR/presets.jsonl so the dataset names what it used."""
    target = out_dir / "presets.jsonl"
    if target.is_file() and config.presets.library is not None:
        refresh_stale_copy(config.resolve(config.presets.library), target, out_dir)
    if not target.is_file():
        if config.presets.library is not None:
            source = config.resolve(config.presets.library)
            try:
                load_presets(source)  # a broken library fails here, before it is copied
            except ValueError as error:
                raise ConfigError(f"{config.source}: [presets].library: {error}") from None
            with atomic_path(target) as tmp:
                shutil.copyfile(source, tmp)
        else:
            generate = config.presets.generate
            logger.info(f"generating {generate.drums} drum and {generate.other} other presets")
            library = build_preset_library(soundfonts=soundfont_paths(config),
                                           drums=generate.drums,
                                           other=generate.other, seed=config.dataset.seed,
                                           val_share=generate.val_share,
                                           velocity_curves=generate.velocity_curves,
                                           user_kits=user_kit_paths(config))
            save_presets(library, target)
    return load_presets(target)


def refresh_stale_copy(source: Path, copy: Path, out_dir: Path) -> None:
    """Check a build's copy of an input against its source (sha256).

    A library fixed in place after a failed build used to be ignored: the
    broken copy was rendered with again. While no track has been rendered
    the copy is dropped (and copied again by the caller); once tracks exist
    the dataset would mix two libraries, so the build stops and says so.
    """
    if not source.is_file() or sha256_file(source) == sha256_file(copy):
        return
    rendered = rendered_track_count(out_dir)
    if rendered:
        raise ConfigError(f"{source} differs from {copy}, the copy {rendered} tracks of "
                          f"{out_dir} were rendered with; restore it, or build into a new --out "
                          "folder")
    logger.warning(f"{source} changed since it was copied and no track is rendered yet: copying it again")
    forget_render_settings(out_dir)  # the render settings named the old one
    copy.unlink()


def library_counts(tables: list[tuple[str, str, pa.Table]]) -> list[tuple[str, str, int]]:
    """(library, kind, loops) for the card; a library is named as its loop ids are."""
    rows = []
    for _, kind, table in tables:
        for library, count in sorted(Counter(table.column("library").to_pylist()).items()):
            rows.append((library, kind, count))
    return rows

"""`adtos build`: config → dataset folder, one resumable step at a time.

    DIR/
      config.toml          the resolved config (written first: it pins the folder to one config)
      index/<name>.parquet one loop index per library (the built-in pack's MIDI in index/<name>/)
      presets.jsonl        the preset library used (copied or generated)
      assembled/train/     assemble's output for the training split   (ids train00000, ...)
      assembled/val/       ... and for validation, from held-out loops (ids val00000, ...)
      tracks/              both merged (hard links): the one tracks folder render reads
      audio/ annotations/ midi/ render.parquet     render's output
      manifest.parquet     one row per track (adtos.build.manifest)
      README.md            the dataset card

Every step skips work whose output exists, and every output is written under
a temporary name and renamed, so a build stopped anywhere and started again
finishes with the same files as one that ran through.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import shutil
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Callable

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from adtos import __version__
from adtos.assemble import AssembleOptions, assemble_tracks
from adtos.assemble.options import AssembleError
from adtos.build import config as config_module
from adtos.build.card import render_card
from adtos.build.config import BuildConfig, config_to_toml
from adtos.build.manifest import build_manifest, write_manifest
from adtos.build.sources import (index_step, library_counts, presets_step, read_given_index,
                                 soundfont_paths, user_kit_paths)
from adtos.errors import ConfigError
from adtos.fileio import atomic_path, folder_lock, remove_partials, write_text_atomic
from adtos.presets import load_presets
from adtos.render import RenderInputError, render_tracks
from adtos.render.pipeline import check_soundfonts

logger = logging.getLogger(__name__)

SPLITS = ("train", "val")
# Seeds of the two assemblies differ so that validation tracks are not the
# training tracks' random choices replayed on other loops.
SPLIT_SEED_OFFSET = {"train": 0, "val": 7919}


@dataclass
class BuildReport:
    out_dir: Path
    tracks: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)  # (track_id, reason)
    hours: float = 0.0
    seconds: dict[str, float] = field(default_factory=dict)  # wall time per step

    def summary(self) -> str:
        steps = ", ".join(f"{k} {v:.1f}s" for k, v in self.seconds.items())
        text = (f"{self.tracks} tracks, {self.hours * 60:.1f} min of audio in {self.out_dir} "
                f"({steps})")
        if self.failed:
            text += f"; {len(self.failed)} tracks failed (see render_errors.csv)"
        if not self.tracks:
            text += "; no track was rendered: the dataset is empty, fix the cause and run again"
        return text


# ---------------------------------------------------------------------------
# Steps


VARIANT_MARK = "# A variant of "


def pin_config(config: BuildConfig, out_dir: Path, header: str = "",
               index_dir: Path | None = None) -> str:
    """Write DIR/config.toml, or check that DIR was started with the same config.

    Resuming a folder with another config would mix two datasets in one.
    `header` (comment lines) marks a variant's folder, so that building into it
    as a dataset of its own is refused too. Paths are stored relative to DIR, so
    a dataset moved to another folder depth stores other paths for the same
    files: those are compared by file name and the stored copy is brought up to date.
    """
    text = header + config_to_toml(config, relative_to=out_dir,
                                   index_dir=index_dir or out_dir / "index")
    path = out_dir / "config.toml"
    if path.is_file():
        previous = path.read_text()
        if previous != text:
            if previous.startswith(VARIANT_MARK) and not header:
                how = "".join(line.removeprefix("#") + "\n" for line in
                              previous.splitlines()[:3] if line.startswith("#"))
                raise ConfigError(f"{out_dir} is a variant of another build:\n{how.rstrip()}")
            changed = config_differences(previous, text)
            if changed or previous.startswith(VARIANT_MARK) != bool(header):
                raise ConfigError(f"{path}: {out_dir} was started with a different config "
                                  f"({'; '.join(changed) or 'a variant header'}); build into a "
                                  "new --out folder, or delete this one to start over")
            write_text_atomic(path, text)  # same config, paths as seen from where DIR is now
        return text
    out_dir.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, text)
    return text


def config_differences(previous: str, current: str) -> list[str]:
    """'key: old then, new now' for each value that differs between two stored configs;
    path values count as equal when they name the same file."""
    def flat(value, key: str = "") -> dict[str, object]:
        if isinstance(value, dict):
            return {k: v for name, item in value.items()
                    for k, v in flat(item, f"{key}.{name}" if key else name).items()}
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            return {k: v for i, item in enumerate(value) for k, v in flat(item, f"{key}[{i}]").items()}
        return {key: value}

    before, now = flat(tomllib.loads(previous)), flat(tomllib.loads(current))
    changed = []
    for key in sorted(set(before) | set(now)):
        old, new = before.get(key), now.get(key)
        if old == new:
            continue
        if (key.rsplit(".", 1)[-1] in PATH_KEYS and isinstance(old, str) and isinstance(new, str)
                and PurePosixPath(old).name == PurePosixPath(new).name):
            continue
        changed.append(f"{key}: {old!r} then, {new!r} now")
    return changed


def _path_keys() -> frozenset[str]:
    return frozenset(f.name for cls in vars(config_module).values()
                     if isinstance(cls, type) and dataclasses.is_dataclass(cls)
                     for f in dataclasses.fields(cls) if f.metadata.get("path"))


PATH_KEYS = _path_keys()


def preflight(config: BuildConfig) -> None:
    """The checks that need the stages' own readers, before anything is written:
    given loop indexes and preset library readable, every soundfont and sampled kit of the
    library installed, assemble options valid."""
    for lib in config.libraries:
        if lib.index is not None:
            read_given_index(config, lib.index)
    if config.presets.library is not None:
        library = config.resolve(config.presets.library)
        try:
            check_soundfonts(load_presets(library), library)
        except RenderInputError as error:
            raise ConfigError(f"{config.source}: [presets].library: {error}") from None
        except (OSError, ValueError) as error:
            raise ConfigError(f"{config.source}: [presets].library: {error}") from None
    soundfont_paths(config)
    user_kit_paths(config)
    for split in SPLITS:
        try:
            assemble_options(config, split, max(1, getattr(config.tracks, split)))
        except AssembleError as error:
            raise ConfigError(f"{config.source}: [tracks]: {error}") from None


def assemble_step(config: BuildConfig, loops: pa.Table, out_dir: Path) -> Path:
    """Assemble train and val separately, then merge them into DIR/tracks/."""
    counts = {"train": config.tracks.train, "val": config.tracks.val}
    available = {split: loops.filter(pc.equal(loops.column("split"), split)).num_rows
                 for split in SPLITS}
    for split in SPLITS:  # both checked before either is assembled
        if counts[split] and not available[split]:
            raise ConfigError(f"no loops of split {split!r} in the libraries; cannot assemble "
                           f"{split} tracks (set [tracks].{split} = 0 or add a library)")
    parts = []
    for split in SPLITS:
        if counts[split] == 0:
            continue
        part = out_dir / "assembled" / split
        parts.append(part)
        if (part / "tracks.parquet").is_file():
            continue
        logger.info(f"assembling {counts[split]} {split} tracks from {available[split]} {split} loops")
        # assemble draws only loops of options.split: validation tracks hear
        # no loop a training track hears.
        try:
            assemble_tracks(loops, part, assemble_options(config, split, counts[split]))
        except AssembleError as error:
            raise ConfigError(f"assemble {split} tracks ({config.source}, [tracks]): {error}") \
                from None
    return merge_tracks(parts, out_dir / "tracks")


def assemble_options(config: BuildConfig, split: str, count: int):
    wanted = dict(tracks=count, duration=config.tracks.duration, voices=config.tracks.voices,
                  lead=config.tracks.lead, bridge=config.tracks.bridge,
                  seed=config.dataset.seed + SPLIT_SEED_OFFSET[split],
                  quantize=config.tracks.quantize, split=split, id_prefix=split)
    wanted["section_bars"] = tuple(config.tracks.section_bars)
    wanted["meters"] = tuple(config.tracks.meters)
    known = {f.name for f in dataclasses.fields(AssembleOptions)}
    unknown = set(wanted) - known
    if unknown:
        raise ConfigError(f"this version of adtos.assemble has no option {sorted(unknown)}")
    return AssembleOptions(**wanted)


def merge_tracks(parts: list[Path], target: Path) -> Path:
    """One tracks folder from several: hard links to the files, tables concatenated."""
    if (target / "tracks.parquet").is_file():
        return target
    tables = []
    for part in parts:
        table = pq.read_table(part / "tracks.parquet")
        tables.append(table)
        for sub in ("midi", "annotations"):
            (target / sub).mkdir(parents=True, exist_ok=True)
            remove_partials(target / sub)
            for track_id in table.column("track_id").to_pylist():
                for src in sorted((part / sub).glob(f"{track_id}.*")):
                    dst = target / sub / src.name
                    if not dst.exists():
                        _link_or_copy(src, dst)
    merged = pa.concat_tables(tables, promote_options="default")
    with atomic_path(target / "tracks.parquet") as tmp:
        pq.write_table(merged, tmp)
    return target


def _link_or_copy(src: Path, dst: Path) -> None:
    with atomic_path(dst) as tmp:
        tmp.unlink()
        try:
            os.link(src, tmp)
        except OSError:  # another filesystem, or links not allowed
            shutil.copyfile(src, tmp)


def render_step(config: BuildConfig, tracks_dir: Path, presets: list, out_dir: Path, *,
                voices: tuple[str, ...], workers: int | None, executor: str,
                address: str | None):
    try:
        return render_tracks(tracks_dir, presets, out_dir, voices=voices, workers=workers,
                             executor=executor, address=address,
                             sample_rate=config.dataset.sample_rate, fmt=config.dataset.format,
                             stems=config.render.stems, target_lufs=config.render.target_lufs,
                             mix=config.render.mix_options(), seed=config.dataset.seed,
                             drum_stems=config.render.drum_stems)
    except RenderInputError as error:
        raise ConfigError(f"render: {error}") from None


def finish_step(config: BuildConfig, out_dir: Path, tracks_dir: Path,
                libraries: list[tuple[str, str, int]], config_text: str, *,
                voices: tuple[str, ...], quantized: bool, base: str | None) -> pa.Table:
    """manifest.parquet and README.md from what assemble and render wrote."""
    tracks = pq.read_table(tracks_dir / "tracks.parquet")
    render_path = out_dir / "render.parquet"
    render = pq.read_table(render_path) if render_path.is_file() else \
        pa.table({"track_id": pa.array([], pa.string())})
    manifest = build_manifest(tracks, render, out_dir, voices=voices, quantized=quantized,
                              base=base, audio_format=config.dataset.format)
    write_manifest(manifest, out_dir / "manifest.parquet")
    presets_path = out_dir / "presets.jsonl"
    presets = [json.loads(line) for line in presets_path.read_text().splitlines() if line.strip()] \
        if presets_path.is_file() else []
    card = render_card(manifest, name=config.dataset.name, libraries=libraries, presets=presets,
                       config_text=config_text, version=__version__, base=base,
                       stems=config.render.stems, drum_stems=config.render.drum_stems)
    write_text_atomic(out_dir / "README.md", card)
    return manifest


# ---------------------------------------------------------------------------
# The whole build


def step_timer(report: BuildReport) -> Callable[[str], None]:
    """`lap(step)` records the wall time since the previous lap in `report.seconds[step]`."""
    clock = time.perf_counter()

    def lap(step: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        report.seconds[step] = now - clock
        clock = now

    return lap


@dataclass
class BaseSteps:
    """What the steps a build and its variants share leave behind."""

    config_text: str  # the pinned config.toml
    tables: list  # (library name, kind, loop table) per library
    presets: list
    tracks_dir: Path


def base_steps(config: BuildConfig, out_dir: Path, workers: int | None,
               lap: Callable[[str], None]) -> BaseSteps:
    """Pin the config, index, presets, assemble into `out_dir` (each resumes); run
    `preflight` first."""
    config_text = pin_config(config, out_dir)
    for folder in (out_dir, out_dir / "index"):  # what a killed build left half-written
        if folder.is_dir():
            remove_partials(folder)
    tables = index_step(config, out_dir, workers)
    lap("index")
    presets = presets_step(config, out_dir)
    lap("presets")
    loops = pa.concat_tables([t for _, _, t in tables], promote_options="default")
    tracks_dir = assemble_step(config, loops, out_dir)
    lap("assemble")
    return BaseSteps(config_text, tables, presets, tracks_dir)


def finish_report(report: BuildReport, manifest: pa.Table, render_report) -> BuildReport:
    report.tracks = manifest.num_rows
    report.hours = sum(manifest.column("duration").to_pylist()) / 3600
    report.failed = list(getattr(render_report, "failed", []) or [])
    return report


def build_dataset(config: BuildConfig, out_dir: str | os.PathLike, *, workers: int | None = None,
                  executor: str = "local", address: str | None = None) -> BuildReport:
    """Run index → presets → assemble → render → manifest → card into `out_dir`."""
    out_dir = Path(out_dir)
    preflight(config)
    # One build per folder (the lock also checks that the folder is writable).
    with folder_lock(out_dir, "adtos build"):
        report = BuildReport(out_dir=out_dir)
        lap = step_timer(report)
        base = base_steps(config, out_dir, workers, lap)
        render_report = render_step(config, base.tracks_dir, base.presets, out_dir,
                                    voices=config.voices, workers=workers, executor=executor,
                                    address=address)
        lap("render")
        manifest = finish_step(config, out_dir, base.tracks_dir, library_counts(base.tables),
                               base.config_text, voices=config.voices,
                               quantized=config.tracks.quantize, base=None)
        lap("manifest")
        return finish_report(report, manifest, render_report)

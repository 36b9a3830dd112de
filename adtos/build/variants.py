"""Dataset variants for the paper's ablations: the same tracks, rendered differently.

`adtos build CONFIG --out out/ds --variant voices=1` renders the assembled
tracks of `out/ds` again with the drums alone into `out/ds.voices1`;
`--variant quantize=true` snaps the drums to the 16th grid (velocities to
{100, 127}) into `out/ds.quantized`. Both flags together give
`out/ds.voices1.quantized`. Every loop placement is the base's, so a
difference between models trained on a base and its variant comes from the
ablated factor alone. The variant's manifest names its base in `base`.
"""

from __future__ import annotations

import copy
import difflib
import os
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from tqdm import tqdm

from adtos.assemble import quantize_track_file
from adtos.build import pipeline, sources
from adtos.build.config import BuildConfig, VOICE_ORDER
from adtos.errors import ConfigError
from adtos.fileio import atomic_path, folder_lock, remove_partials, write_bytes_atomic, write_text_atomic

VARIANT_KEYS = ("voices", "quantize")


def parse_variants(specs: list[str]) -> dict[str, object]:
    """`["voices=1", "quantize=true"]` -> {"voices": 1, "quantize": True}."""
    variant: dict[str, object] = {}
    for spec in specs:
        key, sep, value = spec.partition("=")
        key, value = key.strip(), value.strip().lower()
        if not sep or key not in VARIANT_KEYS:
            guess = difflib.get_close_matches(key, VARIANT_KEYS, n=1)
            hint = f"; did you mean '{guess[0]}'?" if guess else ""
            raise ConfigError(f"--variant {spec!r}: expected voices=1..4 or quantize=true{hint}")
        if key == "voices":
            if value not in ("1", "2", "3", "4"):
                raise ConfigError(f"--variant {spec!r}: expected voices=1, 2, 3 or 4")
            variant["voices"] = int(value)
        else:
            if value not in ("true", "false"):
                raise ConfigError(f"--variant {spec!r}: expected quantize=true or quantize=false")
            variant["quantize"] = value == "true"
    return variant


def variant_suffix(variant: dict[str, object]) -> str:
    """{voices: 1, quantize: True} -> ".voices1.quantized" (folder and dataset name)."""
    parts = []
    if "voices" in variant:
        parts.append(f"voices{variant['voices']}")
    if variant.get("quantize"):
        parts.append("quantized")
    return "".join(f".{part}" for part in parts)


def variant_dir(base_dir: str | os.PathLike, variant: dict[str, object]) -> Path:
    """out/ds + {voices: 1, quantize: True} -> out/ds.voices1.quantized."""
    base_dir = Path(base_dir)
    return base_dir.with_name(base_dir.name + variant_suffix(variant))


def variant_config(config: BuildConfig, variant: dict[str, object]) -> BuildConfig:
    """The base config with the variant's changes; fewer voices only, never more."""
    changed = copy.deepcopy(config)
    voices = int(variant.get("voices", config.tracks.voices))
    if voices > config.tracks.voices:
        raise ConfigError(f"--variant voices={voices}: the base tracks have "
                       f"{config.tracks.voices} voices ([tracks].voices in {config.source}); "
                       "a variant can only render fewer")
    if config.tracks.quantize and variant.get("quantize") is False:
        raise ConfigError("--variant quantize=false: the base is already quantized")
    changed.tracks.voices = voices
    changed.tracks.quantize = bool(config.tracks.quantize or variant.get("quantize", False))
    # The variant is a dataset of its own: its card and config carry its name.
    changed.dataset.name = config.dataset.name + variant_suffix(variant)
    return changed


def quantize_tracks(base_tracks: Path, out_tracks: Path) -> Path:
    """Quantized copies of every base track's MIDI and annotations (resumable)."""
    if (out_tracks / "tracks.parquet").is_file():
        return out_tracks
    table = pq.read_table(base_tracks / "tracks.parquet")
    for sub in ("midi", "annotations"):
        (out_tracks / sub).mkdir(parents=True, exist_ok=True)
        remove_partials(out_tracks / sub)
    for track_id in tqdm(table.column("track_id").to_pylist(), desc="quantize", unit="track"):
        midi_out = out_tracks / "midi" / f"{track_id}.mid"
        notes_out = out_tracks / "annotations" / f"{track_id}.txt"
        if midi_out.is_file() and notes_out.is_file():
            continue
        midi, annotation = quantize_track_file(base_tracks / "midi" / f"{track_id}.mid")
        write_bytes_atomic(midi_out, midi)
        write_text_atomic(notes_out, annotation)
    if "quantize" in table.column_names:
        table = table.set_column(table.column_names.index("quantize"), "quantize",
                                 pa.array([True] * table.num_rows))
    with atomic_path(out_tracks / "tracks.parquet") as tmp:
        pq.write_table(table, tmp)
    return out_tracks


def build_variant(config: BuildConfig, base_dir: str | os.PathLike, variant: dict[str, object],
                  *, workers: int | None = None, executor: str = "local",
                  address: str | None = None):
    """Render the base build's assembled tracks again with the variant's changes.

    Assembles the base first when it has not been (its steps resume), but
    renders nothing into the base folder.
    """
    if not variant:
        raise ConfigError("--variant needs voices=N or quantize=true")
    base_dir = Path(base_dir)
    out_dir = variant_dir(base_dir, variant)
    changed = variant_config(config, variant)
    pipeline.preflight(config)
    # One writer per folder: the base (its steps may still run) and the variant.
    with folder_lock(base_dir, "adtos build"), folder_lock(out_dir, "adtos build"):
        return _build_variant_locked(config, base_dir, out_dir, changed, variant, workers=workers,
                                     executor=executor, address=address)


def _build_variant_locked(config: BuildConfig, base_dir: Path, out_dir: Path,
                          changed: BuildConfig, variant: dict[str, object], *,
                          workers: int | None, executor: str, address: str | None):
    report = pipeline.BuildReport(out_dir=out_dir)
    lap = pipeline.step_timer(report)
    # The base's own steps: index, presets and assembly (each skipped when done).
    pipeline.preflight(config)
    base = pipeline.base_steps(config, base_dir, workers, lap)

    flags = " ".join(f"--variant {k}={str(v).lower()}" for k, v in variant.items())
    base_rel = os.path.relpath(base_dir.resolve(), out_dir.resolve())
    header = (f"{pipeline.VARIANT_MARK}{base_rel} ({flags}): the base's assembled tracks "
              "rendered again. Rebuild it with\n"
              f"#   adtos build {base_rel}/config.toml --out {base_rel} {flags}\n")
    config_text = pipeline.pin_config(changed, out_dir, header=header, index_dir=base_dir / "index")
    if changed.tracks.quantize and not config.tracks.quantize:
        tracks_dir = quantize_tracks(base.tracks_dir, out_dir / "tracks")
    else:
        tracks_dir = base.tracks_dir
    if not (out_dir / "presets.jsonl").is_file():
        with atomic_path(out_dir / "presets.jsonl") as tmp:
            shutil.copyfile(base_dir / "presets.jsonl", tmp)
    lap("quantize")
    render_report = pipeline.render_step(changed, tracks_dir, base.presets, out_dir,
                                         voices=changed.voices, workers=workers,
                                         executor=executor, address=address)
    lap("render")
    base_name = os.path.relpath(base_dir.resolve(), out_dir.resolve().parent)
    manifest = pipeline.finish_step(changed, out_dir, tracks_dir,
                                    sources.library_counts(base.tables), config_text,
                                    voices=changed.voices, quantized=changed.tracks.quantize,
                                    base=base_name)
    lap("manifest")
    return pipeline.finish_report(report, manifest, render_report)


__all__ = ["VARIANT_KEYS", "VOICE_ORDER", "build_variant", "parse_variants", "variant_config",
           "variant_dir"]

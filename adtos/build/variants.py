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
import os
import shutil
import time
from pathlib import Path

from adtos.build.config import BuildConfig, VOICE_ORDER
from adtos.errors import ConfigError

VARIANT_KEYS = ("voices", "quantize")


def parse_variants(specs: list[str]) -> dict[str, object]:
    """`["voices=1", "quantize=true"]` -> {"voices": 1, "quantize": True}."""
    import difflib

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


def write_drum_annotations(midi, path: str | os.PathLike) -> None:
    """`time<TAB>GM note<TAB>class` per drum onset, as assemble writes them."""
    from adtos.fileio import write_text_atomic
    from adtos.vocab import gm_class

    events = sorted((midi_time, note.pitch) for instrument in midi.instruments
                    if instrument.is_drum for note in instrument.notes
                    for midi_time in (note.start,))
    text = "".join(f"{time:.6f}\t{pitch}\t{gm_class(pitch) or '-'}\n" for time, pitch in events)
    write_text_atomic(path, text)


def keep_length(midi, end: float) -> None:
    """Give quantized drums the base track's length: the renderer sizes the audio
    by the MIDI's end, and a variant must last exactly as long as its base.

    A hit snapped onto or past the final bar line is dropped; the note that
    ends last is held to the end (a drum note's length barely matters to a kit,
    the track's length does).
    """
    drums = [i for i in midi.instruments if i.is_drum]
    for instrument in drums:
        instrument.notes = [n for n in instrument.notes if n.start < end - 1e-6]
        for note in instrument.notes:
            note.end = min(note.end, end)
    if midi.get_end_time() < end:
        last = max((n for i in drums for n in i.notes), key=lambda n: n.end, default=None)
        if last is not None:
            last.end = end


def quantize_tracks(base_tracks: Path, out_tracks: Path) -> Path:
    """Quantized copies of every base track's MIDI and annotations (resumable)."""
    import io

    import pretty_midi
    import pyarrow as pa
    import pyarrow.parquet as pq
    from tqdm import tqdm

    from adtos.assemble import quantize_drums
    from adtos.fileio import atomic_path, remove_partials, write_bytes_atomic

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
        base = pretty_midi.PrettyMIDI(str(base_tracks / "midi" / f"{track_id}.mid"))
        midi = quantize_drums(base)
        keep_length(midi, base.get_end_time())
        buffer = io.BytesIO()
        midi.write(buffer)
        write_bytes_atomic(midi_out, buffer.getvalue())
        # The annotation times are read back from the written file, so they are
        # the times a MIDI reader (and the synthesizer) sees, to the tick.
        write_drum_annotations(pretty_midi.PrettyMIDI(str(midi_out)), notes_out)
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
    import pyarrow as pa

    from adtos.build import pipeline, sources
    from adtos.fileio import atomic_path

    if not variant:
        raise ConfigError("--variant needs voices=N or quantize=true")
    base_dir = Path(base_dir)
    out_dir = variant_dir(base_dir, variant)
    changed = variant_config(config, variant)
    report = pipeline.BuildReport(out_dir=out_dir)
    clock = time.perf_counter()

    def lap(step: str) -> None:
        nonlocal clock
        report.seconds[step] = time.perf_counter() - clock
        clock = time.perf_counter()

    # The base's own steps: index, presets and assembly (each skipped when done).
    pipeline.preflight(config)
    pipeline.pin_config(config, base_dir)
    tables = sources.index_step(config, base_dir, workers)
    presets = sources.presets_step(config, base_dir)
    loops = pa.concat_tables([t for _, _, t in tables], promote_options="default")
    base_tracks = pipeline.assemble_step(config, loops, base_dir)

    lap("base")
    flags = " ".join(f"--variant {k}={str(v).lower()}" for k, v in variant.items())
    base_rel = os.path.relpath(base_dir.resolve(), out_dir.resolve())
    header = (f"{pipeline.VARIANT_MARK}{base_rel} ({flags}): the base's assembled tracks "
              "rendered again. Rebuild it with\n"
              f"#   adtos build {base_rel}/config.toml --out {base_rel} {flags}\n")
    config_text = pipeline.pin_config(changed, out_dir, header=header, index_dir=base_dir / "index")
    if changed.tracks.quantize and not config.tracks.quantize:
        tracks_dir = quantize_tracks(base_tracks, out_dir / "tracks")
    else:
        tracks_dir = base_tracks
    if not (out_dir / "presets.jsonl").is_file():
        with atomic_path(out_dir / "presets.jsonl") as tmp:
            shutil.copyfile(base_dir / "presets.jsonl", tmp)
    lap("quantize")
    render_report = pipeline.render_step(changed, tracks_dir, presets, out_dir,
                                         voices=changed.voices, workers=workers,
                                         executor=executor, address=address)
    lap("render")
    base_name = os.path.relpath(base_dir.resolve(), out_dir.resolve().parent)
    manifest = pipeline.finish_step(changed, out_dir, tracks_dir,
                                    sources.library_counts(tables), config_text,
                                    voices=changed.voices, quantized=changed.tracks.quantize,
                                    base=base_name)
    lap("manifest")
    report.tracks = manifest.num_rows
    report.hours = sum(manifest.column("duration").to_pylist()) / 3600
    report.failed = list(getattr(render_report, "failed", []) or [])
    return report


__all__ = ["VARIANT_KEYS", "VOICE_ORDER", "build_variant", "parse_variants", "variant_config",
           "variant_dir"]

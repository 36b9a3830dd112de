"""manifest.parquet: one row per rendered track, joining what assemble and render wrote.

Columns (docs/ARCHITECTURE.md, "Dataset folder"):

    track_id, split, loops (list of loop ids, in order of first placement),
    drum_preset, piano_preset, bass_preset, guitar_preset, lead_preset,
    bridge_preset (null for a voice not rendered), voices (list, as rendered),
    quantized, tempo, meter, key, genre, duration (s),
    balance_db, master_lufs_target, master_lufs, cymbals_db, cymbals_shelf_db
    (the drawn mix, null where a lever is off; adtos.render.mix),
    audio (path relative to the dataset), audio_sha256, base (the dataset this
    one is a variant of; null for a base build),
    onsets_<C> and under_mix_<C> per class C (BD, SD, TT, HH, CY): onsets, and
    the share of them under the mix (adtos.render.audibility), pedal_hihat

Only what is a function of the config and seed goes in, so that rebuilding
gives a byte-identical manifest; timings stay in render.parquet.
"""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from adtos.fileio import atomic_path, sha256_file

from adtos.vocab import CLASSES

PRESET_COLUMNS = ("drum_preset", "piano_preset", "bass_preset", "guitar_preset", "lead_preset",
                  "bridge_preset")
VOICE_OF_COLUMN = dict(zip(PRESET_COLUMNS, ("drums", "piano", "bass", "guitar", "lead", "bridge")))
# The drawn mix of each track, copied from render.parquet.
MIX_COLUMNS = ("balance_db", "master_lufs_target", "master_lufs", "cymbals_db", "cymbals_shelf_db")

MANIFEST_SCHEMA = pa.schema([
    ("track_id", pa.string()),
    ("split", pa.string()),
    ("loops", pa.list_(pa.string())),
    *[(column, pa.string()) for column in PRESET_COLUMNS],
    ("voices", pa.list_(pa.string())),
    ("quantized", pa.bool_()),
    ("tempo", pa.float64()),
    ("meter", pa.string()),
    ("key", pa.string()),
    ("genre", pa.string()),
    ("duration", pa.float64()),
    *[(column, pa.float64()) for column in MIX_COLUMNS],
    ("audio", pa.string()),
    ("audio_sha256", pa.string()),
    ("base", pa.string()),
    # Per-onset audibility summarized (adtos.render.audibility.audibility_summary):
    # onsets per class, the share under the mix (signal-to-mask ratio below
    # UNDER_MIX_SMR_DB; null without measured onsets), pedal hi-hat onsets.
    *[(f"onsets_{c}", pa.int32()) for c in CLASSES],
    *[(f"under_mix_{c}", pa.float64()) for c in CLASSES],
    ("pedal_hihat", pa.int32()),
])

# Names the assembled-tracks table may use for the loops a track was made of.
_LOOP_COLUMNS = ("loops", "loop_ids", "loop_id")


def _first(row: dict, names: tuple[str, ...], default=None):
    for name in names:
        if name in row and row[name] is not None:
            return row[name]
    return default


def _loop_ids(value) -> list[str]:
    """Loop ids in order of first placement, each once."""
    if value is None:
        return []
    if isinstance(value, str):
        value = [v for v in value.replace(";", ",").split(",") if v]
    seen: dict[str, None] = {}
    for item in value:
        if isinstance(item, dict):  # a placement record: {"loop_id": ..., ...}
            item = item.get("loop_id")
        if item:
            seen.setdefault(str(item), None)
    return list(seen)


def build_manifest(tracks: pa.Table, render: pa.Table, dataset_dir: str | os.PathLike, *,
                   voices: tuple[str, ...], quantized: bool, base: str | None = None,
                   audio_format: str = "flac") -> pa.Table:
    """Join assembled tracks with render rows; tracks the render did not finish are left out.

    The audio hash is taken from the file on disk (render's own hash column
    when the file is missing would hide a lost file).
    """
    dataset_dir = Path(dataset_dir)
    rendered = {row["track_id"]: row for row in render.to_pylist()}
    rows = []
    for track in sorted(tracks.to_pylist(), key=lambda r: r["track_id"]):
        track_id = track["track_id"]
        done = rendered.get(track_id)
        audio = dataset_dir / "audio" / f"{track_id}.{audio_format}"
        if done is None or not audio.is_file():
            continue
        rendered_voices = [v for v in (done.get("voices") or "").split(",") if v] \
            if isinstance(done.get("voices"), str) else list(voices)
        presets = {column: (done.get(column) if VOICE_OF_COLUMN[column] in rendered_voices
                            else None) for column in PRESET_COLUMNS}
        rows.append({
            "track_id": track_id,
            "split": track.get("split") or "train",
            "loops": _loop_ids(_first(track, _LOOP_COLUMNS)),
            **presets,
            "voices": rendered_voices,
            "quantized": bool(quantized),
            "tempo": _float(_first(track, ("tempo", "bpm"))),
            "meter": _first(track, ("meter", "time_signature"), ""),
            "key": _first(track, ("key",), ""),
            "genre": _first(track, ("genre",), ""),
            "duration": _float(_first(done, ("duration", "duration_s"))
                               or _first(track, ("duration", "duration_s"))),
            **{column: _float(done.get(column)) for column in MIX_COLUMNS},
            "audio": f"audio/{audio.name}",
            "audio_sha256": sha256_file(audio),
            "base": base,
            **_audibility(dataset_dir / "annotations" / f"{track_id}.txt"),
        })
    return pa.Table.from_pylist(rows, schema=MANIFEST_SCHEMA)


def _audibility(annotation: Path) -> dict:
    from adtos.render.audibility import audibility_summary

    return audibility_summary(annotation) if annotation.is_file() else {}


def _float(value) -> float | None:
    return None if value is None else float(value)


def write_manifest(table: pa.Table, path: str | os.PathLike) -> None:
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp)

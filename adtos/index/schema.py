"""The loop index table: its schema, and reading and writing it.

One row per loop; the notes live in the row (list columns, times in quarter
notes from the loop's first downbeat) so that the assembler never re-reads
MIDI. See docs/ARCHITECTURE.md, "Loop index".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from adtos.fileio import atomic_path, write_csv_atomic

FORMAT_VERSION = "1"

LOOP_SCHEMA = pa.schema([
    ("loop_id", pa.string()),
    ("library", pa.string()),
    ("source", pa.string()),
    ("role", pa.string()),
    ("derived", pa.bool_()),
    ("genre", pa.string()),
    ("theme", pa.string()),
    ("split", pa.string()),
    ("beat_type", pa.string()),
    ("tempo", pa.float64()),
    ("meter", pa.string()),
    ("bars", pa.int32()),
    ("bar_qn", pa.float64()),
    ("start_bar", pa.int32()),
    ("end_bar", pa.int32()),
    ("start_sec", pa.float64()),
    ("end_sec", pa.float64()),
    ("key", pa.string()),
    ("key_source", pa.string()),
    ("note_count", pa.int32()),
    ("timing_mad_ms", pa.float64()),
    ("velocity_std", pa.float64()),
    ("velocity_distinct", pa.float64()),
    ("note_pitch", pa.list_(pa.int8())),
    ("note_start_qn", pa.list_(pa.float32())),
    ("note_dur_qn", pa.list_(pa.float32())),
    ("note_velocity", pa.list_(pa.int8())),
    # Additions to the contract (never needed by the assembler, useful for queries):
    ("drummer", pa.string()),  # GMD's drummer, "" elsewhere
    ("kind", pa.string()),  # adapter that read the loop: groove, pop909, generic
], metadata={"adtos.loop_index.version": FORMAT_VERSION})

# Columns this package adds to the contract; readers do not require them.
EXTRA_COLUMNS = ("drummer", "kind")

ROLES = ("drums", "piano", "bass", "guitar")
SPLITS = ("train", "val", "test")


@dataclass
class LoopIndex:
    """An indexed library: the loop table and the inputs that were skipped."""

    loops: pa.Table
    errors: list[tuple[str, str]] = field(default_factory=list)  # (source, reason)

    def __len__(self) -> int:
        return self.loops.num_rows


def errors_path(out_path: str | Path) -> Path:
    """`loops_index/gmd.parquet` → `loops_index/gmd.errors.csv`."""
    out_path = Path(out_path)
    return out_path.with_name(out_path.stem + ".errors.csv")


def write_loop_index(index: LoopIndex, out_path: str | Path) -> Path:
    """Write the table as Parquet and the skipped inputs as `<stem>.errors.csv` beside it.

    Both files are written atomically; the errors file is always written (with
    only its header when nothing was skipped) so that a stale one never lingers.
    """
    out_path = Path(out_path)
    table = index.loops.cast(LOOP_SCHEMA) if index.loops.schema != LOOP_SCHEMA else index.loops
    with atomic_path(out_path) as tmp:
        pq.write_table(table, tmp, compression="zstd")
    write_csv_atomic(errors_path(out_path), ["source", "reason"], index.errors)
    return out_path


def read_loop_index(path: str | Path) -> pa.Table:
    """Read a loop index and check it has every column of the contract with its type.

    Raises FileNotFoundError or ValueError naming the file and the column.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"loop index not found: {path}")
    try:
        table = pq.read_table(path)
    except Exception as error:
        raise ValueError(f"{path}: not a readable Parquet file ({error})") from None
    for expected in LOOP_SCHEMA:
        if expected.name in EXTRA_COLUMNS and expected.name not in table.column_names:
            continue
        if expected.name not in table.column_names:
            raise ValueError(f"{path}: column {expected.name!r} is missing; "
                             f"expected a loop index written by `adtos index`")
        actual = table.schema.field(expected.name).type
        if actual != expected.type:
            raise ValueError(f"{path}: column {expected.name!r} has type {actual}, expected {expected.type}")
    return table

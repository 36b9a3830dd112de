"""The loop index as numpy arrays the assembler can search quickly.

The index (docs/ARCHITECTURE.md, "Loop index") keeps each loop's notes in list
columns, in quarter notes. Here they become one flat array per note field
plus offsets, and the string columns become small integer codes, so that
choosing among 150,000 loops is a handful of vectorised numpy operations.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from adtos.assemble.harmony import parse_key
from adtos.assemble.options import AssembleError

_METER = re.compile(r"^[1-9]\d*/(1|2|4|8|16|32|64)$")

# The columns the assembler reads, with the type each is cast to.
REQUIRED_COLUMNS: dict[str, pa.DataType] = {
    "loop_id": pa.string(),
    "library": pa.string(),
    "role": pa.string(),
    "derived": pa.bool_(),
    "genre": pa.string(),
    "theme": pa.string(),
    "split": pa.string(),
    "beat_type": pa.string(),
    "tempo": pa.float64(),
    "meter": pa.string(),
    "bars": pa.int32(),
    "bar_qn": pa.float64(),
    "key": pa.string(),
    "note_pitch": pa.list_(pa.int8()),
    "note_start_qn": pa.list_(pa.float32()),
    "note_dur_qn": pa.list_(pa.float32()),
    "note_velocity": pa.list_(pa.int8()),
}


def check_loop_table(loops: pa.Table, name: str = "loop index") -> pa.Table:
    """The columns the assembler needs, cast to their types; a clear error otherwise."""
    if not isinstance(loops, pa.Table):
        raise AssembleError(f"{name}: expected a pyarrow.Table, got {type(loops).__name__}")
    missing = [column for column in REQUIRED_COLUMNS if column not in loops.column_names]
    if missing:
        raise AssembleError(f"{name}: missing column(s) {', '.join(missing)}; a loop index "
                            "(see docs/ARCHITECTURE.md, 'Loop index') has "
                            + ", ".join(REQUIRED_COLUMNS))
    columns = {}
    for column, wanted in REQUIRED_COLUMNS.items():
        data = loops.column(column)
        if not data.type.equals(wanted):
            try:
                data = data.cast(wanted)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as error:
                raise AssembleError(f"{name}: column {column!r} has type {data.type}, "
                                    f"expected {wanted} ({error})") from None
        if data.null_count:
            raise AssembleError(f"{name}: column {column!r} has {data.null_count} null value(s)")
        columns[column] = data
    table = pa.table(columns)
    if pc.count_distinct(table.column("loop_id")).as_py() != table.num_rows:
        raise AssembleError(f"{name}: loop_id is not unique (was the same index given twice?)")
    return table


def _codes(column: pa.ChunkedArray) -> tuple[np.ndarray, list[str]]:
    encoded = pc.dictionary_encode(column.combine_chunks())
    return (encoded.indices.to_numpy(zero_copy_only=False).astype(np.int32),
            encoded.dictionary.to_pylist())


def _flat(column: pa.ChunkedArray, dtype) -> tuple[np.ndarray, np.ndarray]:
    array = column.combine_chunks()
    if isinstance(array, pa.ChunkedArray):  # pyarrow returns ChunkedArray for 0 chunks
        array = pa.array([], type=column.type)
    offsets = array.offsets.to_numpy().astype(np.int64)
    values = array.values.to_numpy(zero_copy_only=False).astype(dtype)
    # Sliced arrays keep offsets into a larger values buffer: rebase them.
    return offsets - offsets[0], values[offsets[0]: offsets[-1]]


@dataclass
class LoopLibrary:
    """Loop metadata as arrays (one entry per loop) and notes as flat arrays."""

    loop_id: np.ndarray        # object (str)
    role: np.ndarray           # int32 code into role_names
    role_names: list[str]
    genre: np.ndarray
    genre_names: list[str]
    theme: np.ndarray
    theme_names: list[str]
    library: np.ndarray
    library_names: list[str]
    split: np.ndarray
    split_names: list[str]
    meter: np.ndarray
    meter_names: list[str]
    is_fill: np.ndarray        # bool
    derived: np.ndarray        # bool
    tempo: np.ndarray          # float64 bpm
    bars: np.ndarray           # int64
    bar_qn: np.ndarray         # float64
    key_tonic: np.ndarray      # int8 pitch class, -1 unknown
    key_mode: np.ndarray       # int8 0 major, 1 minor, -1 unknown
    note_offsets: np.ndarray   # int64, len = loops + 1
    note_pitch: np.ndarray     # int16
    note_start: np.ndarray     # float32 qn
    note_dur: np.ndarray       # float32 qn
    note_velocity: np.ndarray  # int16
    valid: np.ndarray          # bool: placeable (bars, bar_qn, tempo > 0, meter N/2^k, has notes)

    @classmethod
    def from_table(cls, loops: pa.Table, name: str = "loop index") -> "LoopLibrary":
        table = check_loop_table(loops, name)
        role, role_names = _codes(table.column("role"))
        genre, genre_names = _codes(pc.utf8_lower(table.column("genre")))
        theme, theme_names = _codes(table.column("theme"))
        library, library_names = _codes(table.column("library"))
        split, split_names = _codes(table.column("split"))
        meter, meter_names = _codes(table.column("meter"))
        key, key_names = _codes(table.column("key"))
        parsed = [parse_key(k) for k in key_names]
        tonic_lut = np.array([p[0] if p else -1 for p in parsed] or [-1], dtype=np.int8)
        mode_lut = np.array([p[1] if p else -1 for p in parsed] or [-1], dtype=np.int8)
        offsets, pitch = _flat(table.column("note_pitch"), np.int16)
        start_offsets, start = _flat(table.column("note_start_qn"), np.float32)
        dur_offsets, dur = _flat(table.column("note_dur_qn"), np.float32)
        vel_offsets, velocity = _flat(table.column("note_velocity"), np.int16)
        for other, column in ((start_offsets, "note_start_qn"), (dur_offsets, "note_dur_qn"),
                              (vel_offsets, "note_velocity")):
            if not np.array_equal(other, offsets):
                raise AssembleError(f"{name}: {column} and note_pitch have different lengths "
                                    "in some rows")
        bars = table.column("bars").to_numpy().astype(np.int64)
        bar_qn = table.column("bar_qn").to_numpy()
        tempo = table.column("tempo").to_numpy()
        # A loop the assembler cannot place is left out (and counted), not fatal.
        meter_ok = np.array([bool(_METER.match(m)) for m in meter_names] or [True])[meter]
        valid = (bars >= 1) & (bar_qn > 0) & np.isfinite(bar_qn) & (tempo > 0) & np.isfinite(tempo) \
            & meter_ok & (np.diff(offsets) > 0)
        return cls(
            loop_id=table.column("loop_id").to_numpy(),
            role=role, role_names=role_names, genre=genre, genre_names=genre_names,
            theme=theme, theme_names=theme_names, library=library, library_names=library_names,
            split=split, split_names=split_names, meter=meter, meter_names=meter_names,
            is_fill=(table.column("beat_type").to_numpy(zero_copy_only=False) == "fill"),
            derived=table.column("derived").to_numpy(zero_copy_only=False).astype(bool),
            tempo=tempo.astype(np.float64), bars=bars, bar_qn=bar_qn.astype(np.float64),
            key_tonic=tonic_lut[key], key_mode=mode_lut[key],
            note_offsets=offsets, note_pitch=pitch, note_start=start, note_dur=dur,
            note_velocity=velocity, valid=valid,
        )

    def __len__(self) -> int:
        return len(self.loop_id)

    def code(self, names: list[str], value: str) -> int:
        """The integer code of `value` in a code list, -1 when absent."""
        return names.index(value) if value in names else -1

    def notes(self, loop: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(start_qn, dur_qn, pitch, velocity) of one loop, as float64/int64 arrays."""
        span = slice(self.note_offsets[loop], self.note_offsets[loop + 1])
        return (self.note_start[span].astype(np.float64), self.note_dur[span].astype(np.float64),
                self.note_pitch[span].astype(np.int64), self.note_velocity[span].astype(np.int64))

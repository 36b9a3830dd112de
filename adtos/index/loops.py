"""Cut one voice of a performance into loop rows.

Notes belong to the loop whose bars hold their nearest 16th-grid position, so
a downbeat played a few milliseconds early stays with its bar. Such a note
would start before the loop; it is placed on the loop's first downbeat, so
that every loop is self-contained (its notes lie in [0, length)) and starts
with its own downbeat wherever the assembler puts it. The humanness figures
are measured before this, on the notes as played.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from .bars import BarGrid
from .keys import estimate_key
from .schema import LOOP_SCHEMA

GRID_QN = 0.25  # the 16th-note grid the humanness figures are measured against


@dataclass
class Voice:
    """The notes of one instrument in a performance, times in quarter notes."""

    role: str
    onset_qn: np.ndarray
    end_qn: np.ndarray
    pitch: np.ndarray
    velocity: np.ndarray
    id_suffix: str = ""  # ":piano" when one file gives several voices


@dataclass
class SourceInfo:
    """What is known of a source file beyond its notes."""

    library: str
    source: str  # path relative to the library root, with forward slashes
    kind: str
    genre: str = ""
    theme: str = ""
    split: str = "train"
    beat_type: str = ""
    drummer: str = ""
    # Labelled key for a time span in seconds, or None to estimate from the notes.
    key_label: Callable[[float, float], str] | None = None


def humanness(offset_qn: np.ndarray, velocity: np.ndarray, tempo: float) -> tuple[float, float, float]:
    """(mean |onset − nearest 16th| in ms, velocity std, distinct velocities / notes)."""
    if len(offset_qn) == 0:
        return 0.0, 0.0, 0.0
    deviation_qn = offset_qn - np.round(offset_qn / GRID_QN) * GRID_QN
    mad_ms = float(np.mean(np.abs(deviation_qn)) * 60000.0 / tempo)
    velocity = np.asarray(velocity, dtype=np.float64)
    return mad_ms, float(np.std(velocity)), float(len(np.unique(velocity)) / len(velocity))


@dataclass
class LoopRows:
    """Columns of loop rows under construction; `to_batch` gives an Arrow batch."""

    columns: dict[str, list] = field(default_factory=lambda: {f.name: [] for f in LOOP_SCHEMA})

    def __len__(self) -> int:
        return len(self.columns["loop_id"])

    def append(self, **row) -> None:
        """Add one loop: a value for every column of LOOP_SCHEMA, by name."""
        if row.keys() != self.columns.keys():
            raise ValueError(f"loop row columns differ from the schema: "
                             f"{sorted(set(row) ^ set(self.columns))}")
        for name, value in row.items():
            self.columns[name].append(value)

    def to_batch(self) -> pa.RecordBatch:
        arrays = []
        for f in LOOP_SCHEMA:
            values = self.columns[f.name]
            if pa.types.is_list(f.type):
                arrays.append(_list_array(values, f.type))
            else:
                arrays.append(pa.array(values, type=f.type))
        return pa.RecordBatch.from_arrays(arrays, schema=LOOP_SCHEMA)


def _list_array(chunks: list[np.ndarray], list_type: pa.DataType) -> pa.Array:
    value_type = list_type.value_type.to_pandas_dtype()
    offsets = np.zeros(len(chunks) + 1, dtype=np.int32)
    offsets[1:] = np.cumsum([len(c) for c in chunks])
    values = np.concatenate(chunks).astype(value_type) if chunks else np.zeros(0, dtype=value_type)
    return pa.ListArray.from_arrays(pa.array(offsets), pa.array(values, type=list_type.value_type))


def cut_voice(voice: Voice, grid: BarGrid, plan: list[tuple[int, int]], info: SourceInfo,
              rows: LoopRows, errors: list[tuple[str, str]]) -> None:
    """Append one row per planned loop of `voice` to `rows`; empty loops go to `errors`."""
    # Onsets are sorted, so each loop's notes are one slice.
    shifted = voice.onset_qn + GRID_QN / 2
    if np.any(np.diff(shifted) < 0):
        order = np.argsort(shifted, kind="stable")
        voice = Voice(voice.role, voice.onset_qn[order], voice.end_qn[order], voice.pitch[order],
                      voice.velocity[order], voice.id_suffix)
        shifted = shifted[order]
    for start_bar, end_bar in plan:
        start_qn = grid.boundary_qn[start_bar]
        end_qn = grid.boundary_qn[end_bar]
        length_qn = end_qn - start_qn
        first, last = np.searchsorted(shifted, [start_qn, end_qn], side="left")
        loop_name = f"{info.library}/{_strip_suffix(info.source)}/{start_bar}-{end_bar}{voice.id_suffix}"
        if first == last:
            errors.append((info.source, f"loop {start_bar}-{end_bar}{voice.id_suffix}: no notes"))
            continue
        inside = slice(first, last)
        played = voice.onset_qn[inside] - start_qn
        offset = np.maximum(played, 0.0)  # an early first downbeat goes on the downbeat
        duration = np.minimum(voice.end_qn[inside] - voice.onset_qn[inside], length_qn - offset)
        duration = np.maximum(duration, 0.0)
        pitch = voice.pitch[inside]
        velocity = np.clip(voice.velocity[inside], 1, 127)
        if np.any(played < 0):  # notes moved onto the downbeat may now be out of order
            order = np.lexsort((pitch, offset))
            offset, duration, pitch, velocity = offset[order], duration[order], pitch[order], velocity[order]
            played = played[order]

        start_sec = float(grid.boundary_sec[start_bar])
        end_sec = float(grid.boundary_sec[end_bar])
        tempo = 60.0 * length_qn / (end_sec - start_sec)
        mad_ms, velocity_std, velocity_distinct = humanness(played, velocity, tempo)
        if voice.role == "drums":
            key, key_source = "", ""
        elif info.key_label is not None:
            key, key_source = info.key_label(start_sec, end_sec), "label"
        else:
            key, key_source = estimate_key(pitch, duration), "estimated"

        rows.append(loop_id=loop_name, library=info.library, source=info.source, role=voice.role,
                    derived=False, genre=info.genre, theme=info.theme, split=info.split,
                    beat_type=info.beat_type, tempo=tempo, meter=grid.meter[start_bar],
                    bars=end_bar - start_bar, bar_qn=float(grid.bar_qn[start_bar]),
                    start_bar=start_bar, end_bar=end_bar, start_sec=start_sec, end_sec=end_sec,
                    key=key, key_source=key_source, note_count=len(pitch), timing_mad_ms=mad_ms,
                    velocity_std=velocity_std, velocity_distinct=velocity_distinct,
                    note_pitch=pitch, note_start_qn=offset, note_dur_qn=duration,
                    note_velocity=velocity, drummer=info.drummer, kind=info.kind)


def _strip_suffix(source: str) -> str:
    dot = source.rfind(".")
    return source[:dot] if dot > source.rfind("/") else source

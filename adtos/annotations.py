"""The ADTOS drum annotation format: `time<TAB>GM note<TAB>class`, one onset per line.

    0.500000	36	BD
    0.500000	42	HH

Times are seconds with 6 decimals (the MIDI note-on time through the file's
tempo map); the class is the 5-class label of the GM note (`adtos.vocab`), or
`-` for a note outside the vocabulary. Lines are sorted by time, then note.
A rendered dataset may add the columns EXTRA_COLUMNS after the class.
Written by assemble, variants, render and transcribe; read by `adtos.datasets`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from adtos.vocab import GM_TO_CLASS

_LABEL = [GM_TO_CLASS.get(note, "-") for note in range(128)]
# The renderer's per-onset audibility columns (adtos.render.audibility), after the class.
EXTRA_COLUMNS = ("velocity", "level_db", "smr_db")


def format_annotations(times, gm_notes, extra: dict[str, np.ndarray] | None = None) -> str:
    """The annotation text of onsets `times` (seconds) and their GM notes, sorted by (time, note).

    `extra` adds columns after the class, in its order (the renderer's
    per-onset audibility: velocity, level_db, smr_db), one value per onset:
    integer arrays as integers, others with one decimal. The first three
    columns never change, so three-column readers keep working.
    """
    times = np.asarray(times, dtype=np.float64)
    gm_notes = np.asarray(gm_notes, dtype=np.int64)
    if times.shape != gm_notes.shape:
        raise ValueError(f"times and notes differ in length ({times.size} and {gm_notes.size})")
    if gm_notes.size and (gm_notes.min() < 0 or gm_notes.max() > 127):
        raise ValueError("GM notes must be 0..127")
    order = np.lexsort((gm_notes, times))
    notes = gm_notes[order].tolist()
    columns = [[f"{t:.6f}" for t in times[order].tolist()], [str(n) for n in notes],
               [_LABEL[n] for n in notes]]
    for name, values in (extra or {}).items():
        values = np.asarray(values)
        if values.shape != (len(notes),):
            raise ValueError(f"annotation column {name}: {values.shape[0] if values.ndim else 0} "
                             f"values for {len(notes)} onsets")
        form = "{:d}" if values.dtype.kind in "iu" else "{:.1f}"
        columns.append([form.format(v) for v in values[order].tolist()])
    return "".join("\t".join(fields) + "\n" for fields in zip(*columns))


def read_annotations(path: str | Path) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """`time<TAB>GM note[<TAB>class[<TAB>...]]` → (times, GM notes, notes as written).

    The class column is recomputed from the note by the caller, so one
    vocabulary decides everywhere.
    """
    times, notes, written, _ = read_annotation_columns(path)
    return times, notes, written


def read_annotation_columns(path: str | Path
                            ) -> tuple[np.ndarray, np.ndarray, list[str], dict[str, np.ndarray]]:
    """Like read_annotations, plus the renderer's per-onset columns (EXTRA_COLUMNS)
    when the file has them, else {}."""
    path = Path(path)
    text = path.read_text()
    fields = text.split()
    if not fields:
        return np.zeros(0), np.zeros(0, dtype=np.int64), [], {}
    width = len(text[:text.find("\n")].split()) if "\n" in text else len(fields)
    if width < 2 or len(fields) % width:
        raise ValueError(f"{path}: expected 'time<TAB>GM note<TAB>class' on every line, "
                         "each line with the same number of columns")
    written = fields[1::width]
    try:
        times = np.array(fields[0::width], dtype=np.float64)
        notes = np.array(written, dtype=np.int64)
        extra = {}
        if width == 3 + len(EXTRA_COLUMNS):
            extra = {name: np.array(fields[3 + k::width], dtype=np.float64)
                     for k, name in enumerate(EXTRA_COLUMNS)}
            extra["velocity"] = extra["velocity"].astype(np.int64)
    except ValueError as error:
        raise ValueError(f"{path}: expected 'time<TAB>GM note<TAB>class"
                         f"[<TAB>{'<TAB>'.join(EXTRA_COLUMNS)}]' on every line ({error})") from None
    return times, notes, written, extra

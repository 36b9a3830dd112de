"""The ADTOS drum annotation format: `time<TAB>GM note<TAB>class`, one onset per line.

    0.500000	36	BD
    0.500000	42	HH

Times are seconds with 6 decimals (the MIDI note-on time through the file's
tempo map); the class is the 5-class label of the GM note (`adtos.vocab`), or
`-` for a note outside the vocabulary. Lines are sorted by time, then note.
Written by assemble, variants and transcribe; read by `adtos.datasets`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from adtos.vocab import GM_TO_CLASS

_LABEL = [GM_TO_CLASS.get(note, "-") for note in range(128)]


def format_annotations(times, gm_notes) -> str:
    """The annotation text of onsets `times` (seconds) and their GM notes, sorted by (time, note)."""
    times = np.asarray(times, dtype=np.float64)
    gm_notes = np.asarray(gm_notes, dtype=np.int64)
    if times.shape != gm_notes.shape:
        raise ValueError(f"times and notes differ in length ({times.size} and {gm_notes.size})")
    if gm_notes.size and (gm_notes.min() < 0 or gm_notes.max() > 127):
        raise ValueError("GM notes must be 0..127")
    order = np.lexsort((gm_notes, times))
    notes = gm_notes[order].tolist()
    return "".join(map("{:.6f}\t{}\t{}\n".format, times[order].tolist(), notes,
                       [_LABEL[n] for n in notes]))


def read_annotations(path: str | Path) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """`time<TAB>GM note[<TAB>class]` → (times, GM notes, notes as written).

    The class column is recomputed from the note by the caller, so one
    vocabulary decides everywhere.
    """
    path = Path(path)
    text = path.read_text()
    fields = text.split()
    if not fields:
        return np.zeros(0), np.zeros(0, dtype=np.int64), []
    width = len(text[:text.find("\n")].split()) if "\n" in text else len(fields)
    if width < 2 or len(fields) % width:
        raise ValueError(f"{path}: expected 'time<TAB>GM note<TAB>class' on every line")
    written = fields[1::width]
    try:
        times = np.array(fields[0::width], dtype=np.float64)
        notes = np.array(written, dtype=np.int64)
    except ValueError as error:
        raise ValueError(f"{path}: expected 'time<TAB>GM note<TAB>class' on every line "
                         f"({error})") from None
    return times, notes, written

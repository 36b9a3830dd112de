"""RBMA13 (Vogl et al., ISMIR 2018): 30 tracks of the Red Bull Music Academy 2013.

    audio/<track>.mp3
    annotations/drums_full/<track>.drums   time<TAB>instrument   (or annotations/drums/*.txt)
    annotations/beats/<track>.txt          time<TAB>beat number

The instrument column is either a GM note (35..81) or the index of Vogl's
drum classes (0..23); the two ranges do not overlap, so both are read. The
index table is Vogl's published mapping of his classes to GM notes.

What its annotators marked: drum onsets in the finished mixes (electronic
productions; no stems), manually annotated and double-checked (MIREX 2017):
what can be heard in the mix. Vogl's classes include the pedal hi-hat (index
4, GM 44), mapped to HH like the synthetic sets' 44 under the label policy
`44=HH`.
"""

from __future__ import annotations

import os
from pathlib import Path

from adtos.datasets.note_text import integer_label, read_note_text_dataset
from adtos.datasets.track import Dataset

VOGL_INDEX_TO_GM: dict[int, int] = {
    0: 36, 1: 38, 2: 42, 3: 46, 4: 44, 5: 56, 6: 53, 7: 41, 9: 43, 10: 45, 11: 47, 12: 48,
    13: 50, 14: 37, 15: 39, 16: 51, 17: 49, 18: 55, 19: 52, 20: 70, 21: 54, 22: 75, 23: 81,
}


def rbma_gm_note(label: str) -> int | None:
    value = integer_label(label)
    if value is None:
        return None
    if value < 35:
        return VOGL_INDEX_TO_GM.get(value)
    return value if value <= 127 else None


def read_rbma13(path: str | os.PathLike, subset=None, name: str | None = None) -> Dataset:
    """Read RBMA13 from its root folder."""
    return read_note_text_dataset(
        Path(path), "rbma13", name, subset,
        annotation_dirs=("annotations/drums_full", "annotations/drums_m", "annotations/drums"),
        beat_dirs=("annotations/beats",), audio_dirs=("audio",), to_gm=rbma_gm_note)

"""ADTOF-RGW and ADTOF-YT (Zehren et al., 2021/2023): crowdsourced charts
aligned to the audio.

    audio/audio/<track>.ogg
    annotations/aligned_drum/<track>.txt    time<TAB>MIDI note
    annotations/aligned_beats/<track>.txt   time<TAB>beat number

ADTOF writes one note per class, 35 (BD), 38 (SD), 47 (TT), 42 (HH), 49 (CY)
in the current release and 36, 40, 41, 46, 49 in the first; both are GM
notes of the right class, so the GM table maps them.

What its annotators marked: rhythm-game charts, written by players by ear
against the released mix so that the part can be played on a game controller,
then aligned and cleaned by Zehren et al. A chart holds what a charter heard
and found playable; no velocities, and strokes such as the pedal hi-hat or
most ghost notes are seldom charted.
"""

from __future__ import annotations

import os
from pathlib import Path

from adtos.datasets.note_text import integer_label, read_note_text_dataset
from adtos.datasets.track import Dataset


def adtof_gm_note(label: str) -> int | None:
    value = integer_label(label)
    return value if value is not None and 0 <= value <= 127 else None


def read_adtof(path: str | os.PathLike, subset=None, name: str | None = None) -> Dataset:
    """Read an ADTOF set (RGW or YT) from its root folder."""
    return read_note_text_dataset(
        Path(path), "adtof", name, subset,
        annotation_dirs=("annotations/aligned_drum", "annotations/drums", "annotations"),
        beat_dirs=("annotations/aligned_beats", "annotations/beats"),
        audio_dirs=("audio/audio", "audio"), to_gm=adtof_gm_note)

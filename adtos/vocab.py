"""The 5-class drum vocabulary and the General MIDI mapping onto it.

BD: 35, 36 · SD: 37, 38, 40 · TT: 41, 43, 45, 47, 48, 50 · HH: 42, 44, 46 ·
CY: 49, 51, 52, 53, 55, 57, 59. Other notes are dropped from targets but kept
in the audio.
"""

from __future__ import annotations

import numpy as np

CLASSES: tuple[str, ...] = ("BD", "SD", "TT", "HH", "CY")
CLASS_INDEX: dict[str, int] = {name: i for i, name in enumerate(CLASSES)}

GM_TO_CLASS: dict[int, str] = {
    **{n: "BD" for n in (35, 36)},
    **{n: "SD" for n in (37, 38, 40)},
    **{n: "TT" for n in (41, 43, 45, 47, 48, 50)},
    **{n: "HH" for n in (42, 44, 46)},
    **{n: "CY" for n in (49, 51, 52, 53, 55, 57, 59)},
}

# A representative GM note per class, used when a label must become a note
# (transcriber output, composite kits, click tests).
CLASS_TO_GM: dict[str, int] = {"BD": 36, "SD": 38, "TT": 45, "HH": 42, "CY": 49}

# The Groove MIDI Dataset is recorded on a Roland TD-11, which uses three
# pitches that are not GM drums. Played on a GM kit they give silence or a
# vibraslap while the annotation says hi-hat, so they are remapped at indexing.
GMD_TO_GM: dict[int, int] = {22: 42, 26: 46, 58: 43}

# The pedal hi-hat (GM 44): a hi-hat by class, but a foot's soft chick that the
# default label policy ignores and the statistics count apart.
PEDAL_HIHAT = 44

# Below this signal-to-mask ratio (dB) an onset counts as under the mix: the
# default label policy's minimum (adtos.transcriber.labels), the manifest's
# summary (adtos.render.audibility) and the dataset card's (docs/transcriber.md,
# "Label policy", for how it was chosen from a measured build).
UNDER_MIX_SMR_DB = -5.0



def gm_class(note: int) -> str | None:
    """The 5-class label of a GM drum note, or None when it is not a target."""
    return GM_TO_CLASS.get(int(note))


# The drum part is rendered once per group: its 5-class label, or OTHER_GROUP for
# the notes outside the vocabulary (kept in the audio). The dry drum stem is the
# sum of the groups (adtos.render.audibility, adtos.presets.sampler).
OTHER_GROUP = "-"
DRUM_GROUPS: tuple[str, ...] = (*CLASSES, OTHER_GROUP)


def drum_group(note: int) -> str:
    """The render group of a GM drum note: its class, or OTHER_GROUP."""
    return GM_TO_CLASS.get(int(note), OTHER_GROUP)


def gm_class_indices(notes: np.ndarray) -> np.ndarray:
    """Class index (0..4) per GM note, -1 for notes outside the vocabulary."""
    lut = np.full(128, -1, dtype=np.int64)
    for note, name in GM_TO_CLASS.items():
        lut[note] = CLASS_INDEX[name]
    notes = np.asarray(notes, dtype=np.int64)
    if notes.size and (notes.min() < 0 or notes.max() > 127):
        raise ValueError(f"GM notes must be in 0..127, got range {notes.min()}..{notes.max()}")
    return lut[notes]


# The drum pieces a kit is made of, each with its class and the GM notes it
# plays. Composite kits take whole pieces from different kits, one per class,
# so that every labelled note has exactly one source (adtos.presets).
PIECE_CLASSES: dict[str, str] = {"kick": "BD", "snare": "SD", "toms": "TT", "hihat": "HH",
                                 "cymbals": "CY"}
PIECE_NOTES: dict[str, tuple[int, ...]] = {
    piece: tuple(sorted(n for n, c in GM_TO_CLASS.items() if c == label))
    for piece, label in PIECE_CLASSES.items()
}
NOTE_PIECE: dict[int, str] = {n: piece for piece, notes in PIECE_NOTES.items() for n in notes}

"""ENST-Drums (Gillet & Richard, ISMIR 2006): three drummers, each with

    drummer_N/annotation/<track>.txt          time label   (one hit per line)
    drummer_N/audio/wet_mix/<track>.wav       drums mix
    drummer_N/audio/accompaniment/<track>.wav music without drums (minus-one pieces)

Track ids are `drummer_N/<track>`. Labels carry a number for the instrument
when a kit has several (`cr1`, `rc3`, `ch5`, `spl2`, `c1`); the number is
ignored for the class. The mapping follows the literature (Vogl et al. 2018;
Zehren et al. ADTOF): rim shots, cross sticks and brush sweeps are snare
sounds, all toms are TT, open and closed hi-hats are HH, every cymbal is CY.
Cowbell and stick clicks are not in the 5 classes: dropped and counted.
The ENST beat grid is not annotated, so tracks have no beats.

What its annotators marked: every stroke the drummer played, annotated on the
drum recordings themselves (the accompaniment is a separate recording mixed
in afterwards), so a hit that the accompaniment would cover is still marked,
soft strokes included. Its label set has no pedal hi-hat.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np

from adtos.datasets.common import finish_dataset, map_labels, read_onset_file, select
from adtos.datasets.track import Dataset, Track

ENST_CLASSES: dict[str, str | None] = {
    "bd": "BD",
    "sd": "SD", "sd-": "SD", "rs": "SD", "cs": "SD", "sweep": "SD",
    "lft": "TT", "lt": "TT", "lmt": "TT", "mt": "TT", "ht": "TT", "ltr": "TT", "mtr": "TT",
    "htr": "TT",
    "chh": "HH", "ohh": "HH",
    "cr": "CY", "rc": "CY", "ch": "CY", "spl": "CY", "c": "CY",
    "cb": None, "sticks": None,
}
MIXES = ("wet_mix", "dry_mix", "accompaniment")


def enst_label(raw: str) -> str:
    """`cr1` → `cr`, `rc3` → `rc`; labels without a kit-piece number stay as they are."""
    return re.sub(r"\d+$", "", raw.strip().lower())


def read_enst_drums(path: str | os.PathLike, mix: str = "wet_mix", subset=None,
                    name: str | None = None) -> Dataset:
    """Read ENST-Drums from its root (the folder holding drummer_1..3).

    `mix` picks the audio: `wet_mix` (default), `dry_mix`, or `accompaniment`
    (for minus-one pieces, the music the drummer played along to).
    """
    root = Path(path)
    if mix not in MIXES:
        raise ValueError(f"ENST-Drums mix must be one of {', '.join(MIXES)}, got {mix!r}")
    files = sorted(root.glob("drummer_*/annotation/*.txt"))
    if not files:
        raise FileNotFoundError(f"{root}: no drummer_*/annotation/*.txt; is this ENST-Drums?")
    by_id = {f"{f.parent.parent.name}/{f.stem}": f for f in files}
    tracks, skipped = [], []
    for track_id in select(list(by_id), subset, root):
        try:
            tracks.append(_read_track(by_id[track_id], track_id, mix))
        except (OSError, ValueError) as error:
            skipped.append((track_id, str(error)))
    return finish_dataset(name or root.name, "enst", root, tracks, skipped)


def _read_track(annotation: Path, track_id: str, mix: str) -> Track:
    times, raw = read_onset_file(annotation)
    onsets, labels, dropped, unknown = map_labels(times, [enst_label(r) for r in raw], ENST_CLASSES)
    audio = annotation.parent.parent / "audio" / mix / f"{annotation.stem}.wav"
    # Track names read NNN_kind_style_..., e.g. 045_phrase_rock_simple_medium_sticks.
    parts = annotation.stem.split("_")
    style = parts[2].lower() if len(parts) > 3 and parts[1] in ("phrase", "minus-one") else ""
    return Track(track_id, audio if audio.exists() else None, onsets, labels,
                 original_labels=raw, original_onsets=np.asarray(times),
                 metadata={"dropped_labels": dict(dropped), "unknown_labels": dict(unknown),
                           "genre": style, "drummer": annotation.parent.parent.name})

"""Key names and key estimation for pitched loops.

Keys are written `<tonic>:<mode>` with the tonic spelled with sharps only
(`C`, `C#`, `D`, ... `B`) and the mode `maj` or `min`: `F#:maj`, `A#:min`.
One spelling per pitch class means two loops in the same key always carry the
same string. Flat spellings (`Gb:maj`, as POP909 writes them) are accepted on
input and normalised.

Estimation is Krumhansl–Schmuckler: correlate a duration-weighted pitch-class
histogram with the 24 rotations of the Krumhansl–Kessler (1982) probe-tone
profiles and take the best.
"""

from __future__ import annotations

import re

import numpy as np

PITCH_CLASSES: tuple[str, ...] = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
MODES: tuple[str, ...] = ("maj", "min")

# Krumhansl & Kessler (1982), probe-tone ratings for C major and C minor.
KK_MAJOR = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
KK_MINOR = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])

# The 24 key profiles (majors then minors, tonic C..B), centred and scaled to unit norm once.
_PROFILES = np.stack([np.roll(base, tonic) for base in (KK_MAJOR, KK_MINOR) for tonic in range(12)])
_PROFILES = _PROFILES - _PROFILES.mean(axis=1, keepdims=True)
_PROFILES /= np.linalg.norm(_PROFILES, axis=1, keepdims=True)

_LETTER_PC = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
_KEY_RE = re.compile(r"^\s*([A-Ga-g])([#b♯♭]?)\s*[:\s_-]?\s*(maj|major|min|minor|m)?\s*$")


def key_name(tonic_pc: int, mode: str) -> str:
    """`key_name(6, "maj") == "F#:maj"`."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    return f"{PITCH_CLASSES[int(tonic_pc) % 12]}:{mode}"


def parse_key(text: str) -> tuple[int, str]:
    """Tonic pitch class (0 = C) and mode of a key written `Gb:maj`, `F# minor`, `Am`, `C`.

    A bare tonic means major. Raises ValueError naming the text otherwise.
    """
    match = _KEY_RE.match(text)
    if not match:
        raise ValueError(f"not a key: {text!r} (expected e.g. 'C:maj', 'F#:min', 'Gb:maj')")
    letter, accidental, mode = match.groups()
    pc = _LETTER_PC[letter.upper()] + {"#": 1, "♯": 1, "b": -1, "♭": -1}.get(accidental, 0)
    mode = "min" if mode in ("min", "minor", "m") else "maj"
    return pc % 12, mode


def normalize_key(text: str) -> str:
    """Any accepted spelling → the canonical sharp spelling (`Gb:maj` → `F#:maj`)."""
    return key_name(*parse_key(text))


def pitch_class_histogram(pitches, durations) -> np.ndarray:
    """Total duration per pitch class (12 values)."""
    pitches = np.asarray(pitches, dtype=np.int64)
    durations = np.asarray(durations, dtype=np.float64)
    if pitches.shape != durations.shape:
        raise ValueError(f"pitches and durations differ in shape: {pitches.shape} vs {durations.shape}")
    return np.bincount(pitches % 12, weights=durations, minlength=12)


def key_scores(histogram) -> np.ndarray:
    """Pearson correlation of a pitch-class histogram with each key profile.

    Shape (24,): index `mode_index * 12 + tonic`, majors first.
    """
    histogram = np.asarray(histogram, dtype=np.float64)
    if histogram.shape != (12,):
        raise ValueError(f"histogram must have 12 pitch classes, got shape {histogram.shape}")
    centred = histogram - histogram.mean()
    norm = np.linalg.norm(centred)
    if norm == 0:  # no notes, or every pitch class equally: no key is preferred
        return np.zeros(24)
    return _PROFILES @ centred / norm


def estimate_key(pitches, durations, *, min_duration: float = 1e-3) -> str:
    """Krumhansl–Schmuckler key of notes weighted by duration; `""` when there are no notes.

    Very short notes (drum-like zero durations) still count a little through
    `min_duration`, so a part of staccato notes is not ignored.
    """
    durations = np.maximum(np.asarray(durations, dtype=np.float64), min_duration)
    if durations.size == 0:
        return ""
    scores = key_scores(pitch_class_histogram(pitches, durations))
    best = int(np.argmax(scores))
    return key_name(best % 12, MODES[best // 12])

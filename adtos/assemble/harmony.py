"""Keys, transposition and the two derived voices (bass and guitar).

Keys are `<tonic>:<maj|min>` strings (`C:maj`, `F#:min`), as in the loop index.
Derived voices follow the paper: a bass line from the section's harmony that
plays with the kick drum, and a guitar part made from piano loops, voiced
into the guitar's range and strummed.
"""

from __future__ import annotations

import numpy as np

PITCH_CLASSES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
_NAMES = {name: i for i, name in enumerate(PITCH_CLASSES)}
_NAMES.update({"Db": 1, "Eb": 3, "Gb": 6, "Ab": 8, "Bb": 10, "Cb": 11, "Fb": 4, "E#": 5, "B#": 0})
_MODES = {"maj": 0, "major": 0, "": 0, "min": 1, "minor": 1}

MAJOR, MINOR = 0, 1
# Sharps (+) or flats (-) of each major key, by tonic pitch class; a minor key
# has the signature of its relative major.
_MAJOR_SIGNATURE = (0, -5, 2, -3, 4, -1, 6, 1, -4, 3, -2, 5)

GUITAR_RANGE = (40, 76)   # E2..E5
BASS_LOW = 33             # roots are placed in A1..G#2
STRUM_QN = 0.015          # between strings, ~7.5 ms at 120 bpm
MAX_STRINGS = 6


def parse_key(key: str) -> tuple[int, int] | None:
    """`'F#:min'` -> (6, 1); None for an empty or unknown key."""
    tonic, _, mode = str(key).strip().partition(":")
    if tonic not in _NAMES or mode.lower() not in _MODES:
        return None
    return _NAMES[tonic], _MODES[mode.lower()]


def key_name(tonic: int, mode: int) -> str:
    return f"{PITCH_CLASSES[tonic % 12]}:{'min' if mode == MINOR else 'maj'}"


def key_signature(tonic: int, mode: int) -> tuple[int, int]:
    """(sharps or -flats, minor flag) for a MIDI key-signature event."""
    relative_major = (tonic + 3) % 12 if mode == MINOR else tonic % 12
    return _MAJOR_SIGNATURE[relative_major], int(mode == MINOR)


def transpose_interval(loop_tonic: int, loop_mode: int, key_tonic: int, key_mode: int) -> int:
    """Smallest shift (-6..+5 semitones) that puts a loop in the track's key.

    A loop in the other mode goes to the relative key (a minor loop on C major
    becomes A minor), which shares the key's notes.
    """
    if loop_tonic < 0 or key_tonic < 0:
        return 0
    target = key_tonic
    if loop_mode == MINOR and key_mode == MAJOR:
        target = key_tonic + 9
    elif loop_mode == MAJOR and key_mode == MINOR:
        target = key_tonic + 3
    return int((target - loop_tonic + 6) % 12 - 6)


def _triad_templates() -> np.ndarray:
    """24 x 12 weights: rows 0..11 major triads on each root, 12..23 minor."""
    templates = np.zeros((24, 12))
    for root in range(12):
        for row, third in ((root, 4), (root + 12, 3)):
            templates[row, root] = 1.0
            templates[row, (root + third) % 12] = 0.8
            templates[row, (root + 7) % 12] = 0.8
    return templates


_TEMPLATES = _triad_templates()
# The pop progression I-V-vi-IV (minor: i-VI-III-VII) when no piano sounds.
_PROGRESSION = {MAJOR: (0, 7, 9, 5), MINOR: (0, 8, 3, 10)}


def chord_roots(starts: np.ndarray, durs: np.ndarray, pitches: np.ndarray, section_start: float,
                window_qn: float, windows: int, windows_per_bar: int,
                key: tuple[int, int] | None) -> np.ndarray:
    """Root pitch class per window of a section, estimated from piano notes.

    Each window's pitch-class profile (note durations, the lowest note counted
    twice) is matched against major and minor triads; chords of the key get a
    small bonus. A window without notes keeps the previous root; a section
    without notes follows I-V-vi-IV in the key (C major when unknown).
    """
    tonic, mode = key if key else (0, MAJOR)
    roots = np.full(windows, -1, dtype=np.int64)
    if len(starts):
        window = np.floor((starts - section_start) / window_qn).astype(np.int64)
        inside = (window >= 0) & (window < windows)
        window, pc = window[inside], pitches[inside] % 12
        weight = np.minimum(durs[inside], window_qn)
        # The lowest note of a window often is the root: count it again.
        order = np.lexsort((pitches[inside], window))
        lowest = np.zeros(len(order))
        lowest[order[np.concatenate([[True], window[order][1:] != window[order][:-1]])]] = window_qn / 2
        profile = np.bincount(window * 12 + pc, weights=weight + lowest,
                              minlength=windows * 12).reshape(windows, 12)
        scale = np.array([0, 2, 4, 5, 7, 9, 11]) if mode == MAJOR else np.array([0, 2, 3, 5, 7, 8, 10])
        in_key = np.zeros(24)
        in_key[(tonic + scale) % 12] += 0.1   # major triads on scale degrees
        in_key[12 + (tonic + scale) % 12] += 0.1
        scores = profile @ _TEMPLATES.T + in_key * profile.sum(axis=1, keepdims=True)
        has_notes = profile.sum(axis=1) > 0
        roots[has_notes] = scores[has_notes].argmax(axis=1) % 12
    if (roots < 0).all():
        progression = _PROGRESSION[mode]
        return np.array([(tonic + progression[(w // windows_per_bar) % 4]) % 12
                         for w in range(windows)], dtype=np.int64)
    # Carry the last known root forward (and the first one backward).
    known = np.flatnonzero(roots >= 0)
    carry = np.maximum.accumulate(np.where(roots >= 0, np.arange(windows), -1))
    carry[carry < 0] = known[0]
    return roots[carry]


def derive_bass(kick_starts: np.ndarray, kick_velocities: np.ndarray, roots: np.ndarray,
                section_start: float, window_qn: float, bar_qn: float, bars: int
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A bass line on the kick pattern: the window's root at every kick.

    Every bar line without a kick gets a note too, so the harmony is always
    stated. Returns (start_qn, dur_qn, pitch, velocity).
    """
    section_end = section_start + bars * bar_qn
    downbeats = section_start + bar_qn * np.arange(bars)
    starts = np.concatenate([kick_starts, downbeats])
    velocities = np.concatenate([80 + 0.3 * (kick_velocities - 64), np.full(bars, 84.0)])
    order = np.argsort(starts, kind="stable")
    starts, velocities = starts[order], velocities[order]
    # Kicks closer than a 32nd note (flams, doubled notes) make one bass note.
    keep = np.ones(len(starts), dtype=bool)
    keep[1:] = np.diff(starts) > 0.125
    starts, velocities = starts[keep], velocities[keep]
    inside = (starts >= section_start) & (starts < section_end)
    starts, velocities = starts[inside], velocities[inside]
    if not len(starts):
        return (np.zeros(0),) * 2 + (np.zeros(0, dtype=np.int64),) * 2
    following = np.append(starts[1:], section_end)
    durs = np.clip(following - starts, 0.125, 1.0) * 0.9
    window = np.clip(np.floor((starts - section_start) / window_qn).astype(np.int64), 0, len(roots) - 1)
    pitches = BASS_LOW + (roots[window] - BASS_LOW) % 12
    return (starts, durs, pitches.astype(np.int64),
            np.clip(np.rint(velocities), 50, 115).astype(np.int64))


def derive_guitar(starts: np.ndarray, durs: np.ndarray, pitches: np.ndarray,
                  velocities: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Piano notes voiced for a guitar: chords folded into E2..E5, at most six
    strings (the lowest five and the top note), strummed upward."""
    if not len(starts):
        return starts, durs, pitches, velocities
    order = np.lexsort((pitches, starts))
    starts, durs, pitches, velocities = starts[order], durs[order], pitches[order], velocities[order]
    # Notes starting within a 32nd-note triplet of each other form one chord.
    chord = np.concatenate([[0], np.cumsum(np.diff(starts) > 1 / 12)])
    low, high = GUITAR_RANGE
    pitches = np.where(pitches < low, pitches + 12 * -((pitches - low) // 12), pitches)
    pitches = np.where(pitches > high, pitches - 12 * -((high - pitches) // 12), pitches)
    # One string per pitch: a folded octave duplicate is dropped.
    order = np.lexsort((pitches, chord))
    chord, pitches = chord[order], pitches[order]
    starts, durs, velocities = starts[order], durs[order], velocities[order]
    unique = np.ones(len(chord), dtype=bool)
    unique[1:] = (chord[1:] != chord[:-1]) | (pitches[1:] != pitches[:-1])
    chord, pitches, starts, durs, velocities = (a[unique] for a in (chord, pitches, starts, durs, velocities))
    first = np.flatnonzero(np.concatenate([[True], chord[1:] != chord[:-1]]))
    size = np.diff(np.append(first, len(chord)))
    rank = np.arange(len(chord)) - np.repeat(first, size)
    count = np.repeat(size, size)
    keep = (rank < MAX_STRINGS - 1) | (rank == count - 1)
    rank = np.where(rank == count - 1, np.minimum(rank, MAX_STRINGS - 1), rank)
    chord_start = np.repeat(starts[first], size)
    chord_dur = np.repeat(np.maximum.reduceat(durs, first), size)
    strum = rank * STRUM_QN
    return (chord_start[keep] + strum[keep], np.maximum(chord_dur[keep] - strum[keep], 0.05),
            pitches[keep], np.clip(np.rint(velocities[keep] * 0.9), 1, 127).astype(np.int64))

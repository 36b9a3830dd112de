"""Steps every adapter shares: one job per source file, MIDI voices cut on the file's own bars."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from adtos.midi import MidiFile, MidiFileError, NoteArray, read_midi_file

from .bars import bars_from_midi, plan_loops
from .loops import LoopRows, SourceInfo, Voice, cut_voice


@dataclass(frozen=True)
class Job:
    """One source file to index; `meta` holds what the adapter read about it up front."""

    source: str  # relative to the library root, forward slashes
    meta: dict = field(default_factory=dict, hash=False)


def split_for_theme(theme: str, val_share: float = 0.1) -> str:
    """`train` or `val`, fixed by a hash of the theme so loops of one theme stay together."""
    digest = hashlib.sha1(theme.encode("utf-8")).digest()
    return "val" if int.from_bytes(digest[:4], "big") / 2**32 < val_share else "train"


def read_source_midi(path: Path, source: str, errors: list[tuple[str, str]],
                     default_bpm: float | None = None, need_notes: bool = True,
                     no_tempo: str = "no tempo: the file has no set_tempo event") -> MidiFile | None:
    """The source's MIDI, or None after adding to `errors` why it cannot be indexed:
    unreadable, no tempo (and no `default_bpm`, e.g. from the file name), or no notes."""
    try:
        midi = read_midi_file(path, default_bpm=default_bpm)
    except MidiFileError as error:
        errors.append((source, error.reason))
        return None
    if not midi.has_tempo and default_bpm is None:
        errors.append((source, no_tempo))
        return None
    if need_notes and len(midi.notes) == 0:
        errors.append((source, "no notes"))
        return None
    return midi


def voice_from_notes(notes: NoteArray, ticks_per_beat: int, role: str, id_suffix: str = "",
                     pitch_map: dict[int, int] | None = None) -> Voice:
    pitch = notes.pitch.astype(np.int16)
    if pitch_map:
        lut = np.arange(128, dtype=np.int16)
        for old, new in pitch_map.items():
            lut[old] = new
        pitch = lut[pitch]
    return Voice(role=role, onset_qn=notes.start_tick / ticks_per_beat, end_qn=notes.end_tick / ticks_per_beat,
                 pitch=pitch, velocity=notes.velocity, id_suffix=id_suffix)


def cut_on_midi_bars(midi: MidiFile, voices: list[Voice], info: SourceInfo, loop_bars: int,
                     rows: LoopRows, errors: list[tuple[str, str]]) -> None:
    """Cut each voice at the bar lines of the file's tempo and meter maps."""
    grid = bars_from_midi(midi)
    plan = plan_loops(grid, loop_bars)
    if not plan:
        errors.append((info.source, "no complete bar (the performance is shorter than half a bar)"))
        return
    for voice in voices:
        cut_voice(voice, grid, plan, info, rows, errors)

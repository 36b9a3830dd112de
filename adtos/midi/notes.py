"""NoteArray: the notes of a MIDI file as parallel numpy arrays, one entry per note."""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from adtos.midi.parser import ProgramChange


@dataclass
class NoteArray:
    """Notes in ticks, sorted by onset then pitch (see `MidiFile.notes`)."""

    start_tick: np.ndarray  # int64
    end_tick: np.ndarray    # int64, > start_tick unless the file's note-off is at the onset tick
    pitch: np.ndarray       # int16, 0..127
    velocity: np.ndarray    # int16, 1..127
    channel: np.ndarray     # int16, 0-based (GM drums are 9)
    track: np.ndarray       # int16, index of the track chunk
    program: np.ndarray     # int16, the channel's program at the onset (0 before any change)

    def __len__(self) -> int:
        return len(self.start_tick)

    def select(self, mask: np.ndarray) -> NoteArray:
        """The notes where `mask` (bool array or indices) selects them."""
        return NoteArray(*(getattr(self, f.name)[mask] for f in fields(self)))

    @classmethod
    def empty(cls) -> NoteArray:
        return cls(*(np.zeros(0, dtype=np.int64 if f.name.endswith("tick") else np.int16)
                     for f in fields(cls)))


def pair_notes(events: list[int], end_tick: int, programs: list[ProgramChange] = ()
               ) -> tuple[np.ndarray, ...]:
    """Pair note-ons with note-offs, first in first out per (channel, pitch).

    `events`: flat (tick, channel, pitch, velocity) quadruples in file order
    (velocity 0 = note-off), as `RawTrack.notes`. A note-off with no sounding
    note is ignored; a note never switched off ends at `end_tick`. Returns
    start, end, pitch, velocity, channel and program (the channel's program at
    the onset) as int64 arrays, in the order the notes end.
    """
    program = [0] * 16
    sounding: dict[tuple[int, int], list[tuple[int, int, int]]] = {}
    paired: list[int] = []
    add = paired.extend
    # Runs of note events between program changes, so the hot loop checks nothing else.
    bounds = [4 * change.before_note for change in programs] + [len(events)]
    start = 0
    for k, stop in enumerate(bounds):
        run = iter(events[start:stop])
        for tick, channel, note, velocity in zip(run, run, run, run):
            if velocity:
                key = (channel, note)
                if key in sounding:
                    sounding[key].append((tick, velocity, program[channel]))
                else:
                    sounding[key] = [(tick, velocity, program[channel])]
            else:
                stack = sounding.get((channel, note))
                if stack:
                    onset, on_velocity, on_program = stack.pop(0)
                    add((onset, tick, note, on_velocity, channel, on_program))
        if k < len(programs):
            program[programs[k].channel] = programs[k].program
        start = stop
    for (channel, note), stack in sounding.items():
        for onset, on_velocity, on_program in stack:
            paired.extend((onset, end_tick, note, on_velocity, channel, on_program))
    return tuple(np.asarray(paired, dtype=np.int64).reshape(-1, 6).T)

"""MidiFile: what ADTOS reads from a Standard MIDI File, as arrays and maps.

    midi = read_midi_file("take.mid")
    midi.notes                 # NoteArray in ticks, sorted by onset
    midi.seconds(midi.notes.start_tick)
    midi.time_signatures       # [TimeSignature(tick, numerator, denominator)], first at tick 0

One reading rule for every stage: tempo, time and key signatures are taken
from every track (as mido and sequencers play them; pretty_midi reads them
from the first track only, which differs only for files that put them
elsewhere, none in the shared data); at one tick the last event wins.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from adtos.errors import AdtosError
from adtos.midi.notes import NoteArray, pair_notes
from adtos.midi.parser import KeySignature, TimeSignature, parse_smf
from adtos.midi.tempo import TempoMap

# MIDI's meter when a file has no time signature (the standard says 4/4).
DEFAULT_TIME_SIGNATURE = TimeSignature(0, 4, 4)
# A file longer than this (about 14 hours at 120 bpm) is taken as corrupt.
MAX_QUARTER_NOTES = 100_000


class MidiFileError(AdtosError, ValueError):
    """A MIDI file that cannot be read; `reason` says why without the path."""

    def __init__(self, path: str | os.PathLike, reason: str):
        super().__init__(f"{path}: {reason}")
        self.path = str(path)
        self.reason = reason


@dataclass
class MidiFile:
    ticks_per_beat: int
    notes: NoteArray
    tempo_map: TempoMap
    time_signatures: list[TimeSignature]  # sorted, one per tick, the first at tick 0
    key_signatures: list[KeySignature] = field(default_factory=list)  # sorted
    has_tempo: bool = True  # False when the file has no set_tempo event at all
    end_tick: int = 0  # the later of the last end-of-track and the last note-off
    track_names: list[str] = field(default_factory=list)

    def seconds(self, ticks) -> np.ndarray:
        """Seconds of each tick through the tempo map."""
        return self.tempo_map.seconds(ticks)

    @property
    def meter(self) -> str:
        """The first time signature as 'N/D'."""
        _, numerator, denominator = self.time_signatures[0]
        return f"{numerator}/{denominator}"

    def beat_ticks(self, end_tick: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(beat ticks, downbeat ticks) from tick 0 up to the first beat at or after `end_tick`.

        pretty_midi's `get_beats` convention: one beat per denominator note,
        and in compound meters (6/8, 9/8, 12/8) one per three denominator notes.
        """
        end = self.end_tick if end_tick is None else end_tick
        signatures = self.time_signatures
        beats: list[int] = []
        downbeats: list[int] = []
        for k, (start, numerator, denominator) in enumerate(signatures):
            stop = signatures[k + 1].tick if k + 1 < len(signatures) else None
            compound = numerator > 3 and numerator % 3 == 0
            step = self.ticks_per_beat * 4 / denominator * (3 if compound else 1)
            per_bar = numerator // 3 if compound else numerator
            n = 0
            while True:
                tick = start + n * step
                if stop is not None and tick >= stop - 1e-9:
                    break
                beats.append(round(tick))
                if n % per_bar == 0:
                    downbeats.append(round(tick))
                if stop is None and tick >= end:
                    break
                n += 1
        return np.asarray(beats, dtype=np.int64), np.asarray(downbeats, dtype=np.int64)


def read_midi_file(path: str | os.PathLike, *, notes: bool = True,
                   default_bpm: float | None = None) -> MidiFile:
    """Read a Standard MIDI File (format 0 or 1); raise MidiFileError saying why it cannot be.

    `notes=False` leaves `notes` empty (the maps alone are faster to build).
    `default_bpm` is the tempo of a file without set_tempo events (a bpm
    found in its name, say); without it such a file keeps MIDI's 120 bpm and
    `has_tempo` is False so that a caller can refuse it.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise MidiFileError(path, f"cannot read file: {error.strerror or error}") from None
    if not data:
        raise MidiFileError(path, "zero-length file")
    try:
        resolution, tracks = parse_smf(data)
    except IndexError:
        raise MidiFileError(path, "unreadable MIDI (file ends in the middle of an event)") from None
    except ValueError as error:
        raise MidiFileError(path, f"unreadable MIDI ({error})") from None

    end_tick = max(track.end_tick for track in tracks)
    note_array = NoteArray.empty()
    if notes:
        parts = []
        for index, track in enumerate(tracks):
            paired = pair_notes(track.notes, track.end_tick, track.programs)
            parts.append(paired + (np.full(len(paired[0]), index, dtype=np.int64),))
        start, end, pitch, velocity, channel, program, track_of = (np.concatenate(c) for c in zip(*parts))
        order = np.lexsort((pitch, start))
        note_array = NoteArray(start_tick=start[order], end_tick=end[order],
                               pitch=pitch[order].astype(np.int16),
                               velocity=velocity[order].astype(np.int16),
                               channel=channel[order].astype(np.int16),
                               track=track_of[order].astype(np.int16),
                               program=program[order].astype(np.int16))
        if len(note_array):
            end_tick = max(end_tick, int(note_array.end_tick.max()))

    tempos = [change for track in tracks for change in track.tempos]
    has_tempo = bool(tempos)
    if not tempos and default_bpm:
        tempos = [(0, 60e6 / default_bpm)]
    try:
        tempo_map = TempoMap(tempos, resolution)
    except ValueError as error:
        raise MidiFileError(path, str(error)) from None

    meter_by_tick = {0: DEFAULT_TIME_SIGNATURE}
    for signature in sorted((s for track in tracks for s in track.time_signatures),
                            key=lambda s: s.tick):
        if signature.numerator < 1 or signature.denominator > 64:
            raise MidiFileError(path, f"time signature {signature.numerator}/{signature.denominator} "
                                      f"at tick {signature.tick} is not usable")
        meter_by_tick[signature.tick] = signature
    keys = {k.tick: k for k in sorted((k for t in tracks for k in t.key_signatures),
                                      key=lambda k: k.tick)}

    if end_tick / resolution > MAX_QUARTER_NOTES:
        raise MidiFileError(path, f"implausibly long: {end_tick / resolution:.0f} quarter notes "
                                  "(a corrupt delta time?)")
    return MidiFile(ticks_per_beat=resolution, notes=note_array, tempo_map=tempo_map,
                    time_signatures=[meter_by_tick[t] for t in sorted(meter_by_tick)],
                    key_signatures=[keys[t] for t in sorted(keys)], has_tempo=has_tempo,
                    end_tick=int(end_tick), track_names=[track.name for track in tracks])

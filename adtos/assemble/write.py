"""A planned track -> MIDI bytes and the drum annotation text.

Times in seconds are computed from ticks exactly as pretty_midi computes them
(same tick scales, same accumulation), so the annotation file matches what
`pretty_midi.PrettyMIDI(path)` reads back, to the last printed decimal.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from adtos.assemble.harmony import key_signature
from adtos.assemble.plan import TrackPlan
from adtos.assemble.quantize import DUPLICATE_SEC, quantize_qn, snap_velocities
from adtos.smf import (NoteTrack, key_signature_event, midi_file_bytes, tempo_event,
                                time_signature_event)
from adtos.vocab import GM_TO_CLASS

# Channel (drums on GM channel 10) and default General MIDI program per voice;
# the renderer picks timbres by instrument name, these are for plain players.
VOICE_CHANNEL = {"drums": 9, "piano": 0, "bass": 1, "guitar": 2, "lead": 3, "bridge": 4}
VOICE_PROGRAM = {"drums": 0, "piano": 0, "bass": 33, "guitar": 25, "lead": 53, "bridge": 48}
_LABEL = [GM_TO_CLASS.get(note, "-") for note in range(128)]


class TempoMap:
    """Tick -> seconds for a piecewise-constant tempo, pretty_midi's arithmetic."""

    def __init__(self, ticks: list[int], mpqn: list[int], resolution: int):
        self.ticks = np.asarray(ticks, dtype=np.int64)
        self.scale = np.array([60.0 / ((6e7 / m) * resolution) for m in mpqn])
        self.start = np.zeros(len(ticks))
        for k in range(1, len(ticks)):
            self.start[k] = self.start[k - 1] + self.scale[k - 1] * (self.ticks[k] - self.ticks[k - 1])

    def seconds(self, ticks: np.ndarray) -> np.ndarray:
        ticks = np.asarray(ticks, dtype=np.int64)
        k = np.searchsorted(self.ticks, ticks, side="right") - 1
        return self.start[k] + self.scale[k] * (ticks - self.ticks[k])


def format_annotation(times, notes, extra: dict[str, np.ndarray] | None = None) -> str:
    """`time<TAB>GM note<TAB>class` lines, times in seconds with 6 decimals.

    `extra` adds columns after the class, in its order (the renderer's per-onset
    audibility: velocity, level_db, smr_db): integer arrays as integers, others
    with one decimal. The first three columns never change, so three-column
    readers keep working.
    """
    notes = np.asarray(notes, dtype=np.int64).tolist()
    columns = [[f"{t:.6f}" for t in np.asarray(times, dtype=np.float64).tolist()],
               [str(n) for n in notes], [_LABEL[n] if 0 <= n < 128 else "-" for n in notes]]
    for name, values in (extra or {}).items():
        values = np.asarray(values)
        if values.shape != (len(notes),):
            raise ValueError(f"annotation column {name}: {values.shape[0] if values.ndim else 0} "
                             f"values for {len(notes)} onsets")
        form = "{:d}" if values.dtype.kind in "iu" else "{:.1f}"
        columns.append([form.format(v) for v in values.tolist()])
    return "".join("\t".join(fields) + "\n" for fields in zip(*columns))


@dataclass
class WrittenTrack:
    midi: bytes
    annotation: str
    section_ticks: list[int]
    section_sec: list[float]
    placement_sec: list[float]
    end_sec: float
    drum_onsets: int


def _clean_notes(starts, durs, pitches, velocities, resolution, end_tick, tempo_map, drum):
    """qn -> ticks; drop notes past the end and same-note duplicates; end each
    note before the next onset of its pitch, so note-on/off pairs are unambiguous."""
    on = np.rint(starts * resolution).astype(np.int64)
    off = np.rint((starts + durs) * resolution).astype(np.int64)
    pitches = np.asarray(pitches, dtype=np.int64)
    pitches = pitches + 12 * np.ceil(np.maximum(-pitches, 0) / 12).astype(np.int64)
    pitches = pitches - 12 * np.ceil(np.maximum(pitches - 127, 0) / 12).astype(np.int64)
    keep = (on >= 0) & (on < end_tick)
    on, off, pitches = on[keep], off[keep], pitches[keep]
    velocities = np.clip(np.asarray(velocities, dtype=np.int64)[keep], 1, 127)
    if not len(on):  # a voice silent in this track (a lead whose songs have no melody here)
        return on, off, pitches, velocities
    order = np.lexsort((on, pitches))
    on, off, pitches, velocities = on[order], off[order], pitches[order], velocities[order]
    same = pitches[1:] == pitches[:-1]
    if drum:
        close = np.diff(tempo_map.seconds(on)) < DUPLICATE_SEC
    else:
        close = np.diff(on) == 0
    keep = np.concatenate([[True], ~(same & close)])
    on, off, pitches, velocities = on[keep], off[keep], pitches[keep], velocities[keep]
    next_on = np.append(np.where(pitches[1:] == pitches[:-1], on[1:], end_tick), end_tick)
    off = np.clip(np.minimum(off, next_on), on + 1, None)
    off = np.minimum(off, np.maximum(end_tick, on + 1))
    return on, off, pitches, velocities


def write_track(plan: TrackPlan, resolution: int, quantize: bool) -> WrittenTrack:
    sections = plan.sections
    section_ticks = [int(round(s.start_qn * resolution)) for s in sections]
    end_tick = int(round(plan.end_qn * resolution))
    tempo_ticks, tempo_values = [], []
    conductor: list[tuple[int, bytes]] = []
    last_meter, last_mpqn = None, None
    for section, tick in zip(sections, section_ticks):
        if tick >= end_tick:
            break
        if section.meter != last_meter:
            conductor.append((tick, time_signature_event(section.meter)))
            last_meter = section.meter
        if tick == 0 and plan.key is not None:
            conductor.append((0, key_signature_event(*key_signature(*plan.key))))
        if section.mpqn != last_mpqn:
            conductor.append((tick, tempo_event(section.mpqn)))
            tempo_ticks.append(tick)
            tempo_values.append(section.mpqn)
            last_mpqn = section.mpqn
    tempo_map = TempoMap(tempo_ticks, tempo_values, resolution)

    tracks = []
    annotation = ""
    drum_onsets = 0
    for voice, voice_notes in plan.notes.items():
        starts, durs, pitches, velocities = voice_notes.arrays()
        if voice == "drums" and quantize:
            starts, velocities = quantize_qn(starts), snap_velocities(velocities)
        on, off, pitches, velocities = _clean_notes(starts, durs, pitches, velocities, resolution,
                                                    end_tick, tempo_map, voice == "drums")
        tracks.append(NoteTrack(voice, VOICE_CHANNEL[voice], VOICE_PROGRAM[voice], on, off, pitches,
                                velocities))
        if voice == "drums":
            times = tempo_map.seconds(on)
            order = np.lexsort((pitches, times))
            annotation = format_annotation(times[order], pitches[order])
            drum_onsets = len(on)
    midi = midi_file_bytes(resolution, conductor, tracks, end_tick)
    placement_ticks = np.asarray([int(round(p.start_qn * resolution)) for p in plan.placements])
    return WrittenTrack(midi, annotation, section_ticks,
                        tempo_map.seconds(np.asarray(section_ticks)).tolist(),
                        tempo_map.seconds(placement_ticks).tolist(),
                        float(tempo_map.seconds(np.asarray([end_tick]))[0]), drum_onsets)

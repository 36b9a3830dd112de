"""A planned track -> MIDI bytes and the drum annotation text.

Times in seconds come from the file's `adtos.midi.TempoMap`, whose arithmetic
is pretty_midi's, so the annotation file matches what
`pretty_midi.PrettyMIDI(path)` reads back, to the last printed decimal.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from adtos.assemble.harmony import key_signature
from adtos.assemble.plan import TrackPlan
from adtos.assemble.quantize import DUPLICATE_SEC, quantize_qn, snap_velocities
from adtos.annotations import format_annotations
from adtos.midi import (NoteTrack, TempoMap, key_signature_event, midi_file_bytes, read_midi_file,
                        tempo_event, tempo_map_events, time_signature_event)

# Channel (drums on GM channel 10) and default General MIDI program per voice;
# the renderer picks timbres by instrument name, these are for plain players.
VOICE_CHANNEL = {"drums": 9, "piano": 0, "bass": 1, "guitar": 2, "lead": 3, "bridge": 4}
VOICE_PROGRAM = {"drums": 0, "piano": 0, "bass": 33, "guitar": 25, "lead": 53, "bridge": 48}


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
    tempo_map = TempoMap(zip(tempo_ticks, tempo_values), resolution)

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
            annotation = format_annotations(tempo_map.seconds(on), pitches)
            drum_onsets = len(on)
    midi = midi_file_bytes(resolution, conductor, tracks, end_tick)
    placement_ticks = np.asarray([int(round(p.start_qn * resolution)) for p in plan.placements])
    return WrittenTrack(midi, annotation, section_ticks,
                        tempo_map.seconds(np.asarray(section_ticks)).tolist(),
                        tempo_map.seconds(placement_ticks).tolist(),
                        float(tempo_map.seconds(np.asarray([end_tick]))[0]), drum_onsets)


def quantize_track_file(path: str | os.PathLike) -> tuple[bytes, str]:
    """A track MIDI written by `write_track`, with its drums quantized as `--quantize` does it.

    Returns the new MIDI bytes and drum annotation text. The conductor track
    and the pitched voices are written back unchanged; drum onsets move to the
    16th-note grid and velocities to 100 or 127, through the same note
    cleaning as a quantized assembly. The track keeps its length: a hit
    snapped onto or past the end is dropped, and if the drums then end before
    the base's last note, the drum note ending last is held to it (the renderer
    sizes the audio by the last note, and a variant lasts as long as its base).
    """
    midi = read_midi_file(path)
    resolution, end_tick, notes = midi.ticks_per_beat, midi.end_tick, midi.notes
    conductor = [(s.tick, time_signature_event(f"{s.numerator}/{s.denominator}"))
                 for s in midi.time_signatures]
    conductor += [(k.tick, key_signature_event(k.sharps, k.minor)) for k in midi.key_signatures]
    conductor += tempo_map_events(midi.tempo_map)
    last_end = int(notes.end_tick.max()) if len(notes) else 0
    tracks, annotation = [], ""
    for index, name in enumerate(midi.track_names):
        if name not in VOICE_CHANNEL:
            continue  # the conductor track
        voice = notes.select(notes.track == index)
        on, off = voice.start_tick, voice.end_tick
        pitches, velocities = voice.pitch.astype(np.int64), voice.velocity.astype(np.int64)
        if name == "drums":
            starts = quantize_qn(on / resolution)
            on, off, pitches, velocities = _clean_notes(
                starts, (off - on) / resolution, pitches, snap_velocities(velocities), resolution,
                end_tick, midi.tempo_map, True)
            if off.size and off.max() < last_end and notes.end_tick[notes.track != index].max(
                    initial=0) < last_end:
                off[np.argmax(off)] = last_end
            annotation = format_annotations(midi.seconds(on), pitches)
        tracks.append(NoteTrack(name, VOICE_CHANNEL[name], VOICE_PROGRAM[name], on, off, pitches,
                                velocities))
    return midi_file_bytes(resolution, conductor, tracks, end_tick), annotation

"""Standard MIDI File writing, vectorised with numpy.

A voice's note events become one byte array, where mido would build a Python
object per message. `midi_file_bytes` writes a format-1 file: track 0 holds
the tempo map, meter and key (the conductor track); then one track per voice
with its name, program and notes. Events at one tick are ordered note-offs
first, then by pitch, so the bytes are deterministic. `encode_smf` writes a
format-0 file from events already in order (the built-in loop pack).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np

from adtos.midi.tempo import TempoMap


def vlq(value: int) -> bytes:
    """MIDI variable-length quantity."""
    out = [value & 0x7F]
    value >>= 7
    while value:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    return bytes(reversed(out))


def meta_event(kind: int, data: bytes) -> bytes:
    return bytes([0xFF, kind]) + vlq(len(data)) + data


def tempo_event(mpqn: int) -> bytes:
    return meta_event(0x51, int(mpqn).to_bytes(3, "big"))


def time_signature_event(meter: str) -> bytes:
    """`"6/8"` → a time signature meta event (24 clocks per click, 8 32nds per quarter)."""
    numerator, denominator = (int(x) for x in meter.split("/"))
    return meta_event(0x58, bytes([numerator, denominator.bit_length() - 1, 24, 8]))


def key_signature_event(sharps: int, minor: int) -> bytes:
    return meta_event(0x59, struct.pack("bB", sharps, minor))


def track_name_event(name: str) -> bytes:
    return meta_event(0x03, name.encode("ascii"))


def tempo_map_events(tempo_map: TempoMap) -> list[tuple[int, bytes]]:
    """(tick, set_tempo event) per change of the map (whole microseconds, as the file stores them)."""
    return [(int(t), tempo_event(int(round(m)))) for t, m in zip(tempo_map.ticks, tempo_map.mpqn)]


def _chunk(body: bytes) -> bytes:
    return b"MTrk" + struct.pack(">I", len(body)) + body


def _events_to_bytes(ticks: np.ndarray, payload: np.ndarray, start_tick: int = 0) -> bytes:
    """Sorted ticks and 3-byte channel messages -> delta-time encoded bytes."""
    delta = np.diff(ticks, prepend=start_tick).astype(np.int64)
    groups = np.stack([(delta >> shift) & 0x7F for shift in (21, 14, 7, 0)], axis=1)
    groups[:, :3] |= 0x80
    length = 1 + (delta >= 1 << 7) + (delta >= 1 << 14) + (delta >= 1 << 21)
    present = np.arange(4)[None, :] >= 4 - length[:, None]
    rows = np.concatenate([groups, payload.astype(np.int64)], axis=1).astype(np.uint8)
    mask = np.concatenate([present, np.ones((len(ticks), 3), dtype=bool)], axis=1)
    return rows[mask].tobytes()


@dataclass
class NoteTrack:
    """One voice's track: name, channel (9 for GM drums), program and its notes in ticks."""

    name: str
    channel: int
    program: int
    on: np.ndarray        # int64 ticks
    off: np.ndarray       # int64 ticks, > on
    pitch: np.ndarray     # 0..127
    velocity: np.ndarray  # 1..127

    def to_bytes(self, end_tick: int) -> bytes:
        head = vlq(0) + track_name_event(self.name) + vlq(0) + bytes([0xC0 | self.channel, self.program])
        n = len(self.on)
        ticks = np.concatenate([self.off, self.on]).astype(np.int64)
        is_on = np.repeat([0, 1], n)
        pitch = np.concatenate([self.pitch, self.pitch]).astype(np.int64)
        order = np.lexsort((pitch, is_on, ticks))
        status = np.where(is_on == 1, 0x90 | self.channel, 0x80 | self.channel)
        velocity = np.concatenate([np.zeros(n, np.int64), np.asarray(self.velocity, dtype=np.int64)])
        payload = np.stack([status, pitch, velocity], axis=1)[order]
        body = _events_to_bytes(ticks[order], payload)
        last = int(ticks.max()) if n else 0
        tail = vlq(max(end_tick - last, 0)) + meta_event(0x2F, b"")
        return _chunk(head + body + tail)


def _conductor_body(events: list[tuple[int, bytes]], end_tick: int | None = None) -> bytes:
    """Delta-time encode (tick, event bytes) in the given order, then end the track."""
    body = bytearray()
    now = 0
    for tick, event in events:
        if tick < now:
            raise ValueError(f"events are not sorted by tick ({tick} after {now})")
        body += vlq(tick - now) + event
        now = tick
    body += vlq(max((end_tick if end_tick is not None else now) - now, 0)) + meta_event(0x2F, b"")
    return bytes(body)


def encode_smf(ticks_per_beat: int, events: list[tuple[int, bytes]]) -> bytes:
    """A format-0 Standard MIDI File from (absolute tick, event bytes), sorted by tick.

    An end-of-track event is appended at the last tick.
    """
    header = b"MThd" + struct.pack(">IHHH", 6, 0, 1, ticks_per_beat)
    return header + _chunk(_conductor_body(events))


def midi_file_bytes(resolution: int, conductor: list[tuple[int, bytes]], tracks: list[NoteTrack],
                    end_tick: int) -> bytes:
    """A format-1 file: `conductor` (tick, meta event bytes) in track 0, then one track per NoteTrack.

    Conductor events at one tick keep the order they are given in; every
    track ends at `end_tick` (or at its last event, if later).
    """
    body = _conductor_body(sorted(conductor, key=lambda item: item[0]), end_tick)
    header = b"MThd" + struct.pack(">IHHH", 6, 1, 1 + len(tracks), resolution)
    return header + _chunk(body) + b"".join(track.to_bytes(end_tick) for track in tracks)


def drum_onsets_file(times, gm_notes, velocities=100, *, hold_seconds: float = 0.1,
                     resolution: int = 960, mpqn: int = 500_000) -> bytes:
    """A format-1 file with one drum track (GM channel 10) from onsets in seconds.

    One tempo throughout (120 bpm by default; at 960 ticks per quarter note a
    tick is 0.52 ms). Each note is held `hold_seconds` or until the next onset
    of its note, whichever comes first, so note-on/off pairs are unambiguous;
    two onsets of one note on the same tick are one.
    """
    tempo_map = TempoMap([(0, mpqn)], resolution)
    times = np.asarray(times, dtype=np.float64)
    pitch = np.asarray(gm_notes, dtype=np.int64)
    velocity = np.broadcast_to(np.asarray(velocities, dtype=np.int64), pitch.shape)
    on = np.rint(tempo_map.ticks_at(times)).astype(np.int64)
    order = np.lexsort((on, pitch))
    on, pitch, velocity, times = on[order], pitch[order], velocity[order], times[order]
    keep = np.concatenate([[True], (pitch[1:] != pitch[:-1]) | (on[1:] != on[:-1])])[:len(on)]
    on, pitch, velocity, times = on[keep], pitch[keep], velocity[keep], times[keep]
    off = np.rint(tempo_map.ticks_at(times + hold_seconds)).astype(np.int64)
    next_on = np.append(np.where(pitch[1:] == pitch[:-1], on[1:], off[:-1]), off[-1:])
    off = np.maximum(np.minimum(off, next_on), on + 1)
    track = NoteTrack("drums", 9, 0, on, off, pitch, velocity)
    end_tick = int(off.max()) if off.size else 0
    return midi_file_bytes(resolution, tempo_map_events(tempo_map), [track], end_tick)

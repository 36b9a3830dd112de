"""A small Standard MIDI File writer, vectorised with numpy.

mido builds one Python object per message, which costs more than planning a
track; here a voice's note events become one byte array. `midi_file_bytes`
writes a format-1 file: track 0 holds the tempo map, meter and key; then one
track per voice with its name, program and notes. Events at the same tick are
ordered note-offs first, then by pitch, so the bytes are deterministic.
`encode_smf` writes a format-0 file from events already in order (the
built-in loop pack).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np


def vlq(value: int) -> bytes:
    """MIDI variable-length quantity."""
    out = [value & 0x7F]
    value >>= 7
    while value:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    return bytes(reversed(out))


def meta(kind: int, data: bytes) -> bytes:
    return bytes([0xFF, kind]) + vlq(len(data)) + data


def tempo_event(mpqn: int) -> bytes:
    return meta(0x51, mpqn.to_bytes(3, "big"))


def time_signature_event(meter: str) -> bytes:
    numerator, denominator = (int(x) for x in meter.split("/"))
    return meta(0x58, bytes([numerator, denominator.bit_length() - 1, 24, 8]))


def key_signature_event(sharps: int, minor: int) -> bytes:
    return meta(0x59, struct.pack("bB", sharps, minor))


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
    name: str
    channel: int
    program: int
    on: np.ndarray        # int64 ticks
    off: np.ndarray       # int64 ticks, > on
    pitch: np.ndarray     # 0..127
    velocity: np.ndarray  # 1..127

    def to_bytes(self, end_tick: int) -> bytes:
        head = (vlq(0) + meta(0x03, self.name.encode("ascii"))
                + vlq(0) + bytes([0xC0 | self.channel, self.program]))
        n = len(self.on)
        ticks = np.concatenate([self.off, self.on])
        is_on = np.repeat([0, 1], n)
        pitch = np.concatenate([self.pitch, self.pitch])
        order = np.lexsort((pitch, is_on, ticks))
        status = np.where(is_on == 1, 0x90 | self.channel, 0x80 | self.channel)
        payload = np.stack([status, pitch, np.concatenate([np.zeros(n, np.int64), self.velocity])],
                           axis=1)[order]
        body = _events_to_bytes(ticks[order], payload)
        last = int(ticks.max()) if n else 0
        tail = vlq(max(end_tick - last, 0)) + meta(0x2F, b"")
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
    body += vlq(max((end_tick if end_tick is not None else now) - now, 0)) + meta(0x2F, b"")
    return bytes(body)


def encode_smf(ticks_per_beat: int, events: list[tuple[int, bytes]]) -> bytes:
    """A format-0 Standard MIDI File from (absolute tick, event bytes), sorted by tick.

    An end-of-track event is appended at the last tick.
    """
    header = b"MThd" + struct.pack(">IHHH", 6, 0, 1, ticks_per_beat)
    return header + _chunk(_conductor_body(events))


def midi_file_bytes(resolution: int, conductor: list[tuple[int, bytes]], tracks: list[NoteTrack],
                    end_tick: int) -> bytes:
    """`conductor`: (tick, meta event bytes), in the order they should appear."""
    # sorted() is stable: events at one tick keep the order they were given in.
    body = _conductor_body(sorted(conductor, key=lambda item: item[0]), end_tick)
    header = b"MThd" + struct.pack(">IHHH", 6, 1, 1 + len(tracks), resolution)
    return header + _chunk(body) + b"".join(track.to_bytes(end_tick) for track in tracks)

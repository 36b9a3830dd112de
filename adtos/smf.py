"""Standard MIDI File reading and writing, small and fast.

Reading (`parse_smf`) walks the bytes once and keeps only what ADTOS uses;
mido and pretty_midi build and validate an object per event, several times
slower on libraries of a hundred thousand files.

Writing is vectorised with numpy: a voice's note events become one byte
array, where mido would build a Python object per message. `midi_file_bytes`
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


@dataclass
class RawTrack:
    """What the indexer needs from one MTrk chunk."""

    events: list[int]  # flat (tick, channel, note, velocity) quadruples; velocity -1: program change
    tempos: list[tuple[int, float]]
    meters: list[tuple[int, int, int]]
    name: str
    end_tick: int


# Data bytes that follow each channel-message status (high nibble).
_DATA_LENGTH = {0x8: 2, 0x9: 2, 0xA: 2, 0xB: 2, 0xC: 1, 0xD: 1, 0xE: 2}


def _read_vlq(data: bytes, position: int) -> tuple[int, int]:
    """A variable-length quantity at `position`: (value, position after it)."""
    value = 0
    while True:
        byte = data[position]
        position += 1
        value = (value << 7) | (byte & 0x7F)
        if byte < 0x80:
            return value, position


def parse_smf(data: bytes, max_tracks: int | None = None) -> tuple[int, list[RawTrack]]:
    """Ticks per quarter note and the tracks of a Standard MIDI File.

    A small reader of the parts of the format ADTOS uses: note on/off,
    program change, tempo, time signature, track name. `max_tracks` stops
    after that many tracks (1 reads a format-1 file's conductor track: its
    tempo and meter maps). Raises ValueError or IndexError (truncated data)
    on malformed input.
    """
    if data[:4] != b"MThd":
        raise ValueError("no MThd header: not a Standard MIDI File")
    if len(data) < 14:
        raise ValueError("header is truncated")
    header_length = int.from_bytes(data[4:8], "big")
    fmt = int.from_bytes(data[8:10], "big")
    division = int.from_bytes(data[12:14], "big")
    if fmt == 2:
        raise ValueError("format 2 (independent sequences) is not supported")
    if division & 0x8000 or division == 0:
        raise ValueError("SMPTE time division is not supported")
    tracks: list[RawTrack] = []
    for _, body_start, end in _track_chunks(data, 8 + header_length):
        if max_tracks is not None and len(tracks) >= max_tracks:
            break
        tracks.append(_parse_track(data, body_start, end))
    if not tracks:
        raise ValueError("no track chunks")
    return division, tracks


def _track_chunks(data: bytes, position: int):
    """(chunk start, body start, end) of each MTrk chunk from `position` on.

    Chunks of other types are skipped, as the standard asks; a track chunk
    longer than the data raises ValueError.
    """
    while position + 8 <= len(data):
        body_start = position + 8
        end = body_start + int.from_bytes(data[position + 4:position + 8], "big")
        if data[position:position + 4] == b"MTrk":
            if end > len(data):
                raise ValueError("track chunk is truncated")
            yield position, body_start, end
        position = end


def select_tracks(data: bytes, keep) -> bytes:
    """The file with only the track chunks for which `keep(track)` is true.

    `keep` gets each track as a RawTrack. Chunks are copied byte for byte, so
    every kept event, its time and the tempo map are exactly the original's;
    the header's track count is updated, other chunks are dropped.
    """
    if data[:4] != b"MThd" or len(data) < 14:
        raise ValueError("no MThd header: not a Standard MIDI File")
    header_end = 8 + int.from_bytes(data[4:8], "big")
    kept = [data[start:end] for start, body_start, end in _track_chunks(data, header_end)
            if keep(_parse_track(data, body_start, end))]
    header = data[:10] + len(kept).to_bytes(2, "big") + data[12:header_end]
    return header + b"".join(kept)


def _parse_track(data: bytes, position: int, end: int) -> RawTrack:
    events: list[int] = []
    add = events.extend
    tempos: list[tuple[int, float]] = []
    meters: list[tuple[int, int, int]] = []
    name = ""
    tick = 0
    status = 0
    while position < end:
        delta = 0
        while True:  # variable-length quantity
            byte = data[position]
            position += 1
            delta = (delta << 7) | (byte & 0x7F)
            if byte < 0x80:
                break
        tick += delta
        byte = data[position]
        if byte >= 0x80:
            status = byte
            position += 1
        elif status == 0 or status >= 0xF0:
            raise ValueError(f"data byte without a status at byte {position}")
        kind = status >> 4
        if kind < 0xF:
            channel = status & 0x0F
            if kind == 0x9 or kind == 0x8:
                note = data[position] & 0x7F
                velocity = data[position + 1] & 0x7F if kind == 0x9 else 0
                add((tick, channel, note, velocity))
            elif kind == 0xC:
                add((tick, channel, data[position] & 0x7F, -1))
            position += _DATA_LENGTH[kind]
            continue
        if status == 0xFF:
            meta_type = data[position]
            position += 1
            length, position = _read_vlq(data, position)
            body = data[position:position + length]
            if len(body) < length:
                raise IndexError("truncated meta event")
            position += length
            if meta_type == 0x51 and length == 3:
                tempo = int.from_bytes(body, "big")
                if tempo > 0:
                    tempos.append((tick, float(tempo)))
            elif meta_type == 0x58 and length >= 2:
                meters.append((tick, body[0], 2 ** body[1]))
            elif meta_type == 0x03 and not name:
                name = body.decode("latin-1")
            elif meta_type == 0x2F:
                break
            status = 0  # meta events cancel running status
        elif status in (0xF0, 0xF7):
            length, position = _read_vlq(data, position)
            position += length
            status = 0
        else:
            raise ValueError(f"unexpected status byte 0x{status:02X} at byte {position}")
    if position > end:
        raise IndexError("event runs past the end of its track")
    return RawTrack(events=events, tempos=tempos, meters=meters, name=name, end_tick=tick)

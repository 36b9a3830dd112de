"""Standard MIDI File bytes → typed events per track, small and fast.

`parse_smf` walks the bytes once and keeps only what ADTOS uses (notes,
program changes, tempo, time and key signatures, track names); mido and
pretty_midi build and validate an object per event, 5–10× slower on a
library of a hundred thousand files (benchmarks/bench_smf_reader.py).
`tests/test_midi_reader_shared.py` compares it with mido and pretty_midi on
every MIDI file of the shared data.

Notes stay a flat list of ints (four per event), which is what keeps the
reader fast; everything else is a typed record.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterator, NamedTuple


class TempoChange(NamedTuple):
    tick: int
    mpqn: int  # microseconds per quarter note


class TimeSignature(NamedTuple):
    tick: int
    numerator: int
    denominator: int  # 4 for x/4 (the file stores its base-2 logarithm)


class KeySignature(NamedTuple):
    tick: int
    sharps: int  # -7..7, negative: flats
    minor: int   # 0 major, 1 minor


class ProgramChange(NamedTuple):
    tick: int
    channel: int
    program: int
    before_note: int  # index (in events) of the first note event after it: keeps the file order


@dataclass
class RawTrack:
    """The events of one MTrk chunk that ADTOS uses."""

    notes: list[int]  # flat (tick, channel, pitch, velocity) per note-on/off in file order; velocity 0 = off
    programs: list[ProgramChange] = field(default_factory=list)
    tempos: list[TempoChange] = field(default_factory=list)
    time_signatures: list[TimeSignature] = field(default_factory=list)
    key_signatures: list[KeySignature] = field(default_factory=list)
    name: str = ""
    end_tick: int = 0

    @property
    def plays(self) -> bool:
        """Whether the track has channel events ADTOS reads (notes or program changes);
        a format-1 conductor track has none."""
        return bool(self.notes or self.programs)


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
    """Ticks per quarter note and the tracks of a Standard MIDI File (format 0 or 1).

    `max_tracks` stops after that many tracks. Raises ValueError, or
    IndexError for data that ends in the middle of an event.
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


def _track_chunks(data: bytes, position: int) -> Iterator[tuple[int, int, int]]:
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


def select_tracks(data: bytes, keep: Callable[[RawTrack], bool]) -> bytes:
    """The file with only the track chunks for which `keep(track)` is true.

    Chunks are copied byte for byte, so every kept event, its time and the
    tempo map are exactly the original's; the header's track count is
    updated, other chunks are dropped.
    """
    if data[:4] != b"MThd" or len(data) < 14:
        raise ValueError("no MThd header: not a Standard MIDI File")
    header_end = 8 + int.from_bytes(data[4:8], "big")
    kept = [data[start:end] for start, body_start, end in _track_chunks(data, header_end)
            if keep(_parse_track(data, body_start, end))]
    header = data[:10] + len(kept).to_bytes(2, "big") + data[12:header_end]
    return header + b"".join(kept)


def _parse_track(data: bytes, position: int, end: int) -> RawTrack:
    notes: list[int] = []
    add = notes.extend
    track = RawTrack(notes)
    tick = 0
    status = 0
    while position < end:
        delta = 0
        while True:  # variable-length quantity, inlined: this loop is the reader's hot path
            byte = data[position]
            position += 1
            delta = (delta << 7) | (byte & 0x7F)
            if byte < 0x80:
                break
        tick += delta
        byte = data[position]
        if byte >= 0x80:
            position += 1
            if byte < 0xF0:
                status = byte
        elif status == 0:
            raise ValueError(f"data byte without a status at byte {position}")
        else:
            byte = status
        if byte < 0xF0:
            kind = byte >> 4
            channel = byte & 0x0F
            if kind == 0x9 or kind == 0x8:
                note = data[position] & 0x7F
                velocity = data[position + 1] & 0x7F if kind == 0x9 else 0
                add((tick, channel, note, velocity))
            elif kind == 0xC:
                track.programs.append(ProgramChange(tick, channel, data[position] & 0x7F,
                                                    len(notes) // 4))
            position += _DATA_LENGTH[kind]
            continue
        if byte == 0xFF:
            # A meta event keeps the running status, as mido and most players do;
            # the standard says it cancels it, but no valid file can tell the difference.
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
                    track.tempos.append(TempoChange(tick, tempo))
            elif meta_type == 0x58 and length >= 2:
                track.time_signatures.append(TimeSignature(tick, body[0], 2 ** body[1]))
            elif meta_type == 0x59 and length == 2:
                track.key_signatures.append(KeySignature(tick, int.from_bytes(body[:1], "big", signed=True),
                                                         body[1]))
            elif meta_type == 0x03 and not track.name:
                track.name = body.decode("latin-1")
            elif meta_type == 0x2F:
                break
        elif byte in (0xF0, 0xF7):
            length, position = _read_vlq(data, position)
            position += length
            status = 0  # a sysex event cancels running status
        else:
            raise ValueError(f"unexpected status byte 0x{byte:02X} at byte {position}")
    if position > end:
        raise IndexError("event runs past the end of its track")
    track.end_tick = tick
    return track

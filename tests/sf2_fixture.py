"""A minimal SoundFont 2 written from scratch: one drum kit (bank 128, program 0) with
one decaying noise burst on every key, and a velocity-to-attenuation modulator of a
chosen amount in its instrument zone (FluidSynth lets it replace the SF2 default's
960 cB: 480 cB makes the kit's level (velocity/127) ** 1)."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

SAMPLE_RATE = 44100


def _chunk(chunk_id: bytes, data: bytes) -> bytes:
    return chunk_id + struct.pack("<I", len(data)) + data + (b"\0" if len(data) % 2 else b"")


def _list(list_type: bytes, *chunks: bytes) -> bytes:
    return _chunk(b"LIST", list_type + b"".join(chunks))


def _name(text: str) -> bytes:
    return text.encode("ascii")[:19].ljust(20, b"\0")


def write_drum_soundfont(path: Path, velocity_cb: int | None) -> Path:
    """The file at `path`; `velocity_cb` None leaves the SF2 default modulator alone."""
    rng = np.random.default_rng(0)
    n = int(0.3 * SAMPLE_RATE)
    burst = rng.standard_normal(n) * np.exp(-np.arange(n) / (0.05 * SAMPLE_RATE))
    pcm = (burst / np.abs(burst).max() * 20000).astype("<i2")
    smpl = pcm.tobytes() + b"\0" * 2 * 46  # 46 zero samples after each sample (SF2 2.04)
    zero_mod = struct.pack("<HHhHH", 0, 0, 0, 0, 0)
    imod = (struct.pack("<HHhHH", 0x0502, 48, velocity_cb, 0, 0) if velocity_cb is not None
            else b"") + zero_mod
    mods_in_zone = 1 if velocity_cb is not None else 0
    pdta = _list(
        b"pdta",
        _chunk(b"phdr", _name("Test Kit") + struct.pack("<HHHIII", 0, 128, 0, 0, 0, 0)
               + _name("EOP") + struct.pack("<HHHIII", 0, 0, 1, 0, 0, 0)),
        _chunk(b"pbag", struct.pack("<HH", 0, 0) + struct.pack("<HH", 1, 0)),
        _chunk(b"pmod", zero_mod),
        _chunk(b"pgen", struct.pack("<HH", 41, 0) + struct.pack("<HH", 0, 0)),  # instrument 0
        _chunk(b"inst", _name("Burst") + struct.pack("<H", 0)
               + _name("EOI") + struct.pack("<H", 1)),
        _chunk(b"ibag", struct.pack("<HH", 0, 0) + struct.pack("<HH", 1, mods_in_zone)),
        _chunk(b"imod", imod),
        _chunk(b"igen", struct.pack("<HH", 53, 0) + struct.pack("<HH", 0, 0)),  # sample 0
        _chunk(b"shdr", _name("burst") + struct.pack("<IIIIIBbHH", 0, n, 0, 0, SAMPLE_RATE,
                                                     60, 0, 0, 1)
               + _name("EOS") + struct.pack("<IIIIIBbHH", 0, 0, 0, 0, 0, 0, 0, 0, 0)),
    )
    info = _list(b"INFO", _chunk(b"ifil", struct.pack("<HH", 2, 1)),
                 _chunk(b"isng", b"EMU8000\0"), _chunk(b"INAM", b"ADTOS test kit\0\0"))
    body = b"sfbk" + info + _list(b"sdta", _chunk(b"smpl", smpl)) + pdta
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
    return path

"""The sampled-kit object model: a Kit holds Instruments, an Instrument holds Layers.

Every reader (Hydrogen drumkit.xml, SFZ, a folder of one-shots with kit.toml)
produces this model, and the native sampler (`adtos.presets.sampler`) plays it.
Velocities are MIDI velocities (0..127, inclusive ranges); gains are linear
amplitude factors; pitch is in semitones.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from adtos.errors import ConfigError
from adtos.vocab import GM_TO_CLASS

KIT_FORMATS: tuple[str, ...] = ("hydrogen", "sfz", "folder")
KIT_KINDS: tuple[str, ...] = ("drums", "percussion")


class KitError(ConfigError):
    """A kit that cannot be read or played; the message names the file and what is wrong."""


@dataclass(frozen=True)
class Layer:
    """One sample file played for a velocity range.

    Layers of an instrument whose velocity ranges are equal form a round-robin
    group, played in `seq_position` order.
    """

    sample: Path
    lo_vel: int = 0
    hi_vel: int = 127
    gain: float = 1.0
    pitch: float = 0.0  # semitones, applied when the kit's samples are loaded
    seq_position: int = 1
    # Level follows (velocity / 127) ** velocity_exponent: Hydrogen scales
    # linearly (1.0); SFZ's default amp_veltrack=100 is a square law (2.0).
    velocity_exponent: float = 1.0

    def contains(self, velocity: int) -> bool:
        return self.lo_vel <= velocity <= self.hi_vel


@dataclass
class Instrument:
    """One playable piece of a kit (a kick, an open hi-hat, a cowbell)."""

    name: str
    layers: list[Layer]
    gm_note: int | None = None  # from the name table (adtos.kits.names); None: unmapped
    gain: float = 1.0
    pan_left: float = 1.0  # channel gains, Hydrogen's pan_L/pan_R convention
    pan_right: float = 1.0
    choke_group: str | None = None  # the group this instrument belongs to
    choked_by: tuple[str, ...] = ()  # a later hit of an instrument in these groups cuts it
    source_note: int | None = None  # the note the kit file itself gives (SFZ key), if any

    @property
    def label(self) -> str | None:
        """The 5-class label (BD, SD, TT, HH, CY) of its GM note, or None."""
        return GM_TO_CLASS.get(self.gm_note) if self.gm_note is not None else None


@dataclass
class Kit:
    """A sampled kit read from disk: where it came from, who made it, what it plays."""

    name: str
    path: Path  # the kit's description file (drumkit.xml, .sfz, kit.toml)
    format: str
    instruments: list[Instrument] = field(default_factory=list)
    licence: str = ""
    author: str = ""
    kind: str = "drums"  # "drums" or "percussion" (hand percussion only: never the drum role)
    # GM note -> index into `instruments`: every note the kit can play, including
    # the 5-class notes filled from a same-class instrument (adtos.kits.names.note_map).
    notes: dict[int, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)  # instruments dropped, and why
    # How listings show the kit: its kit name, with parent folders where kits share
    # one (adtos.kits.library.display_names); empty until a listing sets it.
    display_name: str = ""

    def __post_init__(self) -> None:
        if self.format not in KIT_FORMATS:
            raise ValueError(f"kit format must be one of {KIT_FORMATS}, got {self.format!r}")

    @property
    def layers(self) -> int:
        return sum(len(i.layers) for i in self.instruments)

    def mapped(self) -> list[Instrument]:
        return [i for i in self.instruments if i.gm_note is not None]

    def unmapped(self) -> list[Instrument]:
        return [i for i in self.instruments if i.gm_note is None]

    def instrument_for(self, note: int) -> Instrument | None:
        index = self.notes.get(int(note))
        return self.instruments[index] if index is not None else None

    def sample_files(self) -> list[Path]:
        return list(dict.fromkeys(layer.sample for i in self.instruments for layer in i.layers))

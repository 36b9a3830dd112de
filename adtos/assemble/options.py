"""What one `assemble` run is asked to do, validated once at the door."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field

VOICE_ORDER: tuple[str, ...] = ("drums", "piano", "bass", "guitar")
# Voices that play beside the piano, from the piano loop's own song section.
COMPANION_VOICES: tuple[str, ...] = ("lead", "bridge")
SPLITS: tuple[str, ...] = ("train", "val", "test")
_METER = re.compile(r"^\d+/(1|2|4|8|16|32)$")


class AssembleError(ValueError):
    """The loop library cannot satisfy the request (or the request is malformed).

    Raised before any file is written; the message names what is missing.
    """


@dataclass(frozen=True)
class AssembleOptions:
    """Options of one assemble run. Defaults follow the paper's setup.

    tracks, duration: how many tracks and how long each is, in seconds. A track
        ends at the first bar line at or after `duration`.
    voices: 1 = drums, 2 = + piano, 3 = + bass, 4 = + guitar.
    lead, bridge: add the melody (role `lead`, POP909's MELODY) and the
        secondary melody (role `bridge`, POP909's BRIDGE) of each piano loop's
        section, where the index has one. They belong to the piano, so they
        play only when it does (voices >= 2). They draw no random number and
        count no use, so the other voices are the same with them on or off.
    seed: everything random comes from numpy Generators seeded from it.
    quantize: drums snapped to the 16th grid, velocities to 100 or 127 (the
        paper's ablation); the loops chosen are the same as without it.
    split: only loops of this split are drawn (`train`, `val` or `test`).
    id_prefix: track ids are `<id_prefix><5 digits>`; defaults to the split.
    section_bars: shortest and longest section, in bars.
    tempo_tolerance: a layered loop's tempo is within this relative distance
        of the section master's (0.08 = ±8%).
    meters: allowed meters (e.g. ("4/4",)); empty = any meter in the library.
    usage_weight: weight of the usage term (uses / mean uses of the role).
    selection_noise: width of the uniform noise added to every distance, so
        that the draw is among the candidates within this much of the nearest.
    resolution: MIDI ticks per quarter note.
    """

    tracks: int = 10
    duration: float = 60.0
    voices: int = 4
    lead: bool = False
    bridge: bool = False
    seed: int = 0
    quantize: bool = False
    split: str = "train"
    id_prefix: str | None = None
    section_bars: tuple[int, int] = (4, 16)
    tempo_tolerance: float = 0.08
    meters: tuple[str, ...] = field(default_factory=tuple)
    usage_weight: float = 1.0
    selection_noise: float = 0.5
    resolution: int = 480

    def __post_init__(self) -> None:
        problems = []
        if int(self.seed) < 0:
            problems.append(f"seed must be >= 0, got {self.seed}")
        if int(self.tracks) < 1:
            problems.append(f"tracks must be >= 1, got {self.tracks}")
        if not self.duration > 0:
            problems.append(f"duration must be > 0 seconds, got {self.duration}")
        if int(self.voices) not in (1, 2, 3, 4):
            problems.append(f"voices must be 1..4 (drums, +piano, +bass, +guitar), got {self.voices}")
        if self.split not in SPLITS:
            problems.append(f"split must be one of {', '.join(SPLITS)}, got {self.split!r}")
        low, high = (int(b) for b in self.section_bars)
        if not 1 <= low <= high:
            problems.append(f"section_bars must be (min, max) with 1 <= min <= max, got {self.section_bars}")
        if not 0 < self.tempo_tolerance < 1:
            problems.append(f"tempo_tolerance must be in (0, 1), got {self.tempo_tolerance}")
        for meter in self.meters:
            if not _METER.match(str(meter)):
                problems.append(f"meter {meter!r} is not like '4/4' or '6/8'")
        if self.usage_weight < 0 or self.selection_noise < 0:
            problems.append("usage_weight and selection_noise must be >= 0")
        if not 24 <= int(self.resolution) <= 32767:
            problems.append(f"resolution must be 24..32767 ticks per quarter, got {self.resolution}")
        if problems:
            raise AssembleError("; ".join(problems))
        # Normalise types so that equal options compare (and serialise) equal.
        object.__setattr__(self, "section_bars", (low, high))
        object.__setattr__(self, "meters", tuple(str(m) for m in self.meters))

    @property
    def voice_names(self) -> tuple[str, ...]:
        voices = VOICE_ORDER[: int(self.voices)]
        if "piano" in voices:
            voices += tuple(v for v in COMPANION_VOICES if getattr(self, v))
        return voices

    @property
    def prefix(self) -> str:
        return self.split if self.id_prefix is None else self.id_prefix

    def track_id(self, number: int) -> str:
        return f"{self.prefix}{number:05d}"

    def to_dict(self) -> dict:
        data = dataclasses.asdict(self)
        data["section_bars"] = list(self.section_bars)
        data["meters"] = list(self.meters)
        return data

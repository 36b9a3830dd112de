"""Plan one track: sections, the loops layered in each, and their notes in qn.

A section starts from a drum master (tempo, meter, genre, theme). Pitched
voices are drawn among loops compatible with it, transposed to the track key
(set by the first section's piano loop), and repeated to fill the section.
All times are quarter notes from the track start: a loop recorded at 96 bpm
played over a 100 bpm master keeps its place in the bar, so voices stay locked.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from adtos.assemble.harmony import chord_roots, derive_bass, derive_guitar, transpose_interval
from adtos.assemble.library import LoopLibrary
from adtos.assemble.options import COMPANION_VOICES, AssembleError, AssembleOptions
from adtos.assemble.select import Selector, TempoPool

KICKS = (35, 36)
# A companion loop's id is its piano loop's id with this suffix (adtos.index.pop909).
COMPANION_SUFFIX = {"lead": ":lead", "bridge": ":bridge"}


def companion_loops(library: LoopLibrary, role: str, suffix: str) -> dict[int, int]:
    """Piano loop row -> the row of the loop of `role` cut from the same song section."""
    rows = np.flatnonzero(library.role == library.code(library.role_names, role))
    by_id = {str(library.loop_id[row]): int(row) for row in rows if library.valid[row]}
    piano = np.flatnonzero(library.role == library.code(library.role_names, "piano"))
    found = {}
    for row in piano:
        partner = by_id.get(f"{library.loop_id[row]}{suffix}")
        if partner is not None and library.bars[partner] == library.bars[row]:
            found[int(row)] = partner
    return found


@dataclass
class Section:
    index: int
    start_qn: float
    bars: int
    bar_qn: float
    meter: str
    mpqn: int          # microseconds per quarter note, as written in the MIDI tempo event
    master: int        # library row of the drum loop
    start_sec: float   # float estimate; the writer recomputes it from ticks

    @property
    def tempo(self) -> float:
        return 6e7 / self.mpqn

    @property
    def end_qn(self) -> float:
        return self.start_qn + self.bars * self.bar_qn


@dataclass
class Placement:
    loop: int          # library row; -1 for a bass line made from the harmony
    section: int
    voice: str
    start_qn: float
    repeats: int
    transpose: int
    derived: bool


@dataclass
class VoiceNotes:
    """Notes of one voice in qn, appended section by section."""

    chunks: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=list)

    def add(self, starts, durs, pitches, velocities) -> None:
        self.chunks.append((starts, durs, pitches, velocities))

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        if not self.chunks:
            return (np.zeros(0), np.zeros(0), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))
        return tuple(np.concatenate(parts) for parts in zip(*self.chunks))  # type: ignore[return-value]


@dataclass
class TrackPlan:
    sections: list[Section]
    placements: list[Placement]
    key: tuple[int, int] | None
    theme: int
    genre: int
    end_qn: float
    notes: dict[str, VoiceNotes]
    derived_voices: list[str]


class TrackPlanner:
    """Holds the candidate pools of one build; `plan` makes one track."""

    def __init__(self, library: LoopLibrary, options: AssembleOptions):
        self.library, self.options = library, options
        lib = library
        self.max_bars = options.section_bars[1]
        split = lib.code(lib.split_names, options.split)
        if split < 0:
            raise AssembleError(f"the loop index has no loops of split {options.split!r} "
                                f"(it has: {', '.join(sorted(lib.split_names)) or 'none'})")
        usable = (lib.split == split) & (lib.bars <= self.max_bars) & lib.valid
        if options.meters:
            codes = [lib.code(lib.meter_names, m) for m in options.meters]
            usable &= np.isin(lib.meter, [c for c in codes if c >= 0])
        self.tolerance = options.tempo_tolerance
        self.selector = Selector(lib, options.usage_weight, options.selection_noise, self.tolerance)
        wanted = f"split {options.split!r}" + (f", meter {'/'.join(options.meters)}"
                                               if options.meters else "")

        drums = self._members("drums", usable)
        if "drums" not in lib.role_names:
            raise AssembleError("the loop index has no drum loops (roles in it: "
                                f"{', '.join(sorted(lib.role_names))}); drum loops are section "
                                "masters, add an index of a drum library such as GMD")
        if not len(drums):
            raise AssembleError(f"no drum loops for {wanted} and at most {self.max_bars} bars: the "
                                "drum voice needs them (drum loops are section masters)")
        self.pools: dict[str, TempoPool] = {}
        for voice in options.voice_names[1:]:
            if voice not in COMPANION_VOICES:
                self.pools[voice] = TempoPool(lib, self._members(voice, usable))
        self.companions = {voice: companion_loops(lib, voice, COMPANION_SUFFIX[voice])
                           for voice in options.voice_names if voice in COMPANION_VOICES}
        for voice, partners in self.companions.items():
            if not partners:
                raise AssembleError(f"voice {voice!r} needs loops of role {voice} cut from the same "
                                    "song sections as piano loops (POP909's "
                                    f"{'MELODY' if voice == 'lead' else 'BRIDGE'} track, indexed "
                                    "with kind pop909); the index has none")
        self.derived_voices = [v for v in ("bass", "guitar") if v in self.pools and not self.pools[v].size]
        if "piano" in self.pools:
            if not self.pools["piano"].size:
                raise AssembleError(f"voice 'piano' needs piano loops for {wanted} and the index has "
                                    "none; piano cannot be derived from other voices (use --voices 1)")
            counts = self.pools["piano"].count_in_window(lib.meter[drums], lib.bars[drums],
                                                         lib.tempo[drums], self.tolerance, self.max_bars)
            if not counts.any():
                raise AssembleError(f"no drum loop for {wanted} has a piano loop of the same meter "
                                    f"within ±{self.tolerance:.0%} of its tempo; widen --tempo-tolerance "
                                    "or add loops")
            drums = drums[counts > 0]
        # Beats are section masters; fills end sections. A section gets a fill with
        # probability fills/beats, so that a fill is used as often as a beat.
        is_fill = lib.is_fill[drums]
        all_drums = self._members("drums", usable)
        self.fills = TempoPool(lib, all_drums[lib.is_fill[all_drums]])
        if is_fill.all():
            self.fill_rate = 0.0
        else:
            drums = drums[~is_fill]
            self.fill_rate = min(1.0, self.fills.size / len(drums))
        self.drums = drums
        self._guitar_cache: dict[tuple[int, int], tuple] = {}
        order = np.argsort(lib.theme[drums], kind="stable")
        themes, first = np.unique(lib.theme[drums][order], return_index=True)
        self.theme_members = dict(zip(themes.tolist(), np.split(drums[order], first[1:])))
        for voice, pool in [("drums", None), *self.pools.items()]:
            role = lib.code(lib.role_names, voice)
            if role >= 0:
                self.selector.set_pool_size(role, len(drums) + self.fills.size if pool is None
                                            else pool.size)

    def _members(self, role_name: str, usable: np.ndarray) -> np.ndarray:
        role = self.library.code(self.library.role_names, role_name)
        return np.flatnonzero(usable & (self.library.role == role)) if role >= 0 else np.zeros(0, np.int64)

    # -- one track ---------------------------------------------------------
    def plan(self, rng: np.random.Generator, duration: float) -> TrackPlan:
        lib, voices = self.library, self.options.voice_names
        sections: list[Section] = []
        placements: list[Placement] = []
        notes = {voice: VoiceNotes() for voice in voices}
        key: tuple[int, int] | None = None
        previous: dict[str, int] = {}
        start_qn = start_sec = 0.0
        while start_sec < duration:
            if sections:   # same theme; a tempo change is allowed but costs
                master = self.selector.draw(rng, self.theme_members[int(lib.theme[sections[-1].master])],
                                            tempo=sections[-1].tempo)
            else:
                master = self.selector.draw(rng, self.drums)
            tempo, meter = float(lib.tempo[master]), int(lib.meter[master])
            genre, bar_qn = int(lib.genre[master]), float(lib.bar_qn[master])
            unit = int(lib.bars[master])
            piano = None
            if "piano" in voices:
                candidates = self.pools["piano"].window(
                    meter, lambda b: math.lcm(unit, b) <= self.max_bars, tempo, self.tolerance)
                piano = self.selector.draw(rng, candidates, tempo=tempo, genre=genre,
                                           mode=key[1] if key else None,
                                           theme=lib.theme[previous["piano"]] if "piano" in previous else None)
                if key is None and lib.key_tonic[piano] >= 0:
                    key = (int(lib.key_tonic[piano]), int(lib.key_mode[piano]))
                unit = math.lcm(unit, int(lib.bars[piano]))
            fill = self._draw_fill(rng, master, meter, tempo, genre, unit)
            if fill is not None:
                unit = math.lcm(unit, int(lib.bars[fill]))
            mpqn = int(round(6e7 / tempo))
            bar_sec = bar_qn * mpqn / 1e6
            remaining = math.ceil((duration - start_sec) / bar_sec - 1e-9)
            bars = self._section_bars(rng, unit, 2 * int(lib.bars[fill]) if fill is not None else 0,
                                      remaining)
            if fill is not None and bars - int(lib.bars[fill]) >= remaining:
                self.selector.release(fill)   # the track ends before the fill would start
                fill = None
            section = Section(len(sections), start_qn, bars, bar_qn, lib.meter_names[meter], mpqn,
                              master, start_sec)
            sections.append(section)

            drum_notes = self._drums(section, master, fill, placements)
            notes["drums"].add(*drum_notes)
            if piano is not None:
                piano_notes = self._place(section, piano, "piano", self._transpose(piano, key), False,
                                          placements)
                notes["piano"].add(*piano_notes)
                previous["piano"] = piano
                for voice, partners in self.companions.items():
                    partner = partners.get(piano)
                    if partner is not None:  # in the piano's key: the same transposition
                        notes[voice].add(*self._place(section, partner, voice,
                                                      self._transpose(piano, key), False, placements))
            context = dict(tempo=tempo, genre=genre, mode=key[1] if key else None)
            for voice in ("bass", "guitar"):  # in this order: the draws share one rng
                if voice not in voices:
                    continue
                loop = self._draw_layer(rng, voice, section, meter, previous, context)
                if loop is not None:
                    notes[voice].add(*self._place(section, loop, voice, self._transpose(loop, key),
                                                  bool(lib.derived[loop]), placements))
                elif voice == "bass":  # no bass loop fits: one from the harmony and the kick
                    notes["bass"].add(*self._bass_from_harmony(section, drum_notes, piano_notes, key))
                    placements.append(Placement(-1, section.index, "bass", start_qn, 1, 0, True))
                else:  # no guitar loop fits: one from the piano loop
                    notes["guitar"].add(*self._guitar_from_piano(rng, section, meter, piano, key,
                                                                 context, placements))
            start_qn = section.end_qn
            start_sec += bars * bar_qn * mpqn / 1e6
        last = sections[-1]
        bar_sec = last.bar_qn * last.mpqn / 1e6
        bars_heard = min(last.bars, max(1, math.ceil((duration - last.start_sec) / bar_sec - 1e-9)))
        first = sections[0].master
        derived = [v for v in voices[2:] if any(p.voice == v and p.derived for p in placements)]
        return TrackPlan(sections, placements, key, int(lib.theme[first]), int(lib.genre[first]),
                         last.start_qn + bars_heard * last.bar_qn, notes, derived)

    def _section_bars(self, rng: np.random.Generator, unit: int, at_least: int, remaining: int) -> int:
        """A multiple of `unit` (so every loop repeats whole) within the section range,
        preferring multiples of four bars, the usual phrase length. When the track
        can end with this section, the shortest length that reaches the end is taken."""
        low, high = self.options.section_bars
        low = max(low, at_least)
        lengths = [k * unit for k in range(1, high // unit + 1) if k * unit >= low] or [unit]
        lengths = [n for n in lengths if n % 4 == 0] or lengths
        if lengths[-1] >= remaining:
            return int(min(n for n in lengths if n >= remaining))
        return int(lengths[int(rng.integers(len(lengths)))])

    def _draw_fill(self, rng, master, meter, tempo, genre, unit) -> int | None:
        """A fill for the section's end (same meter, close tempo), or None."""
        if rng.random() >= self.fill_rate:
            return None
        candidates = self.fills.window(
            meter, lambda b: math.lcm(unit, b) <= self.max_bars and 2 * b <= self.max_bars,
            tempo, self.tolerance)
        if not len(candidates):
            return None
        return self.selector.draw(rng, candidates, tempo=tempo, genre=genre,
                                  theme=int(self.library.theme[master]))

    def _drums(self, section, master, fill, placements):
        """The master over the section, its last bars replaced by the fill if any."""
        if fill is None:
            return self._place(section, master, "drums", 0, False, placements)
        beat_bars = section.bars - int(self.library.bars[fill])
        beat = self._place(section, master, "drums", 0, False, placements, 0, beat_bars)
        ending = self._place(section, fill, "drums", 0, False, placements, beat_bars)
        return tuple(np.concatenate(pair) for pair in zip(beat, ending))

    def _draw_layer(self, rng, voice, section, meter, previous, context) -> int | None:
        pool = self.pools[voice]
        if not pool.size:
            return None
        candidates = pool.window(meter, lambda b: section.bars % b == 0, context["tempo"], self.tolerance)
        if not len(candidates):
            return None   # no compatible loop for this section: the voice is derived here
        theme = self.library.theme[previous[voice]] if voice in previous else None
        loop = self.selector.draw(rng, candidates, theme=theme, **context)
        previous[voice] = loop
        return loop

    def _transpose(self, loop: int, key: tuple[int, int] | None) -> int:
        if key is None:
            return 0
        return transpose_interval(int(self.library.key_tonic[loop]), int(self.library.key_mode[loop]),
                                  *key)

    def _place(self, section: Section, loop: int, voice: str, transpose: int, derived: bool,
               placements: list[Placement] | None, first_bar: int = 0, bars: int | None = None,
               notes=None):
        """The loop's notes (or `notes`, one repetition of it) repeated over `bars` bars
        of the section from `first_bar` (default: the rest of the section),
        transposed, clipped to that span."""
        bars = section.bars - first_bar if bars is None else bars
        starts, durs, pitches, velocities = notes if notes is not None else self.library.notes(loop)
        loop_bars = int(self.library.bars[loop])
        repeats = -(-bars // loop_bars)
        begin = section.start_qn + first_bar * section.bar_qn
        end = begin + bars * section.bar_qn
        offsets = begin + loop_bars * section.bar_qn * np.arange(repeats)
        starts = (starts[None, :] + offsets[:, None]).ravel()
        inside = starts < end
        starts = starts[inside]
        pitches = np.broadcast_to(pitches + (0 if notes is not None else transpose),
                                  (repeats, len(pitches))).ravel()[inside]
        velocities = np.broadcast_to(velocities, (repeats, len(velocities))).ravel()[inside]
        durs = np.minimum(np.broadcast_to(durs, (repeats, len(durs))).ravel()[inside], end - starts)
        if placements is not None:
            placements.append(Placement(loop, section.index, voice, begin, repeats, transpose, derived))
        return starts, durs, pitches, velocities

    def _bass_from_harmony(self, section, drum_notes, piano_notes, key):
        per_bar = 2 if section.bar_qn >= 4 and section.bar_qn % 2 == 0 else 1
        window_qn = section.bar_qn / per_bar
        starts, durs, pitches, _ = piano_notes
        roots = chord_roots(starts, durs, pitches, section.start_qn, window_qn,
                            section.bars * per_bar, per_bar, key)
        kick = np.isin(drum_notes[2], KICKS)
        return derive_bass(drum_notes[0][kick], drum_notes[3][kick], roots, section.start_qn,
                           window_qn, section.bar_qn, section.bars)

    def _guitar_from_piano(self, rng, section, meter, piano, key, context, placements):
        candidates = self.pools["piano"].window(meter, lambda b: section.bars % b == 0,
                                                context["tempo"], self.tolerance)
        # Another loop of the same song as the piano if there is one: its harmony fits best.
        loop = self.selector.draw(rng, candidates, avoid=piano, theme=int(self.library.theme[piano]),
                                  **context)
        transpose = self._transpose(loop, key)
        voiced = self._guitar_cache.get((loop, transpose))
        if voiced is None:   # voicing depends only on the loop and its transposition
            starts, durs, pitches, velocities = self.library.notes(loop)
            voiced = derive_guitar(starts, durs, pitches + transpose, velocities)
            if len(self._guitar_cache) > 50_000:
                self._guitar_cache.clear()
            self._guitar_cache[(loop, transpose)] = voiced
        return self._place(section, loop, "guitar", transpose, True, placements, notes=voiced)

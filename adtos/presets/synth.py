"""Render one voice of a track with FluidSynth: `SoundfontBank(sr).render(preset, inst, dur)`.

One long-lived FluidSynth synthesizer per bank holds every soundfont it has
needed so far (loading MuseScore's SF3 costs seconds, so each file is loaded
once per process) and lends them to a fresh synthesizer for each render. Events are sent between
`write_float` calls, so a note starting at t seconds starts at sample
round(t * sample_rate), within one FluidSynth block of 64 samples.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from adtos.presets.model import NOTE_PIECE, PIECE_CLASSES, Preset
from adtos.presets.soundfonts import SoundfontError, resolve_soundfont

if TYPE_CHECKING:
    import pretty_midi

FLUID_BLOCK = 64  # FluidSynth renders in blocks of this many samples
GEN_ATTENUATION = 48  # SF2 generator numbers (SoundFont 2.04, section 8.1.3)
GEN_FINETUNE = 52

# A drum hit is a one-shot: hardware GM modules ignore note-off on the drum
# channel. FluidSynth does not, and MIDI drum notes are often a few ms long
# (GMD), which would choke cymbals. Drum notes are held at least this long
# (or until the same key is struck again, which cuts the previous hit anyway).
DRUM_MIN_HOLD_S = 2.0

# Composite kits lower every channel by this much so that a piece's gain of up
# to +4 dB is a smaller attenuation, never clipped at the SF2 minimum of 0 cB.
PIECE_HEADROOM_CB = 60.0

# Channels used: 0 the source patch, 1.. one per composite-kit piece. Channel 9
# (10 in MIDI) is skipped because FluidSynth gives it drum-channel bank rules;
# presets are selected explicitly with program_select on every channel, which
# also plays the AVL kits that sit at bank 0 program 0.
SOURCE_CHANNEL = 0
PIECE_CHANNELS = {piece: i + 1 for i, piece in enumerate(PIECE_CLASSES)}
MIDI_CHANNELS = 16  # pyfluidsynth's default of 256 makes every program reset 16x longer
# SF3 presets a bank keeps decoded (one channel of its SF3 keeper each): a worker's
# renders reuse a few kits and patches of MuseScore's SF3, each decoded once.
SF3_HELD_PRESETS = 64
FLUID_WARN = 2  # FluidSynth's log level for warnings

# The SF2 default velocity-to-attenuation modulator (concave, 960 cB) makes a
# voice's level (velocity/127) ** 2: velocity 30 sits 25 dB below 127.
SF2_VELOCITY_EXPONENT = 2.0


def curve_velocity(velocity: int, exponent: float, native: float = SF2_VELOCITY_EXPONENT) -> int:
    """The MIDI velocity FluidSynth is sent so that a drum hit played at `velocity`
    sounds at level (velocity/127) ** exponent, in a kit whose own law is
    (velocity/127) ** native (2, the SF2 default, unless its zones say otherwise:
    adtos.presets.soundfonts.read_velocity_exponents).

    A drum module's velocity curve works the same way: it remaps the velocity, so
    in a soundfont with velocity-split zones the remapped velocity also chooses
    the sample. Clamped to 1..127 (0 would be a note-off).
    """
    value = 127.0 * (velocity / 127.0) ** (exponent / native)
    return min(127, max(1, int(value + 0.5)))


def _bind(name: str, restype, *argtypes):
    import fluidsynth

    function = getattr(fluidsynth._fl, name)
    function.restype = restype
    function.argtypes = argtypes
    return function


@dataclass(frozen=True)
class _Event:
    sample: int
    order: int  # at one sample: note-offs, then controls, then note-ons
    kind: str
    channel: int
    a: int
    b: int = 0


class SoundfontBank:
    """FluidSynth with soundfonts loaded once; renders presets deterministically.

    Every render runs on a fresh FluidSynth synthesizer: a reused one carries
    state between renders (a recycled voice slot ramps its output gain from the
    level of the note it last played, so a note's first 64 samples depend on
    what was rendered before). Resetting, flushing, even replaying every voice
    slot at zero gain still left differences of 1e-12 to 1e-9 that depended on
    the previous preset, enough to flip a 24-bit sample now and then. What is
    slow to create is kept: a keeper synthesizer holds every soundfont loaded so
    far and lends the loaded soundfont objects to each new synthesizer
    (`fluid_synth_add_sfont`; they are taken back before it is deleted), so no
    render reads or parses a soundfont again. The samples are bit-identical to
    a synthesizer that loads the files itself (tested).

    `soundfonts` are explicit files that win over the search path when a preset
    names a soundfont (the CLI's --soundfont, tests' generated files).
    """

    def __init__(self, sample_rate: int = 44100, soundfonts: list[str | os.PathLike] | None = None,
                 polyphony: int = 256) -> None:
        if not 8000 <= int(sample_rate) <= 96000:
            raise ValueError(f"sample_rate must be in 8000..96000 Hz, got {sample_rate}")
        self.sample_rate = int(sample_rate)
        self.polyphony = int(polyphony)
        self.extra_soundfonts = [Path(p) for p in soundfonts or ()]
        self._write_float = _bind("fluid_synth_write_float", ctypes.c_int, ctypes.c_void_p,
                                  ctypes.c_int, ctypes.c_void_p, ctypes.c_int, ctypes.c_int,
                                  ctypes.c_void_p, ctypes.c_int, ctypes.c_int)
        self._set_gen = _bind("fluid_synth_set_gen", ctypes.c_int, ctypes.c_void_p, ctypes.c_int,
                              ctypes.c_int, ctypes.c_float)
        self._get_sfont = _bind("fluid_synth_get_sfont_by_id", ctypes.c_void_p, ctypes.c_void_p,
                                ctypes.c_int)
        self._add_sfont = _bind("fluid_synth_add_sfont", ctypes.c_int, ctypes.c_void_p,
                                ctypes.c_void_p)
        self._remove_sfont = _bind("fluid_synth_remove_sfont", ctypes.c_int, ctypes.c_void_p,
                                   ctypes.c_void_p)
        self._set_log_function = _bind("fluid_set_log_function", ctypes.c_void_p, ctypes.c_int,
                                       ctypes.c_void_p, ctypes.c_void_p)
        self._unset_program = _bind("fluid_synth_unset_program", ctypes.c_int, ctypes.c_void_p,
                                    ctypes.c_int)
        self._select_by_name = _bind("fluid_synth_program_select_by_sfont_name", ctypes.c_int,
                                     ctypes.c_void_p, ctypes.c_int, ctypes.c_char_p,
                                     ctypes.c_int, ctypes.c_int)
        self._keeper = self._new_synth()
        self._sf3_keeper = None  # compressed soundfonts, loaded on demand (see soundfont_path)
        self._held: OrderedDict[tuple[str, int, int], int] = OrderedDict()  # preset -> channel
        self._paths: dict[str, Path] = {}
        self._loaded: dict[str, int] = {}  # soundfont name -> the keeper's soundfont object
        self._synth = None  # the synthesizer of the render in progress
        self._sfids: dict[str, int] = {}
        self._velocity_laws: dict[str, dict[tuple[int, int], float]] = {}

    def _new_synth(self, reverb: bool = False, chorus: bool = False, gain: float = 0.4,
                   dynamic: bool = False, channels: int = MIDI_CHANNELS):
        import fluidsynth

        synth = fluidsynth.Synth(
            gain=float(gain), samplerate=float(self.sample_rate), channels=channels,
            **{"synth.cpu-cores": 1, "synth.reverb.active": int(reverb),
               "synth.chorus.active": int(chorus), "synth.polyphony": self.polyphony,
               "synth.dynamic-sample-loading": int(dynamic)})
        # No channel has a program until one is selected explicitly: adding or removing a
        # soundfont then selects nothing. Otherwise every lend of an SF3 would select its
        # default piano and kit on all channels and decode them (1 s for MuseScore's).
        for channel in range(channels):
            self._unset_program(synth.synth, channel)
        return synth

    @contextlib.contextmanager
    def _quiet(self):
        """FluidSynth's warnings off. Adding or removing a soundfont makes it
        re-select every channel's default program and warn for each channel
        the soundfont has no program for (channel 10's drum bank, for a kit on
        bank 0): expected here, since programs are selected explicitly."""
        previous = self._set_log_function(FLUID_WARN, None, None)
        try:
            yield
        finally:
            self._set_log_function(FLUID_WARN, previous, None)

    def close(self) -> None:
        for keeper in ("_sf3_keeper", "_keeper"):
            if getattr(self, keeper) is not None:
                getattr(self, keeper).delete()
                setattr(self, keeper, None)

    def __del__(self) -> None:  # pragma: no cover - interpreter shutdown order varies
        try:
            self.close()
        except Exception:
            pass

    # -- soundfonts ---------------------------------------------------------------------

    def soundfont_path(self, name: str) -> Path:
        """Load a soundfont (by file name, or path) into the keeper once; its path."""
        if name not in self._paths:
            path = resolve_soundfont(name, self.extra_soundfonts)
            keeper = self._keeper_for(path)
            with self._quiet():
                sfid = keeper.sfload(str(path))
            if sfid < 0:
                raise SoundfontError(f"FluidSynth could not load soundfont {path}")
            self._paths[name] = path
            self._loaded[name] = self._get_sfont(keeper.synth, sfid)
        return self._paths[name]

    def _keeper_for(self, path: Path):
        """The keeper synthesizer that loads `path`.

        An SF3 (MuseScore's: Ogg Vorbis samples) is loaded with FluidSynth's dynamic
        sample loading: its presets are read at once and a preset's samples decoded
        when a channel first selects it, so loading it costs 0.02 s instead of 6-8 s
        of decoding every sample of the file (a render uses one kit or patch of it).
        The keeper keeps each preset it lent selected on one of its own channels
        (`_hold`), so the samples stay decoded across renders. Renders are
        bit-identical to a statically loaded SF3 (tested). SF2 files stay loaded
        whole: their samples are read as they are, and TimGM6mb renders differently
        when loaded dynamically.
        """
        if path.suffix.lower() != ".sf3":
            return self._keeper
        if self._sf3_keeper is None:
            self._sf3_keeper = self._new_synth(dynamic=True, channels=SF3_HELD_PRESETS)
        return self._sf3_keeper

    def _hold(self, soundfont: str, bank: int, program: int) -> None:
        """Keep an SF3 preset selected on the SF3 keeper, so its samples stay decoded
        (the least recently used one is let go beyond SF3_HELD_PRESETS)."""
        key = (soundfont, int(bank), int(program))
        if self._sf3_keeper is None or self._paths[soundfont].suffix.lower() != ".sf3":
            return
        if key in self._held:
            self._held.move_to_end(key)
            return
        if len(self._held) >= SF3_HELD_PRESETS:
            _, channel = self._held.popitem(last=False)
        else:
            channel = len(self._held)
        # By the soundfont's name, not its id: lending a soundfont to a render's
        # synthesizer (fluid_synth_add_sfont) renumbers it, so after the first lend
        # the keeper's own id no longer finds it. Selecting by id failed then (a
        # "fluidsynth: error: There is no preset ..." line), the preset was not
        # held, and its samples were decoded again for every render.
        with self._quiet():
            status = self._select_by_name(self._sf3_keeper.synth, channel,
                                          str(self._paths[soundfont]).encode(), bank, program)
        if status != 0:
            raise SoundfontError(f"soundfont {soundfont} has no preset at bank {bank} "
                                 f"program {program}")
        self._held[key] = channel

    def velocity_law(self, soundfont: str, bank: int, program: int) -> float:
        """The exponent e of a soundfont preset's own velocity curve, level = (v/127) ** e."""
        from adtos.presets.soundfonts import read_velocity_exponents

        if soundfont not in self._velocity_laws:
            self._velocity_laws[soundfont] = read_velocity_exponents(
                self.soundfont_path(soundfont))
        native = self._velocity_laws[soundfont].get((bank, program), SF2_VELOCITY_EXPONENT)
        if native <= 0:
            raise SoundfontError(f"soundfont {soundfont} bank {bank} program {program}: its "
                                 "level does not follow the velocity, so a velocity curve "
                                 "cannot be played on it")
        return native

    # -- rendering ----------------------------------------------------------------------

    def render(self, preset: Preset, instrument: pretty_midi.Instrument,
               duration: float, planar: bool = False) -> np.ndarray:
        """Render `instrument` with `preset`: float32 array of shape (round(duration*sr), 2).

        With `planar` the shape is (2, samples), the layout the renderer keeps.
        Drum notes go through the preset's `remap`, then to the channel of their
        composite-kit piece (or the source kit). Control changes and pitch bends
        are played for pitched roles. Same preset and notes → identical samples.
        """
        if duration < 0:
            raise ValueError(f"duration must be >= 0 seconds, got {duration}")
        n = int(round(duration * self.sample_rate))
        events = self._events(preset, instrument, n)
        out = np.zeros((2, n) if planar else (n, 2), dtype=np.float32)
        self._synth = self._new_synth(reverb=bool(preset.synth.get("reverb", False)),
                                      chorus=bool(preset.synth.get("chorus", False)),
                                      gain=float(preset.synth.get("gain", 0.4)))
        self._sfids = {}
        try:
            self._setup(preset)
            cursor = 0
            for event in events:
                if event.sample > cursor:
                    self._write(out, cursor, event.sample - cursor, planar)
                    cursor = event.sample
                self._send(event)
            if n > cursor:
                self._write(out, cursor, n - cursor, planar)
        finally:
            # Lent soundfonts go back before the synthesizer is deleted, which
            # would otherwise free them.
            with self._quiet():
                for name in self._sfids:
                    self._remove_sfont(self._synth.synth, self._loaded[name])
            self._synth.delete()
            self._synth = None
        return out

    def _setup(self, preset: Preset) -> None:
        synth = self._synth
        source = preset.source
        self._select(SOURCE_CHANNEL, source["soundfont"], source["bank"], source["program"])
        headroom = PIECE_HEADROOM_CB if preset.pieces else 0.0
        if headroom:
            for channel in [SOURCE_CHANNEL, *PIECE_CHANNELS.values()]:
                self._set_gen(synth.synth, channel, GEN_ATTENUATION, headroom)
        for piece_name, piece in preset.pieces.items():
            channel = PIECE_CHANNELS[piece_name]
            self._select(channel, piece["soundfont"], piece["bank"], piece["program"])
            self._set_gen(synth.synth, channel, GEN_FINETUNE, float(piece["tune_cents"]))
            # 1 cB = 0.1 dB of attenuation; a positive gain is less attenuation.
            self._set_gen(synth.synth, channel, GEN_ATTENUATION,
                          headroom - 10.0 * float(piece["gain_db"]))

    def _select(self, channel: int, soundfont: str, bank: int, program: int) -> None:
        if soundfont not in self._sfids:
            # The keeper's loaded soundfont is lent to this synthesizer: parsing
            # FluidR3's 190 presets again cost 0.04 s per render.
            self.soundfont_path(soundfont)
            with self._quiet():
                sfid = self._add_sfont(self._synth.synth, self._loaded[soundfont])
            if sfid < 0:
                raise SoundfontError(f"FluidSynth could not use soundfont {soundfont}")
            self._sfids[soundfont] = sfid
        self._hold(soundfont, bank, program)
        if self._synth.program_select(channel, self._sfids[soundfont], bank, program) != 0:
            raise SoundfontError(f"soundfont {soundfont} has no preset at bank {bank} "
                                 f"program {program}")

    def _events(self, preset: Preset, instrument: pretty_midi.Instrument, n: int) -> list[_Event]:
        sr = self.sample_rate
        is_drums = preset.role == "drums"
        # A drawn velocity curve (docs/presets.md, "Velocity curves"); without one
        # the MIDI velocity goes to FluidSynth unchanged.
        exponent = preset.variation.get("velocity_exponent") if is_drums else None
        if exponent is not None:  # each channel's kit and its own law
            kits = {SOURCE_CHANNEL: preset.source,
                    **{PIECE_CHANNELS[name]: piece for name, piece in preset.pieces.items()}}
            native = {channel: self.velocity_law(kit["soundfont"], kit["bank"], kit["program"])
                      for channel, kit in kits.items()}
        notes = []  # (channel, key, velocity, on, off) in samples
        for note in instrument.notes:
            key = int(note.pitch)
            channel = SOURCE_CHANNEL
            if is_drums:
                key = preset.remap.get(key, key)
                piece = NOTE_PIECE.get(key)
                if piece in preset.pieces:
                    channel = PIECE_CHANNELS[piece]
            on = int(round(note.start * sr))
            end = note.end if not is_drums else max(note.end, note.start + DRUM_MIN_HOLD_S)
            off = max(int(round(end * sr)), on + 1)
            if on >= n or not 0 <= key <= 127 or note.velocity <= 0:
                continue
            velocity = min(int(note.velocity), 127)
            if exponent is not None:
                velocity = curve_velocity(velocity, exponent, native[channel])
            notes.append((channel, key, velocity, on, off))
        notes.sort(key=lambda x: (x[0], x[1], x[3]))
        events: list[_Event] = []
        for i, (channel, key, velocity, on, off) in enumerate(notes):
            # A new strike of the same key ends the previous one (overlapping MIDI
            # notes of one pitch would otherwise be cut by the earlier note-off).
            if i + 1 < len(notes) and notes[i + 1][:2] == (channel, key):
                off = min(off, notes[i + 1][3])
            events.append(_Event(on, 2, "on", channel, key, velocity))
            if off < n:
                events.append(_Event(off, 0, "off", channel, key))
        if not is_drums:
            for cc in instrument.control_changes:
                sample = int(round(cc.time * sr))
                if sample < n:
                    events.append(_Event(sample, 1, "cc", SOURCE_CHANNEL, int(cc.number),
                                         int(cc.value)))
            for bend in instrument.pitch_bends:
                sample = int(round(bend.time * sr))
                if sample < n:
                    events.append(_Event(sample, 1, "bend", SOURCE_CHANNEL, int(bend.pitch)))
        events.sort(key=lambda e: (e.sample, e.order, e.channel, e.a))
        return events

    def _send(self, event: _Event) -> None:
        synth = self._synth
        if event.kind == "on":
            synth.noteon(event.channel, event.a, event.b)
        elif event.kind == "off":
            synth.noteoff(event.channel, event.a)
        elif event.kind == "cc":
            synth.cc(event.channel, event.a, event.b)
        else:
            synth.pitch_bend(event.channel, event.a)

    def _write(self, out: np.ndarray, start: int, count: int, planar: bool) -> None:
        pointer = out.ctypes.data
        if planar:  # (2, n): the left channel's samples, then the right's
            n = out.shape[1]
            self._write_float(self._synth.synth, count, pointer, start, 1, pointer, n + start, 1)
        else:  # (n, 2): interleaved
            self._write_float(self._synth.synth, count, pointer, 2 * start, 2, pointer,
                              2 * start + 1, 2)

"""Assembled-tracks folders and presets made on the spot: for the render tests and
benchmarks (benchmarks/bench_faults.py) that need render inputs in seconds.

The folders follow docs/ARCHITECTURE.md, "Assembled tracks", so they do not
depend on the assembler. tests/test_render_support.py re-exports this module
for the tests.
"""

from __future__ import annotations

from pathlib import Path

import pretty_midi
import pyarrow as pa
import pyarrow.parquet as pq

from adtos.presets.model import Preset
from adtos.vocab import gm_class

# pretty_midi ships TimGM6mb.sf2, so presets on it work wherever the tests run.
TIM = "TimGM6mb.sf2"
PROGRAMS = {"piano": 0, "bass": 33, "guitar": 25, "lead": 73, "bridge": 48}


def kit(program: int = 0, soundfont: str = TIM, **fields) -> Preset:
    return Preset(role="drums", source={"soundfont": soundfont, "bank": 128, "program": program},
                  **fields)


def patch(role: str, program: int | None = None, soundfont: str = TIM, **fields) -> Preset:
    program = PROGRAMS[role] if program is None else program
    return Preset(role=role, source={"soundfont": soundfont, "bank": 0, "program": program},
                  **fields)


def small_library() -> list[Preset]:
    """Three kits and two patches per pitched role, one of them with an effect chain."""
    return [kit(0), kit(25), kit(40, effects=[{"type": "HighpassFilter", "cutoff_frequency_hz": 60.0}]),
            patch("piano", 0), patch("piano", 4), patch("bass", 33), patch("bass", 38),
            patch("guitar", 25), patch("guitar", 29), patch("lead", 73), patch("lead", 65),
            patch("bridge", 48), patch("bridge", 19)]


def drum_instrument(seconds: float, tempo: float = 120.0, offset: int = 0) -> pretty_midi.Instrument:
    drums = pretty_midi.Instrument(program=0, is_drum=True, name="drums")
    eighth = 30.0 / tempo
    step = 0
    while step * eighth < seconds - eighth:
        t = step * eighth
        drums.notes.append(pretty_midi.Note(100, 42, t, t + 0.05))
        if (step + offset) % 4 == 0:
            drums.notes.append(pretty_midi.Note(110, 36, t, t + 0.05))
        if (step + offset) % 4 == 2:
            drums.notes.append(pretty_midi.Note(105, 38, t, t + 0.05))
        step += 1
    return drums


def pitched_instrument(voice: str, seconds: float, root: int) -> pretty_midi.Instrument:
    instrument = pretty_midi.Instrument(program=PROGRAMS[voice], name=voice)
    base = {"piano": 60, "bass": 36, "guitar": 52, "lead": 72, "bridge": 55}[voice] + root
    t = 0.0
    step = 0
    while t < seconds - 0.5:
        pitches = [base, base + 4, base + 7] if voice == "piano" else [base]
        if voice == "lead":  # a tune, not a drone
            pitches = [base + (0, 2, 4, 7, 4, 2)[step % 6]]
        for pitch in pitches:
            instrument.notes.append(pretty_midi.Note(90, pitch, t, t + 0.45))
        t += 0.5
        step += 1
    return instrument


def write_track(folder: Path, track_id: str, midi: pretty_midi.PrettyMIDI) -> None:
    (folder / "midi").mkdir(parents=True, exist_ok=True)
    (folder / "annotations").mkdir(parents=True, exist_ok=True)
    midi.write(str(folder / "midi" / f"{track_id}.mid"))
    # Annotation times are the note-on times of the written file (ticks rounded).
    written = pretty_midi.PrettyMIDI(str(folder / "midi" / f"{track_id}.mid"))
    lines = []
    for instrument in written.instruments:
        if instrument.is_drum:
            for note in sorted(instrument.notes, key=lambda n: (n.start, n.pitch)):
                lines.append(f"{note.start:.6f}\t{note.pitch}\t{gm_class(note.pitch) or '-'}\n")
    (folder / "annotations" / f"{track_id}.txt").write_text("".join(lines))


def write_tracks_table(folder: Path, track_ids: list[str], splits: list[str] | None = None) -> None:
    splits = splits or ["train"] * len(track_ids)
    pq.write_table(pa.table({"track_id": track_ids, "split": splits}), folder / "tracks.parquet")


def make_tracks(folder: Path, n: int = 3, seconds: float = 4.0, voices: int = 4,
                prefix: str = "train", split: str = "train") -> list[str]:
    """`n` tracks of `seconds` with the first `voices` of drums, piano, bass, guitar, lead, bridge."""
    ids = []
    for i in range(n):
        track_id = f"{prefix}{i:05d}"
        midi = pretty_midi.PrettyMIDI(initial_tempo=120.0)
        midi.instruments.append(drum_instrument(seconds, offset=i))
        for voice in ("piano", "bass", "guitar", "lead", "bridge")[: voices - 1]:
            midi.instruments.append(pitched_instrument(voice, seconds, root=i % 5))
        write_track(folder, track_id, midi)
        ids.append(track_id)
    write_tracks_table(folder, ids, [split] * n)
    return ids

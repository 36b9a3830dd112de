"""Write small ADTOS-layout datasets from note lists: for tests, benchmarks and
examples that need a dataset with known answers and no rendering.

Notes are given in quarter notes (qn) so that a pattern is tempo-free; the
writer turns them into MIDI ticks and, through the tempo map, into the
seconds of the annotation text, exactly as the assembler does.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import mido
import pyarrow as pa
import pyarrow.parquet as pq

from adtos.vocab import gm_class

RESOLUTION = 480


def write_adtos_track(root: str | os.PathLike, track_id: str,
                      notes: Sequence[tuple[float, int, int]],
                      tempi: Sequence[tuple[float, float]] = ((0.0, 120.0),),
                      time_signature: tuple[int, int] = (4, 4)) -> None:
    """Write midi/<id>.mid, annotations/<id>.mid and annotations/<id>.txt.

    notes: (onset in qn, GM note, velocity); tempi: (qn, bpm) tempo changes.
    """
    root = Path(root)
    (root / "midi").mkdir(parents=True, exist_ok=True)
    (root / "annotations").mkdir(parents=True, exist_ok=True)
    notes = sorted(notes)
    meta = mido.MidiTrack()
    meta.append(mido.MetaMessage("time_signature", numerator=time_signature[0],
                                 denominator=time_signature[1], time=0))
    events = [(round(qn * RESOLUTION), mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(bpm)))
              for qn, bpm in tempi]
    _append_delta(meta, events)
    drum_events = []
    for qn, pitch, velocity in notes:
        tick = round(qn * RESOLUTION)
        drum_events.append((tick, mido.Message("note_on", channel=9, note=pitch, velocity=velocity)))
        drum_events.append((tick + RESOLUTION // 8,
                            mido.Message("note_off", channel=9, note=pitch, velocity=0)))
    drums = mido.MidiTrack()
    drums.append(mido.MetaMessage("track_name", name="drums", time=0))
    _append_delta(drums, drum_events)
    for path in (root / "midi" / f"{track_id}.mid", root / "annotations" / f"{track_id}.mid"):
        midi = mido.MidiFile(ticks_per_beat=RESOLUTION)
        midi.tracks.extend([meta, drums])
        midi.save(path)
    lines = [f"{qn_to_seconds(qn, tempi):.6f}\t{pitch}\t{gm_class(pitch) or '-'}"
             for qn, pitch, _ in notes]
    (root / "annotations" / f"{track_id}.txt").write_text("".join(line + "\n" for line in lines))


def qn_to_seconds(qn: float, tempi: Sequence[tuple[float, float]]) -> float:
    """Seconds of a position in qn under a piecewise-constant tempo map (on MIDI ticks)."""
    seconds, position = 0.0, 0.0
    tick = round(qn * RESOLUTION) / RESOLUTION
    changes = sorted(tempi)
    for k, (start, bpm) in enumerate(changes):
        stop = changes[k + 1][0] if k + 1 < len(changes) else float("inf")
        if tick <= start:
            break
        span = min(tick, stop) - max(start, position)
        # mido writes the tempo as whole microseconds per quarter note.
        seconds += span * round(60e6 / bpm) / 1e6
        position = min(tick, stop)
    return seconds


def write_manifest(root: str | os.PathLike, rows: list[dict]) -> None:
    """manifest.parquet with one row per track (track_id, split, tempo, meter, genre...)."""
    pq.write_table(pa.Table.from_pylist(rows), Path(root) / "manifest.parquet")


def _append_delta(track, events) -> None:
    last = 0
    for tick, message in sorted(events, key=lambda e: (e[0], e[1].type == "note_on")):
        track.append(message.copy(time=tick - last))
        last = tick


def rock_beat(bars: int, swing: float = 0.5, velocity: int = 100) -> list[tuple[float, int, int]]:
    """A straight (swing 0.5) or swung (swing 2/3) 8th-note rock beat in 4/4:
    hi-hat on every 8th, kick on beats 1 and 3, snare on 2 and 4."""
    notes = []
    for bar in range(bars):
        for beat in range(4):
            qn = bar * 4 + beat
            notes.append((qn, 42, velocity))
            notes.append((qn + swing, 42, velocity - 20))
            notes.append((qn, 36 if beat % 2 == 0 else 38, velocity))
    return notes

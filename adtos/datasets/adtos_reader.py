"""ADTOS datasets: what `adtos build`, `adtos render` and `adtos assemble` write.

    audio/<id>.flac              the mix (absent for an assembled-only folder)
    annotations/<id>.txt         time<TAB>GM note<TAB>class[<TAB>velocity<TAB>level_db<TAB>smr_db]
    annotations/<id>.mid         the drum part alone (velocities)
    midi/<id>.mid                the whole track (tempo map and time signatures)
    manifest.parquet             or render.parquet / tracks.parquet: track_id, split, ...

The track list is the first table found (manifest, render, tracks), or the
annotation files when there is none. Beats and downbeats come from the MIDI
tempo map and time signatures, read with `adtos.midi` because pretty_midi
costs 0.1–0.3 s a file and statistics read thousands.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
from tqdm import tqdm

from adtos.annotations import read_annotation_columns
from adtos.datasets.common import finish_dataset, map_gm_notes, select, tempo_from_beats
from adtos.datasets.track import Dataset, Track
from adtos.midi import MidiFile, read_midi_file
from adtos.vocab import gm_class_indices

TABLES = ("manifest.parquet", "render.parquet", "tracks.parquet")
TABLE_COLUMNS = ("track_id", "split", "tempo", "meter", "genre", "audio_sha256")
AUDIO_SUFFIXES = (".flac", ".wav", ".ogg", ".mp3")
DRUM_CHANNEL = 9


def read_track_table(root: Path) -> dict[str, dict] | None:
    """track_id → row (split, tempo, meter, genre where present) from the first table found."""
    for table_name in TABLES:
        table_path = root / table_name
        if not table_path.exists():
            continue
        # ParquetFile, not read_table: read_table imports pyarrow.dataset and
        # pandas, 3 s of a 1,000-track stats run.
        parquet = pq.ParquetFile(table_path)
        names = parquet.schema_arrow.names
        if "track_id" not in names:
            raise ValueError(f"{table_path}: no track_id column; found {', '.join(names)}")
        columns = [c for c in TABLE_COLUMNS if c in names]
        rows = parquet.read(columns=columns).to_pylist()
        return {str(row["track_id"]): row for row in rows}
    return None


def read_adtos(path: str | os.PathLike, subset=None, name: str | None = None,
               velocities: bool = True, progress: bool = False) -> Dataset:
    """Read an ADTOS dataset folder; `subset` is a list of ids or a file of ids.

    `velocities=False` skips the drum MIDI (faster when only timing matters);
    `progress=True` shows a progress bar (thousands of tracks take seconds).
    """
    root = Path(path)
    annotation_dir = root / "annotations"
    if not annotation_dir.is_dir():
        if (root / "manifest.parquet").is_file():  # a build that rendered nothing
            raise FileNotFoundError(f"{root}: an ADTOS dataset with no rendered track "
                                    "(see its render_errors.csv)")
        raise FileNotFoundError(f"{root}: no annotations/ folder; is this an ADTOS dataset?")
    table = read_track_table(root)
    if table is None:
        ids = sorted(p.stem for p in annotation_dir.glob("*.txt") if not p.name.startswith("."))
        table = {track_id: {} for track_id in ids}
    tracks, skipped = [], []
    ids = select(list(table), subset, root)
    for track_id in tqdm(ids, desc=f"reading {root.name}", unit="track", disable=not progress,
                         leave=False):
        try:
            tracks.append(read_adtos_track(root, track_id, table[track_id], velocities))
        except (OSError, ValueError, IndexError) as error:
            skipped.append((track_id, str(error)))
    return finish_dataset(name or root.name, "adtos", root, tracks, skipped)


def read_adtos_track(root: Path, track_id: str, row: dict, velocities: bool = True) -> Track:
    times, notes, written, figures = read_annotation_columns(root / "annotations" / f"{track_id}.txt")
    onsets, labels, dropped = map_gm_notes(times, notes)
    mapped = gm_class_indices(notes) >= 0
    # The drum MIDI gives velocities (unless the annotation has them); the song MIDI
    # the tempo map (and the velocities too, from its drum channel, when there is no drum MIDI).
    velocities = velocities and "velocity" not in figures
    drum_midi = _read_midi(root / "annotations" / f"{track_id}.mid", True) if velocities else None
    song_midi = _read_midi(root / "midi" / f"{track_id}.mid", velocities and drum_midi is None)
    if velocities and drum_midi is None:
        drum_midi = song_midi
    maps = song_midi or drum_midi
    beats = downbeats = None
    meter, tempo = row.get("meter"), row.get("tempo")
    if maps is not None:
        last = max(float(times.max()) if times.size else 0.0, float(maps.seconds(maps.end_tick)))
        # the first beat at or after the last onset ends the grid
        beat_ticks, downbeat_ticks = maps.beat_ticks(int(np.ceil(maps.tempo_map.ticks_at(last) - 1e-6)))
        beats, downbeats = maps.seconds(beat_ticks), maps.seconds(downbeat_ticks)
        meter = maps.meter
        tempo = tempo_from_beats(beats)
    track_velocities = figures.get("velocity")
    if drum_midi is not None:
        track_velocities = _match_velocities(times, notes, drum_midi)
    if track_velocities is not None:
        track_velocities = track_velocities[mapped]
    audio = next((root / "audio" / f"{track_id}{s}" for s in AUDIO_SUFFIXES
                  if (root / "audio" / f"{track_id}{s}").exists()), None)
    return Track(track_id, audio, onsets, labels, original_labels=written,
                 original_onsets=times, beats=beats, downbeats=downbeats,
                 tempo=None if tempo is None else float(tempo), meter=meter,
                 velocities=track_velocities, split=row.get("split"),
                 level_db=figures["level_db"][mapped] if figures else None,
                 smr_db=figures["smr_db"][mapped] if figures else None,
                 notes=notes[mapped],
                 metadata={"dropped_labels": dict(dropped), "unknown_labels": {},
                           "genre": row.get("genre") or "",
                           # the manifest's hash keys the feature cache without rereading the audio
                           **({"audio_sha256": row["audio_sha256"]} if row.get("audio_sha256") else {})})


def _read_midi(path: Path, notes: bool) -> MidiFile | None:
    return read_midi_file(path, notes=notes) if path.exists() else None


def _match_velocities(times: np.ndarray, notes: np.ndarray, midi: MidiFile) -> np.ndarray | None:
    """Velocity per annotation line, matched to the MIDI notes by (time, note).

    Only drum-channel notes count when the file has any (a whole-track MIDI);
    when the two lists do not agree the velocities are left out, not guessed.
    """
    drums = midi.notes.channel == DRUM_CHANNEL
    if not drums.any():
        drums = np.ones_like(drums)
    midi_times = midi.seconds(midi.notes.start_tick[drums])
    midi_notes = midi.notes.pitch[drums].astype(np.int64)
    if midi_notes.size != notes.size:
        return None
    # Annotation times are written with 6 decimals; compare on a 0.1 ms grid.
    order_txt = np.lexsort((notes, np.round(times * 1e4)))
    order_mid = np.lexsort((midi_notes, np.round(midi_times * 1e4)))
    if not np.array_equal(notes[order_txt], midi_notes[order_mid]):
        return None
    velocities = np.empty(notes.size, dtype=np.int64)
    velocities[order_txt] = midi.notes.velocity[drums][order_mid]
    return velocities

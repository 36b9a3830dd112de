"""Reading an assembled-tracks folder (docs/ARCHITECTURE.md, "Assembled tracks").

    TRACKS_DIR/midi/<id>.mid, annotations/<id>.txt, tracks.parquet

and taking a track's MIDI apart into its voices.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from adtos.midi import select_tracks
from adtos.render.assign import VOICES


class RenderInputError(ValueError):
    """Input the user must fix before a render can start (bad folder, bad library)."""


@dataclass(frozen=True)
class TrackInput:
    track_id: str
    split: str | None
    midi_path: Path
    annotation_path: Path


def read_tracks(tracks_dir: str | Path) -> list[TrackInput]:
    """The tracks of an assembled folder, sorted by id.

    `tracks.parquet` lists them (columns `track_id` and, optionally, `split`).
    A listed track whose MIDI or annotation file is missing still appears: the
    render reports it as a failed track rather than refusing the whole folder.
    """
    import pyarrow.parquet as pq  # lazy: render's workers import this package and need no pyarrow

    tracks_dir = Path(tracks_dir)
    table_path = tracks_dir / "tracks.parquet"
    if not tracks_dir.is_dir():
        raise RenderInputError(f"{tracks_dir}: not a folder (expected an assembled-tracks folder "
                               "with midi/, annotations/ and tracks.parquet)")
    if not table_path.is_file():
        raise RenderInputError(f"{table_path}: missing; an assembled-tracks folder lists its "
                               "tracks in tracks.parquet (written by `adtos assemble`)")
    try:
        table = pq.read_table(table_path)
    except Exception as error:  # pyarrow raises several types for a damaged file
        raise RenderInputError(f"{table_path}: not a readable Parquet file ({error})") from error
    if "track_id" not in table.column_names:
        raise RenderInputError(f"{table_path}: no `track_id` column (columns: "
                               f"{', '.join(table.column_names)})")
    ids = [str(v) for v in table.column("track_id").to_pylist()]
    splits = (table.column("split").to_pylist() if "split" in table.column_names
              else [None] * len(ids))
    if len(set(ids)) != len(ids):
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        raise RenderInputError(f"{table_path}: duplicate track ids {duplicates[:5]}")
    return sorted(
        (TrackInput(track_id, split, tracks_dir / "midi" / f"{track_id}.mid",
                    tracks_dir / "annotations" / f"{track_id}.txt")
         for track_id, split in zip(ids, splits)),
        key=lambda t: t.track_id,
    )


def load_voices(midi_path: Path):
    """Parse a track's MIDI; return (PrettyMIDI, {voice: Instrument}).

    Instruments are matched to voices by name (drums, piano, bass, guitar);
    several instruments of one name are merged, others are ignored.
    """
    import pretty_midi  # lazy: slow to import, and only parsing a track needs it

    try:
        midi = pretty_midi.PrettyMIDI(str(midi_path))
    except Exception as error:  # mido/pretty_midi raise many types on broken files
        raise ValueError(f"MIDI file does not parse: {midi_path.name}: {error}") from error
    voices: dict[str, pretty_midi.Instrument] = {}
    for instrument in midi.instruments:
        name = instrument.name.strip().lower()
        if name not in VOICES or not instrument.notes:
            continue
        if name in voices:
            voices[name].notes.extend(instrument.notes)
            voices[name].control_changes.extend(instrument.control_changes)
            voices[name].pitch_bends.extend(instrument.pitch_bends)
        else:
            voices[name] = instrument
    for instrument in voices.values():
        instrument.notes.sort(key=lambda n: (n.start, n.pitch))
    return midi, voices


def midi_with_voices(midi_path: Path, keep: set[str]) -> bytes:
    """The MIDI file with only the tracks of the voices in `keep`.

    Works on the raw file (track chunks copied byte for byte), so the tempo map
    and every event time are kept exactly: the drum MIDI written beside the
    audio is the one it was rendered from. Tracks without notes or program
    changes (the conductor track) stay.
    """
    try:
        return select_tracks(Path(midi_path).read_bytes(),
                             lambda track: not track.plays or track.name.strip().lower() in keep)
    except (ValueError, IndexError) as error:
        raise ValueError(f"MIDI file does not parse: {Path(midi_path).name}: {error}") from error

"""POP909 adapter: the three tracks of each song, bars from `beat_midi.txt`, keys from `key_audio.txt`.

POP909 arranges every song in three tracks: PIANO (the accompaniment), MELODY
(the sung line, played on piano) and BRIDGE (secondary melodies and fills
between the sung phrases). PIANO becomes role `piano`; MELODY role `lead`
(loop ids end in `:lead`) and BRIDGE role `bridge` (`:bridge`), cut on the same
bars, so that the assembler finds the melody of a piano loop's very section
by its loop id. A MELODY or BRIDGE span without notes (an intro, a solo
piano bar) is no loop and no error: the song simply has no lead there.

`beat_midi.txt` has one line per beat: time (s), a flag on every half bar and
a flag on every downbeat. Bars run from downbeat to downbeat; one beat is a
quarter note and note times are interpolated between the annotated beats, so
the loop's notes sit on a steady grid even where the song breathes. A few
songs are in triple time and are annotated with a downbeat every six beats and
a half-bar flag every three; there the half-bar flags are the bar lines (3/4).

`key_audio.txt` lines are `start end key` (seconds, `Gb:maj`); a loop takes
the key whose segment overlaps it most, spelled with sharps (`F#:maj`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .bars import bars_from_beats, plan_loops
from .common import Job, split_for_theme
from .keys import normalize_key
from .loops import LoopRows, SourceInfo, Voice, cut_voice
from .midi import BadMidiError, read_midi

BEAT_FILE = "beat_midi.txt"
KEY_FILE = "key_audio.txt"
PIANO_TRACK = "PIANO"
# Track name -> (role, loop id suffix) of the voices cut beside the piano.
COMPANION_TRACKS = {"MELODY": ("lead", ":lead"), "BRIDGE": ("bridge", ":bridge")}


def is_pop909_library(root: Path) -> bool:
    return any(root.glob(f"*/{KEY_FILE}"))


def find_jobs(root: Path) -> list[Job]:
    """One job per song folder holding `<song>.mid` (e.g. `001/001.mid`)."""
    jobs = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        midi_path = folder / f"{folder.name}.mid"
        if midi_path.is_file():
            jobs.append(Job(source=f"{folder.name}/{midi_path.name}", meta={"song": folder.name}))
    return jobs


def read_beats(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Beat times and the downbeat flag of each beat (triple-time songs: see module doc)."""
    table = np.loadtxt(path, ndmin=2)
    if table.shape[1] < 3 or len(table) < 2:
        raise ValueError(f"expected at least 2 lines of 'time half-bar downbeat', got shape {table.shape}")
    times, half_bar, downbeat = table[:, 0], table[:, 1] > 0.5, table[:, 2] > 0.5
    bar_spans = np.diff(np.flatnonzero(downbeat))
    half_spans = np.diff(np.flatnonzero(half_bar))
    if len(bar_spans) and len(half_spans):
        usual_bar = np.bincount(bar_spans).argmax()
        usual_half = np.bincount(half_spans).argmax()
        if usual_bar == 6 and usual_half == 3:
            return times, half_bar
    return times, downbeat


def read_keys(path: Path) -> list[tuple[float, float, str]]:
    keys = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) < 3:
            raise ValueError(f"line {number}: expected 'start end key', got {line!r}")
        keys.append((float(fields[0]), float(fields[1]), normalize_key(fields[2])))
    if not keys:
        raise ValueError("no key segments")
    return keys


def key_for_span(keys: list[tuple[float, float, str]], start: float, end: float) -> str:
    """The key whose segment overlaps [start, end) most; the nearest one when none does."""
    overlaps = [max(0.0, min(end, b) - max(start, a)) for a, b, _ in keys]
    best = int(np.argmax(overlaps))
    if overlaps[best] > 0:
        return keys[best][2]
    middle = (start + end) / 2
    return min(keys, key=lambda k: min(abs(middle - k[0]), abs(middle - k[1])))[2]


def seconds_to_beats(seconds: np.ndarray, beat_sec: np.ndarray) -> np.ndarray:
    """Beat position of each time, linear between beats and extrapolated past the ends."""
    index = np.arange(len(beat_sec), dtype=np.float64)
    position = np.interp(seconds, beat_sec, index)
    first_step = beat_sec[1] - beat_sec[0]
    last_step = beat_sec[-1] - beat_sec[-2]
    position = np.where(seconds < beat_sec[0], (seconds - beat_sec[0]) / first_step, position)
    return np.where(seconds > beat_sec[-1], index[-1] + (seconds - beat_sec[-1]) / last_step, position)


def index_job(root: Path, job: Job, library: str, loop_bars: int,
              rows: LoopRows, errors: list[tuple[str, str]]) -> None:
    folder = (root / job.source).parent
    try:
        midi = read_midi(root / job.source)
    except BadMidiError as error:
        errors.append((job.source, str(error)))
        return
    if not midi.has_tempo:
        errors.append((job.source, "no tempo: the file has no set_tempo event"))
        return
    try:
        beat_sec, downbeat = read_beats(folder / BEAT_FILE)
    except (OSError, ValueError) as error:
        errors.append((job.source, f"{BEAT_FILE}: {error}"))
        return
    try:
        keys = read_keys(folder / KEY_FILE)
    except (OSError, ValueError) as error:
        errors.append((job.source, f"{KEY_FILE}: {error}"))
        return
    tracks = {name: [i for i, track_name in enumerate(midi.track_names)
                     if track_name.strip().upper() == name]
              for name in (PIANO_TRACK, *COMPANION_TRACKS)}
    if not tracks[PIANO_TRACK]:
        errors.append((job.source, f"no track named {PIANO_TRACK}"))
        return
    notes = midi.notes.select(np.isin(midi.notes.track, tracks[PIANO_TRACK]))
    if len(notes) == 0:
        errors.append((job.source, f"{PIANO_TRACK} track has no notes"))
        return
    grid = bars_from_beats(beat_sec, downbeat)
    # The grid's quarter notes count beats from the first annotated beat.
    plan = plan_loops(grid, loop_bars)
    if not plan:
        errors.append((job.source, f"{BEAT_FILE}: no complete bar"))
        return
    song = job.meta["song"]
    info = SourceInfo(library=library, source=job.source, kind="pop909", genre="pop", theme=song,
                      split=split_for_theme(f"{library}/{song}"),
                      key_label=lambda start, end: key_for_span(keys, start, end))

    def voice(role: str, track_notes, id_suffix: str = "") -> Voice:
        return Voice(role=role,
                     onset_qn=seconds_to_beats(midi.tick_to_seconds(track_notes.start_tick), beat_sec),
                     end_qn=seconds_to_beats(midi.tick_to_seconds(track_notes.end_tick), beat_sec),
                     pitch=track_notes.pitch, velocity=track_notes.velocity, id_suffix=id_suffix)

    cut_voice(voice("piano", notes), grid, plan, info, rows, errors)
    for name, (role, suffix) in COMPANION_TRACKS.items():
        companion = midi.notes.select(np.isin(midi.notes.track, tracks[name]))
        if len(companion):
            # Bars where the melody rests are not errors (see the module doc).
            cut_voice(voice(role, companion, suffix), grid, plan, info, rows, errors=[])

"""Generic adapter: any folder of MIDI files, described by its folder and file names.

- role: a word in the path (`drums`/`drum`/`perc`, `piano`/`keys`, `bass`,
  `guitar`/`gtr`) makes the whole file one voice of that role; otherwise the
  MIDI decides, one voice per role found: channel 10 → drums, GM programs
  0–7 → piano, 24–31 → guitar, 32–39 → bass (other instruments are ignored).
- genre: the innermost folder whose name is not a role word, lower case.
- theme: the folder the file is in, relative to the library root.
- tempo: the MIDI tempo map; a file without a set_tempo event is refused
  unless its name carries a tempo (`funk_96bpm.mid`), which is then used.
- key: a key in the file name (`pop_C-maj_01.mid`, `Am`) is a label;
  otherwise it is estimated from the notes of each loop.
- beat type (drums): `fill` when a name word says so, else `beat`.
- split: `val` for about one theme in ten (hash of the theme), else `train`.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np

from .common import Job, cut_on_midi_bars, read_source_midi, split_for_theme, voice_from_notes
from .keys import normalize_key
from .loops import LoopRows, SourceInfo

MIDI_SUFFIXES = (".mid", ".midi")
ROLE_WORDS = {
    "drums": "drums", "drum": "drums", "perc": "drums", "percussion": "drums",
    "piano": "piano", "keys": "piano",
    "bass": "bass",
    "guitar": "guitar", "gtr": "guitar", "guitars": "guitar",
}
GM_PROGRAM_ROLES = ((range(0, 8), "piano"), (range(24, 32), "guitar"), (range(32, 40), "bass"))
DRUM_CHANNEL = 9  # channel 10, counted from 0
ROLE_ORDER = ("drums", "piano", "bass", "guitar")

_BPM_RE = re.compile(r"(?<![0-9.])(\d{2,3}(?:\.\d+)?)\s*-?\s*bpm", re.IGNORECASE)
_KEY_RE = re.compile(r"(?:^|[^A-Za-z0-9#])([A-G](?:#|b|s)?)[-_ ]?(maj|min|major|minor)(?![A-Za-z])")
_WORD_RE = re.compile(r"[a-z]+")


def find_midi_files(root: Path, first_only: bool = False) -> list[Path]:
    """MIDI files under `root`, sorted; symlinked folders are followed (libraries are often linked)."""
    found = []
    for folder, subfolders, files in os.walk(root, followlinks=True):
        subfolders.sort()
        for name in sorted(files):
            if os.path.splitext(name)[1].lower() in MIDI_SUFFIXES:
                found.append(Path(folder) / name)
                if first_only:
                    return found
    return sorted(found)


def find_jobs(root: Path) -> list[Job]:
    return [Job(source=p.relative_to(root).as_posix()) for p in find_midi_files(root)]


def name_words(text: str) -> list[str]:
    return _WORD_RE.findall(text.lower())


def role_from_path(source: str) -> str | None:
    """The role a word of the path names, innermost first; None when none does."""
    parts = source.split("/")
    for part in [Path(parts[-1]).stem] + parts[-2::-1]:
        for word in name_words(part):
            if word in ROLE_WORDS:
                return ROLE_WORDS[word]
    return None


def genre_from_path(source: str) -> str:
    folders = source.split("/")[:-1]
    for folder in reversed(folders):
        words = name_words(folder)
        if words and not any(w in ROLE_WORDS for w in words):
            return folder.lower()
    return ""


def bpm_from_name(name: str) -> float | None:
    match = _BPM_RE.search(name)
    return float(match.group(1)) if match else None


def key_from_name(name: str) -> str | None:
    match = _KEY_RE.search(Path(name).stem)
    if not match:
        return None
    tonic = match.group(1)
    if tonic.endswith("s"):  # `Fs` for F sharp, common where `#` is avoided in names
        tonic = tonic[0] + "#"
    return normalize_key(f"{tonic}:{match.group(2)}")


def role_of_program(program: int) -> str | None:
    for programs, role in GM_PROGRAM_ROLES:
        if program in programs:
            return role
    return None


def index_job(root: Path, job: Job, library: str, loop_bars: int,
              rows: LoopRows, errors: list[tuple[str, str]]) -> None:
    source = job.source
    name = source.rsplit("/", 1)[-1]
    name_bpm = bpm_from_name(name)
    midi = read_source_midi(root / source, source, errors, default_bpm=name_bpm,
                            no_tempo="no tempo: no set_tempo event and no bpm in the file name")
    if midi is None:
        return

    notes = midi.notes
    path_role = role_from_path(source)
    if path_role is not None:
        parts = {path_role: np.ones(len(notes), dtype=bool)}
    else:
        note_roles = np.array([
            "drums" if channel == DRUM_CHANNEL else (role_of_program(int(program)) or "")
            for channel, program in zip(notes.channel, notes.program)])
        parts = {role: note_roles == role for role in ROLE_ORDER if (note_roles == role).any()}
    if not parts:
        errors.append((source, "no drums, piano, bass or guitar part (channel 10 or GM programs "
                               "0-7, 24-39) and no role word in the path"))
        return

    folder = source.rsplit("/", 1)[0] if "/" in source else ""
    theme = folder or library
    label = key_from_name(name)
    words = set(name_words(source))
    base = dict(library=library, source=source, kind="generic", genre=genre_from_path(source),
                theme=theme, split=split_for_theme(f"{library}/{theme}"))
    voices = []
    for role, mask in parts.items():
        suffix = f":{role}" if len(parts) > 1 else ""
        voices.append(voice_from_notes(notes.select(mask), midi.ticks_per_beat, role, suffix))
    # Voices of one file share the source's metadata but differ in beat type and key.
    for voice in voices:
        info = SourceInfo(**base,
                          beat_type=("fill" if "fill" in words else "beat") if voice.role == "drums" else "",
                          key_label=(lambda start, end, key=label: key) if label else None)
        cut_on_midi_bars(midi, [voice], info, loop_bars, rows, errors)

"""Transcribe any audio file with a trained run: drum MIDI and onset text.

For each input `song.wav` the output folder gets
    song.txt   time<TAB>GM note<TAB>class, one onset per line (the ADTOS annotation format)
    song.mid   one drum track (channel 10) with the class's GM note (adtos.vocab.CLASS_TO_GM)
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from tqdm import tqdm

from adtos.annotations import format_annotations
from adtos.fileio import write_bytes_atomic, write_text_atomic
from adtos.midi import drum_onsets_file
from adtos.transcriber.predict import DrumTranscriber
from adtos.vocab import CLASS_TO_GM, CLASSES

NOTE_SECONDS = 0.1
VELOCITY = 100


def onsets_to_text(times: np.ndarray, labels: np.ndarray) -> str:
    return format_annotations(times, [CLASS_TO_GM[CLASSES[c]] for c in labels])


def onsets_to_midi(times: np.ndarray, labels: np.ndarray) -> bytes:
    """A drum MIDI file (channel 10, 120 bpm); notes last NOTE_SECONDS or until the next of their note."""
    return drum_onsets_file(times, [CLASS_TO_GM[CLASSES[c]] for c in labels], VELOCITY,
                            hold_seconds=NOTE_SECONDS)


def transcribe(run_dir: str | os.PathLike, audio_paths, out_dir: str | os.PathLike,
               device: str = "auto", checkpoint: str = "best", progress: bool = True
               ) -> tuple[list[Path], list[tuple[str, str]]]:
    """Write `<stem>.txt` and `<stem>.mid` per audio file into `out_dir`.

    Returns the written text files and (path, reason) for files that could not be
    read; those are skipped so that one bad file does not stop a folder.
    """
    transcriber = DrumTranscriber.from_run(run_dir, checkpoint, device)
    out_dir = Path(out_dir)
    written, skipped = [], []
    for audio_path in tqdm(list(audio_paths), desc="transcribe", disable=not progress):
        audio_path = Path(audio_path)
        try:
            times, labels = transcriber.onsets(audio_path)
        except FileNotFoundError as error:
            skipped.append((str(audio_path), str(error)))
            continue
        except Exception as error:  # unreadable or empty audio: report and go on
            skipped.append((str(audio_path), f"cannot read the audio ({type(error).__name__}: "
                                             f"{error})"))
            continue
        text_path = out_dir / f"{audio_path.stem}.txt"
        write_text_atomic(text_path, onsets_to_text(times, labels))
        write_bytes_atomic(out_dir / f"{audio_path.stem}.mid", onsets_to_midi(times, labels))
        written.append(text_path)
    return written, skipped

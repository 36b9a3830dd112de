"""Transcribe any audio file with a trained run: drum MIDI and onset text.

For each input `song.wav` the output folder gets
    song.txt   time<TAB>GM note<TAB>class, one onset per line (the ADTOS annotation format)
    song.mid   one drum track (channel 10) with the class's GM note (adtos.vocab.CLASS_TO_GM)
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from adtos.fileio import atomic_path, write_text_atomic
from adtos.vocab import CLASS_TO_GM, CLASSES

NOTE_SECONDS = 0.1
VELOCITY = 100


def onsets_to_text(times: np.ndarray, labels: np.ndarray) -> str:
    return "".join(f"{t:.6f}\t{CLASS_TO_GM[CLASSES[c]]}\t{CLASSES[c]}\n"
                   for t, c in zip(times, labels))


def onsets_to_midi(times: np.ndarray, labels: np.ndarray):
    """A pretty_midi.PrettyMIDI with one drum instrument; notes last NOTE_SECONDS."""
    import pretty_midi

    midi = pretty_midi.PrettyMIDI(initial_tempo=120.0)
    drums = pretty_midi.Instrument(program=0, is_drum=True, name="drums")
    for t, c in zip(times, labels):
        drums.notes.append(pretty_midi.Note(velocity=VELOCITY, pitch=CLASS_TO_GM[CLASSES[c]],
                                            start=float(t), end=float(t) + NOTE_SECONDS))
    midi.instruments.append(drums)
    return midi


def transcribe(run_dir: str | os.PathLike, audio_paths, out_dir: str | os.PathLike,
               device: str = "auto", checkpoint: str = "best", progress: bool = True
               ) -> tuple[list[Path], list[tuple[str, str]]]:
    """Write `<stem>.txt` and `<stem>.mid` per audio file into `out_dir`.

    Returns the written text files and (path, reason) for files that could not be
    read; those are skipped so that one bad file does not stop a folder.
    """
    from tqdm import tqdm

    from adtos.transcriber.predict import DrumTranscriber

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
        with atomic_path(out_dir / f"{audio_path.stem}.mid") as tmp:
            onsets_to_midi(times, labels).write(str(tmp))
        written.append(text_path)
    return written, skipped

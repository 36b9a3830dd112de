"""Rendering one track: each voice alone, effects, loudness, mix, files.

This module is what runs inside a worker process (or a Ray actor). Each
worker holds one SoundfontBank for its whole life, so a soundfont is loaded
once per worker, not once per track (loading MuseScore's SF3 costs seconds).
"""

from __future__ import annotations

import io
import json
import os
import traceback
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from adtos.fileio import sha256_file, write_bytes_atomic, write_text_atomic
from adtos.render.assign import PRESET_COLUMN, VOICES
from adtos.presets.sampler import preset_player, sum_groups, worker_sampler
from adtos.render.audibility import DrumPart, annotate_audibility, render_groups
from adtos.render.inputs import load_voices, midi_with_voices
from adtos.render.loudness import (SilentStemError, WeightedBus, guard_clipping,
                                   normalize_stem_gain)
from adtos.render.mix import MixDraw, MixOptions, mix_stems, shape_cymbals
from adtos.render.planar import fit_length

# Audio continues after the last note ends (release, cymbal decay, reverb).
RELEASE_TAIL_S = 1.0
# FLAC and WAV are written as 16-bit PCM, the resolution of the real test sets.
PCM_SUBTYPE = "PCM_16"
# libsndfile's FLAC effort, 0..1 (its default 0.5 is FLAC level 5). Level 0 cuts the
# encoding time by 40 % (0.12 vs 0.20 s per 60 s mix) for files 14 % larger (benchmarks/RESULTS.md).
FLAC_COMPRESSION_LEVEL = 0.0
RECORDS_DIR = ".render"  # per-track done-records; render.parquet is assembled from them


@dataclass(frozen=True)
class RenderOptions:
    out_dir: Path
    voices: tuple[str, ...] | None = None  # None: every voice the track has
    sample_rate: int = 44100
    fmt: str = "flac"
    stems: bool = False
    target_lufs: float = -23.0
    drum_stems: bool = False  # also one stem per drum class group (write_drum_stems)
    mix: MixOptions = field(default_factory=MixOptions)


@dataclass(frozen=True)
class TrackJob:
    track_id: str
    split: str | None
    midi_path: Path
    annotation_path: Path
    presets: dict[str, Any]  # voice -> Preset, for every voice the library could serve
    missing: dict[str, str] = field(default_factory=dict)  # voice -> why it has no preset
    mix: MixDraw | None = None  # the track's drawn mix parameters (adtos.render.mix.draw_mix)


@dataclass(frozen=True)
class TrackResult:
    track_id: str
    record: dict | None  # None when the track failed
    error: str | None = None
    worker: int = 0  # process id of the worker that rendered it
    banks_created: int = 0  # SoundfontBanks that worker has created so far (1: loaded once)


def record_path(out_dir: Path, track_id: str) -> Path:
    return Path(out_dir) / RECORDS_DIR / f"{track_id}.json"


def audio_path(out_dir: Path, track_id: str, fmt: str) -> Path:
    return Path(out_dir) / "audio" / f"{track_id}.{fmt}"


# One bank per process, created on first use (or by the pool initializer).
_BANKS: dict[int, Any] = {}
_banks_created = 0


def worker_bank(sample_rate: int):
    """This process's SoundfontBank for `sample_rate`, created once."""
    global _banks_created
    if sample_rate not in _BANKS:
        from adtos.presets.synth import SoundfontBank

        _BANKS[sample_rate] = SoundfontBank(sample_rate=sample_rate)
        _banks_created += 1
    return _BANKS[sample_rate]


def init_worker(sample_rate: int) -> None:
    """Process-pool initializer: build the bank before the first track arrives."""
    worker_bank(sample_rate)


def run_job(job: TrackJob, options: RenderOptions, bank=None) -> TrackResult:
    """Render one track; a failure becomes a TrackResult with the reason, never an exception."""
    try:
        bank = bank if bank is not None else worker_bank(options.sample_rate)
        record, error = render_track(job, options, bank), None
    except Exception as failure:  # one bad track must not end the run
        reason = str(failure) or type(failure).__name__
        if not isinstance(failure, (ValueError, OSError, SilentStemError)):
            # An unexpected error: keep where it happened for the report.
            reason = f"{type(failure).__name__}: {reason} [{_last_frame(failure)}]"
        record, error = None, reason.replace("\n", " ")
    return TrackResult(job.track_id, record, error, os.getpid(), _banks_created)


def _last_frame(error: Exception) -> str:
    frames = traceback.extract_tb(error.__traceback__)
    return f"{Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else "?"


def render_track(job: TrackJob, options: RenderOptions, bank) -> dict:
    """Render, write and record one track; return its render.parquet row."""
    midi, instruments, wanted = _read_track(job, options)
    # The length comes from the whole track, not the rendered voices, so the
    # 1-voice and 4-voice variants of a track have the same duration.
    duration = midi.get_end_time() + RELEASE_TAIL_S
    n_samples = int(round(duration * options.sample_rate))
    record = _blank_record(job)
    # The balance measures the accompaniment's sum: summed from the stems' K-weighted
    # signals, which their normalization computes anyway, it needs no filter pass of its own.
    accompaniment = WeightedBus() if options.mix.balance_db is not None else None
    stems: dict[str, np.ndarray] = {}
    drums: _DrumsRendered | None = None  # what the audibility measure and drum stems need
    for voice in wanted:
        stems[voice], drum_voice = _render_voice(job, options, bank, voice, instruments[voice],
                                                 duration, n_samples, accompaniment, record)
        drums = drum_voice or drums
    mix, gain, mix_columns, stem_gains = mix_stems(
        stems, options.sample_rate, job.mix, options.mix,
        {v: record[f"{v}_lufs_after"] for v in stems}, accompaniment)
    record.update(mix_columns)
    # Measured on the stems at their level in the mix (the drawn balance applied), before
    # the master bus or the clipping guard. Both treat drums and accompaniment alike:
    # the guard is one gain, the bus one linear EQ and one gain envelope on their sum, so
    # the signal-to-mask ratio holds within the envelope's change over a hit's window
    # (measured: the listener hears 59.0 % of hits with the bus, 58.4 % without, RESULTS);
    # level_db is the hit's level in the stem, before the bus.
    annotation = annotate_audibility(job.annotation_path, drums.part if drums else None, stems,
                                     options.sample_rate, stem_gains)
    out = Path(options.out_dir)
    if options.drum_stems and drums is not None:
        # The drum stem as it enters the mix (before the master bus and clip guard).
        mix_gain = np.float32(stem_gains["drums"])
        record.update(write_drum_stems(out, job, options, drums.part.groups,
                                       stems["drums"] * mix_gain, drums.gain * mix_gain))
    if options.stems:
        _write_stems(out, job, options, stems, stem_gains, record)
    final_audio = audio_path(out, job.track_id, options.fmt)
    _write_audio(final_audio, mix, options.sample_rate, options.fmt)
    _write_annotations_and_midi(out, job, annotation, wanted, set(instruments))
    record.update(_mix_record(wanted, mix, gain, n_samples, options, final_audio))
    # Written last: a track counts as done only once everything above exists.
    write_text_atomic(record_path(out, job.track_id), json.dumps(record, sort_keys=True))
    return record


def _read_track(job: TrackJob, options: RenderOptions) -> tuple[Any, dict[str, Any], list[str]]:
    """The track's MIDI, its voices' instruments, and the voices to render (VOICES order)."""
    if not job.annotation_path.is_file():
        raise FileNotFoundError(f"annotation file missing: {job.annotation_path}")
    if not job.midi_path.is_file():
        raise FileNotFoundError(f"MIDI file missing: {job.midi_path}")
    midi, instruments = load_voices(job.midi_path)
    wanted = [v for v in VOICES if v in instruments and (options.voices is None or v in options.voices)]
    if not wanted:
        raise ValueError(f"no voice to render: the MIDI has {sorted(instruments) or 'no named voice'}, "
                         f"asked for {list(options.voices or VOICES)}")
    return midi, instruments, wanted


def _blank_record(job: TrackJob) -> dict[str, Any]:
    """The track's record with every voice's columns empty (a voice not rendered stays so)."""
    record: dict[str, Any] = {"track_id": job.track_id, "split": job.split}
    for voice in VOICES:
        record[PRESET_COLUMN[voice]] = None
        record[f"{voice}_lufs_before"] = None
        record[f"{voice}_lufs_after"] = None
        record[f"{voice}_stem_gain"] = None
    return record


@dataclass(frozen=True)
class _DrumsRendered:
    part: DrumPart  # the drum voice's groups, notes and dry stem (audibility, drum stems)
    gain: Any  # the drum stem's loudness-normalization gain


def _render_voice(job: TrackJob, options: RenderOptions, bank, voice: str, instrument,
                  duration: float, n_samples: int, accompaniment: WeightedBus | None,
                  record: dict[str, Any]) -> tuple[np.ndarray, _DrumsRendered | None]:
    """One voice's stem, planar: synthesis, the preset's effects, loudness normalization.

    Fills the voice's preset and loudness columns of `record`; returns the stem and,
    for the drums, what the audibility measure and the drum stems need.
    Audio stays planar, (channels, samples), from the synthesizer to the mix:
    effects and loudness work per channel, and each transposing copy of a 60 s
    stem costs about as much as a filter.
    """
    from adtos.presets.effects import apply_effects

    sr = options.sample_rate
    preset = job.presets.get(voice)
    if preset is None:
        raise ValueError(job.missing.get(voice, f"no preset for voice {voice}"))
    played = _as_played(preset, instrument, sr)
    if voice == "drums":
        # One render per class group; the dry stem is their sum, so the audibility
        # measure (and --drum-stems) reads the very hits of the stem.
        groups = shape_cymbals(_render_drum_groups(bank, preset, played, n_samples, sr),
                               job.mix, options.mix, sr)
        dry = sum_groups(groups, n_samples)
    else:
        # sampled kits by the native sampler, everything else by FluidSynth (`bank`)
        dry = fit_length(preset_player(preset, bank, sr).render(preset, played, duration,
                                                                planar=True), n_samples)
    wet = fit_length(apply_effects(preset, dry, sr, planar=True), n_samples)
    try:  # normalize_stem takes (samples, channels): the transposed view, no copy
        stem, before, after, gain = normalize_stem_gain(
            wet.T, sr, options.target_lufs, accompaniment if voice != "drums" else None)
    except SilentStemError as error:
        raise ValueError(f"silent stem {voice} with preset {preset.id} ({error})") from None
    record[PRESET_COLUMN[voice]] = preset.id
    record[f"{voice}_lufs_before"] = before
    record[f"{voice}_lufs_after"] = after
    drums = _DrumsRendered(DrumPart(groups, instrument, played, dry), gain) if voice == "drums" \
        else None
    return stem.T, drums


def _write_stems(out: Path, job: TrackJob, options: RenderOptions, stems: dict[str, np.ndarray],
                 stem_gains: dict[str, float], record: dict[str, Any]) -> None:
    """stems/<id>/<voice>.<fmt>, each voice at its level in the mix before the master
    bus (the balance applied, not the mix gain); a stem that alone exceeds the
    ceiling is scaled to fit (its `<voice>_stem_gain` column)."""
    for voice, audio in stems.items():
        stem, stem_gain = guard_clipping(audio * np.float32(stem_gains[voice]))
        record[f"{voice}_stem_gain"] = stem_gain
        _write_audio(out / "stems" / job.track_id / f"{voice}.{options.fmt}", stem,
                     options.sample_rate, options.fmt)


def _write_annotations_and_midi(out: Path, job: TrackJob, annotation: bytes, wanted: list[str],
                                all_voices: set[str]) -> None:
    """annotations/<id>.txt and .mid (the drum part alone), midi/<id>.mid (the voices rendered)."""
    write_bytes_atomic(out / "annotations" / f"{job.track_id}.txt", annotation)
    write_bytes_atomic(out / "annotations" / f"{job.track_id}.mid",
                       midi_with_voices(job.midi_path, {"drums"}))
    write_bytes_atomic(out / "midi" / f"{job.track_id}.mid",
                       job.midi_path.read_bytes() if set(wanted) == all_voices
                       else midi_with_voices(job.midi_path, set(wanted)))


def _mix_record(wanted: list[str], mix: np.ndarray, gain: float, n_samples: int,
                options: RenderOptions, final_audio: Path) -> dict[str, Any]:
    """The record's columns on the mix as written."""
    return {
        "voices": ",".join(wanted),
        "mix_gain": gain,
        "mix_gain_db": float(20.0 * np.log10(gain)),
        "mix_peak": float(np.max(np.abs(mix))),
        "duration": n_samples / options.sample_rate,
        "sample_rate": options.sample_rate,
        "format": options.fmt,
        "audio_sha256": sha256_file(final_audio),
    }


def _as_played(preset, instrument, sample_rate: int):
    """The notes as the voice's player plays them: the native sampler starts each hit
    on its own sample; FluidSynth starts a note on its block, so the note-ons move to
    the nearest block boundary (`_on_nearest_block`). The one place the renderer aligns."""
    if getattr(preset, "sampled", False):
        return instrument
    return _on_nearest_block(instrument, sample_rate)


DRUM_STEM_NAMES = {"-": "other"}  # file names of the drum groups: BD, SD, TT, HH, CY, other
DRUM_STEMS_DIR = "drum_stems"


def write_drum_stems(out: Path, job: TrackJob, options: RenderOptions,
                     groups: dict[str, np.ndarray], drum_stem: np.ndarray, gain: np.float32
                     ) -> dict[str, Any]:
    """drum_stems/<id>/<CLASS>.<fmt>: each drum class group at its level in the mix;
    its render.parquet columns.

    `groups`: the dry group renders; `drum_stem`: the drum stem as it enters the mix;
    `gain`: the drum stem's loudness gain times its gain in the mix.

    Each group's dry render goes through the drum preset's effect chain alone and
    takes the drum stem's gain (its loudness normalization and the mix balance,
    `gain`), so the class stems sum to the drum stem as it enters the mix before
    the master bus wherever the chain is linear (EQ, filters, Room, Reverb, Gain,
    Chorus: to float rounding and the files' 16-bit steps). A compressor,
    distortion or limiter runs on the sum in the mix, not on each class: there the
    stems differ from the drum stem's share of each class, and their sum from the
    stem. The record says by how much (`drum_stems_residual_db`: the energy of
    the drum stem minus the stems' sum, relative to the stem's, in dB; -150 when
    they sum exactly). When a class stem alone would peak above -1 dBFS, every
    class stem is scaled by one gain (`drum_stems_gain`), so they still add up.
    """
    from adtos.presets.effects import apply_effects

    preset, sr, n = job.presets["drums"], options.sample_rate, drum_stem.shape[1]
    processed = {name: fit_length(apply_effects(preset, audio, sr, planar=True), n) * gain
                 for name, audio in sorted(groups.items())}
    total = np.zeros_like(drum_stem)
    for audio in processed.values():
        total += audio
    peak = max((float(np.max(np.abs(a))) for a in processed.values()), default=0.0)
    _, shared = guard_clipping(np.array([peak], dtype=np.float32))
    for name, audio in processed.items():
        _write_audio(out / DRUM_STEMS_DIR / job.track_id
                     / f"{DRUM_STEM_NAMES.get(name, name)}.{options.fmt}",
                     audio * np.float32(shared) if shared != 1.0 else audio, sr, options.fmt)
    return {"drum_stems": ",".join(DRUM_STEM_NAMES.get(g, g) for g in processed),
            "drum_stems_gain": shared,
            "drum_stems_residual_db": residual_db(drum_stem, total)}


def residual_db(reference: np.ndarray, approximation: np.ndarray) -> float:
    """10 log10 of the energy of reference - approximation over the reference's, dB."""
    difference = reference.astype(np.float64) - approximation
    energy = float(np.sum(reference.astype(np.float64) ** 2))
    error = float(np.sum(difference ** 2))
    if energy == 0.0:
        return 0.0 if error == 0.0 else float("inf")
    return max(10.0 * np.log10(max(error, 1e-300) / energy), RESIDUAL_FLOOR_DB)


RESIDUAL_FLOOR_DB = -150.0  # an exact sum reads as this, not -inf (the records are JSON)


def _render_drum_groups(bank, preset, played, n_samples: int, sample_rate: int
                        ) -> dict[str, np.ndarray]:
    """The dry drum part per class group (adtos.vocab.drum_group), planar, n_samples
    long: the native sampler draws its hits once and splits them; a FluidSynth kit
    renders each group's notes (already on block boundaries) alone."""
    if getattr(preset, "sampled", False):
        groups = worker_sampler(sample_rate).render_groups(preset, played,
                                                           n_samples / sample_rate)
        return {name: fit_length(audio, n_samples) for name, audio in groups.items()}
    return render_groups(partial(bank.render, preset, planar=True), played, n_samples,
                         sample_rate)


def _on_nearest_block(instrument, sample_rate: int):
    """A copy of `instrument` whose note-ons sit on the nearest FluidSynth block boundary.

    FluidSynth starts a note at the first 64-sample block after the note-on is
    sent, i.e. 0 to 63 samples late (up to 1.45 ms at 44.1 kHz). Moving the
    note-on to the nearest boundary makes that -32 to +32 samples, centred on
    the annotated time. Note-offs are left where they are.
    """
    import copy

    from adtos.presets.synth import FLUID_BLOCK

    moved = copy.copy(instrument)
    moved.notes = []
    for note in instrument.notes:
        block = round(note.start * sample_rate / FLUID_BLOCK)
        start = block * FLUID_BLOCK / sample_rate
        moved.notes.append(type(note)(note.velocity, note.pitch, start, max(note.end, start + 1e-4)))
    return moved


def _write_audio(path: Path, planar: np.ndarray, sample_rate: int, fmt: str) -> None:
    import soundfile

    extra = {"compression_level": FLAC_COMPRESSION_LEVEL} if fmt == "flac" else {}
    # Encoded in memory, written by Python: libsndfile reports a full disk as
    # "System error.", Python as ENOSPC, which atomic writes name (same bytes).
    encoded = io.BytesIO()
    soundfile.write(encoded, planar.T, sample_rate, format=fmt.upper(), subtype=PCM_SUBTYPE,
                    **extra)
    write_bytes_atomic(path, encoded.getvalue())


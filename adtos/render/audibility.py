"""How loud each annotated drum hit is in the rendered audio: its stem level and its masking.

A MIDI velocity says how hard a pad was struck, not what a listener (or a
transcriber) gets to hear: the kit's velocity curve, the effect chain, the
stem's loudness normalization and the accompaniment decide that. For every
annotated onset the renderer measures two figures from the audio itself:

``level_db``
    the hit alone, in its drum stem as it enters the mix: mean power over the
    hit window (the 50 ms after the onset, shorter when the next hit of the
    same class comes sooner), in dB relative to full scale (10·log10 of the
    mean square; a full-scale square wave is 0 dB). Both figures are measured
    on the mono downmix, which is what the transcriber's features are made of.
``smr_db``
    the hit against everything else in the mix over the same window (the
    accompaniment, the other drums, the decay of earlier hits): the
    signal-to-mask ratio per third-octave band, averaged in dB with the hit's
    own band energies as weights, i.e. in the bands where the hit has its
    energy. Positive: the hit stands out where it sounds; below about 0 dB it
    is under the music.

Isolating a hit. Simultaneous hits are the rule in drum parts (kick and
hi-hat on every beat), so time alone cannot separate them. The drum part is
therefore rendered dry once per 5-class group (BD, SD, TT, HH, CY, and the
notes outside the vocabulary), and the dry drum stem is the sum of the groups:
the groups hold exactly the hits of the stem. The native sampler draws its
hits (per-hit gain, detune, round robin) once for the whole part and resolves
chokes and retriggers over all of them before splitting them by group;
FluidSynth renders each group's notes on a fresh synthesizer. Grouping by
class and not by note keeps the hi-hat's choke groups (a closed hat cuts the
open one) inside one render, as they sound. Within a group, the decay of the previous hits is
removed like spectral flux does: the mean power of the 10 ms before the
onset, per band, times the window length, is subtracted from the window's
energy. A decay does not grow, so this over-estimates the tail and the figure
is a lower bound on the hit. Hits of one class at the same instant are one
event and share their figures.

From dry to the stem. The effect chain and loudness normalization are not
linear (a compressor), so the hit's dry band energies are carried into the
processed stem by its share of the dry drum render in the same band and
window: hit_stem(b) = hit_dry(b) / dry(b) · stem(b). For a hit that sounds
alone this is exactly the stem's own energy in the window (tested).

Cost: no render of its own (the stem is made of the groups); the band
energies are a few thousand FFTs per track; benchmarks/RESULTS.md has the
measured cost.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from adtos.annotations import EXTRA_COLUMNS
from adtos.render.planar import fit_length
from adtos.vocab import PEDAL_HIHAT, UNDER_MIX_SMR_DB, drum_group

HIT_WINDOW_S = 0.050      # what is heard of a hit's attack: the first 50 ms
MIN_HIT_WINDOW_S = 0.010  # a flam's first hit still gets 10 ms
TAIL_WINDOW_S = 0.010     # power just before the onset = the decay still sounding
# 16-bit PCM quantization noise (q²/12 with q = 2/65536): what the written
# file cannot go below, the floor of every band energy.
NOISE_POWER = (2.0 / 65536) ** 2 / 12.0
LEVEL_FLOOR_DB = -120.0
COLUMNS = EXTRA_COLUMNS  # the annotation file's extra columns, in order


@dataclass(frozen=True)
class OnsetAudibility:
    """Per-onset figures in the order of the onsets they were measured for."""

    velocity: np.ndarray  # int64, MIDI velocity
    level_db: np.ndarray  # float64, the hit alone in its stem, dB re full scale
    smr_db: np.ndarray    # float64, hit-weighted signal-to-mask ratio in the mix, dB

    def columns(self) -> dict[str, np.ndarray]:
        return {name: getattr(self, name) for name in COLUMNS}


def fft_size(sample_rate: int) -> int:
    """The FFT length for hit windows: the longest window, rounded up to a fast size."""
    from scipy import fft

    return fft.next_fast_len(int(round(HIT_WINDOW_S * sample_rate)), real=True)


def third_octave_bands(sample_rate: int, n_fft: int | None = None) -> np.ndarray:
    """Band index of every rfft bin: ISO third-octave bands 25 Hz–20 kHz, the first
    band reaching down to 0 Hz and the last up to Nyquist, so the bands cover every
    bin and the band energies sum to the signal's energy (Parseval)."""
    n_fft = fft_size(sample_rate) if n_fft is None else n_fft
    centres = 1000.0 * 2.0 ** (np.arange(-16, 14) / 3.0)  # 25 Hz .. 20 kHz
    upper = centres * 2.0 ** (1.0 / 6.0)
    freqs = np.fft.rfftfreq(n_fft, 1.0 / sample_rate)
    bands = np.searchsorted(upper, freqs, side="right")
    bands = np.minimum(bands, len(centres) - 1)
    # Renumber to the bands that hold at least one bin (low bands are narrower than a bin).
    _, bands = np.unique(bands, return_inverse=True)
    return bands


def band_energies(audio: np.ndarray, starts: np.ndarray, lengths: np.ndarray,
                  bands: np.ndarray) -> np.ndarray:
    """(n_onsets, n_bands) energy (sum of squares) of audio[s:s+L] for each start s.

    `audio` is mono (samples,), or planar (channels, samples), which is mixed to
    mono first, as the transcriber hears it. `bands` maps each rfft bin to its
    band (its length fixes the FFT size). A rectangular window, so that the band
    energies of a segment sum to its time-domain energy; samples outside the
    audio count as silence.
    """
    from numpy.lib.stride_tricks import sliding_window_view
    from scipy import fft

    mono = to_mono(audio)
    starts = np.asarray(starts, dtype=np.int64)
    lengths = np.asarray(lengths, dtype=np.int64)
    n_fft = 2 * (bands.size - 1)
    n_bands = int(bands.max()) + 1
    if starts.size == 0:
        return np.zeros((0, n_bands))
    if lengths.max() > n_fft:
        raise ValueError(f"window of {lengths.max()} samples is longer than the FFT ({n_fft})")
    # Parseval for a one-sided spectrum: the bins other than DC and Nyquist count twice.
    weight = np.full(n_fft // 2 + 1, 2.0 / n_fft, dtype=np.float32)
    weight[0] = weight[-1] = 1.0 / n_fft
    inside = np.arange(n_fft)[None, :] < lengths[:, None]
    segments = np.zeros((starts.size, n_fft), dtype=np.float32)
    whole = (starts >= 0) & (starts + n_fft <= mono.size)
    if mono.size >= n_fft:
        segments[whole] = sliding_window_view(mono, n_fft)[starts[whole]]
    for row in np.flatnonzero(~whole):  # the few windows at the very start or end
        lo, hi = max(starts[row], 0), min(starts[row] + n_fft, mono.size)
        if hi > lo:
            segments[row, lo - starts[row]:hi - starts[row]] = mono[lo:hi]
    segments *= inside
    spectrum = fft.rfft(segments, axis=1)
    power = (spectrum.real ** 2 + spectrum.imag ** 2) * weight
    return np.add.reduceat(power, np.searchsorted(bands, np.arange(n_bands)), axis=1
                           ).astype(np.float64)


def to_mono(audio: np.ndarray, gain: float = 1.0) -> np.ndarray:
    """float32 mono: the mean of the channels of planar (channels, samples) audio, times `gain`."""
    audio = np.asarray(audio, dtype=np.float32)
    if audio.ndim == 1:
        return audio if gain == 1.0 else audio * np.float32(gain)
    if audio.shape[0] == 2:  # the usual case, twice as fast as mean()
        mono = audio[0] + audio[1]
        mono *= np.float32(0.5 * gain)
        return mono
    mono = audio.mean(axis=0, dtype=np.float32)
    if gain != 1.0:
        mono *= np.float32(gain)
    return mono


def mono_sum(stems: list[np.ndarray], gains: list[float]) -> np.ndarray | None:
    """The mono downmix of `stems` summed at their `gains` (None for no stem), without
    the scaled stereo copies that scaling and summing the stems first would make."""
    total = None
    for audio, gain in zip(stems, gains):
        mono = to_mono(audio, gain)
        if total is None:
            total = mono.copy() if mono is audio else mono
        else:
            total += mono
    return total


def class_groups(notes: np.ndarray) -> np.ndarray:
    """The render group of each GM note: its 5-class label, or adtos.vocab.OTHER_GROUP."""
    return np.array([drum_group(n) for n in notes], dtype=object)


def hit_windows(starts: np.ndarray, groups: np.ndarray, sample_rate: int
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(hit length, tail start, tail length) in samples per onset.

    The hit window ends at the next later onset of the same group (at most
    HIT_WINDOW_S, at least MIN_HIT_WINDOW_S); the tail window is the
    TAIL_WINDOW_S before the onset, cut at the previous onset of the group.
    """
    n = starts.size
    longest = int(round(HIT_WINDOW_S * sample_rate))
    shortest = int(round(MIN_HIT_WINDOW_S * sample_rate))
    tail = int(round(TAIL_WINDOW_S * sample_rate))
    lengths = np.full(n, longest, dtype=np.int64)
    tail_starts = starts - tail
    for group in set(groups.tolist()):
        members = np.flatnonzero(groups == group)
        times = starts[members]
        distinct = np.unique(times)
        nxt = np.searchsorted(distinct, times, side="right")
        has_next = nxt < distinct.size
        gap = np.where(has_next, distinct[np.minimum(nxt, distinct.size - 1)] - times, longest)
        lengths[members] = np.clip(gap, shortest, longest)
        prv = np.searchsorted(distinct, times, side="left") - 1
        previous = np.where(prv >= 0, distinct[np.maximum(prv, 0)], -np.inf)
        tail_starts[members] = np.maximum(times - tail, previous).astype(np.int64)
    tail_starts = np.maximum(tail_starts, 0)
    return lengths, tail_starts, starts - tail_starts


def measure_audibility(starts: np.ndarray, notes: np.ndarray, velocities: np.ndarray,
                       group_audio: dict[str, np.ndarray], dry: np.ndarray, stem: np.ndarray,
                       accompaniment: np.ndarray | None, sample_rate: int) -> OnsetAudibility:
    """Stem level and signal-to-mask ratio of each onset (module docstring).

    `starts`: onset samples (where the renderer started each note); `notes`: GM
    notes; `group_audio`: the dry render of each class group present (planar);
    `dry`: the dry drum render (their sum); `stem`: the drum stem as mixed;
    `accompaniment`: the sum of the other stems as mixed, or None (drums only).
    """
    starts = np.asarray(starts, dtype=np.int64)
    notes = np.asarray(notes, dtype=np.int64)
    groups = class_groups(notes)
    bands = third_octave_bands(sample_rate)
    # Everything is measured on the mono downmix, the transcriber's input.
    group_audio = {name: to_mono(audio) for name, audio in group_audio.items()}
    dry, stem = to_mono(dry), to_mono(stem)
    accompaniment = None if accompaniment is None else to_mono(accompaniment)
    n_bands = int(bands.max()) + 1
    bins_per_band = np.bincount(bands, minlength=n_bands)
    lengths, tail_starts, tail_lengths = hit_windows(starts, groups, sample_rate)

    hit_dry = np.zeros((starts.size, n_bands))
    for group in set(groups.tolist()):
        members = np.flatnonzero(groups == group)
        audio = group_audio.get(group)
        if audio is None:
            raise ValueError(f"no render of drum group {group!r} (notes "
                             f"{sorted(set(notes[members].tolist()))})")
        window = band_energies(audio, starts[members], lengths[members], bands)
        before = band_energies(audio, tail_starts[members], tail_lengths[members], bands)
        rate = before / np.maximum(tail_lengths[members], 1)[:, None]
        tail = np.where(tail_lengths[members, None] > 0, rate * lengths[members, None], 0.0)
        hit_dry[members] = np.maximum(window - tail, 0.0)
    dry_energy = band_energies(dry, starts, lengths, bands)
    stem_energy = band_energies(stem, starts, lengths, bands)
    share = np.clip(hit_dry / np.maximum(dry_energy, 1e-30), 0.0, 1.0)
    hit = share * stem_energy

    level = 10.0 * np.log10(np.maximum(hit.sum(axis=1) / lengths, 10 ** (LEVEL_FLOOR_DB / 10)))
    masker = stem_energy - hit
    if accompaniment is not None:
        masker = masker + band_energies(accompaniment, starts, lengths, bands)
    floor = NOISE_POWER * lengths[:, None] * (bins_per_band / bins_per_band.sum())[None, :]
    hit_floored = hit + floor
    ratio_db = 10.0 * np.log10(hit_floored / (np.maximum(masker, 0.0) + floor))
    weights = hit_floored / hit_floored.sum(axis=1, keepdims=True)
    smr = (weights * ratio_db).sum(axis=1)
    return OnsetAudibility(np.asarray(velocities, dtype=np.int64), level, smr)


def render_groups(render: Callable, instrument, n_samples: int,
                  sample_rate: int) -> dict[str, np.ndarray]:
    """Dry planar render of each class group of `instrument`'s notes, every group alone:
    how the renderer makes the drum part of a FluidSynth kit, whose dry stem is then
    the sum of the groups (docs/render.md, "Per-onset audibility").

    `render(instrument, duration)` is the voice's dry renderer. (The native sampler
    has its own, `KitSampler.render_groups`, which draws its hits once for the part.)

    A FluidSynth group render is not the same as the group's share of one render
    of the whole part: a voice slot's gain ramps from the note it played before,
    and the polyphony (256 voices) is per render. So the stem is made of the
    groups, not the groups cut out of the stem (docs/render.md gives the
    difference per kit family).
    """
    import copy

    groups = class_groups(np.array([n.pitch for n in instrument.notes], dtype=np.int64))
    duration = n_samples / sample_rate
    rendered: dict[str, np.ndarray] = {}
    for name in sorted(set(groups.tolist())):
        part = copy.copy(instrument)
        part.notes = [n for n, g in zip(instrument.notes, groups) if g == name]
        rendered[str(name)] = fit_length(render(part, duration), n_samples)
    return rendered


def match_notes(times: np.ndarray, notes: np.ndarray, instrument,
                tolerance_s: float = 5e-4) -> np.ndarray:
    """Index into `instrument.notes` of each annotated (time, note), or -1.

    The nearest note-on of the same pitch within `tolerance_s` (annotation
    times are printed with 6 decimals, the MIDI's are floats).
    """
    found = np.full(len(times), -1, dtype=np.int64)
    pitches = np.array([n.pitch for n in instrument.notes], dtype=np.int64)
    starts = np.array([n.start for n in instrument.notes], dtype=np.float64)
    times, notes = np.asarray(times, dtype=np.float64), np.asarray(notes, dtype=np.int64)
    for pitch in np.unique(notes):
        mine = np.flatnonzero(pitches == pitch)
        rows = np.flatnonzero(notes == pitch)
        if mine.size == 0:
            continue
        order = mine[np.argsort(starts[mine], kind="stable")]
        at = np.searchsorted(starts[order], times[rows])
        for row, k in zip(rows, at):
            candidates = order[max(k - 1, 0):k + 1]
            best = candidates[np.argmin(np.abs(starts[candidates] - times[row]))]
            if abs(starts[best] - times[row]) <= tolerance_s:
                found[row] = best
    return found


def measure_drum_part(groups: dict[str, np.ndarray], instrument, played, dry: np.ndarray,
                      stems: dict[str, np.ndarray], times: np.ndarray, notes: np.ndarray,
                      sample_rate: int, gains: dict[str, float] | None = None) -> OnsetAudibility:
    """What the renderer calls once per track.

    `groups`: the dry planar render of each class group, as the stem was made
    of them; `instrument`: the drum part as annotated (velocities); `played`: the
    same notes as sent to the synthesizer (FluidSynth's note-ons moved to block
    boundaries), whose starts are where each hit begins in the audio; `dry`: the
    drum voice before effects, the sum of `groups`; `stems`: voice -> planar
    stem, which goes into the mix times its gain in `gains` (1 where missing;
    drums among them); `times`, `notes`: the annotation's onsets.
    """
    matched = match_notes(times, notes, instrument)
    if np.any(matched < 0):
        missing = int(np.argmax(matched < 0))
        raise ValueError(f"annotation onset {times[missing]:.6f} s note {notes[missing]} has no "
                         "note in the drum part (annotation and MIDI disagree)")
    velocities = np.array([instrument.notes[k].velocity for k in matched], dtype=np.int64)
    starts = np.array([int(round(played.notes[k].start * sample_rate)) for k in matched],
                      dtype=np.int64)
    gains = gains or {}
    stem = to_mono(stems["drums"], gains.get("drums", 1.0))
    others = [voice for voice in stems if voice != "drums"]
    accompaniment = mono_sum([stems[v] for v in others], [gains.get(v, 1.0) for v in others])
    return measure_audibility(starts, notes, velocities, groups, dry, stem, accompaniment,
                              sample_rate)


@dataclass(frozen=True)
class DrumPart:
    """The drum voice of a track as the renderer had it."""

    groups: dict        # class group -> planar dry audio; the dry stem is their sum
    instrument: object  # pretty_midi.Instrument as annotated
    played: object      # the same notes as sent to the synthesizer
    dry: np.ndarray     # planar, before effects


def annotate_audibility(annotation_path, drum_part: DrumPart | None,
                        stems: dict[str, np.ndarray], sample_rate: int,
                        gains: dict[str, float] | None = None) -> bytes:
    """The annotation file's text with velocity, level_db and smr_db columns added.

    `stems`: voice -> planar stem, mixed at its gain in `gains` (1 where
    missing): its level in the mix before any master bus or clipping guard
    (both act on drums and accompaniment alike: see the renderer's worker).
    Without a drum voice (a variant that leaves the drums out) the annotation
    is returned as it is: there is no hit to measure.
    """
    from adtos.annotations import format_annotations, read_annotations

    if drum_part is None:
        return annotation_path.read_bytes()
    times, notes, _ = read_annotations(annotation_path)
    figures = measure_drum_part(drum_part.groups, drum_part.instrument, drum_part.played,
                                drum_part.dry, stems, times, notes, sample_rate, gains)
    return format_annotations(times, notes, figures.columns()).encode()


STRENGTH_BEFORE_S = (0.040, 0.010)  # the pre-onset window: 40 to 10 ms before the annotation
STRENGTH_AFTER_S = 0.030           # the post-onset window: the 30 ms from the annotation


def onset_strength(audio: np.ndarray, sample_rate: int, onsets: np.ndarray) -> np.ndarray:
    """How much the mix rises at each annotated onset, in dB: the band-wise energy
    increase (third-octave bands, half-wave rectified, averaged over the bands with
    their energy after the onset as weights) from the
    30 ms ending 10 ms before the onset to the 30 ms after it (windows of one
    length, so a steady sound leaks alike into both and rises by about 0 dB).

    Spectral flux in dB at the annotation, a figure any recording has: it puts
    real sets (no MIDI velocity, no stems) and ADTOS renders on one scale. The
    10 ms gap leaves room for annotations a few ms late; simultaneous onsets of
    different classes share their figure (this measures the mix, not a hit).
    """
    audio = np.asarray(audio, dtype=np.float32)
    if audio.ndim == 2 and audio.shape[0] > audio.shape[1]:  # (samples, channels) -> planar
        audio = audio.T
    audio = to_mono(audio)
    onsets = np.asarray(onsets, dtype=np.float64)
    bands = third_octave_bands(sample_rate)
    n_bands = int(bands.max()) + 1
    bins_per_band = np.bincount(bands, minlength=n_bands) / bands.size
    after = int(round(STRENGTH_AFTER_S * sample_rate))
    before = int(round((STRENGTH_BEFORE_S[0] - STRENGTH_BEFORE_S[1]) * sample_rate))
    starts = np.round(onsets * sample_rate).astype(np.int64)
    post = band_energies(audio, starts, np.full(starts.size, after), bands) / after
    pre_starts = starts - int(round(STRENGTH_BEFORE_S[0] * sample_rate))
    pre = band_energies(audio, pre_starts, np.full(starts.size, before), bands) / before
    floor = NOISE_POWER * bins_per_band[None, :]
    rise = np.maximum(10.0 * np.log10((post + floor) / (pre + floor)), 0.0)
    # Weighted by the bands' energy after the onset, as smr_db is: the bands
    # that carry the sound, not the near-empty ones where leakage is all there is.
    weights = (post + floor) / (post + floor).sum(axis=1, keepdims=True)
    return (weights * rise).sum(axis=1)




def audibility_summary(annotation_path) -> dict:
    """Per-class onset counts and shares under the mix of one rendered annotation file,
    for the manifest: onsets_<C>, under_mix_<C> (None without figures or onsets), pedal_hihat."""
    from adtos.annotations import read_annotation_columns
    from adtos.vocab import CLASSES, gm_class_indices

    _, notes, _, figures = read_annotation_columns(annotation_path)
    classes = gm_class_indices(notes) if notes.size else np.zeros(0, dtype=np.int64)
    summary: dict = {"pedal_hihat": int(np.sum(notes == PEDAL_HIHAT))}
    for index, name in enumerate(CLASSES):
        mine = classes == index
        summary[f"onsets_{name}"] = int(mine.sum())
        summary[f"under_mix_{name}"] = (float(np.mean(figures["smr_db"][mine] < UNDER_MIX_SMR_DB))
                                        if figures and mine.any() else None)
    return summary

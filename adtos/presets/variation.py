"""Per-piece variation: seeded changes to a drum piece's sound itself, not to the bus.

A composite kit recombines pieces; variation changes them. Each piece of a
sampled-kit preset may carry recorded parameters (in the preset JSON, so an id
still renders the same sound):

    {"pitch": -1.3, "decay": 0.8, "tilt": 0.6, "drive_db": 4.0, "gain_db": -1.0}

- `pitch`: semitones, by resampling (the sample plays faster and higher, or
  slower and lower, as a sampler or a retuned drum head does);
- `decay`: the factor on the sample's decay time (0.7 shortens the ring to 70 %,
  1.3 lengthens it); the attack is left as recorded;
- `tilt`: dB per octave around 1 kHz (positive: brighter);
- `drive_db`: tanh saturation drive, peak level kept;
- `gain_db`: level.

and a kit-wide velocity-to-level curve `velocity_exponent`: level =
(velocity / 127) ** exponent on top of the kit's velocity layers (1: Hydrogen's
linear scaling, velocity 30 at -12.5 dB below 127; 2: the SF2 default's square
law, velocity 30 at -25 dB). A soundfont drum preset carries that curve alone,
which FluidSynth plays by a remapped velocity (adtos.presets.synth.curve_velocity).

The DSP is plain functions on one-shot arrays, (channels, n) float32; the
native sampler (adtos.presets.sampler) shapes each sample once per pitch and
parameter set (`shape_one_shot`: decay and tilt) and keeps it; every per-hit
detune step pitch-shifts that copy and saturates it, not once per hit. The ranges are in
`PIECE_RANGES`, chosen and checked as docs/presets.md, "Per-piece variation",
describes.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from adtos.vocab import PIECE_CLASSES

PIECE_FIELDS: tuple[str, ...] = ("pitch", "decay", "tilt", "drive_db", "gain_db")
NEUTRAL: dict[str, float] = {"pitch": 0.0, "decay": 1.0, "tilt": 0.0, "drive_db": 0.0,
                             "gain_db": 0.0}

# Drawn uniformly within these bounds per piece (see docs/presets.md for why):
# pitch in semitones, decay as a factor (drawn log-uniformly), tilt in dB/octave,
# drive in dB (zero for half the pieces), gain in dB.
PIECE_RANGES: dict[str, dict[str, tuple[float, float]]] = {
    "kick": {"pitch": (-3.0, 2.0), "decay": (0.6, 1.5), "tilt": (-1.5, 1.0),
             "drive_db": (0.0, 12.0), "gain_db": (-3.0, 3.0)},
    "snare": {"pitch": (-2.0, 3.0), "decay": (0.6, 1.5), "tilt": (-1.0, 1.5),
              "drive_db": (0.0, 12.0), "gain_db": (-3.0, 3.0)},
    "toms": {"pitch": (-3.0, 3.0), "decay": (0.6, 1.5), "tilt": (-1.5, 1.5),
             "drive_db": (0.0, 9.0), "gain_db": (-3.0, 3.0)},
    "hihat": {"pitch": (-1.0, 2.0), "decay": (0.7, 1.2), "tilt": (-0.25, 1.0),
              "drive_db": (0.0, 6.0), "gain_db": (-3.0, 3.0)},
    "cymbals": {"pitch": (-2.0, 2.0), "decay": (0.6, 1.1), "tilt": (-0.75, 1.0),
                "drive_db": (0.0, 6.0), "gain_db": (-3.0, 3.0)},
}
VELOCITY_EXPONENT_RANGE = (1.0, 2.0)  # Hydrogen's linear scaling .. the SF2 square law
VELOCITY_EXPONENT_LIMITS = (0.25, 4.0)  # what a preset may carry at all
DRIVE_SHARE = 0.5  # share of pieces that are saturated at all
TILT_PIVOT_HZ = 1000.0
MAX_TILT_DB = 12.0  # the tilt's gain is clamped to +-this at the band edges
MAX_DECAY_GAIN_DB = 12.0  # a lengthened tail is raised by at most this
DECAY_MEASURE_DB = 20.0  # the decay time is measured from the peak to 20 dB below it
ENVELOPE_S = 0.005  # smoothing of the amplitude envelope used for that measure


def check_piece_variation(params: dict[str, Any], where: str = "variation") -> dict[str, float]:
    """Validate one piece's parameters; the canonical dict (rounded, neutral ones dropped)."""
    unknown = set(params) - set(PIECE_FIELDS)
    if unknown:
        raise ValueError(f"{where}: unknown fields {sorted(unknown)}; expected {list(PIECE_FIELDS)}")
    out: dict[str, float] = {}
    for name in PIECE_FIELDS:
        if name not in params:
            continue
        try:
            value = float(params[name])
        except (TypeError, ValueError):
            raise ValueError(f"{where}: {name} must be a number, got {params[name]!r}") from None
        if not np.isfinite(value):
            raise ValueError(f"{where}: {name} must be finite, got {value}")
        if name == "decay" and not 0.1 <= value <= 10.0:
            raise ValueError(f"{where}: decay must be a factor in [0.1, 10], got {value}")
        if name == "pitch" and abs(value) > 24:
            raise ValueError(f"{where}: pitch must be within +-24 semitones, got {value}")
        if name == "drive_db" and not 0.0 <= value <= 40.0:
            raise ValueError(f"{where}: drive_db must be in [0, 40] dB, got {value}")
        value = round(value, 3 if name == "decay" else 2)
        if value != NEUTRAL[name]:
            out[name] = value
    return out


def check_velocity_exponent(value: Any) -> float:
    """A velocity curve's exponent (level = (velocity/127) ** exponent), rounded to 0.01."""
    low, high = VELOCITY_EXPONENT_LIMITS
    try:
        exponent = float(value)
    except (TypeError, ValueError):
        exponent = float("nan")
    if not low <= exponent <= high:  # also refuses NaN
        raise ValueError(f"variation: velocity_exponent must be a number in [{low:g}, {high:g}] "
                         f"(level = (velocity/127) ** exponent), got {value!r}")
    return round(exponent, 2)


def draw_velocity_exponent(rng: np.random.Generator) -> float:
    """A velocity curve drawn uniformly in VELOCITY_EXPONENT_RANGE, as presets record it."""
    return round(float(rng.uniform(*VELOCITY_EXPONENT_RANGE)), 2)


def check_variation(variation: dict[str, Any]) -> dict[str, Any]:
    """Validate a preset's `variation` ({"velocity_exponent": x, "pieces": {piece: {...}}})."""
    unknown = set(variation) - {"velocity_exponent", "pieces"}
    if unknown:
        raise ValueError(f"variation: unknown fields {sorted(unknown)}; expected "
                         "['pieces', 'velocity_exponent']")
    out: dict[str, Any] = {}
    if "velocity_exponent" in variation:
        out["velocity_exponent"] = check_velocity_exponent(variation["velocity_exponent"])
    pieces = variation.get("pieces") or {}
    bad = set(pieces) - set(PIECE_CLASSES)
    if bad:
        raise ValueError(f"variation: unknown pieces {sorted(bad)}; expected {list(PIECE_CLASSES)}")
    checked = {p: check_piece_variation(pieces[p], f"variation of {p}")
               for p in PIECE_CLASSES if p in pieces}
    checked = {p: v for p, v in checked.items() if v}
    if checked:
        out["pieces"] = checked
    return out


def draw_variation(rng: np.random.Generator, pieces: tuple[str, ...] | None = None
                   ) -> dict[str, Any]:
    """A seeded variation: a velocity curve and parameters for each of `pieces` (default all)."""
    out: dict[str, Any] = {"velocity_exponent": draw_velocity_exponent(rng)}
    drawn = {}
    for piece in pieces if pieces is not None else tuple(PIECE_CLASSES):
        ranges = PIECE_RANGES[piece]
        low, high = ranges["decay"]
        drive = float(rng.uniform(*ranges["drive_db"])) if rng.random() < DRIVE_SHARE else 0.0
        drawn[piece] = {"pitch": float(rng.uniform(*ranges["pitch"])),
                        "decay": float(np.exp(rng.uniform(np.log(low), np.log(high)))),
                        "tilt": float(rng.uniform(*ranges["tilt"])),
                        "drive_db": drive,
                        "gain_db": float(rng.uniform(*ranges["gain_db"]))}
    out["pieces"] = drawn
    return check_variation(out)


# -- the DSP ------------------------------------------------------------------------------


def change_decay(audio: np.ndarray, sample_rate: int, factor: float,
                 semitones: float = 0.0) -> np.ndarray:
    """Scale a one-shot's decay time by `factor`, leaving its attack as recorded.

    The decay is taken as exponential: its rate `a` (nepers/s) is measured from
    the peak to `DECAY_MEASURE_DB` below it. From the peak on, the sample is
    multiplied by exp(-a (1/factor - 1) t), which turns exp(-a t) into
    exp(-a t / factor): the time to any level scales by `factor`. A lengthened
    tail's gain is capped at `MAX_DECAY_GAIN_DB` so the noise floor of a
    recording is not pulled up without bound.

    `semitones`: the pitch shift applied afterwards (see `vary_one_shot`). The
    envelope is smoothed over `ENVELOPE_S` of the shifted sound, so the peak and
    the 20 dB fall are found where they are found on the shifted sample.
    """
    if factor == 1.0 or audio.shape[-1] == 0:
        return audio
    envelope = np.max(np.abs(audio), axis=0)
    width = max(1, int(round(ENVELOPE_S * sample_rate * 2.0 ** (semitones / 12.0))))
    smooth = moving_average(envelope, width)
    peak = int(np.argmax(smooth))
    below = np.flatnonzero(smooth[peak:] < smooth[peak] * 10 ** (-DECAY_MEASURE_DB / 20))
    # No 20 dB fall inside the sample (a cut-off cymbal): take its length as that time.
    t_fall = (below[0] if below.size else len(smooth) - peak) / sample_rate
    rate = np.log(10 ** (DECAY_MEASURE_DB / 20)) / max(t_fall, 1.0 / sample_rate)
    t = np.arange(audio.shape[-1] - peak) / sample_rate
    exponent = -rate * (1.0 / factor - 1.0) * t
    np.minimum(exponent, MAX_DECAY_GAIN_DB * np.log(10) / 20, out=exponent)
    out = audio.copy()
    out[..., peak:] *= np.exp(exponent).astype(np.float32)
    return out


def moving_average(x: np.ndarray, width: int) -> np.ndarray:
    """np.convolve(x, np.ones(width) / width, mode="same") by a running sum: the same
    centred window (zeros outside `x`) in O(n) rather than O(n * width)."""
    x = np.asarray(x, dtype=np.float64)
    n = x.size
    if width >= n:  # "same" keeps the longer operand's length: the reference's own path
        return np.convolve(x, np.ones(width) / width, mode="same")
    total = np.concatenate(([0.0], np.cumsum(x)))
    centre = np.arange(n) + (width - 1) // 2
    hi = np.minimum(centre + 1, n)
    lo = np.maximum(centre - width + 1, 0)
    return (total[hi] - total[lo]) / width


def tilt_spectrum(audio: np.ndarray, sample_rate: int, db_per_octave: float,
                  semitones: float = 0.0) -> np.ndarray:
    """Tilt a one-shot's spectrum by `db_per_octave` around `TILT_PIVOT_HZ`.

    The gain is log-linear in frequency, clamped at +-`MAX_TILT_DB`, and applied
    as a minimum-phase filter (its phase derived from the gain by folding the
    real cepstrum), in one FFT of the whole one-shot zero-padded to at least
    twice its length. Minimum phase is causal: a zero-phase filter boosting the lows would
    smear the hit up to tens of milliseconds before its onset.

    `semitones`: the audio will be played that much higher afterwards (the sampler
    varies a sample once and pitch-shifts the varied copy), so the gain is laid out
    at the frequencies that land on the pivot and the 20 Hz floor once shifted.
    The filter's response depends only on the FFT size and these parameters, so it
    is computed once per size and kept (`_tilt_response`).
    """
    if db_per_octave == 0.0 or audio.shape[-1] == 0:
        return audio
    from scipy import fft

    n = audio.shape[-1]
    # At least twice the one-shot, so the filter's tail does not wrap around: twice a
    # fast length rather than the next power of two (up to 2x shorter; even, as the
    # cepstrum's folding in _tilt_response needs).
    size = 2 * fft.next_fast_len(n, real=True)
    response = _tilt_response(size, int(sample_rate), float(db_per_octave), float(semitones))
    # In single precision (scipy.fft keeps float32): half numpy's float64 FFT time, and
    # the 16-bit output cannot tell (tested against the response in double precision).
    spectrum = fft.rfft(np.asarray(audio, dtype=np.float32), n=size, axis=-1)
    spectrum *= response
    return fft.irfft(spectrum, n=size, axis=-1)[..., :n].astype(np.float32)


@functools.lru_cache(maxsize=64)
def _tilt_response(size: int, sample_rate: int, db_per_octave: float, semitones: float
                   ) -> np.ndarray:
    """The minimum-phase frequency response of `tilt_spectrum` for one FFT size."""
    ratio = 2.0 ** (semitones / 12.0)  # a frequency f sounds at f * ratio once shifted
    freqs = np.fft.rfftfreq(size, 1.0 / sample_rate) * ratio
    octaves = np.log2(np.maximum(freqs, 20.0) / TILT_PIVOT_HZ)
    log_gain = np.clip(db_per_octave * octaves, -MAX_TILT_DB, MAX_TILT_DB) * (np.log(10) / 20)
    cepstrum = np.fft.irfft(log_gain, n=size)
    cepstrum[1:size // 2] *= 2.0
    cepstrum[size // 2 + 1:] = 0.0
    response = np.exp(np.fft.rfft(cepstrum)).astype(np.complex64)
    response.flags.writeable = False  # shared by every caller of this size
    return response


def saturate(audio: np.ndarray, drive_db: float) -> np.ndarray:
    """tanh saturation with `drive_db` of drive relative to the peak; the peak is kept."""
    if drive_db == 0.0 or audio.shape[-1] == 0:
        return audio
    peak = float(np.max(np.abs(audio)))
    if peak == 0.0:
        return audio
    drive = 10 ** (drive_db / 20)
    return (np.tanh(audio * np.float32(drive / peak)) * np.float32(peak / np.tanh(drive))
            ).astype(np.float32)


def vary_one_shot(audio: np.ndarray, sample_rate: int, params: dict[str, float]) -> np.ndarray:
    """Decay, tilt and saturation of one piece's variation (pitch and gain are the
    sampler's: it resamples and levels every hit anyway)."""
    out = shape_one_shot(audio, sample_rate, params)
    return saturate(out, float(params.get("drive_db", 0.0)))


def shape_one_shot(audio: np.ndarray, sample_rate: int, params: dict[str, float],
                   semitones: float = 0.0) -> np.ndarray:
    """The linear part of `vary_one_shot` (decay and tilt, no saturation), for a sample
    that is pitch-shifted by `semitones` afterwards.

    The sampler shapes a sample once as recorded and then pitch-shifts the shaped
    copy for every per-hit detune step, instead of shaping every shifted copy: a
    rate change scales every decay time alike, so the decay factor holds, and the
    tilt's pivot and floor are laid out where the shift puts them at 1 kHz and
    20 Hz. Saturation does not commute with the resampling; the sampler applies it
    to each shifted copy (a tanh per sample), which keeps the order of
    `vary_one_shot(shifted sample)`. tests/test_variation.py compares the two at
    the corners of PIECE_RANGES on recorded kits.
    """
    out = change_decay(audio, sample_rate, float(params.get("decay", 1.0)), semitones)
    return tilt_spectrum(out, sample_rate, float(params.get("tilt", 0.0)), semitones)


def spectral_centroid(audio: np.ndarray, sample_rate: int, seconds: float = 0.186) -> float:
    """Power-weighted mean frequency (Hz) of a one-shot's first `seconds`."""
    mono = np.asarray(audio, dtype=np.float64)
    mono = mono.mean(axis=0) if mono.ndim == 2 else mono
    mono = mono[:int(round(seconds * sample_rate))]
    power = np.abs(np.fft.rfft(mono)) ** 2
    freqs = np.fft.rfftfreq(len(mono), 1.0 / sample_rate)
    return float((freqs * power).sum() / max(power.sum(), 1e-30))

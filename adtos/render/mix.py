"""The mix: drums against the accompaniment at a drawn balance, then a master bus.

Stems arrive normalized, each at the render's target loudness. Left like that,
every voice is as loud as the drums, and a ghost note under three equally loud
instruments is not heard. Real mixes are not flat: here the drums keep their
level and the accompaniment bus (every other voice, summed) is set so that the
drums sit `balance_db` LU above it (negative: below), drawn per track from a
range around a measured centre (docs/render.md, "Mix"). The real test sets are
also mastered, so an optional master bus follows: a high-pass, two shelving
EQs, a glue compressor and a limiter, with the output gain found so that the
master reaches a drawn integrated loudness (ITU-R BS.1770 / EBU R128).

Within the drum stem, an optional lever sets the hi-hats and cymbals against the
rest of the kit (`cymbals_db`, `cymbals_shelf_db`): their level and a high shelf
drawn per track, applied to the HH and CY groups before they are summed into the
dry stem, so the audibility measure and the labels see them as the mix has them.
Rendered kits keep each piece at its sample's recorded level; real mixes set the
overheads and the hi-hat microphone by ear, usually well under the kick and
snare (benchmarks/results/transcriber.md, "Why hi-hats and cymbals do not transfer").

Every parameter of a track is drawn from its own seeded Generator, all of them
whether or not a lever is on, so switching one lever off (an ablation) leaves
the others' draws, and every other track, exactly as they were. None of the
processors has latency or look-ahead, so no onset moves.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import asdict, dataclass

import numpy as np

from adtos.render.biquads import first_order_high_pass, high_shelf, low_shelf
from adtos.render.loudness import (MIX_CEILING, WeightedBus, block_energies, gain_for_energies,
                                  gain_to_loudness, gated_loudness, guard_clipping,
                                  integrated_loudness)

# Drums minus accompaniment, LU. MDB Drums' four development tracks put their
# drum stem 5 to 9 LU below the rest of the mix (median of the four, -8 LU,
# docs/render.md); -6 +- 6 LU spans that and the equal-level stems of a
# 3-voice accompaniment (about -5 LU).
DEFAULT_BALANCE_DB = (-12.0, 0.0)
# Integrated loudness of a master, LUFS: from unmastered multitrack mixes
# (MedleyDB, -20 to -14) to loud commercial masters (about -8).
DEFAULT_MASTER_LUFS = (-18.0, -8.0)
# Master-bus parameter ranges: gentle "glue" settings, as a mastering engineer
# would use on a finished mix.
HIGHPASS_HZ = 30.0
LOW_SHELF_HZ, HIGH_SHELF_HZ = 120.0, 8000.0
SHELF_Q = 1.0 / np.sqrt(2.0)  # pedalboard's default Q for its shelves
SHELF_DB = (-3.0, 3.0)
COMP_RATIO = (1.5, 4.0)
COMP_ATTACK_MS = (5.0, 30.0)
COMP_RELEASE_MS = (50.0, 300.0)
COMP_ABOVE_LOUDNESS_DB = (0.0, 8.0)  # threshold, dB above the mix's integrated loudness
LIMITER_RELEASE_MS = (5.0, 50.0)  # longer releases cap the loudness of sparse, peaky mixes
LIMITER_THRESHOLD_DB = -1.0
# The drive into the limiter is raised at most MASTER_STEPS times, each time by
# DRIVE_OVERSHOOT times the loudness still missing plus a margin: the limiter
# gives back less loudness than the drive it gets, and overshooting costs
# nothing (a gain below unity trims it).
MASTER_STEPS = 8
DRIVE_OVERSHOOT = 2.0
MASTER_STEP_MARGIN_LU = 0.1
# Hi-hats and cymbals against the rest of the kit: the drum groups the lever
# applies to, and the corner of its high shelf (the band where the hi-hat study
# found renders brighter than real mixes). Draw ranges when a range is not given
# (drawn all the same, so that turning the lever on changes no other draw).
CYMBAL_GROUPS = ("HH", "CY")
CYMBAL_SHELF_HZ = 5000.0
DEFAULT_CYMBALS_DB = (-12.0, 0.0)
DEFAULT_CYMBALS_SHELF_DB = (-9.0, 0.0)
# Streams of the per-track Generator: mix draws never share numbers with another stage.
_MIX_STREAM = 0x6D6978


@dataclass(frozen=True)
class MixOptions:
    """How stems become the mix. The defaults are the flat mix of the paper.

    balance_db: (low, high) range of drums minus accompaniment in LU, drawn
        uniformly per track; None keeps every stem at the target loudness.
    master: run the master bus (EQ, glue compression, limiter).
    master_lufs: (low, high) range of the master's integrated loudness, LUFS.
    cymbals_db: (low, high) range of the hi-hats' and cymbals' gain against the
        rest of the kit, dB, drawn per track; None leaves them as the kit has them.
    cymbals_shelf_db: (low, high) range of a high shelf on them (CYMBAL_SHELF_HZ),
        dB, drawn per track (negative: darker); None: no shelf.
    """

    balance_db: tuple[float, float] | None = None
    master: bool = False
    master_lufs: tuple[float, float] = DEFAULT_MASTER_LUFS
    cymbals_db: tuple[float, float] | None = None
    cymbals_shelf_db: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        for name, limit, unit in (("balance_db", 40.0, "LU"), ("cymbals_db", 40.0, "dB"),
                                  ("cymbals_shelf_db", 24.0, "dB")):
            value = getattr(self, name)
            if value is None:
                continue
            low, high = (float(v) for v in value)
            if not (np.isfinite(low) and np.isfinite(high) and -limit <= low <= high <= limit):
                raise ValueError(f"{name}: expected [low, high] in -{limit:g}..{limit:g} {unit} "
                                 f"with low <= high, got {list(value)}")
            object.__setattr__(self, name, (low, high))
        low, high = (float(v) for v in self.master_lufs)
        if not (np.isfinite(low) and np.isfinite(high) and -40.0 <= low <= high <= -3.0):
            raise ValueError(f"master_lufs: expected [low, high] in -40..-3 LUFS with low <= high, "
                             f"got {list(self.master_lufs)}")
        object.__setattr__(self, "master_lufs", (low, high))

    def to_dict(self) -> dict:
        out = {"balance_db": list(self.balance_db) if self.balance_db else None,
               "master": self.master, "master_lufs": list(self.master_lufs)}
        # only when on: a render made before the lever existed resumes under the same settings
        for name in ("cymbals_db", "cymbals_shelf_db"):
            if getattr(self, name) is not None:
                out[name] = list(getattr(self, name))
        return out

    @property
    def shapes_cymbals(self) -> bool:
        return self.cymbals_db is not None or self.cymbals_shelf_db is not None


@dataclass(frozen=True)
class MixDraw:
    """The drawn mix parameters of one track (all of them, used or not)."""

    balance_db: float
    master_lufs: float
    low_shelf_db: float
    high_shelf_db: float
    comp_ratio: float
    comp_attack_ms: float
    comp_release_ms: float
    comp_above_db: float
    limiter_release_ms: float
    cymbals_db: float = 0.0
    cymbals_shelf_db: float = 0.0


def draw_mix(track_id: str, seed: int, options: MixOptions) -> MixDraw:
    """The mix parameters of `track_id`: a function of the seed and the id alone."""
    rng = np.random.default_rng([int(seed), _MIX_STREAM, zlib.crc32(track_id.encode())])
    balance = options.balance_db or DEFAULT_BALANCE_DB
    return MixDraw(
        balance_db=float(rng.uniform(*balance)),
        master_lufs=float(rng.uniform(*options.master_lufs)),
        low_shelf_db=float(rng.uniform(*SHELF_DB)),
        high_shelf_db=float(rng.uniform(*SHELF_DB)),
        comp_ratio=float(rng.uniform(*COMP_RATIO)),
        comp_attack_ms=float(rng.uniform(*COMP_ATTACK_MS)),
        comp_release_ms=float(rng.uniform(*COMP_RELEASE_MS)),
        comp_above_db=float(rng.uniform(*COMP_ABOVE_LOUDNESS_DB)),
        limiter_release_ms=float(rng.uniform(*LIMITER_RELEASE_MS)),
        # drawn last: the draws above are those of renders made before this lever
        cymbals_db=float(rng.uniform(*(options.cymbals_db or DEFAULT_CYMBALS_DB))),
        cymbals_shelf_db=float(rng.uniform(*(options.cymbals_shelf_db or DEFAULT_CYMBALS_SHELF_DB))),
    )


def shape_cymbals(groups: dict[str, np.ndarray], draw: MixDraw | None, options: MixOptions,
                  sample_rate: int) -> dict[str, np.ndarray]:
    """The dry drum groups with the hi-hats and cymbals (CYMBAL_GROUPS) at the track's
    drawn gain and high shelf; the other groups, and every group when the lever is
    off, are returned as they are (the same arrays)."""
    if not options.shapes_cymbals:
        return groups
    if draw is None:
        raise ValueError("the cymbals lever needs the track's drawn mix parameters")
    import scipy.signal  # lazy, as in master_bus

    shelf = (high_shelf(draw.cymbals_shelf_db, SHELF_Q, CYMBAL_SHELF_HZ, sample_rate)[None, :]
             if options.cymbals_shelf_db is not None else None)
    shaped = dict(groups)
    for name in CYMBAL_GROUPS:
        if name not in shaped:
            continue
        audio = shaped[name]
        if shelf is not None:
            audio = scipy.signal.sosfilt(shelf, audio, axis=1).astype(np.float32)
        if options.cymbals_db is not None:
            audio = audio * np.float32(10.0 ** (draw.cymbals_db / 20.0))
        shaped[name] = audio
    return shaped


def _cymbal_columns(draw: MixDraw | None, options: MixOptions) -> dict[str, float | None]:
    """render.parquet's cymbals columns: the drawn values applied, None for a lever off."""
    return {"cymbals_db": draw.cymbals_db if draw and options.cymbals_db is not None else None,
            "cymbals_shelf_db": draw.cymbals_shelf_db
            if draw and options.cymbals_shelf_db is not None else None}


# The render.parquet columns a mix writes (None where a lever is off).
MIX_COLUMNS: dict[str, str] = {
    "balance_db": "float64",            # drums minus accompaniment, LU, as drawn and applied
    "accompaniment_gain_db": "float64",  # gain on the accompaniment bus that sets the balance
    "master_lufs_target": "float64",
    "master_lufs": "float64",            # integrated loudness of the written master
    "master_drive_db": "float64",        # gain into the limiter that reached the target
    "master_params": "string",           # the drawn EQ, compressor and limiter settings (JSON)
    "cymbals_db": "float64",             # hi-hats and cymbals against the kit, dB, as applied
    "cymbals_shelf_db": "float64",       # their high shelf at CYMBAL_SHELF_HZ, dB, as applied
}


def mix_stems(stems: dict[str, np.ndarray], sample_rate: int, draw: MixDraw | None,
              options: MixOptions, loudness: dict[str, float] | None = None,
              weighted_accompaniment: WeightedBus | None = None
              ) -> tuple[np.ndarray, float, dict, dict[str, float]]:
    """Sum planar (2, n) stems into the mix.

    `stems` maps voice to its normalized stem; `drums` is the reference of the
    balance. `loudness` (LUFS per voice, as normalized) spares measuring the
    stems again, and `weighted_accompaniment` (the K-weighted sum of the
    stems other than the drums) measuring their sum. Returns (mix, clip-guard
    gain, columns, the linear gain of each stem in the mix before the master
    bus). The columns are MIX_COLUMNS,
    None for a lever that is off or does not apply (a drums-only track has no
    balance). `draw` may be None only when every lever is off.
    """
    if draw is None and (options.balance_db is not None or options.master):
        raise ValueError("a balance or a master bus needs the track's drawn mix parameters")
    levels = {voice: (loudness or {}).get(voice) for voice in stems}
    for voice, level in levels.items():
        if level is None and (options.master or (options.balance_db is not None and voice == "drums")):
            levels[voice] = integrated_loudness(stems[voice].T, sample_rate)
    columns: dict = dict.fromkeys(MIX_COLUMNS)
    if "drums" in stems:
        columns.update(_cymbal_columns(draw, options))
    gains = dict.fromkeys(stems, 1.0)
    others = [voice for voice in stems if voice != "drums"]
    if options.balance_db is not None and "drums" in stems and others:
        accompaniment = _sum([stems[v] for v in others])
        wanted = levels["drums"] - draw.balance_db
        if weighted_accompaniment is not None:
            gain_db, _, _ = gain_for_energies(weighted_accompaniment.block_energies(sample_rate),
                                              wanted)
        else:
            gain_db, _, _ = gain_to_loudness(accompaniment.T, sample_rate, wanted)
        accompaniment *= np.float32(10.0 ** (gain_db / 20.0))
        for voice in others:
            gains[voice] = float(10.0 ** (gain_db / 20.0))
            if levels[voice] is not None:
                levels[voice] += gain_db
        columns["balance_db"] = draw.balance_db
        columns["accompaniment_gain_db"] = float(gain_db)
        mix = _sum([stems["drums"], accompaniment])
    else:  # voice by voice, in order: the flat mix of earlier versions, to the last bit
        mix = _sum(list(stems.values()))
    if not options.master:
        mix, gain = guard_clipping(mix)
        return mix, gain, columns, gains
    # The compressor's threshold is set from the mix's loudness; the stems'
    # levels summed as powers give it near enough (they are nearly uncorrelated),
    # without filtering the mix once more.
    reference = float(10.0 * np.log10(sum(10.0 ** (level / 10.0) for level in levels.values())))
    mastered, drive_db, reached = master_bus(mix, sample_rate, draw, reference)
    columns.update(master_lufs_target=draw.master_lufs, master_lufs=reached,
                   master_drive_db=drive_db, master_params=_params_json(draw))
    return mastered, 1.0, columns, gains


def _sum(parts: list[np.ndarray]) -> np.ndarray | None:
    """A new float32 array with the sum of `parts` (None for none)."""
    if not parts:
        return None
    total = np.array(parts[0], dtype=np.float32)
    for part in parts[1:]:
        total += part
    return total


def master_bus(mix: np.ndarray, sample_rate: int, draw: MixDraw,
               mix_lufs: float | None = None) -> tuple[np.ndarray, float, float]:
    """EQ, glue compression and a limiter to `draw.master_lufs`; planar (2, n) in and out.

    `mix_lufs`, the mix's loudness (measured when None), places the
    compressor's threshold. Returns (master, drive into the limiter in dB,
    integrated loudness of the master). The output never exceeds MIX_CEILING
    (-1 dBFS). A target the limiter cannot reach in MASTER_STEPS drives (a
    signal that is all peaks) is missed: the loudness returned is the one
    reached, not the target.
    """
    import scipy.signal  # lazy: only the master bus needs them, and both are slow to load
    from pedalboard import Compressor, Limiter

    if mix_lufs is None:
        mix_lufs = integrated_loudness(mix.T, sample_rate)
    if not np.isfinite(mix_lufs):
        raise ValueError("the mix is silent: nothing for the master bus to bring to loudness")
    equalized = scipy.signal.sosfilt(master_eq(draw, sample_rate), mix, axis=1)
    compressor = Compressor(threshold_db=min(mix_lufs + draw.comp_above_db, 0.0),
                            ratio=draw.comp_ratio, attack_ms=draw.comp_attack_ms,
                            release_ms=draw.comp_release_ms)
    glued = compressor(np.ascontiguousarray(equalized, dtype=np.float32), sample_rate)
    # pedalboard's (JUCE's) Limiter adds make-up gain: its output peaks at full
    # scale whatever the input level, and a louder input is limited harder and
    # comes out louder. The drive into it is raised until the master is at least
    # as loud as the target, and a plain gain below unity then takes it down to
    # the target exactly (a gain below one cannot clip). Quiet targets take one
    # limiter pass; loud ones a few, each aiming above the target.
    limiter = Limiter(threshold_db=LIMITER_THRESHOLD_DB, release_ms=draw.limiter_release_ms)
    target = draw.master_lufs
    drive_db = target - integrated_loudness(glued.T, sample_rate)
    for _ in range(MASTER_STEPS):
        out = limiter(glued * np.float32(10.0 ** (drive_db / 20.0)), sample_rate)
        out *= np.float32(MIX_CEILING)  # the limiter's full scale becomes the -1 dBFS ceiling
        out, _ = guard_clipping(out)  # its clipper sits at 0 dBFS; a rounding above is scaled
        energies = block_energies(out.T, sample_rate)
        level = gated_loudness(energies)
        if level >= target:
            break
        # The limiter gives back less than the drive it gets: overshoot on purpose.
        drive_db += DRIVE_OVERSHOOT * (target - level) + MASTER_STEP_MARGIN_LU
    if level > target:
        trim_db, _, level = gain_for_energies(energies, target)
        out *= np.float32(10.0 ** (trim_db / 20.0))
    return out, float(drive_db), float(level)


def master_eq(draw: MixDraw, sample_rate: int) -> np.ndarray:
    """The master bus EQ as float32 second-order sections: the high-pass and the two
    drawn shelves (the designs of pedalboard's HighpassFilter, LowShelfFilter and
    HighShelfFilter, in one filter pass instead of three)."""
    return np.array([first_order_high_pass(HIGHPASS_HZ, sample_rate),
                     low_shelf(draw.low_shelf_db, SHELF_Q, LOW_SHELF_HZ, sample_rate),
                     high_shelf(draw.high_shelf_db, SHELF_Q, HIGH_SHELF_HZ, sample_rate)],
                    dtype=np.float32)


def _params_json(draw: MixDraw) -> str:
    keys = ("low_shelf_db", "high_shelf_db", "comp_ratio", "comp_attack_ms", "comp_release_ms",
            "comp_above_db", "limiter_release_ms")
    values = asdict(draw)
    return json.dumps({key: round(values[key], 4) for key in keys}, sort_keys=True)

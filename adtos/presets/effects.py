"""Effect chains: a preset's `effects` list → a pedalboard chain, and random chains.

Each effect is `{"type": <pedalboard class name>, <its keyword arguments>}`, so a
definition reads like the code that builds it and any pedalboard plugin with
plain numeric/bool parameters can be used. The random chains stay within ranges
that sound like produced music: gentle EQ, moderate compression, small to medium
rooms with at most 30 % wet, mild saturation.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from adtos.presets.model import Preset

# pedalboard classes a preset may name. Plain processors only: no plugin hosting.
EFFECT_TYPES = ("HighpassFilter", "LowpassFilter", "LowShelfFilter", "HighShelfFilter",
                "PeakFilter", "Compressor", "Reverb", "Distortion", "Gain", "Chorus", "Limiter")


def build_chain(effects: list[dict[str, Any]]):
    """A pedalboard.Pedalboard from a list of effect definitions."""
    import pedalboard

    plugins = []
    for i, effect in enumerate(effects):
        params = {k: v for k, v in effect.items() if k != "type"}
        kind = effect.get("type")
        if kind not in EFFECT_TYPES:
            raise ValueError(f"effect {i}: type {kind!r} is not one of {EFFECT_TYPES}")
        try:
            plugins.append(getattr(pedalboard, kind)(**params))
        except TypeError as error:
            raise ValueError(f"effect {i} ({kind}): bad parameters {params}: {error}") from error
    return pedalboard.Pedalboard(plugins)


def apply_effects(preset: Preset, audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """Run `audio` (float32, shape (n, 2) or (n,)) through the preset's effect chain.

    Returns float32 of the same shape. A preset without effects returns the input
    unchanged. The chain is built fresh per call, so no reverb tail or compressor
    state leaks from one stem into the next: same input, same output.
    """
    audio = np.asarray(audio, dtype=np.float32)
    if audio.ndim not in (1, 2) or (audio.ndim == 2 and audio.shape[1] > 8):
        raise ValueError(f"audio must be (samples,) or (samples, channels), got {audio.shape}")
    if not preset.effects or audio.shape[0] == 0:
        return audio
    try:
        chain = build_chain(preset.effects)
    except ValueError as error:
        raise ValueError(f"preset {preset.id}: {error}") from error
    planar = audio.T if audio.ndim == 2 else audio[None, :]
    processed = chain(np.ascontiguousarray(planar), float(sample_rate), reset=True)
    out = processed.T if audio.ndim == 2 else processed[0]
    return np.ascontiguousarray(out, dtype=np.float32)


def random_effect_chain(rng: np.random.Generator, role: str, dry_share: float = 0.15
                        ) -> list[dict[str, Any]]:
    """A seeded random chain in musical ranges; `dry_share` of the chains are empty.

    Order follows a mixing engineer's channel strip: clean up lows, colour
    (saturation), tone (EQ), dynamics, then space (room reverb).
    """
    if rng.random() < dry_share:
        return []

    def uniform(low: float, high: float, digits: int = 1) -> float:
        return round(float(rng.uniform(low, high)), digits)

    chain: list[dict[str, Any]] = []
    low_cut = (20.0, 60.0) if role in ("drums", "bass") else (30.0, 120.0)
    if rng.random() < 0.6:
        chain.append({"type": "HighpassFilter", "cutoff_frequency_hz": uniform(*low_cut)})
    if rng.random() < 0.25:
        chain.append({"type": "Distortion", "drive_db": uniform(2.0, 10.0)})
    if rng.random() < 0.5:
        chain.append({"type": "LowShelfFilter", "cutoff_frequency_hz": uniform(80.0, 250.0),
                      "gain_db": uniform(-4.0, 4.0), "q": 0.707})
    if rng.random() < 0.5:
        chain.append({"type": "PeakFilter", "cutoff_frequency_hz": uniform(300.0, 4000.0, 0),
                      "gain_db": uniform(-5.0, 5.0), "q": uniform(0.5, 2.0, 2)})
    if rng.random() < 0.5:
        chain.append({"type": "HighShelfFilter", "cutoff_frequency_hz": uniform(3000.0, 9000.0, 0),
                      "gain_db": uniform(-5.0, 4.0), "q": 0.707})
    if rng.random() < 0.6:
        chain.append({"type": "Compressor", "threshold_db": uniform(-30.0, -10.0),
                      "ratio": uniform(1.5, 6.0), "attack_ms": uniform(1.0, 30.0),
                      "release_ms": uniform(50.0, 300.0, 0)})
    if rng.random() < 0.45:
        wet = uniform(0.05, 0.3, 2)
        chain.append({"type": "Reverb", "room_size": uniform(0.1, 0.6, 2),
                      "damping": uniform(0.3, 0.8, 2), "wet_level": wet,
                      "dry_level": round(1.0 - wet / 2, 2), "width": uniform(0.5, 1.0, 2)})
    return chain

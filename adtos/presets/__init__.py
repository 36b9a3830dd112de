"""Preset library: soundfont discovery, drum-kit checks, composite kits, effect chains.

    presets = discover_presets()                      # every patch, classified by role
    library = build_preset_library(drums=512, other=458, seed=0)
    save_presets(library, "presets/default.jsonl")

    bank = SoundfontBank(44100)                       # what the renderer uses
    dry = bank.render(preset, instrument, duration)   # float32 (n, 2)
    sampler = KitSampler(44100)                       # the same for sampled kits ("kit" source)
    wet = apply_effects(preset, dry, 44100)
"""

from __future__ import annotations

from adtos.presets.model import PIECE_CLASSES, PIECE_NOTES, ROLES, Preset, load_presets, save_presets

__all__ = ["PIECE_CLASSES", "PIECE_NOTES", "ROLES", "Preset", "load_presets", "save_presets",
           "SoundfontBank", "KitSampler", "apply_effects", "discover_presets", "build_preset_library",
           "check_drum_kit"]


def __getattr__(name: str):
    # Imported on first use: FluidSynth and pedalboard are slow to load.
    if name == "SoundfontBank":
        from adtos.presets.synth import SoundfontBank
        return SoundfontBank
    if name == "KitSampler":  # scipy and soundfile load on first use
        from adtos.presets.sampler import KitSampler
        return KitSampler
    if name == "apply_effects":
        from adtos.presets.effects import apply_effects
        return apply_effects
    if name == "discover_presets":
        from adtos.presets.discover import discover_presets
        return discover_presets
    if name == "build_preset_library":
        from adtos.presets.library import build_preset_library
        return build_preset_library
    if name == "check_drum_kit":
        from adtos.presets.kitcheck import check_drum_kit
        return check_drum_kit
    raise AttributeError(f"module 'adtos.presets' has no attribute {name!r}")

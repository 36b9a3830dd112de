"""Sampled drum kits: readers (Hydrogen, SFZ, one-shot folders) and the native sampler.

    from adtos.kits import load_kit, load_kits, KitSampler
    kit = load_kit("GMRockKit")                  # on $ADTOS_KIT_PATH or Debian's Hydrogen folder
    kits, errors = load_kits()                   # every kit; (file, reason) for each skipped
    sampler = KitSampler(sample_rate=44100)      # sample files loaded once per process
    dry = sampler.render(preset, instrument, duration)   # a preset with a "kit" source

See docs/presets.md ("Sampled kits") for the formats and the name table.
"""

from __future__ import annotations

from adtos.kits.library import (ENV_KIT_PATH, find_kits, kit_name, kit_search_dirs, load_kit,
                                load_kits, mapping_csv, mapping_rows, read_kit, resolve_kit)
from adtos.kits.model import KIT_FORMATS, Instrument, Kit, KitError, Layer
from adtos.kits.names import assign_notes, classify_name

__all__ = ["ENV_KIT_PATH", "KIT_FORMATS", "Instrument", "Kit", "KitError", "KitSampler", "Layer",
           "assign_notes", "classify_name", "find_kits", "kit_name", "kit_search_dirs",
           "load_kit", "load_kits", "mapping_csv", "mapping_rows", "read_kit", "resolve_kit"]


def __getattr__(name: str):
    if name == "KitSampler":  # scipy and soundfile load on first use
        from adtos.kits.sampler import KitSampler
        return KitSampler
    raise AttributeError(f"module 'adtos.kits' has no attribute {name!r}")

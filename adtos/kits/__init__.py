"""Sampled drum kits: the kit files, their readers (Hydrogen, SFZ, one-shot folders),
names and model. The native sampler that plays them is a preset player, beside the
soundfont bank: `adtos.presets.sampler.KitSampler`.

    from adtos.kits import load_kit, load_kits
    kit = load_kit("GMRockKit")                  # on $ADTOS_KIT_PATH or Debian's Hydrogen folder
    kits, errors = load_kits()                   # every kit; (file, reason) for each skipped

See docs/presets.md ("Sampled kits") for the formats and the name table.
"""

from __future__ import annotations

from adtos.kits.library import (ENV_KIT_PATH, find_kits, kit_name, kit_search_dirs, load_kit,
                                load_kits, mapping_rows, read_kit, resolve_kit)
from adtos.kits.model import KIT_FORMATS, Instrument, Kit, KitError, Layer
from adtos.kits.names import assign_notes, classify_name

__all__ = ["ENV_KIT_PATH", "KIT_FORMATS", "Instrument", "Kit", "KitError", "Layer",
           "assign_notes", "classify_name", "find_kits", "kit_name", "kit_search_dirs",
           "load_kit", "load_kits", "mapping_rows", "read_kit", "resolve_kit"]


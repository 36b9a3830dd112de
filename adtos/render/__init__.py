"""Render assembled tracks: each voice with its preset, effects, R128 loudness, mix.

    report = render_tracks("out/tracks", "presets/default.jsonl", "out/rendered", workers=4)
"""

from adtos.render.assign import PRESET_COLUMN, VOICES, assign_presets
from adtos.render.inputs import RenderInputError
from adtos.render.loudness import guard_clipping, integrated_loudness, normalize_stem
from adtos.render.pipeline import RenderReport, render_tracks

__all__ = ["PRESET_COLUMN", "VOICES", "RenderInputError", "RenderReport", "assign_presets",
           "guard_clipping", "integrated_loudness", "normalize_stem", "render_tracks"]

"""What a render worker loads once: kit locations, effect chains (SF3 soundfonts: test_synth)."""

from __future__ import annotations

import numpy as np

import adtos.kits.library as library
import adtos.presets.effects as effects
from adtos.presets.model import Preset
from kit_fixtures import write_hydrogen_kit


def test_load_kit_does_not_list_the_kit_folders_again(tmp_path, monkeypatch):
    write_hydrogen_kit(tmp_path / "kits" / "OnceKit", "OnceKit")
    monkeypatch.setenv("ADTOS_KIT_PATH", str(tmp_path / "kits"))
    calls = []
    find = library.find_kits
    monkeypatch.setattr(library, "find_kits", lambda dirs=None: calls.append(1) or find(dirs))
    first = library.load_kit("OnceKit")
    assert library.load_kit("OnceKit") is first and library.load_kit("OnceKit", "hydrogen")
    assert len(calls) == 2  # once per (name, format), not once per call
    # Another search path is another lookup: a kit of the same name there is found.
    write_hydrogen_kit(tmp_path / "other" / "OnceKit", "OnceKit")
    monkeypatch.setenv("ADTOS_KIT_PATH", str(tmp_path / "other"))
    assert library.load_kit("OnceKit").path != first.path


def test_an_effect_chain_is_built_once_per_preset(monkeypatch):
    calls = []
    build = effects.build_chain
    monkeypatch.setattr(effects, "build_chain", lambda chain: calls.append(1) or build(chain))
    preset = Preset(role="piano", source={"soundfont": "TimGM6mb.sf2", "bank": 0, "program": 0},
                    effects=[{"type": "HighpassFilter", "cutoff_frequency_hz": 80.0},
                             {"type": "Compressor", "threshold_db": -20.0, "ratio": 4.0}])
    audio = np.random.default_rng(0).uniform(-0.5, 0.5, (2, 44100)).astype(np.float32)
    first = effects.apply_effects(preset, audio, 44100, planar=True)
    again = effects.apply_effects(preset, audio, 44100, planar=True)
    assert len(calls) == 1
    np.testing.assert_array_equal(first, again)  # each call starts from a clean state

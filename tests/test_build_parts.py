"""Manifest join, dataset card, variant naming and parsing: the build's small parts."""

from __future__ import annotations

import hashlib

import pyarrow as pa
import pytest

from adtos.build.card import loop_reuse, render_card
from adtos.build.config import parse_config
from adtos.build.manifest import MANIFEST_SCHEMA, build_manifest
from adtos.build.variants import parse_variants, variant_config, variant_dir
from adtos.errors import AdtosError


def tracks_table() -> pa.Table:
    return pa.table({
        "track_id": ["val00000", "train00001", "train00000"],
        "split": ["val", "train", "train"],
        "loops": [["gmd/a/0-4", "pop/x/0-4"], ["gmd/b/0-4", "gmd/b/0-4", "pop/y/0-4"],
                  ["gmd/b/0-4"]],
        "tempo": [100.0, 120.0, 90.0],
        "meter": ["4/4", "4/4", "3/4"],
        "key": ["C:maj", "A:min", "D:maj"],
        "genre": ["rock", "funk", "jazz"],
    })


def render_table() -> pa.Table:
    return pa.table({
        "track_id": ["train00000", "train00001", "val00000"],
        "drum_preset": ["d1", "d2", "d9"],
        "piano_preset": ["p1", "p2", "p9"],
        "bass_preset": ["b1", "b2", "b9"],
        "guitar_preset": [None, None, None],
        "voices": ["drums,piano", "drums,piano", "drums"],
        "duration": [10.0, 12.5, 8.0],
        "render_seconds": [1.3, 2.2, 0.7],
    })


def write_audio(root, ids):
    (root / "audio").mkdir()
    for track_id in ids:
        (root / "audio" / f"{track_id}.flac").write_bytes(track_id.encode())


def test_manifest_joins_tracks_and_render_rows(tmp_path):
    write_audio(tmp_path, ["train00000", "train00001", "val00000"])
    manifest = build_manifest(tracks_table(), render_table(), tmp_path,
                              voices=("drums", "piano"), quantized=False)
    assert manifest.schema == MANIFEST_SCHEMA
    rows = manifest.to_pylist()
    assert [r["track_id"] for r in rows] == ["train00000", "train00001", "val00000"]
    second = rows[1]
    assert second["loops"] == ["gmd/b/0-4", "pop/y/0-4"]  # each loop once, placement order
    assert second["drum_preset"] == "d2" and second["piano_preset"] == "p2"
    assert second["bass_preset"] is None  # assigned but not rendered
    assert rows[2]["voices"] == ["drums"] and rows[2]["piano_preset"] is None
    assert second["duration"] == 12.5 and second["tempo"] == 120.0 and second["key"] == "A:min"
    assert second["audio"] == "audio/train00001.flac"
    assert second["audio_sha256"] == hashlib.sha256(b"train00001").hexdigest()
    assert second["base"] is None
    assert "render_seconds" not in manifest.column_names  # timings would break determinism


def test_manifest_leaves_out_unrendered_tracks(tmp_path):
    write_audio(tmp_path, ["train00000"])
    manifest = build_manifest(tracks_table(), render_table(), tmp_path, voices=("drums",),
                              quantized=True, base="ds")
    assert manifest.column("track_id").to_pylist() == ["train00000"]
    assert manifest.column("base").to_pylist() == ["ds"]
    assert manifest.column("quantized").to_pylist() == [True]


def test_card_counts_presets_loops_and_licences(tmp_path):
    write_audio(tmp_path, ["train00000", "train00001", "val00000"])
    manifest = build_manifest(tracks_table(), render_table(), tmp_path,
                              voices=("drums", "piano"), quantized=False)
    assert loop_reuse(manifest, "train") == {"gmd/b/0-4": 2, "pop/y/0-4": 1}
    presets = [
        {"id": "d1", "role": "drums", "source": {"soundfont": "TimGM6mb.sf2"},
         "pieces": {"snare": {"soundfont": "Black_Pearl_4_LV2.sf2"}}},
        {"id": "d2", "role": "drums", "source": {"soundfont": "FluidR3_GM.sf2"}},
        {"id": "unused", "role": "drums", "source": {"soundfont": "sf_GMbank.sf2"}},
    ]
    card = render_card(manifest, name="tiny", libraries=[("gmd", "groove", 10),
                                                          ("pop", "pop909", 5)],
                       presets=presets)
    assert "| train | 2 | 0.006 | 11.2 |" in card
    assert "| val | 1 | 0.002 | 8.0 |" in card
    assert "| drums | 2 | 1 |" in card
    assert "Presets heard both in training and in another split: 0." in card
    assert "Loops heard both in training and in another split: 0." in card
    assert "| train | 2 | 1.50 | 2 |" in card  # 2 loops, 3 uses, max 2
    assert "| gmd | groove | 10 | 2 |" in card
    assert "CC BY 4.0" in card and "MIT — POP909" in card
    assert "`TimGM6mb.sf2`: GPL-2" in card
    assert "`Black_Pearl_4_LV2.sf2`: CC BY-SA 3.0" in card
    assert "sf_GMbank" not in card  # only soundfonts of presets actually heard
    assert "tempo: 90.0–120.0 bpm" in card


def test_card_lists_sampled_kit_licences(tmp_path, monkeypatch):
    from kit_fixtures import write_hydrogen_kit

    write_hydrogen_kit(tmp_path / "kits" / "CardKit", licence="CC BY 4.0")
    monkeypatch.setenv("ADTOS_KIT_PATH", str(tmp_path / "kits"))
    write_audio(tmp_path, ["train00000", "train00001", "val00000"])
    manifest = build_manifest(tracks_table(), render_table(), tmp_path,
                              voices=("drums", "piano"), quantized=False)
    presets = [{"id": "d1", "role": "drums",
                "source": {"type": "kit", "format": "hydrogen", "kit": "CardKit"}},
               {"id": "d2", "role": "drums",
                "source": {"type": "kit", "format": "hydrogen", "kit": "GoneKit"}}]
    card = render_card(manifest, name="tiny", libraries=[("gmd", "groove", 10)],
                       presets=presets)
    assert "- hydrogen kit `CardKit`: CC BY 4.0 — Test Author" in card
    assert "- hydrogen kit `GoneKit`: unknown" in card


def test_variant_names_and_parsing(tmp_path):
    assert parse_variants(["voices=1", "quantize=true"]) == {"voices": 1, "quantize": True}
    assert variant_dir(tmp_path / "ds", {"voices": 2}).name == "ds.voices2"
    assert variant_dir(tmp_path / "ds", {"quantize": True}).name == "ds.quantized"
    assert variant_dir(tmp_path / "ds", {"voices": 1, "quantize": True}).name == \
        "ds.voices1.quantized"
    with pytest.raises(AdtosError, match="did you mean 'voices'"):
        parse_variants(["voice=1"])
    with pytest.raises(AdtosError, match="voices=1, 2, 3 or 4"):
        parse_variants(["voices=5"])
    with pytest.raises(AdtosError, match="quantize=true or quantize=false"):
        parse_variants(["quantize=maybe"])


def test_variant_config_only_removes_voices():
    config = parse_config({"libraries": [{"builtin": "loop-pack"}],
                           "presets": {"generate": {"drums": 2}},
                           "tracks": {"voices": 2}})
    changed = variant_config(config, {"voices": 1, "quantize": True})
    assert changed.voices == ("drums",) and changed.tracks.quantize
    assert config.tracks.voices == 2 and not config.tracks.quantize  # the base is untouched
    with pytest.raises(AdtosError, match="can only render fewer"):
        variant_config(config, {"voices": 3})


def test_set_overrides_parse_as_toml():
    from adtos.build.cli import parse_overrides

    assert parse_overrides(["tracks.train=64", "tracks.duration=60.0", "tracks.quantize=true",
                            "dataset.name=big", 'dataset.format="wav"']) == {
        "tracks.train": 64, "tracks.duration": 60.0, "tracks.quantize": True,
        "dataset.name": "big", "dataset.format": "wav"}
    with pytest.raises(AdtosError, match="expected SECTION.KEY=VALUE"):
        parse_overrides(["train=64"])


@pytest.mark.parametrize("curves", [True, False])
def test_generated_presets_follow_the_velocity_curve_setting(tmp_path, curves):
    """[presets.generate].velocity_curves reaches the builder: soundfont drum presets
    draw a velocity_exponent (the default) or keep the kit's own curve."""
    from adtos.build.sources import presets_step

    config = parse_config({"libraries": [{"builtin": "loop-pack"}],
                           "presets": {"generate": {"drums": 4, "other": 2,
                                                    "soundfonts": ["TimGM6mb.sf2"],
                                                    "velocity_curves": curves}}})
    drums = [p for p in presets_step(config, tmp_path) if p.role == "drums"]
    assert drums and all(("velocity_exponent" in p.variation) == curves for p in drums)

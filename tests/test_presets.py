"""Preset library: discovery, classification, kit checks, composites, pools, files, CLI.

Uses pretty_midi's bundled TimGM6mb.sf2 (always installed with pretty_midi), so
these tests need no Debian soundfont; the few that do are skipped without them.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pretty_midi
import pytest

from adtos.presets.discover import classify_patch, discover_presets
from adtos.presets.kitcheck import check_drum_kit, judge_note, measure_note
from adtos.presets.library import LibraryReport, assign_pools, build_preset_library
from adtos.presets.model import PIECE_NOTES, Preset, load_presets, save_presets
from adtos.presets.soundfonts import SoundfontError, pretty_midi_soundfont, read_patches
from adtos.presets.synth import SoundfontBank

TIMGM = pretty_midi_soundfont()
DEBIAN_SF2 = Path("/usr/share/sounds/sf2")


@pytest.fixture(scope="module")
def bank() -> SoundfontBank:
    return SoundfontBank(44100, soundfonts=[TIMGM])


@pytest.fixture(scope="module")
def small_library(tmp_path_factory):
    """A library grown from TimGM6mb alone; the kit-check cache is kept for the CLI test."""
    folder = tmp_path_factory.mktemp("cache")
    cache = folder / "kitcheck.json"
    broken = folder / "broken.sf2"
    broken.write_bytes(b"not a soundfont")
    report = LibraryReport()
    library = build_preset_library([TIMGM, broken, folder / "missing.sf3"], drums=40, other=30,
                                   seed=3, val_share=0.2, report=report, cache=cache,
                                   progress=False)
    return library, report, cache


# -- discovery and classification --------------------------------------------------------


def test_read_patches_lists_every_preset_of_timgm():
    patches = read_patches(TIMGM)
    assert len(patches) == 136
    kits = [p for p in patches if p.bank == 128]
    assert [p.program for p in kits] == [0, 8, 16, 24, 25, 32, 40, 48]
    assert {p.soundfont for p in patches} == {"TimGM6mb.sf2"}


@pytest.mark.parametrize("bank, program, name, role", [
    (128, 0, "Standard", "drums"),
    (120, 0, "Rhythm", "drums"),
    (0, 0, "Black_Pearl_4pc", "drums"),       # AVL kits sit at bank 0 program 0
    (0, 0, "Yamaha Grand Piano", "piano"),
    (0, 25, "Steel Guitar", "guitar"),
    (8, 33, "Finger Bass 2", "bass"),         # bank variants keep their family
    (0, 114, "Steel Drums", "other"),         # GM percussive family: not a kit
    (0, 118, "Synth Drum", "other"),
    (127, 28, "Synth Bass 1 MT", "bass"),     # GS MT-32 map: by name only
    (127, 34, "Chorale", "other"),
    (0, 87, "Bass & Lead", "lead"),          # GM synth lead 8, not a bass
    (0, 52, "Choir Aahs", "lead"),
    (0, 73, "Flute", "lead"),
    (0, 66, "Tenor Sax", "lead"),
    (127, 60, "Soprano Sax", "lead"),        # MT-32 map: by name
    (0, 48, "Strings", "bridge"),
    (0, 19, "Church Organ", "bridge"),
    (0, 89, "Warm Pad", "bridge"),
    (0, 46, "Harp", "other"),
    (0, 43, "Contrabass", "other"),          # FluidR3's is silent from A#3 up: no melody voice
    (18, 19, "Church Organ 2 Expr.", "other"),  # silent without a breath controller
    (0, 122, "Seashore", "other"),
    (8, 116, "Concert Bass Drum", "other"),
    (1, 120, "Gtr. Cut Noise", "other"),
])
def test_classify_patch(bank, program, name, role):
    assert classify_patch(bank, program, name) == role


def test_bad_soundfont_is_reported_and_skipped(tmp_path):
    bad = tmp_path / "broken.sf2"
    bad.write_bytes(b"RIFF\x10\x00\x00\x00not a soundfont")
    missing = tmp_path / "missing.sf2"
    errors: list[tuple[str, str]] = []
    presets = discover_presets([bad, missing, TIMGM], errors=errors)
    assert len(presets) == 136
    assert [Path(p).name for p, _ in errors] == ["broken.sf2", "missing.sf2"]
    with pytest.raises(SoundfontError, match="broken.sf2"):
        read_patches(bad)


def test_symlinked_soundfont_counts_once(tmp_path):
    link = tmp_path / "default-GM.sf2"
    link.symlink_to(TIMGM)
    presets = discover_presets([link, TIMGM])
    assert len(presets) == 136
    assert {p.source["soundfont"] for p in presets} == {"TimGM6mb.sf2"}


def test_discovery_of_debian_soundfonts_finds_kits_and_pitched_patches():
    fonts = [DEBIAN_SF2 / n for n in ("FluidR3_GM.sf2", "Black_Pearl_4_LV2.sf2")]
    if not all(f.is_file() for f in fonts):
        pytest.skip("Debian soundfonts fluid-soundfont-gm / avldrums.lv2-soundfont not installed")
    presets = discover_presets(fonts)
    roles = [p.role for p in presets]
    assert roles.count("drums") == 32  # FluidR3's 31 kits and Black Pearl
    assert roles.count("piano") == 11 and roles.count("bass") == 10 and roles.count("guitar") == 15


# -- preset files ------------------------------------------------------------------------


def _kit(**kw) -> Preset:
    return Preset(role="drums", source={"type": "soundfont", "soundfont": "TimGM6mb.sf2",
                                        "bank": 128, "program": 0}, **kw)


def test_id_is_a_hash_of_the_definition():
    a, b = _kit(name="one"), _kit(name="two", pool="val")
    assert a.id == b.id and a.id.startswith("drums-")
    assert _kit(remap={59: 51}).id != a.id
    assert _kit(effects=[{"type": "Gain", "gain_db": 1.0}]).id != a.id


def test_save_load_round_trip_keeps_ids(tmp_path):
    presets = [_kit(name="plain"), _kit(remap={"59": 49}, pool="val"),
               _kit(pieces={"snare": {"soundfont": "TimGM6mb.sf2", "bank": 128, "program": 25,
                                      "tune_cents": -30, "gain_db": 1.5}}, pool="train")]
    path = tmp_path / "lib.jsonl"
    save_presets(presets, path)
    loaded = load_presets(path)
    assert [p.id for p in loaded] == [p.id for p in presets]
    assert [p.to_json() for p in loaded] == [p.to_json() for p in presets]
    assert loaded[1].remap == {59: 49}


def test_hand_edited_definition_is_refused(tmp_path):
    line = _kit().to_json()
    line["source"]["program"] = 25
    path = tmp_path / "edited.jsonl"
    path.write_text(json.dumps(line) + "\n")
    with pytest.raises(ValueError, match="line 1.*does not match"):
        load_presets(path)


def test_unknown_field_and_role_are_refused():
    with pytest.raises(ValueError, match="role"):
        Preset(role="vocals", source={"soundfont": "x.sf2", "bank": 0, "program": 0})
    with pytest.raises(ValueError, match="unknown preset fields"):
        Preset.from_json({"role": "piano", "source": {"soundfont": "x.sf2", "bank": 0,
                                                      "program": 0}, "colour": "red"})


# -- kit check ---------------------------------------------------------------------------


def test_real_kit_passes_the_check(bank):
    check = check_drum_kit(bank, "TimGM6mb.sf2", 128, 0)
    assert check.usable
    for label in ("BD", "SD", "TT", "HH", "CY"):
        assert check.passing_notes(label)
    # every remap stays within its class and lands on a passing note
    for source, target in check.remap.items():
        assert not check.notes[source].ok and check.notes[target].ok


def test_melodic_program_used_as_kit_is_excluded(bank):
    check = check_drum_kit(bank, "TimGM6mb.sf2", 0, 0)  # a piano
    assert not check.usable
    assert "HH" in check.missing_classes
    assert "excluded" in check.describe()


def test_note_outside_the_kit_is_flagged_silent(bank):
    preset = _kit()
    instrument = pretty_midi.Instrument(0, is_drum=True)
    instrument.notes.append(pretty_midi.Note(100, 12, 0.1, 1.1))  # below any GM kit's range
    audio = bank.render(preset, instrument, 1.3)
    assert judge_note(measure_note(audio, 44100, 4410), "BD") == "silent"


# -- library -----------------------------------------------------------------------------


def test_library_has_the_requested_distinct_presets(small_library):
    library, report, _ = small_library
    drums = [p for p in library if p.role == "drums"]
    pitched = [p for p in library if p.role != "drums"]
    assert len(drums) == 40 and len(pitched) == 30
    assert len({p.id for p in library}) == len(library)
    # The pitched roles are dealt in turn, so 30 presets give each of the five six.
    roles = [p.role for p in pitched]
    assert {role: roles.count(role) for role in set(roles)} == \
        {"piano": 6, "bass": 6, "guitar": 6, "lead": 6, "bridge": 6}
    assert len(report.kit_checks) == 8  # every TimGM kit was checked
    assert sorted(Path(p).name for p, _ in report.errors) == ["broken.sf2", "missing.sf3"]
    usable = {(c.bank, c.program) for _, c in report.kit_checks if c.usable}
    for preset in drums:  # only kits that passed are used, as source or piece
        assert (preset.source["bank"], preset.source["program"]) in usable
        assert all((p["bank"], p["program"]) in usable for p in preset.pieces.values())


def test_composite_pieces_come_from_different_kits(small_library):
    library, _, _ = small_library
    composites = [p for p in library if p.pieces]
    assert composites
    for preset in composites:
        kits = [(p["soundfont"], p["bank"], p["program"]) for p in preset.pieces.values()]
        source = (preset.source["soundfont"], preset.source["bank"], preset.source["program"])
        assert len(set(kits)) == len(kits) and source not in kits
        # Donors come from the preset's own pool: the val pool has 2 of the 8 kits.
        assert (2 if preset.pool == "train" else 1) <= len(kits) <= 5
        for piece in preset.pieces.values():
            assert -100 <= piece["tune_cents"] <= 100 and -4 <= piece["gain_db"] <= 4
        for note, target in preset.remap.items():  # a remap never leaves its piece
            assert any(note in notes and target in notes for notes in PIECE_NOTES.values())


def test_drum_pools_are_disjoint_by_kit(small_library):
    library, _, _ = small_library
    drums = [p for p in library if p.role == "drums"]

    def kits(preset):
        return {(preset.source["bank"], preset.source["program"])} | {
            (p["bank"], p["program"]) for p in preset.pieces.values()}

    train = set().union(*(kits(p) for p in drums if p.pool == "train"))
    val = set().union(*(kits(p) for p in drums if p.pool == "val"))
    assert train and val and not train & val
    assert 0.1 < sum(p.pool == "val" for p in drums) / len(drums) < 0.4


def test_effect_chains_are_seeded_and_some_presets_dry(small_library):
    library, _, cache = small_library
    assert any(not p.effects for p in library) and any(p.effects for p in library)
    again = build_preset_library([TIMGM], drums=40, other=30, seed=3, val_share=0.2,
                                 cache=cache, progress=False)  # bad files only add errors
    assert [p.to_json() for p in again] == [p.to_json() for p in library]
    other_seed = build_preset_library([TIMGM], drums=40, other=30, seed=4, val_share=0.2,
                                      cache=cache, progress=False)
    assert {p.id for p in other_seed} != {p.id for p in library}


def test_pools_are_disjoint_and_cover_each_role(small_library):
    library, _, _ = small_library
    train = {p.id for p in library if p.pool == "train"}
    val = {p.id for p in library if p.pool == "val"}
    assert not train & val and len(train) + len(val) == len(library)
    for role in {p.role for p in library}:
        members = [p for p in library if p.role == role]
        assert any(p.pool == "val" for p in members) and any(p.pool == "train" for p in members)
    reassigned = assign_pools([Preset.from_json(p.to_json()) for p in library], 0.5, seed=1)
    assert sum(p.pool == "val" for p in reassigned) == pytest.approx(len(library) / 2, abs=3)


def test_cli_writes_library_and_kit_report(small_library, tmp_path, capsys):
    from adtos.cli import main

    _, _, cache = small_library
    local_cache = tmp_path / "cache.json"
    shutil.copy(cache, local_cache)
    out = tmp_path / "presets" / "tim.jsonl"
    code = main(["presets", "--soundfont", str(TIMGM), "--drums", "12", "--other", "6",
                 "--seed", "1", "--out", str(out), "--cache", str(local_cache)])
    assert code == 0
    library = load_presets(out)
    assert sum(p.role == "drums" for p in library) == 12 and len(library) == 18
    report = (tmp_path / "presets" / "tim.kits.csv").read_text().splitlines()
    assert report[0].startswith("soundfont,bank,program,name,status") and len(report) == 9
    assert "wrote 18 presets" in capsys.readouterr().out


def without_curve(preset: Preset) -> dict:
    data = preset.to_json()
    data.pop("id")
    data.pop("variation", None)
    return data


def test_velocity_curves_are_drawn_for_soundfont_kits_and_change_nothing_else(small_library):
    """The lever draws a curve for every soundfont drum preset from its own seed stream:
    with it off the library is what the builder made before curves existed (every other
    draw the same); with it on only `velocity_exponent` (and so the id) differs."""
    library, _, cache = small_library  # built with the default: curves on
    plain = build_preset_library([TIMGM], drums=40, other=30, seed=3, val_share=0.2,
                                 cache=cache, progress=False, velocity_curves=False)
    assert [without_curve(p) for p in library] == [without_curve(p) for p in plain]
    drums = [p for p in library if p.role == "drums"]
    assert all(not p.variation for p in plain)
    assert all(set(p.variation) == {"velocity_exponent"} for p in drums)
    assert all(not p.variation for p in library if p.role != "drums")
    exponents = [p.variation["velocity_exponent"] for p in drums]
    assert all(1.0 <= e <= 2.0 for e in exponents) and len(set(exponents)) > 20
    assert {p.id for p in drums}.isdisjoint(p.id for p in plain)
    other_seed = build_preset_library([TIMGM], drums=40, other=30, seed=4, val_share=0.2,
                                      cache=cache, progress=False)
    assert [p.variation["velocity_exponent"] for p in other_seed if p.role == "drums"] \
        != exponents


def test_cli_no_velocity_curves(small_library, tmp_path, capsys):
    from adtos.cli import main

    _, _, cache = small_library
    local_cache = tmp_path / "cache.json"
    shutil.copy(cache, local_cache)
    libraries = {}
    for flag in ([], ["--no-velocity-curves"]):
        out = tmp_path / f"tim{len(flag)}.jsonl"
        assert main(["presets", "--soundfont", str(TIMGM), "--drums", "6", "--other", "2",
                     "--seed", "1", "--out", str(out), "--cache", str(local_cache), *flag]) == 0
        libraries[bool(flag)] = load_presets(out)
    assert all("velocity_exponent" in p.variation
               for p in libraries[False] if p.role == "drums")
    assert "velocity curves: 6 drum presets draw one" in capsys.readouterr().out
    assert all(not p.variation for p in libraries[True])
    assert [without_curve(p) for p in libraries[False]] == \
        [without_curve(p) for p in libraries[True]]


def test_cli_list_reports_bad_soundfont(tmp_path, capsys):
    from adtos.cli import main

    bad = tmp_path / "bad.sf3"
    bad.write_bytes(b"nothing")
    assert main(["presets", "--list", "--soundfont", str(bad), "--soundfont", str(TIMGM)]) == 0
    out = capsys.readouterr().out
    assert "skipped soundfont" in out and "bad.sf3" in out
    assert "TimGM6mb.sf2" in out and "136" in out


def test_cli_requires_out(capsys):
    from adtos.cli import main

    assert main(["presets", "--soundfont", str(TIMGM)]) == 2
    assert "--out" in capsys.readouterr().err


def test_default_library_file_is_valid():
    path = Path(__file__).resolve().parents[1] / "presets" / "default.jsonl"
    if not path.is_file():
        pytest.skip("presets/default.jsonl not generated")
    library = load_presets(path)
    drums = [p for p in library if p.role == "drums"]
    assert len(drums) >= 512 and len(library) - len(drums) >= 458
    assert len({p.id for p in library}) == len(library)
    assert {p.pool for p in library} == {"train", "val"}
    # Soundfont kits and composites, sampled kits, and sampled kits with variation.
    assert any(not p.sampled and p.pieces for p in drums)
    assert any(p.sampled and not p.variation for p in drums)
    assert np.mean([bool(p.variation) for p in drums]) > 0.5

    def kits(preset):
        if preset.sampled:
            return set(preset.kits())
        return {(preset.source["soundfont"], preset.source["bank"], preset.source["program"])} | {
            (p["soundfont"], p["bank"], p["program"]) for p in preset.pieces.values()}

    train = set().union(*(kits(p) for p in drums if p.pool == "train"))
    val = set().union(*(kits(p) for p in drums if p.pool == "val"))
    assert not train & val  # no validation preset shares a kit with a training preset
    # Every soundfont kit draws a velocity curve (FluidSynth plays it), in [1, 2].
    curves = [p.variation.get("velocity_exponent") for p in drums if not p.sampled]
    assert curves and all(c is not None and 1.0 <= c <= 2.0 for c in curves)


def test_velocity_curve_ablation_library_differs_only_in_the_curve():
    """presets/default_sf2_velocity.jsonl (configs/ablation_velocity_curve.toml) is the
    default library with the soundfont kits' drawn curves taken out, line for line."""
    from adtos.presets.library import soundfont_velocity_curves

    folder = Path(__file__).resolve().parents[1] / "presets"
    if not (folder / "default_sf2_velocity.jsonl").is_file():
        pytest.skip("presets/default_sf2_velocity.jsonl not generated")
    curved = load_presets(folder / "default.jsonl")
    plain = load_presets(folder / "default_sf2_velocity.jsonl")
    assert [without_curve(p) for p in curved] == [without_curve(p) for p in plain]
    assert not any(p.variation for p in plain if not p.sampled)
    changed = [a for a, b in zip(curved, plain) if a.id != b.id]
    assert changed and all(a.role == "drums" and not a.sampled for a in changed)
    # and the curves are what the builder draws for it (seed 0)
    assert [p.to_json() for p in soundfont_velocity_curves(plain, 0)] == \
        [p.to_json() for p in curved]


def test_search_path_env_finds_soundfont_by_name(tmp_path, monkeypatch):
    from adtos.presets.soundfonts import find_soundfonts, resolve_soundfont

    folder = tmp_path / "fonts"
    folder.mkdir()
    shutil.copy(TIMGM, folder / "MyKit.sf2")
    monkeypatch.setenv("ADTOS_SOUNDFONT_PATH", str(folder))
    assert resolve_soundfont("MyKit.sf2") == folder / "MyKit.sf2"
    assert "MyKit.sf2" in [p.name for p in find_soundfonts()]
    with pytest.raises(FileNotFoundError, match="ADTOS_SOUNDFONT_PATH"):
        resolve_soundfont("NoSuchFont.sf2")


def test_presets_of_the_default_library_render():
    path = Path(__file__).resolve().parents[1] / "presets" / "default.jsonl"
    library = load_presets(path) if path.is_file() else []
    from adtos.presets.soundfonts import resolve_soundfont

    def installed(preset: Preset) -> bool:
        try:
            return all(resolve_soundfont(name).suffix == ".sf2" for name in preset.soundfonts())
        except FileNotFoundError:
            return False

    drums = [p for p in library
             if p.role == "drums" and not p.sampled and p.pieces and installed(p)][:2]
    pitched = [p for p in library if p.role != "drums" and installed(p)][:1]
    if not drums or not pitched:
        pytest.skip("default library or its SF2 soundfonts not available")
    from adtos.presets.effects import apply_effects

    bank = SoundfontBank(44100)
    groove = pretty_midi.Instrument(0, is_drum=True)
    for i, note in enumerate([36, 42, 38, 42, 45, 49]):
        groove.notes.append(pretty_midi.Note(100, note, i * 0.2, i * 0.2 + 0.05))
    melody = pretty_midi.Instrument(0)
    melody.notes += [pretty_midi.Note(100, 60 + i, i * 0.2, i * 0.2 + 0.15) for i in range(5)]
    for preset in drums + pitched:
        dry = bank.render(preset, groove if preset.role == "drums" else melody, 1.5)
        wet = apply_effects(preset, dry, 44100)
        assert np.abs(dry).max() > 0.01 and np.isfinite(wet).all()

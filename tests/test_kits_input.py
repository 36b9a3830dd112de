"""Bringing one's own kits: every kit file found is read or reported, never lost in silence
(issue #21). Tiny kits written on the fly (kit_fixtures)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from adtos.cli import main
from adtos.kits import KitError, load_kits, read_kit
from kit_fixtures import one_shot, write_hydrogen_kit, write_sfz_kit


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


# -- identity: a kit is its path ------------------------------------------------------------

def test_kits_sharing_a_name_are_all_read_and_told_apart(tmp_path, capsys):
    for folder in ("a", "b", "c"):
        write_sfz_kit(tmp_path / "kits" / folder)  # three kits, each called kit.sfz
    write_hydrogen_kit(tmp_path / "kits" / "Rock")
    kits, errors = load_kits([tmp_path / "kits"])
    assert not errors
    assert sorted(k.path.parent.name for k in kits if k.format == "sfz") == ["a", "b", "c"]
    shown = sorted(k.display_name for k in kits)
    assert shown == ["Rock", "a/kit.sfz", "b/kit.sfz", "c/kit.sfz"]
    assert all("3 kits are named 'kit.sfz'" in k.warnings[0] for k in kits if k.format == "sfz")

    assert main(["kits", "--kit-dir", str(tmp_path / "kits"), "--out", str(tmp_path / "r")]) == 0
    printed = capsys.readouterr().out
    assert "4 kits read" in printed and "3 kits are named 'kit.sfz'" in printed
    assert sorted(r["kit"] for r in _rows(tmp_path / "r" / "kits.csv")) == shown
    # A kit folder shipping the kit twice (drumkit.xml and an .sfz) is read once;
    # the other file is named as not read, with the reason.
    write_sfz_kit(tmp_path / "kits" / "Rock", "Rock.sfz")
    kits, errors = load_kits([tmp_path / "kits"])
    assert len(kits) == 4
    assert [(Path(f).name, "drumkit.xml" in reason) for f, reason in errors] == [("Rock.sfz", True)]


def test_a_kit_dir_at_a_kit_folder_reads_that_kit_and_an_empty_one_says_so(tmp_path, capsys):
    write_hydrogen_kit(tmp_path / "Rock")
    write_sfz_kit(tmp_path / "Mine")
    for folder in ("Rock", "Mine"):
        assert main(["kits", "--kit-dir", str(tmp_path / folder)]) == 0
        assert "1 kits read" in capsys.readouterr().out
    (tmp_path / "empty").mkdir()
    assert main(["kits", "--kit-dir", str(tmp_path / "empty")]) == 2
    err = capsys.readouterr().err
    assert f"--kit-dir {tmp_path / 'empty'}: no kit found" in err and "kit.toml" in err


def test_a_missing_kit_path_entry_is_an_error_naming_it(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ADTOS_KIT_PATH", str(tmp_path / "nonexistent"))
    with pytest.raises(KitError, match=f"ADTOS_KIT_PATH.*{tmp_path / 'nonexistent'}"):
        load_kits()
    assert main(["kits"]) == 2
    assert str(tmp_path / "nonexistent") in capsys.readouterr().err


# -- one bad sample fails its kit, not the listing --------------------------------------------

def test_kits_check_reports_an_unreadable_or_empty_sample_as_that_kits_failure(tmp_path, capsys):
    kits = tmp_path / "kits"
    write_hydrogen_kit(kits / "Good")
    write_hydrogen_kit(kits / "Empty")
    (kits / "Empty" / "snare_a.flac").write_bytes(b"")
    write_hydrogen_kit(kits / "Garbage")
    (kits / "Garbage" / "tom.flac").write_bytes(b"this is not audio at all" * 100)
    assert main(["kits", "--kit-dir", str(kits), "--check", "--out", str(tmp_path / "r")]) == 0
    printed = capsys.readouterr().out
    assert "snare_a.flac" in printed and "is empty" in printed
    assert "tom.flac" in printed and "cannot read sample file" in printed
    rows = {r["kit"]: r for r in _rows(tmp_path / "r" / "kits.csv")}
    assert rows["Good"]["check"] == "ok"
    assert "tom.flac" in rows["Garbage"]["check"]
    errors = _rows(tmp_path / "r" / "kit_errors.csv")
    assert [Path(e["file"]).parent.name for e in errors] == ["Empty"]


# -- SFZ: what a region claims ----------------------------------------------------------------

def test_an_sfz_tom_range_over_the_crash_key_leaves_the_crash_its_key(tmp_path):
    path = write_sfz_kit(tmp_path, toms="<group> group_label=tom\n"
                                        "<region> sample=tom.wav lokey=41 hikey=50\n")
    kit = read_kit(path, "sfz")
    assert kit.instrument_for(49).name == "crash"
    assert kit.instrument_for(49).layers[0].sample.name == "crash.wav"
    assert all(layer.sample.name == "tom.wav" for layer in kit.instrument_for(45).layers)
    assert any("key 49" in w and "crash" in w for w in kit.warnings), kit.warnings


def test_an_unclosed_sfz_header_is_named_as_such(tmp_path):
    path = write_sfz_kit(tmp_path)
    path.write_text(path.read_text().replace("<region> sample=crash.wav", "<region sample=crash.wav"))
    with pytest.raises(KitError, match=r"line \d+: header '<region' is not closed"):
        read_kit(path, "sfz")


# -- partial kits -----------------------------------------------------------------------------

def test_a_kick_snare_hat_kit_plays_with_toms_and_cymbals_from_another_kit(tmp_path):
    from adtos.presets.sampler import KitSampler
    from adtos.presets.library import LibraryReport, build_preset_library

    small = write_sfz_kit(tmp_path / "Small", "Small.sfz", pieces=("kick", "snare", "hat"))
    full = [write_sfz_kit(tmp_path / name, name=f"{name}.sfz") for name in ("FullA", "FullB")]
    report = LibraryReport()
    library = build_preset_library([], drums=12, other=0, seed=0, val_share=0.0, report=report,
                                   cache=None, progress=False, workers=1,
                                   kits=[small, *full])
    checks = {Path(name).name: check for name, _, _, check in report.sampled_checks}
    assert checks["Small.sfz"].missing_classes == ["TT", "CY"]
    with_small = [p for p in library if Path(p.source["kit"]).name == "Small.sfz"]
    assert with_small, "the partial kit was not used"
    for preset in with_small:  # the missing pieces come from a whole kit, and it says so
        assert {"toms", "cymbals"} <= set(preset.pieces)
        assert all(Path(preset.pieces[p]["kit"]).name in ("FullA.sfz", "FullB.sfz")
                   for p in ("toms", "cymbals"))
        assert "toms from" in preset.name and "cymbals from" in preset.name
    # Filled where no composite piece took their place, and the name says why.
    assert any("(the kit has none)" in p.name for p in with_small)
    import pretty_midi

    notes = pretty_midi.Instrument(0, is_drum=True)
    notes.notes += [pretty_midi.Note(100, n, 0.3 * i, 0.3 * i + 0.05)
                    for i, n in enumerate((36, 38, 42, 45, 49))]
    audio = KitSampler().render(with_small[0], notes, 1.8)
    for i in range(5):  # every piece sounds, toms and crash included
        assert abs(audio[int(0.3 * i * 44100):int((0.3 * i + 0.1) * 44100)]).max() > 0.01, i


def test_kits_check_calls_a_partial_kit_partial(tmp_path, capsys):
    write_sfz_kit(tmp_path / "Small", "Small.sfz", pieces=("kick", "snare", "hat"))
    assert main(["kits", "--kit-dir", str(tmp_path / "Small"), "--check"]) == 0
    assert "partial: no TT, CY (filled from another kit in a preset library)" in \
        capsys.readouterr().out


# -- a user kit in a library ------------------------------------------------------------------

TIMGM = Path(__import__("pretty_midi").__file__).parent / "TimGM6mb.sf2"


@pytest.fixture(scope="module")
def timgm_checks(tmp_path_factory) -> Path:
    """A kit-check cache holding TimGM6mb's kits, made once for this module's runs."""
    from adtos.presets.library import build_preset_library

    cache = tmp_path_factory.mktemp("timgm") / "cache.json"
    build_preset_library([TIMGM], drums=4, other=0, cache=cache, progress=False, kits=None)
    return cache


@pytest.fixture
def cache(tmp_path, timgm_checks) -> Path:
    import shutil

    return Path(shutil.copy(timgm_checks, tmp_path / "cache.json"))


@pytest.fixture
def kit_path_of(tmp_path, monkeypatch):
    """$ADTOS_KIT_PATH set to a folder of these tests' kits, and nothing else on the kit
    search path (this machine's Debian and bundled kits would make the runs slow)."""
    import adtos.kits.library as kit_library

    monkeypatch.setattr(kit_library, "DEBIAN_KIT_DIRS", ())
    monkeypatch.setattr(kit_library, "BUNDLED_KIT_DIR", tmp_path / "no-bundled-kits")

    def use(folder: Path) -> None:
        monkeypatch.setenv("ADTOS_KIT_PATH", str(folder))
    return use


def test_presets_take_a_kit_given_by_path_and_report_skipped_kits_as_kits(tmp_path, capsys,
                                                                          kit_path_of, cache,
                                                                          monkeypatch):
    from adtos.presets import load_presets
    from adtos.render.pipeline import check_soundfonts

    write_sfz_kit(tmp_path / "path_kits" / "OnPath", "OnPath.sfz")
    write_hydrogen_kit(tmp_path / "path_kits" / "Broken")
    (tmp_path / "path_kits" / "Broken" / "drumkit.xml").write_text("<drumkit_info><name>")
    kit_path_of(tmp_path / "path_kits")
    mine = write_sfz_kit(tmp_path / "my kits" / "Mine", "Mine.sfz")
    out = tmp_path / "lib" / "mine.jsonl"
    assert main(["presets", "--soundfont", str(TIMGM), "--sampled-kits", "--kit", str(mine),
                 "--drums", "16", "--other", "2", "--cache", str(cache),
                 "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    broken = tmp_path / "path_kits" / "Broken" / "drumkit.xml"
    assert f"skipped kit {broken}: " in printed and "skipped soundfont" not in printed
    rows = _rows(tmp_path / "lib" / "mine.kits.csv")
    assert [r["status"] for r in rows if r["soundfont"] == f"kit:{broken}"][0].startswith(
        "skipped: ")
    library = load_presets(out)
    by_path = [p for p in library if p.sampled and p.source["kit"] == str(mine.resolve())]
    assert by_path, [p.source for p in library]
    monkeypatch.delenv("ADTOS_KIT_PATH")  # render needs no environment for a --kit kit
    check_soundfonts(by_path)


def test_soundfonts_given_say_that_the_search_path_kits_are_left_out(tmp_path, capsys,
                                                                      kit_path_of, cache):
    write_sfz_kit(tmp_path / "path_kits" / "OnPath", "OnPath.sfz")
    kit_path_of(tmp_path / "path_kits")
    assert main(["presets", "--soundfont", str(TIMGM), "--drums", "8", "--other", "2",
                 "--cache", str(cache), "--out", str(tmp_path / "l.jsonl")]) == 0
    assert "sampled kits of the kit search path: not used, as --soundfont is given" in \
        capsys.readouterr().out


def test_a_build_config_adds_kits_by_path(tmp_path):
    from adtos.build.config import load_config
    from adtos.build.sources import presets_step

    write_sfz_kit(tmp_path / "kits" / "Mine", "Mine.sfz")
    (tmp_path / "cfg.toml").write_text("""
[[libraries]]
builtin = "loop-pack"
[presets.generate]
drums = 16
other = 2
soundfonts = ["TimGM6mb.sf2"]
kits = ["kits/Mine/Mine.sfz"]
""")
    config = load_config(tmp_path / "cfg.toml")
    library = presets_step(config, tmp_path / "out")
    mine = str((tmp_path / "kits" / "Mine" / "Mine.sfz").resolve())
    assert any(p.sampled and p.source["kit"] == mine for p in library)
    (tmp_path / "bad.toml").write_text((tmp_path / "cfg.toml").read_text()
                                       .replace("kits/Mine/Mine.sfz", "kits/Gone.sfz"))
    from adtos.build.pipeline import preflight
    from adtos.errors import ConfigError

    with pytest.raises(ConfigError, match=r"\[presets.generate\].kits: 'kits/Gone.sfz': no such"):
        preflight(load_config(tmp_path / "bad.toml"))  # before any work


# -- the soundfont kit check is cached by content -------------------------------------------------

def test_the_soundfont_kit_check_is_cached_by_file_content(tmp_path):
    import json
    import os
    import shutil

    from adtos.presets.library import LibraryReport, build_preset_library

    first = tmp_path / "a" / "TimGM6mb.sf2"
    first.parent.mkdir()
    shutil.copy(TIMGM, first)
    cache = tmp_path / "cache.json"
    build_preset_library([first], drums=4, other=0, cache=cache, progress=False, workers=1,
                         kits=None)
    # Mark every cached verdict: a check read from the cache carries the mark.
    data = json.loads(cache.read_text())
    for key, check in data.items():
        if key != "files":
            for note in check["notes"].values():
                note["decay_db"] = 99.5
    cache.write_text(json.dumps(data))
    moved = tmp_path / "b" / "TimGM6mb.sf2"  # the same file reinstalled elsewhere, later
    moved.parent.mkdir()
    shutil.copy(first, moved)
    os.utime(moved, (first.stat().st_atime + 100, first.stat().st_mtime + 100))
    report = LibraryReport()
    build_preset_library([moved], drums=4, other=0, cache=cache, progress=False, workers=1,
                         kits=None, report=report)
    assert report.kit_checks
    assert all(n.decay_db == 99.5 for _, c in report.kit_checks for n in c.notes.values())

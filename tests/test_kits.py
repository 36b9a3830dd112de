"""Sampled kits: readers, the GM name table, bad input, and the Debian Hydrogen kits."""

from __future__ import annotations

from pathlib import Path

import pretty_midi
import pytest

from adtos.kits import KitError, classify_name, load_kits, read_kit
from adtos.kits.library import find_kits
from adtos.kits.names import assign_notes
from adtos.presets.model import Preset
from kit_fixtures import one_shot, write_hydrogen_kit

HYDROGEN_DIR = Path("/usr/share/hydrogen/data/drumkits")
SONIC_PI_DIR = Path("/usr/share/sonic-pi/samples")
needs_hydrogen = pytest.mark.skipif(not HYDROGEN_DIR.is_dir(),
                                    reason="Debian hydrogen-drumkits/hydrogen-data not installed")


# -- the name table ---------------------------------------------------------------------

@pytest.mark.parametrize("name, note", [
    ('Kick (Tama Superstar 22")', 36), ("BassDrum", 36), ("c3 - bass drum 1", 36),
    ("Pearl Snare", 38), ("Snare Rimshot", 40), ("Pearl Side Stick", 37), ("Rim Click", 37),
    ("Hand Clap", 39), ("Closed HH", 42), ("Hi-Hat Pedal (Paiste)", 44), ("Hat Open", 46),
    ("VariBreaks Hat 1 Op", 46), ("Hi Hat Opened", 46), ("Sabian Crash", 49), ("Ride", 51),
    ("Ride Bell", 53), ("ride-cup", 53), ("China (Paiste Alpha 18\")", 52),
    ("Zildjian Splash", 55), ("Cowbell", 56), ("Tambourine", 54),
])
def test_the_name_table_maps_drum_names_to_gm_notes(name, note):
    assert classify_name(name).notes[0] == note


@pytest.mark.parametrize("name", ["Snare Roll", "Sabian Hat Swish", "Zildjian Splash Choke",
                                  "Hat Low", "Djembe1 Slap", "27", "", "FX", "Drum 1"])
def test_names_that_are_not_one_gm_hit_stay_unmapped(name):
    assert not classify_name(name).mapped


def test_toms_are_ordered_low_to_high_and_share_the_six_tom_notes():
    names = ["Kick", "Tom 1", "Floor Tom", "Tom 2", "Snare"]
    notes, note_map = assign_notes(names)
    assert notes[2] == 41 and notes[3] == 45 and notes[1] == 48  # floor < tom 2 < tom 1
    assert {note_map[n] for n in (41, 43)} == {2} and {note_map[n] for n in (48, 50)} == {1}
    sized = ['Tom (12")', 'Tom (16")', 'Tom (13")']
    notes, _ = assign_notes(sized)
    assert notes == [48, 41, 45]  # larger is lower


def test_missing_vocabulary_notes_play_a_same_class_instrument():
    notes, note_map = assign_notes(["Kick", "Snare", "Closed HH", "Crash", "Semi-open hat"])
    assert note_map[35] == note_map[36] == 0
    assert note_map[46] == 4 and notes[4] == 46  # a semi-open hat is the open hat when alone
    assert note_map[44] == 2 and note_map[57] == 3
    _, with_open = assign_notes(["Kick", "Snare", "Open HH", "Semi-open hat"])
    assert with_open[46] == 2  # the real open hat wins; the semi-open one is an alternate


# -- readers ------------------------------------------------------------------------------

def test_hydrogen_kit_layers_licence_and_choke(tmp_path):
    kit = read_kit(write_hydrogen_kit(tmp_path / "k"), "hydrogen")
    assert (kit.name, kit.licence, kit.author, kit.kind) == ("TestKit", "CC0", "Test Author", "drums")
    kick = kit.instrument_for(36)
    assert [(l.lo_vel, l.hi_vel) for l in kick.layers] == [(0, 63), (64, 127)]
    assert kit.instrument_for(38).name == "Snare" and len(kit.instrument_for(38).layers) == 2
    assert kit.instrument_for(46).choked_by == ("hihat",)  # default hi-hat choke
    assert kit.instrument_for(42).choke_group == "hihat"
    assert {i.gm_note for i in kit.instruments} == {36, 38, 42, 46, 41, 49}
    assert {kit.notes[n] for n in (41, 43, 45, 47, 48, 50)} == {4}  # one tom plays all six


def test_hydrogen_kit_with_one_filename_per_instrument(tmp_path):
    kit = read_kit(write_hydrogen_kit(tmp_path / "k", old_layout=True), "hydrogen")
    assert all(len(i.layers) == 1 and (i.layers[0].lo_vel, i.layers[0].hi_vel) == (0, 127)
               for i in kit.instruments)
    assert kit.instrument_for(36).layers[0].sample.name == "kick_hard.flac"


def test_sfz_kit(tmp_path):
    for name, freq in (("kick1.wav", 100), ("kick2.wav", 150), ("sn_a.wav", 200),
                       ("sn_b.wav", 300), ("hh.wav", 0), ("oh.wav", 0)):
        one_shot(tmp_path / "samples" / name, freq, noise=not freq)
    (tmp_path / "kit.sfz").write_text("""
// a drum kit as libraries write them
#define $KICK 36
<control> default_path=samples/
<global> amp_veltrack=50
<group> group_label=Kick key=$KICK
<region> sample=kick1.wav lovel=1 hivel=64
<region> sample=kick2.wav lovel=65 hivel=127 volume=-6
<group> key=d1 seq_length=2 /* snare, round robin */
<region> sample=sn_a.wav seq_position=1
<region> sample=sn_b.wav seq_position=2 tune=-50
#include "hats.sfz"
""")
    (tmp_path / "hats.sfz").write_text("""
<group> group=1 key=42 region_label=Closed Hat
<region> sample=hh.wav
<group> group=2 off_by=1 key=a#2 region_label=Open Hat loop_mode=one_shot
<region> sample=oh.wav
""")
    kit = read_kit(tmp_path / "kit.sfz", "sfz")
    kick, snare = kit.instrument_for(36), kit.instrument_for(38)
    assert kick.name == "Kick" and [(l.lo_vel, l.hi_vel) for l in kick.layers] == [(1, 64), (65, 127)]
    assert kick.layers[1].gain == pytest.approx(10 ** (-6 / 20))
    assert kick.layers[0].velocity_exponent == pytest.approx(1.0)  # amp_veltrack 50 %
    assert snare.name == "sn_a" and snare.gm_note == 38  # no label: the key says snare
    assert [l.seq_position for l in snare.layers] == [1, 2]
    assert snare.layers[1].pitch == pytest.approx(-0.5)
    assert kit.instrument_for(46).choked_by == ("1",) and kit.instrument_for(42).choke_group == "1"


def test_folder_kit_from_sonic_pi_samples(tmp_path):
    if not SONIC_PI_DIR.is_dir():
        pytest.skip("Debian sonic-pi-samples not installed")
    (tmp_path / "kit.toml").write_text(f"""
name = "Sonic Pi"
licence = "CC0-1.0"
sample_dir = "{SONIC_PI_DIR}"
[[instrument]]
name = "Kick"
samples = ["drum_bass_soft.flac", "drum_bass_hard.flac"]
[[instrument]]
name = "Snare"
samples = ["drum_snare_soft.flac", "drum_snare_hard.flac"]
[[instrument]]
name = "Closed hat"
samples = ["drum_cymbal_closed.flac"]
[[instrument]]
name = "Pedal hat"
samples = ["drum_cymbal_pedal.flac"]
[[instrument]]
name = "Open hat"
samples = ["drum_cymbal_open.flac"]
[[instrument]]
name = "Tom"
note = 45
samples = ["drum_tom_mid_soft.flac", "drum_tom_mid_hard.flac"]
[[instrument]]
name = "Crash"
samples = ["drum_cymbal_soft.flac", "drum_cymbal_hard.flac"]
""")
    kit = read_kit(tmp_path / "kit.toml", "folder")
    assert kit.licence == "CC0-1.0" and kit.layers == 11
    assert [(l.lo_vel, l.hi_vel) for l in kit.instrument_for(36).layers] == [(0, 63), (64, 127)]
    assert kit.instrument_for(50).name == "Tom" and kit.instrument_for(46).choked_by == ("hihat",)


# -- bad input: a clear message naming the file; the kit is skipped, the rest loads -----------

def bad_kits(tmp_path: Path) -> dict[str, str]:
    """A folder of kits, all bad but one; kit name -> words the error must contain."""
    write_hydrogen_kit(tmp_path / "Good")
    write_hydrogen_kit(tmp_path / "Corrupt")
    (tmp_path / "Corrupt" / "drumkit.xml").write_text("<drumkit_info><name>x</name><instrumentList>")
    write_hydrogen_kit(tmp_path / "NoSample")
    (tmp_path / "NoSample" / "kick_hard.flac").unlink()
    write_hydrogen_kit(tmp_path / "NoKick", skip=("Kick",))
    write_hydrogen_kit(tmp_path / "NoSnare", skip=("Snare",))
    one_shot(tmp_path / "sfz" / "a.wav", 100)
    (tmp_path / "filtered.sfz").write_text("<region> sample=sfz/a.wav key=36 cutoff=800\n")
    return {"Corrupt": "not a readable drumkit.xml", "NoSample": "kick_hard.flac",
            "NoKick": "no kick", "NoSnare": "no snare", "filtered.sfz": "opcode 'cutoff'"}


def test_bad_kits_are_skipped_with_a_message_naming_the_file(tmp_path):
    expected = bad_kits(tmp_path)
    kits, errors = load_kits([tmp_path])
    assert [k.name for k in kits] == ["TestKit"] and kits[0].path.parent.name == "Good"
    assert len(errors) == len(expected)
    for path, reason in errors:
        name = Path(path).name if path.endswith(".sfz") else Path(path).parent.name
        assert name in reason or Path(path).name in reason
        assert expected[name] in reason, reason
        assert str(path) in reason  # the message names the file


def test_a_missing_sample_outside_the_vocabulary_drops_only_that_instrument(tmp_path):
    path = write_hydrogen_kit(tmp_path / "k")
    text = path.read_text().replace(
        "</instrumentList>", "<instrument><id>9</id><name>Cowbell</name><layer><filename>"
        "cowbell.flac</filename><min>0</min><max>1</max></layer></instrument></instrumentList>")
    path.write_text(text)
    kit = read_kit(path, "hydrogen")
    assert "Cowbell" not in [i.name for i in kit.instruments]
    assert len(kit.warnings) == 1 and "cowbell.flac" in kit.warnings[0]


def test_a_percussion_kit_is_not_a_drum_kit(tmp_path):
    folder = tmp_path / "Hands"
    one_shot(folder / "d.flac", 300)
    (folder / "drumkit.xml").write_text(
        "<drumkit_info><name>Hands</name><instrumentList>" + "".join(
            f"<instrument><id>{i}</id><name>{n}</name><filename>d.flac</filename></instrument>"
            for i, n in enumerate(["Djembe1 Slap", "Djembe1 Bass", "Bongo Hi", "Cajon Thump"]))
        + "</instrumentList></drumkit_info>")
    kit = read_kit(folder / "drumkit.xml", "hydrogen")
    assert kit.kind == "percussion"
    from adtos.presets.sampler import KitSampler
    from adtos.presets.kitcheck import kit_preset

    with pytest.raises(KitError, match="percussion kit, not a drum kit"):
        KitSampler().render(kit_preset(str(folder), "hydrogen"), pretty_midi.Instrument(0), 1.0)
    with pytest.raises(ValueError, match="drums"):
        Preset(role="piano", source={"type": "kit", "format": "hydrogen", "kit": "Hands"})


def test_kit_source_in_the_preset_model():
    preset = Preset(role="drums", source={"type": "kit", "format": "hydrogen", "kit": "GMRockKit",
                                          "instruments": {36: "Kick"}})
    assert preset.sampled and preset.soundfonts() == [] and preset.kits() == [("hydrogen", "GMRockKit")]
    assert preset.source["instruments"] == {"36": "Kick"} and preset.source["hit_gain_db"] == 1.0
    again = Preset.from_json(preset.to_json())
    assert again.id == preset.id
    with pytest.raises(ValueError, match="format"):
        Preset(role="drums", source={"type": "kit", "format": "gig", "kit": "x"})
    with pytest.raises(ValueError, match="unknown kit source fields"):
        Preset(role="drums", source={"type": "kit", "format": "sfz", "kit": "x", "cutoff": 1})
    with pytest.raises(ValueError, match="needs 'kit'"):
        Preset(role="drums", source={"type": "kit", "format": "sfz", "kit": "x"},
               pieces={"snare": {"soundfont": "FluidR3_GM.sf2", "bank": 128, "program": 0}})


# -- the Debian Hydrogen kits -------------------------------------------------------------------

@needs_hydrogen
def test_every_installed_hydrogen_kit_loads_and_percussion_kits_are_kept_apart():
    kits, errors = load_kits([HYDROGEN_DIR])
    assert not errors, errors
    assert len(kits) == len(find_kits([HYDROGEN_DIR])) >= 16
    kinds = {k.path.parent.name: k.kind for k in kits}
    assert kinds["Gimme A Hand 1.0"] == kinds["circAfrique v4"] == "percussion"
    assert sum(kind == "drums" for kind in kinds.values()) == len(kits) - 2
    forzee = next(k for k in kits if k.path.parent.name == "ForzeeStereo")
    assert forzee.layers == 124 and "GPL" in forzee.licence
    assert forzee.instrument_for(44).name.startswith("Hi-Hat Pedal")
    assert all(k.licence for k in kits)  # every kit's licence is known for the dataset card


@needs_hydrogen
def test_the_kit_check_passes_a_recorded_kit_and_excludes_one_without_cymbals():
    from adtos.presets.sampler import KitSampler
    from adtos.presets.kitcheck import check_sampled_kit

    sampler = KitSampler()
    rock = check_sampled_kit(read_kit(HYDROGEN_DIR / "GMRockKit" / "drumkit.xml", "hydrogen"),
                             "GMRockKit", sampler)
    assert rock.usable and not rock.failures()
    breaks = check_sampled_kit(read_kit(HYDROGEN_DIR / "VariBreaks" / "drumkit.xml", "hydrogen"),
                               "VariBreaks", sampler)
    assert breaks.missing_classes == ["CY"]


def test_the_kits_command_reports_mapping_licences_and_skipped_kits(tmp_path, capsys):
    import csv

    from adtos.cli import main

    bad_kits(tmp_path / "kits")
    assert main(["kits", "--kit-dir", str(tmp_path / "kits"), "--check",
                 "--out", str(tmp_path / "report")]) == 0
    printed = capsys.readouterr().out
    assert "1 kits read (1 drum kits, 0 percussion), 5 skipped" in printed
    assert "opcode 'cutoff'" in printed
    kits = list(csv.DictReader(open(tmp_path / "report" / "kits.csv")))
    assert [(k["kit"], k["licence"], k["check"]) for k in kits] == [("Good", "CC0", "ok")]
    rows = list(csv.DictReader(open(tmp_path / "report" / "instruments.csv")))
    assert {r["instrument"]: r["gm_note"] for r in rows}["Open HH"] == "46"
    assert len(list(csv.DictReader(open(tmp_path / "report" / "kit_errors.csv")))) == 5


def test_hydrogen_pitch_offset_and_apply_velocity(tmp_path):
    path = write_hydrogen_kit(tmp_path / "k")
    path.write_text(path.read_text().replace(
        "<name>Crash</name>", "<name>Crash</name><pitchOffset>-2</pitchOffset>"
        "<applyVelocity>false</applyVelocity>"))
    kit = read_kit(path, "hydrogen")
    crash, kick = kit.instrument_for(49).layers[0], kit.instrument_for(36).layers[0]
    assert (crash.pitch, crash.velocity_exponent) == (-2.0, 0.0)
    assert (kick.pitch, kick.velocity_exponent) == (0.0, 1.0)

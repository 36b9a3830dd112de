"""The build config: schema, defaults, one error listing every problem, round trip."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from adtos.build.config import config_to_toml, load_config
from adtos.errors import AdtosError

REPO_ROOT = Path(__file__).resolve().parents[1]

GOOD = """
[dataset]
name = "tiny"
seed = 3

[[libraries]]
builtin = "loop-pack"

[[libraries]]
index = "loops.parquet"

[presets]
library = "presets.jsonl"

[tracks]
train = 4
val = 1
duration = 8
voices = 2
"""


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "loops.parquet").write_bytes(b"")
    (tmp_path / "presets.jsonl").write_text("")
    path = tmp_path / "build.toml"
    path.write_text(text)
    return path


def problems_of(tmp_path: Path, text: str) -> str:
    with pytest.raises(AdtosError) as caught:
        load_config(write(tmp_path, text))
    return str(caught.value)


def test_good_config_fills_defaults_and_resolves_paths(tmp_path):
    config = load_config(write(tmp_path, GOOD))
    assert config.dataset.seed == 3 and config.dataset.sample_rate == 44100
    assert config.tracks.duration == 8.0 and isinstance(config.tracks.duration, float)
    assert config.voices == ("drums", "piano")
    assert config.libraries[0].builtin == "loop-pack"
    assert config.resolve(config.libraries[1].index) == (tmp_path / "loops.parquet").resolve()
    assert config.render.target_lufs == -23.0


def test_unknown_key_suggests_the_nearest(tmp_path):
    message = problems_of(tmp_path, GOOD.replace("duration = 8", "duraton = 8"))
    assert "build.toml: [tracks].duraton: unknown key; did you mean 'duration'?" in message


def test_unknown_section_suggests_the_nearest(tmp_path):
    message = problems_of(tmp_path, GOOD.replace("[dataset]", "[datset]"))
    assert "[datset]: unknown section; did you mean 'dataset'?" in message


def test_every_problem_is_listed_at_once(tmp_path):
    text = (GOOD.replace("seed = 3", "seed = \"three\"")
            .replace("voices = 2", "voices = 7")
            .replace("duration = 8", "duration = -1")
            .replace("[tracks]", "[tracks]\nquantize = \"yes\""))
    message = problems_of(tmp_path, text)
    assert message.startswith("4 problems")
    assert "[dataset].seed: expected an integer >= 0, got 'three'" in message
    assert "[tracks].voices: expected an integer in [1, 4], got 7" in message
    assert "[tracks].duration: expected a number in (0, 3600], got -1" in message
    assert "[tracks].quantize: expected true or false, got 'yes'" in message


def test_bool_is_not_an_integer(tmp_path):
    message = problems_of(tmp_path, GOOD.replace("train = 4", "train = true"))
    assert "[tracks].train: expected an integer >= 0, got true" in message


def test_choices_are_named(tmp_path):
    message = problems_of(tmp_path, GOOD.replace('name = "tiny"', 'format = "mp3"'))
    assert "[dataset].format: expected one of 'flac', 'wav', got 'mp3'" in message


def test_missing_paths_are_reported_with_where_they_were_looked_for(tmp_path):
    text = GOOD.replace('index = "loops.parquet"', 'index = "nowhere.parquet"') \
        + '\n[[libraries]]\npath = "no_such_folder"\nkind = "groove"\n'
    message = problems_of(tmp_path, text)
    assert "[libraries[1]].index: expected an existing .parquet file, got 'nowhere.parquet'" \
        in message
    assert "[libraries[2]].path: expected an existing folder, got 'no_such_folder'" in message
    assert str(tmp_path / "no_such_folder") in message


def test_library_needs_exactly_one_source(tmp_path):
    message = problems_of(tmp_path, GOOD.replace('builtin = "loop-pack"',
                                                 'builtin = "loop-pack"\nindex = "loops.parquet"'))
    assert "[libraries[0]]: expected exactly one of path, index, builtin, got index, builtin" \
        in message


def test_presets_need_library_or_generate(tmp_path):
    message = problems_of(tmp_path, GOOD.replace('library = "presets.jsonl"', ""))
    assert "[presets]: expected exactly one of library" in message
    ok = load_config(write(tmp_path, GOOD.replace(
        'library = "presets.jsonl"', "generate = { drums = 4, other = 2 }")))
    assert ok.presets.generate.drums == 4 and ok.presets.generate.val_share == 0.1
    message = problems_of(tmp_path, GOOD.replace('library = "presets.jsonl"',
                                                 "generate = { drum = 4 }"))
    assert "[presets.generate].drum: unknown key; did you mean 'drums'?" in message


def test_not_toml_and_missing_file(tmp_path):
    with pytest.raises(AdtosError, match="not valid TOML"):
        load_config(write(tmp_path, "[dataset\n"))
    with pytest.raises(AdtosError, match="config file not found"):
        load_config(tmp_path / "absent.toml")


def test_overrides_are_validated_like_the_file(tmp_path):
    config = load_config(write(tmp_path, GOOD), overrides={"tracks.train": 9})
    assert config.tracks.train == 9
    with pytest.raises(AdtosError, match=r"\[tracks\].train: expected an integer >= 0, got -2"):
        load_config(write(tmp_path, GOOD), overrides={"tracks.train": -2})


def test_resolved_config_round_trips_with_paths_relative_to_its_new_folder(tmp_path):
    config = load_config(write(tmp_path, GOOD))
    out = tmp_path / "out" / "ds"
    out.mkdir(parents=True)
    text = config_to_toml(config, relative_to=out)
    assert str(tmp_path) not in text
    assert 'index = "../../loops.parquet"' in text
    (out / "config.toml").write_text(text)
    (out / "presets.jsonl").write_text("")  # the build's copy of the library
    again = load_config(out / "config.toml")
    assert again.tracks == config.tracks and again.dataset == config.dataset
    assert again.resolve(again.libraries[1].index) == config.resolve(config.libraries[1].index)
    assert tomllib.loads(text)["tracks"]["voices"] == 2


def test_resolved_config_names_the_folders_own_presets_and_indexes(tmp_path):
    # A dataset folder must rebuild from itself: its presets.jsonl and index/ copies,
    # not the MIDI folders and preset library it was first built from.
    (tmp_path / "midi").mkdir()
    (tmp_path / "lib.jsonl").write_text("")
    config = load_config(write(tmp_path, """
[dataset]
name = "x"
[[libraries]]
path = "midi"
kind = "groove"
[presets]
library = "lib.jsonl"
"""))
    out = tmp_path / "out" / "ds"
    text = config_to_toml(config, relative_to=out, index_dir=out / "index")
    written = tomllib.loads(text)
    assert written["presets"]["library"] == "presets.jsonl"
    assert written["libraries"][0]["index"] == "index/midi.parquet"
    assert "path" not in written["libraries"][0] and written["libraries"][0]["kind"] == "groove"


BUILD_CONFIGS = sorted(["demo.toml", "adtos.toml"]
                       + [p.name for p in (REPO_ROOT / "configs").glob("ablation_*.toml")])


@pytest.mark.parametrize("name", BUILD_CONFIGS)
def test_example_configs_parse(name):
    """Every example config passes the schema (paths to ../shared may be absent)."""
    path = REPO_ROOT / "configs" / name
    try:
        load_config(path)
    except AdtosError as error:
        lines = [line for line in str(error).splitlines()[1:]
                 if "expected an existing" not in line]
        assert not lines, str(error)


def test_a_misspelt_choice_gets_the_nearest(tmp_path):
    text = GOOD + '\n[[libraries]]\nindex = "loops.parquet"\nkind = "grove"\nname = "other"\n'
    message = problems_of(tmp_path, text)
    assert "[libraries[2]].kind: expected one of 'auto', 'groove', 'pop909', 'generic', " \
        "got 'grove'; did you mean 'groove'?" in message


MIX_ABLATIONS = {"ablation_mix_lead.toml": {"tracks.lead"},
                 "ablation_mix_bridge.toml": {"tracks.bridge"},
                 "ablation_mix_balance.toml": {"render.balance_db"},
                 "ablation_mix_master.toml": {"render.master"},
                 "ablation_mix_flat.toml": {"tracks.lead", "tracks.bridge", "render.balance_db",
                                            "render.master"}}


@pytest.mark.parametrize("name, levers", sorted(MIX_ABLATIONS.items()))
def test_each_mix_ablation_switches_off_its_levers_alone(name, levers):
    """Against adtos.toml, an ablation config differs in its name and its levers, all off."""
    import dataclasses

    from adtos.build.config import RenderSection, TracksSection

    def settings(path):  # the schema's defaults filled in (the data paths need not exist here)
        raw = tomllib.loads(path.read_text())
        sections = {"tracks": TracksSection(**raw["tracks"]),
                    "render": RenderSection(**raw.get("render", {}))}
        return {f"{name}.{key}": value for name, section in sections.items()
                for key, value in dataclasses.asdict(section).items()}

    base = settings(REPO_ROOT / "configs" / "adtos.toml")
    ablation = settings(REPO_ROOT / "configs" / name)
    assert {key for key in base if base[key] != ablation[key]} == levers
    assert all(not ablation[lever] for lever in levers)  # false, or [] for the balance
    assert all(base[lever] for lever in levers)


def test_velocity_curve_ablation_changes_only_the_preset_library():
    """configs/ablation_velocity_curve.toml is adtos.toml with the library whose soundfont
    kits play the SF2 default velocity curve (tests/test_presets.py checks that library)."""
    base = tomllib.loads((REPO_ROOT / "configs" / "adtos.toml").read_text())
    ablation = tomllib.loads((REPO_ROOT / "configs" / "ablation_velocity_curve.toml").read_text())
    assert ablation["presets"] == {"library": "../presets/default_sf2_velocity.jsonl"}
    assert base["presets"] == {"library": "../presets/default.jsonl"}
    for section in ("dataset", "presets"):
        base.pop(section), ablation.pop(section)
    assert ablation == base


def test_the_cymbals_lever_is_read_and_a_bad_range_named(tmp_path):
    config = load_config(write(tmp_path, GOOD + "\n[render]\ncymbals_db = [-12.0, 0.0]\n"))
    options = config.render.mix_options()
    assert options.cymbals_db == (-12.0, 0.0) and options.cymbals_shelf_db is None
    message = problems_of(tmp_path, GOOD + "\n[render]\ncymbals_shelf_db = [0.0, -9.0]\n")
    assert "build.toml: [render].cymbals_shelf_db: expected [low, high]" in message
    message = problems_of(tmp_path, GOOD + "\n[render]\ncymbals_db = [-3.0]\n")
    assert "[render].cymbals_db and cymbals_shelf_db: expected [] or [low, high]" in message

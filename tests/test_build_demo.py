"""The demo driver: every command it runs is one the installed CLI accepts."""

from __future__ import annotations

from adtos.build.config import load_config
from adtos.cli import build_parser
from adtos.demo import DEMO_CONFIG, available_commands, demo_steps


def test_demo_config_is_small_and_valid():
    config = load_config(DEMO_CONFIG)
    assert config.libraries[0].builtin == "loop-pack"  # no download needed
    assert config.tracks.train + config.tracks.val <= 12
    assert config.presets.generate is not None and config.presets.generate.drums <= 32


def test_every_demo_step_parses(tmp_path):
    commands = available_commands()
    assert "build" in commands and "subset" in commands
    parser = build_parser()
    steps = demo_steps(tmp_path, tmp_path / "dataset", commands)
    for name, argv in steps:
        args = parser.parse_args(argv)
        assert args.func is not None, name


def test_demo_refuses_a_missing_config(tmp_path, capsys):
    from adtos.demo import main

    assert main(["--out", str(tmp_path), "--config", str(tmp_path / "none.toml")]) == 2
    assert "config not found" in capsys.readouterr().err
    assert not (tmp_path / "dataset").exists()

"""The `adtos` dispatcher: every command is found, and only its own module is imported."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from adtos.cli import COMMAND_MODULES, STAGE_CLI_MODULES, build_parser, main


def registered_commands() -> dict[str, str]:
    """command -> module, from what each stage module actually registers."""
    import argparse
    import importlib

    found = {}
    for name in STAGE_CLI_MODULES:
        parser = argparse.ArgumentParser()
        subparsers = parser.add_subparsers()
        importlib.import_module(name).register(subparsers)
        found.update({command: name for command in subparsers.choices})
    return found


def test_command_table_matches_what_the_modules_register():
    assert COMMAND_MODULES == registered_commands()


@pytest.mark.parametrize("command", sorted(COMMAND_MODULES))
def test_each_command_parses_with_its_module_alone(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        build_parser(command).parse_args([command, "--help"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.startswith(f"usage: adtos {command}")


# Positionals of adtos/transcriber/cli.py, which another change is rewriting
# (issue #15, "The transcriber"): remove these when they get help.
NO_HELP_YET: set[tuple[str, str]] = set()


@pytest.mark.parametrize("command", sorted(COMMAND_MODULES))
def test_every_option_has_help_that_the_help_text_shows(command):
    import argparse

    parser = build_parser(command)
    [subparsers] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    sub = subparsers.choices[command]
    text = " ".join(sub.format_help().split())  # argparse wraps lines
    for action in sub._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        name = action.option_strings[-1] if action.option_strings else action.metavar or action.dest
        if (command, action.dest) in NO_HELP_YET:
            continue
        assert action.help and action.help != argparse.SUPPRESS, f"{command} {name}: no help"
        assert name in text
        assert " ".join(action.help.split()).split("%(")[0][:30] in text, f"{command} {name}"


def test_a_command_imports_only_its_own_stage():
    # In a fresh interpreter: this test process has imported every stage already.
    probe = ("import sys, runpy; sys.argv = ['adtos', 'fit', '--help']\n"
             "try:\n    runpy.run_module('adtos', run_name='__main__')\n"
             "except SystemExit:\n    pass\n"
             "print(sorted(m for m in sys.modules if m.endswith('.cli') and m.startswith('adtos')))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "['adtos.cli', 'adtos.scaling.cli']"


def test_unknown_command_still_lists_every_command(capsys):
    with pytest.raises(SystemExit):
        main(["no-such-command"])
    err = capsys.readouterr().err
    assert "invalid choice" in err and "render" in err and "fit" in err


def test_library_log_messages_reach_stderr_under_the_command_name(capsys):
    import logging

    from adtos.cli import log_to_stderr

    logger = logging.getLogger("adtos")
    before = logger.handlers[:], logger.level, logger.propagate
    with log_to_stderr("build"):
        logging.getLogger("adtos.build.sources").info("indexing loops/groove (groove)")
        logging.getLogger("adtos.build.sources").debug("not shown")
        logging.getLogger("adtos.build.sources").warning("loops/groove changed")
    assert capsys.readouterr().err == ("[adtos build] indexing loops/groove (groove)\n"
                                       "[adtos build] warning: loops/groove changed\n")
    # Afterwards a Python caller's logging is as it was (caplog and the like still see adtos).
    assert (logger.handlers, logger.level, logger.propagate) == before


@pytest.mark.parametrize("argv, usage, suggestion", [
    (["assemble", "--index", "i", "--out", "o", "--trakcs", "10"], "usage: adtos assemble",
     "--trakcs: did you mean --tracks?"),
    # Prefixes are not options: argparse would have read --track as --tracks.
    (["assemble", "--index", "i", "--out", "o", "--track", "10"], "usage: adtos assemble",
     "--track: did you mean --tracks?"),
    (["sweep", "--out", "o", "--max-step", "3"], "usage: adtos sweep",
     "--max-step: did you mean --max-steps?"),
    (["fit", "t.csv", "--out", "o", "--bootstap", "3"], "usage: adtos fit",
     "--bootstap: did you mean --bootstrap?"),
])
def test_a_mistyped_option_shows_its_commands_usage_and_the_nearest_option(argv, usage, suggestion,
                                                                           capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert error.startswith(usage) and "unrecognized arguments" in error and suggestion in error


def test_no_parser_accepts_prefixes():
    parser = build_parser()
    commands = next(a.choices for a in parser._actions if hasattr(a, "choices") and a.choices)
    assert not parser.allow_abbrev
    assert all(not command.allow_abbrev for command in commands.values())


def test_sweep_blames_the_command_line_for_a_bad_option(tmp_path, capsys):
    config = Path(__file__).resolve().parents[1] / "configs" / "sweep_demo.toml"
    assert main(["sweep", str(config), "--out", str(tmp_path),
                 "--option", "max_step=3"]) == 2
    error = capsys.readouterr().err
    assert "--option 'max_step=3': 'max_step' is not a training option" in error
    assert "did you mean max_steps?" in error and "sweep_demo.toml" not in error

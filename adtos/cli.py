"""`adtos <command>`: a thin layer over the stage functions.

Each stage package has a `cli` module with `register(subparsers)`, which adds
its commands. Heavy imports (torch, fluidsynth) stay inside the command
functions so that `adtos --help` is instant.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import errno
import importlib
import logging
import sys
from pathlib import Path

from adtos import __version__
from adtos.errors import AdtosError
from adtos.fileio import output_error

# Order is the order of the pipeline, which is also the order of `--help`.
STAGE_CLI_MODULES = (
    "adtos.index.cli",
    "adtos.assemble.cli",
    "adtos.presets.cli",
    "adtos.presets.kits_cli",
    "adtos.render.cli",
    "adtos.build.cli",
    "adtos.stats.cli",
    "adtos.transcriber.cli",
    "adtos.scaling.cli",
)


# The module that registers each command: `adtos render ...` imports the render
# CLI alone, where importing all eight stage packages cost 0.9 s per call.
# `adtos --help` still imports every module; tests/test_cli.py checks that this
# table names exactly the commands the modules register.
COMMAND_MODULES = {
    "index": "adtos.index.cli", "make-loops": "adtos.index.cli",
    "assemble": "adtos.assemble.cli",
    "presets": "adtos.presets.cli", "kits": "adtos.presets.kits_cli",
    "render": "adtos.render.cli",
    "build": "adtos.build.cli", "subset": "adtos.build.cli",
    "stats": "adtos.stats.cli",
    "train": "adtos.transcriber.cli", "evaluate": "adtos.transcriber.cli",
    "transcribe": "adtos.transcriber.cli",
    "sweep": "adtos.scaling.cli", "fit": "adtos.scaling.cli",
}


class CLIError(AdtosError):
    """A command-line argument the user can fix; printed without a traceback.

    Library code raises the errors of `adtos.errors`; this one is for the CLI modules.
    """


class ArgumentParser(argparse.ArgumentParser):
    """argparse without prefix matching: `--track` is not taken for `--tracks`, nor
    `--max-step` for `--max-steps`, so a typo fails instead of meaning something."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def unrecognized(self, extras: list[str]) -> None:
        """Exit with this parser's usage, naming the unknown options and the nearest known ones."""
        known = [option for action in self._actions for option in action.option_strings]
        lines = [f"unrecognized arguments: {' '.join(extras)}"]
        for extra in extras:
            if not extra.startswith("-"):
                continue
            name = extra.split("=", 1)[0]
            close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
            if close:
                lines.append(f"{name}: did you mean {close[0]}?")
        self.error("\n".join(lines))


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The `adtos` parser; with a known `command`, only the module that registers it."""
    parser = ArgumentParser(
        prog="adtos",
        description="Build synthetic drum-transcription datasets, train transcribers on them "
        "and measure how well they transfer to real music.",
    )
    parser.add_argument("--version", action="version", version=f"adtos {_version()}")
    # Every command's parser is an ArgumentParser too (no prefixes, suggestions).
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND",
                                       parser_class=ArgumentParser)
    modules = [COMMAND_MODULES[command]] if command in COMMAND_MODULES else STAGE_CLI_MODULES
    for module_name in modules:
        importlib.import_module(module_name).register(subparsers)
    return parser


def _version() -> str:
    return __version__


class _ConsoleHandler(logging.StreamHandler):
    """Writes through tqdm, so that a message logged while a progress bar is drawn
    (the CPU time estimate during training, a sweep's next run) lands on its own
    line and the bar is redrawn below it."""

    def emit(self, record: logging.LogRecord) -> None:
        from tqdm import tqdm  # only when a message is logged: `adtos --help` stays instant

        try:
            tqdm.write(self.format(record), file=self.stream)
        except Exception:
            self.handleError(record)


class _CommandFormatter(logging.Formatter):
    """`[adtos CMD] message`, and `[adtos CMD] warning: message` for warnings and up."""

    def __init__(self, command: str):
        super().__init__(f"[adtos {command}] %(message)s")
        self.command = command

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        if record.levelno >= logging.WARNING:
            prefix = f"[adtos {self.command}] "
            text = f"{prefix}{record.levelname.lower()}: {text[len(prefix):]}"
        return text


@contextlib.contextmanager
def log_to_stderr(command: str):
    """Inside the block, the library's `adtos.*` loggers show INFO and up on stderr as
    `[adtos CMD] …` (progress bars stay tqdm); the logger is restored afterwards, so
    that `main()` called from Python leaves the caller's logging as it found it."""
    logger = logging.getLogger("adtos")
    saved = logger.handlers[:], logger.level, logger.propagate
    handler = _ConsoleHandler(sys.stderr)
    handler.setFormatter(_CommandFormatter(command))
    logger.handlers[:] = [handler]
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        yield
    finally:
        logger.handlers[:], logger.level, logger.propagate = saved


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(argv[0] if argv else None)
    args, extras = parser.parse_known_args(argv)
    if extras:
        # Report an unknown option with the usage of the command it was given to
        # (argparse would print the top level's usage) and the nearest option.
        commands = next((action.choices for action in parser._actions
                         if isinstance(action, argparse._SubParsersAction)), {})
        command_parser = commands.get(getattr(args, "command", None), parser)
        (command_parser if isinstance(command_parser, ArgumentParser)
         else parser).unrecognized(extras)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        with log_to_stderr(args.command):
            result = args.func(args)
    except AdtosError as error:
        print(f"adtos {args.command}: error: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        message = describe_os_error(error)
        if message is None:
            raise
        print(f"adtos {args.command}: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"adtos {args.command}: interrupted; finished outputs are kept, rerun to resume",
              file=sys.stderr)
        return 130
    return int(result or 0)


def describe_os_error(error: OSError) -> str | None:
    """One line for an I/O error the user can fix (a folder that cannot be written, a
    full disk, a missing file), naming the path; None for anything else (a bug keeps
    its traceback)."""
    if error.filename is None:
        return None
    path = Path(error.filename)
    translated = output_error(error, path.parent if error.errno == errno.ENOSPC else path)
    if translated is not error:
        return str(translated)
    if error.errno in (errno.ENOENT, errno.ENOTDIR, errno.EISDIR, errno.ENAMETOOLONG):
        return f"{error.filename}: {error.strerror}"
    return None


if __name__ == "__main__":
    sys.exit(main())

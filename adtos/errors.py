"""The errors ADTOS raises for problems a user can fix.

A leaf module: every stage imports it and it imports nothing from ADTOS, so a
Python caller of `build_dataset()` can catch `AdtosError` without touching the
command line, and the CLI prints any `AdtosError` as one line without a
traceback.
"""

from __future__ import annotations


class AdtosError(Exception):
    """Base class: an error the user can fix (bad config, missing input, wrong folder)."""


class ConfigError(AdtosError):
    """A build config, option or input that does not fit what the stage expects."""


class MissingDependencyError(AdtosError):
    """An optional dependency (e.g. Ray) that this call needs is not installed."""


class OutputError(AdtosError, OSError):
    """An output that cannot be written: a read-only folder, a full disk.

    Also an OSError (with `errno` set), so code that handles I/O errors still
    catches it; its message names the folder and the cause in one line.
    """

    def __init__(self, message: str, errno: int | None = None) -> None:
        super().__init__(message)
        self.errno = errno

    def __str__(self) -> str:
        return str(self.args[0])


class FolderBusyError(AdtosError):
    """Another process is writing into the same output folder."""

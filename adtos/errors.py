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

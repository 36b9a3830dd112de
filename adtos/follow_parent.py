"""Imported first in the render pool's forkserver: the forkserver ends with the run.

The forkserver is started by `adtos.render.executors`, which names the run's
process id in the environment for the moment of the start. Without this, a
forkserver whose run was killed during its start-up lived on for the better
part of an hour. A module rather than a function, because a forkserver runs
nothing of ours but the imports of its preload list.
"""

from __future__ import annotations

import os

ENV = "ADTOS_FOLLOW_PID"

_run = os.environ.pop(ENV, None)
if _run and _run.isdigit():
    from adtos.workers import exit_with_parent

    exit_with_parent(int(_run))

"""Worker processes that end when the process that started them ends.

A pool worker blocks on its task queue, and it holds the write end of that
queue (and of the forkserver's "alive" pipe) itself, so it never sees the
queue close: after a `kill -9` of `adtos build` the workers, the forkserver
and the resource tracker lived on, and workers went on writing tracks into a
folder that a resumed run was writing too. `exit_with_parent` is the pool
initializer's first call; the worker then ends within a moment of its parent.

Two mechanisms, because either alone has a gap:
- Linux's parent-death signal (prctl PR_SET_PDEATHSIG) kills the worker from
  the kernel, even while it is inside a C call; but it follows the *direct*
  parent (for forkserver workers, the forkserver, not the run) and fires when
  the thread that forked it ends, not the process (the pools here are made
  by the main thread).
- a watcher thread blocks on a pidfd of the run's process (polls where pidfd
  is missing) and ends the worker when that process ends.
"""

from __future__ import annotations

import ctypes
import os
import select
import signal
import sys
import threading
import time
from pathlib import Path

PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
POLL_S = 0.5  # where pidfd_open is missing (Linux < 5.3, other systems)


def exit_with_parent(parent_pid: int) -> None:
    """Make this process end (SIGKILL) when process `parent_pid` ends.

    Call it first thing in a worker: if the parent is already gone, the worker
    ends here rather than after the work it was about to start.
    """
    _set_parent_death_signal(signal.SIGKILL)
    try:
        watched = os.pidfd_open(parent_pid)
    except ProcessLookupError:
        _end_now()
    except (AttributeError, OSError):
        watched = None
    threading.Thread(target=_watch, args=(parent_pid, watched), daemon=True,
                     name="adtos-exit-with-parent").start()


def _set_parent_death_signal(signum: int) -> None:
    if not sys.platform.startswith("linux"):
        return

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, int(signum), 0, 0, 0)
    except (OSError, AttributeError):
        pass  # the watcher thread still covers it


def _watch(parent_pid: int, watched: int | None) -> None:
    if watched is not None:
        poller = select.poll()  # not select(): it fails on descriptors above 1023
        poller.register(watched, select.POLLIN)
        poller.poll()  # readable once the process has ended
        _end_now()
    while True:
        try:
            os.kill(parent_pid, 0)
        except (ProcessLookupError, PermissionError):  # gone (or its pid reused by another user)
            _end_now()
        time.sleep(POLL_S)


def _end_now() -> None:
    # SIGKILL rather than sys.exit: no atexit handlers, no flushing of a
    # half-written file, no waiting on a queue whose reader is dead.
    os.kill(os.getpid(), signal.SIGKILL)


# Seeing the process tree (Linux /proc): how the fault suite (tests/test_faults_*)
# and benchmarks/bench_faults.py check that no worker outlives its run.
PROC = Path("/proc")


def _stat(pid: int) -> list[str] | None:
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # comm (field 2) may hold spaces and parentheses: split after its last ')'.
    return text[text.rindex(")") + 2:].split()


def alive(process: tuple[int, str]) -> bool:
    """Whether (pid, start time) still runs (a zombie has ended)."""
    pid, start = process
    fields = _stat(pid)
    return fields is not None and fields[19] == start and fields[0] != "Z"


def descendants(root: int) -> set[tuple[int, str]]:
    """(pid, start time) of every process below `root`, found through parent ids (Linux only)."""
    children: dict[int, list[int]] = {}
    starts: dict[int, str] = {}
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        fields = _stat(int(entry.name))
        if fields is None:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
        starts[int(entry.name)] = fields[19]
    found, stack = set(), list(children.get(root, []))
    while stack:
        pid = stack.pop()
        found.add((pid, starts[pid]))
        stack.extend(children.get(pid, []))
    return found

"""fileio.folder_lock: one writer per output folder, released by the kernel when its
holder dies, shared with the holder's pool workers until they have ended too."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from adtos.errors import FolderBusyError
from adtos.fileio import LOCK_FILE, folder_lock, held_lock_fd

HOLD = """
import fcntl, sys, time
handle = open(sys.argv[1], "a+")
fcntl.flock(handle, fcntl.LOCK_EX)
handle.seek(0); handle.truncate(); handle.write(sys.argv[2]); handle.flush()
print("held", flush=True)
time.sleep(float(sys.argv[3]))
"""


def hold(tmp_path, holder: str, seconds: float) -> subprocess.Popen:
    process = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path / LOCK_FILE), holder,
                                str(seconds)], stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "held"
    return process


def test_a_live_holder_stops_the_second_process_at_once(tmp_path):
    holder = hold(tmp_path, "adtos render (pid 1)", 30)  # pid 1 is alive
    try:
        clock = time.monotonic()
        with pytest.raises(FolderBusyError, match=r"is being written by adtos render \(pid 1\)"):
            with folder_lock(tmp_path, "adtos build"):
                pass
        assert time.monotonic() - clock < 2
    finally:
        holder.kill()
        holder.wait()
    with folder_lock(tmp_path, "adtos build"):  # released with its holder
        assert (tmp_path / LOCK_FILE).read_text().startswith("adtos build (pid ")


def test_a_dead_runs_lock_is_waited_for_while_its_workers_end(tmp_path):
    # The named holder is gone; a process that shares its lock (a worker) still runs.
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()
    worker = hold(tmp_path, f"adtos render (pid {dead})", 1.5)
    clock = time.monotonic()
    with folder_lock(tmp_path, "adtos render"):
        waited = time.monotonic() - clock
    worker.wait()
    assert 0.5 < waited < 20


def test_nested_locks_in_one_process_share_the_lock(tmp_path):
    with folder_lock(tmp_path / "out", "adtos build"):
        fd = held_lock_fd(tmp_path / "out")
        with folder_lock(tmp_path / "out", "adtos render"):
            assert held_lock_fd(tmp_path / "out") == fd
        assert held_lock_fd(tmp_path / "out") == fd
    assert held_lock_fd(tmp_path / "out") is None

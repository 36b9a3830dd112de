"""Helpers for the fault tests: run `adtos` in a child process, kill it, check what is left.

Descendants are found by walking /proc (Linux): a process whose parent chain
leads to the run. They are recorded *before* the kill, since afterwards they
are re-parented to init and no longer look related; each is identified by
(pid, start time) so that a reused pid is not mistaken for a survivor.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from adtos.workers import PROC, alive, descendants  # noqa: F401 (the fault tests import them from here)

REPO = Path(__file__).resolve().parents[1]

needs_proc = pytest.mark.skipif(not (PROC / "self" / "stat").is_file(),
                                reason="needs Linux /proc to find child processes")


def adtos_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "adtos", *map(str, args)]


def run_adtos(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run `adtos ARGS` to the end; stdout and stderr as text."""
    return subprocess.run(adtos_command(*args), cwd=REPO, capture_output=True, text=True,
                          timeout=timeout, env=child_env())


def start_adtos(*args: str, log: Path) -> subprocess.Popen:
    """Start `adtos ARGS` in the background, its output into `log`."""
    with open(log, "wb") as handle:
        return subprocess.Popen(adtos_command(*args), cwd=REPO, stdout=handle,
                                stderr=subprocess.STDOUT, env=child_env())


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return env


def wait_for(condition, process: subprocess.Popen, log: Path, timeout: float = 120,
             what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if process.poll() is not None:
            raise AssertionError(f"adtos ended (rc {process.returncode}) before {what}:\n"
                                 f"{log.read_text()[-3000:]}")
        if time.monotonic() > deadline:
            process.kill()
            raise AssertionError(f"timed out waiting for {what}:\n{log.read_text()[-3000:]}")
        time.sleep(0.02)


def kill_and_check_no_survivors(process: subprocess.Popen, grace: float = 5.0) -> int:
    """SIGKILL the run; assert that every process it had started ends within `grace` s.

    Returns how many descendants there were at the kill.
    """
    children = descendants(process.pid)
    process.kill()
    process.wait()
    deadline = time.monotonic() + grace
    while any(alive(child) for child in children) and time.monotonic() < deadline:
        time.sleep(0.05)
    survivors = [child for child in children if alive(child)]
    for pid, _ in survivors:  # leave nothing behind for the next test
        try:
            os.kill(pid, 9)
        except OSError:
            pass
    assert not survivors, f"{len(survivors)} of {len(children)} child processes outlived the " \
        f"killed run: {[_cmdline(pid) for pid, _ in survivors]}"
    return len(children)


def _cmdline(pid: int) -> str:
    try:
        return (PROC / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode()[:120]
    except OSError:
        return f"pid {pid}"


# What a kill may leave on disk, as the writers promise it (adtos.fileio.atomic_path):
# a file under its final name is whole; a file being written lives under a hidden
# temporary name carrying TMP_MARK (".train00024.k3j9.partial.flac") and may be torn
# or empty after a kill; a resumed run removes those. Note that pathlib's `*`
# matches hidden names too, so `glob("*.flac")` also finds a worker's temporary
# file: the checks below go through `finals`, never through a bare glob.


def is_temporary(path: Path) -> bool:
    from adtos.fileio import TMP_MARK

    return TMP_MARK in path.name


def finals(folder: Path, pattern: str = "*") -> list[Path]:
    """Files in `folder` matching `pattern` under their final names (sorted; [] when
    the folder does not exist): what the writers promise is whole at any moment."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob(pattern) if p.is_file() and not is_temporary(p))


def temporaries(folder: Path) -> list[Path]:
    """Temporary files anywhere under `folder`: allowed after a kill, never after a
    run that ended by itself."""
    return sorted(p for p in folder.rglob("*") if p.is_file() and is_temporary(p))


def final_files(folder: Path) -> dict[str, str]:
    """{relative path: sha256} of every file under its final (not temporary) name."""
    from adtos.fileio import sha256_file

    return {p.relative_to(folder).as_posix(): sha256_file(p) for p in sorted(folder.rglob("*"))
            if p.is_file() and not is_temporary(p) and p.name != ".adtos.lock"}

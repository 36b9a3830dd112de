"""Workers end with the run that started them: `kill -9` of `adtos render` or
`adtos build` leaves no worker, forkserver or resource tracker behind."""

from __future__ import annotations

import os
import time

import pytest

from adtos.presets import save_presets
from adtos.workers import exit_with_parent
from fault_support import (alive, descendants, kill_and_check_no_survivors, needs_proc, start_adtos,
                           wait_for)
from test_render_support import make_tracks, small_library

pytestmark = needs_proc


def start_render(tmp_path, n: int, seconds: float, voices: int):
    """`adtos render --workers 2` of n small tracks, started in the background: (out, log, process)."""
    make_tracks(tmp_path / "tracks", n=n, seconds=seconds, voices=voices)
    save_presets(small_library(), tmp_path / "presets.jsonl")
    out, log = tmp_path / "out", tmp_path / "log"
    process = start_adtos("render", tmp_path / "tracks", "--presets", tmp_path / "presets.jsonl",
                          "--out", out, "--workers", "2", "--no-progress", log=log)
    return out, log, process


def test_a_render_killed_while_its_forkserver_starts_leaves_no_process_behind(tmp_path):
    # The forkserver imports for seconds before it serves: killed then, it used to
    # live on for the better part of an hour.
    out, log, process = start_render(tmp_path, n=4, seconds=2.0, voices=1)
    wait_for(lambda: (out / ".render" / "settings.json").is_file(), process, log,
             what="the render's start")
    assert descendants(process.pid)
    kill_and_check_no_survivors(process)


def test_killed_render_leaves_no_process_behind(tmp_path):
    out, log, process = start_render(tmp_path, n=8, seconds=4.0, voices=4)
    # Killed while the pool is rendering: the first track is done, others are in flight.
    wait_for(lambda: any((out / ".render").glob("train*.json")), process, log,
             what="the first rendered track")
    children = descendants(process.pid)
    assert len(children) >= 3  # forkserver, resource tracker, workers
    # The workers share the run's folder lock, so a resumed run cannot start
    # writing while one of them still lives.
    lock = (out / ".adtos.lock").resolve()
    assert sum(holds_open(pid, lock) for pid, _ in children) >= 1
    kill_and_check_no_survivors(process)


def holds_open(pid: int, path) -> bool:
    try:
        return any(os.path.realpath(fd) == str(path) for fd in
                   (f"/proc/{pid}/fd/{name}" for name in os.listdir(f"/proc/{pid}/fd")))
    except OSError:
        return False


def test_exit_with_parent_ends_a_grandchild_whose_parent_is_killed(tmp_path):
    """The watcher follows a given pid, not the direct parent (as in a forkserver pool)."""
    import multiprocessing

    ready = tmp_path / "ready"
    context = multiprocessing.get_context("fork")
    parent = context.Process(target=_spawn_grandchild, args=(str(ready),))
    parent.start()
    deadline = time.monotonic() + 20
    while not ready.is_file() and time.monotonic() < deadline:
        time.sleep(0.02)
    grandchild = int(ready.read_text())
    below = descendants(parent.pid)
    watched = [p for p in below if p[0] == grandchild]
    assert watched
    os.kill(parent.pid, 9)
    parent.join()
    deadline = time.monotonic() + 3
    while alive(watched[0]) and time.monotonic() < deadline:
        time.sleep(0.02)
    ended = not alive(watched[0])
    for pid, _ in below:  # the middle process (like a forkserver) is not the subject here
        try:
            os.kill(pid, 9)
        except OSError:
            pass
    assert ended, "the worker outlived the process it follows"


def _spawn_grandchild(ready: str) -> None:
    import multiprocessing

    me = os.getpid()
    # forkserver-like: the worker's direct parent is not the process it must follow.
    middle = multiprocessing.get_context("fork").Process(target=_middle, args=(me, ready))
    middle.start()
    time.sleep(60)


def _middle(watched: int, ready: str) -> None:
    import multiprocessing

    child = multiprocessing.get_context("fork").Process(target=_worker, args=(watched, ready))
    child.start()
    time.sleep(60)


def _worker(watched: int, ready: str) -> None:
    exit_with_parent(watched)
    from adtos.fileio import write_text_atomic

    write_text_atomic(ready, str(os.getpid()))
    time.sleep(60)


@pytest.mark.faults
def test_killed_build_leaves_no_process_behind(tmp_path):
    from test_build_e2e import CONFIG, tiny_presets

    tiny_presets(tmp_path / "presets.jsonl")
    (tmp_path / "tiny.toml").write_text(CONFIG.replace("train = 2", "train = 6"))
    out, log = tmp_path / "ds", tmp_path / "log"
    process = start_adtos("build", tmp_path / "tiny.toml", "--out", out, "--workers", "2", log=log)
    wait_for(lambda: any((out / ".render").glob("train*.json")), process, log,
             what="the first rendered track")
    kill_and_check_no_survivors(process)

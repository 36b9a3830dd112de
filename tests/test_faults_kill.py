"""Kill loops: `adtos render` and `adtos build` killed (SIGKILL) at seeded random moments,
then resumed. After every kill: no child process survives, nothing under a final name
is truncated; at the end the output is byte-identical to an uninterrupted run.
And two processes on one output folder: the second stops with one line.

Marked `faults`: run by `make faults` (and CI), left out of `make test`. The figures
of a run are printed (pytest -s) and recorded in docs/reliability.md.
"""

from __future__ import annotations

import json
import os
import random
import signal
import time
from pathlib import Path

import pytest
import soundfile

from adtos.presets import save_presets
from fault_support import (final_files, finals, is_temporary, kill_and_check_no_survivors,
                           needs_proc, run_adtos, start_adtos, temporaries, wait_for)
from test_render_support import make_tracks, small_library

pytestmark = [pytest.mark.faults, needs_proc]

KILLS = 4
SEED = 17


def check_whole(out: Path) -> int:
    """Every file under a final name is whole; returns how many tracks are done.

    A track's audio must match the hash in its done-record; audio whose record
    was not written yet must still decode to the end. Temporary (`.partial`)
    files are what a kill may leave torn: they are not looked at here, and the
    resumed run must remove them (checked at the end of each kill loop).
    """
    import pyarrow.parquet as pq

    from adtos.fileio import sha256_file

    records = {}
    for path in finals(out / ".render", "*.json"):
        record = json.loads(path.read_text())
        if path.name != "settings.json":
            records[record["track_id"]] = record
    for path in finals(out / "audio", "*.flac"):
        if path.stem in records:
            assert sha256_file(path) == records[path.stem]["audio_sha256"], path
        else:
            audio, rate = soundfile.read(path)
            assert len(audio) > rate, path
    for path in out.rglob("*.parquet"):
        if not is_temporary(path):
            pq.read_metadata(path)
    return len(records)


def records_done(out: Path) -> int:
    return sum(p.name != "settings.json" for p in finals(out / ".render", "*.json"))


def kill_loop(args: list, out: Path, log: Path, figures: dict, full_run_s: float) -> None:
    """Start `adtos ARGS` KILLS times and kill each at a seeded random moment.

    Moments are drawn by progress, not by the clock (start-up alone takes 2 to
    15 s on a loaded 2-core machine): during start-up (index, assemble, pool
    start) — a fraction of the uninterrupted run's time `full_run_s` measured on
    this machine, so that an idle machine does not finish before the kill — or
    some tracks after the ones already done, plus a random fraction of a track's
    time, so that kills land while tracks are being written.
    """
    rng = random.Random(SEED)
    for _ in range(KILLS):
        before = check_whole(out) if out.is_dir() else 0
        process = start_adtos(*args, log=log)
        more = rng.randint(-1, 2)
        if more < 0:
            target = time.monotonic() + rng.uniform(0.1, 0.5) * full_run_s
            wait_for(lambda: time.monotonic() > target or process.poll() is not None,
                     process, log, what="a moment in start-up")
        else:
            wait_for(lambda: process.poll() is not None or records_done(out) >= before + more,
                     process, log, timeout=300, what=f"{before + more} rendered tracks")
            time.sleep(rng.uniform(0.0, 0.4))
        if process.poll() is not None:
            figures["finished before the kill"] += 1
            continue
        figures["children at kill"].append(kill_and_check_no_survivors(process))
        figures["kills"] += 1
        figures["done after kill"].append(check_whole(out))


def new_figures() -> dict:
    return {"kills": 0, "finished before the kill": 0, "children at kill": [],
            "done after kill": []}


def test_render_killed_at_random_moments_resumes_to_identical_output(tmp_path):
    # 32 tracks: on an idle machine 8 were all rendered before the second kill came.
    make_tracks(tmp_path / "tracks", n=32, seconds=3.0, voices=2)
    save_presets(small_library(), tmp_path / "lib.jsonl")

    def args(out: Path) -> list:
        return ["render", tmp_path / "tracks", "--presets", tmp_path / "lib.jsonl", "--out", out,
                "--workers", "2", "--no-progress"]

    clock = time.monotonic()
    done = run_adtos(*args(tmp_path / "reference"))
    full_run_s = time.monotonic() - clock
    assert done.returncode == 0, done.stderr

    out, figures = tmp_path / "killed", new_figures()
    kill_loop(args(out), out, tmp_path / "log", figures=figures, full_run_s=full_run_s)
    done = run_adtos(*args(out))
    assert done.returncode == 0, done.stderr
    assert final_files(out) == final_files(tmp_path / "reference")
    assert temporaries(out) == []  # what the kills left torn, the resume removed
    print(f"\nrender kill loop: {figures}, full run {full_run_s:.1f} s")
    assert figures["kills"] >= 2


def test_build_killed_at_random_moments_resumes_to_identical_output(tmp_path):
    from test_build_e2e import CONFIG, tiny_presets

    tiny_presets(tmp_path / "presets.jsonl")
    (tmp_path / "tiny.toml").write_text(CONFIG.replace("train = 2", "train = 10"))

    def args(out: Path) -> list:
        return ["build", tmp_path / "tiny.toml", "--out", out, "--workers", "2"]

    clock = time.monotonic()
    done = run_adtos(*args(tmp_path / "runs" / "reference"))
    full_run_s = time.monotonic() - clock
    assert done.returncode == 0, done.stderr

    out, figures = tmp_path / "runs" / "killed", new_figures()
    kill_loop(args(out), out, tmp_path / "log", figures=figures, full_run_s=full_run_s)
    done = run_adtos(*args(out))
    assert done.returncode == 0, done.stderr
    assert final_files(out) == final_files(tmp_path / "runs" / "reference")
    assert temporaries(out) == []
    print(f"\nbuild kill loop: {figures}, full run {full_run_s:.1f} s")
    assert figures["kills"] >= 2


@pytest.mark.parametrize("command", ["render", "build"])
def test_a_second_process_on_the_same_folder_stops_with_one_line(tmp_path, command):
    if command == "render":
        make_tracks(tmp_path / "tracks", n=8, seconds=3.0, voices=2)
        save_presets(small_library(), tmp_path / "lib.jsonl")
        args = ["render", tmp_path / "tracks", "--presets", tmp_path / "lib.jsonl",
                "--out", tmp_path / "out", "--workers", "1", "--no-progress"]
    else:
        from test_build_e2e import CONFIG, tiny_presets

        tiny_presets(tmp_path / "presets.jsonl")
        (tmp_path / "tiny.toml").write_text(CONFIG.replace("train = 2", "train = 6"))
        args = ["build", tmp_path / "tiny.toml", "--out", tmp_path / "out", "--workers", "1"]
    out, log = tmp_path / "out", tmp_path / "log"
    first = start_adtos(*args, log=log)
    # Once the lock file names the first process it holds the lock; it is frozen there,
    # so that it still holds it when the second starts however fast its own work goes
    # (waiting for its first rendered track raced a render that finished all 8 first).
    lock = out / ".adtos.lock"
    wait_for(lambda: lock.is_file() and f"(pid {first.pid})" in lock.read_text(), first, log,
             what="the folder lock")
    os.kill(first.pid, signal.SIGSTOP)
    try:
        second = run_adtos(*args)
    finally:
        os.kill(first.pid, signal.SIGCONT)
    assert second.returncode == 2, second.stderr
    lines = [line for line in second.stderr.splitlines() if "error" in line]
    assert lines == [f"adtos {command}: error: {out} is being written by adtos {command} "
                     f"(pid {first.pid}); wait for it to end, or write into another folder"]
    assert "Traceback" not in second.stderr
    kill_and_check_no_survivors(first)
    third = run_adtos(*args)  # the lock died with its holder
    assert third.returncode == 0, third.stderr

"""A render killed at any moment resumes: no truncated files, finished tracks not redone."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import soundfile

from adtos.fileio import sha256_file
from adtos.presets import save_presets
from adtos.render import render_tracks
from fault_support import finals, temporaries
from test_render_support import make_tracks, small_library

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_killed_render_resumes_without_redoing_finished_tracks(tmp_path):
    ids = make_tracks(tmp_path / "tracks", n=6, seconds=4.0, voices=4)
    save_presets(small_library(), tmp_path / "presets.jsonl")
    out = tmp_path / "out"
    command = [sys.executable, "-m", "adtos", "render", str(tmp_path / "tracks"), "--presets",
               str(tmp_path / "presets.jsonl"), "--out", str(out), "--workers", "1", "--stems",
               "--no-progress"]
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    records = out / ".render"
    deadline = time.monotonic() + 120
    while len(list(records.glob("train*.json"))) < 2:
        assert process.poll() is None, process.stderr.read().decode()
        assert time.monotonic() < deadline, "the render did not get going"
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()

    done = sorted(p.stem for p in records.glob("train*.json"))
    assert 2 <= len(done) < len(ids), "killed too late to test a resume"
    # Whatever is under a final name is whole.
    for path in finals(out / "audio", "*.flac"):  # a worker's .partial.flac may be torn
        audio, sr = soundfile.read(path)
        assert abs(len(audio) / sr - 5.0) < 0.6  # 4 s of notes + release tail
    mtimes = {t: (out / "audio" / f"{t}.flac").stat().st_mtime_ns for t in done}

    report = render_tracks(tmp_path / "tracks", tmp_path / "presets.jsonl", out, workers=1,
                           stems=True, progress=False)
    assert sorted(report.skipped) == done
    assert sorted(report.rendered) == sorted(set(ids) - set(done)) and not report.failed
    assert {t: (out / "audio" / f"{t}.flac").stat().st_mtime_ns for t in done} == mtimes
    assert temporaries(out) == []
    rows = pq.read_table(out / "render.parquet").to_pylist()
    assert [r["track_id"] for r in rows] == ids
    for row in rows:
        assert row["audio_sha256"] == sha256_file(out / "audio" / f"{row['track_id']}.flac")
        for voice in ("drums", "piano", "bass", "guitar"):
            soundfile.read(out / "stems" / row["track_id"] / f"{voice}.flac")  # decodes whole


def test_a_resumed_render_says_what_is_done_and_counts_from_there(tmp_path, capsys):
    # The bar of a resumed render started at 0/64 with no word of the 36 already done.
    ids = make_tracks(tmp_path / "tracks", n=3, seconds=1.0, voices=1)
    save_presets(small_library(), tmp_path / "presets.jsonl")
    out = tmp_path / "out"
    render_tracks(tmp_path / "tracks", tmp_path / "presets.jsonl", out, voices=("drums",),
                  workers=1, progress=False)
    (out / "audio" / f"{ids[-1]}.flac").unlink()
    capsys.readouterr()
    report = render_tracks(tmp_path / "tracks", tmp_path / "presets.jsonl", out,
                           voices=("drums",), workers=1, progress=True)
    assert report.rendered == [ids[-1]]
    bar = capsys.readouterr().err
    assert "render: 2 already done, 1 to render" in bar
    assert "2/3" in bar and "3/3" in bar and "0/1" not in bar


def test_the_kill_checks_ignore_a_torn_temporary_file_and_read_every_final_one(tmp_path):
    # The fault suite failed by chance when a kill landed while a worker wrote
    # `.train00024.<random>.partial.flac`: pathlib's `*.flac` matches hidden
    # names, and the torn file was decoded as if it were final.
    from test_faults_kill import check_whole

    audio = tmp_path / "audio"
    audio.mkdir()
    soundfile.write(audio / "train00001.flac", [0.0] * 44100 * 2, 44100)
    (audio / ".train00024.k3j9x.partial.flac").write_bytes(b"fLaC torn")
    (tmp_path / ".render").mkdir()
    (tmp_path / ".render" / ".train00024.a1b2.partial.json").write_text('{"track_')
    assert check_whole(tmp_path) == 0
    assert finals(audio, "*.flac") == [audio / "train00001.flac"]
    assert [p.name for p in temporaries(tmp_path)] == [".train00024.a1b2.partial.json",
                                                      ".train00024.k3j9x.partial.flac"]
    (audio / "train00002.flac").write_bytes(b"torn under a final name")
    with pytest.raises(Exception):  # a torn final file is still caught
        check_whole(tmp_path)

"""Bad inputs and bad places: each gives one line naming the cause and a non-zero exit,
before the long work where it can be known before.

Read-only folders and a full disk are real: a read-only or tiny tmpfs mounted
for the test when running as root (CI containers), chmod 0555 otherwise
(a full disk is then skipped).
"""

from __future__ import annotations

import contextlib
import csv
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import soundfile

from adtos.cli import main
from adtos.presets import Preset, load_presets, save_presets
from fault_support import finals
from test_build_e2e import CONFIG, tiny_presets
from test_render_support import make_tracks, small_library


@contextlib.contextmanager
def mounted_tmpfs(folder: Path, options: str):
    folder.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0 or shutil.which("mount") is None:
        yield None
        return
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)],
                          capture_output=True)
    if done.returncode != 0:
        yield None
        return
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)


@pytest.fixture
def read_only(tmp_path):
    """A folder nothing can be written into."""
    folder = tmp_path / "readonly"
    with mounted_tmpfs(folder, "ro,size=64k") as mounted:
        if mounted is None:
            if os.geteuid() == 0:
                pytest.skip("root ignores file modes and cannot mount a read-only tmpfs here")
            folder.chmod(0o555)
        yield folder
        if mounted is None:
            folder.chmod(0o755)


def one_line_error(capsys, *names: str) -> str:
    captured = capsys.readouterr()
    # progress bars aside (tqdm's carriage returns), one line
    lines = [line for line in captured.err.replace("\r", "\n").splitlines()
             if line.strip() and "it/s]" not in line and "track/s]" not in line
             and "file/s]" not in line]
    assert len(lines) == 1, captured.err
    assert "Traceback" not in captured.err
    for name in names:
        assert name in lines[0], lines[0]
    return lines[0]


def write_build_project(root: Path, presets: list[Preset] | None = None, train: int = 2) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    if presets is None:
        tiny_presets(root / "presets.jsonl")
    else:
        save_presets(presets, root / "presets.jsonl")
    (root / "tiny.toml").write_text(CONFIG.replace("train = 2", f"train = {train}"))
    return root / "tiny.toml"


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, Path]:
    """(config, dataset) of one tiny build, copied by the tests that change it."""
    root = tmp_path_factory.mktemp("faults")
    config = write_build_project(root / "project")
    out = root / "project" / "out" / "ds"
    assert main(["build", str(config), "--out", str(out), "--workers", "1"]) == 0
    return config, out


# ---------------------------------------------------------------------------
# Read-only output: build, render, index, stats, fit


def test_read_only_output_is_one_line_naming_the_folder(tmp_path, read_only, capsys):
    from adtos.datasets.testing import rock_beat, write_adtos_track
    from adtos.index.pack import make_loop_pack

    config = write_build_project(tmp_path / "project")
    make_tracks(tmp_path / "tracks", n=1, seconds=2.0, voices=1)
    save_presets(small_library(), tmp_path / "lib.jsonl")
    make_loop_pack(tmp_path / "loops", seed=0)
    write_adtos_track(tmp_path / "stats_ds", "t0", rock_beat(2))
    with open(tmp_path / "results.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["n", "test_loss"])
        writer.writerows([(n, 0.3 * n ** -0.5 + 0.05) for n in (1, 2, 4, 8, 16, 32)])
    out = read_only / "out"
    commands = {
        "build": ["build", str(config), "--out", str(out), "--workers", "1"],
        "render": ["render", str(tmp_path / "tracks"), "--presets", str(tmp_path / "lib.jsonl"),
                   "--out", str(out), "--workers", "1", "--no-progress"],
        "index": ["index", str(tmp_path / "loops"), "--out", str(read_only / "loops.parquet"),
                  "--workers", "1"],
        "stats": ["stats", str(tmp_path / "stats_ds"), "--out", str(out), "--no-plots"],
        "fit": ["fit", str(tmp_path / "results.csv"), "--out", str(out), "--bootstrap", "0"],
    }
    for command, argv in commands.items():
        assert main(argv) == 2, command
        line = one_line_error(capsys, f"adtos {command}: error:", str(read_only))
        assert "read-only" in line or "permission denied" in line, line


# ---------------------------------------------------------------------------
# A full disk


def test_a_full_disk_is_named_as_such_and_fails_the_run(tmp_path, capsys):
    make_tracks(tmp_path / "tracks", n=4, seconds=3.0, voices=2)
    save_presets(small_library(), tmp_path / "lib.jsonl")
    with mounted_tmpfs(tmp_path / "small", "size=300k") as disk:
        if disk is None:
            pytest.skip("mounting a small tmpfs needs root")
        code = main(["render", str(tmp_path / "tracks"), "--presets", str(tmp_path / "lib.jsonl"),
                     "--out", str(disk / "out"), "--workers", "1", "--no-progress"])
        captured = capsys.readouterr()
        text = captured.out + captured.err
        assert code != 0
        assert f"no space left on {disk / 'out'}" in text, text
        assert "System error" not in text and "Traceback" not in text
        for path in finals(disk / "out" / "audio", "*.flac"):  # what is there is whole
            audio, rate = soundfile.read(path)
            assert abs(len(audio) / rate - 4.0) < 0.6


def test_atomic_writes_name_a_full_disk_however_the_library_reports_it(tmp_path):
    import errno

    from adtos.errors import OutputError
    from adtos.fileio import atomic_path, output_error

    with pytest.raises(OutputError, match=f"no space left on {tmp_path}") as caught:
        with atomic_path(tmp_path / "x.bin") as tmp:
            tmp.write_bytes(b"half")
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    assert caught.value.errno == errno.ENOSPC and not list(tmp_path.iterdir())
    # pyarrow puts errno in the text only
    arrow = OSError("Error writing bytes to file. Detail: [errno 28] No space left on device")
    assert str(output_error(arrow, tmp_path)) == f"no space left on {tmp_path}"
    other = OSError("something else")
    assert output_error(other, tmp_path) is other


# ---------------------------------------------------------------------------
# Exit codes: any failed track fails the run


def test_render_exits_non_zero_when_any_track_failed(tmp_path, capsys):
    ids = make_tracks(tmp_path / "tracks", n=3, seconds=2.0, voices=1)
    (tmp_path / "tracks" / "midi" / f"{ids[1]}.mid").write_bytes(b"MThd\x00\x00\x00\x06broken")
    save_presets(small_library(), tmp_path / "lib.jsonl")
    argv = ["render", str(tmp_path / "tracks"), "--presets", str(tmp_path / "lib.jsonl"),
            "--out", str(tmp_path / "out"), "--workers", "1", "--no-progress"]
    assert main(argv) == 1
    out = capsys.readouterr().out
    assert "rendered 2 tracks, 0 already done, 1 failed" in out and ids[1] in out


def test_build_exits_non_zero_when_any_track_failed(built, tmp_path, capsys):
    config, dataset = built
    out = tmp_path / "ds"
    shutil.copytree(dataset, out)
    (out / ".render" / "train00001.json").unlink()
    (out / "tracks" / "midi" / "train00001.mid").unlink()
    (out / "tracks" / "midi" / "train00001.mid").write_bytes(b"MThd\x00\x00\x00\x06broken")
    assert main(["build", str(config), "--out", str(out), "--workers", "1"]) == 1
    printed = capsys.readouterr().out
    assert "1 tracks failed" in printed and "train00001: " in printed


# ---------------------------------------------------------------------------
# Errors before the long work


def test_a_missing_soundfont_stops_the_build_before_index_and_assemble(tmp_path, capsys):
    presets = [Preset(role="drums", name="gone", source={"soundfont": "GoneKit.sf2", "bank": 128,
                                                         "program": 0})]
    config = write_build_project(tmp_path, presets=None)
    save_presets(load_presets(tmp_path / "presets.jsonl") + presets, tmp_path / "presets.jsonl")
    out = tmp_path / "ds"
    assert main(["build", str(config), "--out", str(out), "--workers", "1"]) == 2
    one_line_error(capsys, "GoneKit.sf2", "not found", presets[0].id, "presets.jsonl")
    assert not out.exists()


# ---------------------------------------------------------------------------
# Stale copies and moved datasets


def test_a_library_fixed_in_place_is_copied_again_while_nothing_is_rendered(tmp_path, capsys):
    # both kits silent (the second with an effect, to keep the ids apart): every track fails
    silent = [Preset(role=p.role, name=p.name, pool=p.pool, source=p.source,
                     synth={**p.synth, "gain": 0.0},
                     effects=[{"type": "Gain", "gain_db": -3.0}] if p.pool == "val" else [])
              if p.role == "drums" else p for p in _tiny_library(tmp_path)]
    config = write_build_project(tmp_path / "project", presets=silent)
    out = tmp_path / "ds"
    assert main(["build", str(config), "--out", str(out), "--workers", "1"]) == 1
    first = capsys.readouterr()
    assert "silent stem drums" in (out / "render_errors.csv").read_text()
    assert "0 tracks" in first.out and "no track was rendered" in first.out
    # Reading the empty dataset names the cause rather than asking what the folder is.
    assert main(["stats", str(out), "--out", str(tmp_path / "stats")]) == 2
    one_line_error(capsys, "no rendered track")

    tiny_presets(tmp_path / "project" / "presets.jsonl")  # the fix, in place
    assert main(["build", str(config), "--out", str(out), "--workers", "1"]) == 0
    assert (out / "presets.jsonl").read_bytes() == \
        (tmp_path / "project" / "presets.jsonl").read_bytes()
    assert "copying it again" in capsys.readouterr().err


def _tiny_library(tmp_path: Path) -> list[Preset]:
    tiny_presets(tmp_path / "tiny.jsonl")
    return load_presets(tmp_path / "tiny.jsonl")


def test_a_library_changed_after_rendering_is_refused_naming_the_file(built, tmp_path, capsys):
    config, dataset = built
    project = tmp_path / "project"
    shutil.copytree(config.parent, project, ignore=shutil.ignore_patterns("out"))
    out = tmp_path / "ds"
    shutil.copytree(dataset, out)
    library = load_presets(project / "presets.jsonl")
    save_presets(library + [Preset(role="bass", name="extra", pool="train",
                                   source={"soundfont": "TimGM6mb.sf2", "bank": 0,
                                           "program": 35})], project / "presets.jsonl")
    before = {p: p.stat().st_mtime_ns for p in (out / "audio").iterdir()}
    assert main(["build", str(project / "tiny.toml"), "--out", str(out), "--workers", "1"]) == 2
    one_line_error(capsys, f"{project / 'presets.jsonl'} differs from {out / 'presets.jsonl'}",
                   "3 tracks")
    assert {p: p.stat().st_mtime_ns for p in (out / "audio").iterdir()} == before


def test_a_dataset_moved_to_another_depth_resumes(built, tmp_path, capsys):
    config, dataset = built
    moved = tmp_path / "deeper" / "still" / "ds"
    shutil.copytree(dataset, moved)
    audio = {p.name: p.read_bytes() for p in (moved / "audio").iterdir()}
    assert main(["build", str(config), "--out", str(moved), "--workers", "1"]) == 0
    capsys.readouterr()
    assert {p.name: p.read_bytes() for p in (moved / "audio").iterdir()} == audio
    stored = (moved / "config.toml").read_text()
    # The stored config names the folder's own copy (#16: a folder rebuilds from itself).
    assert 'library = "presets.jsonl"' in stored
    # A real change is still refused, and named.
    assert main(["build", str(config), "--out", str(moved), "--workers", "1",
                 "--set", "tracks.train=3"]) == 2
    one_line_error(capsys, "different config", "tracks.train: 2 then, 3 now")

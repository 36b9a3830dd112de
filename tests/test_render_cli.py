"""`adtos render` on the command line: a run, its summary, and user errors."""

from __future__ import annotations

from adtos.cli import main
from adtos.presets import save_presets
from test_render_support import make_tracks, small_library


def test_render_command_runs_and_reports(tmp_path, capsys):
    make_tracks(tmp_path / "tracks", n=2, seconds=2.0, voices=2)
    save_presets(small_library(), tmp_path / "presets.jsonl")
    args = ["render", str(tmp_path / "tracks"), "--presets", str(tmp_path / "presets.jsonl"),
            "--out", str(tmp_path / "out"), "--workers", "1", "--format", "wav", "--voices",
            "drums", "--no-progress"]
    assert main(args) == 0
    assert "rendered 2 tracks, 0 already done, 0 failed" in capsys.readouterr().out
    assert (tmp_path / "out" / "audio" / "train00000.wav").is_file()
    assert main(args) == 0
    assert "rendered 0 tracks, 2 already done" in capsys.readouterr().out


def test_user_errors_are_one_line_messages(tmp_path, capsys):
    make_tracks(tmp_path / "tracks", n=1, seconds=1.0, voices=1)
    code = main(["render", str(tmp_path / "tracks"), "--presets", str(tmp_path / "none.jsonl"),
                 "--out", str(tmp_path / "out")])
    assert code == 2 and "none.jsonl: preset library not found" in capsys.readouterr().err
    (tmp_path / "bad.jsonl").write_text('{"role": "drums"}\n')
    code = main(["render", str(tmp_path / "tracks"), "--presets", str(tmp_path / "bad.jsonl"),
                 "--out", str(tmp_path / "out")])
    assert code == 2 and "bad.jsonl, line 1" in capsys.readouterr().err
    save_presets(small_library(), tmp_path / "presets.jsonl")
    code = main(["render", str(tmp_path / "nowhere"), "--presets", str(tmp_path / "presets.jsonl"),
                 "--out", str(tmp_path / "out")])
    assert code == 2 and "not a folder" in capsys.readouterr().err
    code = main(["render", str(tmp_path / "tracks"), "--presets", str(tmp_path / "presets.jsonl"),
                 "--out", str(tmp_path / "out"), "--address", "ray://x:1"])
    assert code == 2 and "--address is for --executor ray" in capsys.readouterr().err

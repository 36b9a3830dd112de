"""--executor ray: the same files as the local executor, on a local Ray with 2 CPUs."""

from __future__ import annotations

import sys

import pytest

from adtos.cli import main
from adtos.errors import AdtosError
from adtos.render import render_tracks
from test_render_support import make_tracks, small_library


@pytest.mark.slow
def test_ray_executor_writes_the_same_files_as_the_local_one(tmp_path):
    pytest.importorskip("ray")
    make_tracks(tmp_path / "tracks", n=3, seconds=2.0, voices=2)
    local = render_tracks(tmp_path / "tracks", small_library(), tmp_path / "local", workers=1,
                          progress=False)
    on_ray = render_tracks(tmp_path / "tracks", small_library(), tmp_path / "ray", workers=2,
                           executor="ray", progress=False)
    assert sorted(on_ray.rendered) == sorted(local.rendered) and not on_ray.failed
    files = sorted(p.relative_to(tmp_path / "local") for p in (tmp_path / "local").rglob("*")
                   if p.is_file())
    assert files == sorted(p.relative_to(tmp_path / "ray") for p in (tmp_path / "ray").rglob("*")
                           if p.is_file())
    for relative in files:
        assert (tmp_path / "local" / relative).read_bytes() == (tmp_path / "ray" / relative).read_bytes(), relative


def test_without_ray_the_error_says_how_to_install_it(tmp_path, monkeypatch, capsys):
    make_tracks(tmp_path / "tracks", n=1, seconds=1.0, voices=1)
    from adtos.presets import save_presets

    save_presets(small_library(), tmp_path / "p.jsonl")
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError
    code = main(["render", str(tmp_path / "tracks"), "--presets", str(tmp_path / "p.jsonl"),
                 "--out", str(tmp_path / "out"), "--executor", "ray", "--no-progress"])
    assert code == 2
    assert "pip install 'adtos[ray]'" in capsys.readouterr().err
    with pytest.raises(AdtosError, match="pip install"):
        render_tracks(tmp_path / "tracks", small_library(), tmp_path / "out2", executor="ray",
                      progress=False)

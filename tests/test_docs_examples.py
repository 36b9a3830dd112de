"""The Python examples of the docs run as written, as plain scripts."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from test_render_support import make_tracks, small_library

ROOT = Path(__file__).resolve().parents[1]


def python_blocks(markdown: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", markdown.read_text(), flags=re.DOTALL)


def test_render_example_runs_as_a_script_with_two_workers(tmp_path):
    # As a plain script with workers=2 it failed every track ("worker process died")
    # until the example showed the __main__ guard.
    from adtos.presets import save_presets

    script = next(block for block in python_blocks(ROOT / "docs" / "render.md")
                  if "render_tracks(" in block)
    assert "workers=2" in script and 'if __name__ == "__main__":' in script
    make_tracks(tmp_path / "out" / "tracks", n=2, seconds=2.0)
    (tmp_path / "presets").mkdir()
    save_presets(small_library(), tmp_path / "presets" / "default.jsonl")
    (tmp_path / "example.py").write_text(script)
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "example.py"], cwd=tmp_path, env=environment,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "2 rendered, 0 already done, 0 failed" in result.stdout, result.stderr[-2000:]
    assert len(list((tmp_path / "out" / "rendered" / "audio").glob("*.flac"))) == 2


def test_annotation_reading_example_runs_on_an_adtos_annotation(tmp_path):
    import numpy as np

    from adtos.annotations import format_annotations

    # What the renderer writes: time, GM note, class, then velocity, level_db, smr_db.
    times, notes = [0.0, 0.0, 0.25, 0.5, 0.75], [36, 42, 42, 38, 56]
    figures = {"velocity": np.array([100, 90, 90, 110, 80]),
               "level_db": np.array([-18.2, -24.0, -24.3, -17.5, -30.0]),
               "smr_db": np.array([-3.1, -9.6, -9.9, -2.2, -15.0])}
    (tmp_path / "out" / "ds" / "annotations").mkdir(parents=True)
    (tmp_path / "out" / "ds" / "annotations" / "train00000.txt").write_text(
        format_annotations(times, notes, figures))
    script = next(block for block in python_blocks(ROOT / "docs" / "datasets.md")
                  if "load_delimited" in block)
    namespace: dict = {}
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        exec(compile(script, "docs/datasets.md", "exec"), namespace)
    finally:
        os.chdir(cwd)
    assert list(namespace["times"]) == times and list(namespace["notes"]) == notes
    assert list(namespace["classes"]) == ["BD", "HH", "HH", "SD", "-"]
    assert list(namespace["velocities"]) == [100, 90, 90, 110, 80]
    assert list(namespace["snare"]) == [0.5]
    assert list(namespace["onsets"]["smr_db"]) == [-3.1, -9.6, -9.9, -2.2, -15.0]


def test_the_readmes_bring_your_own_kit_example_runs(tmp_path, monkeypatch):
    """README, "Bring your own kit": the kit.toml as written over synthesized one-shots,
    then the two commands as written, with options that keep the test short appended
    (TimGM6mb alone instead of every installed soundfont, a small library)."""
    import shlex
    import tomllib

    import pretty_midi

    from adtos.presets import load_presets
    from adtos.render.pipeline import check_soundfonts
    from kit_fixtures import one_shot

    section = (ROOT / "README.md").read_text().split("### Bring your own kit", 1)[1]
    section = section.split("\n### ", 1)[0]
    kit_toml = re.search(r"```toml\n(.*?)```", section, flags=re.DOTALL).group(1)
    commands = re.search(r"\n```\n(adtos .*?)```", section, flags=re.DOTALL).group(1).splitlines()
    assert len(commands) == 2 and all(c.startswith("adtos ") for c in commands)
    kit = tmp_path / "my_kit"
    kit.mkdir()
    (kit / "kit.toml").write_text(kit_toml)
    sounds = {"kick": dict(freq=55), "snare": dict(freq=200), "tom": dict(freq=120, seconds=0.5),
              "hat_closed": dict(freq=0, seconds=0.08, noise=True),
              "hat_open": dict(freq=0, seconds=1.0, noise=True),
              "crash": dict(freq=0, seconds=1.5, noise=True)}
    for instrument in tomllib.loads(kit_toml)["instrument"]:
        for sample in instrument["samples"]:
            one_shot(kit / sample, **next(v for k, v in sounds.items() if sample.startswith(k)))
    shortcuts = {"presets": ["--soundfont", pretty_midi.__file__.replace("__init__.py",
                                                                          "TimGM6mb.sf2"),
                             "--drums", "16", "--other", "2", "--cache",
                             str(tmp_path / "cache.json")]}
    monkeypatch.delenv("ADTOS_KIT_PATH", raising=False)
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    for command in commands:
        argv = shlex.split(command)
        argv += shortcuts.get(argv[1], [])
        result = subprocess.run([sys.executable, "-m", "adtos", *argv[1:]], cwd=tmp_path,
                                env=environment, capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
        if argv[1] == "kits":
            assert "1 kits read (1 drum kits" in result.stdout and "check:" not in result.stdout
    library = load_presets(tmp_path / "presets" / "mine.jsonl")
    mine = [p for p in library if p.sampled and p.source["kit"] == str(kit.resolve())]
    assert mine
    check_soundfonts(mine)  # render finds the kit by its recorded path, no $ADTOS_KIT_PATH

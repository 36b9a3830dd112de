"""Training and the transcriber commands when things go wrong: a run killed at every
point of a validation's save resumes to the uninterrupted run's files; bad test sets,
damaged checkpoints, missing audio and non-run folders fail early, in one line."""

from __future__ import annotations

import csv
import json
import logging
import shutil
from dataclasses import replace

import pytest

from adtos.transcriber.toy import make_toy_dataset

pytestmark = pytest.mark.usefixtures("one_torch_thread")

TINY = dict(width=0.25, batch_size=4, snippet_seconds=0.5, warmup_steps=2, val_every=2,
            workers=0, feature_workers=0, progress=False, seed=3)
TIMING = ("wall_time_s", "snippets_per_s")


class Killed(BaseException):
    """Stands for SIGKILL: nothing in the code under test catches it."""


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    return make_toy_dataset(tmp_path_factory.mktemp("toy") / "ds", tracks=3, seconds=2.0, seed=2)


@pytest.fixture(scope="module")
def config(toy):
    from adtos.transcriber.config import TrainConfig

    return TrainConfig(train=str(toy), val=str(toy), out="", max_steps=4, **TINY)


@pytest.fixture(scope="module")
def whole(config, tmp_path_factory):
    from adtos.transcriber.train import train

    out = tmp_path_factory.mktemp("whole") / "run"
    train(replace(config, out=str(out)))
    return out


def _rows(run):
    with open(run / "metrics.csv", newline="") as handle:
        return [{k: v for k, v in row.items() if k not in TIMING} for row in csv.DictReader(handle)]


def _partials(run):
    return sorted(p.name for p in run.rglob("*") if ".partial" in p.name)


# (the file being written, kill during or after writing it, at which validation); with
# seed 3 only the first validation improves, so best.pt is written at the first only
SAVE_POINTS = [(target, when, validation)
               for target, when in (("last.pt", "during"), ("last.pt", "after"),
                                    ("best.pt", "after"), ("metrics.csv", "during"))
               for validation in (1, 2) if not (target == "best.pt" and validation == 2)]


@pytest.mark.parametrize("target,when,validation", SAVE_POINTS)
def test_a_kill_anywhere_in_a_validations_save_resumes_to_the_same_run(
        config, whole, tmp_path, monkeypatch, target, when, validation):
    import torch

    import importlib

    train_module = importlib.import_module("adtos.transcriber.train")

    seen = {"last.pt": 0, "best.pt": 0, "metrics.csv": 0}

    def hook(name, write, path, *args):
        seen[name] += 1
        if seen[name] != validation or name != target:
            return write(path, *args)
        if when == "during":  # a real kill leaves the temporary file behind
            path.parent.mkdir(parents=True, exist_ok=True)  # as atomic_path makes it
            (path.parent / f".{path.stem}.x1y2.partial{path.suffix}").write_bytes(b"torn")
            raise Killed
        write(path, *args)
        raise Killed

    save_checkpoint, write_metrics = train_module.save_checkpoint, train_module.write_metrics
    monkeypatch.setattr(train_module, "save_checkpoint",
                        lambda path, c: hook(path.name, save_checkpoint, path, c))
    monkeypatch.setattr(train_module, "write_metrics",
                        lambda path, rows: hook(path.name, write_metrics, path, rows))
    run = tmp_path / "run"
    with pytest.raises(Killed):
        train_module.train(replace(config, out=str(run)))
    monkeypatch.undo()

    train_module.resume_training(run)
    assert _rows(run) == _rows(whole)                       # no row lost or doubled
    assert _partials(run) == []
    a = torch.load(whole / "checkpoints" / "best.pt", weights_only=True)
    b = torch.load(run / "checkpoints" / "best.pt", weights_only=True)
    assert a["state"]["step"] == b["state"]["step"]
    for name, tensor in a["model"].items():
        assert torch.equal(tensor, b["model"][name]), name
    assert json.loads((run / "results.json").read_text())["result"]["steps"] == 4


def test_a_run_shorter_than_one_validation_interval_validates_at_its_end(config, tmp_path,
                                                                          caplog, capsys):
    from adtos.transcriber.train import train

    run = tmp_path / "run"
    with caplog.at_level(logging.INFO, logger="adtos"):
        result = train(replace(config, out=str(run), max_steps=5, val_every=100))
    assert [r["step"] for r in _rows(run)] == ["5"] and result.steps == 5
    # The CPU time estimate is logged (a library caller can silence it), not printed.
    estimate = [r.getMessage() for r in caplog.records if r.name == "adtos.transcriber.train"]
    assert any("a step takes" in line for line in estimate)
    assert any("5 steps will take" in line for line in estimate)
    assert capsys.readouterr().out == ""


def test_the_progress_bar_has_a_total():
    from adtos.transcriber.config import TrainConfig
    from adtos.transcriber.train import TrainState, _bar_total

    config = TrainConfig("", "", "", val_every=128, patience=25)
    assert _bar_total(config, TrainState()) == 3200                  # earliest early stop
    assert _bar_total(config, TrainState(step=4000, best_step=3000)) == 6200
    assert _bar_total(replace(config, max_steps=500), TrainState()) == 500


def test_a_bad_test_set_fails_before_training(toy, tmp_path, capsys):
    from adtos.cli import main

    empty = tmp_path / "empty"
    empty.mkdir()
    code = main(["train", "--train", str(toy), "--val", str(toy), "--out", str(tmp_path / "run"),
                 "--test", f"x=mdb:{empty}", "--max-steps", "50", "--width", "0.25",
                 "--workers", "0", "--feature-workers", "0", "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2 and "--test x=mdb:" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "run" / "checkpoints" / "last.pt").exists()


def test_resume_evaluates_on_the_test_sets_it_is_given(config, whole, toy, tmp_path, capsys):
    from adtos.cli import main

    run = tmp_path / "run"
    shutil.copytree(whole, run)
    assert main(["train", "--resume", str(run), "--test", f"again=adtos:{toy}",
                 "--no-progress"]) == 0
    captured = capsys.readouterr()
    # The result table on stdout, what happened on the way on stderr under the command's name.
    table = captured.out.splitlines()
    assert table[0].split() == ["set", "class", "BCE", "P", "R", "F", "F/track"]
    assert {line.split()[0] for line in table[1:-1]} == {"val", "again"}
    assert table[-1].startswith("4 steps, ")
    assert f"[adtos train] resuming {run} at step 4" in captured.err
    assert "[adtos train] best model (step " in captured.err
    results = json.loads((run / "results.json").read_text())
    assert results["sets"]["again"]["tracks"] == 3
    assert json.loads((run / "config.json").read_text())["tests"] == {"again": f"adtos:{toy}"}


def test_resume_of_a_run_without_a_checkpoint_starts_it_afresh(config, whole, tmp_path):
    from adtos.transcriber.train import resume_training

    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text(replace(config, out=str(run)).to_json())
    resume_training(run)
    assert _rows(run) == _rows(whole)


@pytest.mark.parametrize("damage", ["truncated", "garbage", "empty"])
def test_a_damaged_checkpoint_is_called_damaged(whole, tmp_path, capsys, damage):
    from adtos.cli import main

    run = tmp_path / "run"
    shutil.copytree(whole, run)
    best = run / "checkpoints" / "best.pt"
    data = best.read_bytes()
    best.write_bytes({"truncated": data[:len(data) // 2], "garbage": bytes(range(256)) * 40,
                      "empty": b""}[damage])
    assert main(["transcribe", str(run), "x.wav", "--out", str(tmp_path / "o"),
                 "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "damaged" in err and "weights_only" not in err and len(err.strip().splitlines()) == 1


def test_transcribe_with_one_good_and_one_missing_file_fails_and_names_it(whole, toy, tmp_path,
                                                                          capsys):
    from adtos.cli import main

    good = toy / "audio" / "toy00000.flac"
    missing = tmp_path / "missing.wav"
    code = main(["transcribe", str(whole), str(good), str(missing), "--out", str(tmp_path / "o"),
                 "--no-progress"])
    err = capsys.readouterr().err
    assert code == 1 and (tmp_path / "o" / "toy00000.txt").is_file()
    assert f"skipped {missing}: audio file not found" in err and "System error" not in err


def test_evaluate_on_a_folder_that_is_not_a_run_says_so(tmp_path, toy, capsys):
    from adtos.cli import main

    assert main(["evaluate", str(tmp_path), "--test", f"t=adtos:{toy}", "--no-progress"]) == 2
    err = capsys.readouterr().err.strip()
    assert "is not a training run folder" in err and "Errno" not in err
    assert len(err.splitlines()) == 1

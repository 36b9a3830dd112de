"""Training on a tiny generated dataset: the loss falls, a resumed run equals an
uninterrupted one, checkpoints refuse the wrong model, and the three commands run."""

from __future__ import annotations

import csv
import json
from dataclasses import replace

import pytest

from adtos.transcriber.toy import make_toy_dataset

pytestmark = pytest.mark.usefixtures("one_torch_thread")

TINY = dict(width=0.25, batch_size=4, snippet_seconds=0.5, warmup_steps=2, val_every=4,
            workers=0, feature_workers=0, progress=False)


class _Payload:
    """An arbitrary object: unpickling it could run code, so weights_only refuses it."""


@pytest.fixture(scope="module")
def toy_dataset(tmp_path_factory):
    root = tmp_path_factory.mktemp("toy") / "ds"
    return make_toy_dataset(root, tracks=4, seconds=4.0, seed=1)


@pytest.fixture(scope="module")
def trained_run(toy_dataset, tmp_path_factory):
    """A run trained through the command line."""
    from adtos.cli import main

    run_dir = tmp_path_factory.mktemp("runs") / "cli"
    code = main(["train", "--train", str(toy_dataset), "--val", str(toy_dataset),
                 "--test", f"toy=adtos:{toy_dataset}", "--out", str(run_dir),
                 "--width", "0.25", "--max-steps", "12", "--batch-size", "4",
                 "--snippet-seconds", "0.5", "--warmup-steps", "2", "--val-every", "4",
                 "--workers", "1", "--feature-workers", "0", "--no-progress"])
    assert code == 0
    return run_dir


def test_training_lowers_the_loss(trained_run, toy_dataset):
    import torch

    from adtos.transcriber.checkpoint import load_checkpoint, model_from_checkpoint
    from adtos.transcriber.config import TrainConfig
    from adtos.transcriber.model import CRNN
    from adtos.transcriber.train import prepare_set, validation_loss

    config = TrainConfig.from_json_file(trained_run / "config.json")
    tracks, _ = prepare_set(config, config.train, "train")
    torch.manual_seed(0)
    before = validation_loss(CRNN(width=0.25), tracks, "cpu").mean()
    best = trained_run / "checkpoints" / "best.pt"
    after = validation_loss(model_from_checkpoint(load_checkpoint(best)), tracks, "cpu").mean()
    assert after < before - 0.05, (before, after)
    rows = list(csv.DictReader(open(trained_run / "metrics.csv")))
    assert [int(r["step"]) for r in rows] == [4, 8, 12]
    assert float(rows[-1]["val_loss"]) < float(rows[0]["val_loss"])


def test_run_folder_holds_results_thresholds_and_loadable_checkpoints(trained_run):
    import torch

    for name in ("config.json", "metrics.csv", "thresholds.json", "results.json",
                 "checkpoints/best.pt", "checkpoints/last.pt"):
        assert (trained_run / name).is_file(), name
    results = json.loads((trained_run / "results.json").read_text())
    assert results["result"]["steps"] == 12 and results["result"]["stopped_by"] == "max_steps"
    assert set(results["result"]["test_f"]["toy"]) == {"BD", "SD", "TT", "HH", "CY", "all"}
    assert results["sets"]["toy"]["tracks"] == 4     # no "test" split: the whole set
    assert results["sets"]["val"]["tracks"] == 1
    thresholds = json.loads((trained_run / "thresholds.json").read_text())
    assert len(thresholds["thresholds"]) == 5
    last = torch.load(trained_run / "checkpoints" / "last.pt", weights_only=True)
    assert last["state"]["step"] == 12 and last["model_info"]["width"] == 0.25


def test_checkpoint_of_another_width_or_class_set_is_refused(trained_run, tmp_path):
    import torch

    from adtos.transcriber.checkpoint import (CheckpointError, load_checkpoint,
                                              model_from_checkpoint)

    checkpoint = load_checkpoint(trained_run / "checkpoints" / "best.pt")
    with pytest.raises(CheckpointError, match="width 0.25.*width 1"):
        model_from_checkpoint(checkpoint, "best.pt", width=1.0)
    other_classes = {**checkpoint, "model_info": {**checkpoint["model_info"],
                                                  "classes": ["BD", "SD", "HH"]}}
    with pytest.raises(CheckpointError, match="classes"):
        model_from_checkpoint(other_classes)
    wrong_width = {**checkpoint, "model_info": {**checkpoint["model_info"], "width": 0.5}}
    with pytest.raises(CheckpointError, match="do not fit"):
        model_from_checkpoint(wrong_width)
    torch.save({"model": {}, "payload": _Payload()}, tmp_path / "evil.pt")
    with pytest.raises(CheckpointError, match="cannot read"):   # weights_only refuses objects
        load_checkpoint(tmp_path / "evil.pt")


def test_evaluate_and_transcribe_commands(trained_run, toy_dataset, tmp_path, capsys):
    import pretty_midi

    from adtos.cli import main
    from adtos.datasets import load_dataset

    assert main(["evaluate", str(trained_run), "--test", f"again=adtos:{toy_dataset}",
                 "--no-progress"]) == 0
    report = capsys.readouterr().out
    assert "again" in report and "F/track" in report
    evaluation = json.loads((trained_run / "evaluation.json").read_text())
    results = json.loads((trained_run / "results.json").read_text())
    # same checkpoint, same thresholds, same data: the same figures as at the end of training
    assert evaluation["again"]["onsets"] == results["sets"]["toy"]["onsets"]
    assert evaluation["again"]["bce"]["mean"] == pytest.approx(results["sets"]["toy"]["bce"]["mean"])

    audio = toy_dataset / "audio" / "toy00000.flac"
    assert main(["transcribe", str(trained_run), str(audio), "--out", str(tmp_path / "tr"),
                 "--no-progress"]) == 0
    lines = (tmp_path / "tr" / "toy00000.txt").read_text().splitlines()
    midi = pretty_midi.PrettyMIDI(str(tmp_path / "tr" / "toy00000.mid"))
    assert midi.instruments[0].is_drum and len(midi.instruments[0].notes) == len(lines)
    # what transcribe writes, the ADTOS reader reads back as annotations
    (tmp_path / "tr" / "annotations").mkdir()
    (tmp_path / "tr" / "toy00000.txt").rename(tmp_path / "tr" / "annotations" / "toy00000.txt")
    back = load_dataset("adtos", tmp_path / "tr").tracks[0]
    assert back.onsets.size == len(lines)
    assert main(["transcribe", str(trained_run), str(tmp_path / "missing.wav"), "--out",
                 str(tmp_path / "tr"), "--no-progress"]) == 1


def test_stop_and_resume_equals_uninterrupted_run(toy_dataset, tmp_path):
    import torch

    from adtos.transcriber.config import TrainConfig
    from adtos.transcriber.train import resume_training, train

    base = TrainConfig(train=str(toy_dataset), val=str(toy_dataset), out="", seed=5,
                       **{**TINY, "val_every": 2})
    # validations at steps 2, 4, 6; the first part stops between two of them
    whole = train(replace(base, out=str(tmp_path / "whole"), max_steps=6, workers=1))
    train(replace(base, out=str(tmp_path / "parts"), max_steps=3))
    parts = resume_training(tmp_path / "parts", max_steps=6)
    assert whole.steps == parts.steps == 6

    a = torch.load(tmp_path / "whole" / "checkpoints" / "last.pt", weights_only=True)
    b = torch.load(tmp_path / "parts" / "checkpoints" / "last.pt", weights_only=True)
    for name, tensor in a["model"].items():
        assert torch.equal(tensor, b["model"][name]), name
    for key, value in a["optimizer"]["state"].items():
        for field, tensor in value.items():
            assert torch.equal(tensor, b["optimizer"]["state"][key][field]), (key, field)
    timing = ("wall_time_s", "snippets_per_s")

    def untimed(state):
        return {**state, "metrics": [{k: v for k, v in row.items() if k not in timing}
                                     for row in state["metrics"]]}
    assert untimed(a["state"]) == untimed(b["state"])
    assert torch.equal(a["rng"]["torch"], b["rng"]["torch"])

    def rows(run):
        return [{k: v for k, v in r.items() if k not in timing}
                for r in csv.DictReader(open(tmp_path / run / "metrics.csv"))]
    assert rows("whole") == rows("parts") and len(rows("whole")) == 3
    assert whole.val_f == parts.val_f and whole.val_loss == parts.val_loss


def test_a_new_run_refuses_a_used_folder(toy_dataset, trained_run):
    from adtos.transcriber.config import TrainConfig
    from adtos.transcriber.train import train

    with pytest.raises(FileExistsError, match="resume"):
        train(TrainConfig(train=str(toy_dataset), val=str(toy_dataset), out=str(trained_run),
                          max_steps=1, **TINY))


def test_parameter_counts_span_the_scaling_range():
    from adtos.transcriber.model import CRNN, parameter_count

    assert parameter_count(CRNN(width=0.7)) == pytest.approx(2e5, rel=0.2)
    assert parameter_count(CRNN(width=5.9)) == pytest.approx(1.6e7, rel=0.05)
    import torch
    out = CRNN(width=0.25)(torch.zeros(2, 37, 84))
    assert out.shape == (2, 37, 5)   # one output per input frame, any length


def test_validation_on_training_tracks_is_refused(tmp_path):
    from adtos.transcriber.config import TrainConfig
    from adtos.transcriber.train import train

    no_val = make_toy_dataset(tmp_path / "ds", tracks=2, seconds=2.0, splits=("train",))
    with pytest.raises(ValueError, match="also training tracks"):
        train(TrainConfig(train=str(no_val), val=f"adtos:{no_val}", out=str(tmp_path / "run"),
                          max_steps=1, **TINY))


def test_untrained_baseline_with_max_steps_0(toy_dataset, tmp_path):
    """--max-steps 0: no training, thresholds still tuned; the no-training baseline."""
    from adtos.transcriber.config import TrainConfig
    from adtos.transcriber.train import train

    result = train(TrainConfig(train=str(toy_dataset), val=str(toy_dataset),
                               out=str(tmp_path / "untrained"), max_steps=0, **TINY))
    assert result.steps == 0 and result.stopped_by == "max_steps"
    assert (tmp_path / "untrained" / "checkpoints" / "best.pt").is_file()
    assert 0.0 <= result.val_f["all"] <= 1.0 and result.val_loss > 0.5   # ~log 2 untrained


def test_ctrl_c_is_deferred_to_the_end_of_a_step():
    import os
    import signal

    from adtos.transcriber.train import _StopRequest

    # Python's default handler, or SIG_IGN when the tests run as a background job
    before = signal.getsignal(signal.SIGINT)
    with _StopRequest() as stop:
        os.kill(os.getpid(), signal.SIGINT)   # would raise KeyboardInterrupt outside
        assert stop.requested
        with pytest.raises(KeyboardInterrupt):  # a second Ctrl-C stops at once
            os.kill(os.getpid(), signal.SIGINT)
    assert signal.getsignal(signal.SIGINT) is before  # restored as it was


def test_commands_refuse_a_checkpoint_of_another_width(trained_run, tmp_path, capsys):
    import shutil

    from adtos.cli import main
    from adtos.transcriber.checkpoint import model_info, save_checkpoint
    from adtos.transcriber.model import CRNN

    run = tmp_path / "run"
    shutil.copytree(trained_run, run)
    other = CRNN(width=0.5)
    save_checkpoint(run / "checkpoints" / "best.pt",
                    {"model": other.state_dict(), "model_info": model_info(other)})
    assert main(["transcribe", str(run), "x.wav", "--out", str(tmp_path / "o"),
                 "--no-progress"]) == 2
    assert "width 0.5" in capsys.readouterr().err


def test_drum_transcriber_from_python_equals_the_command(trained_run, toy_dataset, tmp_path):
    import numpy as np

    from adtos.cli import main
    from adtos.datasets.audio import load_audio
    from adtos.transcriber.evaluate import load_thresholds
    from adtos.transcriber.predict import DrumTranscriber
    from adtos.vocab import CLASSES

    transcriber = DrumTranscriber.from_run(trained_run, device="cpu")
    assert transcriber.thresholds == load_thresholds(trained_run)
    audio_path = toy_dataset / "audio" / "toy00001.flac"
    onsets = transcriber(audio_path)
    assert list(onsets) == list(CLASSES)
    # the same from samples as from the file
    samples = load_audio(audio_path, sr=44100, mono=True)
    for name, times in transcriber(samples).items():
        np.testing.assert_array_equal(times, onsets[name])
    assert main(["transcribe", str(trained_run), str(audio_path), "--out", str(tmp_path),
                 "--no-progress"]) == 0
    rows = [line.split("\t") for line in (tmp_path / "toy00001.txt").read_text().splitlines()]
    for name in CLASSES:
        written = [float(t) for t, _, c in rows if c == name]
        np.testing.assert_allclose(written, onsets[name], atol=1e-6)
    with pytest.raises(FileNotFoundError, match="not found"):
        transcriber(tmp_path / "nothing.wav")


def test_a_packaged_model_transcribes_and_evaluates_without_a_run(trained_run, toy_dataset,
                                                                   tmp_path, monkeypatch, capsys):
    import numpy as np

    from adtos.cli import main
    from adtos.transcriber import package
    from adtos.transcriber.predict import DrumTranscriber

    monkeypatch.setattr(package, "MODELS_DIR", tmp_path / "models")
    folder = package.export_model(trained_run, tmp_path / "models" / "tiny")
    assert sorted(p.name for p in folder.iterdir()) == ["README.md", "config.json", "model.pt",
                                                        "thresholds.json"]
    card = (folder / "README.md").read_text()
    assert card.startswith("# tiny") and "| toy (" in card and "29,517 parameters" in card

    audio = toy_dataset / "audio" / "toy00002.flac"
    from_run = DrumTranscriber.from_run(trained_run, device="cpu")(audio)
    for name, times in DrumTranscriber.from_model("tiny", device="cpu")(audio).items():
        np.testing.assert_array_equal(times, from_run[name])
    assert main(["transcribe", "--model", "tiny", str(audio), "--out", str(tmp_path / "a"),
                 "--no-progress"]) == 0
    assert main(["transcribe", str(trained_run), str(audio), "--out", str(tmp_path / "b"),
                 "--no-progress"]) == 0
    assert (tmp_path / "a" / "toy00002.txt").read_text() == \
        (tmp_path / "b" / "toy00002.txt").read_text()
    capsys.readouterr()
    assert main(["evaluate", "--model", "tiny", "--test", f"toy=adtos:{toy_dataset}",
                 "--no-progress"]) == 0
    assert "toy" in capsys.readouterr().out and not (folder / "evaluation.json").exists()
    assert main(["transcribe", "--model", "nope", str(audio), "--out", str(tmp_path / "c"),
                 "--no-progress"]) == 2
    assert "available: tiny" in capsys.readouterr().err

"""Training recipes (`adtos train --recipe`): the CPU recipe leaves the base-rate
plateau within a few dozen steps, where the paper's recipe is still learning the
base rates; options given beside a recipe override it; its model options reach
the checkpoint and come back from it."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from adtos.errors import ConfigError
from adtos.transcriber.config import RECIPES, TrainConfig
from adtos.transcriber.toy import make_toy_dataset

pytestmark = pytest.mark.usefixtures("one_torch_thread")

# Small enough for `make test`: 5 training tracks of 6 s, 40 steps of 8 snippets of 1 s,
# at one learning rate for both recipes, so that only the model and its start differ.
SMALL = dict(width=0.25, max_steps=40, val_every=10, batch_size=8, snippet_seconds=1.0,
             learning_rate=0.002, warmup_steps=5, workers=0, feature_workers=0, progress=False)


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    return make_toy_dataset(tmp_path_factory.mktemp("recipe") / "ds", tracks=6, seconds=6.0,
                            seed=1)


def base_rate_loss(config: TrainConfig) -> float:
    """The validation BCE of predicting each class's onset frequency in every frame."""
    from adtos.transcriber.train import FPS, prepare_set

    tracks, _ = prepare_set(config, config.val, "val")
    targets = np.concatenate([track.targets(FPS) for track in tracks])
    p = targets.mean(axis=0)
    return float(np.mean(-(p * np.log(p) + (1 - p) * np.log(1 - p))))


def val_losses(run_dir) -> list[float]:
    return [float(row["val_loss"]) for row in csv.DictReader(open(run_dir / "metrics.csv"))]


def test_cpu_recipe_learns_onsets_where_the_paper_recipe_is_still_at_base_rates(toy, tmp_path):
    from adtos.transcriber.train import train

    losses = {}
    for recipe in ("cpu", "paper"):
        config = TrainConfig.from_recipe(recipe, train=str(toy), val=str(toy),
                                         out=str(tmp_path / recipe), **SMALL)
        train(config)
        losses[recipe] = val_losses(tmp_path / recipe)
    base = base_rate_loss(config)
    # the plateau's regression test: 40 steps take the CPU recipe well under base rates
    assert losses["cpu"][-1] < 0.85 * base, (losses, base)
    # ... where the paper's recipe (PyTorch's initialization, raw input) is still above them
    assert losses["paper"][-1] > base, (losses, base)


def test_options_given_beside_a_recipe_override_it():
    config = TrainConfig.from_recipe("cpu", train="a", val="b", out="c", width=1.5,
                                     learning_rate=None)
    assert config.recipe == "cpu" and config.width == 1.5
    assert config.learning_rate == RECIPES["cpu"]["learning_rate"]  # None takes the recipe's
    assert config.flux and config.input_norm and config.gru_layers == 1
    paper = TrainConfig.from_recipe("paper", train="a", val="b", out="c")
    assert paper == TrainConfig("a", "b", "c")  # the paper recipe is the defaults
    with pytest.raises(ConfigError, match="unknown training recipe 'gpu'"):
        TrainConfig.from_recipe("gpu", train="a", val="b", out="c")


def test_cli_recipe_reaches_the_run_and_its_checkpoint(toy, tmp_path):
    import torch

    from adtos.cli import main
    from adtos.transcriber.checkpoint import load_checkpoint, model_from_checkpoint

    run_dir = tmp_path / "cli"
    assert main(["train", "--recipe", "cpu", "--train", str(toy), "--val", str(toy),
                 "--out", str(run_dir), "--width", "0.25", "--max-steps", "4",
                 "--batch-size", "4", "--snippet-seconds", "0.5", "--val-every", "2",
                 "--no-flux", "--workers", "0", "--feature-workers", "0",
                 "--no-progress"]) == 0
    config = json.loads((run_dir / "config.json").read_text())
    assert config["recipe"] == "cpu" and config["gru_layers"] == 1
    assert config["flux"] is False and config["input_norm"] is True  # --no-flux overrides
    assert config["learning_rate"] == RECIPES["cpu"]["learning_rate"]
    checkpoint = load_checkpoint(run_dir / "checkpoints" / "best.pt")
    assert checkpoint["model_info"]["gru_layers"] == 1
    model = model_from_checkpoint(checkpoint).eval()
    assert model.input_norm and not model.flux and model.gru.num_layers == 1
    with torch.no_grad():
        assert model(torch.zeros(1, 30, 84)).shape == (1, 30, 5)


def test_a_checkpoint_from_before_the_recipes_is_the_papers_model():
    from adtos.transcriber.checkpoint import model_from_checkpoint, model_info
    from adtos.transcriber.model import CRNN

    model = CRNN(width=0.25)
    info = {k: v for k, v in model_info(model).items()
            if k not in ("gru_layers", "flux", "input_norm")}
    loaded = model_from_checkpoint({"model": model.state_dict(), "model_info": info})
    assert loaded.gru.num_layers == 3 and not loaded.flux and loaded.norm is None


def test_flux_channel_is_the_positive_difference_over_time():
    import torch

    from adtos.transcriber.model import CRNN

    model = CRNN(width=0.25, flux=True).eval()
    seen = {}
    model.conv.register_forward_pre_hook(lambda module, inputs: seen.update(x=inputs[0]))
    features = torch.tensor([[0.0, 1.0, 3.0, 2.0, 2.0]]).T.repeat(1, 84)[None]  # (1, 5, 84)
    with torch.no_grad():
        model(features)
    assert seen["x"].shape == (1, 2, 5, 84)
    assert seen["x"][0, 1, :, 0].tolist() == [0.0, 1.0, 2.0, 0.0, 0.0]

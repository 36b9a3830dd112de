"""What a training run is asked to do (TrainConfig) and what it gives back (TrainResult).

TrainConfig is stored as RUN_DIR/config.json, so that `adtos train --resume
RUN_DIR` and `adtos evaluate RUN_DIR` know everything the run was started with.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from adtos.errors import AdtosError, ConfigError


class RunFolderError(AdtosError):
    """A run folder that cannot be written, or a folder that is not a training run."""


def default_workers() -> int:
    """Loader processes: half the cores, at least 1 and at most 8."""
    return max(1, min(8, (os.cpu_count() or 2) // 2))


@dataclass
class TrainConfig:
    train: str                          # dataset spec: [KIND:]PATH or PATH:LIST.txt (a subset)
    val: str                            # dataset spec; its "val" split is used when it has one
    out: str                            # run folder
    tests: dict[str, str] = field(default_factory=dict)  # name -> [KIND:]PATH, e.g. "mdb:..."
    width: float = 1.0                  # CRNN width multiplier
    max_steps: int | None = None        # stop after this many steps (None: only patience stops)
    seed: int = 0
    device: str = "auto"                # auto | cpu | cuda
    train_tracks: list[str] | None = None  # restrict training to these track ids
    batch_size: int = 32
    snippet_seconds: float = 4.0
    learning_rate: float = 5e-4         # peak, reached after the warm-up
    warmup_steps: int = 128
    decay_steps: int = 8192             # the rate falls by decay_factor every decay_steps
    decay_factor: float = 0.1
    val_every: int = 128
    patience: int = 25                  # validations without improvement before stopping
    workers: int = field(default_factory=default_workers)  # loader processes (0: main process)
    feature_workers: int = field(default_factory=default_workers)  # processes computing features
    feature_cache: str | None = None    # cache folder for every dataset (default: features.default_cache_dir)
    target_widen: int = 0               # ±frames around an onset set to 0.5 in the targets
    gru_layers: int = 3                 # depth of the bidirectional GRU
    flux: bool = False                  # a positive-difference (spectral flux) input channel
    input_norm: bool = False            # batch norm over the input bands
    prior: float | None = None          # output bias starts at this onset probability
    pos_weight: float = 1.0             # weight of an onset frame against a silent one in the BCE
    recipe: str = "paper"               # the named defaults these options started from (RECIPES)
    label_policy: str = "default"       # adtos.transcriber.labels.parse_policy: default, none, ...
    progress: bool = True               # tqdm progress bar

    def __post_init__(self) -> None:
        if self.recipe not in RECIPES:
            raise ConfigError(f"unknown training recipe {self.recipe!r}; expected one of "
                              f"{', '.join(RECIPES)}")

    @classmethod
    def from_recipe(cls, recipe: str = "paper", **options) -> "TrainConfig":
        """A config from a named recipe's settings (RECIPES), with `options` over them;
        an option given as None takes the recipe's value."""
        given = {name: value for name, value in options.items() if value is not None}
        # an unknown name gets no settings here and is refused by __post_init__
        return cls(**{**RECIPES.get(recipe, {}), **given, "recipe": recipe})

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_json_file(cls, path: str | os.PathLike) -> "TrainConfig":
        try:
            data = json.loads(Path(path).read_text())
        except FileNotFoundError:
            raise RunFolderError(f"{Path(path).parent} is not a training run folder "
                                 f"(no {Path(path).name})") from None
        except (OSError, ValueError) as error:
            raise RunFolderError(f"{path}: cannot read the run's config ({error})") from None
        # A run started before label policies existed was taught every onset; keep it so.
        data.setdefault("label_policy", "none")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"{path}: unknown training options {unknown}")
        return cls(**data)


# Named sets of training options (`adtos train --recipe NAME`; options given beside
# a recipe override it). "paper" is the dataclass defaults above: the paper's
# recipe, for a GPU. "cpu" learns onset positions within minutes on a 2-core
# machine (docs/transcriber.md, "Recipes"; benchmarks/RESULTS.md, "A CPU recipe
# without the plateau", measures each of its settings).
RECIPES: dict[str, dict] = {
    "paper": {},
    "cpu": {"width": 0.5, "batch_size": 16, "snippet_seconds": 2.0, "learning_rate": 0.001,
            "warmup_steps": 25, "decay_steps": 1200, "val_every": 100, "patience": 5,
            "max_steps": 1200, "gru_layers": 1, "flux": True, "input_norm": True,
            "prior": 0.01},
}


@dataclass
class TrainResult:
    params: int
    steps: int
    val_loss: float                                    # best validation BCE (mean over classes)
    test_loss: dict[str, float]                        # test set -> BCE, mean over classes
    test_loss_per_class: dict[str, dict[str, float]]   # test set -> class -> BCE
    test_f: dict[str, dict[str, float]]                # test set -> class or "all" -> F (sum over tracks)
    wall_time_s: float
    run_dir: str
    val_f: dict[str, float] = field(default_factory=dict)  # same model, its own validation set
    stopped_by: str = ""                               # "patience", "max_steps" or "interrupted"

"""What a training run is asked to do (TrainConfig) and what it gives back (TrainResult).

TrainConfig is stored as RUN_DIR/config.json, so that `adtos train --resume
RUN_DIR` and `adtos evaluate RUN_DIR` know everything the run was started with.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from adtos.errors import AdtosError


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
    label_policy: str = "default"       # adtos.transcriber.labels.parse_policy: default, none, ...
    progress: bool = True               # tqdm progress bar

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

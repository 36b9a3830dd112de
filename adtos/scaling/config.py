"""The sweep configuration: which datasets, which n, which widths, which tests.

    [sweep]
    n = [1, 2, 4, 8]        # omit: 1, 2, 4, ... up to the training tracks (n_max caps it)
    n_max = 64
    widths = [0.5, 1.0]     # CRNN width multipliers; the best per n is kept
    seed = 0
    device = "auto"
    val = "PATH"            # validation set for datasets that do not name their own
    fit = ["test_loss"]     # columns fitted after the sweep
    fit_per_class = false
    bootstrap = 1000

    [train]                 # any adtos.transcriber.TrainConfig option, for every run
    max_steps = 512
    patience = 5
    label_policy = "default"  # which onsets are taught (adtos.transcriber.labels.parse_policy)

    [tests]
    mdb = "mdb:../../shared/data/mdb_drums"

    [[datasets]]
    name = "gmd-pop909"     # names the curve with variant; dataset and variant go into results.csv
    variant = "4voices"
    path = "../out/adtos"   # [KIND:]PATH; relative paths are relative to this file
    subset = "p8_r4.txt"    # optional: train on these ids (in list order) instead of the train split
    val = "PATH"            # optional, else [sweep].val, else the dataset itself (its val split)
    reference = false       # true for a real-data reference curve

Every problem is reported at once, naming the field and what was expected.
"""

from __future__ import annotations

import math
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from adtos.datasets import DatasetSpec
from adtos.errors import ConfigError
from adtos.transcriber.config import RECIPES, TrainConfig
from adtos.transcriber.labels import parse_policy

TRAIN_OPTIONS_FIXED = {"train", "val", "out", "tests", "width", "seed", "device", "train_tracks"}


class SweepConfigError(ValueError):
    """A sweep configuration that cannot be run; the message lists every problem."""


@dataclass
class SweepDataset:
    name: str
    variant: str
    path: str  # dataset spec [KIND:]PATH, paths resolved
    subset: str | None = None  # a file of track ids
    val: str | None = None
    reference: bool = False

    @property
    def label(self) -> str:
        return f"{self.name}-{self.variant}"


@dataclass
class SweepConfig:
    datasets: list[SweepDataset]
    sizes: list[int] | None = None  # None: powers of two up to the training tracks
    n_max: int | None = None
    widths: list[float] = field(default_factory=lambda: [1.0])
    seed: int = 0
    device: str = "auto"
    tests: dict[str, str] = field(default_factory=dict)
    train_options: dict = field(default_factory=dict)
    fit_columns: list[str] | None = None  # None: test_loss when there are tests, else val_loss
    fit_per_class: bool = False
    bootstrap: int = 1000


def resolve_spec(spec: str, base: Path) -> str:
    """`[KIND:]PATH[:LIST.txt]` with relative paths taken from `base` (the config's folder)."""
    return str(DatasetSpec.parse(spec).resolved(base))


def default_sizes(available: int, n_max: int | None = None) -> list[int]:
    """1, 2, 4, ... below the limit, then the limit itself (the whole training set)."""
    limit = min(available, n_max) if n_max else available
    if limit < 1:
        return []
    sizes = [2 ** k for k in range(int(math.log2(limit)) + 1)]
    if sizes[-1] != limit:
        sizes.append(limit)
    return sizes


def load_sweep_config(path: str | os.PathLike) -> SweepConfig:
    """Read and check a sweep TOML file; raise SweepConfigError listing every problem."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as error:
        raise SweepConfigError(f"{path}: not valid TOML: {error}") from None
    return parse_sweep_config(data, path.parent.resolve(), str(path))


def parse_sweep_config(data: dict, base: Path, source: str = "config") -> SweepConfig:
    problems: list[str] = []
    known_sections = {"sweep", "train", "tests", "datasets"}
    for name in sorted(set(data) - known_sections):
        problems.append(f"unknown section [{name}]; expected {', '.join(sorted(known_sections))}")

    sweep = data.get("sweep", {})
    known_keys = {"n", "n_max", "widths", "seed", "device", "val", "fit", "fit_per_class",
                  "bootstrap"}
    for name in sorted(set(sweep) - known_keys):
        problems.append(f"[sweep] {name}: unknown key; expected one of {', '.join(sorted(known_keys))}")
    config = SweepConfig(datasets=[])

    if "n" in sweep:
        sizes = sweep["n"]
        if (not isinstance(sizes, list) or not sizes
                or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in sizes)):
            problems.append(f"[sweep] n: expected a list of positive integers, got {sizes!r}")
        else:
            config.sizes = sorted(set(sizes))
    if "n_max" in sweep:
        if not isinstance(sweep["n_max"], int) or sweep["n_max"] < 1:
            problems.append(f"[sweep] n_max: expected a positive integer, got {sweep['n_max']!r}")
        else:
            config.n_max = sweep["n_max"]
    if "widths" in sweep:
        widths = sweep["widths"]
        if (not isinstance(widths, list) or not widths
                or not all(isinstance(w, (int, float)) and not isinstance(w, bool) and w > 0
                           for w in widths)):
            problems.append(f"[sweep] widths: expected a list of positive numbers, got {widths!r}")
        else:
            config.widths = sorted(set(float(w) for w in widths))
    if not isinstance(sweep.get("seed", 0), int):
        problems.append(f"[sweep] seed: expected an integer, got {sweep['seed']!r}")
    config.seed = sweep.get("seed", 0)
    if sweep.get("device", "auto") not in ("auto", "cpu", "cuda"):
        problems.append(f"[sweep] device: expected auto, cpu or cuda, got {sweep['device']!r}")
    config.device = sweep.get("device", "auto")
    fit = sweep.get("fit")
    if fit is not None:
        if isinstance(fit, str):
            fit = [fit]
        if not isinstance(fit, list) or not all(isinstance(c, str) and c for c in fit):
            problems.append(f"[sweep] fit: expected a column name or a list of them, got {fit!r}")
        else:
            config.fit_columns = fit
    config.fit_per_class = bool(sweep.get("fit_per_class", False))
    bootstrap = sweep.get("bootstrap", 1000)
    if not isinstance(bootstrap, int) or bootstrap < 0:
        problems.append(f"[sweep] bootstrap: expected an integer >= 0, got {bootstrap!r}")
    else:
        config.bootstrap = bootstrap
    default_val = sweep.get("val")
    if default_val is not None and not isinstance(default_val, str):
        problems.append(f"[sweep] val: expected a dataset path, got {default_val!r}")
        default_val = None

    train = data.get("train", {})
    option_names = set(TrainConfig.__dataclass_fields__) - TRAIN_OPTIONS_FIXED
    for name, value in train.items():
        if name in TRAIN_OPTIONS_FIXED:
            problems.append(f"[train] {name}: set by the sweep itself "
                            f"({'use [sweep] ' + name if name in ('seed', 'device') else 'not allowed here'})")
        elif name not in option_names:
            problems.append(f"[train] {name}: not a training option; expected one of "
                            f"{', '.join(sorted(option_names))}")
        else:
            config.train_options[name] = value
            if name == "label_policy":
                problems.extend(_policy_problems(value))
            if name == "recipe" and value not in RECIPES:
                problems.append(f"[train] recipe: expected one of {', '.join(RECIPES)}, "
                                f"got {value!r}")

    tests = data.get("tests", {})
    for name, spec in tests.items():
        if not isinstance(spec, str):
            problems.append(f"[tests] {name}: expected \"KIND:PATH\", got {spec!r}")
        else:
            config.tests[name] = resolve_spec(spec, base)

    datasets = data.get("datasets", [])
    if not isinstance(datasets, list) or not datasets:
        problems.append("[[datasets]]: expected at least one dataset (name, variant, path)")
        datasets = []
    labels = set()
    for number, entry in enumerate(datasets, start=1):
        where = f"[[datasets]] #{number}"
        unknown = set(entry) - {"name", "variant", "path", "subset", "val", "reference"}
        for name in sorted(unknown):
            problems.append(f"{where} {name}: unknown key; expected name, variant, path, subset, "
                            "val, reference")
        if not isinstance(entry.get("path"), str):
            problems.append(f"{where} path: expected the dataset folder as a string")
            continue
        path = resolve_spec(entry["path"], base)
        name = str(entry.get("name") or DatasetSpec.parse(path).path.name)
        variant = str(entry.get("variant", "default"))
        for field_name, value in (("name", name), ("variant", variant)):
            if not value or "/" in value or value.startswith("."):
                problems.append(f"{where} {field_name}: {value!r} cannot name a folder")
        if (name, variant) in labels:
            problems.append(f"{where}: dataset {name!r} variant {variant!r} is listed twice")
        labels.add((name, variant))
        subset = entry.get("subset")
        if subset is not None:
            subset = os.path.normpath(base / subset) if not Path(subset).is_absolute() else subset
        val = entry.get("val", default_val)
        config.datasets.append(SweepDataset(
            name=name, variant=variant, path=path, subset=subset,
            val=resolve_spec(val, base) if isinstance(val, str) else None,
            reference=bool(entry.get("reference", False))))

    if problems:
        raise SweepConfigError(f"{source}:\n  " + "\n  ".join(problems))
    return config


def _policy_problems(value) -> list[str]:
    if not isinstance(value, str):
        return [f"[train] label_policy: expected a string such as \"default\", got {value!r}"]
    try:
        parse_policy(value)
    except ConfigError as error:
        return [f"[train] label_policy: {error}"]
    return []

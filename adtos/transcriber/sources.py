"""Which tracks a run reads, through the dataset API (adtos.datasets).

A spec is `[KIND:]PATH`, optionally `PATH:LIST.txt` for a subset (a text file of
track ids, one per line), parsed by adtos.datasets.DatasetSpec. From a dataset with splits, training reads the
"train" split, validation the "val" split and a test the "test" split; a
dataset without that split is read whole (with a warning when it has other
splits, since then whole means mixing them).
"""

from __future__ import annotations

import logging
from pathlib import Path

from adtos.datasets import DatasetSpec
from adtos.datasets.common import select
from adtos.transcriber.data import prepare_tracks
from adtos.transcriber.features import DEFAULT_SETTINGS, default_cache_dir
from adtos.transcriber.labels import parse_policy

logger = logging.getLogger(__name__)


def load_tracks(spec: str | DatasetSpec, split: str | None, track_ids: list[str] | None = None):
    """(name, dataset root, tracks) for a dataset spec; `split` None reads every track.

    `track_ids` (and a spec's `:LIST.txt`) keep the tracks listed, in the listed
    order (a sweep takes the first n); a listed id outside `split` is an error.
    """
    spec = DatasetSpec.parse(spec) if isinstance(spec, str) else spec
    dataset = spec.load()
    tracks = list(dataset.tracks)
    splits = sorted({t.split for t in tracks if t.split})
    if split is not None and split in splits:
        in_split = [t for t in tracks if t.split == split]
        if spec.subset is not None and len(in_split) < len(tracks):
            outside = [t.track_id for t in tracks if t.split != split]
            raise ValueError(f"{spec}: {len(outside)} listed track ids are not in the {split} "
                             f"split, e.g. {outside[:3]}")
        tracks = in_split
    elif split is not None and splits and not track_ids and spec.subset is None:
        logger.warning(f"{spec} has splits {', '.join(splits)} but no {split!r}; "
                       f"reading all {len(tracks)} tracks")
    if track_ids:
        by_id = {t.track_id: t for t in tracks}
        where = f"{spec} ({split or 'whole'} split)"
        tracks = [by_id[i] for i in select(list(by_id), track_ids, where)]
    if not tracks:
        raise ValueError(f"{spec}: no tracks" + (f" in split {split!r}" if split else ""))
    return dataset.name, Path(dataset.root), tracks


def prepare_set(config, spec: str, split: str, track_ids=None):
    """Prepared tracks of one dataset split (features cached) and the tracks skipped.

    `config` is a TrainConfig (its feature cache, workers and progress are used).
    """
    spec = DatasetSpec.parse(spec)
    name, root, tracks = load_tracks(spec, split, track_ids)
    cache = Path(config.feature_cache) if config.feature_cache else default_cache_dir(root, spec.kind)
    # The label policy shapes what the model is taught and validated on, not the test sets.
    policy = parse_policy(config.label_policy) if split in ("train", "val") else None
    prepared, errors = prepare_tracks(tracks, cache, DEFAULT_SETTINGS, config.feature_workers,
                                      desc=f"features {name}", progress=config.progress,
                                      policy=policy)
    for track_id, reason in errors:
        logger.warning(f"skipped track {track_id} of {spec}: {reason}")
    if not prepared:
        raise ValueError(f"{spec}: none of its {len(tracks)} tracks could be read")
    return prepared, errors


def prepare_tests(config, tests: dict[str, str]) -> dict[str, tuple]:
    """Every test set read and its features cached: name -> (spec, prepared, skipped).

    Done before training or evaluating, so that a wrong test set fails at once.
    """
    sets = {}
    for name, spec in tests.items():
        try:
            prepared, errors = prepare_set(config, spec, "test")
        except (OSError, ValueError) as error:
            raise ValueError(f"--test {name}={spec}: {error}") from None
        sets[name] = (spec, prepared, errors)
    return sets

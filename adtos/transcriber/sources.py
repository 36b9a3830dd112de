"""Which tracks a run reads, through the dataset API (adtos.datasets).

A spec is `[KIND:]PATH`, optionally `PATH:LIST.txt` for a subset (a text file of
track ids, one per line). From a dataset with splits, training reads the
"train" split, validation the "val" split and a test the "test" split; a
dataset without that split is read whole (with a warning when it has other
splits, since then whole means mixing them).
"""

from __future__ import annotations

from pathlib import Path

from adtos.datasets import load_dataset, parse_dataset_spec
from adtos.transcriber.data import prepare_tracks
from adtos.transcriber.features import DEFAULT_SETTINGS, default_cache_dir


def _split_subset(path: str) -> tuple[str, Path | None]:
    head, sep, tail = path.rpartition(":")
    if sep and tail.endswith(".txt") and not Path(path).exists():
        return head, Path(tail)
    return path, None


def read_id_list(path: Path) -> list[str]:
    if not path.is_file():
        raise FileNotFoundError(f"subset list not found: {path}")
    ids = [line.strip() for line in path.read_text().splitlines()]
    return [i for i in ids if i and not i.startswith("#")]


def load_tracks(spec: str, split: str | None, track_ids: list[str] | None = None):
    """(name, dataset root, tracks) for a dataset spec; `split` None reads every track."""
    name, kind, path = parse_dataset_spec(spec)
    path, subset_file = _split_subset(path)
    dataset = load_dataset(kind, path)
    tracks = list(dataset.tracks)
    splits = sorted({t.split for t in tracks if t.split})
    if split is not None and split in splits:
        tracks = [t for t in tracks if t.split == split]
    elif split is not None and splits and not track_ids and subset_file is None:
        print(f"warning: {spec} has splits {', '.join(splits)} but no {split!r}; "
              f"reading all {len(tracks)} tracks")
    wanted = list(track_ids or [])
    if subset_file is not None:
        wanted += read_id_list(subset_file)
    if wanted:
        known = {t.track_id: t for t in tracks}
        missing = [i for i in wanted if i not in known]
        if missing:
            raise ValueError(f"{spec}: {len(missing)} listed track ids are not in the "
                             f"{split or 'whole'} split, e.g. {missing[:3]}")
        tracks = [known[i] for i in dict.fromkeys(wanted)]
    if not tracks:
        raise ValueError(f"{spec}: no tracks" + (f" in split {split!r}" if split else ""))
    return name, Path(dataset.root), tracks


def prepare_set(config, spec: str, split: str, track_ids=None):
    """Prepared tracks of one dataset split (features cached) and the tracks skipped.

    `config` is a TrainConfig (its feature cache, workers and progress are used).
    """
    name, root, tracks = load_tracks(spec, split, track_ids)
    cache = (Path(config.feature_cache) if config.feature_cache
             else default_cache_dir(root, parse_dataset_spec(spec)[1]))
    prepared, errors = prepare_tracks(tracks, cache, DEFAULT_SETTINGS, config.feature_workers,
                                      desc=f"features {name}", progress=config.progress)
    for track_id, reason in errors:
        print(f"skipped track {track_id} of {spec}: {reason}")
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

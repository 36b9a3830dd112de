"""Which reader reads which kind of dataset."""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from pathlib import Path

from adtos.datasets.track import Dataset

# kind -> "module:function"; readers are imported on first use.
READERS: dict[str, str] = {
    "adtos": "adtos.datasets.adtos_reader:read_adtos",
    "mdb": "adtos.datasets.mdb:read_mdb_drums",
    "enst": "adtos.datasets.enst:read_enst_drums",
    "rbma13": "adtos.datasets.rbma:read_rbma13",
    "adtof": "adtos.datasets.adtof:read_adtof",
}


def _reader(kind: str) -> Callable[..., Dataset]:
    if kind not in READERS:
        raise ValueError(f"unknown dataset kind {kind!r}; expected one of {', '.join(READERS)}")
    module_name, function_name = READERS[kind].split(":")
    return getattr(importlib.import_module(module_name), function_name)


def load_dataset(kind: str, path: str | os.PathLike, **options) -> Dataset:
    """Read a dataset of the given kind from `path`.

    `path` may be `FOLDER:LIST.txt` (a subset: the track ids listed in the
    file); every reader also takes `subset=` (ids or a list file) and `name=`.
    """
    text = str(path)
    path = Path(path)
    if not path.exists():
        head, sep, tail = text.rpartition(":")
        if sep and head and Path(head).exists() and Path(tail).is_file():
            options.setdefault("subset", tail)
            path = Path(head)
        else:
            raise FileNotFoundError(f"{kind} dataset not found: {path}")
    return _reader(kind)(path, **options)


def parse_dataset_spec(spec: str, default_kind: str = "adtos") -> tuple[str, str, str]:
    """`[NAME=][KIND:]PATH` -> (name, kind, path). The name defaults to the folder name."""
    name = None
    if "=" in spec:
        name, spec = spec.split("=", 1)
    kind = default_kind
    head, sep, tail = spec.partition(":")
    if sep and head in READERS:
        kind, spec = head, tail
    path = spec
    return name or Path(path.split(":")[0]).name, kind, path

"""Which reader reads which kind of dataset."""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from adtos.datasets.track import Dataset

# kind -> "module:function"; readers are imported on first use.
READERS: dict[str, str] = {
    "adtos": "adtos.datasets.adtos_reader:read_adtos",
    "mdb": "adtos.datasets.mdb:read_mdb_drums",
    "mdb_drum_only": "adtos.datasets.mdb:read_mdb_drum_only",
    "enst": "adtos.datasets.enst:read_enst_drums",
    "rbma13": "adtos.datasets.rbma:read_rbma13",
    "adtof": "adtos.datasets.adtof:read_adtof",
}
DEFAULT_KIND = "adtos"


def _reader(kind: str) -> Callable[..., Dataset]:
    if kind not in READERS:
        raise ValueError(f"unknown dataset kind {kind!r}; expected one of {', '.join(READERS)}")
    module_name, function_name = READERS[kind].split(":")
    return getattr(importlib.import_module(module_name), function_name)


@dataclass(frozen=True)
class DatasetSpec:
    """A dataset as the command line and config files name it: `[NAME=][KIND:]PATH[:LIST.txt]`.

        DatasetSpec.parse("mdb=mdb:../shared/data/mdb_drums")
        DatasetSpec.parse("out/adtos:out/p16_r2.txt")      # an ADTOS subset
        spec.load()                                         # the Dataset

    NAME= is taken when the text before the first `=` holds no `/` or `:`;
    KIND: when the text before the first `:` is a known reader kind (default
    `adtos`); a trailing `:LIST.txt` is a file of track ids unless the whole
    path exists as it is.
    """

    kind: str
    path: Path
    subset: Path | None = None  # a file of track ids, one a line
    name: str | None = None     # as given with NAME=; `label` falls back to the folder name

    @classmethod
    def parse(cls, text: str, default_kind: str = DEFAULT_KIND) -> "DatasetSpec":
        text = str(text)
        name = None
        head, sep, rest = text.partition("=")
        if sep and head and "/" not in head and ":" not in head:
            name, text = head, rest
        kind = default_kind
        head, sep, rest = text.partition(":")
        if sep and head in READERS:
            kind, text = head, rest
        elif (sep and head and "/" not in head and not rest.endswith(".txt")
              and not Path(text).exists() and not Path(head).exists()):
            raise ValueError(f"dataset {text!r}: unknown kind {head!r}; expected one of "
                             f"{', '.join(READERS)} (KIND:PATH)")
        subset = None
        folder, sep, listing = text.rpartition(":")
        if sep and folder and listing.endswith(".txt") and not Path(text).exists():
            text, subset = folder, Path(listing)
        if not text:
            raise ValueError(f"dataset spec {name or ''}: no path given")
        return cls(kind, Path(text), subset, name)

    @property
    def label(self) -> str:
        return self.name or self.path.name

    def resolved(self, base: str | os.PathLike) -> "DatasetSpec":
        """The same spec with relative paths taken from `base` (e.g. a config file's folder)."""
        def under(path: Path) -> Path:
            return path if path.is_absolute() else Path(os.path.normpath(Path(base) / path))
        return replace(self, path=under(self.path),
                       subset=None if self.subset is None else under(self.subset))

    def __str__(self) -> str:
        """The spec as text; `parse` reads it back. The default kind `adtos` is left out."""
        text = (str(self.path) if self.kind == DEFAULT_KIND else f"{self.kind}:{self.path}")
        text += f":{self.subset}" if self.subset else ""
        return f"{self.name}={text}" if self.name else text

    def load(self, **options) -> Dataset:
        """The dataset (its subset only, when a list is given); `options` go to the reader."""
        if not self.path.exists():
            raise FileNotFoundError(f"{self.kind} dataset not found: {self.path}")
        if self.subset is not None:
            if not self.subset.is_file():
                raise FileNotFoundError(f"subset list not found: {self.subset}")
            options.setdefault("subset", self.subset)
        if self.name:
            options.setdefault("name", self.name)
        return _reader(self.kind)(self.path, **options)


def load_dataset(kind: str, path: str | os.PathLike, **options) -> Dataset:
    """Read a dataset of the given kind from `path` (which may be `FOLDER:LIST.txt`).

    Every reader also takes `subset=` (ids or a list file) and `name=`.
    """
    if kind not in READERS:
        _reader(kind)  # the error naming the known kinds
    spec = DatasetSpec.parse(f"{kind}:{path}")
    return spec.load(**options)


def parse_dataset_spec(spec: str, default_kind: str = DEFAULT_KIND) -> tuple[str, str, str]:
    """`[NAME=][KIND:]PATH[:LIST.txt]` -> (name, kind, path with the list), by DatasetSpec."""
    parsed = DatasetSpec.parse(spec, default_kind)
    path = str(parsed.path) + (f":{parsed.subset}" if parsed.subset else "")
    return parsed.label, parsed.kind, path

"""Read a folder of one-shot samples described by a `kit.toml` file.

The schema (every field but `instrument.samples`/`instrument.layers` optional):

```toml
name = "Sonic Pi acoustic"        # default: the folder name
author = "freesound contributors"
licence = "CC0-1.0"
sample_dir = "samples"            # where sample files are, relative to kit.toml (default ".")
velocity_exponent = 1.0           # level = (velocity/127) ** this (1.0: linear, as Hydrogen)

[[instrument]]
name = "Kick"                     # mapped to a GM note by the name table (adtos.kits.names)
note = 36                         # optional: the GM note, when the name does not say it
gain_db = 0.0
pan = 0.0                         # -1 (left) .. 1 (right)
choke_group = "hihat"             # optional: the group this instrument belongs to
choked_by = ["hihat"]             # optional: a later hit of these groups cuts it
samples = ["kick_soft.flac", "kick_hard.flac"]   # velocity layers, soft to hard,
                                                 # splitting 1..127 evenly
round_robin = false               # true: `samples` are alternatives of one layer, played in turn

[[instrument]]
name = "Snare"
layers = [                        # or explicit layers
  {sample = "snare_soft.flac", lo_vel = 1, hi_vel = 79, gain_db = 0.0},
  {sample = "snare_hard.flac", lo_vel = 80, hi_vel = 127},
]
```
Unknown keys are errors naming the file and the key.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from adtos.kits.model import Instrument, Kit, KitError, Layer

KIT_FILE = "kit.toml"
_KIT_KEYS = {"name", "author", "licence", "license", "sample_dir", "velocity_exponent",
             "instrument"}
_INSTRUMENT_KEYS = {"name", "note", "gain_db", "pan", "choke_group", "choked_by", "samples",
                    "layers", "round_robin"}
_LAYER_KEYS = {"sample", "lo_vel", "hi_vel", "gain_db", "pitch"}


def read_folder_kit(path: str | os.PathLike) -> Kit:
    """A Kit from kit.toml (or the folder holding it); KitError names the file and field."""
    path = Path(path)
    if path.is_dir():
        path = path / KIT_FILE
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise KitError(f"{path}: kit file not found") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise KitError(f"{path}: not valid TOML ({error})") from None
    _unknown(data, _KIT_KEYS, path, "the kit")
    folder = path.parent / str(data.get("sample_dir", "."))
    exponent = _number(data, "velocity_exponent", 1.0, path, "the kit")
    entries = data.get("instrument", [])
    if not isinstance(entries, list) or not entries:
        raise KitError(f"{path}: expected one or more [[instrument]] tables")
    instruments = [_instrument(entry, i, folder, exponent, path) for i, entry in enumerate(entries)]
    return Kit(name=str(data.get("name") or path.parent.name), path=path, format="folder",
               instruments=instruments, author=str(data.get("author", "")),
               licence=str(data.get("licence", data.get("license", ""))))


def _instrument(entry: dict[str, Any], index: int, folder: Path, exponent: float,
                path: Path) -> Instrument:
    where = f"instrument {index + 1}"
    if not isinstance(entry, dict):
        raise KitError(f"{path}: {where} is not a table")
    _unknown(entry, _INSTRUMENT_KEYS, path, where)
    name = str(entry.get("name", ""))
    if not name:
        raise KitError(f"{path}: {where} needs a 'name'")
    where = f"instrument {name!r}"
    if ("samples" in entry) == ("layers" in entry):
        raise KitError(f"{path}: {where} needs exactly one of 'samples' or 'layers'")
    layers: list[Layer] = []
    if "samples" in entry:
        files = entry["samples"]
        if isinstance(files, str):
            files = [files]
        if not files or not all(isinstance(f, str) for f in files):
            raise KitError(f"{path}: {where}: 'samples' must be a list of file names")
        count = len(files)
        for k, name_k in enumerate(files):
            if entry.get("round_robin", False):
                lo, hi, position = 0, 127, k + 1
            else:  # soft to hard, 0..127 split evenly
                lo, hi, position = (128 * k) // count, (128 * (k + 1)) // count - 1, 1
            layers.append(Layer(sample=folder / name_k, lo_vel=lo, hi_vel=hi, seq_position=position,
                                velocity_exponent=exponent))
    else:
        for k, layer in enumerate(entry["layers"]):
            if not isinstance(layer, dict) or "sample" not in layer:
                raise KitError(f"{path}: {where}, layer {k + 1} needs a 'sample'")
            _unknown(layer, _LAYER_KEYS, path, f"{where}, layer {k + 1}")
            layers.append(Layer(sample=folder / str(layer["sample"]),
                                lo_vel=int(_number(layer, "lo_vel", 0, path, where)),
                                hi_vel=int(_number(layer, "hi_vel", 127, path, where)),
                                gain=10 ** (_number(layer, "gain_db", 0.0, path, where) / 20),
                                pitch=_number(layer, "pitch", 0.0, path, where),
                                velocity_exponent=exponent))
    pan = max(-1.0, min(1.0, _number(entry, "pan", 0.0, path, where)))
    note = entry.get("note")
    if note is not None and not (isinstance(note, int) and 0 <= note <= 127):
        raise KitError(f"{path}: {where}: 'note' must be a MIDI note 0..127, got {note!r}")
    choked_by = entry.get("choked_by", [])
    if isinstance(choked_by, str):
        choked_by = [choked_by]
    return Instrument(name=name, layers=layers,
                      gain=10 ** (_number(entry, "gain_db", 0.0, path, where) / 20),
                      pan_left=min(1.0, 1.0 - pan), pan_right=min(1.0, 1.0 + pan),
                      choke_group=entry.get("choke_group"),
                      choked_by=tuple(str(g) for g in choked_by), source_note=note)


def _unknown(data: dict[str, Any], known: set[str], path: Path, where: str) -> None:
    unknown = set(data) - known
    if unknown:
        raise KitError(f"{path}: {where} has unknown keys {sorted(unknown)}; "
                       f"expected some of {sorted(known)}")


def _number(data: dict[str, Any], key: str, default: float, path: Path, where: str) -> float:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise KitError(f"{path}: {where}: {key!r} must be a number, got {value!r}")
    return float(value)

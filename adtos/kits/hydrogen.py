"""Read a Hydrogen drum kit (`drumkit.xml`) into the kit model.

Two layouts exist: instruments holding `<layer>` elements (directly or in an
`<instrumentComponent>`), each with a sample file, a velocity range `min`..`max`
in 0..1, a gain and a pitch in semitones; and the older layout with one
`<filename>` per instrument. Instrument level: `volume` and `gain` multiply,
`pitchOffset` adds to every layer's pitch, `applyVelocity` false makes the level
independent of velocity (Hydrogen scales it linearly otherwise);
`randomPitchFactor` and the ADSR are not read (the sampler's per-hit detune
stands for the first; a one-shot plays whole, as Hydrogen plays drums);
panning is `pan_L`/`pan_R` channel gains (older) or `pan` in -1..1 (newer), and
instruments of one `muteGroup` (>= 0) cut each other, as Hydrogen plays them.
"""

from __future__ import annotations

import math
import os
import re
import xml.etree.ElementTree as ElementTree
from pathlib import Path

from adtos.kits.model import Instrument, Kit, KitError, Layer

# Hydrogen's placeholder for the empty slots of a 32-instrument kit (never shipped).
EMPTY_SAMPLE = "emptySample.flac"


def read_hydrogen_kit(path: str | os.PathLike) -> Kit:
    """A Kit from a drumkit.xml (or the folder holding one); KitError names the file."""
    path = Path(path)
    if path.is_dir():
        path = path / "drumkit.xml"
    try:
        root = ElementTree.parse(path).getroot()
    except FileNotFoundError:
        raise KitError(f"{path}: Hydrogen kit file not found") from None
    except ElementTree.ParseError as error:
        raise KitError(f"{path}: not a readable drumkit.xml ({error})") from None
    _strip_namespaces(root)
    if root.tag != "drumkit_info":
        raise KitError(f"{path}: root element is <{root.tag}>, expected <drumkit_info>")
    folder = path.parent
    instruments = []
    for element in root.iter("instrument"):
        instrument = _read_instrument(element, folder, path)
        if instrument is not None:
            instruments.append(instrument)
    if not instruments:
        raise KitError(f"{path}: no <instrument> with a sample file")
    return Kit(name=_text(root, "name") or folder.name, path=path, format="hydrogen",
               instruments=instruments,
               licence=_text(root, "license") or _licence_from_info(_text(root, "info")),
               author=_text(root, "author"))


def _licence_from_info(info: str) -> str:
    """Older kits have no <license> but say it in <info> ("released under the GPL")."""
    text = re.sub(r"<[^>]*>|&[a-z#0-9]+;", " ", info)
    for pattern, name in ((r"\bGPL\b|General Public License", "GPL"),
                          (r"\bCC0\b|public domain", "CC0"),
                          (r"Creative Commons[^.\n]*", None)):
        match = re.search(pattern, text, re.I)
        if match:
            return f"{name or match.group(0).strip()} (from the kit's info)"
    return ""


def _read_instrument(element, folder: Path, path: Path) -> Instrument | None:
    name = _text(element, "name")
    offset = _number(element, "pitchOffset", 0.0, path, name)
    exponent = 0.0 if _text(element, "applyVelocity").lower() == "false" else 1.0
    layers = []
    for layer in element.iter("layer"):
        filename = _text(layer, "filename")
        if not filename or filename == EMPTY_SAMPLE:
            continue
        lo = _number(layer, "min", 0.0, path, name)
        hi = _number(layer, "max", 1.0, path, name)
        layers.append(Layer(sample=folder / filename,
                            lo_vel=max(0, math.ceil(lo * 127 - 1e-6)),
                            hi_vel=min(127, math.floor(hi * 127 + 1e-6)),
                            gain=_number(layer, "gain", 1.0, path, name),
                            pitch=_number(layer, "pitch", 0.0, path, name) + offset,
                            velocity_exponent=exponent))
    if not layers and _text(element, "filename") not in ("", EMPTY_SAMPLE):  # older layout
        layers.append(Layer(sample=folder / _text(element, "filename"), pitch=offset,
                            velocity_exponent=exponent))
    if not layers:
        return None  # an empty slot of the kit's 32 (no sound to play)
    if element.find("pan") is not None:
        pan = max(-1.0, min(1.0, _number(element, "pan", 0.0, path, name)))
        left, right = min(1.0, 1.0 - pan), min(1.0, 1.0 + pan)
    else:
        left = _number(element, "pan_L", 1.0, path, name)
        right = _number(element, "pan_R", 1.0, path, name)
    gain = _number(element, "volume", 1.0, path, name) * _number(element, "gain", 1.0, path, name)
    mute = int(_number(element, "muteGroup", -1, path, name))
    group = str(mute) if mute >= 0 else None
    return Instrument(name=name, layers=layers, gain=gain, pan_left=left, pan_right=right,
                      choke_group=group, choked_by=(group,) if group else ())


def _strip_namespaces(root) -> None:
    for element in root.iter():
        if isinstance(element.tag, str) and "}" in element.tag:
            element.tag = element.tag.split("}", 1)[1]


def _text(element, tag: str) -> str:
    child = element.find(tag)
    return (child.text or "").strip() if child is not None else ""


def _number(element, tag: str, default: float, path: Path, name: str) -> float:
    text = _text(element, tag)
    if not text:
        return float(default)
    try:
        return float(text)
    except ValueError:
        raise KitError(f"{path}: instrument {name!r} has <{tag}>{text}</{tag}>, "
                       "expected a number") from None

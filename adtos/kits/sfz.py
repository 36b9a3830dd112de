"""Read an SFZ drum instrument into the kit model.

A small reader for the part of SFZ that drum libraries use (PyPI has no SFZ
parser to rely on here). Headers: `<control>`, `<global>`, `<master>`,
`<group>`, `<region>`, each level's opcodes inherited by the regions below it.
Preprocessor: `#define $NAME value` and `#include "file"`. Opcodes:

| opcode | meaning here |
|---|---|
| sample, default_path (control) | the sample file, relative to the .sfz (and default_path) |
| key, lokey, hikey, pitch_keycenter, pitch_keytrack, note_offset | keys the region plays; pitch offset from the key centre |
| lovel, hivel | velocity layer range |
| seq_length, seq_position, lorand, hirand | round robin: regions of one range played in turn (random ranges too) |
| volume (dB), amplitude (%), pan (-100..100) | level and placement |
| amp_veltrack (%) | level follows (velocity/127)^(2·amp_veltrack/100), SFZ's default curve |
| tune (cents), transpose (semitones) | pitch |
| group, off_by | choke: a region is cut by a later note of the group its off_by names |
| group_label, region_label, master_label, global_label | the instrument's name |
| loop_mode (no_loop, one_shot), trigger=attack, off_mode, ampeg_release, polyphony, note_polyphony, hint_*, label_cc*, set_cc* | accepted; a one-shot sampler plays the whole sample |

Any other opcode or header is an error naming the file, the line and the opcode:
silently ignoring, say, a filter or an envelope would render a different sound
than the library's author intended. Instruments are the keys: names come from a
label when there is one, else from the sample file name; a name the table does
not map falls back to the region's key when that key is a GM drum note (35..81).
Where regions overlap on a key, the region naming fewer keys plays it (a tom
range lokey=41 hikey=50 leaves key=49 to the crash region), with a warning in
`Kit.warnings`; regions of one width share a key as layers.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from adtos.kits.model import Instrument, Kit, KitError, Layer

HEADERS = ("control", "global", "master", "group", "region")
SUPPORTED = {"sample", "default_path", "key", "lokey", "hikey", "pitch_keycenter",
             "pitch_keytrack", "note_offset", "lovel", "hivel", "seq_length", "seq_position",
             "lorand", "hirand", "volume", "amplitude", "pan", "amp_veltrack", "tune",
             "transpose", "group", "off_by", "group_label", "region_label", "master_label",
             "global_label"}
IGNORED = {"loop_mode", "trigger", "off_mode", "ampeg_release", "polyphony", "note_polyphony"}
IGNORED_PREFIXES = ("hint_", "label_cc", "set_cc")
_LOOP_MODES = {"no_loop", "one_shot"}
_NOTE_NAMES = {"c": 0, "d": 2, "e": 4, "f": 5, "g": 7, "a": 9, "b": 11}
_OPCODE = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)=(.*?)(?=\s+[A-Za-z_][A-Za-z0-9_]*=|$)")


@dataclass
class _Region:
    opcodes: dict[str, str]
    line: int


def read_sfz_kit(path: str | os.PathLike) -> Kit:
    """A Kit from an .sfz file; KitError names the file, the line and the problem."""
    path = Path(path)
    if not path.is_file():
        raise KitError(f"{path}: SFZ file not found")
    regions, control = _parse(path)
    if not regions:
        raise KitError(f"{path}: no <region> with a sample")
    folder = path.parent / control.get("default_path", "").replace("\\", "/")
    note_offset = int(_int(control.get("note_offset", "0"), path, 0, "note_offset"))
    by_key: dict[int, tuple[str, list[Layer], _Region]] = {}
    width: dict[int, int] = {}  # how many keys the region that holds a key spans
    warnings: list[str] = []
    for region in regions:
        op = region.opcodes
        if "sample" not in op:
            raise KitError(f"{path}, line {region.line}: region without a sample")
        sample = folder / op["sample"].replace("\\", "/")
        if op.get("loop_mode", "no_loop") not in _LOOP_MODES:
            raise KitError(f"{path}, line {region.line}: loop_mode={op['loop_mode']} is not "
                           f"supported (a drum sampler plays {sorted(_LOOP_MODES)})")
        if op.get("trigger", "attack") != "attack":
            raise KitError(f"{path}, line {region.line}: trigger={op['trigger']} is not "
                           "supported (only attack)")
        keys = _keys(op, path, region.line)
        center = _key(op.get("pitch_keycenter", op.get("key", "60")), path, region.line)
        keytrack = _float(op.get("pitch_keytrack", "100"), path, region.line, "pitch_keytrack")
        gain = (10 ** (_float(op.get("volume", "0"), path, region.line, "volume") / 20)
                * _float(op.get("amplitude", "100"), path, region.line, "amplitude") / 100)
        pitch = (_float(op.get("tune", "0"), path, region.line, "tune") / 100
                 + _float(op.get("transpose", "0"), path, region.line, "transpose"))
        position = (_int(op["seq_position"], path, region.line, "seq_position")
                    if "seq_position" in op
                    else int(round(1000 * _float(op.get("lorand", "0"), path, region.line, "lorand"))))
        exponent = 2.0 * _float(op.get("amp_veltrack", "100"), path, region.line, "amp_veltrack") / 100
        name = (op.get("region_label") or op.get("group_label") or op.get("master_label")
                or op.get("global_label") or Path(op["sample"].replace("\\", "/")).stem)
        for key in keys:
            layer = Layer(sample=sample,
                          lo_vel=_int(op.get("lovel", "0"), path, region.line, "lovel"),
                          hi_vel=_int(op.get("hivel", "127"), path, region.line, "hivel"),
                          gain=gain, pitch=pitch + (key - center) * keytrack / 100,
                          seq_position=position, velocity_exponent=exponent)
            played = key + note_offset
            # Where regions overlap, the one naming fewer keys wins the key: a tom
            # range lokey=41 hikey=50 must not swallow the crash given as key=49.
            # Regions of one width share it (velocity layers, round robin).
            if played in by_key and width[played] != len(keys):
                held_name, _, held = by_key[played]
                wide, narrow = ((held, held_name), (region, name)) if width[played] > len(keys) \
                    else ((region, name), (held, held_name))
                warnings.append(
                    f"{path}, line {wide[0].line}: the region of keys {_span(wide[0].opcodes)} "
                    f"({wide[1]!r}) overlaps key {played}, which line {narrow[0].line} gives "
                    f"({narrow[1]!r}); key {played} plays {narrow[1]!r}")
                if width[played] < len(keys):
                    continue
                del by_key[played]
            width[played] = len(keys)
            entry = by_key.setdefault(played, (name, [], region))
            entry[1].append(layer)
    instruments = []
    for key, (name, layers, region) in sorted(by_key.items()):
        op = region.opcodes
        pan = max(-100.0, min(100.0, _float(op.get("pan", "0"), path, region.line, "pan"))) / 100
        group = op.get("group")
        off_by = op.get("off_by")
        instruments.append(Instrument(
            name=name, layers=layers, pan_left=min(1.0, 1.0 - pan), pan_right=min(1.0, 1.0 + pan),
            choke_group=group if group not in (None, "0") else None,
            choked_by=(off_by,) if off_by not in (None, "0") else (), source_note=key))
    return Kit(name=path.stem, path=path, format="sfz", instruments=instruments,
               warnings=warnings)


def _span(op: dict[str, str]) -> str:
    """The keys a region names, as written (key=49, or lokey..hikey)."""
    return op["key"] if "key" in op else f"{op.get('lokey', '0')}..{op.get('hikey', '127')}"


def _parse(path: Path) -> tuple[list[_Region], dict[str, str]]:
    """Regions with every inherited opcode, and the <control> opcodes."""
    levels: dict[str, dict[str, str]] = {h: {} for h in HEADERS}
    defines: dict[str, str] = {}
    regions: list[_Region] = []
    current: str | None = None
    region_line = 0

    def close_region() -> None:
        if current == "region":
            merged = {**levels["global"], **levels["master"], **levels["group"], **levels["region"]}
            regions.append(_Region(merged, region_line))

    for number, line in _lines(path, defines, set()):
        for token in re.split(r"(<[^>]*>)", line):
            token = token.strip()
            if not token:
                continue
            if token.startswith("<"):
                if not token.endswith(">"):
                    opening = token.split()[0]
                    raise KitError(f"{path}, line {number}: header '{opening}' is not closed "
                                   f"(expected '{opening}>')")
                header = token[1:-1].strip()
                if header not in HEADERS:
                    raise KitError(f"{path}, line {number}: header <{header}> is not supported "
                                   f"(supported: {', '.join('<' + h + '>' for h in HEADERS)})")
                close_region()
                current = header
                # A header starts its level afresh and ends every level below it.
                for lower in HEADERS[HEADERS.index(header):]:
                    if lower != "control":
                        levels[lower] = {}
                region_line = number
                continue
            for opcode, value in _OPCODE.findall(token):
                _check_opcode(opcode, path, number)
                if current is None:
                    raise KitError(f"{path}, line {number}: opcode {opcode} before any header")
                levels[current][opcode] = value.strip()
            leftover = _OPCODE.sub("", token).strip()
            if leftover:
                raise KitError(f"{path}, line {number}: cannot read {leftover!r} "
                               "(expected opcode=value)")
    close_region()
    return regions, levels["control"]


def _lines(path: Path, defines: dict[str, str], seen: set[Path]):
    """(line number, text) with comments removed, #define applied and #include followed."""
    if path.resolve() in seen:
        raise KitError(f"{path}: #include cycle")
    seen = seen | {path.resolve()}
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as error:
        raise KitError(f"{path}: cannot read ({error})") from None
    text = re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group(0).count("\n"), text, flags=re.S)
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("//", 1)[0].strip()
        if not line:
            continue
        if line.startswith("#define"):
            parts = line.split(None, 2)
            if len(parts) != 3 or not parts[1].startswith("$"):
                raise KitError(f"{path}, line {number}: expected '#define $NAME value'")
            defines[parts[1]] = parts[2].strip()
            continue
        if line.startswith("#include"):
            match = re.match(r'#include\s+"([^"]+)"', line)
            if not match:
                raise KitError(f'{path}, line {number}: expected #include "file"')
            yield from _lines(path.parent / match.group(1), defines, seen)
            continue
        if line.startswith("#"):
            raise KitError(f"{path}, line {number}: preprocessor directive {line.split()[0]} "
                           "is not supported (#define and #include are)")
        for name in sorted(defines, key=len, reverse=True):
            line = line.replace(name, defines[name])
        yield number, line


def _check_opcode(opcode: str, path: Path, number: int) -> None:
    if opcode in SUPPORTED or opcode in IGNORED or opcode.startswith(IGNORED_PREFIXES):
        return
    raise KitError(f"{path}, line {number}: opcode {opcode!r} is not supported by the ADTOS "
                   "sampler (see adtos/kits/sfz.py for the supported set)")


def _keys(op: dict[str, str], path: Path, number: int) -> list[int]:
    if "key" in op:
        key = _key(op["key"], path, number)
        return [key]
    lo = _key(op.get("lokey", "0"), path, number)
    hi = _key(op.get("hikey", "127"), path, number)
    if hi - lo > 24:
        raise KitError(f"{path}, line {number}: region spans keys {lo}..{hi}; a drum region "
                       "plays one key (or a few)")
    return list(range(lo, hi + 1))


def _key(value: str, path: Path, number: int) -> int:
    """A MIDI key from a number or a note name (c4 = 60, SFZ's convention)."""
    text = value.strip().lower()
    if re.fullmatch(r"-?\d+", text):
        key = int(text)
    else:
        match = re.fullmatch(r"([a-g])(#|b)?(-?\d)", text)
        if not match:
            raise KitError(f"{path}, line {number}: {value!r} is not a MIDI key")
        key = (_NOTE_NAMES[match.group(1)] + {"#": 1, "b": -1, None: 0}[match.group(2)]
               + 12 * (int(match.group(3)) + 1))
    if not 0 <= key <= 127:
        raise KitError(f"{path}, line {number}: key {key} is outside 0..127")
    return key


def _float(value: str, path: Path, number: int, opcode: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise KitError(f"{path}, line {number}: {opcode}={value} is not a number") from None


def _int(value: str, path: Path, number: int, opcode: str) -> int:
    return int(round(_float(value, path, number, opcode)))

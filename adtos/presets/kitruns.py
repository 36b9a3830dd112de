"""Check every drum kit of a library build: cached, and in worker processes.

Rendering 21 notes per kit for ~90 kits takes minutes, so verdicts are kept in
a JSON cache keyed by the soundfont file's content (sha256), so that a
reinstalled or copied soundfont (a new modification time, another folder) is
not checked again; the hash itself is remembered per path, size and
modification time, so a run whose soundfonts did not change reads no file
whole. The kits still to check run in worker processes, one soundfont per
process (a soundfont is loaded once per process; MuseScore's SF3 takes seconds).
"""

from __future__ import annotations

import json
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from adtos.fileio import write_text_atomic
from adtos.presets.kitcheck import KitCheck, NoteCheck, check_drum_kit
from adtos.presets.soundfonts import SoundfontError, SoundfontPatch
from adtos.presets.synth import SoundfontBank


@dataclass
class LibraryReport:
    """What building a library found: unreadable soundfonts and every kit check."""

    errors: list[tuple[str, str]] = field(default_factory=list)  # (soundfont, reason)
    kit_checks: list[tuple[SoundfontPatch, KitCheck]] = field(default_factory=list)
    # Sampled kits (adtos.kits): (kit name, format, licence, check); None: percussion only
    sampled_checks: list[tuple[str, str, str, KitCheck | None]] = field(default_factory=list)
    # Sampled kits that could not be read or checked: (kit file, reason)
    kit_errors: list[tuple[str, str]] = field(default_factory=list)
    # Partial sampled kits: kit name -> the classes their presets take from another kit
    partial_kits: dict[str, list[str]] = field(default_factory=dict)

    def excluded_kits(self) -> list[tuple[SoundfontPatch, KitCheck]]:
        return [(p, c) for p, c in self.kit_checks if not c.usable]


def default_cache_path() -> Path:
    """~/.cache/adtos/kitcheck.json (or under $XDG_CACHE_HOME)."""
    root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return root / "adtos" / "kitcheck.json"


def checked_kits(patches: list[SoundfontPatch], paths: list[Path], report: LibraryReport,
                 cache_path: str | os.PathLike | None, progress: bool, sample_rate: int,
                 workers: int | None) -> list[tuple[SoundfontPatch, KitCheck]]:
    """Check every kit (cached ones are not rendered again); the usable ones, in order.

    Every verdict is added to `report.kit_checks`; soundfonts FluidSynth cannot
    play go to `report.errors`.

    Kits are checked in groups per soundfont, so that each worker process loads
    a soundfont once (MuseScore's SF3 takes seconds to load).
    """
    cache = _load_cache(cache_path)
    hashes = cache.setdefault(HASHES, {})
    keys = {p.resolve().name: _content_key(p, hashes) for p in paths if p.is_file()}

    def cache_key(patch: SoundfontPatch) -> str:
        return f"{keys.get(patch.soundfont, patch.soundfont)}:{patch.bank}:{patch.program}"

    todo: dict[str, list[tuple[int, int]]] = {}
    for patch in patches:
        if cache_key(patch) not in cache:
            todo.setdefault(patch.soundfont, []).append((patch.bank, patch.program))
    jobs = [(font, kits, paths, sample_rate) for font, kits in todo.items()]
    workers = min(workers or os.cpu_count() or 1, len(jobs))
    failed_fonts: dict[str, str] = {}
    with tqdm(total=sum(len(k) for k in todo.values()), desc="checking drum kits", unit="kit",
              disable=not progress) as bar:
        if workers > 1:
            with ProcessPoolExecutor(workers) as pool:
                results = pool.map(_check_soundfont_kits, jobs)
                for (font, kits, _, _), (checks, error) in zip(jobs, results):
                    _collect(font, checks, error, cache, failed_fonts, cache_key, bar)
        else:
            for job in jobs:
                checks, error = _check_soundfont_kits(job, bar)
                _collect(job[0], checks, error, cache, failed_fonts, cache_key, None)
    _save_cache(cache_path, cache)

    usable = []
    for font, reason in failed_fonts.items():
        report.errors.append((font, f"FluidSynth could not play it: {reason}"))
    for patch in patches:
        if patch.soundfont in failed_fonts or cache_key(patch) not in cache:
            continue
        check = _check_from_json(cache[cache_key(patch)])
        report.kit_checks.append((patch, check))
        if check.usable:
            usable.append((patch, check))
    return usable


def _check_soundfont_kits(job, bar=None) -> tuple[list[KitCheck], str | None]:
    """Check the kits of one soundfont: (checks, None), or (checks so far, error)."""
    soundfont, kits, paths, sample_rate = job
    bank = SoundfontBank(sample_rate, soundfonts=paths)
    checks: list[KitCheck] = []
    try:
        for bank_number, program in kits:
            checks.append(check_drum_kit(bank, soundfont, bank_number, program))
            if bar is not None:
                bar.update(1)
    except (SoundfontError, FileNotFoundError) as error:
        return checks, str(error)
    finally:
        bank.close()
    return checks, None


def _collect(font, checks, error, cache, failed_fonts, cache_key, bar) -> None:
    for check in checks:
        patch = SoundfontPatch(font, check.bank, check.program, "")
        cache[cache_key(patch)] = asdict(check)
    if error is not None:
        failed_fonts[font] = error
    if bar is not None:
        bar.update(len(checks))


# The cache's entry of remembered hashes: resolved path -> [size, mtime_ns, sha256].
HASHES = "files"


def _content_key(path: Path, hashes: dict[str, list]) -> str:
    """"sha256:<hex>" of the file's content, hashed again only when its size or
    modification time changed since the cache remembered it."""
    from adtos.fileio import sha256_file

    real = path.resolve()
    stat = real.stat()
    known = hashes.get(str(real))
    if not (isinstance(known, list) and known[:2] == [stat.st_size, stat.st_mtime_ns]):
        known = [stat.st_size, stat.st_mtime_ns, sha256_file(real)]
        hashes[str(real)] = known
    return f"sha256:{known[2]}"


def _load_cache(path: str | os.PathLike | None) -> dict[str, Any]:
    if path is None or not Path(path).is_file():
        return {}
    try:
        return json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError):
        return {}  # a broken cache is only a slower build


def _save_cache(path: str | os.PathLike | None, cache: dict[str, Any]) -> None:
    if path is None:
        return
    write_text_atomic(path, json.dumps(cache, sort_keys=True))


def _check_from_json(data: dict[str, Any]) -> KitCheck:
    notes = {int(n): NoteCheck(**c) for n, c in data["notes"].items()}
    return KitCheck(data["soundfont"], data["bank"], data["program"], notes=notes,
                    remap={int(k): int(v) for k, v in data["remap"].items()},
                    missing_classes=list(data["missing_classes"]))

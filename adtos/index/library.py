"""Index a whole library: pick the adapter, run it over every file in a process pool.

Each worker returns an Arrow record batch for its file, so the parent never
holds a Python object per note; batches come back in file order, which makes
the index the same whatever the number of workers.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import Counter
from pathlib import Path

import pyarrow as pa
from tqdm import tqdm

from . import generic, groove, pop909
from .bars import LOOP_SIZES
from .common import Job
from .loops import LoopRows
from .schema import LOOP_SCHEMA, LoopIndex
from adtos.workers import exit_with_parent

ADAPTERS = {"groove": groove, "pop909": pop909, "generic": generic}
KINDS = ("auto", *ADAPTERS)


class LibraryError(ValueError):
    """The library as a whole cannot be indexed (no such folder, no MIDI files, bad metadata)."""


class StrictModeError(LibraryError):
    """With strict=True, the first skipped input stops the run."""


def detect_kind(root: Path) -> str:
    """`groove` when there is an info.csv, `pop909` when song folders hold key_audio.txt, else `generic`."""
    if groove.is_groove_library(root):
        return "groove"
    if pop909.is_pop909_library(root):
        return "pop909"
    return "generic"


# Files per task: one Arrow batch per task keeps the per-batch overhead small.
FILES_PER_TASK = 32


def _index_files(task: tuple[str, str, str, int, list[Job]]) -> tuple[pa.RecordBatch | None, list, int]:
    """Index a few files; return their loops as one batch, the skipped inputs, and the file count."""
    kind, root, library, loop_bars, jobs = task
    rows = LoopRows()
    errors: list[tuple[str, str]] = []
    for job in jobs:
        file_rows = LoopRows()
        file_errors: list[tuple[str, str]] = []
        try:
            ADAPTERS[kind].index_job(Path(root), job, library, loop_bars, file_rows, file_errors)
        except Exception as error:  # one odd file must not end a run of thousands
            file_rows = LoopRows()
            file_errors.append((job.source, f"failed: {type(error).__name__}: {error}"))
        for name, values in file_rows.columns.items():
            rows.columns[name].extend(values)
        errors.extend(file_errors)
    return (rows.to_batch() if len(rows) else None), errors, len(jobs)


def index_library(library_dir: str | os.PathLike, kind: str = "auto", *, loop_bars: int = 4,
                  workers: int | None = None, strict: bool = False, library: str | None = None,
                  progress: bool = False) -> LoopIndex:
    """Index every loop of a MIDI library.

    kind: `auto`, `groove`, `pop909` or `generic` (see the adapter modules).
    loop_bars: loop length, one of 1, 2, 4, 8; tails are cut into shorter loops.
    workers: processes (default: CPU count; 1 runs in this process).
    strict: stop at the first skipped input instead of reporting it.
    library: the name in `library` and `loop_id` (default: the folder name).
    """
    root = Path(library_dir)
    if not root.is_dir():
        raise LibraryError(f"library folder not found: {root}")
    if kind not in KINDS:
        raise LibraryError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    if loop_bars not in LOOP_SIZES:
        raise LibraryError(f"loop_bars must be one of 1, 2, 4, 8, got {loop_bars}")
    if kind == "auto":
        kind = detect_kind(root)
    if not generic.find_midi_files(root, first_only=True):
        raise LibraryError(f"{root}: no MIDI files (*.mid, *.midi) in this folder or below")
    try:
        jobs = ADAPTERS[kind].find_jobs(root)
    except (OSError, ValueError) as error:
        raise LibraryError(str(error)) from None
    if not jobs:
        raise LibraryError(f"{root}: no MIDI files found for kind {kind!r}")
    library = library or root.resolve().name
    workers = (os.cpu_count() or 1) if workers is None else max(1, int(workers))
    # Enough tasks to keep every worker busy; in strict mode one file per task,
    # so the run stops right at the first bad file.
    per_task = 1 if strict else max(1, min(FILES_PER_TASK, len(jobs) // (4 * workers)))
    tasks = [(kind, str(root), library, loop_bars, jobs[i:i + per_task]) for i in range(0, len(jobs), per_task)]

    batches: list[pa.RecordBatch] = []
    loop_count = 0
    errors: list[tuple[str, str]] = []
    bar = None
    if progress:
        bar = tqdm(total=len(jobs), unit="file", desc=f"index {library}", dynamic_ncols=True)
    pool = None
    try:
        if workers > 1 and len(tasks) > 1:
            # Workers end with this process even when it is killed (kill -9).
            pool = multiprocessing.get_context("fork" if os.name == "posix" else "spawn").Pool(
                workers, initializer=exit_with_parent, initargs=(os.getpid(),))
            results = pool.imap(_index_files, tasks)
        else:
            results = map(_index_files, tasks)
        for batch, file_errors, file_count in results:
            if strict and file_errors:
                source, reason = file_errors[0]
                raise StrictModeError(f"{source}: {reason} (strict mode stops at the first bad input)")
            if batch is not None:
                batches.append(batch)
                loop_count += batch.num_rows
            errors.extend(file_errors)
            if bar is not None:
                bar.update(file_count)
                bar.set_postfix(loops=loop_count, skipped=len(errors), refresh=False)
    finally:
        if pool is not None:
            pool.terminate()
            pool.join()
        if bar is not None:
            bar.close()
    if not batches:
        # An empty index is no index: assemble would fail later, far from the cause.

        reasons = Counter(reason.split(" (", 1)[0] for _, reason in errors).most_common(3)
        raise LibraryError(f"{root}: no loop in any of its {len(jobs)} MIDI files ("
                           + ("; ".join(f"{n}x {r}" for r, n in reasons) or "no notes") + ")")
    return LoopIndex(loops=pa.Table.from_batches(batches, schema=LOOP_SCHEMA), errors=errors)

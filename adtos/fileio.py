"""Small file helpers shared by every stage: atomic writes, hashes, folder locks.

A long build can be stopped at any moment; writing to a temporary name in the
same folder and renaming it means a file under its final name is always whole.
"""

from __future__ import annotations

import contextlib
import csv
import errno
import hashlib
import io
import os
import re
import tempfile
import tomllib
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path

from adtos.errors import ConfigError, FolderBusyError, OutputError

# Temporary files are hidden and carry this mark, so that a resumed run can
# recognise (and remove) what a killed run left behind.
TMP_MARK = ".partial"


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside `path`; rename it onto `path` on success.

    The temporary name keeps the final suffix (or `suffix`) so that libraries
    choosing a format by extension (soundfile, pyarrow) still do the right thing.
    A full disk or a read-only folder raises OutputError naming the folder.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.",
                                   suffix=TMP_MARK + (suffix or path.suffix), dir=path.parent)
    except OSError as error:
        raise output_error(error, path.parent) from error
    os.close(fd)
    tmp_path = Path(tmp)
    # mkstemp makes files private (0600); outputs are ordinary files, so give
    # them the mode any other file created here would get.
    os.chmod(tmp_path, 0o666 & ~_umask())
    try:
        yield tmp_path
        os.replace(tmp_path, path)
    except OSError as error:
        tmp_path.unlink(missing_ok=True)
        translated = output_error(error, path.parent)
        if translated is error:
            raise
        raise translated from error
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise


# errno values that mean "this output cannot be written here", with the words for them.
_OUTPUT_ERRNOS = {errno.ENOSPC: "no space left on {folder}",
                  errno.EDQUOT: "disk quota exceeded on {folder}",
                  errno.EROFS: "cannot write into {folder}: read-only file system",
                  errno.EACCES: "cannot write into {folder}: permission denied",
                  errno.EPERM: "cannot write into {folder}: permission denied"}


def output_error(error: OSError, folder: str | os.PathLike) -> OSError:
    """`error` as an OutputError naming `folder` when it means a full disk or a
    folder that cannot be written; any other error is returned as it is.

    Libraries that hide errno in their message (pyarrow) are recognised by the
    message.
    """
    if isinstance(error, OutputError):
        return error
    code = error.errno
    if code not in _OUTPUT_ERRNOS:
        text = str(error)
        code = next((c for c in _OUTPUT_ERRNOS if os.strerror(c) in text), None)
    if code is None:
        return error
    return OutputError(_OUTPUT_ERRNOS[code].format(folder=folder), code)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def read_toml(path: str | os.PathLike, missing: str = "config file not found") -> dict:
    """A TOML file as a dict; ConfigError naming the file when it is missing (`missing`
    says how) or not valid TOML, so every config reader reports both the same way."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: {missing}")
    try:
        return tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from None


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def write_csv_atomic(path: str | os.PathLike, header: Sequence[str],
                     rows: Iterable[Sequence | Mapping]) -> None:
    """Write a CSV table whole and atomically: the header, then one line per row.

    A row is a sequence in the header's order or a mapping read by the header
    (missing keys are empty, others ignored). Lines end in "\n" on every
    platform, so the same table gives the same bytes (datasets are compared by hash).
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(name, "") for name in header] if isinstance(row, Mapping) else row)
    write_text_atomic(path, buffer.getvalue())


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def sha256_file(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def remove_partials(folder: str | os.PathLike) -> int:
    """Delete temporary files a killed run left in `folder`; return how many."""
    removed = 0
    for leftover in Path(folder).glob(f".*{TMP_MARK}*"):
        leftover.unlink(missing_ok=True)
        removed += 1
    return removed


# ---------------------------------------------------------------------------
# One writer per output folder

LOCK_FILE = ".adtos.lock"
# Locks this process holds: folder -> (open lock file, nesting depth). A build
# locks its folder and then calls render on the same folder.
_HELD: dict[Path, list] = {}


@contextlib.contextmanager
def folder_lock(folder: str | os.PathLike, command: str = "adtos") -> Iterator[Path]:
    """Hold an exclusive lock on `folder` (created if missing) for the block.

    Two processes writing one folder rendered every track twice; the second
    now stops at once with FolderBusyError naming the process that holds the
    lock. The lock (fcntl.flock on FOLDER/.adtos.lock) belongs to the open
    file, so the kernel releases it when its holder ends, even by kill -9:
    a stale lock never blocks a resume. Nested calls in one process share it.
    """
    import fcntl  # POSIX only: imported where a lock is taken, so adtos imports elsewhere

    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise output_error(error, folder) from error
    key = folder.resolve()
    if key in _HELD:
        _HELD[key][1] += 1
        try:
            yield folder
        finally:
            _HELD[key][1] -= 1
        return
    try:
        handle = open(folder / LOCK_FILE, "a+")
    except OSError as error:
        raise output_error(error, folder) from error
    try:
        _acquire(handle, folder)
    except BaseException:
        handle.close()
        raise
    handle.seek(0)
    handle.truncate()
    handle.write(f"{command} (pid {os.getpid()})\n")
    handle.flush()
    _HELD[key] = [handle, 1]
    try:
        yield folder
    finally:
        del _HELD[key]
        handle.close()  # releases the lock; the file stays (unlinking it would race)


# A run killed with kill -9 releases its lock at once, but its pool workers
# share the lock (they hold the same open file) until they have ended too,
# which adtos.workers makes a matter of milliseconds: wait that long for them.
DEAD_HOLDER_WAIT_S = 30.0


def _acquire(handle, folder: Path) -> None:
    import fcntl  # POSIX only: imported where a lock is taken, so adtos imports elsewhere

    deadline = time.monotonic() + DEAD_HOLDER_WAIT_S
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            pass
        except OSError as error:
            if error.errno in (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS):
                return  # a file system without locks (some network mounts): run unlocked
            raise
        handle.seek(0)
        holder = handle.read().strip()
        if _holder_alive(holder) or time.monotonic() > deadline:
            raise FolderBusyError(f"{folder} is being written by {holder or 'another process'}; "
                                  "wait for it to end, or write into another folder")
        time.sleep(0.05)


def _holder_alive(holder: str) -> bool:
    """Whether the process named in the lock file ("adtos build (pid 123)") still runs."""
    found = re.search(r"\(pid (\d+)\)", holder)
    if not found:
        return True
    try:
        os.kill(int(found.group(1)), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def held_lock_fd(folder: str | os.PathLike) -> int | None:
    """The file descriptor of this process's lock on `folder`, if it holds one.

    Pool workers keep a duplicate of it open (adtos.render.executors), so the
    lock stays taken until the last worker of a killed run has ended.
    """
    held = _HELD.get(Path(folder).resolve())
    return held[0].fileno() if held else None

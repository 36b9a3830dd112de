"""Small file helpers shared by every stage: atomic writes and hashes.

A long build can be stopped at any moment; writing to a temporary name in the
same folder and renaming it means a file under its final name is always whole.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

# Temporary files are hidden and carry this mark, so that a resumed run can
# recognise (and remove) what a killed run left behind.
TMP_MARK = ".partial"


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside `path`; rename it onto `path` on success.

    The temporary name keeps the final suffix (or `suffix`) so that libraries
    choosing a format by extension (soundfile, pyarrow) still do the right thing.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=TMP_MARK + (suffix or path.suffix),
                               dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    # mkstemp makes files private (0600); outputs are ordinary files, so give
    # them the mode any other file created here would get.
    os.chmod(tmp_path, 0o666 & ~_umask())
    try:
        yield tmp_path
        os.replace(tmp_path, path)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text)


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

"""Writing files so that a crash, a full disk or a power cut never leaves half a file.

One helper for every file ClipDesk writes in place (index, manifests, sidecars,
thumbnails, settings, cached embeddings): the new content goes to a temporary
file in the same folder, is flushed to the disk (``fsync``), renamed over the
target (atomic on POSIX and on NTFS), and the folder itself is synced so the
rename survives a power cut. The temporary file is removed on every failure,
so an interrupted or refused write leaves nothing behind, and the old file
stays as it was.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

__all__ = ["atomic_path", "atomic_write", "fsync_dir", "unlink_quietly", "default_file_mode"]


def _read_umask() -> int:
    """The process umask, read without changing it (``os.umask`` would, for a
    moment, for every thread)."""
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o022


def default_file_mode() -> int:
    """The permission bits a new file gets from ``open()`` (0o666 less the umask)."""
    return 0o666 & ~_read_umask()


def fsync_dir(directory: str | os.PathLike[str]) -> None:
    """Make a rename or a new file in ``directory`` durable. No-op where a folder
    cannot be opened (Windows: NTFS journals the rename itself)."""
    if os.name != "posix":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def unlink_quietly(path: str | os.PathLike[str]) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


@contextlib.contextmanager
def atomic_path(
    dest: str | os.PathLike[str], *, durable: bool = True, mode: int | None = None
) -> Iterator[Path]:
    """Yield a temporary path beside ``dest``; when the block ends without an
    error, that file replaces ``dest`` atomically.

    For writers that want a file name rather than a stream (hnswlib's
    ``save_index``). ``durable``: fsync the file and the folder (caches that
    are cheap to rebuild may skip it). ``mode``: permission bits of the new
    file; default, those of the file it replaces, else 0o666 less the umask.
    Raises OSError (the temporary file is gone, ``dest`` untouched).
    """
    dest = Path(dest)
    fd, name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        if mode is None:
            try:
                mode = stat.S_IMODE(os.stat(dest).st_mode)
            except FileNotFoundError:
                mode = default_file_mode()
        os.chmod(tmp, mode)
        if durable:
            with open(tmp, "rb+") as f:
                os.fsync(f.fileno())
        os.replace(tmp, dest)
    except BaseException:
        unlink_quietly(tmp)
        raise
    if durable:
        with contextlib.suppress(OSError):
            fsync_dir(dest.parent)


def atomic_write(
    dest: str | os.PathLike[str],
    data: bytes | Callable[[BinaryIO], None],
    *,
    durable: bool = True,
    mode: int | None = None,
) -> None:
    """Replace ``dest`` with ``data`` (bytes, or a function that writes to the
    open binary file) atomically; see :func:`atomic_path` for the guarantees.
    Raises OSError, for example ENOSPC on a full disk."""
    with atomic_path(dest, durable=durable, mode=mode) as tmp:
        with open(tmp, "wb") as f:
            if callable(data):
                data(f)
            else:
                f.write(data)

"""The system trash, and putting files back from it where the system allows.

Files go to the trash through the ``send2trash`` library, which follows each
system's conventions. Only one of those lets a program put a file back:

* **freedesktop.org systems (Linux, the BSDs)**: the trash is a folder. The
  file is moved to ``<trash>/files/<name>`` and ``<trash>/info/<name>.trashinfo``
  records where it came from (``Path=``, URL-encoded, absolute or relative to
  the trash's volume) and when (``DeletionDate=``): the Trash specification
  1.0. ``<trash>`` is ``$XDG_DATA_HOME/Trash`` for files on the home volume,
  else ``<volume>/.Trash/<uid>`` or ``<volume>/.Trash-<uid>``. Putting back
  is what the file manager's "Restore" does: move the file to its old path,
  delete its ``.trashinfo``.
* **Windows' Recycle Bin and macOS' Trash** keep that to themselves (an
  undocumented database, the Finder's "Put Back"): :func:`move_to_trash`
  returns None there, and the user restores the file from the system trash.
"""

from __future__ import annotations

import errno
import os
import shutil
import sys
from dataclasses import dataclass
from urllib.parse import unquote_to_bytes

from clipdesk.core.errors import UsageError
from clipdesk.core.names import display_path

__all__ = ["Trashed", "can_put_back", "move_to_trash", "put_back", "restorable"]

_INFO = b"info"
_FILES = b"files"
_SUFFIX = b".trashinfo"


@dataclass(frozen=True)
class Trashed:
    """A file in a freedesktop.org trash: where it was (``original``), where
    it is now (``stored``) and its ``.trashinfo`` (``info``). Paths are bytes."""

    original: bytes
    stored: bytes
    info: bytes


def restorable() -> bool:
    """True where files moved to the trash can be put back by ClipDesk."""
    return not sys.platform.startswith(("win", "darwin"))


def move_to_trash(path: str | bytes | os.PathLike) -> Trashed | None:
    """Move a file to the system trash. Returns where it went when it can be
    put back (:func:`put_back`), else None. Raises OSError (and send2trash's
    TrashPermissionError, an OSError) when it cannot be moved."""
    from send2trash import send2trash

    original = os.path.abspath(os.fsencode(path))
    send2trash(original)
    return _find(original) if restorable() else None


def can_put_back(item: Trashed) -> str | None:
    """Why ``item`` cannot be put back (in words), or None when it can."""
    if not os.path.lexists(item.stored):
        return f"{display_path(item.original)} is no longer in the trash"
    if os.path.lexists(item.original):
        return f"there is a file at {display_path(item.original)} already"
    return None


def put_back(item: Trashed) -> None:
    """Move a trashed file back where it was (its folder is made again if it
    went) and drop its trash record. Raises UsageError when the trash was
    emptied of it or another file took its place, OSError when it cannot move."""
    problem = can_put_back(item)
    if problem is not None:
        raise UsageError(f"cannot put back {display_path(item.original)}: {problem}")
    os.makedirs(os.path.dirname(item.original), exist_ok=True)
    try:
        os.rename(item.stored, item.original)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        shutil.move(item.stored, item.original)  # the home trash of a file from another volume
    try:
        os.unlink(item.info)
    except FileNotFoundError:
        pass


# --------------------------------------------------------------------------- finding it


def _trash_dirs(original: bytes) -> list[tuple[bytes, bytes]]:
    """(trash folder, the folder its relative ``Path=`` values start from) for
    every trash ``original`` may have gone to: send2trash's home trash, then
    the volume's two."""
    out: list[tuple[bytes, bytes]] = []
    try:
        from send2trash import plat_other

        out.append((plat_other.HOMETRASH_B, plat_other.XDG_DATA_HOME))
    except ImportError:  # pragma: no cover - not a freedesktop.org system
        pass
    volume = _mount_point(os.path.dirname(original))
    uid = str(os.getuid()).encode("ascii")
    out += [(os.path.join(volume, b".Trash", uid), volume), (os.path.join(volume, b".Trash-" + uid), volume)]
    return out


def _mount_point(path: bytes) -> bytes:
    path = os.path.realpath(path)
    while not os.path.ismount(path):
        parent = os.path.dirname(path)
        if parent == path:
            break
        path = parent
    return path


def _find(original: bytes) -> Trashed | None:
    """The newest trash entry whose ``Path=`` is ``original``."""
    best: tuple[int, Trashed] | None = None
    for trash, topdir in _trash_dirs(original):
        info_dir = os.path.join(trash, _INFO)
        try:
            names = [n for n in os.listdir(info_dir) if n.endswith(_SUFFIX)]
        except OSError:
            continue
        for name in names:
            info = os.path.join(info_dir, name)
            recorded = _recorded_path(info)
            if recorded is None:
                continue
            where = recorded if os.path.isabs(recorded) else os.path.join(topdir, recorded)
            if os.path.normpath(where) != os.path.normpath(original):
                continue
            stored = os.path.join(trash, _FILES, name[: -len(_SUFFIX)])
            try:
                when = os.stat(info).st_mtime_ns
            except OSError:
                continue
            if os.path.lexists(stored) and (best is None or when > best[0]):
                best = (when, Trashed(original, stored, info))
    return best[1] if best else None


def _recorded_path(info: bytes) -> bytes | None:
    try:
        with open(info, "rb") as f:
            text = f.read(64 << 10)
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith(b"Path="):
            return unquote_to_bytes(line[5:].strip())
    return None

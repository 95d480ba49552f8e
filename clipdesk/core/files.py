"""The files service: what happens to photos' files (export, trash, move).

``library.files`` acts on the files on disk, where the other services act on
the catalog: exporting copies, moving photos to the system trash (the
``send2trash`` library, which follows each system's conventions: the
freedesktop.org trash on Linux, the Recycle Bin on Windows, the Finder's
Trash on macOS), and moving them to another folder. The catalog follows
each change; nothing here runs without the user asking.
"""

from __future__ import annotations

import os
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from clipdesk.core import metadata
from clipdesk.core.catalog import Catalog, Photo
from clipdesk.core.changes import Changes
from clipdesk.core.errors import UsageError
from clipdesk.core.export import ExportOptions, ExportReport, export_photos
from clipdesk.core.models import ModelService
from clipdesk.core.names import display_path, resolve_typed_path
from clipdesk.core.photofiles import raw_format


@dataclass(frozen=True)
class FileDetails:
    """What a photo's file says beyond the catalog (the details panel).

    ``metadata``: camera, lens, exposure, position, size as the file states
    them (:mod:`clipdesk.core.metadata`, the reader indexing uses), or None
    when the file cannot be read now; ``problem`` then says why, in words.
    ``sidecar``: the display path of the photo's XMP sidecar, when it has one.
    """

    metadata: metadata.Metadata | None
    sidecar: str | None
    problem: str | None = None


class FileService:
    def __init__(self, catalog: Catalog, models: ModelService):
        self._catalog = catalog
        self._models = models

    def details(self, photo: Photo) -> FileDetails:
        """Read what ``photo``'s file and sidecar say, without decoding pixels.
        Never raises for a file that is offline, gone or unreadable: the
        answer says why (and still names the sidecar when there is one)."""
        from clipdesk.core.sidecar import sidecar_candidates

        path = Path(photo.path)
        sidecar = next((display_path(c) for c in sidecar_candidates(path) if c.is_file()), None)
        if photo.status == "offline":
            return FileDetails(None, sidecar, f"its folder is offline: {photo.reason}" if photo.reason
                               else "its folder is offline")
        try:
            with open(path, "rb") as f:
                raw = raw_format(os.fsencode(path.name), f.read(1 << 16))
            if raw is not None:  # as decoding does: a RAW's small TIFF preview is not the photo
                return FileDetails(None, sidecar, f"RAW not supported yet ({raw})")
            return FileDetails(metadata.read_file(path), sidecar)
        except FileNotFoundError:
            return FileDetails(None, sidecar, "the file is not there any more")
        except PermissionError:
            return FileDetails(None, sidecar, "ClipDesk may not read the file (permission denied)")
        except (OSError, ValueError, SyntaxError) as exc:  # Pillow: not an image it knows, a bomb...
            return FileDetails(None, sidecar, photo.reason or f"the file cannot be read: {exc}")

    def export(
        self,
        photo_ids: Sequence[int],
        dest: str | os.PathLike,
        options: ExportOptions = ExportOptions(),
        *,
        on_progress: Callable[[int, int], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> ExportReport:
        """Copy these photos into ``dest`` (see :mod:`clipdesk.core.export`)."""
        return export_photos(self._catalog.photos(photo_ids), dest, options, on_progress=on_progress, cancel=cancel)

    def trash(self, photo_ids: Sequence[int]) -> tuple[Changes, list[tuple[str, str]]]:
        """Move these photos' files (and their sidecars) to the system trash and
        take them out of the library. Returns the changes and the files that
        could not be moved, with why (they stay in the library)."""
        from send2trash import send2trash
        from send2trash.exceptions import TrashPermissionError

        from clipdesk.core.sidecar import sidecar_candidates

        gone, failed = [], []
        for photo in self._catalog.photos(photo_ids):
            try:
                send2trash(photo.path)
            except (OSError, TrashPermissionError) as exc:
                failed.append((display_path(photo.path), getattr(exc, "strerror", None) or str(exc)))
                continue
            for sidecar in sidecar_candidates(Path(photo.path)):
                if sidecar.is_file() and not _shared_sidecar(sidecar, photo.path):
                    try:
                        send2trash(str(sidecar))
                    except (OSError, TrashPermissionError):
                        pass  # the photo went; a sidecar left behind is harmless
            gone.append(photo.id)
        self._catalog.delete_photos(gone)
        self._models.forget(gone)
        return Changes(removed=frozenset(gone), tags=bool(gone)), failed

    def move(self, photo_ids: Sequence[int], folder: str | os.PathLike) -> tuple[Changes, list[tuple[str, str]]]:
        """Move these photos' files (with their sidecars) into ``folder``; the
        catalog keeps their ids and tags when ``folder`` is in the library, and
        lets them go otherwise. A name that exists there is not overwritten
        (that photo is reported). Raises UsageError when ``folder`` is not a folder."""
        target = resolve_typed_path(folder)
        if not os.path.isdir(target):
            raise UsageError(f"{display_path(target)} is not a folder")
        roots = sorted(((os.fsencode(f.path), f.id) for f in self._catalog.roots()), key=lambda r: -len(r[0]))
        from clipdesk.core.names import is_under
        from clipdesk.core.sidecar import sidecar_candidates

        root_id = next((fid for root, fid in roots if is_under(target, root)), None)
        moved, left, failed = [], [], []
        for photo in self._catalog.photos(photo_ids):
            src = os.fsencode(photo.path)
            dst = os.path.join(target, os.path.basename(src))
            if os.path.lexists(dst):
                failed.append((display_path(photo.path), f"{display_path(dst)} exists already"))
                continue
            try:
                shutil.move(src, dst)
            except OSError as exc:
                failed.append((display_path(photo.path), exc.strerror or str(exc)))
                continue
            for sidecar in sidecar_candidates(Path(photo.path)):
                if sidecar.is_file():
                    side_dst = os.path.join(target, os.fsencode(sidecar.name))
                    if not os.path.lexists(side_dst):
                        shutil.move(os.fsencode(sidecar), side_dst)
            if root_id is not None:
                self._catalog.move_photo(photo.id, root_id, dst, os.stat(dst).st_mtime_ns)
                moved.append(photo.id)
            else:
                left.append(photo.id)
        if left:
            self._catalog.delete_photos(left)
            self._models.forget(left)
        return Changes(photos=frozenset(moved), removed=frozenset(left), tags=bool(left)), failed


def _shared_sidecar(sidecar: Path, photo: str) -> bool:
    """photo.xmp shared with a RAW or another photo of the same stem (Lightroom's
    RAW+JPEG pairs): it stays until its last photo goes."""
    stem = os.path.splitext(os.path.basename(photo))[0]
    if sidecar.name.lower() != f"{stem}.xmp".lower():
        return False
    siblings = [p for p in sidecar.parent.glob(stem + ".*") if p.suffix.lower() != ".xmp" and str(p) != photo]
    return bool(siblings)

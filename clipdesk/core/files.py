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
from clipdesk.core.changes import Changes, UndoStep
from clipdesk.core.errors import UsageError
from clipdesk.core.export import ExportOptions, ExportReport, export_photos
from clipdesk.core.models import ModelService
from clipdesk.core.names import display_path, resolve_typed_path
from clipdesk.core.wording import plural


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
        """Read what ``photo``'s file and sidecar say, without decoding pixels
        (a camera RAW's too: :func:`clipdesk.core.metadata.read_raw`). Never
        raises for a file that is offline, gone or unreadable: the answer says
        why (and still names the sidecar when there is one)."""
        from clipdesk.core.sidecar import sidecar_candidates

        path = Path(photo.path)
        sidecar = next((display_path(c) for c in sidecar_candidates(path) if c.is_file()), None)
        if photo.status == "offline":
            return FileDetails(None, sidecar, f"its folder is offline: {photo.reason}" if photo.reason
                               else "its folder is offline")
        try:
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
        could not be moved, with why (they stay in the library).

        Where the system lets a program put files back (freedesktop.org
        systems: :mod:`clipdesk.core.trashcan`) the changes carry an undo that
        puts the files back and the photos back in the library with their
        tags; elsewhere ``undo`` is None: the files are in the system trash."""
        from send2trash.exceptions import TrashPermissionError

        from clipdesk.core.sidecar import sidecar_candidates
        from clipdesk.core.trashcan import move_to_trash, restorable

        snapshots = self._catalog.snapshot_photos(photo_ids)
        gone, failed = [], []
        items: list = []  # Trashed, the photos' and their sidecars'
        undoable = restorable()
        for photo in self._catalog.photos(photo_ids):
            try:
                item = move_to_trash(photo.path)
            except (OSError, TrashPermissionError) as exc:
                failed.append((display_path(photo.path), getattr(exc, "strerror", None) or str(exc)))
                continue
            undoable = undoable and item is not None
            items.append(item)
            extras = [Path(photo.companion)] if photo.companion and os.path.lexists(photo.companion) else []
            for owner in photo.files:
                extras += [c for c in sidecar_candidates(Path(owner)) if c not in extras]
            for extra in extras:  # the RAW's JPEG, then the sidecars of both
                if extra.is_file() and not _shared_sidecar(extra, photo):
                    try:
                        items.append(move_to_trash(extra))
                    except (OSError, TrashPermissionError):
                        pass  # the photo went; a companion or sidecar left behind is harmless
            gone.append(photo.id)
        self._catalog.delete_photos(gone)
        self._models.forget(gone)
        undo = None
        if gone and undoable:
            label = f"Move {plural(len(gone), 'photo')} to the trash"
            kept = {os.fsencode(p): snap for p, snap in snapshots.items()
                    if any(i is not None and i.original == os.fsencode(p) for i in items)}
            undo = UndoStep(label, lambda: self._put_back([i for i in items if i is not None], kept, label))
        return Changes(removed=frozenset(gone), tags=bool(gone), undo=undo), failed

    def _put_back(self, items: list, snapshots: dict[bytes, str], label: str) -> Changes:
        """Undo of :meth:`trash`: every photo's file back from the trash (or
        none: UsageError names what is in the way), its sidecars where they
        can be, then the photos back in the library with their tags."""
        from clipdesk.core.trashcan import can_put_back, put_back

        photos = [i for i in items if i.original in snapshots]
        problems = [why for i in photos if (why := can_put_back(i)) is not None]
        if problems:
            raise UsageError("cannot put the photos back: " + "; ".join(problems[:3])
                             + (f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""))
        for item in items:
            if item in photos or can_put_back(item) is None:
                put_back(item)
        restored = self._catalog.restore_snapshots(snapshots)
        return Changes(photos=frozenset(restored), tags=True, catalog=bool(restored),
                       undo=UndoStep(label, lambda: self.trash(restored)[0]))

    def move(self, photo_ids: Sequence[int], folder: str | os.PathLike) -> tuple[Changes, list[tuple[str, str]]]:
        """Move these photos' files (with their sidecars) into ``folder``; the
        catalog keeps their ids and tags when ``folder`` is in the library, and
        lets them go otherwise. A name that exists there is not overwritten
        (that photo is reported). Undoable: the files go back, and photos that
        left the library come back with their tags. Raises UsageError when
        ``folder`` is not a folder."""
        from clipdesk.core.sidecar import sidecar_candidates

        target = resolve_typed_path(folder)
        if not os.path.isdir(target):
            raise UsageError(f"{display_path(target)} is not a folder")
        root_id = self._root_of(target)
        snapshots = self._catalog.snapshot_photos(photo_ids) if root_id is None else {}
        moved, left, failed = [], [], []
        done: list[tuple[int, list[tuple[bytes, bytes]]]] = []  # photo id, (from, to) of its files
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
            files = [(src, dst)]
            companion = None
            extras = [Path(photo.companion)] if photo.companion else []
            for owner in photo.files:
                extras += [c for c in sidecar_candidates(Path(owner)) if c not in extras]
            for extra in extras:  # the RAW's JPEG and the sidecars of both travel with it
                if extra.is_file():
                    extra_dst = os.path.join(target, os.fsencode(extra.name))
                    if not os.path.lexists(extra_dst):
                        shutil.move(os.fsencode(extra), extra_dst)
                        files.append((os.fsencode(extra), extra_dst))
                        if photo.companion and str(extra) == photo.companion:
                            companion = extra_dst
            done.append((photo.id, files))
            if root_id is not None:
                self._catalog.move_photo(photo.id, root_id, dst, os.stat(dst).st_mtime_ns)
                self._catalog.set_companion(photo.id, companion)
                moved.append(photo.id)
            else:
                left.append(photo.id)
        if left:
            self._catalog.delete_photos(left)
            self._models.forget(left)
        undo = None
        if done:
            label = f"Move {plural(len(done), 'photo')} to {os.path.basename(display_path(target))}"
            undo = UndoStep(label, lambda: self._move_back(done, snapshots, target, label))
        return Changes(photos=frozenset(moved), removed=frozenset(left), tags=bool(left), undo=undo), failed

    def _move_back(self, done: list, snapshots: dict[bytes, str], target: bytes, label: str) -> Changes:
        """Undo of :meth:`move`: each photo's files back where they were (none
        when one is in the way: UsageError), the photos that had left back in
        the library with their tags."""
        blocked = [display_path(src) for _pid, files in done for src, dst in files[:1]
                   if os.path.lexists(src) or not os.path.lexists(dst)]
        if blocked:
            raise UsageError(f"cannot move {', '.join(blocked[:3])} back: the file is not where it was moved "
                             "or another file took its place")
        moved = []
        for pid, files in done:
            for src, dst in files:
                if os.path.lexists(dst) and not os.path.lexists(src):
                    shutil.move(dst, src)
            src = files[0][0]
            if src not in snapshots and (root_id := self._root_of(os.path.dirname(src))) is not None:
                self._catalog.move_photo(pid, root_id, src, os.stat(src).st_mtime_ns)
                stem = os.path.splitext(os.path.basename(src))[0]
                companion = next((f for f, _ in files[1:] if os.path.splitext(os.path.basename(f))[0] == stem
                                  and not f.lower().endswith(b".xmp")), None)
                self._catalog.set_companion(pid, companion)
                moved.append(pid)
        restored = self._catalog.restore_snapshots({src: snap for src, snap in snapshots.items()
                                                    if any(f[0][0] == src for _p, f in done)})
        back = moved + restored
        return Changes(photos=frozenset(back), tags=bool(restored), catalog=bool(restored),
                       undo=UndoStep(label, lambda: self.move(back, target)[0]))

    def _root_of(self, path: bytes) -> int | None:
        """The library folder (innermost) that ``path`` is in, or None."""
        from clipdesk.core.names import is_under

        roots = sorted(((os.fsencode(f.path), f.id) for f in self._catalog.roots()), key=lambda r: -len(r[0]))
        return next((fid for root, fid in roots if is_under(path, root)), None)


def _shared_sidecar(sidecar: Path, photo: Photo) -> bool:
    """photo.xmp shared with another photo of the same stem (not the photo's
    own companion: a RAW+JPEG pair's NAME.xmp is the pair's): it stays until
    its last photo goes."""
    stem = os.path.splitext(os.path.basename(photo.path))[0]
    if sidecar.name.lower() != f"{stem}.xmp".lower():
        return False
    own = set(photo.files)
    siblings = [p for p in sidecar.parent.glob(stem + ".*") if p.suffix.lower() != ".xmp" and str(p) not in own]
    return bool(siblings)

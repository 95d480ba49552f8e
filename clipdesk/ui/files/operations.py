"""Moving photos to the system trash or to another folder, from any view.

Both run through the change hub (``library.files.trash`` / ``move`` on the
writes pool), whose announcement carries their undo to the window's history
(:mod:`clipdesk.ui.undo`): where the system lets ClipDesk put a trashed file
back (the freedesktop.org trash, :mod:`clipdesk.core.trashcan`) Edit ▸ Undo
does; elsewhere the message says the photos are in the system trash, to be
restored from there. Files that could not be moved are listed with why.
"""

from __future__ import annotations

import os

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from clipdesk.core.catalog import Photo
from clipdesk.core.library import Library
from clipdesk.core.trashcan import restorable
from clipdesk.core.wording import plural
from clipdesk.ui.files.reveal import show_in_file_manager
from clipdesk.ui.hub import ChangeHub
from clipdesk.ui.settings import Settings

#: Files listed by name when some could not be moved.
LISTED_FAILURES = 10


class FileOperations(QObject):
    """Trash, move and reveal photos' files; dialogs open over ``parent``."""

    statusMessage = Signal(str, int)  # text, milliseconds
    error = Signal(str)

    def __init__(self, library: Library, hub: ChangeHub, settings: Settings, parent: QWidget):
        super().__init__(parent)
        self.library = library
        self.hub = hub
        self.settings = settings
        self._host = parent

    def trash(self, photos: list[Photo], *, confirm: bool = True) -> None:
        """Move the photos' files (and sidecars) to the system trash; they leave the library."""
        if not photos:
            return
        n = plural(len(photos), "photo")
        if confirm:
            back = ("Edit ▸ Undo puts them back" if restorable()
                    else "you can restore them from there")
            answer = QMessageBox.question(
                self._host, "Move to trash",
                f"Move {n} to the trash? The files (and their sidecars) go to the system trash and "
                f"leave the library; {back}.")
            if answer != QMessageBox.StandardButton.Yes:
                return
        ids = [p.id for p in photos]
        files = self.library.files

        def done(result) -> None:
            changes, failed = result
            gone = len(changes.removed)
            if gone:
                where = " (Edit ▸ Undo puts them back)" if changes.undo is not None else \
                    "; restore them from the system trash"
                self.statusMessage.emit(f"Moved {plural(gone, 'photo')} to the trash{where}", 8000)
            self._report(failed, "moved to the trash")

        self.hub.write(lambda: files.trash(ids), done, lambda e: self.error.emit(f"Could not move to the trash: {e}"),
                       owner=self, changes=lambda result: result[0])

    def move(self, photos: list[Photo], folder: str | None = None) -> None:
        """Move the photos' files (with their sidecars) into ``folder`` (asked for when None)."""
        if not photos:
            return
        if folder is None:
            start = os.path.dirname(photos[0].path)
            folder = QFileDialog.getExistingDirectory(self._host, f"Move {plural(len(photos), 'photo')} to", start)
            if not folder:
                return
        ids = [p.id for p in photos]
        files = self.library.files
        name = os.path.basename(os.path.normpath(folder))

        def done(result) -> None:
            changes, failed = result
            moved = len(changes.photos) + len(changes.removed)
            if moved:
                left = f"; {plural(len(changes.removed), 'photo')} left the library (the folder is not in it)" \
                    if changes.removed else ""
                self.statusMessage.emit(f"Moved {plural(moved, 'photo')} to {name}{left}", 8000)
            self._report(failed, f"moved to {name}")

        self.hub.write(lambda: files.move(ids, folder), done, lambda e: self.error.emit(f"Could not move: {e}"),
                       owner=self, changes=lambda result: result[0])

    def reveal(self, photo: Photo) -> str:
        """Show the photo's file in the file manager (see :mod:`clipdesk.ui.files.reveal`)."""
        return show_in_file_manager(photo.path, self)

    def _report(self, failed: list[tuple[str, str]], what: str) -> None:
        if not failed:
            return
        lines = [f"{os.path.basename(path)}: {why}" for path, why in failed[:LISTED_FAILURES]]
        if len(failed) > LISTED_FAILURES:
            lines.append(f"… and {plural(len(failed) - LISTED_FAILURES, 'more photo')}")
        self.error.emit(f"{plural(len(failed), 'photo')} could not be {what} and stayed where "
                        f"{'it was' if len(failed) == 1 else 'they were'}:\n" + "\n".join(lines))

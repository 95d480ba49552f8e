"""What the user can do to the photos in the grid, and the context menu that offers it.

Preview and view full screen, open with the system viewer, copy paths, tag,
remove from the library, exclude a folder: done here, the changes through
the hub (undoable: the history records them there). Show in the file
manager, move to a folder and move to the trash are the files feature's
(:mod:`clipdesk.ui.files`); find similar, suggest tags and export belong to
other features: they are asked for by signal; other features add their own
entries to the menu (``menu_extensions``: the marks).
"""

from __future__ import annotations

import os
from typing import Callable

from PySide6.QtCore import QObject, QPoint, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import QInputDialog, QMenu, QMessageBox, QWidget

from clipdesk.core.catalog import Photo
from clipdesk.core.library import Library
from clipdesk.core.wording import plural
from clipdesk.ui.files.operations import FileOperations
from clipdesk.ui.grid.controller import GridController
from clipdesk.ui.grid.preview import PreviewController
from clipdesk.ui.hub import ChangeHub

#: Tags offered in the context menu's Tag submenu.
MENU_TAGS = 40


class PhotoActions(QObject):
    """The grid's photo actions; dialogs they need open over ``parent``."""

    similarRequested = Signal(object)  # Photo
    suggestRequested = Signal(list)  # list[Photo]
    exportRequested = Signal(list)  # list[Photo]
    statusMessage = Signal(str, int)  # text, milliseconds
    error = Signal(str)

    def __init__(self, library: Library, hub: ChangeHub, grid: GridController, previews: PreviewController,
                 files: FileOperations, parent: QWidget):
        super().__init__(parent)
        self.library = library
        self.hub = hub
        self.grid = grid
        self.previews = previews
        self.files = files
        self._host = parent
        #: The library's tags, by name (the Tag submenu).
        self.tag_names: list[str] = []
        #: The library folders (a folder inside one can be excluded).
        self.roots: list[str] = []
        #: More entries for the context menu: ``extend(menu, photos)``.
        self.menu_extensions: list[Callable[[QMenu, list[Photo]], None]] = []
        grid.grid.contextMenuAt.connect(self._menu_at)

    def set_tag_names(self, names: list[str]) -> None:
        self.tag_names = list(names)

    def set_roots(self, roots: list[str]) -> None:
        self.roots = list(roots)

    def _menu_at(self, pos: QPoint) -> None:
        view = self.grid.grid
        index = view.indexAt(pos)
        if not index.isValid():
            return
        if not view.selectionModel().isSelected(index):
            view.setCurrentIndex(index)
        photos = self.grid.selected_photos() or [p for p in [self.grid.model.photo(index.row())] if p is not None]
        if photos:
            self.menu(photos).exec(view.viewport().mapToGlobal(pos))

    def menu(self, photos: list[Photo]) -> QMenu:
        """The context menu for ``photos`` (the first one for single-photo actions)."""
        menu = QMenu(self._host)
        first = photos[0]
        menu.addAction("Find similar", lambda: self.similarRequested.emit(first))
        menu.addAction("Preview", lambda: self.previews.open(self.grid.model.row_of(first.id) or 0))
        menu.addAction("View full screen", lambda: self.previews.open_viewer(self.grid.model.row_of(first.id) or 0))
        menu.addSeparator()
        menu.addAction("Show in file manager", lambda: self.show_in_file_manager(first))
        menu.addAction("Open with the system viewer", lambda: self.open_externally(first))
        menu.addAction("Copy path" if len(photos) == 1 else f"Copy {len(photos)} paths",
                       lambda: self.copy_paths(photos))
        menu.addSeparator()
        tag_menu = menu.addMenu("Tag")
        tag_menu.addAction("New tag…", lambda: self.tag_new(photos))
        if self.tag_names:
            tag_menu.addSeparator()
            for name in self.tag_names[:MENU_TAGS]:
                tag_menu.addAction(name, lambda n=name: self.tag(photos, n))
        menu.addAction("Suggest tags", lambda: self.suggestRequested.emit(photos))
        for extend in self.menu_extensions:
            menu.addSeparator()
            extend(menu, photos)
        menu.addSeparator()
        menu.addAction("Export…", lambda: self.exportRequested.emit(photos))
        menu.addAction("Move to folder…", lambda: self.files.move(photos))
        menu.addAction("Move to trash…", lambda: self.files.trash(photos))
        menu.addAction("Remove from library…", lambda: self.remove(photos))
        folder = os.path.dirname(first.path)
        if any(_inside(folder, root) for root in self.roots):
            menu.addAction(f"Exclude the folder “{os.path.basename(folder)}”…", lambda: self.exclude(folder))
        return menu

    def show_in_file_manager(self, photo: Photo) -> str:
        """Show the photo's file, selected, in the file manager; the way taken."""
        return self.files.reveal(photo)

    def trash_selected(self) -> None:
        """Move the selected photos to the trash, after asking (Ctrl+Delete)."""
        self.files.trash(self.grid.selected_photos())

    def move_selected(self) -> None:
        """Move the selected photos to a folder the user picks."""
        self.files.move(self.grid.selected_photos())

    def open_externally(self, photo: Photo) -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(photo.path))

    def copy_paths(self, photos: list[Photo]) -> None:
        QGuiApplication.clipboard().setText("\n".join(p.path for p in photos))
        self.statusMessage.emit(f"Copied {plural(len(photos), 'path')}", 3000)

    def tag(self, photos: list[Photo], tag: str) -> None:
        """Put ``tag`` on ``photos`` (an accepted tag, as if typed in the details panel)."""
        ids = [p.id for p in photos]
        tags = self.library.tags
        self.hub.write(lambda: tags.accept(ids, tag),
                       lambda _: self.statusMessage.emit(f"Tagged {plural(len(ids), 'photo')} '{tag}'", 4000),
                       lambda e: self.error.emit(f"Could not tag: {e}"), owner=self)

    def tag_new(self, photos: list[Photo]) -> None:
        """Ask for a tag's name and put it on ``photos``."""
        name, ok = QInputDialog.getText(self._host, "New tag", f"Tag for {plural(len(photos), 'photo')}:")
        if ok and name.strip():
            self.tag(photos, name.strip())

    def remove_selected(self) -> None:
        """Remove the selected photos, after asking (the Delete key)."""
        photos = self.grid.selected_photos()
        if photos:
            self.remove(photos)

    def remove(self, photos: list[Photo], confirm: bool = True) -> None:
        """Take photos out of the library (the files stay), after asking when ``confirm``."""
        if confirm:
            answer = QMessageBox.question(
                self._host, "Remove from library",
                f"Remove {plural(len(photos), 'photo')} from the library? The files stay on disk and later "
                "scans leave them out; Edit ▸ Undo brings them back with their tags.",
            )
            if answer != QMessageBox.StandardButton.Yes:
                return
        ids = [p.id for p in photos]
        folders = self.library.folders
        # The search that runs again after the removal overtakes any listing read before it.
        self.hub.write(lambda: folders.remove_photos(ids), None, lambda e: self.error.emit(f"Could not remove: {e}"),
                       owner=self)

    def exclude(self, folder: str, confirm: bool = True) -> None:
        """Skip a folder inside a library folder: its photos leave the library
        (the files stay) and later scans pass it by; after asking when ``confirm``."""
        if confirm:
            answer = QMessageBox.question(
                self._host, "Exclude folder",
                f"Exclude {folder} from the library? Its photos leave the library (the files stay on disk) "
                "and later scans skip the folder. This can be undone.",
            )
            if answer != QMessageBox.StandardButton.Yes:
                return
        folders = self.library.folders
        self.hub.write(lambda: folders.exclude(folder),
                       lambda changes: self.statusMessage.emit(
                           f"Excluded {os.path.basename(folder)} ({len(changes.removed):,} photos left the library)",
                           5000),
                       lambda e: self.error.emit(f"Could not exclude the folder: {e}"), owner=self)


def _inside(path: str, root: str) -> bool:
    """``path`` is a folder below ``root`` (not ``root`` itself)."""
    root = root.rstrip(os.sep)
    return path != root and path.startswith(root + os.sep)

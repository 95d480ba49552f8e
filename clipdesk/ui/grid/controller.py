"""The main grid's behaviour: answers shown without losing the user's place.

:class:`GridController` puts each search answer in the grid's model. A refresh
of the same query (photos arrived, a tag changed) keeps the selection, the
current photo and the scroll position; a new query starts at the top. It
fetches a listing's photos page by page as rows are shown, drops photos the
hub says were removed, tells the details panel what is selected once the
selection settles, says why the grid is empty, and sizes the thumbnails.
"""

from __future__ import annotations

from PySide6.QtCore import QItemSelection, QItemSelectionModel, QObject, QTimer, Signal

from clipdesk.core.catalog import Photo
from clipdesk.core.changes import Changes
from clipdesk.core.library import Library
from clipdesk.ui.grid.view import PhotoGrid
from clipdesk.ui.hub import ChangeHub
from clipdesk.ui.search.controller import Answer
from clipdesk.ui.settings import Settings
from clipdesk.ui.workers import Pools

#: Thumbnail sizes that zooming steps through (Ctrl + wheel, Ctrl +/-).
THUMB_STEPS = (64, 96, 128, 160, 200, 240, 280, 320)

#: The details panel shows at most this many of the selected photos.
DETAILS_LIMIT = 500


class GridController(QObject):
    """Shows answers in the main grid and keeps the user's place there."""

    #: The selection settled: the selected photos (at most DETAILS_LIMIT).
    selectionSettled = Signal(list)
    #: The thumbnail size changed (zoom): the size slider follows.
    thumbSizeChanged = Signal(int)

    def __init__(self, grid: PhotoGrid, library: Library, pools: Pools, hub: ChangeHub, settings: Settings,
                 parent: QObject | None = None):
        super().__init__(parent)
        self.grid = grid
        self.model = grid.photo_model()
        self.library = library
        self.pools = pools
        self.settings = settings
        #: The answer the grid shows (None before the first).
        self.answer: Answer | None = None
        #: Whether the library has folders (None until known).
        self._has_folders: bool | None = None
        #: The next answer starts at the top even for the same query (a new sort).
        self._start_over = False
        self._selection = QTimer(self)
        self._selection.setSingleShot(True)
        self._selection.setInterval(60)
        self._selection.timeout.connect(lambda: self.selectionSettled.emit(self.selected_photos()[:DETAILS_LIMIT]))
        grid.selectionModel().selectionChanged.connect(lambda *_: self._selection.start())
        grid.zoomRequested.connect(self.zoom)
        self.model.photosWanted.connect(self._fetch_photos)
        hub.changed.connect(self._on_changes)

    # -- answers -------------------------------------------------------------------
    def show_answer(self, answer: Answer) -> None:
        """Show ``answer``; the same query again keeps the selection, current photo
        and scroll. Sorted by date, its rows go under month headers."""
        same_query = self.answer is not None and self.answer.text == answer.text and not self._start_over
        self._start_over = False
        self.answer = answer
        selected = {self.model.photo_id(r) for r in self.grid.selected_rows()}
        current = self.grid.current_row()
        current_id = self.model.photo_id(current) if current is not None and current < self.model.rowCount() else None
        scroll = self.grid.verticalScrollBar().value()
        how = self.model.set_rows(answer.ids, answer.scores, answer.photos, answer.fingerprint)
        self.grid.set_sections(answer.result.months, keep_place=how != "reset")
        if how == "reset":
            if selected or current_id is not None:
                self._restore_selection(selected, current_id)
            self.grid.verticalScrollBar().setValue(scroll if same_query else 0)
        self._update_empty()
        self._details_follow_rows()

    def _details_follow_rows(self) -> None:
        """The details panel shows the selection as it is after the rows changed:
        a photo that left the grid is no longer shown there. (A model reset
        drops the selection without a selectionChanged signal.)"""
        self._selection.start()

    def start_over(self) -> None:
        """Show the next answer from its top, even for the same query (it comes in a new order)."""
        self._start_over = True

    def _restore_selection(self, ids: set[int], current_id: int | None) -> None:
        sm = self.grid.selectionModel()
        sm.clearSelection()
        selection = QItemSelection()
        for pid in ids:
            row = self.model.row_of(pid)
            if row is not None:
                idx = self.model.index(row)
                selection.select(idx, idx)
        sm.select(selection, QItemSelectionModel.SelectionFlag.Select)
        if current_id is not None:
            row = self.model.row_of(current_id)
            if row is not None:
                sm.setCurrentIndex(self.model.index(row), QItemSelectionModel.SelectionFlag.NoUpdate)

    def _fetch_photos(self, ids: list) -> None:
        """Photos for rows the grid shows for the first time (a listing is fetched in pages)."""
        search = self.library.search
        self.pools.run(self.pools.general, lambda: search.photos(ids), self.model.add_photos, owner=self.model)

    def _on_changes(self, changes: Changes) -> None:
        if changes.removed:
            self.model.remove_ids(list(changes.removed))
            self._details_follow_rows()

    # -- what is shown ---------------------------------------------------------------
    def photo(self, photo_id: int) -> Photo | None:
        """The photo of a row of the grid, if it is one."""
        row = self.model.row_of(photo_id)
        return self.model.photo(row) if row is not None else None

    def selected_photos(self) -> list[Photo]:
        """The selected photos whose data the grid has, in row order."""
        return [p for p in (self.model.photo(r) for r in self.grid.selected_rows()) if p is not None]

    def set_has_folders(self, has: bool) -> None:
        """Whether the library has folders at all (what an empty grid says)."""
        self._has_folders = has
        self._update_empty()

    def _update_empty(self) -> None:
        if self.model.rowCount():
            text = None
        elif self._has_folders is False:
            text = "No photos yet.\nAdd a folder (File ▸ Add folder, or drop one here) to start."
        elif self.answer is not None and self.answer.text.strip():
            text = "Nothing matches this search."
        else:
            text = "No photos yet."
        self.grid.set_empty_text(text)

    # -- thumbnails ------------------------------------------------------------------
    def set_thumb_size(self, size: int) -> None:
        """Thumbnails this many pixels wide and high (remembered in the settings)."""
        size = int(size)
        if size == self.settings.thumb_size == self.grid.delegate.size:
            return
        self.settings.thumb_size = size
        self.model.thumbs.set_size(size)
        self.grid.set_thumb_size(size)
        self.thumbSizeChanged.emit(size)

    def zoom(self, steps: int) -> None:
        """One step larger (``steps`` > 0) or smaller."""
        size = self.settings.thumb_size
        if steps > 0:
            bigger = [s for s in THUMB_STEPS if s > size]
            size = bigger[0] if bigger else size
        else:
            smaller = [s for s in THUMB_STEPS if s < size]
            size = smaller[-1] if smaller else size
        self.set_thumb_size(size)

    def set_show_names(self, on: bool) -> None:
        self.settings.show_names = on
        self.grid.set_show_names(on)

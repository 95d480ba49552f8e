"""Looking at the grid's photos: the QuickLook-style preview and the full-screen viewer.

:class:`PreviewController` opens either on a row of the grid and steps
through the grid from it (the arrow keys move the grid's current photo). A
photo is decoded off the GUI thread (:func:`clipdesk.ui.viewer.loading.load_photo`,
indexing's decode path) at about the screen's size first; when the user
zooms past that, it is decoded again at its own size, the view kept where it
was. A file that cannot be shown shows its cached thumbnail and says why.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QWidget

from clipdesk.core.catalog import Photo
from clipdesk.core.imaging import ThumbnailCache
from clipdesk.ui.grid.view import PhotoGrid
from clipdesk.ui.viewer.loading import Shown, load_photo
from clipdesk.ui.viewer.window import PreviewWindow, ViewerWindow
from clipdesk.ui.workers import Pools

log = logging.getLogger(__name__)


class PreviewController(QObject):
    """Enter opens the preview on the current photo, Space toggles it; F or a
    double click opens the full-screen viewer. In either, the arrow keys move
    the grid's current photo."""

    def __init__(self, grid: PhotoGrid, pools: Pools, thumbnails: ThumbnailCache, parent: QWidget):
        super().__init__(parent)
        self.grid = grid
        self.pools = pools
        self.thumbnails = thumbnails
        self._host = parent
        self._window: PreviewWindow | None = None
        self._viewer: ViewerWindow | None = None
        #: Photos whose full-size decode was asked for (per window).
        self._detail: dict[int, int] = {}

    @property
    def window(self) -> PreviewWindow | None:
        """The preview, once it was opened."""
        return self._window

    @property
    def viewer(self) -> ViewerWindow | None:
        """The full-screen viewer, once it was opened."""
        return self._viewer

    def open(self, row: int) -> None:
        """Show the photo of ``row`` in the preview and make it the grid's current one."""
        if self._window is None:
            self._window = self._connect(PreviewWindow(self._host))
        self._show(self._window, row)
        self._window.show()
        self._window.raise_()

    def open_viewer(self, row: int) -> None:
        """Show the photo of ``row`` full screen (F, a double click)."""
        if self._viewer is None:
            self._viewer = self._connect(ViewerWindow(self._host))
        if self._show(self._viewer, row):
            self._viewer.open()

    def _connect(self, window):
        window.step.connect(lambda step, w=window: self._step(w, step))
        window.view.detailWanted.connect(lambda w=window: self._load_detail(w))
        return window

    def toggle(self, row: int) -> None:
        """Close the preview when it is open, else open it on ``row`` (Space)."""
        if self._window is not None and self._window.isVisible():
            self._window.close()
        else:
            self.open(row)

    def close(self) -> None:
        for window in (self._window, self._viewer):
            if window is not None:
                window.close()

    # -- loading -----------------------------------------------------------------------
    def _show(self, window, row: int | None) -> bool:
        model = self.grid.photo_model()
        if row is None or not (0 <= row < model.rowCount()):
            return False
        photo = model.photo(row)
        if photo is None:
            return False
        self.grid.setCurrentIndex(model.index(row))
        window.show_photo(photo.id, photo.name, None, None, "loading…")
        self._detail.pop(id(window), None)
        screen = self._host.screen().availableGeometry() if self._host.screen() else None
        side = max(800, min(2400, max(screen.width(), screen.height()) if screen else 1600))
        self._load(window, photo, side, keep_view=False)
        return True

    def _load(self, window, photo: Photo, side: int | None, *, keep_view: bool) -> None:
        thumbnails = self.thumbnails

        def done(shown: Shown) -> None:
            if window.photo_id == photo.id:
                alone = shown.image is None  # nothing to show: the note takes the picture's place
                window.show_photo(photo.id, photo.name, shown.image, shown.size, shown.note if alone else "",
                                  "" if alone else shown.note, keep_view=keep_view)
                if shown.full:
                    self._detail[id(window)] = photo.id  # nothing more to load

        def failed(exc: BaseException) -> None:
            log.error("could not load %s", photo.path, exc_info=exc)
            if window.photo_id == photo.id:
                window.show_photo(photo.id, photo.name, None, None, f"Could not show this photo: {exc}")

        self.pools.run(self.pools.general, lambda: load_photo(photo, thumbnails, side), done, failed, owner=window)

    def _load_detail(self, window) -> None:
        """The user zoomed past the picture's pixels: decode the photo at its own size (once)."""
        pid = window.photo_id
        row = self.grid.photo_model().row_of(pid) if pid is not None else None
        photo = self.grid.photo_model().photo(row) if row is not None else None
        if photo is None or self._detail.get(id(window)) == pid:
            return
        self._detail[id(window)] = pid
        self._load(window, photo, None, keep_view=True)

    def _step(self, window, step: int) -> None:
        row = self.grid.current_row()
        if row is None:
            return
        row = max(0, min(self.grid.photo_model().rowCount() - 1, row + step))
        self.grid.selectionModel().clearSelection()
        self._show(window, row)

"""Large previews: the details panel's picture and the QuickLook-style viewer.

:func:`load_image` runs on a worker thread: Pillow decodes the original (JPEG
draft mode keeps it quick, EXIF orientation applied) into a ``QImage`` no
larger than asked; the GUI thread only paints it. :class:`PreviewController`
opens the viewer on a row of the grid and steps through the grid from it.
"""

from __future__ import annotations

import io
import logging

from PIL import Image, ImageOps
from PySide6.QtCore import QObject, QSize, Qt, Signal
from PySide6.QtGui import QImage, QKeyEvent, QPainter, QPalette, QPixmap
from PySide6.QtWidgets import QDialog, QLabel, QSizePolicy, QVBoxLayout, QWidget

from clipdesk.core.errors import DecodeError
from clipdesk.core.imaging import FORMATS, read_stable, to_srgb
from clipdesk.ui.grid.view import PhotoGrid
from clipdesk.ui.workers import Pools

log = logging.getLogger(__name__)


def load_image(path: str, max_side: int) -> QImage:
    """Decode ``path`` to a QImage at most ``max_side`` pixels wide and high (worker thread)."""
    data, _ = read_stable(path)
    try:
        img = Image.open(io.BytesIO(data), formats=FORMATS)
        if img.format in ("JPEG", "MPO"):
            img.draft("RGB", (max_side, max_side))
        img = to_srgb(ImageOps.exif_transpose(img))  # the same colours the thumbnail and the model get
        img.thumbnail((max_side, max_side), Image.Resampling.BICUBIC)
    except (OSError, ValueError, SyntaxError, MemoryError, Image.DecompressionBombError,
            Image.DecompressionBombWarning) as exc:
        raise DecodeError(f"cannot show this image: {exc}") from None
    raw = img.tobytes()
    q = QImage(raw, img.width, img.height, img.width * 3, QImage.Format.Format_RGB888)
    return q.copy()  # own the pixels: ``raw`` goes away


class ImageView(QWidget):
    """Paints an image scaled to fit, centred; a message while there is none."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._pixmap: QPixmap | None = None
        self._text = ""
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(QSize(120, 120))

    def set_image(self, image: QImage | None, text: str = "") -> None:
        self._pixmap = QPixmap.fromImage(image) if image is not None and not image.isNull() else None
        self._text = text
        self.update()

    def has_image(self) -> bool:
        return self._pixmap is not None

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        try:
            r = self.rect()
            if self._pixmap is None:
                p.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
                p.drawText(r, Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self._text)
                return
            pm = self._pixmap
            scale = min(r.width() / pm.width(), r.height() / pm.height(), 1.0)
            w, h = int(pm.width() * scale), int(pm.height() * scale)
            p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
            p.drawPixmap((r.width() - w) // 2, (r.height() - h) // 2, w, h, pm)
        finally:
            p.end()


class PreviewWindow(QDialog):
    """QuickLook: Space or Esc closes, arrow keys move through the grid."""

    step = Signal(int)  # -1 / +1: the previous / next photo

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("previewWindow")
        self.setWindowTitle("Preview")
        self.setModal(False)
        self.view = ImageView(self)
        self.caption = QLabel(self)
        self.caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.addWidget(self.view, 1)
        lay.addWidget(self.caption)
        self.photo_id: int | None = None
        self.resize(900, 700)

    def show_photo(self, photo_id: int, caption: str, image: QImage | None, text: str = "") -> None:
        self.photo_id = photo_id
        self.caption.setText(caption)
        self.setWindowTitle(caption)
        self.view.set_image(image, text)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key in (Qt.Key.Key_Space, Qt.Key.Key_Escape):
            self.close()
            return
        if key in (Qt.Key.Key_Right, Qt.Key.Key_Down):
            self.step.emit(1)
            return
        if key in (Qt.Key.Key_Left, Qt.Key.Key_Up):
            self.step.emit(-1)
            return
        super().keyPressEvent(event)


class PreviewController(QObject):
    """The viewer for the grid's photos: Enter opens it on the current photo,
    Space toggles it, the arrow keys in it move the grid's current photo. The
    photo is decoded off the GUI thread at about the screen's size."""

    def __init__(self, grid: PhotoGrid, pools: Pools, parent: QWidget):
        super().__init__(parent)
        self.grid = grid
        self.pools = pools
        self._host = parent
        self._window: PreviewWindow | None = None

    @property
    def window(self) -> PreviewWindow | None:
        """The viewer, once it was opened."""
        return self._window

    def open(self, row: int) -> None:
        """Show the photo of ``row`` in the viewer and make it the grid's current one."""
        model = self.grid.photo_model()
        if row is None or not (0 <= row < model.rowCount()):
            return
        if self._window is None:
            self._window = PreviewWindow(self._host)
            self._window.step.connect(self._step)
        photo = model.photo(row)
        if photo is None:
            return
        self.grid.setCurrentIndex(model.index(row))
        preview = self._window
        preview.show_photo(photo.id, photo.name, None, "loading…")
        preview.show()
        preview.raise_()
        screen = self._host.screen().availableGeometry() if self._host.screen() else None
        side = max(800, min(2400, max(screen.width(), screen.height()) if screen else 1600))

        def done(image) -> None:
            if preview.photo_id == photo.id:
                preview.show_photo(photo.id, photo.name, image)

        def failed(exc) -> None:
            if preview.photo_id == photo.id:
                preview.show_photo(photo.id, photo.name, None, str(exc))

        self.pools.run(self.pools.general, lambda: load_image(photo.path, side), done, failed, owner=preview)

    def toggle(self, row: int) -> None:
        """Close the viewer when it is open, else open it on ``row`` (Space)."""
        if self._window is not None and self._window.isVisible():
            self._window.close()
        else:
            self.open(row)

    def close(self) -> None:
        if self._window is not None:
            self._window.close()

    def _step(self, step: int) -> None:
        row = self.grid.current_row()
        if row is None:
            return
        row = max(0, min(self.grid.photo_model().rowCount() - 1, row + step))
        self.grid.selectionModel().clearSelection()
        self.open(row)

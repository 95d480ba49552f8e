"""The viewers: a QuickLook-style window and the full-screen viewer.

Both show a :class:`PhotoStage` (the zoomable photo, its name and zoom, and
a note when only the cached thumbnail can be shown) and ask for the previous
or next photo with the arrow keys (``step``); the controller in
:mod:`clipdesk.ui.grid.preview` loads what they show.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QKeyEvent, QPalette
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from clipdesk.ui.fitting import fit_over
from clipdesk.ui.viewer.zoom import ZoomView

#: Keys that step through the photos: -1 the previous one, +1 the next.
STEP_KEYS = {Qt.Key.Key_Left: -1, Qt.Key.Key_Up: -1, Qt.Key.Key_PageUp: -1,
             Qt.Key.Key_Right: 1, Qt.Key.Key_Down: 1, Qt.Key.Key_PageDown: 1}


class PhotoStage(QWidget):
    """The photo, zoomable, with a line under it: its name, the zoom, and a
    note when the file itself cannot be shown."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.view = ZoomView(self)
        self.caption = QLabel(self)
        self.caption.setObjectName("viewerCaption")
        self.zoom = QLabel(self)
        self.zoom.setObjectName("viewerZoom")
        self.note = QLabel(self)
        self.note.setObjectName("viewerNote")
        self.note.setWordWrap(True)
        self.note.hide()
        row = QHBoxLayout()
        row.addWidget(self.caption, 1)
        row.addWidget(self.zoom)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.addWidget(self.view, 1)
        lay.addWidget(self.note)
        lay.addLayout(row)
        self.view.zoomChanged.connect(self._zoom_changed)
        #: The photo shown (its id), or None.
        self.photo_id: int | None = None

    def show_photo(self, photo_id: int, caption: str, image: QImage | None, size: QSize | None = None,
                   text: str = "", note: str = "", *, keep_view: bool = False) -> None:
        """Show a photo: ``image`` a decode of it (None while loading: ``text``
        says so), ``size`` its own size, ``note`` why only a stand-in shows."""
        self.photo_id = photo_id
        self.caption.setText(caption)
        self.view.set_image(image, size, text, keep_view=keep_view)
        self.note.setText(note)
        self.note.setVisible(bool(note))

    def _zoom_changed(self, _scale: float) -> None:
        self.zoom.setText(f"{self.view.zoom_percent()} %" if self.view.has_image() else "")


class _StageWindow:
    """A window around a :class:`PhotoStage`: it shows what the stage shows, and
    its arrow keys step through the photos (what is left goes to the window)."""

    step: Signal
    stage: PhotoStage

    @property
    def photo_id(self) -> int | None:
        return self.stage.photo_id

    def show_photo(self, *args, **kwargs) -> None:
        """:meth:`PhotoStage.show_photo`, the photo's name in the title."""
        self.stage.show_photo(*args, **kwargs)
        self.setWindowTitle(self.stage.caption.text())

    def _step_key(self, event: QKeyEvent) -> bool:
        step = STEP_KEYS.get(Qt.Key(event.key()))
        if step is not None and not event.modifiers():
            self.step.emit(step)
            return True
        return False


class PreviewWindow(_StageWindow, QDialog):
    """QuickLook: Space or Esc closes, the arrow keys move through the grid."""

    step = Signal(int)  # -1 / +1: the previous / next photo

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("previewWindow")
        self.setWindowTitle("Preview")
        self.setModal(False)
        self.stage = PhotoStage(self)
        self.view, self.caption = self.stage.view, self.stage.caption
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.stage)
        fit_over(self, 900, 700)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt's API
        if event.key() in (Qt.Key.Key_Space, Qt.Key.Key_Escape):
            self.close()
            return
        if not self._step_key(event):
            super().keyPressEvent(event)


class ViewerWindow(_StageWindow, QWidget):
    """The full-screen viewer: the photo on black, the arrow keys for the
    previous and next photo, Esc or F to leave; Ctrl+0 fit, Ctrl+1 100 %, Z,
    +, -, the wheel and a pinch zoom, dragging pans."""

    step = Signal(int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent, Qt.WindowType.Window)
        self.setObjectName("viewerWindow")
        self.setWindowTitle("ClipDesk")
        pal = self.palette()
        for role, colour in ((QPalette.ColorRole.Window, QColor(0, 0, 0)),
                             (QPalette.ColorRole.WindowText, QColor(220, 220, 220)),
                             (QPalette.ColorRole.PlaceholderText, QColor(170, 170, 170))):
            pal.setColor(role, colour)
        self.setPalette(pal)
        self.setAutoFillBackground(True)
        self.stage = PhotoStage(self)
        self.view, self.caption = self.stage.view, self.stage.caption
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.stage)

    def open(self) -> None:
        """Show full screen, the photo taking the keys."""
        self.showFullScreen()
        self.raise_()
        self.activateWindow()
        self.view.setFocus()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt's API
        if event.key() in (Qt.Key.Key_Escape, Qt.Key.Key_F):
            self.close()
            return
        if not self._step_key(event):
            super().keyPressEvent(event)

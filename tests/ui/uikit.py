"""Helpers for the desktop app's tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image
from PySide6.QtCore import QMimeData, QObject, QPoint, Qt, QUrl, Slot
from PySide6.QtGui import QDragEnterEvent, QDragLeaveEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QApplication
from support import age

from clipdesk.ui.dnd import PHOTO_IDS_MIME, encode_ids


def names(window_or_model) -> list[str]:
    model = getattr(window_or_model, "model", window_or_model)
    return [Path(h.photo.path).name for h in model.hits()]


def file_mime(*paths) -> QMimeData:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    return mime


def ids_mime(*ids: int) -> QMimeData:
    mime = QMimeData()
    mime.setData(PHOTO_IDS_MIME, encode_ids(ids))
    return mime


def drop(widget, mime: QMimeData, pos: QPoint | None = None) -> bool:
    """Drag ``mime`` onto ``widget`` and drop it, the events Qt sends during a real
    drag (enter, move, drop); True when the drop was accepted."""
    # QPoint: the enter/move constructors of PySide6 6.11 take no QPointF.
    at = QPoint(pos if pos is not None else widget.rect().center())
    args = (at, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    enter = QDragEnterEvent(*args)
    enter.setAccepted(False)
    QApplication.sendEvent(widget, enter)
    if not enter.isAccepted():
        return False
    move = QDragMoveEvent(*args)
    move.setAccepted(True)  # as Qt sends it after an accepted enter; the widget may refuse
    QApplication.sendEvent(widget, move)
    if not move.isAccepted():
        leave = QDragLeaveEvent()
        QApplication.sendEvent(widget, leave)
        return False
    event = QDropEvent(*args)
    event.setAccepted(False)
    QApplication.sendEvent(widget, event)
    return event.isAccepted()


def photo_named(window, name: str):
    """The photo called ``name`` among the window's grid rows."""
    return next(h.photo for h in window.model.hits() if h.photo.name == name)


def select(window, name: str) -> int:
    """Make the photo called ``name`` the grid's current one; its row."""
    row = names(window).index(name)
    window.grid.setCurrentIndex(window.model.index(row))
    return row


def small_jpegs(folder: Path, n: int, seed: int = 0) -> list[Path]:
    """``n`` small real JPEGs (blocks of colour, so each one differs)."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        blocks = rng.integers(0, 256, size=(6, 8, 3), dtype=np.uint8)
        img = Image.fromarray(blocks).resize((64, 48), Image.Resampling.NEAREST)
        p = folder / f"img{i:04d}.jpg"
        img.save(p, quality=80)
        age(p)
        out.append(p)
    return out


def index_folder(paths, root: Path) -> None:
    """Add ``root`` (its files made to look settled) to the library at ``paths``
    and index it, before any window opens."""
    from clipdesk.core.library import Library

    for f in Path(root).iterdir():
        age(f)
    with Library(paths) as lib:
        lib.folders.add(root)
        lib.folders.index()


class UrlCatcher(QObject):
    """Receives the URLs the app asks the system to open: hand it to
    ``QDesktopServices.setUrlHandler(scheme, catcher, "open")``."""

    def __init__(self):
        super().__init__()
        self.opened: list[QUrl] = []

    @Slot(QUrl)
    def open(self, url: QUrl) -> None:
        self.opened.append(url)

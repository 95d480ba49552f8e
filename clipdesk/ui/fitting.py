"""Dialogs never larger than the window they open over.

A dialog asks for the size its content reads best at; on a small screen (or a
window made small) that size did not fit, and its buttons were out of reach.
:func:`fit_over` gives a dialog that size where the window has room for it,
less where it has not, and checks again each time the dialog is shown (a
dialog kept for the next time may reopen over a window made smaller since).
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QSize
from PySide6.QtWidgets import QWidget

#: Room left around a dialog inside its window, in pixels.
MARGIN = 40


def room(dialog: QWidget) -> QSize | None:
    """The most a dialog may take: its window's size less the margin (None: no window shown)."""
    host = dialog.parentWidget()
    if host is None or not host.window().isVisible():
        return None
    size = host.window().size()
    return QSize(max(200, size.width() - MARGIN), max(150, size.height() - MARGIN))


def fit_over(dialog: QWidget, width: int, height: int) -> None:
    """Size ``dialog`` at ``width`` x ``height`` or less, to fit its window, now and whenever it is shown."""
    _shrink(dialog, QSize(width, height))
    if dialog.property("clipdesk_fitted") is None:
        dialog.setProperty("clipdesk_fitted", True)
        dialog.installEventFilter(_Refit(dialog))


def _shrink(dialog: QWidget, wanted: QSize) -> None:
    limit = room(dialog)
    size = wanted.boundedTo(limit) if limit is not None else wanted
    if size != dialog.size():
        dialog.resize(size)


class _Refit(QObject):
    """Shrinks its dialog, as the user left it, to the window's room when it is shown."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's API
        if event.type() == QEvent.Type.Show and isinstance(watched, QWidget):
            _shrink(watched, watched.size())
        return False

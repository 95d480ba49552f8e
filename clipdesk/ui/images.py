"""Images the views decode themselves, from any thread."""

from __future__ import annotations

from PySide6.QtGui import QImage


def thumbnail_image(data: bytes | None) -> QImage:
    """A cached thumbnail (the JPEG bytes :class:`clipdesk.core.imaging.ThumbnailCache`
    keeps) as a QImage; a null image when there is none or it does not decode.
    Safe on worker threads.

    The format is named rather than guessed: guessing asks every image plugin,
    and Qt's SVG plugin connects a QTextStream to the buffer. PySide6 keeps
    Python's GIL through ``loadFromData``, so a worker doing that needs Qt's
    signal-slot lock while the GUI thread, disconnecting a Python QObject,
    holds that lock and waits for the GIL: both wait for ever (seen in the
    test suite: the window's thumbnail workers against a window closing).
    """
    image = QImage()
    if data:
        image.loadFromData(data, "JPEG")
    return image

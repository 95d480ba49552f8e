"""Thumbnails decoded on worker threads name their format (clipdesk.ui.images)."""

from __future__ import annotations

import io

from PIL import Image

from clipdesk.ui.images import thumbnail_image


def _encoded(fmt: str) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(buf, fmt)
    return buf.getvalue()


def test_a_cached_thumbnail_decodes_as_the_jpeg_it_is(qapp):
    image = thumbnail_image(_encoded("JPEG"))
    assert (image.width(), image.height()) == (40, 30)
    assert image.pixelColor(20, 15).red() > 150


def test_nothing_is_guessed_so_no_other_plugin_is_asked(qapp):
    """Guessing asked every image plugin, Qt's SVG one among them, which makes a
    QObject connection while the worker holds the GIL: a deadlock with the GUI
    thread seen in the suite. Bytes that are not a JPEG are not a thumbnail."""
    assert thumbnail_image(_encoded("PNG")).isNull()
    assert thumbnail_image(b'<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"/>').isNull()
    assert thumbnail_image(None).isNull() and thumbnail_image(b"").isNull()

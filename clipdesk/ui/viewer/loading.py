"""A photo loaded for looking at, on a worker thread.

:func:`load_photo` decodes the file by :func:`clipdesk.core.imaging.picture`,
the steps indexing takes (so HEIC, orientation and colours are the same as
the thumbnail's). When the file cannot be shown - its folder is offline, it
is gone, it is a RAW file ClipDesk does not read yet, it is damaged - the
answer is the thumbnail ClipDesk keeps, when there is one, with a note that
says why in plain words: never an error in place of the photo.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from PIL import Image
from PySide6.QtCore import QSize
from PySide6.QtGui import QImage

from clipdesk.core.catalog import Photo
from clipdesk.core.errors import DecodeError
from clipdesk.core.imaging import ThumbnailCache, picture
from clipdesk.ui.images import thumbnail_image


@dataclass
class Shown:
    """What a viewer shows: ``image`` (None when there is nothing to show),
    the photo's own ``size`` (upright; what 100 % means), ``note`` a line for
    the user ("" when all is well), ``full`` True when ``image`` is the photo
    at its own size."""

    image: QImage | None
    size: QSize
    note: str = ""
    full: bool = False


def qimage(img: Image.Image) -> QImage:
    """An 8-bit RGB Pillow image as a QImage that owns its pixels."""
    img = img if img.mode == "RGB" else img.convert("RGB")
    raw = img.tobytes()
    return QImage(raw, img.width, img.height, img.width * 3, QImage.Format.Format_RGB888).copy()


def load_photo(photo: Photo, thumbnails: ThumbnailCache, max_side: int | None) -> Shown:
    """The photo at most ``max_side`` pixels wide and high (None: its own size),
    or its cached thumbnail with the reason the file cannot be shown. Worker thread."""
    size = QSize(photo.width or 0, photo.height or 0)
    if photo.status == "offline":
        return _thumbnail(photo, thumbnails, size,
                          "This photo's folder is offline (an unplugged drive or an unmounted share?)")
    try:
        shown = picture(photo.path, max_side)
    except DecodeError as exc:
        if not os.path.exists(photo.path):
            return _thumbnail(photo, thumbnails, size, "The file is not there any more (moved or deleted "
                              "outside ClipDesk)")
        return _thumbnail(photo, thumbnails, size, f"ClipDesk cannot show this file: {exc}")
    full = max_side is None or max(shown.size) <= max_side
    return Shown(qimage(shown.image), QSize(*shown.size), "", full)


def _thumbnail(photo: Photo, thumbnails: ThumbnailCache, size: QSize, why: str) -> Shown:
    """The cached thumbnail, if any, with ``why`` the file itself is not shown."""
    image = thumbnail_image(thumbnails.get(photo.hash) if photo.hash else None)
    if image.isNull():
        return Shown(None, size, f"{why}.")
    return Shown(image, size if not size.isEmpty() else image.size(),
                 f"{why}; this is the small copy ClipDesk keeps.")

"""What a drag carries inside ClipDesk and in from the file manager.

Photos dragged out of a grid carry their file URLs (for other programs) and
their ids (:data:`PHOTO_IDS_MIME`, for the search bar, the auto-tag panel and
the sidebar's tags); files dropped from the file manager are read back as
local paths.
"""

from __future__ import annotations

import os
from typing import Iterable

from PySide6.QtCore import QByteArray, QMimeData

from clipdesk.core.photofiles import IMAGE_EXTENSIONS

#: Photo ids dragged inside ClipDesk (grid -> auto-tag panel, search bar, tags).
PHOTO_IDS_MIME = "application/x-clipdesk-photo-ids"


def encode_ids(ids: Iterable[int]) -> QByteArray:
    return QByteArray(",".join(str(int(i)) for i in ids).encode("ascii"))


def decode_ids(mime: QMimeData) -> list[int]:
    if not mime.hasFormat(PHOTO_IDS_MIME):
        return []
    raw = bytes(mime.data(PHOTO_IDS_MIME).data()).decode("ascii", errors="ignore")
    return [int(x) for x in raw.split(",") if x.strip().isdigit()]


def image_paths(mime) -> list[str]:
    """Local image files in a drop (by extension; the core checks the content)."""
    out = []
    for url in mime.urls():
        if url.isLocalFile():
            path = url.toLocalFile()
            if os.path.splitext(path)[1].lower() in IMAGE_EXTENSIONS:
                out.append(path)
    return out


def local_paths(mime) -> list[str]:
    return [u.toLocalFile() for u in mime.urls() if u.isLocalFile()]

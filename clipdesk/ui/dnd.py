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

from clipdesk.core.photofiles import Kind, classify

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
    """Local files in a drop that may be photos, judged by the one predicate
    the scanner and the watcher use (:func:`clipdesk.core.photofiles.classify`)
    from their names: no disk is read while the user drags. Leftovers
    (``._IMG_1.jpg``, ``IMG_1.jpg~``) and camera RAW files (not supported yet)
    are refused; a name that says nothing (``scan``) is accepted, and the
    worker that opens it reads its content."""
    out = []
    for url in mime.urls():
        if url.isLocalFile():
            path = url.toLocalFile()
            if classify(os.path.basename(path)) is Kind.PHOTO:
                out.append(path)
    return out


def photo_files(paths: list[str]) -> list[str]:
    """The dropped files that are photos by their content too (reads the disk:
    call it on a worker)."""
    return [p for p in paths if os.path.isfile(p) and classify(os.path.basename(p), p) is Kind.PHOTO]


def local_paths(mime) -> list[str]:
    return [u.toLocalFile() for u in mime.urls() if u.isLocalFile()]

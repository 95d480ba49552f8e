"""The grid's model: search hits in a QAbstractListModel with custom roles.

One row per :class:`~clipdesk.core.library.Hit`. The model holds plain Python
objects and never reads the disk: the view's delegate gets each cell's tile
from the :class:`~clipdesk.ui.thumbs.ThumbnailLoader`, which makes them for
the rows the view paints; the model only tells the view when they arrive. A result that only adds photos after the ones shown (a live
search while photos arrive) is inserted, not reset, so the selection and the
scroll position stay where the user left them.
"""

from __future__ import annotations

import math
import os
from enum import IntEnum
from typing import Iterable, Sequence

from PySide6.QtCore import QAbstractListModel, QByteArray, QMimeData, QModelIndex, QPersistentModelIndex, Qt, QUrl

from clipdesk.core.catalog import Photo
from clipdesk.core.library import Hit
from clipdesk.ui.thumbs import ThumbnailLoader

#: Photo ids dragged inside ClipDesk (grid -> auto-tag panel, search bar, tags).
PHOTO_IDS_MIME = "application/x-clipdesk-photo-ids"


class Roles(IntEnum):
    Photo = Qt.ItemDataRole.UserRole + 1
    Score = Qt.ItemDataRole.UserRole + 2
    PhotoId = Qt.ItemDataRole.UserRole + 3
    Path = Qt.ItemDataRole.UserRole + 4
    Hash = Qt.ItemDataRole.UserRole + 5
    Status = Qt.ItemDataRole.UserRole + 6
    ThumbError = Qt.ItemDataRole.UserRole + 7


def encode_ids(ids: Iterable[int]) -> QByteArray:
    return QByteArray(",".join(str(int(i)) for i in ids).encode("ascii"))


def decode_ids(mime: QMimeData) -> list[int]:
    if not mime.hasFormat(PHOTO_IDS_MIME):
        return []
    raw = bytes(mime.data(PHOTO_IDS_MIME).data()).decode("ascii", errors="ignore")
    return [int(x) for x in raw.split(",") if x.strip().isdigit()]


def photo_tooltip(photo: Photo, score: float | None) -> str:
    lines = [photo.name]
    if score is not None and not math.isnan(score):
        lines.append(f"score {score:.3f}")
    if photo.taken_at:
        lines.append(photo.taken_at.replace("T", " "))
    if photo.width and photo.height:
        lines.append(f"{photo.width} × {photo.height}")
    if photo.status == "failed":
        lines.append(f"could not be indexed: {photo.reason}")
    elif photo.status == "pending":
        lines.append("not indexed yet")
    elif photo.status == "offline":
        lines.append("its folder is offline")
    return "\n".join(lines)


class PhotoListModel(QAbstractListModel):
    def __init__(self, thumbs: ThumbnailLoader | None, parent=None):
        super().__init__(parent)
        self.thumbs = thumbs
        self._hits: list[Hit] = []
        self._fingerprint: tuple[int, int] | None = None
        self._row_by_id: dict[int, int] = {}
        if thumbs is not None:
            thumbs.ready.connect(self._thumbs_ready)

    # -- content -----------------------------------------------------------------
    #: Beyond this many rows, only a fingerprint tells "same" apart: comparing
    #: row by row would cost the GUI thread too much.
    COMPARE_ROWS = 5000

    def set_hits(self, hits: Sequence[Hit], fingerprint: tuple[int, int] | None = None) -> str:
        """Show ``hits``. Returns how: "same", "updated", "appended" or "reset".

        ``fingerprint`` - (order, content) hashes computed off the GUI thread -
        lets a refresh that changes nothing, or only what rows show, skip the
        row-by-row comparison and the new layout.
        """
        hits = list(hits)
        old = self._hits
        small = len(old) <= self.COMPARE_ROWS and len(hits) <= self.COMPARE_ROWS
        if fingerprint is not None and self._fingerprint is not None and len(hits) == len(old):
            same_order = fingerprint[0] == self._fingerprint[0]
            same_content = same_order and fingerprint[1] == self._fingerprint[1]
        elif small and len(hits) == len(old):
            same_order = all(a.photo.id == b.photo.id for a, b in zip(hits, old))
            same_content = same_order and all(
                a.photo == b.photo and _same_score(a.score, b.score) for a, b in zip(hits, old)
            )
        else:
            same_order = same_content = False
        self._fingerprint = fingerprint
        if same_content:
            return "same"
        if same_order:
            # Same photos in the same order (their status or details changed):
            # repaint the rows, no new layout.
            self._hits = hits
            if hits:
                self.dataChanged.emit(self.index(0), self.index(len(hits) - 1))
            return "updated"
        if old and small and len(hits) > len(old) and all(a.photo == b.photo for a, b in zip(hits, old)):
            self.beginInsertRows(QModelIndex(), len(old), len(hits) - 1)
            self._hits = hits
            self._reindex()
            self.endInsertRows()
            return "appended"
        self.beginResetModel()
        self._hits = hits
        self._reindex()
        self.endResetModel()
        return "reset"

    def clear(self) -> None:
        self.set_hits([])

    def _reindex(self) -> None:
        self._row_by_id = {hit.photo.id: row for row, hit in enumerate(self._hits)}

    def remove_ids(self, ids: Iterable[int]) -> None:
        gone = set(ids)
        rows = sorted((self._row_by_id[i] for i in gone if i in self._row_by_id), reverse=True)
        for row in rows:
            self.beginRemoveRows(QModelIndex(), row, row)
            del self._hits[row]
            self.endRemoveRows()
        if rows:
            self._fingerprint = None
            self._reindex()

    def hits(self) -> list[Hit]:
        return list(self._hits)

    def hit(self, row: int) -> Hit:
        return self._hits[row]

    def photo(self, row: int) -> Photo:
        return self._hits[row].photo

    def row_of(self, photo_id: int) -> int | None:
        return self._row_by_id.get(photo_id)

    def ids(self) -> list[int]:
        return [h.photo.id for h in self._hits]

    # -- Qt model API ------------------------------------------------------------
    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._hits)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        row = index.row()
        if not index.isValid() or row >= len(self._hits):
            return None
        hit = self._hits[row]
        photo = hit.photo
        if role == Qt.ItemDataRole.DisplayRole:
            return photo.name
        if role == Qt.ItemDataRole.ToolTipRole:
            return photo_tooltip(photo, hit.score)
        if role == Roles.Photo:
            return photo
        if role == Roles.Score:
            return hit.score
        if role == Roles.PhotoId:
            return photo.id
        if role == Roles.Path:
            return photo.path
        if role == Roles.Hash:
            return photo.hash
        if role == Roles.Status:
            return photo.status
        if role == Roles.ThumbError:
            return self.thumbs.failed(photo) if self.thumbs is not None else None
        return None

    def roleNames(self) -> dict[int, QByteArray]:
        names = super().roleNames()
        for role in Roles:
            names[int(role)] = QByteArray(role.name.lower().encode())
        return names

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsDragEnabled

    def mimeTypes(self) -> list[str]:
        return ["text/uri-list", PHOTO_IDS_MIME]

    def mimeData(self, indexes: Sequence[QModelIndex]) -> QMimeData:
        rows = sorted({i.row() for i in indexes if i.isValid()})
        photos = [self._hits[r].photo for r in rows]
        mime = QMimeData()
        mime.setUrls([QUrl.fromLocalFile(os.path.abspath(p.path)) for p in photos])
        mime.setData(PHOTO_IDS_MIME, encode_ids(p.id for p in photos))
        mime.setText("\n".join(p.path for p in photos))
        return mime

    def supportedDragActions(self) -> Qt.DropAction:
        return Qt.DropAction.CopyAction | Qt.DropAction.LinkAction

    # -- thumbnails arriving -----------------------------------------------------
    def _thumbs_ready(self, photo_ids: list[int]) -> None:
        rows = [r for r in (self._row_by_id.get(i) for i in photo_ids) if r is not None]
        if not rows:
            return
        first, last = min(rows), max(rows)
        self.dataChanged.emit(
            self.index(first), self.index(last), [Qt.ItemDataRole.DecorationRole]
        )


def _same_score(a: float, b: float) -> bool:
    if a is None or b is None:
        return a is b
    if math.isnan(a) and math.isnan(b):
        return True
    return abs(a - b) < 1e-9

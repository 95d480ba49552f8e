"""The grid's model: search hits in a QAbstractListModel with custom roles.

One row per :class:`~clipdesk.core.library.Hit`. The model holds plain Python
objects and never reads the disk: the view's delegate gets each cell's tile
from the :class:`~clipdesk.ui.grid.thumbs.ThumbnailLoader`, which makes them for
the rows the view paints; the model only tells the view when they arrive. A result that only adds photos after the ones shown (a live
search while photos arrive) is inserted, not reset, so the selection and the
scroll position stay where the user left them.
"""

from __future__ import annotations

import math
import os
from enum import IntEnum
from typing import Iterable, Sequence

from PySide6.QtCore import (
    QAbstractListModel, QByteArray, QMimeData, QModelIndex, QPersistentModelIndex, Qt, QUrl, Signal,
)

from clipdesk.core.catalog import Photo
from clipdesk.core.search import Hit
from clipdesk.ui.dnd import PHOTO_IDS_MIME, encode_ids
from clipdesk.ui.grid.thumbs import ThumbnailLoader


class Roles(IntEnum):
    Photo = Qt.ItemDataRole.UserRole + 1
    Score = Qt.ItemDataRole.UserRole + 2
    PhotoId = Qt.ItemDataRole.UserRole + 3
    Path = Qt.ItemDataRole.UserRole + 4
    Hash = Qt.ItemDataRole.UserRole + 5
    Status = Qt.ItemDataRole.UserRole + 6
    ThumbError = Qt.ItemDataRole.UserRole + 7


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
    """Rows are photo ids; each row's :class:`Photo` is known up front (search
    results) or fetched in pages when the view first shows the row (listing
    100,000 photos by date), so a result of any size arrives as one list of
    ids and never as 100,000 objects made at once."""

    #: Rows fetched together when a row without its photo is shown.
    PAGE = 256
    #: Beyond this many rows, only a fingerprint tells "same" apart: comparing
    #: row by row would cost the GUI thread too much.
    COMPARE_ROWS = 5000

    #: Photos are needed for these ids (emitted once per page; answer with add_photos).
    photosWanted = Signal(list)

    def __init__(self, thumbs: ThumbnailLoader | None, parent=None):
        super().__init__(parent)
        self.thumbs = thumbs
        self._ids: list[int] = []
        self._scores: list[float] | None = None
        self._photos: dict[int, Photo] = {}
        self._wanted: set[int] = set()  # pages asked for and not yet answered
        self._fingerprint: tuple[int, int] | None = None
        self._row_by_id: dict[int, int] = {}
        if thumbs is not None:
            thumbs.ready.connect(self._thumbs_ready)

    # -- content -----------------------------------------------------------------
    def set_hits(self, hits: Sequence[Hit]) -> None:
        """Show search hits (photos known). See :meth:`set_rows`."""
        hits = list(hits)
        self.set_rows([h.photo.id for h in hits], [h.score for h in hits], {h.photo.id: h.photo for h in hits})

    def set_rows(self, ids: Sequence[int], scores: Sequence[float] | None, photos: dict[int, Photo],
                 fingerprint: tuple[int, int] | None = None) -> str:
        """Show ``ids`` in order, with the photos known so far. Returns how the
        view was told: "same", "updated", "appended" or "reset".

        ``fingerprint`` - (order, content) hashes computed off the GUI thread -
        lets a refresh that changes nothing, or only what rows show, skip the
        row-by-row comparison and the new layout.
        """
        ids = list(ids)
        scores = list(scores) if scores is not None else None
        old = self._ids
        small = len(old) <= self.COMPARE_ROWS and len(ids) <= self.COMPARE_ROWS
        if fingerprint is not None and self._fingerprint is not None and len(ids) == len(old):
            same_order = fingerprint[0] == self._fingerprint[0]
            same_content = same_order and fingerprint[1] == self._fingerprint[1]
        elif small and len(ids) == len(old):
            same_order = ids == old
            same_content = same_order and all(self._photos.get(i) == photos.get(i) for i in ids) and (
                scores is None) == (self._scores is None) and (
                scores is None or all(_same_score(a, b) for a, b in zip(scores, self._scores or [])))
        else:
            same_order = same_content = False
        self._fingerprint = fingerprint
        if same_content:
            return "same"
        if same_order:
            # Same photos in the same order (their status or details changed):
            # repaint the rows, no new layout.
            self._scores, self._photos, self._wanted = scores, dict(photos), set()
            if ids:
                self.dataChanged.emit(self.index(0), self.index(len(ids) - 1))
            return "updated"
        if (old and small and len(ids) > len(old) and ids[: len(old)] == old
                and all(self._photos.get(i) == photos.get(i) for i in old)):
            self.beginInsertRows(QModelIndex(), len(old), len(ids) - 1)
            self._ids, self._scores, self._photos, self._wanted = ids, scores, dict(photos), set()
            self._reindex()
            self.endInsertRows()
            return "appended"
        self.beginResetModel()
        self._ids, self._scores, self._photos, self._wanted = ids, scores, dict(photos), set()
        self._reindex()
        self.endResetModel()
        return "reset"

    def add_photos(self, photos: Iterable[Photo]) -> None:
        """Photos fetched for rows on screen (after :attr:`photosWanted`)."""
        rows = []
        for p in photos:
            self._photos[p.id] = p
            row = self._row_by_id.get(p.id)
            if row is not None:
                rows.append(row)
        self._wanted = {page for page in self._wanted
                        if not all(i in self._photos for i in self._page_ids(page))}
        if rows:
            self.dataChanged.emit(self.index(min(rows)), self.index(max(rows)))

    def clear(self) -> None:
        self.set_rows([], None, {})

    def _reindex(self) -> None:
        self._row_by_id = {pid: row for row, pid in enumerate(self._ids)}

    def remove_ids(self, ids: Iterable[int]) -> None:
        gone = set(ids)
        rows = sorted((self._row_by_id[i] for i in gone if i in self._row_by_id), reverse=True)
        for row in rows:
            self.beginRemoveRows(QModelIndex(), row, row)
            del self._ids[row]
            if self._scores is not None:
                del self._scores[row]
            self.endRemoveRows()
        if rows:
            self._fingerprint = None
            self._wanted = set()
            self._reindex()

    def hits(self) -> list[Hit]:
        """The rows whose photos are known, in order."""
        return [Hit(self._photos[pid], self.score(row)) for row, pid in enumerate(self._ids) if pid in self._photos]

    def score(self, row: int) -> float:
        return self._scores[row] if self._scores is not None else math.nan

    def photo(self, row: int) -> Photo | None:
        """The row's photo, or None while it is being fetched (asked for here)."""
        photo = self._photos.get(self._ids[row])
        if photo is None:
            self._want(row)
        return photo

    def photo_id(self, row: int) -> int:
        return self._ids[row]

    def row_of(self, photo_id: int) -> int | None:
        return self._row_by_id.get(photo_id)

    def _page_ids(self, page: int) -> list[int]:
        return self._ids[page * self.PAGE: (page + 1) * self.PAGE]

    def _want(self, row: int) -> None:
        page = row // self.PAGE
        if page not in self._wanted:
            self._wanted.add(page)
            self.photosWanted.emit([i for i in self._page_ids(page) if i not in self._photos])

    # -- Qt model API ------------------------------------------------------------
    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._ids)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        row = index.row()
        if not index.isValid() or row >= len(self._ids):
            return None
        if role == Roles.PhotoId:
            return self._ids[row]
        if role == Roles.Score:
            return self.score(row)
        photo = self.photo(row)
        if photo is None:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return photo.name
        if role == Qt.ItemDataRole.ToolTipRole:
            return photo_tooltip(photo, self.score(row))
        if role == Roles.Photo:
            return photo
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
        photos = [p for p in (self._photos.get(self._ids[r]) for r in rows) if p is not None]
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

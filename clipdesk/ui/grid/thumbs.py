"""Grid cells, made off the GUI thread: thumbnail, name and badge composed into a tile.

The view asks for a cell only when it paints it, so only rows on screen are
ever requested. Requests go on a stack (newest first, bounded): after a fast
scroll the rows now on screen load before the ones scrolled past, and
requests for rows long gone are dropped.

A worker reads the thumbnail JPEG from the disk cache
(:class:`~clipdesk.core.imaging.ThumbnailCache`, keyed by content hash; a
thumbnail missing from the cache is made again by decoding the original),
and paints the whole cell - thumbnail, file name, status badge - into a
``QImage``. The GUI thread only turns finished tiles into pixmaps and draws
each cell with one call. That is the point: every QPainter call made from
Python lets go of the GIL and has to win it back, which costs milliseconds
while the indexing threads are busy, so a cell painted on the GUI thread with
ten calls would make the whole window stutter.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict, deque
from dataclasses import dataclass

from PySide6.QtCore import QObject, QRect, QRunnable, QSize, Qt, QThreadPool, QTimer, Signal, Slot
from PySide6.QtGui import QColor, QFont, QFontMetrics, QImage, QPainter, QPen, QPixmap

from clipdesk.core.catalog import Photo
from clipdesk.core.errors import ClipDeskError
from clipdesk.core.imaging import ThumbnailCache, decode
from clipdesk.ui.images import thumbnail_image
from clipdesk.ui.workers import lower_thread_priority

log = logging.getLogger(__name__)

#: Space around the thumbnail inside a cell.
PAD = 6

_BADGES = {
    "failed": ("!", 0xD04040),
    "pending": ("…", 0x808080),
    "offline": ("⏏", 0xA08030),
}


@dataclass(frozen=True)
class TileSpec:
    """How a view draws its cells; part of each tile's key."""

    size: int
    show_names: bool
    width: int
    height: int
    dpr: float
    font: str  # QFont.toString()
    text_rgb: int
    placeholder_rgb: int


@dataclass(frozen=True)
class _Request:
    key: tuple
    photo_id: int
    digest: str | None
    path: str
    name: str
    status: str
    spec: TileSpec


class _Worker(QRunnable):
    def __init__(self, loader: "ThumbnailLoader"):
        super().__init__()
        self.loader = loader
        self.setAutoDelete(True)

    def run(self) -> None:
        # Cells can wait a few milliseconds; a search the user is waiting on cannot.
        lower_thread_priority(5)
        self.loader._work()


def tile_key(photo: Photo, spec: TileSpec) -> tuple:
    return (photo.id, photo.hash, photo.name, photo.status, spec)


class ThumbnailLoader(QObject):
    """Hands out cell tiles as pixmaps; emits ``ready(photo_ids)`` as more arrive."""

    ready = Signal(list)  # photo ids that now have a tile (batched per frame)
    _loaded = Signal(object, int, QImage, str, str)  # key, photo id, tile, error, what failed

    def __init__(
        self,
        cache: ThumbnailCache,
        pool: QThreadPool,
        *,
        size: int = 160,
        budget_bytes: int = 128 << 20,
        max_pending: int = 512,
        parent: QObject | None = None,
    ):
        super().__init__(parent)
        self.cache = cache
        self.pool = pool
        self.size = size
        self.budget_bytes = budget_bytes
        self.max_pending = max_pending
        self._tiles: OrderedDict[tuple, QPixmap] = OrderedDict()
        self._latest: dict[int, tuple] = {}  # photo id -> key of its newest tile
        self._bytes = 0
        self._failed: dict[str, str] = {}  # content hash (or path) -> why there is no thumbnail
        self._lock = threading.Lock()
        self._stack: deque[_Request] = deque()
        self._queued: set[tuple] = set()
        self._workers = 0
        self._closed = False
        self._ready_ids: list[int] = []
        self.requests = 0  # tiles asked of the workers (tests, benchmarks)
        self._flush = QTimer(self)
        self._flush.setSingleShot(True)
        self._flush.setInterval(16)
        self._flush.timeout.connect(self._emit_ready)
        self._loaded.connect(self._on_loaded)

    # -- GUI thread --------------------------------------------------------------
    def tile(self, photo: Photo, spec: TileSpec) -> QPixmap | None:
        """The cell's tile if it is ready; else None, and it is queued.

        While a new tile is made (the photo changed, or the view's size or
        colours did) the photo's previous tile is returned, so nothing blinks.
        """
        key = tile_key(photo, spec)
        pm = self._tiles.get(key)
        if pm is not None:
            self._tiles.move_to_end(key)
            return pm
        self._request(key, photo, spec)
        old = self._latest.get(photo.id)
        return self._tiles.get(old) if old is not None else None

    def failed(self, photo: Photo) -> str | None:
        """Why the photo's thumbnail could not be made, if it could not."""
        return self._failed.get(photo.hash or photo.path)

    def set_size(self, size: int) -> None:
        """The main grid's thumbnail size (tiles are keyed by size anyway)."""
        if size == self.size:
            return
        self.size = size
        with self._lock:
            self._stack.clear()
            self._queued.clear()

    @property
    def idle(self) -> bool:
        with self._lock:
            return not self._stack and self._workers == 0 and not self._ready_ids

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._stack.clear()
            self._queued.clear()

    def _request(self, key: tuple, photo: Photo, spec: TileSpec) -> None:
        with self._lock:
            if self._closed or key in self._queued:
                return
            self._queued.add(key)
            self.requests += 1
            self._stack.append(_Request(key, photo.id, photo.hash, photo.path, photo.name, photo.status, spec))
            while len(self._stack) > self.max_pending:
                old = self._stack.popleft()  # the least recently requested: scrolled away
                self._queued.discard(old.key)
            start = self._workers < self.pool.maxThreadCount()
            if start:
                self._workers += 1
        if start:
            self.pool.start(_Worker(self))

    @Slot(object, int, QImage, str, str)
    def _on_loaded(self, key: tuple, photo_id: int, image: QImage, error: str, failed: str) -> None:
        # Queued until here, not until the worker is done: a repaint between
        # the two would ask for the same tile again.
        with self._lock:
            self._queued.discard(key)
        if self._closed:
            return
        if error:
            self._failed[failed] = error
        if image.isNull():
            return
        pm = QPixmap.fromImage(image)
        pm.setDevicePixelRatio(image.devicePixelRatio())
        old = self._tiles.pop(key, None)
        if old is not None:
            self._bytes -= _cost(old)
        self._tiles[key] = pm
        self._bytes += _cost(pm)
        self._latest[photo_id] = key
        while self._bytes > self.budget_bytes and len(self._tiles) > 1:
            dropped_key, dropped = self._tiles.popitem(last=False)
            self._bytes -= _cost(dropped)
            if self._latest.get(dropped_key[0]) == dropped_key:
                del self._latest[dropped_key[0]]
        self._ready_ids.append(photo_id)
        if not self._flush.isActive():
            self._flush.start()

    def _emit_ready(self) -> None:
        ids, self._ready_ids = self._ready_ids, []
        if ids:
            self.ready.emit(ids)

    # -- worker threads ----------------------------------------------------------
    def _work(self) -> None:
        while True:
            with self._lock:
                if not self._stack or self._closed:
                    self._workers -= 1
                    return
                req = self._stack.pop()
            try:
                thumb, error = self._thumbnail(req)
                tile = compose_tile(thumb, req.name, req.status, req.spec, broken=bool(error))
            except Exception as exc:  # noqa: BLE001 - one cell never breaks the grid
                log.exception("cell for %s", req.path)
                tile, error = QImage(), f"unexpected error: {exc}"
            with self._lock:
                if self._closed:
                    continue
            try:
                self._loaded.emit(req.key, req.photo_id, tile, error, req.digest or req.path)
            except RuntimeError:  # the loader was deleted meanwhile (the window closed)
                return

    def _thumbnail(self, req: _Request) -> tuple[QImage, str]:
        image = thumbnail_image(self.cache.get(req.digest) if req.digest else None)
        if not image.isNull():
            return image, ""
        # Not in the cache (deleted, or not made yet): decode the original.
        try:
            d = decode(req.path)
        except ClipDeskError as exc:
            return QImage(), str(exc)
        try:
            self.cache.put(d.hash, d.thumbnail)
        except OSError as exc:
            log.info("could not store a thumbnail: %s", exc)
        image = thumbnail_image(d.thumbnail)
        return image, "" if not image.isNull() else "the thumbnail could not be read"


def compose_tile(thumb: QImage, name: str, status: str, spec: TileSpec, *, broken: bool = False) -> QImage:
    """One grid cell, painted into an image (any thread)."""
    dpr = spec.dpr
    tile = QImage(max(1, round(spec.width * dpr)), max(1, round(spec.height * dpr)),
                  QImage.Format.Format_ARGB32_Premultiplied)
    tile.setDevicePixelRatio(dpr)
    tile.fill(Qt.GlobalColor.transparent)
    size = spec.size
    p = QPainter(tile)
    try:
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        box = QRect(PAD, PAD, size, size)
        if not thumb.isNull():
            scaled = thumb.scaled(QSize(round(size * dpr), round(size * dpr)), Qt.AspectRatioMode.KeepAspectRatio,
                                  Qt.TransformationMode.SmoothTransformation)
            w, h = scaled.width() / dpr, scaled.height() / dpr
            target = QRect(round(box.left() + (size - w) / 2), round(box.top() + (size - h) / 2), round(w), round(h))
            p.drawImage(target, scaled)
        else:
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(QColor.fromRgb(spec.placeholder_rgb))
            inset = size // 8
            p.drawRoundedRect(box.adjusted(inset, inset, -inset, -inset), 4, 4)
            if broken:
                p.setPen(QColor.fromRgb(spec.text_rgb))
                p.drawText(box, Qt.AlignmentFlag.AlignCenter, "⚠")
        badge = _BADGES.get(status)
        if badge is not None:
            r = QRect(box.right() - 20, box.top() + 2, 18, 18)
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(QColor.fromRgb(badge[1]))
            p.drawEllipse(r)
            p.setPen(QPen(QColor(0xFF, 0xFF, 0xFF)))
            p.drawText(r, Qt.AlignmentFlag.AlignCenter, badge[0])
        if spec.show_names:
            font = QFont()
            font.fromString(spec.font)
            p.setFont(font)
            p.setPen(QColor.fromRgb(spec.text_rgb))
            text = QRect(PAD, box.bottom() + 2, size, spec.height - box.bottom() - 2)
            elided = QFontMetrics(font).elidedText(name, Qt.TextElideMode.ElideMiddle, size)
            p.drawText(text, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop, elided)
    finally:
        p.end()
    return tile


def _cost(pm: QPixmap) -> int:
    return pm.width() * pm.height() * 4

"""Thumbnails for the grid: loaded lazily, off the GUI thread, kept in an LRU.

The view asks for a thumbnail only when it paints a cell, so only rows on
screen are ever requested. Requests go on a stack (newest first, bounded):
after a fast scroll the rows now on screen load before the ones scrolled past,
and requests for rows long gone are dropped. Worker threads read the JPEG from
the disk cache (:class:`~clipdesk.core.imaging.ThumbnailCache`, keyed by
content hash), scale it to the grid's size and hand back a ``QImage``; a
thumbnail missing from the cache is made again by decoding the original. The
GUI thread only turns finished images into pixmaps.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict, deque
from dataclasses import dataclass

from PySide6.QtCore import QObject, QRunnable, QSize, Qt, QThreadPool, QTimer, Signal, Slot
from PySide6.QtGui import QImage, QPixmap

from clipdesk.core.errors import ClipDeskError
from clipdesk.core.imaging import ThumbnailCache, decode

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Request:
    key: str
    path: str
    size: int


class _Worker(QRunnable):
    def __init__(self, loader: "ThumbnailLoader"):
        super().__init__()
        self.loader = loader
        self.setAutoDelete(True)

    def run(self) -> None:
        self.loader._work()


class ThumbnailLoader(QObject):
    """Hands out thumbnails as pixmaps; emits ``ready(keys)`` as more arrive.

    ``key`` is the photo's content hash (or its path when it has none yet).
    """

    ready = Signal(list)  # keys that now have a pixmap (batched per frame)
    _loaded = Signal(str, int, QImage, str)  # key, size, image, error

    def __init__(
        self,
        cache: ThumbnailCache,
        pool: QThreadPool,
        *,
        size: int = 160,
        budget_bytes: int = 96 << 20,
        max_pending: int = 512,
        parent: QObject | None = None,
    ):
        super().__init__(parent)
        self.cache = cache
        self.pool = pool
        self.size = size
        self.budget_bytes = budget_bytes
        self.max_pending = max_pending
        self._pixmaps: OrderedDict[str, QPixmap] = OrderedDict()
        self._bytes = 0
        self._failed: dict[str, str] = {}
        self._lock = threading.Lock()
        self._stack: deque[_Request] = deque()
        self._queued: set[tuple[str, int]] = set()
        self._workers = 0
        self._closed = False
        self._ready_keys: list[str] = []
        self._flush = QTimer(self)
        self._flush.setSingleShot(True)
        self._flush.setInterval(16)
        self._flush.timeout.connect(self._emit_ready)
        self._loaded.connect(self._on_loaded)

    # -- GUI thread --------------------------------------------------------------
    def pixmap(self, key: str | None, path: str) -> QPixmap | None:
        """The thumbnail if it is in memory (at any size); else None, and a load is queued.

        A pixmap of another size (the user just resized the grid) is returned
        while the right size loads.
        """
        if not key:
            return None
        pm = self._pixmaps.get(key)
        if pm is not None:
            self._pixmaps.move_to_end(key)
            if max(pm.width(), pm.height()) != self.size and key not in self._failed:
                self._request(key, path)
            return pm
        if key not in self._failed:
            self._request(key, path)
        return None

    def failed(self, key: str | None) -> str | None:
        """Why the thumbnail of ``key`` could not be made, if it could not."""
        return self._failed.get(key or "")

    def set_size(self, size: int) -> None:
        if size == self.size:
            return
        self.size = size
        with self._lock:
            self._stack.clear()
            self._queued.clear()

    def forget(self, key: str) -> None:
        """Drop a thumbnail (its photo changed)."""
        pm = self._pixmaps.pop(key, None)
        if pm is not None:
            self._bytes -= _cost(pm)
        self._failed.pop(key, None)

    @property
    def idle(self) -> bool:
        with self._lock:
            return not self._stack and self._workers == 0 and not self._ready_keys

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._stack.clear()
            self._queued.clear()

    def _request(self, key: str, path: str) -> None:
        size = self.size
        with self._lock:
            if self._closed or (key, size) in self._queued:
                return
            self._queued.add((key, size))
            self._stack.append(_Request(key, path, size))
            while len(self._stack) > self.max_pending:
                old = self._stack.popleft()  # the least recently requested: scrolled away
                self._queued.discard((old.key, old.size))
            start = self._workers < self.pool.maxThreadCount()
            if start:
                self._workers += 1
        if start:
            self.pool.start(_Worker(self))

    @Slot(str, int, QImage, str)
    def _on_loaded(self, key: str, size: int, image: QImage, error: str) -> None:
        if error:
            self._failed[key] = error
        elif not image.isNull():
            old = self._pixmaps.pop(key, None)
            if old is not None:
                self._bytes -= _cost(old)
            if size != self.size and old is not None and max(old.width(), old.height()) == self.size:
                self._pixmaps[key] = old  # a late answer for an old size: keep the better one
                self._bytes += _cost(old)
                return
            pm = QPixmap.fromImage(image)
            self._pixmaps[key] = pm
            self._bytes += _cost(pm)
            while self._bytes > self.budget_bytes and len(self._pixmaps) > 1:
                _, dropped = self._pixmaps.popitem(last=False)
                self._bytes -= _cost(dropped)
        self._ready_keys.append(key)
        if not self._flush.isActive():
            self._flush.start()

    def _emit_ready(self) -> None:
        keys, self._ready_keys = self._ready_keys, []
        if keys:
            self.ready.emit(keys)

    # -- worker threads ----------------------------------------------------------
    def _work(self) -> None:
        while True:
            with self._lock:
                if not self._stack or self._closed:
                    self._workers -= 1
                    return
                req = self._stack.pop()
            image, error = self._load(req)
            with self._lock:
                self._queued.discard((req.key, req.size))
            self._loaded.emit(req.key, req.size, image, error)

    def _load(self, req: _Request) -> tuple[QImage, str]:
        data = self.cache.get(req.key)
        image = QImage()
        if data is not None:
            image.loadFromData(data)
        if image.isNull():
            # Not in the cache (deleted, or never made): decode the original.
            try:
                d = decode(req.path)
            except ClipDeskError as exc:
                return QImage(), str(exc)
            except Exception as exc:  # noqa: BLE001 - one photo never breaks the grid
                log.exception("thumbnail for %s", req.path)
                return QImage(), f"unexpected error: {exc}"
            try:
                self.cache.put(d.hash, d.thumbnail)
            except OSError as exc:
                log.info("could not store a thumbnail: %s", exc)
            image.loadFromData(d.thumbnail)
            if image.isNull():
                return QImage(), "the thumbnail could not be read"
        if max(image.width(), image.height()) != req.size:
            image = image.scaled(
                QSize(req.size, req.size), Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
        return image, ""


def _cost(pm: QPixmap) -> int:
    return pm.width() * pm.height() * 4

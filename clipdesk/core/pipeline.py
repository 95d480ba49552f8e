"""The background job that ties scan -> decode -> (encode) -> write together.

::

    scan (this thread) -> pending ids
    feeder -> decode pool (N threads; Pillow releases the GIL)
           -> [bounded queue] -> encoder thread (batches; ONNX Runtime has its own threads)
           -> [bounded queue] -> writer thread (thumbnail cache + one catalog transaction per batch)

Progress goes to a plain callback (:class:`Progress`); there is no Qt here.
Queues are bounded, so memory stays flat however large the library. The job is
pausable and cancellable; because a photo only leaves ``pending`` in the same
transaction that stores its results, a crash or a cancel loses at most the
batch in flight and a new run simply carries on.
"""

from __future__ import annotations

import errno
import logging
import os
import queue
import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from clipdesk.core.catalog import Catalog
from clipdesk.core.names import display_path, encode_path
from clipdesk.core.embedding import ImageEmbedder
from clipdesk.core.errors import ClipDeskError, DecodeError, InvalidEmbedding
from clipdesk.core.imaging import Decoded, FileChanging, ThumbnailCache, decode, is_disk_full
from clipdesk.core.scan import Scanner, ScanReport, file_metadata

log = logging.getLogger(__name__)

_STOP = object()


@dataclass
class Progress:
    """A snapshot of a run, handed to the progress callback."""

    phase: str  # scanning | indexing | paused | done | cancelled | error
    done: int = 0
    total: int = 0
    failed: int = 0
    current: str | None = None
    folder: str | None = None
    rate: float = 0.0  # photos per second over the last few seconds
    eta: float | None = None  # seconds
    message: str | None = None


@dataclass
class RunResult:
    scan: ScanReport = field(default_factory=ScanReport)
    indexed: int = 0
    failed: int = 0
    deferred: int = 0
    cancelled: bool = False
    error: str | None = None
    elapsed: float = 0.0


@dataclass
class _Item:
    photo_id: int
    path: bytes
    companion: bytes | None = None
    decoded: Decoded | None = None
    error: str | None = None
    transient: bool = False
    vector: np.ndarray | None = None


class _Rate:
    def __init__(self, window: float = 10.0):
        self.window = window
        self.events: deque[tuple[float, int]] = deque()

    def add(self, n: int = 1) -> None:
        now = time.monotonic()
        self.events.append((now, n))
        while self.events and now - self.events[0][0] > self.window:
            self.events.popleft()

    def rate(self) -> float:
        if len(self.events) < 2:
            return 0.0
        span = self.events[-1][0] - self.events[0][0]
        return sum(n for _, n in list(self.events)[1:]) / span if span > 0 else 0.0


class Pipeline:
    """Index the library: one instance per run (or reuse; runs don't overlap)."""

    def __init__(
        self,
        catalog: Catalog,
        thumbnails: ThumbnailCache,
        *,
        embedder: ImageEmbedder | None = None,
        on_progress: Callable[[Progress], None] | None = None,
        on_embedded: Callable[[str, np.ndarray, np.ndarray], None] | None = None,
        on_removed: Callable[[list[int]], None] | None = None,
        decode_workers: int | None = None,
        batch_size: int = 16,
        queue_size: int = 64,
        settle_s: float = 2.0,
        progress_interval: float = 0.1,
    ):
        self.catalog = catalog
        self.thumbnails = thumbnails
        self.embedder = embedder
        self.on_progress = on_progress
        self.on_embedded = on_embedded
        self.on_removed = on_removed
        self.decode_workers = decode_workers or max(1, min(4, os.cpu_count() or 1))
        self.batch_size = batch_size
        self.queue_size = queue_size
        self.settle_s = settle_s
        self.progress_interval = progress_interval
        self._running = threading.Event()
        self._running.set()
        self._cancel = threading.Event()
        self._progress = Progress("idle")
        self._model_streak = 0
        self._last_emit = 0.0
        self._lock = threading.Lock()

    # -- control (any thread) ------------------------------------------------------
    def pause(self) -> None:
        self._running.clear()
        self._emit(phase="paused", force=True)

    def resume(self) -> None:
        if not self._running.is_set():
            self._running.set()
            self._emit(phase="indexing", force=True)

    def cancel(self) -> None:
        self._cancel.set()
        self._running.set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    @property
    def progress(self) -> Progress:
        with self._lock:
            return Progress(**vars(self._progress))

    def _wait_running(self) -> bool:
        """Block while paused; False once cancelled."""
        while not self._running.wait(0.2):
            if self._cancel.is_set():
                return False
        return not self._cancel.is_set()

    def _emit(self, force: bool = False, **changes) -> None:
        with self._lock:
            for k, v in changes.items():
                setattr(self._progress, k, v)
            now = time.monotonic()
            if not force and now - self._last_emit < self.progress_interval:
                return
            self._last_emit = now
            snapshot = Progress(**vars(self._progress))
        if self.on_progress:
            try:
                self.on_progress(snapshot)
            except Exception:  # noqa: BLE001 - a broken listener must not stop indexing
                log.exception("progress callback failed")

    # -- the run -------------------------------------------------------------------
    def run(self, *, scan: bool = True, roots=None, rescan_deferred: bool = True) -> RunResult:
        start = time.monotonic()
        self._cancel.clear()
        result = RunResult()
        try:
            if scan:
                self._scan(result, roots)
            if not self._cancel.is_set():
                self._index(result)
            # Files still being written when we first looked: give them one more
            # chance once they have settled, so a one-shot scan picks them up.
            rounds = 0
            while (
                rescan_deferred and scan and not self._cancel.is_set() and not result.error
                and (result.scan.deferred or result.deferred) and rounds < 5
            ):
                rounds += 1
                time.sleep(self.settle_s)
                before = len(result.scan.deferred)
                result.scan.deferred.clear()
                result.deferred = 0
                self._scan(result, roots)
                self._index(result)
                if rounds > 1 and len(result.scan.deferred) >= before and not result.deferred:
                    break
        except ClipDeskError as exc:
            result.error = str(exc)
        result.cancelled = self._cancel.is_set()
        result.elapsed = time.monotonic() - start
        phase = "cancelled" if result.cancelled else ("error" if result.error else "done")
        self._emit(phase=phase, current=None, message=result.error, force=True)
        return result

    def _scan(self, result: RunResult, roots) -> None:
        self._emit(phase="scanning", done=0, total=0, force=True)

        def on_file(n: int, path: bytes) -> None:
            self._emit(phase="scanning", done=n, current=display_path(path))

        report = Scanner(self.catalog, settle_s=self.settle_s).reconcile(
            roots, on_file=on_file, should_stop=self._cancel.is_set
        )
        result.scan.merge(report)
        if report.removed_ids and self.on_removed:
            self.on_removed(report.removed_ids + report.changed_ids)
        elif report.changed_ids and self.on_removed:
            self.on_removed(report.changed_ids)

    def _index(self, result: RunResult) -> None:
        model_id = self.embedder.model_id if self.embedder else None
        ids = self.catalog.pending_ids(model_id)
        if not ids:
            return
        paths = {p.id: (encode_path(p.path), p.companion and encode_path(p.companion))
                 for p in self.catalog.photos(ids)}
        todo = [(i, *paths[i]) for i in ids if i in paths]
        total = len(todo)
        rate = _Rate()
        counters = {"done": 0, "failed": 0}
        self._emit(phase="indexing", done=0, total=total, failed=0, force=True)

        decoded_q: queue.Queue = queue.Queue(self.queue_size)
        encoded_q: queue.Queue = queue.Queue(max(2, self.queue_size // self.batch_size))
        errors: list[str] = []

        def decode_one(item: _Item) -> _Item:
            try:
                try:
                    item.decoded = decode(item.path, embedder=self.embedder)
                except FileChanging:
                    raise
                except DecodeError as exc:
                    if item.companion is None:
                        raise
                    # LibRaw cannot read this RAW (a camera newer than LibRaw?): the
                    # photo is shown and found by the JPEG the camera wrote with it.
                    log.info("%s: %s; using %s", display_path(item.path), exc, display_path(item.companion))
                    item.decoded = decode(item.companion, embedder=self.embedder)
            except FileChanging as exc:
                item.error, item.transient = str(exc), True
            except DecodeError as exc:
                item.error = str(exc)
            except Exception as exc:  # noqa: BLE001 - one photo never stops the run
                log.exception("unexpected error decoding %s", display_path(item.path))
                item.error = f"unexpected error: {exc}"
            return item

        def feeder() -> None:
            with ThreadPoolExecutor(self.decode_workers, thread_name_prefix="decode") as pool:
                window: deque = deque()
                for pid, path, companion in todo:
                    if not self._wait_running() or errors:
                        break
                    window.append(pool.submit(decode_one, _Item(pid, path, companion)))
                    while len(window) >= self.decode_workers * 2:
                        decoded_q.put(window.popleft().result())
                while window:
                    decoded_q.put(window.popleft().result())
            decoded_q.put(_STOP)

        def encoder() -> None:
            pending: list[_Item] = []
            while True:
                item = decoded_q.get()
                if item is not _STOP:
                    pending.append(item)
                if item is _STOP or len(pending) >= self.batch_size or (
                    pending and decoded_q.empty()
                ):
                    if pending:
                        self._encode(pending, errors)
                        encoded_q.put(pending)
                        pending = []
                if item is _STOP:
                    encoded_q.put(_STOP)
                    return

        def writer() -> None:
            while True:
                batch = encoded_q.get()
                if batch is _STOP:
                    return
                if errors:
                    continue  # drain
                try:
                    written, failed, deferred = self._write(batch, model_id)
                except ClipDeskError as exc:
                    errors.append(str(exc))
                    continue
                result.indexed += written
                result.failed += failed
                result.deferred += deferred
                counters["done"] += len(batch)
                counters["failed"] += failed
                rate.add(len(batch))
                r = rate.rate()
                left = total - counters["done"]
                last = batch[-1]
                self._emit(
                    phase="paused" if self.paused else "indexing",
                    done=counters["done"],
                    failed=counters["failed"],
                    current=display_path(last.path),
                    folder=display_path(os.path.dirname(last.path)),
                    rate=r,
                    eta=left / r if r > 0 else None,
                )

        threads = [
            threading.Thread(target=feeder, name="clipdesk-feeder", daemon=True),
            threading.Thread(target=encoder, name="clipdesk-encoder", daemon=True),
            threading.Thread(target=writer, name="clipdesk-writer", daemon=True),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            raise ClipDeskError(errors[0])

    #: This many photos in a row that the model cannot embed means the model is
    #: broken, not the photos: the run stops instead of failing the whole library.
    MODEL_FAILURE_STREAK = 8

    def _encode(self, batch: list[_Item], errors: list[str]) -> None:
        """Embed a batch. A photo whose embedding is invalid (InvalidEmbedding)
        fails alone; an error of the model as a whole (a damaged file, a session
        that cannot run) is not a photo's fault: the run stops and the photos
        stay waiting, so they are indexed once the model works again."""
        if self.embedder is None or errors:
            return
        ok = [it for it in batch if it.decoded is not None and it.decoded.model_input is not None]
        if not ok:
            return
        try:
            vectors = self.embedder.embed(np.stack([it.decoded.model_input for it in ok]))
            for it, v in zip(ok, vectors):
                it.vector = v
            self._model_streak = 0
            return
        except InvalidEmbedding:
            pass  # find the photos that broke the batch, below
        except ClipDeskError as exc:
            self._model_broken(ok, errors, exc)
            return
        for n, it in enumerate(ok):
            try:
                it.vector = self.embedder.embed(it.decoded.model_input[None])[0]
                self._model_streak = 0
            except InvalidEmbedding as exc:
                it.error = f"the model could not embed this photo: {exc}"
                self._model_streak += 1
                if self._model_streak >= self.MODEL_FAILURE_STREAK:
                    self._model_broken(ok[max(0, n + 1 - self._model_streak):], errors,
                                       f"it failed on {self._model_streak} photos in a row ({exc})")
                    return
            except ClipDeskError as exc:
                self._model_broken(ok[n:], errors, exc)
                return

    @staticmethod
    def _model_broken(items: list[_Item], errors: list[str], why) -> None:
        reason = f"waiting for a working model: {why}"
        for it in items:
            it.error, it.transient, it.vector = reason, True, None
        errors.append(f"the model cannot embed photos ({why}); indexing stopped, the photos wait for it")

    def _import_file_metadata(self, photo_id: int, path: bytes, d: Decoded, companion: bytes | None) -> None:
        """The keywords and marks the photo's files carry (embedded, then its
        sidecar), imported as :meth:`Catalog.import_file_metadata` says."""
        keywords, marks, sidecar_mtime = file_metadata(path, d.keywords, d.marks, companion=companion)
        self.catalog.import_file_metadata(photo_id, keywords, marks, sidecar_mtime)

    def _write(self, batch: list[_Item], model_id: str | None) -> tuple[int, int, int]:
        written = failed = deferred = 0
        thumbs_ok: dict[int, bool] = {}
        for it in batch:
            if it.decoded is None or it.error:
                continue
            d = it.decoded
            if self.thumbnails.has(d.hash):
                thumbs_ok[it.photo_id] = True
                continue
            try:
                self.thumbnails.put(d.hash, d.thumbnail)
                thumbs_ok[it.photo_id] = True
            except OSError as exc:
                if is_disk_full(exc) or exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
                    # Not this photo's problem: every photo would fail the same way.
                    full = is_disk_full(exc)
                    with self.catalog.transaction():
                        self.catalog.record_deferred(
                            it.photo_id, "disk full while writing the thumbnail; will retry" if full
                            else "the thumbnail cache cannot be written; will retry"
                        )
                    what = ("is full; free some space" if full else
                            f"cannot be written ({exc.strerror or exc}); make it writable or point "
                            "CLIPDESK_CACHE_DIR elsewhere")
                    raise ClipDeskError(
                        f"the thumbnail cache ({self.thumbnails.dir}) {what}. Indexing stopped, "
                        "nothing was lost; it goes on from here next time."
                    ) from exc
                it.error = f"could not write the thumbnail: {exc.strerror or exc}"
                it.transient = True
        ids, vecs = [], []
        with self.catalog.transaction():
            for it in batch:
                if it.error:
                    if it.transient:
                        self.catalog.record_deferred(it.photo_id, it.error)
                        deferred += 1
                    else:
                        self.catalog.record_failure(it.photo_id, it.error)
                        failed += 1
                    continue
                if self.embedder is not None and it.vector is None:
                    continue
                d = it.decoded
                self.catalog.record_decoded(
                    it.photo_id, hash_=d.hash, format_=d.format, width=d.width,
                    height=d.height, taken_at=d.taken_at, date_source=d.date_source,
                    date_field=d.date_field, taken_offset=d.taken_offset,
                    camera=d.camera, size=d.size, mtime_ns=d.mtime_ns,
                )
                self._import_file_metadata(it.photo_id, it.path, d, it.companion)
                if it.vector is not None:
                    ids.append(it.photo_id)
                    vecs.append(it.vector)
                written += 1
            if ids:
                self.catalog.store_embeddings(model_id, ids, np.stack(vecs))
        if ids and self.on_embedded:
            self.on_embedded(model_id, np.asarray(ids, dtype=np.int64), np.stack(vecs))
        return written, failed, deferred

"""The one thin layer between the core's plain callbacks and Qt's signals.

Background work follows Picard's pattern: a function runs on a thread pool and
its result (or error) is handed to a callback *on the GUI thread*. Pools are
kept by role, because they must not starve each other:

* ``interactive``: one thread, for what the user is waiting on right now
  (searches, tag suggestions, find similar); a newer request makes older ones
  pointless, so callers cancel them (:class:`CancelToken`).
* ``general``: reads that fill panels (folders, tags, details, previews).
* ``writes``: one thread, so catalog writes happen in the order they were asked
  for and never block the GUI behind SQLite's writer lock.
* ``thumbs``: thumbnail loading (:mod:`clipdesk.ui.thumbs`).
* ``long``: downloads and other jobs that may run for minutes.

Pool threads never expire: the catalog keeps one SQLite connection per thread,
so a bounded set of threads keeps a bounded set of connections.

The indexing pipeline has a thread of its own (:class:`IndexController`); its
:class:`~clipdesk.core.pipeline.Progress` callback becomes a Qt signal here.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from typing import Any, Callable

import shiboken6
from PySide6.QtCore import QObject, QRunnable, QThread, QThreadPool, QTimer, Signal, Slot

from clipdesk.core.pipeline import Progress, RunResult

log = logging.getLogger(__name__)


class Dispatcher(QObject):
    """Runs callables on the thread it lives in (the GUI thread).

    ``post`` may be called from any thread; the call is queued, so the caller
    never waits for the GUI.
    """

    _deliver = Signal(object)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._deliver.connect(self._run)

    def post(self, fn: Callable[[], Any]) -> None:
        if shiboken6.isValid(self):
            self._deliver.emit(fn)

    @Slot(object)
    def _run(self, fn: Callable[[], Any]) -> None:
        try:
            fn()
        except Exception:  # noqa: BLE001 - a failing callback must not take the app down
            log.exception("callback on the GUI thread failed")


class CancelToken:
    """Set by the GUI when it no longer wants a result; polled by the worker."""

    __slots__ = ("_event",)

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def __call__(self) -> bool:
        return self._event.is_set()


class _Task(QRunnable):
    def __init__(self, fn: Callable[[], Any], deliver: Callable[[Any, BaseException | None], None],
                 token: CancelToken | None):
        super().__init__()
        self.fn = fn
        self.deliver = deliver
        self.token = token
        self.setAutoDelete(True)

    def run(self) -> None:
        if self.token is not None and self.token.cancelled:
            return  # overtaken before it started: nobody wants it
        try:
            result, error = self.fn(), None
        except BaseException as exc:  # noqa: BLE001 - delivered to the caller
            result, error = None, exc
        self.deliver(result, error)


class Pools:
    """The app's thread pools and the dispatcher that brings results home."""

    def __init__(self, parent: QObject | None = None):
        self.dispatcher = Dispatcher(parent)
        self.interactive = self._pool("interactive", 1)
        self.general = self._pool("general", 2)
        self.writes = self._pool("writes", 1)
        self.thumbs = self._pool("thumbs", 2)
        self.long = self._pool("long", 2)

    @staticmethod
    def _pool(name: str, threads: int) -> QThreadPool:
        pool = QThreadPool()
        pool.setObjectName(name)
        pool.setMaxThreadCount(threads)
        pool.setExpiryTimeout(-1)
        return pool

    @property
    def all(self) -> tuple[QThreadPool, ...]:
        return (self.interactive, self.general, self.writes, self.thumbs, self.long)

    def run(
        self,
        pool: QThreadPool,
        fn: Callable[[], Any],
        on_done: Callable[[Any], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
        *,
        owner: QObject | None = None,
        token: CancelToken | None = None,
        priority: int = 0,
    ) -> CancelToken:
        """Run ``fn()`` on ``pool``; then ``on_done(result)`` or ``on_error(exc)``
        on the GUI thread, unless ``owner`` was deleted or ``token`` cancelled."""
        token = token or CancelToken()

        def deliver(result: Any, error: BaseException | None) -> None:
            def on_gui() -> None:
                if token.cancelled or (owner is not None and not shiboken6.isValid(owner)):
                    return
                if error is None:
                    if on_done is not None:
                        on_done(result)
                elif on_error is not None:
                    on_error(error)
                else:
                    log.error("background task failed", exc_info=error)

            self.dispatcher.post(on_gui)

        pool.start(_Task(fn, deliver, token), priority)
        return token

    def wait(self, timeout_ms: int = 30000) -> bool:
        """Let queued work finish (shutdown, tests)."""
        deadline = time.monotonic() + timeout_ms / 1000
        ok = True
        for pool in self.all:
            left = max(0, int((deadline - time.monotonic()) * 1000))
            ok = pool.waitForDone(left) and ok
        return ok

    def shutdown(self, timeout_ms: int = 30000) -> bool:
        for pool in self.all:
            pool.clear()
        return self.wait(timeout_ms)


class IndexController(QObject):
    """Runs the library's pipeline on its own thread and reports by signal.

    ``start()`` while a run is going asks for one more run afterwards (changes
    arrived meanwhile); runs never overlap.
    """

    progress = Signal(object)  # Progress
    finished = Signal(object)  # RunResult
    started = Signal()
    runningChanged = Signal(bool)
    pausedChanged = Signal(bool)
    #: Photos were added, changed or indexed: views that show catalog content
    #: may want to refresh. Throttled.
    catalogChanged = Signal()
    #: The pipeline's progress callback, called on its threads, queued to ours.
    _relay = Signal(object)

    def __init__(self, library, *, parent: QObject | None = None, pipeline_kwargs: dict | None = None,
                 change_interval_ms: int = 2000):
        super().__init__(parent)
        self.library = library
        self.pipeline_kwargs = dict(pipeline_kwargs or {})
        self._thread: _PipelineThread | None = None
        self._again = False
        self._paused = False
        self._last_done = 0
        self.last: Progress | None = None
        self._changes = QTimer(self)
        self._changes.setSingleShot(True)
        self._changes.setInterval(change_interval_ms)
        self._changes.timeout.connect(self.catalogChanged)
        self._relay.connect(self._on_progress)

    @property
    def running(self) -> bool:
        return self._thread is not None

    @property
    def paused(self) -> bool:
        return self._paused

    def start(self) -> None:
        if self._thread is not None:
            self._again = True
            return
        self._again = False
        self._last_done = 0
        # The pipeline is made on its thread: making it loads the model.
        thread = _PipelineThread(self.library, self._relay.emit, self.pipeline_kwargs, self._paused)
        thread.done.connect(self._on_done)
        self._thread = thread
        thread.start(QThread.Priority.LowPriority)
        self.started.emit()
        self.runningChanged.emit(True)

    def pause(self) -> None:
        self._paused = True
        if self._thread is not None:
            self._thread.pause()
        self.pausedChanged.emit(True)

    def resume(self) -> None:
        self._paused = False
        if self._thread is not None:
            self._thread.resume()
        self.pausedChanged.emit(False)

    def cancel(self, wait_ms: int = 30000) -> None:
        """Stop the current run; waits for its thread (shutdown)."""
        self._again = False
        thread = self._thread
        if thread is not None:
            thread.cancel()
            thread.wait(wait_ms)

    @Slot(object)
    def _on_progress(self, p: Progress) -> None:
        self.last = p
        if p.done != self._last_done and p.phase in ("indexing", "paused"):
            self._last_done = p.done
            if not self._changes.isActive():
                self._changes.start()
        self.progress.emit(p)

    @Slot(object)
    def _on_done(self, result: RunResult) -> None:
        thread = self._thread
        self._thread = None
        if thread is not None:
            thread.wait()
            thread.deleteLater()
        self._changes.stop()
        self.catalogChanged.emit()
        self.finished.emit(result)
        self.runningChanged.emit(False)
        if self._again:
            self.start()


def lower_thread_priority(nice: int = 10) -> None:
    """Let this thread, and the threads it starts, yield the CPU to the GUI.

    On Linux a thread's nice value is its own and threads inherit it from the
    thread that starts them, so the pipeline's decode, encode and write
    threads all run below the GUI thread: on a busy machine the GUI gets the
    CPU first and answers within a frame. Elsewhere QThread priorities do this.
    """
    if sys.platform.startswith("linux"):
        try:
            current = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
            if current < nice:
                os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), nice)
        except OSError as exc:
            log.debug("could not lower the priority of %s: %s", threading.current_thread().name, exc)


class _PipelineThread(QThread):
    """Makes the run's pipeline (loading the model) and runs it.

    pause/resume/cancel may arrive before the pipeline exists; they are kept
    and applied as soon as it does.
    """

    done = Signal(object)

    def __init__(self, library, on_progress, kwargs: dict, paused: bool):
        super().__init__()
        self.library = library
        self.on_progress = on_progress
        self.kwargs = kwargs
        self._lock = threading.Lock()
        self._pipeline = None
        self._paused = paused
        self._cancelled = False

    def pause(self) -> None:
        with self._lock:
            self._paused = True
            pipeline = self._pipeline
        if pipeline is not None:
            pipeline.pause()

    def resume(self) -> None:
        with self._lock:
            self._paused = False
            pipeline = self._pipeline
        if pipeline is not None:
            pipeline.resume()

    def cancel(self) -> None:
        with self._lock:
            self._cancelled = True
            pipeline = self._pipeline
        if pipeline is not None:
            pipeline.cancel()

    def run(self) -> None:
        lower_thread_priority()
        try:
            pipeline = self.library.folders.pipeline(on_progress=self.on_progress, **self.kwargs)
            with self._lock:
                self._pipeline = pipeline
                paused, cancelled = self._paused, self._cancelled
            if paused:
                pipeline.pause()
            if cancelled:
                result = RunResult(cancelled=True)
            else:
                result = pipeline.run()
        except Exception as exc:  # noqa: BLE001 - reported as a failed run
            log.exception("indexing failed")
            result = RunResult(error=f"indexing stopped: {exc}")
        self.done.emit(result)

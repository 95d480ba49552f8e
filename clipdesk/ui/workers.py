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
* ``thumbs``: thumbnail loading (:mod:`clipdesk.ui.grid.thumbs`).
* ``long``: downloads and other jobs that may run for minutes.

Pool threads never expire: the catalog keeps one SQLite connection per thread,
so a bounded set of threads keeps a bounded set of connections.

The indexing pipeline has a thread of its own
(:class:`~clipdesk.ui.library.indexing.IndexController`).
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from typing import Any, Callable

import shiboken6
from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

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

        self._start(pool, _Task(fn, deliver, token), priority)
        return token

    def _start(self, pool: QThreadPool, task: QRunnable, priority: int) -> None:
        """The one place a task starts (a test double runs it on the spot instead)."""
        pool.start(task, priority)

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

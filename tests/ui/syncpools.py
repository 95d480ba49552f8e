"""A synchronous stand-in for :class:`clipdesk.ui.workers.Pools` (after Picard's FakeThreadPool).

``run`` calls the function at once, on the calling thread, and hands its
result (or error) to ``on_done`` (``on_error``) before it returns, with the
same rules as the real pools: nothing is delivered to a deleted ``owner`` or
once ``token`` is cancelled, and a cancelled token's function never runs.
Tests about a widget's logic use it and need no waiting; tests about
threading (stale results dropped, a GUI that never stalls) keep the real pools.
A callback that raises fails the test (the real dispatcher only logs it).

Thumbnails are not its business: the grid's loader feeds its own workers from
``pools.thumbs``, a real thread pool here too.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Callable

import shiboken6
from PySide6.QtCore import QObject, QThreadPool

from clipdesk.ui.workers import CancelToken, Dispatcher

log = logging.getLogger(__name__)


class SyncDispatcher(Dispatcher):
    """Runs what the GUI thread posts at once; what other threads post (a
    folder watcher) still goes through the event loop."""

    def post(self, fn: Callable[[], Any]) -> None:
        if threading.current_thread() is threading.main_thread():
            fn()
        else:
            super().post(fn)


class SyncPools:
    """Same interface as :class:`~clipdesk.ui.workers.Pools`; ``run`` is synchronous."""

    def __init__(self, parent: QObject | None = None):
        self.dispatcher = SyncDispatcher(parent)
        self.interactive = "interactive"
        self.general = "general"
        self.writes = "writes"
        self.long = "long"
        self.thumbs = QThreadPool()
        self.thumbs.setMaxThreadCount(2)

    def run(
        self,
        pool,
        fn: Callable[[], Any],
        on_done: Callable[[Any], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
        *,
        owner: QObject | None = None,
        token: CancelToken | None = None,
        priority: int = 0,
    ) -> CancelToken:
        token = token or CancelToken()
        if token.cancelled:
            return token
        try:
            result, error = fn(), None
        except Exception as exc:  # noqa: BLE001 - delivered to the caller, as the real pools do
            result, error = None, exc
        if token.cancelled or (owner is not None and not shiboken6.isValid(owner)):
            return token
        if error is None:
            if on_done is not None:
                on_done(result)
        elif on_error is not None:
            on_error(error)
        else:
            log.error("background task failed", exc_info=error)
        return token

    def wait(self, timeout_ms: int = 30000) -> bool:
        return self.thumbs.waitForDone(timeout_ms)

    def shutdown(self, timeout_ms: int = 30000) -> bool:
        self.thumbs.clear()
        return self.wait(timeout_ms)

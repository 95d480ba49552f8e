"""A synchronous stand-in for :class:`clipdesk.ui.workers.Pools` (after Picard's FakeThreadPool).

``run`` calls the function at once, on the calling thread, and hands its
result (or error) to ``on_done`` (``on_error``) before it returns. It is the
real ``Pools.run`` with its task run on the spot instead of on a thread pool,
so the rules are the real ones: nothing is delivered to a deleted ``owner`` or
once ``token`` is cancelled, and a cancelled token's function never runs.
Tests about a widget's logic use it and need no waiting; tests about
threading (stale results dropped, a GUI that never stalls) keep the real pools.
A callback that raises fails the test (the real dispatcher only logs it).

Thumbnails are not its business: the grid's loader feeds its own workers from
``pools.thumbs``, a real thread pool here too.
"""

from __future__ import annotations

import threading
from typing import Any, Callable

from PySide6.QtCore import QObject, QRunnable, QThreadPool

from clipdesk.ui.workers import Dispatcher, Pools


class SyncDispatcher(Dispatcher):
    """Runs what the GUI thread posts at once; what other threads post (a
    folder watcher) still goes through the event loop."""

    def post(self, fn: Callable[[], Any]) -> None:
        if threading.current_thread() is threading.main_thread():
            fn()
        else:
            super().post(fn)


class SyncPools(Pools):
    """Same interface as :class:`~clipdesk.ui.workers.Pools`; ``run`` is synchronous."""

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.dispatcher = SyncDispatcher(parent)

    def _start(self, pool: QThreadPool, task: QRunnable, priority: int) -> None:
        task.run()

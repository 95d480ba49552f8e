"""The index's readers-writer lock.

hnswlib is not safe for concurrent add and query (DESIGN.md, "Threads"), and
the exact-search matrix is reallocated as it grows, so every index carries one
of these: many searches at once, adds and deletes exclusive. A save takes it
as a *long* reader, so searches go on while the file is written.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["RWLock"]


class RWLock:
    """Readers-writer lock: shared readers, one exclusive writer.

    Writer-preferring (a waiting writer stops new readers), so a stream of
    type-ahead searches cannot starve the pipeline's adds. The exception is a
    *long* reader (a save): while one holds the lock a waiting writer cannot
    get in anyway, so new readers are let through instead of stalling behind
    it. Not reentrant: a thread must not take it again while holding it.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._readers = 0
        self._long_readers = 0
        self._writer = False
        self._writers_waiting = 0

    @contextmanager
    def read(self, long: bool = False) -> Iterator[None]:
        """Hold the lock shared. ``long``: this reader may hold it for seconds
        (a save), so readers that arrive meanwhile need not wait for a writer."""
        with self._cond:
            while self._writer or (self._writers_waiting and not self._long_readers):
                self._cond.wait()
            self._readers += 1
            if long:
                self._long_readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                if long:
                    self._long_readers -= 1
                self._cond.notify_all()

    @contextmanager
    def write(self) -> Iterator[None]:
        """Hold the lock alone: waits for every reader and writer to leave."""
        with self._cond:
            self._writers_waiting += 1
            try:
                while self._writer or self._readers:
                    self._cond.wait()
            finally:
                self._writers_waiting -= 1
            self._writer = True
        try:
            yield
        finally:
            with self._cond:
                self._writer = False
                self._cond.notify_all()

"""Rebuilding an index from the catalog in a background thread.

When the saved index cannot be used (DESIGN.md: it is a derived cache), the
vectors are read again from the catalog's embeddings and a fresh graph is
built while the app keeps working: searches wait until every vector is read
back (a second or two for 100,000 photos), then are answered exactly until
the graph is ready, and adds and removes are applied to the store at once
and recorded in a journal that is replayed on the new graph before it is
swapped in.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable

import numpy as np

from clipdesk.core.index.graph import Graph, HnswParams
from clipdesk.core.index.lock import RWLock
from clipdesk.core.index.store import InvalidVector, VectorStore, as_ids, dedupe_last, normalise_rows

log = logging.getLogger(__name__)

__all__ = ["Rebuild", "RebuildHandle", "RebuildSource"]

#: Rows copied per lock hold while a rebuild feeds the new graph.
_REBUILD_CHUNK = 2048

#: A rebuild source: called in the rebuild thread (so it can open its own
#: SQLite connection) and yields (ids int64 [N], vectors float32 [N, dim]).
RebuildSource = Callable[[], Iterable[tuple[np.ndarray, np.ndarray]]]

#: One change made while a rebuild runs: ("add", ids, unit vectors) or ("del", ids, None).
JournalEntry = tuple[str, np.ndarray, "np.ndarray | None"]


class RebuildHandle:
    """A background rebuild. ``wait()`` returns True when it finished cleanly.

    ``error``: what made it fail, if it did. ``skipped_ids``: photos whose
    vectors were NaN, infinite or zero in the source and were left out.
    """

    def __init__(self) -> None:
        self._done = threading.Event()
        self._cancel = threading.Event()
        #: Set once every vector of the source is in the store (or the rebuild
        #: ended without that): from then on exact search gives whole answers.
        self.loaded = threading.Event()
        self.error: BaseException | None = None
        self.skipped_ids: list[int] = []
        self.thread: threading.Thread | None = None

    @property
    def done(self) -> bool:
        return self._done.is_set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def cancel(self) -> None:
        self._cancel.set()

    def wait(self, timeout: float | None = None) -> bool:
        finished = self._done.wait(timeout)
        return finished and self.error is None and not self._cancel.is_set()


class _Cancelled(Exception):
    pass


class Rebuild:
    """One rebuild of an index's contents, in its own thread.

    ``store`` is the fresh store the index serves from while this runs; every
    step takes the index's ``lock``. The index records each change with
    :meth:`record`, and must not compact the store while that returns True
    (the graph is fed by row).
    """

    def __init__(self, lock: RWLock, dim: int, params: HnswParams, name: str) -> None:
        self.lock = lock
        self.dim = dim
        self.params = params
        self.name = name
        self.store = VectorStore(dim)
        self.journal: list[JournalEntry] | None = []
        self.handle = RebuildHandle()

    def record(self, op: str, ids: np.ndarray, vecs: np.ndarray | None) -> bool:
        """Journal a change the index just made (write lock held): ("add", ids,
        unit vectors) or ("del", ids, None). False once this rebuild has
        stopped collecting changes (it is over)."""
        if self.journal is None:
            return False
        self.journal.append((op, ids, vecs))
        return True

    def start(
        self,
        source: RebuildSource,
        install: Callable[[Graph], None],
        on_done: Callable[[RebuildHandle], None] | None,
    ) -> RebuildHandle:
        """Load ``source``, build the graph, then call ``install(graph)`` under
        the write lock. ``on_done`` runs in the rebuild thread at the end, also
        on failure (check ``handle.error``)."""
        thread = threading.Thread(
            target=self._main, args=(source, install, on_done), name=f"index-rebuild-{self.name}", daemon=True
        )
        self.handle.thread = thread
        thread.start()
        return self.handle

    def _main(self, source: RebuildSource, install, on_done) -> None:
        handle = self.handle
        try:
            try:
                self._load(source)
            finally:
                handle.loaded.set()
            graph, tail = self._build_graph()
            self._swap(graph, tail, install)
            log.info("index %s rebuilt: %d vectors", self.name, self.store.n_live)
        except _Cancelled:
            log.info("index %s rebuild cancelled", self.name)
            self._stop_journal()
        except BaseException as exc:  # reported through the handle, never lost
            handle.error = exc
            log.exception("index %s rebuild failed", self.name)
            self._stop_journal()
        finally:
            handle._done.set()
            if on_done is not None:
                try:
                    on_done(handle)
                except Exception:
                    log.exception("index %s: rebuild callback failed", self.name)

    def _stop_journal(self) -> None:
        with self.lock.write():
            self.journal = None

    def _check_cancelled(self) -> None:
        if self.handle.cancelled:
            raise _Cancelled

    def _load(self, source: RebuildSource) -> None:
        for batch_ids, batch_vecs in source():
            self._check_cancelled()
            arr = as_ids(batch_ids)
            raw = np.asarray(batch_vecs)
            if len(arr) == 0:
                continue
            if raw.ndim != 2 or raw.shape[0] != len(arr):
                raise InvalidVector(f"rebuild source gave {len(arr)} ids and vectors of shape {list(raw.shape)}")
            try:
                vecs = normalise_rows(raw, self.dim, ids=arr)
            except InvalidVector as exc:
                if not exc.bad_ids:
                    raise
                bad = np.isin(arr, np.array(exc.bad_ids, dtype=np.int64))
                self.handle.skipped_ids.extend(int(i) for i in arr[bad])
                log.warning("index %s: skipping %d bad vectors while rebuilding", self.name, int(bad.sum()))
                arr = arr[~bad]
                vecs = normalise_rows(raw[~bad], self.dim, ids=arr)
            arr, vecs = dedupe_last(arr, vecs)
            with self.lock.write():
                self.store.upsert(arr, vecs)
        # Ops applied during the load may have been overwritten by older catalog rows.
        with self.lock.write():
            journal, self.journal = self.journal, []
            for op, ids, vecs in journal:
                if op == "add":
                    self.store.upsert(ids, vecs)
                else:
                    self.store.delete(ids)

    def _build_graph(self) -> tuple[Graph, list[JournalEntry]]:
        store = self.store
        with self.lock.read():
            n_rows = store.n
            capacity = int(store.n_live * 1.2) + 1024
        graph = Graph.new(self.dim, self.params, capacity)
        for start in range(0, n_rows, _REBUILD_CHUNK):
            self._check_cancelled()
            with self.lock.read():
                stop = min(start + _REBUILD_CHUNK, n_rows)
                live = store.live[start:stop]
                ids = store.ids[start:stop][live].copy()
                vecs = store.vecs[start:stop][live].copy()
            if len(ids):
                graph.add_new(ids, vecs)
        # Catch up with ops made while the graph was built, without blocking searches...
        while True:
            with self.lock.write():
                journal, self.journal = self.journal, []
            if len(journal) < 8:
                return graph, journal
            _replay_on_graph(graph, journal)

    def _swap(self, graph: Graph, tail: list[JournalEntry], install: Callable[[Graph], None]) -> None:
        # ...and the last few under the write lock, so that none is missed.
        with self.lock.write():
            _replay_on_graph(graph, tail + self.journal)
            self._check_cancelled()
            install(graph)
            self.journal = None


def _replay_on_graph(graph: Graph, journal: list[JournalEntry]) -> None:
    for op, ids, vecs in journal:
        if op == "add":
            graph.upsert(ids, vecs)
        else:
            graph.delete(ids)

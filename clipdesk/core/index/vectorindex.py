"""The vector index of one model: which search path answers, and the API.

Two search paths over the same vectors:

* **graph** (:mod:`.graph`, hnswlib) for large collections;
* **exact** numpy search (:mod:`.store`) for small collections, for filtered
  searches whose allowed subset is small, and while the graph is being
  (re)built in the background (:mod:`.rebuild`).

The switch-over points below are measured by ``benchmarks/bench_index.py``.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from clipdesk.core.errors import UsageError
from clipdesk.core.index import files
from clipdesk.core.index.files import IndexIOError, IndexStale, Manifest
from clipdesk.core.index.graph import Graph, HnswParams
from clipdesk.core.index.lock import RWLock
from clipdesk.core.index.rebuild import Rebuild, RebuildHandle, RebuildSource
from clipdesk.core.index.store import InvalidVector, VectorStore, as_ids, dedupe_last, normalise_rows

log = logging.getLogger(__name__)

__all__ = [
    "EXACT_SEARCH_MAX",
    "FILTER_EXACT_MAX",
    "POSTFILTER_MAX_BREADTH",
    "POSTFILTER_MIN_SHARE",
    "POSTFILTER_OVERSAMPLE",
    "TEXT_QUERY_EF",
    "text_query_ef",
    "SearchHits",
    "VectorIndex",
]

# Switch-over points, measured by benchmarks/bench_index.py on clustered 512-d
# vectors, 2 cores (numbers in the issue note and the module's commit):
#: Up to this many live vectors an unfiltered search is answered exactly with
#: numpy. Measured: exact top-100 costs ~0.25 ms at 1k, ~1.3 ms at 5k and
#: ~3 ms at 10k, growing linearly (~25 ms at 100k); HNSW (ef=160) costs
#: ~0.6-1 ms from 10k to 1M. Up to 10k exact is perfect recall for a couple
#: of milliseconds, so the graph is not worth its approximation there.
EXACT_SEARCH_MAX = 10_000
#: A filtered search whose allowed subset holds at most this many live ids is
#: answered exactly over the subset. Measured at 1M: 2k ids 2.3 ms, 10k ids
#: (a 1% filter) 12 ms, recall 1.0, where hnswlib's filter callable takes
#: 110-470 ms at recall 0.9-0.99 (it calls Python for every candidate and a
#: 1% filter visits ~100x more nodes). Larger subsets go exact too unless
#: they hold POSTFILTER_MIN_SHARE of the library: exact costs ~45 ms at 30k
#: ids and ~120 ms at 100k, still with perfect recall.
FILTER_EXACT_MAX = 30_000
#: Filters keeping at least this share of the photos are answered by an
#: unfiltered graph search for max(k * POSTFILTER_OVERSAMPLE, ef) / share
#: results, the others dropped. Measured at 1M, image queries: 10% -> 18 ms p50, recall
#: 0.92 (exact: 120 ms); 30% -> 13 ms, 0.94 (exact: 390 ms); at 3-5% it is no
#: faster than exact (50 / 29 ms against 45 / ~60 ms), so those stay exact.
POSTFILTER_MIN_SHARE = 0.1
POSTFILTER_OVERSAMPLE = 2.0
#: The breadth a post-filtered search keeps among the allowed photos is at
#: most this, so that a wider TEXT_QUERY_EF leaves filtered searches as they
#: were measured: the search asks the graph for breadth / share results, and
#: its cost grows with them. Measured at 1M on bench_index's data and 60 of
#: its text queries (the cap lifted by hand), p50 at breadth 800 and 2400: a
#: 10% filter 25 and 59 ms (recall 0.96 and 0.996), 30% 12 and 42 ms (0.94
#: and 0.985); the benchmark's filter sweep shows the capped figures.
POSTFILTER_MAX_BREADTH = 800
#: Graph breadth to ask for text queries (``search(..., ef=TEXT_QUERY_EF)``).
#: Text embeddings sit far from every photo, where a graph search is weakest.
#: Measured by benchmarks/bench_index.py (text-query sweep) on its synthetic
#: text queries, a pessimistic case (see its docstring), M=16, 1M vectors,
#: 2 cores, ms p50 / p95: recall@100 0.54 at ef=160, 0.845 at 800 (1.9 /
#: 2.6), 0.936 at 1600 (3.9 / 4.7), 0.949 at 2000 (4.8 / 5.7), 0.961 at
#: 2400 (6.0 / 7.2), 0.979 at 3200 (7.9 / 9.1). At 100k, 800 already gives
#: 0.993 and 2400 costs 4.7 ms p50 instead of 1.2. A graph of degree M=32
#: reaches 0.971 at ef=1600 in about the same time, but only graphs built
#: or rebuilt with it would have it. Still a graph search: approximate.
#: Image queries need no more than the default (0.97 at 1M with ef=160).
TEXT_QUERY_EF = 2400
#: Libraries up to this size search text queries at TEXT_QUERY_EF_SMALL
#: (see :func:`text_query_ef`).
TEXT_QUERY_SMALL_MAX = 100_000
#: At 100k, ef=1000 reaches text recall@100 0.995 against 1.000 at 2400, in
#: 1.8 ms p50 instead of 4.3 (the same sweep, issue 17, 2 busy cores). A
#: search asks for 1,000 candidates (the relevance cut needs them), which
#: makes 1000 the least breadth it can have anyway.
TEXT_QUERY_EF_SMALL = 1000


def text_query_ef(count: int) -> int:
    """The graph breadth for a text query over ``count`` photos."""
    return TEXT_QUERY_EF_SMALL if count <= TEXT_QUERY_SMALL_MAX else TEXT_QUERY_EF


#: How long a reader waits for a rebuild to read every vector back from the
#: catalog (seconds) before it answers with what has been read.
LOAD_WAIT_S = 60.0


@dataclass(frozen=True)
class SearchHits:
    """Best first: ``ids`` int64 [n], ``scores`` float32 [n], cosine similarities in [-1, 1]."""

    ids: np.ndarray
    scores: np.ndarray
    #: "exact", "exact-subset", "hnsw", "hnsw-filtered" or "hnsw-postfilter":
    #: which path answered.
    method: str

    def __len__(self) -> int:
        return len(self.ids)


def _no_hits(method: str) -> SearchHits:
    return SearchHits(np.zeros(0, np.int64), np.zeros(0, np.float32), method)


class VectorIndex:
    """The vectors of one model, searchable by cosine similarity.

    ``add`` is an upsert (re-adding a deleted id brings it back with the new
    vector), ``remove`` ignores unknown ids, ``search`` clamps k to what is
    there. All methods are thread-safe: one :class:`RWLock` lets searches run
    together and makes adds and removes exclusive.
    """

    def __init__(
        self, model_id: str, dim: int, params: HnswParams | None = None, *, capacity: int = 1024
    ) -> None:
        """``dim``: vector length; ``capacity``: vectors to make room for up
        front (both sides grow as needed). Raises UsageError for ``dim`` <= 0."""
        if dim <= 0:
            raise UsageError(f"index dimension must be positive, got {dim}")
        self.model_id = model_id
        self.dim = int(dim)
        self.params = params or HnswParams()
        self._lock = RWLock()
        self._save_lock = threading.Lock()
        self._store = VectorStore(self.dim, capacity=max(capacity, 16))
        #: None while a rebuild builds a new one.
        self._graph: Graph | None = Graph.new(self.dim, self.params, capacity)
        self._rebuild: Rebuild | None = None

    # -- introspection --------------------------------------------------------------
    def _wait_loaded(self) -> None:
        """While a rebuild is still reading the catalog, wait until it has every
        vector (at most LOAD_WAIT_S): an answer over half the photos would look
        complete and be wrong (`similar` right after a change found nothing)."""
        rebuild = self._rebuild
        if rebuild is not None and not rebuild.handle.loaded.is_set():
            if not rebuild.handle.loaded.wait(LOAD_WAIT_S):
                log.warning("index %s: still reading vectors after %.0f s; answering with what is read",
                            self.model_id, LOAD_WAIT_S)

    def __len__(self) -> int:
        self._wait_loaded()
        return self._store.n_live

    def __contains__(self, photo_id: object) -> bool:
        if not isinstance(photo_id, (int, np.integer)) or photo_id < 0:
            return False
        with self._lock.read():
            return bool(self._store.live_mask(np.array([photo_id], dtype=np.int64))[0])

    @property
    def rebuilding(self) -> bool:
        """True while a background rebuild runs (searches are exact meanwhile)."""
        return self._rebuild is not None and not self._rebuild.handle.done

    @property
    def deleted_fraction(self) -> float:
        """Share of the graph's slots held by deleted vectors (slots are reused by new ids)."""
        with self._lock.read():
            graph = self._graph
            if graph is None or graph.element_count == 0:
                return 0.0
            return 1.0 - self._store.n_live / graph.element_count

    def ids(self) -> np.ndarray:
        """The live photo ids, int64 [len(self)]."""
        self._wait_loaded()
        with self._lock.read():
            return self._store.live_ids()

    def vectors(self, ids: Iterable[int]) -> tuple[np.ndarray, np.ndarray]:
        """(found ids int64 [M], their unit vectors float32 [M, dim]); ids not
        in the index are left out."""
        arr = as_ids(ids)
        self._wait_loaded()
        with self._lock.read():
            return self._store.vectors(arr)

    # -- mutation ----------------------------------------------------------------------
    def add(self, ids: Iterable[int], vectors: np.ndarray) -> None:
        """Insert or replace ``vectors`` [N, dim] (any length, scaled to unit
        here) under photo ``ids`` [N]; the last vector wins for a repeated id.
        Raises :class:`InvalidVector` for the whole batch (nothing is added)."""
        arr = as_ids(ids)
        vecs = normalise_rows(vectors, self.dim, ids=arr) if len(arr) else np.zeros((0, self.dim), np.float32)
        if len(vecs) != len(arr):
            raise InvalidVector(f"{len(arr)} ids but {len(vecs)} vectors")
        if not len(arr):
            return
        arr, vecs = dedupe_last(arr, vecs)
        with self._lock.write():
            was_live = self._store.live_mask(arr)
            self._store.upsert(arr, vecs)
            if self._graph is not None:
                self._graph.upsert(arr, vecs, was_live)
            if self._rebuild is not None:
                self._rebuild.record("add", arr, vecs)

    def remove(self, ids: Iterable[int]) -> int:
        """Delete ids; returns how many were present."""
        arr = as_ids(ids)
        if not len(arr):
            return 0
        with self._lock.write():
            gone = self._store.delete(arr)
            if self._graph is not None:
                self._graph.delete(gone)
            journaled = self._rebuild is not None and self._rebuild.record("del", arr, None)
            if not journaled and self._graph is not None:
                self._store.compact_if_sparse()
            return len(gone)

    # -- search ----------------------------------------------------------------------
    def search(
        self,
        query: np.ndarray,
        k: int,
        *,
        allowed: Collection[int] | np.ndarray | None = None,
        method: str = "auto",
        ef: int | None = None,
    ) -> SearchHits:
        """Top ``k`` ids by cosine similarity to ``query`` [dim] (any length), best first.

        ``allowed`` restricts the answer to those ids (a filter from the
        catalog: folder, date, tag...). ``k`` is clamped to what is there.
        ``ef``: search breadth of the graph for this query (default
        ``params.ef_search``; never less than k; at most
        :data:`POSTFILTER_MAX_BREADTH` under a filter answered by post-filtering).
        Text queries sit far from every photo (the modality gap) and need
        more: see :data:`TEXT_QUERY_EF`. Graph answers are approximate; the
        exact paths ("exact", "exact-subset") are exact.
        ``method`` is "auto" (the measured switch-over points), or "exact" /
        "hnsw" to force a path (benchmarks and tests); "hnsw" still answers
        exactly while a rebuild runs or when the graph cannot return k.
        Raises UsageError for another method, :class:`InvalidVector` for a
        query that is NaN, infinite, zero or of another dimension.
        """
        if method not in ("auto", "exact", "hnsw"):
            raise UsageError(f"unknown search method {method!r}")
        q = normalise_rows(query, self.dim)[0]
        if k <= 0:
            return _no_hits("exact")
        breadth = max(int(ef or 0), self.params.ef_search)
        self._wait_loaded()
        with self._lock.read():
            store = self._store
            if allowed is not None:
                return self._filtered(q, k, as_ids(allowed), method, breadth)
            use_exact = store.n_live <= EXACT_SEARCH_MAX if method == "auto" else method == "exact"
            if not use_exact and self._graph is not None and store.n_live:
                hits = self._graph_search(q, min(k, store.n_live), breadth)
                if hits is not None:
                    return hits
            ids, scores = store.top_k(q, k)
            return SearchHits(ids, scores, "exact")

    def _filtered(self, q: np.ndarray, k: int, allowed: np.ndarray, method: str, breadth: int) -> SearchHits:
        """Filtered search (read lock held).

        Measured at 1M (see FILTER_EXACT_MAX): exact over the subset is best up
        to a few percent of the library and keeps perfect recall beyond; a
        filter keeping a large share is answered by an unfiltered graph search
        for max(k * POSTFILTER_OVERSAMPLE, min(breadth, POSTFILTER_MAX_BREADTH))
        / share results, the others dropped.
        hnswlib's filter callable is slower than both (it calls Python for
        every candidate and visits ~1/share times more nodes) and is used only
        when "hnsw" is forced on a small share.
        """
        store = self._store
        rows = store.live_rows_of(allowed)
        if not len(rows):
            return _no_hits("exact-subset")
        k = min(k, len(rows))
        share = len(rows) / max(store.n_live, 1)
        if method == "auto":
            graph = len(rows) > FILTER_EXACT_MAX and share >= POSTFILTER_MIN_SHARE
        else:
            graph = method == "hnsw"
        if graph and self._graph is not None:
            if share >= POSTFILTER_MIN_SHARE:
                # The allowed photos among the results should number about
                # max(2k, breadth), the breadth capped: a wide query (text)
                # stays wide under a filter, but no wider than it was measured.
                kept = max(k * POSTFILTER_OVERSAMPLE, min(breadth, POSTFILTER_MAX_BREADTH))
                wanted = min(store.n_live, math.ceil(kept / share))
                hits = self._graph_search(q, wanted, wanted)
                if hits is not None:
                    hit_rows = store.rows_of(hits.ids)
                    pos = np.minimum(np.searchsorted(rows, hit_rows), len(rows) - 1)
                    keep = np.flatnonzero(rows[pos] == hit_rows)[:k]
                    if len(keep) == k:
                        return SearchHits(hits.ids[keep], hits.scores[keep], "hnsw-postfilter")
            else:
                hits = self._graph_search(q, k, breadth, set(store.ids[rows].tolist()))
                if hits is not None:
                    return hits
        ids, scores = store.top_k(q, k, rows)
        return SearchHits(ids, scores, "exact-subset")

    def _graph_search(self, q: np.ndarray, k: int, breadth: int, allowed: set[int] | None = None) -> SearchHits | None:
        """Graph search for k results with at least ``breadth`` candidates (read lock held).

        hnswlib searches with max(ef, k), so asking for max(k, breadth)
        results and keeping the first k gives this query its own breadth
        without touching the index-wide ef that other threads use.
        """
        assert self._graph is not None
        asked = min(max(k, breadth), self._store.n_live if allowed is None else len(allowed))
        found = self._graph.knn(q, asked, allowed)
        if found is None:
            return None  # fewer than asked reachable: the caller answers exactly
        ids, scores = found
        return SearchHits(ids[:k], scores[:k], "hnsw" if allowed is None else "hnsw-filtered")

    def sample_scores(self, query: np.ndarray, n: int = 2048, seed: int = 0) -> np.ndarray:
        """Cosine scores (float32 [<= n]) of ``query`` [dim] with up to ``n``
        random live photos: the library's score distribution for this query,
        which :func:`clipdesk.core.query.relevance_cut` uses as its background."""
        q = normalise_rows(query, self.dim)[0]
        with self._lock.read():
            return self._store.sample_scores(q, n, seed)

    # -- persistence ----------------------------------------------------------------------
    def save(self, directory: Path, generation: int | str | None = None) -> Manifest:
        """Write the index atomically into ``directory`` (:mod:`.files`);
        returns the manifest written. Searches go on meanwhile.

        Raises :class:`IndexIOError` when the disk refuses, and while a
        rebuild runs (the graph is not complete yet).
        """

        def dump(path: Path) -> tuple[int, int]:
            with self._lock.read(long=True):
                if self._graph is None:
                    raise IndexIOError("the index is being rebuilt; save it when the rebuild is done")
                self._graph.save(path)
                return self._store.n_live, self._graph.element_count

        with self._save_lock:
            manifest = files.write_index(directory, self.model_id, self.dim, self.params, generation, dump)
        log.info("saved index %s: %d vectors, generation %s", self.model_id, manifest.count, generation)
        return manifest

    @classmethod
    def load(
        cls,
        directory: Path,
        model_id: str,
        dim: int,
        *,
        generation: int | str | None = None,
        check_generation: bool = True,
        params: HnswParams | None = None,
    ) -> VectorIndex:
        """Load a saved index after checking everything the manifest promises.

        Raises :class:`IndexStale` with the reason when anything disagrees
        (:func:`.files.read_index`).
        """
        index = cls(model_id, dim, params)
        graph, ids, vecs = files.read_index(
            directory, model_id, dim, index.params, generation=generation, check_generation=check_generation
        )
        index._graph = graph
        index._store = VectorStore.adopt(ids, vecs)
        log.info("loaded index %s: %d vectors", model_id, len(ids))
        return index

    @classmethod
    def open(
        cls,
        directory: Path,
        model_id: str,
        dim: int,
        *,
        generation: int | str | None,
        source: RebuildSource,
        params: HnswParams | None = None,
        on_rebuilt: Callable[[VectorIndex, RebuildHandle], None] | None = None,
    ) -> tuple[VectorIndex, str | None]:
        """Load the saved index, or start rebuilding it from ``source``.

        Returns (index, stale reason or None). When stale, the index is
        returned at once, empty and ``rebuilding``; exact search serves the
        vectors as they are loaded, and ``on_rebuilt`` is called from the
        rebuild thread once the fresh graph is in place (save it there).
        """
        try:
            return cls.load(directory, model_id, dim, generation=generation, params=params), None
        except IndexStale as exc:
            log.log(logging.INFO if exc.normal else logging.WARNING,
                    "index %s: %s; rebuilding from the catalog", model_id, exc.reason)
            index = cls(model_id, dim, params)
            index.rebuild_async(source, on_done=on_rebuilt)
            return index, exc.reason

    # -- rebuild ----------------------------------------------------------------------
    def rebuild_async(
        self,
        source: RebuildSource,
        on_done: Callable[[VectorIndex, RebuildHandle], None] | None = None,
    ) -> RebuildHandle:
        """Replace the contents with ``source`` in a background thread (:mod:`.rebuild`).

        Until the new graph is swapped in, searches are exact over whatever has
        been loaded so far; adds and removes keep working and are replayed on
        the new graph. ``on_done`` runs in the rebuild thread, also on failure
        (check ``handle.error``). Raises UsageError while a rebuild runs.
        """
        with self._lock.write():
            if self.rebuilding:
                raise UsageError("the index is already being rebuilt")
            rebuild = Rebuild(self._lock, self.dim, self.params, self.model_id)
            self._rebuild = rebuild
            self._store = rebuild.store
            self._graph = None
        done = None if on_done is None else (lambda handle: on_done(self, handle))
        return rebuild.start(source, install=self._install_graph, on_done=done)

    def _install_graph(self, graph: Graph) -> None:
        """The rebuild's new graph takes over (write lock held)."""
        self._graph = graph

    def close(self, timeout: float | None = 10.0) -> None:
        """Stop a running rebuild (the app is quitting)."""
        rebuild = self._rebuild
        if rebuild is not None and not rebuild.handle.done:
            rebuild.handle.cancel()
            if rebuild.handle.thread is not None:
                rebuild.handle.thread.join(timeout)

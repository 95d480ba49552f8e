"""The vector index: one per model, keyed by catalog photo ids.

Two search paths over the same vectors:

* **HNSW** (hnswlib, inner product on L2-normalised float32 vectors, so the
  score is the cosine similarity) for large collections;
* **exact** numpy search over a contiguous float32 matrix, for small
  collections, for filtered searches whose allowed subset is small, and while
  the HNSW graph is being (re)built in the background.

The switch-over points below are measured by ``benchmarks/bench_index.py``.

The on-disk HNSW file is a *derived cache* (DESIGN.md): it is written
atomically (temp file, fsync, rename, fsync of the directory) under a name
that is unique per save, and a manifest written the same way *after* it names
the file with its size and SHA-256. Loading checks the manifest (format, model
id, dimension, catalog generation, file sizes, checksums) before hnswlib ever
sees the file, because ``hnswlib.Index.load_index`` accepts truncated or
mismatched files and can then crash the process. Any disagreement raises
:class:`IndexStale`; :meth:`VectorIndex.open` turns that into a background
rebuild from the catalog's embeddings while exact search serves.

hnswlib is not safe for concurrent add and query, so every index carries a
readers-writer lock: many searches at once, adds/deletes exclusive. A save
excludes writers but not readers, so searches keep running while the file is
written.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import re
import secrets
import threading
from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import hnswlib
import numpy as np

from clipdesk.core.errors import ClipDeskError, UsageError
from clipdesk.core.fsutil import atomic_path, atomic_write, unlink_quietly
from clipdesk.core.vectors import BadRows, unit_rows

log = logging.getLogger(__name__)

#: Bumped whenever the manifest or the set of files it describes changes meaning.
FORMAT_VERSION = 1

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
#: Graph breadth to ask for text queries (``search(..., ef=TEXT_QUERY_EF)``).
#: Text embeddings sit far from every photo, where a graph search is weakest:
#: on the benchmark's synthetic text queries recall@100 at ef=160 is 0.87 at
#: 100k and 0.50 at 1M; ef=800 gives 0.99 at 100k (p95 5.9 ms) and 0.84 at
#: 1M (p95 5.3 ms), ef=1600 0.93 at 1M (p95 9 ms). Image queries need no
#: more than the default (0.97 at 1M with ef=160, p95 1.4 ms).
TEXT_QUERY_EF = 800

#: The id -> row lookup is a dense array while the largest id stays below
#: this many ids per stored row plus a constant (at most ~20 MB at 1M rows).
_DENSE_IDS_PER_ROW = 4
_DENSE_IDS_MIN = 1 << 20
#: Manifest files larger than this are not ours.
_MANIFEST_MAX_BYTES = 1 << 20
_HASH_CHUNK = 1 << 22
#: Rows copied per lock hold while a rebuild feeds the new graph.
_REBUILD_CHUNK = 2048
#: Dead rows tolerated in the exact-search matrix before it is compacted.
_COMPACT_MIN_DEAD = 4096


# --------------------------------------------------------------------------- errors


class IndexStale(ClipDeskError):
    """The index on disk cannot be used (missing, stale, corrupt, other model).

    Never fatal: the index is rebuilt from the catalog. ``reason`` is a short
    sentence for the log and the status bar.
    """

    def __init__(self, reason: str):
        super().__init__(f"The search index must be rebuilt: {reason}")
        self.reason = reason


class InvalidVector(UsageError):
    """Vectors that cannot be indexed or searched (NaN, inf, zero, wrong shape)."""

    def __init__(self, message: str, bad_ids: Collection[int] = ()):
        super().__init__(message)
        self.bad_ids = tuple(int(i) for i in bad_ids)


class IndexIOError(ClipDeskError):
    """The index could not be written (disk full, permissions...)."""


# --------------------------------------------------------------------------- params


@dataclass(frozen=True)
class HnswParams:
    """Graph parameters. ``ef_search`` is the floor; hnswlib uses max(ef, k)."""

    M: int = 16
    ef_construction: int = 200
    #: Measured: recall@100 >= 0.95 at 1M clustered vectors with p95 < 5 ms.
    ef_search: int = 160
    #: Threads hnswlib uses to insert; None means all cores.
    num_threads: int | None = None
    seed: int = 100

    def threads(self) -> int:
        return self.num_threads or os.cpu_count() or 1


# --------------------------------------------------------------------------- RW lock


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


# --------------------------------------------------------------------------- vectors


def _as_ids(ids: Iterable[int] | np.ndarray) -> np.ndarray:
    arr = np.asarray(ids if isinstance(ids, np.ndarray) else list(ids))
    if arr.size == 0:
        return np.zeros(0, dtype=np.int64)
    if arr.ndim != 1 or not np.issubdtype(arr.dtype, np.integer):
        raise InvalidVector(f"photo ids must be a flat list of integers, got {arr.dtype}{list(arr.shape)}")
    if (arr < 0).any():
        raise InvalidVector("photo ids must not be negative", bad_ids=arr[arr < 0][:20])
    return arr.astype(np.int64, copy=False)


def normalise_rows(vectors: np.ndarray, dim: int, ids: np.ndarray | None = None) -> np.ndarray:
    """float32 copy of ``vectors`` [N, dim] with unit rows (:func:`clipdesk.core.vectors.unit_rows`);
    NaN, inf and zero rows raise :class:`InvalidVector` naming their photo ids."""
    try:
        return unit_rows(vectors, dim)
    except BadRows as exc:
        if not exc.rows:
            raise InvalidVector(f"{exc} (vectors of dimension {dim} expected)") from None
        which = ids[exc.rows].tolist() if ids is not None else exc.rows
        label = "photo ids" if ids is not None else "rows"
        raise InvalidVector(
            f"{len(exc.rows)} vector(s) are NaN, infinite or zero and cannot be indexed ({label} {which[:10]})",
            bad_ids=which if ids is not None else (),
        ) from None


def _dedupe_last(ids: np.ndarray, vecs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Keep the last vector given for each id (an upsert batch may repeat ids)."""
    if len(ids) < 2:
        return ids, vecs
    rev_ids = ids[::-1]
    uniq, first_in_rev = np.unique(rev_ids, return_index=True)
    if len(uniq) == len(ids):
        return ids, vecs
    keep = np.sort(len(ids) - 1 - first_in_rev)
    return ids[keep], vecs[keep]


def _dot(matrix: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Row-wise inner products on the calling thread.

    Not ``matrix @ query``: OpenBLAS runs gemv on its thread pool, and on a
    busy machine (the pipeline's ONNX threads, other apps) waking that pool
    costs 4-16 ms per call, so a 1k-row search took 16 ms at p50. einsum stays
    on this thread: 0.2 ms at 1k rows, 2.4 ms at 10k (measured, 2 loaded cores).
    """
    return np.einsum("ij,j->i", matrix, query)


class _VectorStore:
    """Contiguous float32 matrix + id array, grown amortised, deletes as tombstones.

    Used for exact and filtered search and to feed rebuilds. Not thread-safe by
    itself: the owning index's lock guards it; only the lazy id -> row lookup
    has its own mutex because readers build it.

    The lookup is a dense array indexed by id when ids are dense enough
    (catalog rowids are), else a sorted copy searched with searchsorted.
    Measured at 1M: mapping a 10k-id filter to rows took 6 ms with
    searchsorted (cache misses), well under 1 ms with the dense array.
    """

    def __init__(self, dim: int, capacity: int = 1024) -> None:
        self.dim = dim
        self.vecs = np.zeros((capacity, dim), dtype=np.float32)
        self.ids = np.zeros(capacity, dtype=np.int64)
        self.live = np.zeros(capacity, dtype=bool)
        self.n = 0
        self.n_live = 0
        self._dense: np.ndarray | None = np.zeros(0, dtype=np.int32)
        self._sorted_ids = np.zeros(0, dtype=np.int64)
        self._sorted_rows = np.zeros(0, dtype=np.int64)
        self._lookup_valid = True
        self._lookup_lock = threading.Lock()

    @classmethod
    def adopt(cls, ids: np.ndarray, vecs: np.ndarray) -> "_VectorStore":
        """A store over existing arrays (unique ids, unit rows), without copying them."""
        store = cls(vecs.shape[1], capacity=0)
        store.vecs, store.ids = vecs, ids
        store.live = np.ones(len(ids), dtype=bool)
        store.n = store.n_live = len(ids)
        store._lookup_valid = False
        return store

    # -- lookup -----------------------------------------------------------------
    def _dense_ok(self, max_id: int) -> bool:
        return max_id < _DENSE_IDS_PER_ROW * self.n + _DENSE_IDS_MIN

    def _ensure_lookup(self) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
        with self._lookup_lock:
            if not self._lookup_valid:
                ids = self.ids[: self.n]
                max_id = int(ids.max()) if self.n else -1
                if self._dense_ok(max_id):
                    dense = np.full(max_id + 1, -1, dtype=np.int32)
                    dense[ids] = np.arange(self.n, dtype=np.int32)
                    self._dense = dense
                else:
                    order = np.argsort(ids, kind="stable")
                    self._dense = None
                    self._sorted_ids = ids[order]
                    self._sorted_rows = order.astype(np.int64)
                self._lookup_valid = True
            return self._dense, self._sorted_ids, self._sorted_rows

    def rows_of(self, ids: np.ndarray) -> np.ndarray:
        """Row of each id, -1 where unknown (dead rows are still found)."""
        dense, sorted_ids, sorted_rows = self._ensure_lookup()
        if dense is not None:
            out = np.full(len(ids), -1, dtype=np.int64)
            inside = ids < len(dense)
            out[inside] = dense[ids[inside]]
            return out
        if len(sorted_ids) == 0 or len(ids) == 0:
            return np.full(len(ids), -1, dtype=np.int64)
        pos = np.searchsorted(sorted_ids, ids)
        pos_c = np.minimum(pos, len(sorted_ids) - 1)
        found = sorted_ids[pos_c] == ids
        return np.where(found, sorted_rows[pos_c], -1)

    def live_rows_of(self, ids: np.ndarray) -> np.ndarray:
        """Sorted, unique live rows of ``ids`` (unknown ids ignored)."""
        rows = self.rows_of(ids)
        rows = rows[rows >= 0]
        rows = rows[self.live[rows]]
        if len(rows) > self.n // 256:  # a mask beats np.unique beyond ~0.4% of the rows
            mask = np.zeros(self.n, dtype=bool)
            mask[rows] = True
            return np.flatnonzero(mask)
        return np.unique(rows)

    def _note_appended(self, new_ids: np.ndarray, start: int) -> None:
        """Keep the lookup valid after rows [start, start + len) were appended."""
        k = len(new_ids)
        with self._lookup_lock:
            if not self._lookup_valid:
                return
            new_max = int(new_ids.max())
            if self._dense is not None:
                if not self._dense_ok(new_max):
                    self._lookup_valid = False
                    return
                if new_max >= len(self._dense):
                    size = max(new_max + 1, len(self._dense) + len(self._dense) // 4 + 1024)
                    grown = np.full(size, -1, dtype=np.int32)
                    grown[: len(self._dense)] = self._dense
                    self._dense = grown
                self._dense[new_ids] = np.arange(start, start + k, dtype=np.int32)
            elif (len(self._sorted_ids) == 0 or new_ids.min() > self._sorted_ids[-1]) and bool(
                (np.diff(new_ids) > 0).all()
            ):
                self._sorted_ids = np.concatenate([self._sorted_ids, new_ids])
                self._sorted_rows = np.concatenate([self._sorted_rows, np.arange(start, start + k, dtype=np.int64)])
            else:
                self._lookup_valid = False

    # -- mutation -----------------------------------------------------------------
    def _grow(self, need: int) -> None:
        cap = len(self.ids)
        if need <= cap:
            return
        # 1.25x: amortised O(1) still, and at 1M x 512 a step costs 2.5 GB, not 3.
        new_cap = max(need, cap + cap // 4 + 1024)
        vecs = np.zeros((new_cap, self.dim), dtype=np.float32)
        vecs[: self.n] = self.vecs[: self.n]
        ids = np.zeros(new_cap, dtype=np.int64)
        ids[: self.n] = self.ids[: self.n]
        live = np.zeros(new_cap, dtype=bool)
        live[: self.n] = self.live[: self.n]
        self.vecs, self.ids, self.live = vecs, ids, live

    def upsert(self, ids: np.ndarray, vecs: np.ndarray) -> None:
        rows = self.rows_of(ids)
        old = rows >= 0
        if old.any():
            r = rows[old]
            self.n_live += int((~self.live[r]).sum())
            self.vecs[r] = vecs[old]
            self.live[r] = True
        new = ~old
        k = int(new.sum())
        if k:
            self._grow(self.n + k)
            start = self.n
            new_ids = ids[new]
            self.vecs[start : start + k] = vecs[new]
            self.ids[start : start + k] = new_ids
            self.live[start : start + k] = True
            self.n += k
            self.n_live += k
            self._note_appended(new_ids, start)

    def delete(self, ids: np.ndarray) -> np.ndarray:
        """Mark rows dead; returns the ids that were live."""
        rows = self.rows_of(ids)
        rows = rows[rows >= 0]
        rows = np.unique(rows[self.live[rows]])
        self.live[rows] = False
        self.n_live -= len(rows)
        return self.ids[rows]

    def compact_if_sparse(self) -> None:
        dead = self.n - self.n_live
        if dead < max(_COMPACT_MIN_DEAD, self.n // 4):
            return
        keep = np.flatnonzero(self.live[: self.n])
        m = len(keep)
        self.vecs[:m] = self.vecs[keep]
        self.ids[:m] = self.ids[keep]
        self.live[:m] = True
        self.live[m : self.n] = False
        self.n = m
        with self._lookup_lock:
            self._lookup_valid = False

    def clear(self) -> None:
        self.__init__(self.dim)  # type: ignore[misc]

    # -- reading ------------------------------------------------------------------
    def live_ids(self) -> np.ndarray:
        return self.ids[: self.n][self.live[: self.n]].copy()

    def top_k(self, query: np.ndarray, k: int, rows: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Exact top-k by inner product over all live rows, or over ``rows`` (all live)."""
        if rows is None:
            scores = _dot(self.vecs[: self.n], query)
            if self.n_live != self.n:
                scores[~self.live[: self.n]] = -np.inf
            cand_ids = self.ids[: self.n]
            avail = self.n_live
        else:
            scores = _dot(self.vecs[rows], query)
            cand_ids = self.ids[rows]
            avail = len(rows)
        k = min(k, avail)
        if k <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        if k < len(scores):
            part = np.argpartition(-scores, k - 1)[:k]
        else:
            part = np.arange(len(scores))
        order = part[np.argsort(-scores[part], kind="stable")]
        return cand_ids[order].copy(), scores[order].astype(np.float32, copy=False)


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class SearchHits:
    """Best first. ``scores`` are cosine similarities in [-1, 1]."""

    ids: np.ndarray
    scores: np.ndarray
    #: "exact", "exact-subset", "hnsw" or "hnsw-filtered": which path answered.
    method: str

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(frozen=True)
class Manifest:
    format_version: int
    model_id: str
    dim: int
    count: int
    element_count: int
    generation: int | str | None
    index_file: str
    index_size: int
    index_sha256: str
    hnsw: dict = field(default_factory=dict)


#: A rebuild source: called in the rebuild thread (so it can open its own
#: SQLite connection) and yields (ids int64 [N], vectors float32 [N, dim]).
RebuildSource = Callable[[], Iterable[tuple[np.ndarray, np.ndarray]]]


class RebuildHandle:
    """A background rebuild. ``wait()`` returns True when it finished cleanly."""

    def __init__(self) -> None:
        self._done = threading.Event()
        self._cancel = threading.Event()
        self.error: BaseException | None = None
        self.loaded = 0
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


# --------------------------------------------------------------------------- the index


def file_stem(model_id: str) -> str:
    """A file-system-safe, collision-free name for a model's index files."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", model_id).strip("._")[:60] or "model"
    digest = hashlib.sha256(model_id.encode("utf-8")).hexdigest()[:10]
    return f"{safe}-{digest}"


class VectorIndex:
    """The vectors of one model, searchable by cosine similarity.

    ``add`` is an upsert (re-adding a deleted id brings it back with the new
    vector), ``remove`` ignores unknown ids, ``search`` clamps k to what is
    there. All methods are thread-safe.
    """

    def __init__(
        self, model_id: str, dim: int, params: HnswParams | None = None, *, capacity: int = 1024
    ) -> None:
        """``capacity``: vectors to make room for up front (both grow as needed)."""
        if dim <= 0:
            raise UsageError(f"index dimension must be positive, got {dim}")
        self.model_id = model_id
        self.dim = int(dim)
        self.params = params or HnswParams()
        self._lock = RWLock()
        self._save_lock = threading.Lock()
        self._store = _VectorStore(self.dim, capacity=max(capacity, 16))
        self._hnsw: hnswlib.Index | None = self._new_hnsw(capacity)
        #: While a rebuild runs: ops applied since it began, replayed on the new graph.
        self._journal: list[tuple[str, np.ndarray, np.ndarray | None]] | None = None
        self._rebuild: RebuildHandle | None = None

    # -- construction helpers -------------------------------------------------------
    def _new_hnsw(self, capacity: int) -> hnswlib.Index:
        h = hnswlib.Index(space="ip", dim=self.dim)
        h.init_index(
            max_elements=max(int(capacity), 16),
            M=self.params.M,
            ef_construction=self.params.ef_construction,
            random_seed=self.params.seed,
            allow_replace_deleted=True,
        )
        h.set_ef(self.params.ef_search)
        h.set_num_threads(self.params.threads())
        return h

    # -- introspection --------------------------------------------------------------
    def __len__(self) -> int:
        return self._store.n_live

    def __contains__(self, photo_id: object) -> bool:
        if not isinstance(photo_id, (int, np.integer)) or photo_id < 0:
            return False
        with self._lock.read():
            rows = self._store.rows_of(np.array([photo_id], dtype=np.int64))
            return bool(rows[0] >= 0 and self._store.live[rows[0]])

    @property
    def rebuilding(self) -> bool:
        """True while a background rebuild runs (searches are exact meanwhile)."""
        return self._rebuild is not None and not self._rebuild.done

    def ids(self) -> np.ndarray:
        with self._lock.read():
            return self._store.live_ids()

    def vectors(self, ids: Iterable[int]) -> tuple[np.ndarray, np.ndarray]:
        """(found ids, their unit vectors); ids not in the index are left out."""
        arr = _as_ids(ids)
        with self._lock.read():
            rows = self._store.rows_of(arr)
            ok = rows >= 0
            ok[ok] = self._store.live[rows[ok]]
            return arr[ok].copy(), self._store.vecs[rows[ok]].copy()

    # -- mutation ----------------------------------------------------------------------
    def add(self, ids: Iterable[int], vectors: np.ndarray) -> None:
        """Insert or replace vectors. Raises :class:`InvalidVector` for the whole batch."""
        arr = _as_ids(ids)
        vecs = normalise_rows(vectors, self.dim, ids=arr) if len(arr) else np.zeros((0, self.dim), np.float32)
        if len(vecs) != len(arr):
            raise InvalidVector(f"{len(arr)} ids but {len(vecs)} vectors")
        if not len(arr):
            return
        arr, vecs = _dedupe_last(arr, vecs)
        with self._lock.write():
            rows = self._store.rows_of(arr)
            was_live = rows >= 0
            was_live[was_live] = self._store.live[rows[was_live]]
            self._store.upsert(arr, vecs)
            if self._hnsw is not None:
                self._hnsw_upsert(self._hnsw, arr, vecs, was_live)
            if self._journal is not None:
                self._journal.append(("add", arr, vecs))

    def remove(self, ids: Iterable[int]) -> int:
        """Delete ids; returns how many were present."""
        arr = _as_ids(ids)
        if not len(arr):
            return 0
        with self._lock.write():
            gone = self._store.delete(arr)
            if self._hnsw is not None:
                self._hnsw_delete(self._hnsw, gone)
            if self._journal is not None:
                self._journal.append(("del", arr, None))
            elif self._hnsw is not None:
                self._store.compact_if_sparse()
            return len(gone)

    def _hnsw_upsert(self, h: hnswlib.Index, ids: np.ndarray, vecs: np.ndarray, live: np.ndarray | None = None) -> None:
        """Add to a graph built with allow_replace_deleted.

        hnswlib refuses to update a deleted label when slot replacement is on,
        and giving a label that is still live a replaced slot would list it
        twice. So: labels known to be live (``live`` mask, from the store) are
        updated in place; the others are unmarked if hnswlib still holds them
        deleted (then updated), checked for presence when no mask is given,
        and only truly new labels may take the slot of a deleted element.
        """
        existing = np.zeros(len(ids), dtype=bool) if live is None else live.copy()
        for i, label in enumerate(ids.tolist()):
            if existing[i]:
                continue
            try:
                h.unmark_deleted(label)
                existing[i] = True
                continue
            except RuntimeError:
                pass  # not deleted: new, or (without a mask) possibly live
            if live is None:
                try:
                    h.get_items([label])
                    existing[i] = True
                except RuntimeError:
                    pass
        new = ~existing
        n_new = int(new.sum())
        needed = h.get_current_count() + n_new
        if needed > h.get_max_elements():
            h.resize_index(max(needed, h.get_max_elements() + h.get_max_elements() // 4 + 1024))
        threads = self.params.threads()
        if existing.any():
            h.add_items(vecs[existing], ids[existing], num_threads=threads)
        if n_new:
            h.add_items(vecs[new], ids[new], num_threads=threads, replace_deleted=True)

    @staticmethod
    def _hnsw_delete(h: hnswlib.Index, ids: np.ndarray) -> None:
        for label in ids.tolist():
            try:
                h.mark_deleted(label)
            except RuntimeError:
                pass  # unknown or already deleted

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
        """Top ``k`` ids by cosine similarity to ``query``, best first.

        ``allowed`` restricts the answer to those ids (a filter from the
        catalog: folder, date, tag...). ``k`` is clamped to what is there.
        ``ef``: search breadth of the graph for this query (default
        ``params.ef_search``; never less than k). Text queries sit far from
        every photo (the modality gap) and need more: see :data:`TEXT_QUERY_EF`.
        ``method`` is "auto" (the measured switch-over points), or "exact" /
        "hnsw" to force a path (benchmarks and tests); "hnsw" still answers
        exactly while a rebuild runs or when the graph cannot return k.
        """
        if method not in ("auto", "exact", "hnsw"):
            raise UsageError(f"unknown search method {method!r}")
        q = normalise_rows(query, self.dim)[0]
        if k <= 0:
            return SearchHits(np.zeros(0, np.int64), np.zeros(0, np.float32), "exact")
        breadth = max(int(ef or 0), self.params.ef_search)
        with self._lock.read():
            store = self._store
            if allowed is not None:
                return self._filtered(q, k, _as_ids(allowed), method, breadth)
            use_exact = store.n_live <= EXACT_SEARCH_MAX if method == "auto" else method == "exact"
            if not use_exact and self._hnsw is not None and store.n_live:
                hits = self._hnsw_search(q, min(k, store.n_live), breadth)
                if hits is not None:
                    return hits
            ids, scores = store.top_k(q, k)
            return SearchHits(ids, scores, "exact")

    def _filtered(self, q: np.ndarray, k: int, allowed: np.ndarray, method: str, breadth: int) -> SearchHits:
        """Filtered search (read lock held).

        Measured at 1M (see FILTER_EXACT_MAX): exact over the subset is best up
        to a few percent of the library and keeps perfect recall beyond; a
        filter keeping a large share is answered by an unfiltered graph search
        for max(k * POSTFILTER_OVERSAMPLE, breadth) / share results, the others
        dropped.
        hnswlib's filter callable is slower than both (it calls Python for
        every candidate and visits ~1/share times more nodes) and is used only
        when "hnsw" is forced on a small share.
        """
        store = self._store
        rows = store.live_rows_of(allowed)
        if not len(rows):
            return SearchHits(np.zeros(0, np.int64), np.zeros(0, np.float32), "exact-subset")
        k = min(k, len(rows))
        share = len(rows) / max(store.n_live, 1)
        if method == "auto":
            graph = len(rows) > FILTER_EXACT_MAX and share >= POSTFILTER_MIN_SHARE
        else:
            graph = method == "hnsw"
        if graph and self._hnsw is not None:
            if share >= POSTFILTER_MIN_SHARE:
                # The allowed photos among the results should number about
                # max(2k, breadth): a wide query (text) stays wide under a filter.
                wanted = min(store.n_live, math.ceil(max(k * POSTFILTER_OVERSAMPLE, breadth) / share))
                hits = self._hnsw_search(q, wanted, wanted)
                if hits is not None:
                    hit_rows = store.rows_of(hits.ids)
                    pos = np.minimum(np.searchsorted(rows, hit_rows), len(rows) - 1)
                    keep = np.flatnonzero(rows[pos] == hit_rows)[:k]
                    if len(keep) == k:
                        return SearchHits(hits.ids[keep], hits.scores[keep], "hnsw-postfilter")
            else:
                hits = self._hnsw_search(q, k, breadth, set(store.ids[rows].tolist()))
                if hits is not None:
                    return hits
        ids, scores = store.top_k(q, k, rows)
        return SearchHits(ids, scores, "exact-subset")

    def _hnsw_search(self, q: np.ndarray, k: int, breadth: int, allowed: set[int] | None = None) -> SearchHits | None:
        """Graph search for k results with at least ``breadth`` candidates.

        hnswlib searches with max(ef, k), so asking for max(k, breadth)
        results and keeping the first k gives this query its own breadth
        without touching the index-wide ef that other threads use.
        """
        assert self._hnsw is not None
        asked = min(max(k, breadth), self._store.n_live if allowed is None else len(allowed))
        try:
            if allowed is None:
                labels, dist = self._hnsw.knn_query(q, k=asked, num_threads=1)
            else:
                labels, dist = self._hnsw.knn_query(q, k=asked, num_threads=1, filter=allowed.__contains__)
        except RuntimeError:
            # Fewer than asked reachable (a tight filter or many deletions): exact answers.
            return None
        return SearchHits(
            labels[0, :k].astype(np.int64),
            (1.0 - dist[0, :k]).astype(np.float32),
            "hnsw" if allowed is None else "hnsw-filtered",
        )

    def sample_scores(self, query: np.ndarray, n: int = 2048, seed: int = 0) -> np.ndarray:
        """Scores of up to ``n`` random live photos: the library's score distribution
        for this query, which :func:`clipdesk.core.query.relevance_cut` uses as
        its background."""
        q = normalise_rows(query, self.dim)[0]
        with self._lock.read():
            store = self._store
            if store.n_live <= n:
                rows = np.flatnonzero(store.live[: store.n])
            else:
                rng = np.random.default_rng(seed)
                rows = rng.integers(0, store.n, size=int(n * 1.2) + 16)
                rows = rows[store.live[rows]][:n]
            return _dot(store.vecs[rows], q)

    # -- persistence ----------------------------------------------------------------------
    def save(self, directory: Path, generation: int | str | None = None) -> Manifest:
        """Write the index atomically; returns the manifest written.

        Refused while a rebuild runs (the graph is not complete yet).
        """
        directory = Path(directory)
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise IndexIOError(f"could not create {directory}: {exc.strerror or exc}") from exc
        stem = file_stem(self.model_id)
        index_name = f"{stem}.{secrets.token_hex(6)}.hnsw"
        with self._save_lock:
            try:
                with atomic_path(directory / index_name) as tmp:
                    with self._lock.read(long=True):
                        if self._hnsw is None:
                            raise IndexIOError("the index is being rebuilt; save it when the rebuild is done")
                        self._hnsw.save_index(str(tmp))
                        count = self._store.n_live
                        element_count = int(self._hnsw.element_count)
                    index_size, index_sha = _size_and_hash(tmp)
                manifest = Manifest(
                    format_version=FORMAT_VERSION,
                    model_id=self.model_id,
                    dim=self.dim,
                    count=count,
                    element_count=element_count,
                    generation=generation,
                    index_file=index_name,
                    index_size=index_size,
                    index_sha256=index_sha,
                    hnsw={
                        "space": "ip",
                        "M": self.params.M,
                        "ef_construction": self.params.ef_construction,
                        "ef_search": self.params.ef_search,
                    },
                )
                atomic_write(
                    directory / f"{stem}.manifest.json",
                    json.dumps(asdict(manifest), indent=1, sort_keys=True).encode("utf-8"),
                )
            except OSError as exc:
                unlink_quietly(directory / index_name)
                raise IndexIOError(f"could not write the search index to {directory}: {exc}") from exc
            _remove_unreferenced(directory, stem, keep={index_name})
        log.info("saved index %s: %d vectors, generation %s", self.model_id, count, generation)
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
    ) -> "VectorIndex":
        """Load a saved index after checking everything the manifest promises.

        Raises :class:`IndexStale` with the reason when anything disagrees;
        hnswlib only reads a file whose size and SHA-256 match the manifest.
        """
        directory = Path(directory)
        manifest = read_manifest(directory, model_id)
        if manifest.model_id != model_id:
            raise IndexStale(f"the index belongs to model {manifest.model_id!r}, not {model_id!r}")
        if manifest.dim != dim:
            raise IndexStale(f"the index has dimension {manifest.dim}, the model has {dim}")
        if check_generation and manifest.generation != generation:
            raise IndexStale(
                f"the index was saved at catalog generation {manifest.generation}, the catalog is at {generation}"
            )
        index_path = directory / manifest.index_file
        _verify_file(index_path, manifest.index_size, manifest.index_sha256)

        # Our own reading of the header and vectors first: it refuses a file whose
        # layout disagrees with the dimension before hnswlib trusts that layout.
        live_ids, vecs = _read_level0(index_path, dim, manifest.element_count)
        if len(live_ids) != manifest.count:
            raise IndexStale(f"the index holds {len(live_ids)} live vectors, the manifest says {manifest.count}")

        index = cls(model_id, dim, params)
        h = hnswlib.Index(space="ip", dim=dim)
        try:
            h.load_index(str(index_path), max_elements=0, allow_replace_deleted=True)
        except (RuntimeError, ValueError, MemoryError) as exc:
            raise IndexStale(f"hnswlib could not read the index ({exc})") from exc
        if h.element_count != manifest.element_count or h.dim != dim:
            raise IndexStale("the index file does not match its manifest")
        h.set_ef(index.params.ef_search)
        h.set_num_threads(index.params.threads())
        _spot_check(h, live_ids, vecs)
        index._hnsw = h
        index._store = _VectorStore.adopt(live_ids, vecs)
        log.info("loaded index %s: %d vectors", model_id, len(live_ids))
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
        on_rebuilt: Callable[["VectorIndex", RebuildHandle], None] | None = None,
    ) -> tuple["VectorIndex", str | None]:
        """Load the saved index, or start rebuilding it from ``source``.

        Returns (index, stale reason or None). When stale, the index is
        returned at once, empty and ``rebuilding``; exact search serves the
        vectors as they are loaded, and ``on_rebuilt`` is called from the
        rebuild thread once the fresh graph is in place (save it there).
        """
        try:
            return cls.load(directory, model_id, dim, generation=generation, params=params), None
        except IndexStale as exc:
            log.warning("index %s: %s; rebuilding from the catalog", model_id, exc.reason)
            index = cls(model_id, dim, params)
            index.rebuild_async(source, on_done=on_rebuilt)
            return index, exc.reason

    # -- rebuild ----------------------------------------------------------------------
    def rebuild_async(
        self,
        source: RebuildSource,
        on_done: Callable[["VectorIndex", RebuildHandle], None] | None = None,
    ) -> RebuildHandle:
        """Replace the contents with ``source`` in a background thread.

        Until the new graph is swapped in, searches are exact over whatever has
        been loaded so far; adds and removes keep working and are replayed on
        the new graph. ``on_done`` runs in the rebuild thread, also on failure
        (check ``handle.error``).
        """
        with self._lock.write():
            if self.rebuilding:
                raise UsageError("the index is already being rebuilt")
            handle = RebuildHandle()
            self._rebuild = handle
            self._journal = []
            self._hnsw = None
            self._store = _VectorStore(self.dim)
        thread = threading.Thread(
            target=self._rebuild_main, args=(source, handle, on_done), name=f"index-rebuild-{self.model_id}", daemon=True
        )
        handle.thread = thread
        thread.start()
        return handle

    def _rebuild_main(self, source: RebuildSource, handle: RebuildHandle, on_done) -> None:
        try:
            self._rebuild_load(source, handle)
            new, tail = self._rebuild_graph(handle)
            self._rebuild_swap(new, tail, handle)
            log.info("index %s rebuilt: %d vectors", self.model_id, len(self))
        except _Cancelled:
            log.info("index %s rebuild cancelled", self.model_id)
            with self._lock.write():
                self._journal = None
        except BaseException as exc:  # reported through the handle, never lost
            handle.error = exc
            log.exception("index %s rebuild failed", self.model_id)
            with self._lock.write():
                self._journal = None
        finally:
            handle._done.set()
            if on_done is not None:
                try:
                    on_done(self, handle)
                except Exception:
                    log.exception("index %s: rebuild callback failed", self.model_id)

    def _rebuild_load(self, source: RebuildSource, handle: RebuildHandle) -> None:
        for batch_ids, batch_vecs in source():
            if handle.cancelled:
                raise _Cancelled
            arr = _as_ids(batch_ids)
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
                handle.skipped_ids.extend(int(i) for i in arr[bad])
                log.warning("index %s: skipping %d bad vectors while rebuilding", self.model_id, int(bad.sum()))
                arr = arr[~bad]
                vecs = normalise_rows(raw[~bad], self.dim, ids=arr)
            arr, vecs = _dedupe_last(arr, vecs)
            with self._lock.write():
                self._store.upsert(arr, vecs)
                handle.loaded += len(arr)
        # Ops applied during the load may have been overwritten by older catalog rows.
        with self._lock.write():
            journal, self._journal = self._journal or [], []
            self._replay_on_store(journal)

    def _replay_on_store(self, journal) -> None:
        for op, ids, vecs in journal:
            if op == "add":
                self._store.upsert(ids, vecs)
            else:
                self._store.delete(ids)

    def _rebuild_graph(self, handle: RebuildHandle) -> tuple[hnswlib.Index, list]:
        with self._lock.read():
            n_rows = self._store.n
            capacity = int(self._store.n_live * 1.2) + 1024
        new = self._new_hnsw(capacity)
        threads = self.params.threads()
        for start in range(0, n_rows, _REBUILD_CHUNK):
            if handle.cancelled:
                raise _Cancelled
            with self._lock.read():
                stop = min(start + _REBUILD_CHUNK, n_rows)
                live = self._store.live[start:stop]
                ids = self._store.ids[start:stop][live].copy()
                vecs = self._store.vecs[start:stop][live].copy()
            if len(ids):
                if new.get_current_count() + len(ids) > new.get_max_elements():
                    new.resize_index(int(new.get_max_elements() * 1.5) + len(ids))
                new.add_items(vecs, ids, num_threads=threads)
        # Catch up with ops made while the graph was built, without blocking searches...
        while True:
            with self._lock.write():
                journal, self._journal = self._journal or [], []
            if len(journal) < 8:
                break
            self._replay_on_graph(new, journal)
        return new, journal

    def _replay_on_graph(self, h: hnswlib.Index, journal) -> None:
        for op, ids, vecs in journal:
            if op == "add":
                self._hnsw_upsert(h, ids, vecs)
            else:
                self._hnsw_delete(h, ids)

    def _rebuild_swap(self, new: hnswlib.Index, tail: list, handle: RebuildHandle) -> None:
        with self._lock.write():
            self._replay_on_graph(new, tail + (self._journal or []))
            if handle.cancelled:
                raise _Cancelled
            self._hnsw = new
            self._journal = None

    def close(self, timeout: float | None = 10.0) -> None:
        """Stop a running rebuild (the app is quitting)."""
        handle = self._rebuild
        if handle is not None and not handle.done:
            handle.cancel()
            if handle.thread is not None:
                handle.thread.join(timeout)

    @property
    def deleted_fraction(self) -> float:
        """Share of the graph's slots held by deleted vectors (slots are reused by new ids)."""
        with self._lock.read():
            h = self._hnsw
            if h is None or h.element_count == 0:
                return 0.0
            return 1.0 - self._store.n_live / h.element_count


# --------------------------------------------------------------------------- files


def manifest_path(directory: Path, model_id: str) -> Path:
    return Path(directory) / f"{file_stem(model_id)}.manifest.json"


def read_manifest(directory: Path, model_id: str) -> Manifest:
    """Parse and type-check the manifest; raises :class:`IndexStale`."""
    path = manifest_path(directory, model_id)
    try:
        with open(path, "rb") as f:
            raw = f.read(_MANIFEST_MAX_BYTES + 1)
    except FileNotFoundError:
        raise IndexStale("no saved index") from None
    except OSError as exc:
        raise IndexStale(f"the manifest is unreadable ({exc.strerror or exc})") from exc
    if len(raw) > _MANIFEST_MAX_BYTES:
        raise IndexStale("the manifest is too large to be ours")
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise IndexStale(f"the manifest is not valid JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise IndexStale("the manifest is not a JSON object")
    if data.get("format_version") != FORMAT_VERSION:
        raise IndexStale(f"the index format {data.get('format_version')!r} is not {FORMAT_VERSION}")
    types = {
        "model_id": str,
        "dim": int,
        "count": int,
        "element_count": int,
        "index_file": str,
        "index_size": int,
        "index_sha256": str,
        "hnsw": dict,
    }
    for key, typ in types.items():
        value = data.get(key)
        if not isinstance(value, typ) or isinstance(value, bool):
            raise IndexStale(f"the manifest field {key!r} is missing or malformed")
    gen = data.get("generation")
    if gen is not None and (not isinstance(gen, (int, str)) or isinstance(gen, bool)):
        raise IndexStale("the manifest field 'generation' is malformed")
    for key in ("index_file",):
        name = data[key]
        if not name or "/" in name or "\\" in name or name in (".", "..") or "\x00" in name:
            raise IndexStale(f"the manifest names an unsafe file {name!r}")
    try:
        return Manifest(**{k: data[k] if k != "generation" else gen for k in Manifest.__dataclass_fields__})
    except KeyError as exc:
        raise IndexStale(f"the manifest lacks {exc}") from exc


# hnswlib's saveIndex writes a fixed header (see hnswalg.h):
# offsetLevel0, max_elements, cur_element_count, size_data_per_element,
# label_offset, offsetData (size_t each), maxlevel (int), enterpoint (uint32),
# maxM, maxM0, M (size_t), mult (double), ef_construction (size_t); then the
# level-0 block: per element its link list (uint32 header whose third byte
# holds the deleted mark, then maxM0 uint32 links), the vector, the label.
_HNSW_HEADER = np.dtype(
    [
        ("offset_level0", "<u8"),
        ("max_elements", "<u8"),
        ("count", "<u8"),
        ("size_per_element", "<u8"),
        ("label_offset", "<u8"),
        ("offset_data", "<u8"),
        ("max_level", "<i4"),
        ("enterpoint", "<u4"),
        ("max_m", "<u8"),
        ("max_m0", "<u8"),
        ("m", "<u8"),
        ("mult", "<f8"),
        ("ef_construction", "<u8"),
    ]
)
_DELETE_MARK_BYTE = 2
_LOAD_CHUNK = 65536


def _read_level0(path: Path, dim: int, element_count: int) -> tuple[np.ndarray, np.ndarray]:
    """(live labels, their vectors) read straight from a saved hnswlib file.

    ``hnswlib.Index.get_items`` goes through Python lists of floats (10 s for
    30k vectors); reading the level-0 block with numpy takes well under a
    second at 1M. The layout is checked against the header and the result is
    spot-checked against ``get_items`` by the caller.
    """
    try:
        header = np.fromfile(path, dtype=_HNSW_HEADER, count=1)
    except (OSError, ValueError) as exc:
        raise IndexStale(f"the index header is unreadable ({exc})") from exc
    if len(header) != 1:
        raise IndexStale("the index file is too short")
    hd = header[0]
    per = int(hd["size_per_element"])
    off_data = int(hd["offset_data"])
    off_label = int(hd["label_offset"])
    count = int(hd["count"])
    max_m0 = int(hd["max_m0"])
    if (
        count != element_count
        or count > int(hd["max_elements"])
        or not 0 < max_m0 <= 4096
        or off_data != 4 + 4 * max_m0
        or off_label - off_data != 4 * dim
        or per != off_label + 8
        or int(hd["offset_level0"]) != 0
        or _HNSW_HEADER.itemsize + count * per > path.stat().st_size
    ):
        raise IndexStale("the index file's layout is not the one this version of ClipDesk reads")
    if count == 0:
        return np.zeros(0, np.int64), np.zeros((0, dim), np.float32)
    block = np.memmap(path, dtype=np.uint8, mode="r", offset=_HNSW_HEADER.itemsize, shape=(count, per))
    try:
        live = (block[:, _DELETE_MARK_BYTE] & 1) == 0
        labels = np.ascontiguousarray(block[:, off_label : off_label + 8]).view("<u8")[:, 0]
        live_rows = np.flatnonzero(live)
        vecs = np.empty((len(live_rows), dim), dtype=np.float32)
        for start in range(0, len(live_rows), _LOAD_CHUNK):
            rows = live_rows[start : start + _LOAD_CHUNK]
            vecs[start : start + len(rows)] = (
                np.ascontiguousarray(block[rows, off_data:off_label]).view("<f4").reshape(len(rows), dim)
            )
        ids = labels[live_rows]
    finally:
        del block
    if (ids > np.iinfo(np.int64).max).any():
        raise IndexStale("the index holds labels that are not photo ids")
    ids = ids.astype(np.int64)
    if len(np.unique(ids)) != len(ids):
        raise IndexStale("the index lists a photo twice")
    if not np.isfinite(vecs).all():
        raise IndexStale("the index holds non-finite vectors")
    return ids, vecs


def _spot_check(h: hnswlib.Index, ids: np.ndarray, vecs: np.ndarray, samples: int = 16) -> None:
    """Compare a few vectors read by :func:`_read_level0` with hnswlib's own view."""
    if not len(ids):
        return
    rows = np.unique(np.linspace(0, len(ids) - 1, num=min(samples, len(ids))).astype(np.int64))
    try:
        theirs = np.asarray(h.get_items(ids[rows].tolist()), dtype=np.float32)
    except RuntimeError as exc:
        raise IndexStale(f"the index and its vectors disagree ({exc})") from exc
    if theirs.shape != vecs[rows].shape or not np.array_equal(theirs, vecs[rows]):
        raise IndexStale("the index file's layout is not the one this version of ClipDesk reads")


def _verify_file(path: Path, size: int, sha256: str) -> None:
    try:
        actual = path.stat().st_size
    except FileNotFoundError:
        raise IndexStale(f"{path.name} is missing") from None
    except OSError as exc:
        raise IndexStale(f"{path.name} is unreadable ({exc.strerror or exc})") from exc
    if actual != size:
        raise IndexStale(f"{path.name} has {actual} bytes, the manifest says {size} (truncated?)")
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            while chunk := f.read(_HASH_CHUNK):
                digest.update(chunk)
    except OSError as exc:
        raise IndexStale(f"{path.name} is unreadable ({exc.strerror or exc})") from exc
    if digest.hexdigest() != sha256:
        raise IndexStale(f"{path.name} does not match its checksum (damaged on disk?)")


def _size_and_hash(path: Path) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        while chunk := f.read(_HASH_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def _remove_unreferenced(directory: Path, stem: str, keep: set[str]) -> None:
    """Delete earlier saves and leftovers of interrupted ones (best effort)."""
    prefixes = (stem + ".", "." + stem + ".")
    try:
        names = os.listdir(directory)
    except OSError:
        return
    for name in names:
        if not name.startswith(prefixes) or name in keep or name == f"{stem}.manifest.json":
            continue
        if name.endswith((".hnsw", ".tmp")):
            unlink_quietly(directory / name)


__all__ = [
    "EXACT_SEARCH_MAX",
    "FILTER_EXACT_MAX",
    "POSTFILTER_MIN_SHARE",
    "TEXT_QUERY_EF",
    "HnswParams",
    "IndexIOError",
    "IndexStale",
    "InvalidVector",
    "Manifest",
    "RWLock",
    "RebuildHandle",
    "RebuildSource",
    "SearchHits",
    "VectorIndex",
    "file_stem",
    "normalise_rows",
    "read_manifest",
]

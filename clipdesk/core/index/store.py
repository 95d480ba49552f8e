"""The exact side of the index: every live vector in one float32 matrix.

Answers small collections, filtered searches over a small subset, and every
search while the graph is being rebuilt (:mod:`.vectorindex` decides which),
and it is what a rebuild feeds the new graph from. Also here: the checks
every id and vector passes on the way in.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Iterable

import numpy as np

from clipdesk.core.errors import UsageError
from clipdesk.core.vectors import BadRows, unit_rows

__all__ = ["InvalidVector", "VectorStore", "as_ids", "dedupe_last", "dot", "normalise_rows"]

#: The id -> row lookup is a dense array while the largest id stays below
#: this many ids per stored row plus a constant (at most ~20 MB at 1M rows).
_DENSE_IDS_PER_ROW = 4
_DENSE_IDS_MIN = 1 << 20
#: Dead rows tolerated in the matrix before it is compacted.
_COMPACT_MIN_DEAD = 4096


class InvalidVector(UsageError):
    """Vectors that cannot be indexed or searched (NaN, inf, zero, wrong shape).

    ``bad_ids``: the photo ids of the offending rows, when they are known.
    """

    def __init__(self, message: str, bad_ids: Collection[int] = ()):
        super().__init__(message)
        self.bad_ids = tuple(int(i) for i in bad_ids)


def as_ids(ids: Iterable[int] | np.ndarray) -> np.ndarray:
    """Photo ids as int64 [N]. Raises :class:`InvalidVector` for anything but a
    flat sequence of non-negative integers."""
    arr = np.asarray(ids if isinstance(ids, np.ndarray) else list(ids))
    if arr.size == 0:
        return np.zeros(0, dtype=np.int64)
    if arr.ndim != 1 or not np.issubdtype(arr.dtype, np.integer):
        raise InvalidVector(f"photo ids must be a flat list of integers, got {arr.dtype}{list(arr.shape)}")
    if (arr < 0).any():
        raise InvalidVector("photo ids must not be negative", bad_ids=arr[arr < 0][:20])
    return arr.astype(np.int64, copy=False)


def normalise_rows(vectors: np.ndarray, dim: int, ids: np.ndarray | None = None) -> np.ndarray:
    """float32 copy of ``vectors`` [N, dim] (or [dim]) with unit rows
    (:func:`clipdesk.core.vectors.unit_rows`).

    Raises :class:`InvalidVector` for another shape, or for NaN, infinite or
    zero rows, naming their photo ids (``ids`` [N]) or else their rows.
    """
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


def dedupe_last(ids: np.ndarray, vecs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Keep the last vector given for each id (an upsert batch may repeat ids)."""
    if len(ids) < 2:
        return ids, vecs
    rev_ids = ids[::-1]
    uniq, first_in_rev = np.unique(rev_ids, return_index=True)
    if len(uniq) == len(ids):
        return ids, vecs
    keep = np.sort(len(ids) - 1 - first_in_rev)
    return ids[keep], vecs[keep]


def dot(matrix: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Row-wise inner products [N] of ``matrix`` [N, D] and ``query`` [D], on
    the calling thread.

    Not ``matrix @ query``: OpenBLAS runs gemv on its thread pool, and on a
    busy machine (the pipeline's ONNX threads, other apps) waking that pool
    costs 4-16 ms per call, so a 1k-row search took 16 ms at p50. einsum stays
    on this thread: 0.2 ms at 1k rows, 2.4 ms at 10k (measured, 2 loaded cores).
    """
    return np.einsum("ij,j->i", matrix, query)


class VectorStore:
    """Contiguous float32 matrix + id array, grown amortised, deletes as tombstones.

    Rows are unit vectors (the caller normalises), so inner products are
    cosine similarities. Not thread-safe by itself: the owning index's lock
    guards it; only the lazy id -> row lookup has its own mutex because
    readers build it.

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
    def adopt(cls, ids: np.ndarray, vecs: np.ndarray) -> VectorStore:
        """A store over existing arrays (unique ids [N], unit rows [N, D]), without copying them."""
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
        """Row of each id (int64 [N]), -1 where unknown (dead rows are still found)."""
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

    def live_mask(self, ids: np.ndarray) -> np.ndarray:
        """bool [N]: which of ``ids`` are live here."""
        return self._live_at(self.rows_of(ids))

    def _live_at(self, rows: np.ndarray) -> np.ndarray:
        ok = rows >= 0
        ok[ok] = self.live[rows[ok]]
        return ok

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
        """Insert or replace: unique ids [N], unit rows [N, dim]."""
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
        """Drop dead rows once they are many (rows move: never while a rebuild reads them)."""
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

    # -- reading ------------------------------------------------------------------
    def live_ids(self) -> np.ndarray:
        """Copy of the live ids (int64), in row order."""
        return self.ids[: self.n][self.live[: self.n]].copy()

    def vectors(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(the live ones of ``ids`` [M], copies of their rows [M, dim])."""
        rows = self.rows_of(ids)
        ok = self._live_at(rows)
        return ids[ok].copy(), self.vecs[rows[ok]].copy()

    def sample_scores(self, query: np.ndarray, n: int, seed: int) -> np.ndarray:
        """Inner products of unit ``query`` [dim] with up to ``n`` random live rows."""
        if self.n_live <= n:
            rows = np.flatnonzero(self.live[: self.n])
        else:
            rng = np.random.default_rng(seed)
            rows = rng.integers(0, self.n, size=int(n * 1.2) + 16)
            rows = rows[self.live[rows]][:n]
        return dot(self.vecs[rows], query)

    def top_k(self, query: np.ndarray, k: int, rows: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Exact top-k by inner product with unit ``query`` [dim], over all live
        rows or over ``rows`` (all live): (ids int64 [<=k], scores float32), best first."""
        if rows is None:
            scores = dot(self.vecs[: self.n], query)
            if self.n_live != self.n:
                scores[~self.live[: self.n]] = -np.inf
            cand_ids = self.ids[: self.n]
            avail = self.n_live
        else:
            scores = dot(self.vecs[rows], query)
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

"""The approximate side of the index: an hnswlib graph over the same vectors.

Inner product on unit vectors, so a score is the cosine similarity; labels
are catalog photo ids. Deleted vectors stay in the graph marked deleted, and
new ids take their slots. Not thread-safe: the owning index's lock guards it
(hnswlib is not safe for concurrent add and query).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import hnswlib
import numpy as np

__all__ = ["Graph", "HnswParams"]


@dataclass(frozen=True)
class HnswParams:
    """Graph parameters. ``ef_search`` is the floor; hnswlib uses max(ef, k)."""

    M: int = 16
    ef_construction: int = 200
    #: Measured by benchmarks/bench_index.py: recall@100 >= 0.95 for image
    #: queries at 1M clustered vectors with p95 < 5 ms.
    ef_search: int = 160
    #: Threads hnswlib uses to insert; None means all cores.
    num_threads: int | None = None
    seed: int = 100

    def threads(self) -> int:
        return self.num_threads or os.cpu_count() or 1

    def describe(self) -> dict:
        """The parameters a saved graph records in its manifest."""
        return {"space": "ip", "M": self.M, "ef_construction": self.ef_construction, "ef_search": self.ef_search}


class Graph:
    """One hnswlib index (``hnsw``) and the parameters it was made with."""

    def __init__(self, hnsw: hnswlib.Index, params: HnswParams) -> None:
        self.hnsw = hnsw
        self.params = params
        hnsw.set_ef(params.ef_search)
        hnsw.set_num_threads(params.threads())

    @classmethod
    def new(cls, dim: int, params: HnswParams, capacity: int) -> Graph:
        """An empty graph with room for ``capacity`` vectors (it grows as needed)."""
        h = hnswlib.Index(space="ip", dim=dim)
        h.init_index(
            max_elements=max(int(capacity), 16),
            M=params.M,
            ef_construction=params.ef_construction,
            random_seed=params.seed,
            allow_replace_deleted=True,
        )
        return cls(h, params)

    @classmethod
    def load(cls, path: Path, dim: int, params: HnswParams) -> Graph:
        """Read a file written by :meth:`save`. hnswlib trusts the file's layout
        and raises RuntimeError, ValueError or MemoryError only for some damage:
        check the file first (:mod:`.files` does)."""
        h = hnswlib.Index(space="ip", dim=dim)
        h.load_index(str(path), max_elements=0, allow_replace_deleted=True)
        return cls(h, params)

    def save(self, path: Path) -> None:
        self.hnsw.save_index(str(path))

    @property
    def element_count(self) -> int:
        """Slots in use, deleted vectors included."""
        return int(self.hnsw.element_count)

    def upsert(self, ids: np.ndarray, vecs: np.ndarray, live: np.ndarray | None = None) -> None:
        """Add or replace unit vectors ``vecs`` [N, dim] under unique ``ids`` [N].

        hnswlib refuses to update a deleted label when slot replacement is on,
        and giving a label that is still live a replaced slot would list it
        twice. So: labels known to be live (``live`` mask, from the store) are
        updated in place; the others are unmarked if hnswlib still holds them
        deleted (then updated), checked for presence when no mask is given,
        and only truly new labels may take the slot of a deleted element.
        """
        h = self.hnsw
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

    def add_new(self, ids: np.ndarray, vecs: np.ndarray) -> None:
        """Add ids the graph has never held (a rebuild's bulk load), growing by half as needed."""
        h = self.hnsw
        if h.get_current_count() + len(ids) > h.get_max_elements():
            h.resize_index(int(h.get_max_elements() * 1.5) + len(ids))
        h.add_items(vecs, ids, num_threads=self.params.threads())

    def delete(self, ids: np.ndarray) -> None:
        """Mark ``ids`` deleted; unknown or already deleted ids are ignored."""
        for label in ids.tolist():
            try:
                self.hnsw.mark_deleted(label)
            except RuntimeError:
                pass  # unknown or already deleted

    def knn(self, query: np.ndarray, k: int, allowed: set[int] | None = None) -> tuple[np.ndarray, np.ndarray] | None:
        """The ``k`` best (ids int64 [k], cosine scores float32 [k]) for unit
        ``query`` [dim], best first, searched with breadth max(ef_search, k);
        only ids in ``allowed`` when given (hnswlib calls it for every
        candidate). None when the graph cannot reach ``k`` (a tight filter or
        many deletions)."""
        try:
            if allowed is None:
                labels, dist = self.hnsw.knn_query(query, k=k, num_threads=1)
            else:
                labels, dist = self.hnsw.knn_query(query, k=k, num_threads=1, filter=allowed.__contains__)
        except RuntimeError:
            return None
        return labels[0].astype(np.int64), (1.0 - dist[0]).astype(np.float32)

    def vectors(self, ids: np.ndarray) -> np.ndarray:
        """float32 [N, dim] as hnswlib stores them. Raises RuntimeError for an unknown id."""
        return np.asarray(self.hnsw.get_items(ids.tolist()), dtype=np.float32)

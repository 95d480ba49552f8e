"""Small clustered vector sets and indexes over them, for the index tests."""

from __future__ import annotations

import numpy as np

from clipdesk.core.index import HnswParams, VectorIndex

DIM = 32
PARAMS = HnswParams(M=8, ef_construction=64, ef_search=64, num_threads=2)


def clustered(n: int, dim: int = DIM, seed: int = 0, clusters: int = 20) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(clusters, dim))
    x = centres[rng.integers(0, clusters, n)] + 0.35 * rng.normal(size=(n, dim))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def build(n: int = 1500, seed: int = 0, model: str = "test/model") -> tuple[VectorIndex, np.ndarray, np.ndarray]:
    vecs = clustered(n, seed=seed)
    ids = np.arange(1, n + 1, dtype=np.int64) * 3  # ids are not row numbers
    index = VectorIndex(model, DIM, PARAMS)
    index.add(ids, vecs)
    return index, ids, vecs


def brute(ids: np.ndarray, vecs: np.ndarray, q: np.ndarray, k: int) -> np.ndarray:
    scores = vecs @ (q / np.linalg.norm(q))
    return ids[np.argsort(-scores, kind="stable")[:k]]

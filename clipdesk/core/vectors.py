"""Unit vectors: the one place that scales embeddings to length 1.

Every score in ClipDesk is a cosine similarity computed as a dot product of
unit vectors, so every vector that enters the index, leaves a model or forms a
query goes through :func:`unit_rows` (or :func:`unit` for one vector). Rows
that cannot be scaled (NaN, infinite, all zero) are refused, never silently
turned into garbage; the caller turns :class:`BadRows` into its own error
with the ids it knows.
"""

from __future__ import annotations

import numpy as np

__all__ = ["BadRows", "unit", "unit_rows"]

#: Rows shorter than this are "zero" (float32 embeddings of real models have
#: norms of order 1; anything this small carries no direction).
MIN_NORM = 1e-12


class BadRows(ValueError):
    """Vectors that cannot be made unit length. ``rows``: 0-based indices of the
    offending rows (empty when the whole array has the wrong shape or type)."""

    def __init__(self, message: str, rows: list[int] | None = None):
        super().__init__(message)
        self.rows = rows or []


def unit_rows(vectors, dim: int | None = None) -> np.ndarray:
    """float32 [N, D] copy of ``vectors`` ([N, D], or [D] for one row) with
    every row scaled to length 1; computed in float64 so that float32 inputs
    with large or tiny values keep their direction.

    Raises :class:`BadRows` for a shape other than [N, D] (or D != ``dim``), a
    non-floating dtype, or rows that are NaN, infinite or zero.
    """
    arr = np.asarray(vectors)
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2 or (dim is not None and arr.shape[1] != dim):
        want = f"[N, {dim}]" if dim is not None else "[N, D]"
        raise BadRows(f"expected vectors of shape {want}, got {list(arr.shape)}")
    if not np.issubdtype(arr.dtype, np.floating):
        raise BadRows(f"vectors must be floating point, got {arr.dtype}")
    wide = arr.astype(np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        norms = np.sqrt(np.einsum("ij,ij->i", wide, wide))
    bad = ~np.isfinite(wide).all(axis=1) | ~np.isfinite(norms) | (norms < MIN_NORM)
    if bad.any():
        rows = np.flatnonzero(bad).tolist()
        raise BadRows(f"{len(rows)} vector(s) are NaN, infinite or zero", rows)
    return (wide / norms[:, None]).astype(np.float32)


def unit(vector) -> np.ndarray:
    """One vector [D] scaled to length 1 (float32). Raises :class:`BadRows`
    when it is NaN, infinite or zero (a mean of opposite directions, say)."""
    return unit_rows(np.asarray(vector).ravel())[0]

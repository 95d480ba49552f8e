"""The embedding of each photo per model (float32 blobs) and the generation
counter that tells a saved index whether it missed a change."""

from __future__ import annotations

from typing import Iterable, Iterator, Sequence

import numpy as np

from clipdesk.core.catalog.base import CatalogBase, chunks, marks


def _unpack(rows: list[tuple[int, bytes]]) -> tuple[np.ndarray, np.ndarray]:
    ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    vecs = np.frombuffer(b"".join(r[1] for r in rows), dtype=np.float32).reshape(len(rows), -1)
    return ids, vecs


class EmbeddingQueries(CatalogBase):
    def store_embeddings(self, model_id: str, ids: Sequence[int], vectors: np.ndarray) -> None:
        """Upsert float32 [N, D] vectors for photo ids [N]."""
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        with self._write() as con:
            con.executemany(
                "INSERT INTO embeddings(photo_id, model_id, vector) VALUES (?, ?, ?) "
                "ON CONFLICT(model_id, photo_id) DO UPDATE SET vector = excluded.vector",
                [(int(i), model_id, v.tobytes()) for i, v in zip(ids, vectors)],
            )
            self._bump_generation(con, [model_id])

    def embedding_count(self, model_id: str) -> int:
        return self._one("SELECT COUNT(*) FROM embeddings WHERE model_id = ?", (model_id,))[0]

    def embedded_models(self) -> dict[str, int]:
        """model id -> photos embedded with it."""
        return dict(self._read("SELECT model_id, COUNT(*) FROM embeddings GROUP BY model_id"))

    def iter_embeddings(
        self, model_id: str, batch: int = 20000, ids: Iterable[int] | None = None
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """(ids int64 [n], vectors float32 [n, D]) in batches, ordered by id
        (only ``ids`` when given; those without an embedding are skipped)."""
        if ids is not None:
            for chunk in chunks([int(i) for i in ids]):
                rows = self._read(
                    f"SELECT photo_id, vector FROM embeddings WHERE model_id = ? "
                    f"AND photo_id IN ({marks(len(chunk))})",
                    [model_id, *chunk],
                )
                if rows:
                    yield _unpack(rows)
            return
        cur = self._con.execute(
            "SELECT photo_id, vector FROM embeddings WHERE model_id = ? ORDER BY photo_id", (model_id,))
        while rows := cur.fetchmany(batch):
            yield _unpack(rows)

    def delete_embeddings(self, model_id: str) -> int:
        with self._write() as con:
            n = con.execute("DELETE FROM embeddings WHERE model_id = ?", (model_id,)).rowcount
            self._bump_generation(con, [model_id])
        return n

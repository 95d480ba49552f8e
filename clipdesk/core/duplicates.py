"""Duplicates and near-duplicates, with the copy worth keeping suggested.

Two photos are grouped when their files have identical content (same hash) or
their image embeddings are at least ``threshold`` apart in cosine similarity
(resized, re-encoded, lightly edited or burst copies). Groups are the
connected components of those pairs. The suggested keeper is the copy with the
most pixels, then the largest file (less compression), then the most tags,
then the one catalogued first.
"""

from __future__ import annotations

import numpy as np

from dataclasses import dataclass

from clipdesk.core.catalog import Catalog, Photo

@dataclass
class DuplicateGroup:
    """Photos that are copies or near-copies of each other; ``photos[0]`` is the
    suggested copy to keep."""

    photos: list[Photo]
    scores: list[float]  # cosine similarity of each photo to the kept one (1.0 for itself)
    reason: str  # "identical content" or "near-duplicate"


#: Up to this many photos, all pairs are compared exactly (blocked matmul).
EXACT_MAX = 30_000
NEIGHBOURS = 10


class _Union:
    def __init__(self):
        self.parent: dict[int, int] = {}

    def find(self, x: int) -> int:
        self.parent.setdefault(x, x)
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def join(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def similar_pairs(ids: np.ndarray, vecs: np.ndarray, index, threshold: float):
    """Yield (id_a, id_b) with cosine >= threshold."""
    n = len(ids)
    if n <= EXACT_MAX:
        for start in range(0, n, 1024):
            block = vecs[start : start + 1024] @ vecs.T
            rows, cols = np.nonzero(block >= threshold)
            for r, c in zip(rows.tolist(), cols.tolist()):
                a = start + r
                if c > a:
                    yield int(ids[a]), int(ids[c])
        return
    for i, v in zip(ids.tolist(), vecs):
        hits = index.search(v, NEIGHBOURS)
        for j, s in zip(hits.ids.tolist(), hits.scores.tolist()):
            if j != i and s >= threshold:
                yield i, j


def _keeper_key(photo: Photo, tag_counts: dict[int, int]):
    pixels = (photo.width or 0) * (photo.height or 0)
    return (-pixels, -photo.size, -tag_counts.get(photo.id, 0), photo.id)


def find_duplicates(catalog: Catalog, index, *, threshold: float = 0.95, limit: int | None = None) -> list[DuplicateGroup]:
    """Groups of photos whose content is identical or whose embeddings (in the
    vector ``index``) have cosine >= ``threshold``; biggest groups first."""
    cat = catalog
    uf = _Union()
    for members in cat.identical_groups():
        for m in members[1:]:
            uf.join(members[0], m)
    all_ids = index.ids()
    ids, vecs = index.vectors(all_ids)
    for a, b in similar_pairs(ids, vecs, index, threshold):
        uf.join(a, b)
    groups: dict[int, list[int]] = {}
    for x in list(uf.parent):
        groups.setdefault(uf.find(x), []).append(x)
    groups = {r: m for r, m in groups.items() if len(m) > 1}
    if not groups:
        return []
    tag_counts = cat.accepted_tag_counts()
    pos = {int(i): k for k, i in enumerate(ids.tolist())}
    out = []
    for members in groups.values():
        photos = cat.photos(members)
        if len(photos) < 2:
            continue
        photos.sort(key=lambda p: _keeper_key(p, tag_counts))
        keep = photos[0]
        scores = []
        for p in photos:
            if p.hash and p.hash == keep.hash:
                scores.append(1.0)
            elif p.id in pos and keep.id in pos:
                scores.append(float(vecs[pos[p.id]] @ vecs[pos[keep.id]]))
            else:
                scores.append(float("nan"))
        identical = all(p.hash == keep.hash for p in photos)
        out.append(DuplicateGroup(photos, scores, "identical content" if identical else "near-duplicate"))
    out.sort(key=lambda g: (-len(g.photos), g.photos[0].path))
    return out[:limit] if limit else out

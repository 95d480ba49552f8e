"""The exact side: ids and vectors checked on the way in, the id lookup, compaction, reads."""

from __future__ import annotations

import numpy as np
import pytest
from indexkit import DIM, PARAMS, build, clustered

import clipdesk.core.index.store as store_mod
from clipdesk.core.index import InvalidVector, VectorIndex


@pytest.mark.parametrize(
    "bad",
    [np.nan, np.inf, 0.0],
    ids=["nan", "inf", "zero"],
)
def test_bad_vectors_are_refused_with_their_ids(bad):
    index, ids, vecs = build(100)
    batch = clustered(3, seed=9)
    batch[1] = bad
    with pytest.raises(InvalidVector) as err:
        index.add([1001, 1002, 1003], batch)
    assert err.value.bad_ids == (1002,)
    assert "1002" in str(err.value)
    assert 1001 not in index and len(index) == 100  # nothing of the batch went in


def test_wrong_shapes_and_ids_are_refused():
    index, _, _ = build(10)
    with pytest.raises(InvalidVector, match="dimension"):
        index.add([1], np.ones((1, DIM + 1), np.float32))
    with pytest.raises(InvalidVector, match="negative"):
        index.add([-5], np.ones((1, DIM), np.float32))
    with pytest.raises(InvalidVector, match="2 ids but 1"):
        index.add([1, 2], np.ones((1, DIM), np.float32))
    with pytest.raises(InvalidVector):
        index.search(np.full(DIM, np.nan), 3)


def test_repeated_ids_in_one_batch_keep_the_last_vector():
    index = VectorIndex("m", DIM, PARAMS)
    v = clustered(3, seed=4)
    index.add([7, 8, 7], v)
    assert len(index) == 2
    np.testing.assert_allclose(index.vectors([7])[1][0], v[2], atol=1e-6)
    assert index.search(v[2], 1, method="hnsw").ids[0] == 7


def test_sparse_ids_use_the_sorted_lookup():
    vecs = clustered(600, seed=13)
    ids = (np.arange(600, dtype=np.int64) * 7_919_000_003) % (2**62) + 5
    index = VectorIndex("m", DIM, PARAMS)
    index.add(ids[::-1], vecs[::-1])  # not in increasing order either
    assert index._store._ensure_lookup()[0] is None
    index.remove(ids[:10])
    index.add(ids[:5], vecs[:5])
    for i in (0, 4, 300, 599):
        assert index.search(vecs[i], 1, method="exact").ids[0] == ids[i]
        assert index.search(vecs[i], 1, method="hnsw").ids[0] == ids[i]
    assert ids[7] not in index and ids[3] in index
    hits = index.search(vecs[100], 10, allowed=ids[100:200])
    assert set(hits.ids.tolist()) <= set(ids[100:200].tolist())


def test_compaction_keeps_exact_search_right(monkeypatch):
    monkeypatch.setattr(store_mod, "_COMPACT_MIN_DEAD", 10)
    index, ids, vecs = build(400)
    index.remove(ids[::2])
    assert index._store.n == len(index) == 200  # dead rows were compacted away
    hits = index.search(vecs[1], 5, method="exact")
    assert hits.ids[0] == ids[1]
    assert not set(hits.ids.tolist()) & set(ids[::2].tolist())
    index.add([ids[0]], vecs[0][None])
    assert index.search(vecs[0], 1, method="exact").ids[0] == ids[0]


def test_vectors_and_sample_scores():
    index, ids, vecs = build(300)
    found, got = index.vectors([ids[3], 424242, ids[5]])
    assert found.tolist() == [ids[3], ids[5]]
    np.testing.assert_allclose(got, vecs[[3, 5]], atol=1e-6)
    q = vecs[0]
    sample = index.sample_scores(q, n=5000)
    np.testing.assert_allclose(np.sort(sample), np.sort(vecs @ q), atol=1e-5)
    assert len(index.sample_scores(q, n=64)) == 64


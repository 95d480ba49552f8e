"""The graph side: cosine scores, per-query breadth, deletes, slot reuse, growth, updates."""

from __future__ import annotations

import numpy as np
import pytest
from indexkit import DIM, PARAMS, brute, build, clustered

from clipdesk.core.index import VectorIndex


def test_scores_are_cosine_similarities_for_unnormalised_queries():
    index, ids, vecs = build(200)
    hits = index.search(vecs[7] * 42.0, 1, method="hnsw")
    assert hits.ids[0] == ids[7]
    assert hits.scores[0] == pytest.approx(1.0, abs=1e-5)


def test_per_query_breadth_leaves_the_index_setting_alone():
    index, ids, vecs = build(3000)
    rng = np.random.default_rng(7)
    far_queries = rng.normal(size=(20, DIM)).astype(np.float32)  # far from every cluster
    narrow, wide = [], []
    for q in far_queries:
        truth = brute(ids, vecs, q, 50)
        narrow.append(len(np.intersect1d(index.search(q, 50, method="hnsw").ids, truth)))
        hits = index.search(q, 50, method="hnsw", ef=1000)
        assert len(hits) == 50 and np.all(np.diff(hits.scores) <= 1e-6)
        wide.append(len(np.intersect1d(hits.ids, truth)))
    assert np.mean(wide) >= np.mean(narrow) and np.mean(wide) >= 0.97 * 50
    assert index._graph.hnsw.ef == PARAMS.ef_search


def test_deleted_ids_never_come_back_until_re_added_with_their_new_vector():
    index, ids, vecs = build(400)
    target = ids[10]
    assert index.remove([target, 999_999]) == 1
    assert target not in index
    for method in ("exact", "hnsw"):
        assert target not in index.search(vecs[10], 50, method=method).ids
    assert index.remove([target]) == 0

    new_vec = -vecs[10]  # far from where it was
    index.add([target], new_vec[None])
    assert target in index
    for method in ("exact", "hnsw"):
        hits = index.search(new_vec, 1, method=method)
        assert hits.ids[0] == target and hits.scores[0] == pytest.approx(1.0, abs=1e-5)
        assert target not in index.search(vecs[10], 5, method=method).ids
    np.testing.assert_allclose(index.vectors([target])[1][0], new_vec, atol=1e-6)


def test_deleted_slots_are_reused_by_new_ids():
    index, ids, _ = build(500)
    graph_before = index._graph.hnsw.element_count
    index.remove(ids[:200])
    fresh = clustered(200, seed=5)
    index.add(np.arange(10_000, 10_200), fresh)
    assert index._graph.hnsw.element_count == graph_before
    assert len(index) == 500
    for i in (0, 99, 199):
        assert index.search(fresh[i], 1, method="hnsw").ids[0] == 10_000 + i
    assert index.deleted_fraction == 0.0


def test_growth_past_the_initial_capacity():
    index = VectorIndex("m", DIM, PARAMS, capacity=16)
    vecs = clustered(3000, seed=2)
    for start in range(0, 3000, 250):
        index.add(np.arange(start, start + 250), vecs[start : start + 250])
    assert len(index) == 3000
    assert index._graph.hnsw.get_max_elements() >= 3000
    assert index.search(vecs[2999], 1, method="hnsw").ids[0] == 2999


def test_updating_a_live_id_moves_it():
    index, ids, vecs = build(300)
    index.add([ids[0]], vecs[200][None])
    assert len(index) == 300
    hits = index.search(vecs[200], 2, method="hnsw")
    assert set(hits.ids.tolist()) == {ids[0], ids[200]}


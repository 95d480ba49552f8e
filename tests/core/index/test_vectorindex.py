"""Which path answers a search (exact, graph, filtered, post-filtered), and searches during writes."""

from __future__ import annotations

import threading

import numpy as np
from indexkit import DIM, PARAMS, brute, build, clustered

import clipdesk.core.index.vectorindex as vectorindex_mod
from clipdesk.core.index import VectorIndex


def test_both_paths_find_the_exact_neighbours():
    index, ids, vecs = build()
    rng = np.random.default_rng(1)
    recalls = []
    for q in vecs[rng.choice(len(vecs), 30, replace=False)]:
        truth = brute(ids, vecs, q, 20)
        exact = index.search(q, 20, method="exact")
        assert exact.method == "exact"
        assert set(exact.ids.tolist()) == set(truth.tolist())
        assert np.all(np.diff(exact.scores) <= 1e-6)
        graph = index.search(q, 20, method="hnsw")
        assert graph.method == "hnsw"
        recalls.append(len(np.intersect1d(graph.ids, truth)) / 20)
        np.testing.assert_allclose(graph.scores[0], exact.scores[0], atol=1e-5)
    assert np.mean(recalls) >= 0.9


def test_auto_switches_to_hnsw_above_the_measured_size(monkeypatch):
    index, _, vecs = build(600)
    assert index.search(vecs[0], 5).method == "exact"
    monkeypatch.setattr(vectorindex_mod, "EXACT_SEARCH_MAX", 100)
    assert index.search(vecs[0], 5).method == "hnsw"
    monkeypatch.setattr(vectorindex_mod, "FILTER_EXACT_MAX", 10)
    assert index.search(vecs[0], 5, allowed=index.ids()[:5]).method == "exact-subset"
    assert index.search(vecs[0], 5, allowed=index.ids()[:30]).method == "exact-subset"  # 5%: exact
    assert index.search(vecs[0], 5, allowed=index.ids()[:300]).method == "hnsw-postfilter"  # 50%


def test_k_is_clamped_to_the_live_count():
    index, ids, vecs = build(50)
    assert len(index.search(vecs[0], 500, method="hnsw")) == 50
    assert len(index.search(vecs[0], 500, method="exact")) == 50
    index.remove(ids[:45])
    for method in ("hnsw", "exact"):
        hits = index.search(vecs[0], 100, method=method)
        assert sorted(hits.ids.tolist()) == sorted(ids[45:].tolist())
    assert len(index.search(vecs[0], 0)) == 0
    index.remove(ids)
    assert len(index.search(vecs[0], 10, method="hnsw")) == 0


def test_empty_index_answers_nothing():
    index = VectorIndex("m", DIM, PARAMS)
    assert len(index) == 0
    q = clustered(1)[0]
    assert len(index.search(q, 10)) == 0
    assert len(index.search(q, 10, allowed=[1, 2])) == 0
    assert len(index.sample_scores(q)) == 0


def test_filtered_search_only_returns_allowed_ids_with_good_recall():
    index, ids, vecs = build(2000)
    rng = np.random.default_rng(3)
    allowed = rng.choice(ids, 100, replace=False)  # 5%: below the post-filter share
    allowed_set = set(allowed.tolist())
    mask = np.isin(ids, allowed)
    recalls = []
    for q in vecs[:20]:
        truth = brute(ids[mask], vecs[mask], q, 30)
        exact = index.search(q, 30, allowed=allowed, method="exact")
        assert exact.method == "exact-subset"
        assert set(exact.ids.tolist()) == set(truth.tolist())
        graph = index.search(q, 30, allowed=allowed, method="hnsw")
        assert graph.method == "hnsw-filtered"
        assert set(graph.ids.tolist()) <= allowed_set
        recalls.append(len(np.intersect1d(graph.ids, truth)) / 30)
    assert np.mean(recalls) >= 0.9


def test_a_filter_keeping_a_large_share_post_filters_the_graph_search():
    index, ids, vecs = build(2000)
    allowed = ids[::2]
    recalls = []
    for q in vecs[1:41:2]:  # queries from the excluded half
        truth = brute(ids[::2], vecs[::2], q, 30)
        hits = index.search(q, 30, allowed=allowed, method="hnsw")
        assert hits.method == "hnsw-postfilter"
        assert set(hits.ids.tolist()) <= set(allowed.tolist())
        assert np.all(np.diff(hits.scores) <= 1e-6)
        recalls.append(len(np.intersect1d(hits.ids, truth)) / 30)
    assert np.mean(recalls) >= 0.9


def test_post_filter_falls_back_to_exact_when_the_graph_finds_too_few(monkeypatch):
    monkeypatch.setattr(vectorindex_mod, "FILTER_EXACT_MAX", 10)
    index, ids, vecs = build(1000)
    q = vecs[0]
    far = ids[np.argsort(vecs @ q)[:250]]  # the quarter least like the query
    hits = index.search(q, 50, allowed=far)
    assert hits.method == "exact-subset"
    rows = far // 3 - 1  # build() gives row i the id 3 * (i + 1)
    assert set(hits.ids.tolist()) == set(brute(far, vecs[rows], q, 50).tolist())


def test_filter_ignores_unknown_and_deleted_ids_and_clamps_k():
    index, ids, vecs = build(300)
    index.remove(ids[:2])
    allowed = [ids[0], ids[1], ids[2], ids[3], 10**12]
    for method in ("exact", "hnsw"):
        hits = index.search(vecs[0], 10, allowed=allowed, method=method)
        assert sorted(hits.ids.tolist()) == sorted([ids[2], ids[3]])
    assert len(index.search(vecs[0], 10, allowed=np.array([], dtype=np.int64))) == 0


def test_concurrent_searches_while_adding_and_deleting():
    base = clustered(1500, seed=11)
    index = VectorIndex("m", DIM, PARAMS)
    index.add(np.arange(1500), base)
    extra = clustered(1500, seed=12)
    errors: list[BaseException] = []
    stop = threading.Event()

    def searcher(seed: int) -> None:
        rng = np.random.default_rng(seed)
        try:
            while not stop.is_set():
                q = base[rng.integers(0, 1500)]
                for method in ("hnsw", "exact"):
                    hits = index.search(q, 20, method=method)
                    assert len(hits) == 20
                    assert ((hits.ids >= 0) & (hits.ids < 3000)).all()
                hits = index.search(q, 10, allowed=np.arange(0, 3000, 7), method="hnsw")
                assert (hits.ids % 7 == 0).all()
        except BaseException as exc:  # reported below
            errors.append(exc)

    def writer() -> None:
        try:
            for start in range(0, 1500, 100):
                index.add(np.arange(1500 + start, 1600 + start), extra[start : start + 100])
                index.remove(np.arange(start, start + 30))
        except BaseException as exc:
            errors.append(exc)

    searchers = [threading.Thread(target=searcher, args=(s,)) for s in range(3)]
    for t in searchers:
        t.start()
    w = threading.Thread(target=writer)
    w.start()
    w.join(60)
    stop.set()
    for t in searchers:
        t.join(30)
    assert not errors, errors
    assert len(index) == 3000 - 15 * 30
    assert index.search(extra[1499], 1, method="hnsw").ids[0] == 2999


def test_text_queries_search_wider_in_larger_libraries():
    from clipdesk.core.index import TEXT_QUERY_EF, text_query_ef

    assert text_query_ef(100_000) == 1000  # the 1,000 candidates a search asks for
    assert text_query_ef(100_001) == text_query_ef(1_000_000) == TEXT_QUERY_EF

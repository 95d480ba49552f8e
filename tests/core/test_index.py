"""The vector index: search paths, mutation, locking, persistence, rebuild."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import clipdesk.core.index.rebuild as rebuild_mod
import clipdesk.core.index.store as store_mod
import clipdesk.core.index.vectorindex as vectorindex_mod
from clipdesk.core.errors import UsageError
from clipdesk.core.index import (
    HnswParams,
    IndexIOError,
    IndexStale,
    InvalidVector,
    RWLock,
    VectorIndex,
    manifest_path,
    read_manifest,
)

DIM = 32
PARAMS = HnswParams(M=8, ef_construction=64, ef_search=64, num_threads=2)
REPO = Path(__file__).resolve().parents[2]


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


# --------------------------------------------------------------------------- search


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


def test_scores_are_cosine_similarities_for_unnormalised_queries():
    index, ids, vecs = build(200)
    hits = index.search(vecs[7] * 42.0, 1, method="hnsw")
    assert hits.ids[0] == ids[7]
    assert hits.scores[0] == pytest.approx(1.0, abs=1e-5)


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


def test_filter_ignores_unknown_and_deleted_ids_and_clamps_k():
    index, ids, vecs = build(300)
    index.remove(ids[:2])
    allowed = [ids[0], ids[1], ids[2], ids[3], 10**12]
    for method in ("exact", "hnsw"):
        hits = index.search(vecs[0], 10, allowed=allowed, method=method)
        assert sorted(hits.ids.tolist()) == sorted([ids[2], ids[3]])
    assert len(index.search(vecs[0], 10, allowed=np.array([], dtype=np.int64))) == 0


# --------------------------------------------------------------------------- mutation


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


def test_repeated_ids_in_one_batch_keep_the_last_vector():
    index = VectorIndex("m", DIM, PARAMS)
    v = clustered(3, seed=4)
    index.add([7, 8, 7], v)
    assert len(index) == 2
    np.testing.assert_allclose(index.vectors([7])[1][0], v[2], atol=1e-6)
    assert index.search(v[2], 1, method="hnsw").ids[0] == 7


def test_updating_a_live_id_moves_it():
    index, ids, vecs = build(300)
    index.add([ids[0]], vecs[200][None])
    assert len(index) == 300
    hits = index.search(vecs[200], 2, method="hnsw")
    assert set(hits.ids.tolist()) == {ids[0], ids[200]}


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


# --------------------------------------------------------------------------- locking


def test_rwlock_lets_readers_share_and_writers_exclude():
    lock = RWLock()
    inside = []
    both_readers_in = threading.Barrier(2, timeout=5)

    def reader():
        with lock.read():
            inside.append("r")
            both_readers_in.wait()  # would time out if readers excluded each other

    threads = [threading.Thread(target=reader) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    assert inside == ["r", "r"]

    active = {"writers": 0, "readers": 0, "violations": 0}
    guard = threading.Lock()

    def writer():
        for _ in range(200):
            with lock.write():
                with guard:
                    active["writers"] += 1
                    if active["writers"] > 1 or active["readers"]:
                        active["violations"] += 1
                with guard:
                    active["writers"] -= 1

    def reader2():
        for _ in range(200):
            with lock.read():
                with guard:
                    active["readers"] += 1
                    if active["writers"]:
                        active["violations"] += 1
                with guard:
                    active["readers"] -= 1

    threads = [threading.Thread(target=f) for f in (writer, writer, reader2, reader2, reader2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not any(t.is_alive() for t in threads)
    assert active["violations"] == 0


def _wait_for(predicate, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.001)
    return True


@pytest.mark.parametrize("long_reader", [False, True], ids=["search", "save"])
def test_waiting_writer_holds_back_new_readers_unless_a_save_holds_the_lock(long_reader):
    lock = RWLock()
    holder_release = threading.Event()
    writer_done = threading.Event()
    reader_in = threading.Event()

    def holder():
        with lock.read(long=long_reader):
            holder_release.wait(10)

    def writer():
        with lock.write():
            writer_done.set()

    def late_reader():
        with lock.read():
            reader_in.set()

    threads = [threading.Thread(target=holder)]
    threads[0].start()
    assert _wait_for(lambda: lock._readers == 1)
    threads.append(threading.Thread(target=writer))
    threads[1].start()
    assert _wait_for(lambda: lock._writers_waiting == 1)
    threads.append(threading.Thread(target=late_reader))
    threads[2].start()
    # Behind a waiting writer a search waits; beside a save (which the writer
    # must wait for anyway) it goes ahead.
    assert reader_in.wait(0.3) is long_reader
    assert not writer_done.is_set()
    holder_release.set()
    for t in threads:
        t.join(10)
    assert writer_done.is_set() and reader_in.is_set()


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


# --------------------------------------------------------------------------- persistence


def test_save_and_load_round_trip(tmp_path):
    index, ids, vecs = build(800)
    index.remove(ids[:50])
    index.add([ids[0]], vecs[0][None])  # re-added after delete
    index.add([5_000_001], clustered(1, seed=8))  # takes a deleted slot
    manifest = index.save(tmp_path, generation=7)
    assert manifest.count == len(index) == 752
    on_disk = json.loads(manifest_path(tmp_path, "test/model").read_text())
    assert on_disk["format_version"] == 1 and on_disk["model_id"] == "test/model"
    assert on_disk["dim"] == DIM and on_disk["generation"] == 7 and on_disk["count"] == 752
    assert len(on_disk["index_sha256"]) == 64
    assert on_disk["index_size"] == (tmp_path / on_disk["index_file"]).stat().st_size
    assert on_disk["hnsw"]["M"] == PARAMS.M

    loaded = VectorIndex.load(tmp_path, "test/model", DIM, generation=7, params=PARAMS)
    assert sorted(loaded.ids().tolist()) == sorted(index.ids().tolist())
    got_ids, got = loaded.vectors(index.ids())
    want_ids, want = index.vectors(got_ids)
    np.testing.assert_array_equal(got, want)
    assert loaded._graph.hnsw.ef == PARAMS.ef_search
    for q in vecs[100:110]:
        assert loaded.search(q, 10, method="hnsw").ids.tolist() == index.search(q, 10, method="hnsw").ids.tolist()
    # The loaded index keeps working: adds, deletes, re-save.
    loaded.add([6_000_000], clustered(1, seed=10))
    loaded.remove([ids[1]])
    loaded.save(tmp_path, generation=8)
    assert len(list(tmp_path.glob("*.hnsw"))) == 1  # the previous save was cleaned up
    again = VectorIndex.load(tmp_path, "test/model", DIM, generation=8, params=PARAMS)
    assert 6_000_000 in again and ids[1] not in again


def _saved(tmp_path: Path, n: int = 400) -> tuple[VectorIndex, Path]:
    index, _, _ = build(n)
    index.save(tmp_path, generation=1)
    return index, tmp_path / read_manifest(tmp_path, "test/model").index_file


def test_missing_index_is_stale(tmp_path):
    with pytest.raises(IndexStale, match="no saved index"):
        VectorIndex.load(tmp_path, "test/model", DIM, generation=1)


def test_generation_mismatch_is_stale(tmp_path):
    _saved(tmp_path)
    with pytest.raises(IndexStale, match="generation 1, the catalog is at 2"):
        VectorIndex.load(tmp_path, "test/model", DIM, generation=2)
    assert len(VectorIndex.load(tmp_path, "test/model", DIM, check_generation=False)) == 400


def test_truncated_index_file_is_stale(tmp_path):
    _, path = _saved(tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(IndexStale, match="truncated"):
        VectorIndex.load(tmp_path, "test/model", DIM, generation=1)


@pytest.mark.parametrize("where", [0, 40, 100, -9, -1000])
def test_bit_flipped_index_file_is_stale(tmp_path, where):
    _, path = _saved(tmp_path)
    data = bytearray(path.read_bytes())
    data[where] ^= 0x10
    path.write_bytes(bytes(data))
    with pytest.raises(IndexStale, match="checksum"):
        VectorIndex.load(tmp_path, "test/model", DIM, generation=1)


def test_index_of_another_model_is_stale(tmp_path):
    _saved(tmp_path)
    # A manifest of model A where model B looks for its own (renamed cache, mix-up).
    manifest_path(tmp_path, "test/model").rename(manifest_path(tmp_path, "other/model"))
    with pytest.raises(IndexStale, match="belongs to model 'test/model'"):
        VectorIndex.load(tmp_path, "other/model", DIM, generation=1)


def test_index_of_another_dimension_is_stale(tmp_path):
    _saved(tmp_path)
    with pytest.raises(IndexStale, match="dimension"):
        VectorIndex.load(tmp_path, "test/model", DIM * 2, generation=1)


def test_manifest_lying_about_the_dimension_never_reaches_hnswlib(tmp_path):
    _saved(tmp_path)
    mpath = manifest_path(tmp_path, "test/model")
    data = json.loads(mpath.read_text())
    data["dim"] = DIM * 2  # the file itself is intact and matches its checksum
    mpath.write_text(json.dumps(data))
    with pytest.raises(IndexStale, match="layout"):
        VectorIndex.load(tmp_path, "test/model", DIM * 2, generation=1)


def _set(key, value):
    def mutate(data: dict) -> bytes:
        data[key] = value
        return json.dumps(data).encode()

    return mutate


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: b"",
        lambda data: b"{not json",
        lambda data: b"[1, 2]",
        lambda data: b"\xff\xfe garbage",
        lambda data: b" " * (2 << 20),
        _set("format_version", 99),
        _set("index_file", "../../etc/passwd"),
        _set("count", "many"),
        _set("dim", True),
        _set("generation", [1]),
        _set("index_size", None),
    ],
    ids=["empty", "not-json", "array", "binary", "huge", "format", "path", "type", "bool", "generation", "null"],
)
def test_damaged_manifest_is_stale(tmp_path, damage):
    _saved(tmp_path)
    mpath = manifest_path(tmp_path, "test/model")
    mpath.write_bytes(damage(json.loads(mpath.read_text())))
    with pytest.raises(IndexStale):
        VectorIndex.load(tmp_path, "test/model", DIM, generation=1)


def test_count_mismatch_between_manifest_and_file_is_stale(tmp_path):
    _saved(tmp_path)
    mpath = manifest_path(tmp_path, "test/model")
    data = json.loads(mpath.read_text())
    data["count"] = 399
    mpath.write_text(json.dumps(data))
    with pytest.raises(IndexStale, match="live vectors"):
        VectorIndex.load(tmp_path, "test/model", DIM, generation=1)


def test_save_failures_are_typed_errors_and_leave_no_files(tmp_path):
    index, _, _ = build(100)
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("x")
    with pytest.raises(IndexIOError):
        index.save(not_a_dir, generation=1)
    blocked = tmp_path / "blocked"
    blocked.mkdir()
    manifest_path(blocked, "test/model").mkdir()  # the manifest cannot be replaced
    with pytest.raises(IndexIOError):
        index.save(blocked, generation=1)
    assert sorted(p.name for p in blocked.iterdir()) == [manifest_path(blocked, "test/model").name]


_SAVER = textwrap.dedent(
    """
    import sys
    import numpy as np
    sys.path.insert(0, sys.argv[1])
    from clipdesk.core.index import HnswParams, VectorIndex
    rng = np.random.default_rng(0)
    n, dim = 3000, 64
    x = rng.normal(size=(n, dim)).astype(np.float32)
    index = VectorIndex("crash/model", dim, HnswParams(M=8, ef_construction=16, num_threads=1), capacity=n)
    index.add(np.arange(1, n + 1), x)
    gen = 0
    while True:
        gen += 1
        index.save(sys.argv[2], generation=gen)
        print(gen, flush=True)
    """
)


def test_killed_while_saving_then_loads_a_complete_index_or_rebuilds(tmp_path):
    """SIGKILL a process that saves in a loop; every time, the next start
    either loads a complete index or is told it is stale and rebuilds."""
    if not hasattr(signal, "SIGKILL"):
        pytest.skip("needs SIGKILL")
    directory = tmp_path / "index"
    source = np.random.default_rng(0).normal(size=(3000, 64)).astype(np.float32)  # what the child indexes
    outcomes = []
    rng = np.random.default_rng(0)
    for attempt in range(3):
        proc = subprocess.Popen(
            [sys.executable, "-c", _SAVER, str(REPO), str(directory)],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            first = proc.stdout.readline()  # one complete save done
            assert first.strip().isdigit(), first
            time.sleep(float(rng.uniform(0.0, 0.25)))  # then die at a random point of a later save
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
            proc.stdout.close()
        try:
            loaded = VectorIndex.load(directory, "crash/model", 64, check_generation=False)
        except IndexStale:
            outcomes.append("stale")
            fresh = VectorIndex("crash/model", 64, HnswParams(M=8, ef_construction=16))
            handle = fresh.rebuild_async(lambda: [(np.arange(1, 3001), source)])
            assert handle.wait(60)
            loaded = fresh
        else:
            outcomes.append("loaded")
        assert len(loaded) == 3000
        assert loaded.search(source[1234], 1, method="hnsw").ids[0] == 1235
    # Saves are atomic and go to fresh names, so a crash never leaves a torn index.
    assert outcomes.count("loaded") == len(outcomes), outcomes
    leftovers = [p.name for p in directory.iterdir() if p.name.endswith(".tmp")]
    if leftovers:  # an interrupted save's temp file goes at the next successful save
        VectorIndex.load(directory, "crash/model", 64, check_generation=False).save(directory, generation=0)
        assert not [p for p in directory.iterdir() if p.name.endswith(".tmp")]


# --------------------------------------------------------------------------- rebuild


def test_open_rebuilds_in_the_background_while_exact_search_serves(tmp_path):
    vecs = clustered(1200, seed=21)
    ids = np.arange(1, 1201, dtype=np.int64)
    gate = threading.Event()
    first_batch_in = threading.Event()

    def source():
        yield ids[:400], vecs[:400]
        first_batch_in.set()
        assert gate.wait(30)
        yield ids[400:], vecs[400:]

    done = []
    index, reason = VectorIndex.open(
        tmp_path, "test/model", DIM, generation=3, source=source, params=PARAMS,
        on_rebuilt=lambda idx, handle: done.append(handle.wait(0)),
    )
    assert reason == "no saved index"
    assert first_batch_in.wait(30)
    deadline = time.monotonic() + 10
    while len(index) < 400 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert index.rebuilding
    hits = index.search(vecs[10], 5)
    assert hits.method == "exact" and hits.ids[0] == 11
    assert index.search(vecs[10], 5, method="hnsw").method == "exact"  # no graph yet
    assert set(index.search(vecs[900], 50).ids.tolist()) <= set(ids[:400].tolist())
    with pytest.raises(IndexIOError):
        index.save(tmp_path, generation=3)
    # The pipeline keeps writing meanwhile.
    index.add([5000], vecs[5][None] * -1)
    index.remove([ids[20]])
    gate.set()
    index._rebuild.handle.wait(60)
    assert done == [True]
    assert not index.rebuilding
    assert len(index) == 1200
    hits = index.search(vecs[900], 1, method="hnsw")
    assert hits.method == "hnsw" and hits.ids[0] == 901
    assert index.search(-vecs[5], 1, method="hnsw").ids[0] == 5000
    assert ids[20] not in index.search(vecs[20], 20, method="hnsw").ids
    index.save(tmp_path, generation=3)
    assert len(VectorIndex.load(tmp_path, "test/model", DIM, generation=3)) == 1200


def test_ops_during_graph_building_are_replayed(monkeypatch):
    monkeypatch.setattr(rebuild_mod, "_REBUILD_CHUNK", 50)
    vecs = clustered(1000, seed=22)
    extra = clustered(100, seed=23)
    index = VectorIndex("m", DIM, PARAMS)
    index.add(np.arange(1000), vecs)
    handle = index.rebuild_async(lambda: [(np.arange(1000), vecs)])
    removed = set()
    for i in range(100):  # writes interleave with the load and the chunked graph build
        index.add([2000 + i], extra[i][None])
        if i % 10 == 0:
            index.remove([i])
            removed.add(i)
    assert handle.wait(60), handle.error
    assert len(index) == 1000 + 100 - len(removed)
    for i in (0, 57, 99):
        assert index.search(extra[i], 1, method="hnsw").ids[0] == 2000 + i
    for i in removed:
        assert i not in index.search(vecs[i], 30, method="hnsw").ids
    assert set(index.ids().tolist()) == (set(range(1000)) - removed) | set(range(2000, 2100))


def test_rebuild_skips_bad_rows_and_reports_them():
    vecs = clustered(300, seed=31)
    vecs[7] = np.nan
    vecs[8] = 0
    index = VectorIndex("m", DIM, PARAMS)
    handle = index.rebuild_async(lambda: [(np.arange(300), vecs)])
    assert handle.wait(60)
    assert sorted(handle.skipped_ids) == [7, 8]
    assert len(index) == 298


def test_failed_rebuild_is_reported_and_exact_search_goes_on():
    vecs = clustered(200, seed=32)

    def source():
        yield np.arange(100), vecs[:100]
        raise OSError("catalog vanished")

    index = VectorIndex("m", DIM, PARAMS)
    handle = index.rebuild_async(source)
    assert not handle.wait(30)
    assert isinstance(handle.error, OSError)
    assert index.search(vecs[3], 1).ids[0] == 3
    assert not index.rebuilding
    index.rebuild_async(lambda: [(np.arange(200), vecs)]).wait(30)
    assert index.search(vecs[150], 1, method="hnsw").method == "hnsw"


def test_close_cancels_a_rebuild():
    vecs = clustered(100, seed=33)
    release = threading.Event()

    def source():
        yield np.arange(50), vecs[:50]
        release.wait(10)
        yield np.arange(50, 100), vecs[50:]

    index = VectorIndex("m", DIM, PARAMS)
    handle = index.rebuild_async(source)
    timer = threading.Timer(0.1, release.set)
    timer.start()
    index.close()
    timer.join()
    assert handle.done and handle.cancelled and not handle.wait(0)


def test_one_rebuild_at_a_time():
    vecs = clustered(10, seed=34)
    gate = threading.Event()

    def source():
        gate.wait(10)
        yield np.arange(10), vecs

    index = VectorIndex("m", DIM, PARAMS)
    handle = index.rebuild_async(source)
    try:
        with pytest.raises(UsageError, match="already"):
            index.rebuild_async(source)
    finally:
        gate.set()
    assert handle.wait(30)

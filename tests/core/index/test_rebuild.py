"""Rebuilding from the catalog in the background while searches and writes go on."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from indexkit import DIM, PARAMS, clustered

import clipdesk.core.index.rebuild as rebuild_mod
from clipdesk.core.errors import UsageError
from clipdesk.core.index import VectorIndex


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
    assert index.rebuilding
    # A search while the catalog is still being read waits for every vector:
    # an answer over the first 400 would look whole and be wrong.
    answered = threading.Event()
    result = []
    asker = threading.Thread(target=lambda: (result.append(index.search(vecs[900], 5)), answered.set()))
    asker.start()
    assert not answered.wait(0.3)  # still waiting: the source is held at its second batch
    gate.set()
    assert answered.wait(30)
    asker.join()
    assert result[0].method == "exact" and result[0].ids[0] == 901
    assert index._rebuild.handle.loaded.is_set()
    assert index.search(vecs[10], 5, method="hnsw").method in ("exact", "hnsw")
    # The pipeline keeps writing meanwhile.
    index.add([5000], vecs[5][None] * -1)
    index.remove([ids[20]])
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


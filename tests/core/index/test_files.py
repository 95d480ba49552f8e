"""The index on disk: round trip, every kind of damage found before hnswlib reads, crash safety."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from indexkit import DIM, PARAMS, build, clustered
from support import REPO

from clipdesk.core.index import (
    HnswParams,
    IndexIOError,
    IndexStale,
    VectorIndex,
    manifest_path,
    read_manifest,
)


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


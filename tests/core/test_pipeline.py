import os
import shutil
import sqlite3
import signal
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest

from clipdesk.core.errors import InvalidEmbedding
from clipdesk.core.library import Library
from support import age, make_photo


class ColourEmbedder:
    """A tiny real embedder: the mean colour of a 16x16 model input."""

    model_id = "colour-test"
    dim = 3
    min_input_side = 16

    def __init__(self, fail_on_red=False):
        self.fail_on_red = fail_on_red
        self.batches = []

    def preprocess(self, image):
        return np.asarray(image.resize((16, 16)), np.float32).transpose(2, 0, 1) / 255.0

    def embed(self, batch):
        self.batches.append(len(batch))
        v = batch.mean(axis=(2, 3)) + 1e-3
        if self.fail_on_red and (v[:, 0] > 0.9).any():
            raise InvalidEmbedding("non-finite output", [0])
        return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)


def fill(root, n, start=0, size=(320, 240)):
    for i in range(start, start + n):
        make_photo(root / f"p{i:04d}.jpg", size=size, seed=i)
        age(root / f"p{i:04d}.jpg")


@pytest.fixture
def lib_with(library, tmp_path):
    root = tmp_path / "photos"
    root.mkdir()

    def make(n, **kw):
        fill(root, n, **kw)
        library.folders.add(root)
        return library, root

    return make


def test_progress_reaches_the_total_with_rate_and_eta(lib_with):
    lib, root = lib_with(40)
    seen = []
    result = lib.folders.pipeline(on_progress=seen.append, progress_interval=0).run()
    assert result.indexed == 40 and result.failed == 0
    indexing = [p for p in seen if p.phase == "indexing"]
    assert indexing[-1].done == indexing[-1].total == 40
    assert all(p.total == 40 for p in indexing)
    assert any(p.rate > 0 for p in indexing) and any(p.eta is not None for p in indexing)
    assert indexing[-1].current.endswith(".jpg") and indexing[-1].folder == str(root)
    assert seen[-1].phase == "done"


def test_embeddings_are_stored_per_model_and_announced(lib_with):
    lib, root = lib_with(20)
    emb = ColourEmbedder()
    announced = []
    result = lib.folders.pipeline(embedder=emb, on_embedded=lambda m, ids, v: announced.append((m, len(ids))), batch_size=8).run()
    assert result.indexed == 20
    assert lib.catalog.embedding_count("colour-test") == 20
    assert sum(n for _, n in announced) == 20 and max(emb.batches) <= 8
    ids, vecs = next(lib.catalog.iter_embeddings("colour-test"))
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1, atol=1e-5)


def test_switching_model_re_embeds_indexed_photos(lib_with):
    lib, root = lib_with(6)
    lib.folders.pipeline(embedder=ColourEmbedder()).run()

    class Other(ColourEmbedder):
        model_id = "other"

    r = lib.folders.pipeline(embedder=Other()).run()
    assert r.indexed == 6
    assert lib.catalog.embedded_models() == {"colour-test": 6, "other": 6}


def test_a_photo_the_model_rejects_fails_alone(lib_with):
    lib, root = lib_with(5)
    make_photo(root / "red.jpg", array=np.full((64, 64, 3), (255, 0, 0), np.uint8))
    age(root / "red.jpg")
    r = lib.folders.pipeline(embedder=ColourEmbedder(fail_on_red=True)).run()
    assert (r.indexed, r.failed) == (5, 1)
    (failure,) = lib.catalog.failures()
    assert failure.path.endswith("red.jpg") and "model could not embed" in failure.reason


def test_broken_files_are_recorded_and_the_rest_goes_on(lib_with):
    lib, root = lib_with(5)
    (root / "empty.jpg").write_bytes(b"")
    (root / "noise.jpg").write_bytes(os.urandom(3000))
    for p in ("empty.jpg", "noise.jpg"):
        age(root / p)
    r = lib.folders.pipeline().run()
    assert (r.indexed, r.failed) == (5, 2)
    reasons = {os.path.basename(p.path): p.reason for p in lib.catalog.failures()}
    assert "empty file" in reasons["empty.jpg"] and "not a supported image" in reasons["noise.jpg"]


def test_pause_and_resume(lib_with):
    lib, root = lib_with(30)
    phases = []
    pipe = lib.folders.pipeline(on_progress=lambda p: phases.append((p.phase, p.done)), progress_interval=0,
                        decode_workers=1, queue_size=4, batch_size=2)
    paused_at = {}

    def control():
        while not any(ph == "indexing" and done >= 4 for ph, done in phases):
            time.sleep(0.005)
        pipe.pause()
        time.sleep(0.3)
        paused_at["done"] = lib.catalog.counts()["indexed"]
        time.sleep(0.5)
        paused_at["later"] = lib.catalog.counts()["indexed"]
        pipe.resume()

    t = threading.Thread(target=control)
    t.start()
    result = pipe.run()
    t.join()
    assert result.indexed == 30
    assert paused_at["done"] == paused_at["later"] < 30
    assert ("paused", phases[[p for p, _ in phases].index("paused")][1]) in phases


def test_cancel_then_a_new_run_finishes_without_redoing(lib_with):
    lib, root = lib_with(30)
    pipe = lib.folders.pipeline(decode_workers=1, batch_size=2, queue_size=4, progress_interval=0)
    pipe.on_progress = lambda p: pipe.cancel() if p.phase == "indexing" and p.done >= 6 else None
    first = pipe.run()
    assert first.cancelled and 6 <= first.indexed < 30
    done_before = {p.id: p for p in lib.catalog.photos(status="indexed")}
    stamps = dict(_sql(lib, "SELECT id, indexed_at FROM photos WHERE status='indexed'"))
    second = lib.folders.pipeline().run()
    assert second.indexed == 30 - len(done_before)
    after = dict(_sql(lib, "SELECT id, indexed_at FROM photos"))
    assert all(after[i] == stamps[i] for i in done_before)


def test_resume_after_a_crash(tmp_path):
    """SIGKILL the indexer half way; the next run only does what is left."""
    root = tmp_path / "photos"
    root.mkdir()
    fill(root, 60)
    env = {**os.environ, "CLIPDESK_DATA_DIR": str(tmp_path / "d"), "CLIPDESK_CACHE_DIR": str(tmp_path / "c")}
    code = textwrap.dedent("""
        import sys
        from clipdesk.core.library import Library
        from clipdesk.core.paths import Paths
        lib = Library(Paths.from_env())
        lib.folders.add(sys.argv[1])
        def progress(p):
            if p.phase == "indexing" and p.done >= 20:
                print("halfway", flush=True)
        lib.folders.pipeline(on_progress=progress, decode_workers=1, batch_size=4, progress_interval=0).run()
    """)
    with subprocess.Popen([sys.executable, "-c", code, str(root)], env=env, stdout=subprocess.PIPE, text=True) as proc:
        try:
            assert proc.stdout.readline().strip() == "halfway"
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
    from clipdesk.core.paths import Paths

    with Library(Paths.from_env(env)) as lib:
        done = lib.catalog.counts()["indexed"]
        assert 20 <= done < 60
        stamps = dict(_sql(lib, "SELECT id, indexed_at FROM photos WHERE status='indexed'"))
        r = lib.folders.pipeline().run()
        assert r.indexed == 60 - done
        after = dict(_sql(lib, "SELECT id, indexed_at FROM photos"))
        assert all(after[i] == t for i, t in stamps.items())
        assert lib.catalog.counts()["indexed"] == 60


@pytest.mark.skipif(shutil.which("unshare") is None, reason="needs unshare(1) for a private tmpfs")
def test_disk_full_while_writing_thumbnails(tmp_path):
    """A real full disk: the thumbnail cache on a 200 KiB tmpfs in a private mount namespace."""
    root = tmp_path / "photos"
    root.mkdir()
    fill(root, 40, size=(1200, 900))
    cache = tmp_path / "cache"
    cache.mkdir()
    code = textwrap.dedent(f"""
        import json
        from pathlib import Path
        from clipdesk.core.library import Library
        from clipdesk.core.paths import Paths
        lib = Library(Paths(Path({str(tmp_path / 'data')!r}), Path({str(cache)!r})))
        lib.folders.add({str(root)!r})
        r = lib.folders.pipeline().run()
        print(json.dumps({{"error": r.error, "indexed": r.indexed, "counts": lib.catalog.counts()}}))
    """)
    script = tmp_path / "run.py"
    script.write_text(code)
    probe = subprocess.run(["unshare", "-Urm", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"unprivileged mount namespaces are not available: {probe.stderr.decode().strip()}")
    out = subprocess.run(
        ["unshare", "-Urm", "sh", "-c",
         f"mount -t tmpfs -o size=200k tmpfs {cache} && exec {sys.executable} {script}"],
        capture_output=True, text=True, timeout=120,
    )
    assert out.returncode == 0, out.stderr
    import json

    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert "full" in report["error"] and "nothing was lost" in report["error"]
    assert 0 < report["indexed"] < 40
    assert report["counts"]["indexed"] == report["indexed"]
    assert report["counts"]["failed"] == 0 and report["counts"]["pending"] == 40 - report["indexed"]
    # Once there is room again, a new run picks up where it stopped.
    from clipdesk.core.paths import Paths

    with Library(Paths(tmp_path / "data", cache)) as lib:
        waiting = _sql(lib, "SELECT reason FROM photos WHERE reason IS NOT NULL")
        assert waiting and "disk full" in waiting[0][0]
        r = lib.folders.pipeline().run()
        assert r.error is None and lib.catalog.counts()["indexed"] == 40


def _sql(lib, query: str, *args):
    """Read the catalog file directly (what the test checks is not an API)."""
    con = sqlite3.connect(lib.catalog.path)
    try:
        return con.execute(query, args).fetchall()
    finally:
        con.close()


def test_a_damaged_model_stops_the_run_and_fails_no_photo(paths, tmp_path):
    """Issue 14, part 7: a whole-model error is not a photo's fault. The photos
    wait, and are indexed once the model is repaired."""
    from colourkit import write_colour_bundle

    bundle = paths.models_dir / "colour-test"
    write_colour_bundle(bundle)
    onnx = bundle / "visual" / "model.onnx"
    good = onnx.read_bytes()
    damaged = bytearray(good)
    damaged[len(damaged) // 2] ^= 0xFF
    onnx.write_bytes(bytes(damaged))
    root = tmp_path / "photos"
    fill(root, 6)
    with Library(paths) as lib:
        lib.folders.add(root)
        r = lib.folders.index()
        assert r.error and "model" in r.error and r.failed == 0
        counts = lib.folders.counts()
        assert counts["failed"] == 0 and counts["pending"] == 6
    onnx.write_bytes(good)
    with Library(paths) as lib:
        r = lib.folders.index()
        assert r.error is None and r.indexed == 6
        assert lib.folders.counts()["indexed"] == 6


def test_a_read_only_cache_folder_stops_indexing_with_what_to_do(tmp_path):
    """Issue 14, part 7: it blocked all indexing with "files are still being
    written; they will be indexed later" and exit 0."""
    import json

    from support import run_with_small_disks

    root = tmp_path / "photos"
    root.mkdir()
    fill(root, 5)
    cache = tmp_path / "cache"
    cache.mkdir()
    script = textwrap.dedent(f"""
        import json, subprocess
        from pathlib import Path
        from clipdesk.core.library import Library
        from clipdesk.core.paths import Paths
        subprocess.run(["mount", "-o", "remount,ro", {str(cache)!r}], check=True)
        with Library(Paths(Path({str(tmp_path / 'data')!r}), Path({str(cache)!r}))) as lib:
            lib.folders.add({str(root)!r})
            r = lib.folders.pipeline(embed=False).run()
            print(json.dumps({{"error": r.error, "counts": lib.folders.counts()}}))
    """)
    done = run_with_small_disks(script, {cache: "size=1m"}, tmp_path)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert "cannot be written" in report["error"] and "nothing was lost" in report["error"]
    assert report["counts"]["failed"] == 0 and report["counts"]["pending"] == 5

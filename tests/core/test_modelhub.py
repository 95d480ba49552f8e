"""Downloading models from a real HTTP server on 127.0.0.1 that also misbehaves."""

from __future__ import annotations

import json
import os
import socket
import threading

import numpy as np
import pytest
from bundlekit import image_model, text_model, transformer_text_model, write_bundle
from hubserver import LFS_MIN, HubServer

from clipdesk.core import bundle as B
from clipdesk.core import modelhub as hub
from clipdesk.core import textgraph
from clipdesk.core.engine import TextEncoder, load_encoders
from clipdesk.core.errors import ModelError, NotFound, UsageError
from clipdesk.core.paths import Paths

REPO = "immich-app/tiny__test"
INFO = hub.ModelInfo("tiny__test", REPO, "main", 1, 64, 32, "tests")
BIG = "visual/model.onnx"  # an LFS file, served through the CDN redirect
SMALL = "config.json"  # a plain git file, checked by its blob SHA-1


@pytest.fixture
def served(tmp_path):
    """The raw Immich layout (no manifest.json) plus files a bundle does not need."""
    folder = write_bundle(
        tmp_path / "upstream", dim=64, manifest=False,
        image_onnx=image_model(32, 64), text_onnx=text_model(12, 64),
    )
    server = HubServer(page_size=3)
    server.add_repo(REPO, folder, extra={
        "README.md": b"# tiny\n",
        ".gitattributes": b"*.onnx filter=lfs\n",
        "visual/rknpu/rk3588/model.rknn": b"\0" * 2000,
        "textual/fp16/model.armnn": b"\0" * 2000,
    })
    server.start()
    yield server
    server.stop()


@pytest.fixture
def app(tmp_path, monkeypatch):
    shipped = tmp_path / "shipped"
    write_bundle(shipped / "clipdesk-mini")
    (shipped / "train_mini").mkdir()  # not a bundle: must not be listed
    monkeypatch.setenv("CLIPDESK_MODELS_DIR", str(shipped))
    return Paths.under(tmp_path / "app").ensure()


def _download(paths, server, **kw):
    kw.setdefault("backoff", 0.01)
    kw.setdefault("timeout", 10)
    return hub.download_model(INFO, paths, endpoint=server.url, **kw)


def _leftovers(paths):
    return sorted(p.name for p in paths.models_dir.iterdir() if p.name.startswith((".staging", ".trash")))


def test_download_installs_a_verified_bundle_with_progress(app, served):
    assert served.repos[REPO]["files"][BIG].__len__() >= LFS_MIN
    seen = []
    path = _download(app, served, progress=seen.append)

    assert path == app.models_dir / "tiny__test"
    manifest = json.loads((path / B.MANIFEST).read_text())
    assert manifest["source"] == {"repo": REPO, "revision": served.repos[REPO]["commit"], "endpoint": served.url}
    assert set(manifest["files"]) == {
        "config.json", "visual/model.onnx", "visual/preprocess_cfg.json", "textual/model.onnx",
        "textual/tokenizer.json", "textual/tokenizer_config.json", "textual/special_tokens_map.json",
    }
    image, text = load_encoders(path)
    assert image.embed(np.zeros((1, 3, 32, 32), np.float32)).shape == (1, 64)
    assert text.embed_texts(["a dog"]).shape == (1, 64)

    total = sum(e["size"] for e in manifest["files"].values())
    assert [p.done for p in seen] == sorted(p.done for p in seen)
    assert seen[-1].done == seen[-1].total == total
    assert not (app.models_dir / hub.DOWNLOADS_DIR / "tiny__test").exists()
    assert _leftovers(app) == []
    assert not any("rknn" in url or "armnn" in url for url, _ in served.requests)
    # The tree came in pages (page size 3), all from the resolved commit.
    assert sum("/tree/" in url for url, _ in served.requests) > 3


def test_a_dropped_connection_resumes_with_a_range_request(app, served):
    served.drop = {BIG: 700, SMALL: 10}
    _download(app, served)
    assert served.file_requests(BIG) == [None, "bytes=700-"]
    assert served.file_requests(SMALL) == [None, "bytes=10-"]
    B.verify_bundle(app.models_dir / "tiny__test")


def test_a_failed_download_resumes_in_a_later_call(app, served):
    served.drop = {BIG: 700}
    with pytest.raises(ModelError, match=r"connection closed after 700 of \d+ bytes .*run the download again to resume"):
        _download(app, served, retries=0)
    assert hub.find_model(app, "tiny__test") is None
    assert hub.choose_model(app).model_id == "clipdesk-mini"  # a half-download is never used
    _download(app, served)
    assert served.file_requests(BIG)[-1] == "bytes=700-"
    assert hub.choose_model(app).model_id == "tiny__test"


def test_a_server_that_ignores_range_restarts_the_file(app, served):
    served.drop = {BIG: 700}
    served.ignore_range = True
    _download(app, served)
    B.verify_bundle(app.models_dir / "tiny__test")


def test_cancel_keeps_what_is_done_for_next_time(app, served):
    cancel = threading.Event()

    def progress(p):
        if p.file == B.TEXTUAL_MODEL:  # files come in tree order: config.json first
            cancel.set()

    with pytest.raises(hub.DownloadCancelled):
        _download(app, served, progress=progress, cancel=cancel)
    assert hub.find_model(app, "tiny__test") is None
    served.requests.clear()
    _download(app, served)
    assert served.file_requests(SMALL) == []  # finished before the cancel
    assert served.file_requests(B.TEXTUAL_MODEL) == []  # all its bytes had arrived
    assert served.file_requests(BIG) == [None]


@pytest.mark.parametrize("path", [BIG, SMALL])
def test_wrong_bytes_are_caught_and_nothing_is_installed(app, served, path):
    served.wrong = {path}
    with pytest.raises(ModelError, match=f"{path} does not match the checksum the hub reported"):
        _download(app, served)
    assert hub.find_model(app, "tiny__test") is None
    assert _leftovers(app) == []
    assert not (app.models_dir / "tiny__test").exists()


def test_an_html_page_instead_of_the_api(app, served):
    served.html_api = True
    with pytest.raises(ModelError, match="answered with a web page instead of data"):
        _download(app, served)


def test_an_html_page_instead_of_a_file(app, served):
    served.html_files = {"textual/model.onnx"}
    with pytest.raises(ModelError, match="web page instead of textual/model.onnx"):
        _download(app, served)
    assert hub.find_model(app, "tiny__test") is None


def test_a_server_that_is_not_there(app):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(ModelError, match=f"cannot reach the model server at http://127.0.0.1:{port}"):
        hub.download_model(INFO, app, endpoint=f"http://127.0.0.1:{port}", timeout=5)


def test_an_unknown_repository(app, served):
    info = hub.ModelInfo("nope__none", "immich-app/nope__none", "main", 1, 8, 32, "")
    with pytest.raises(ModelError, match=f"immich-app/nope__none \\(revision main\\) does not exist on {served.url}"):
        hub.download_model(info, app, endpoint=served.url)


def test_the_endpoint_comes_from_the_environment(app, served, monkeypatch):
    monkeypatch.setenv(hub.ENDPOINT_ENV, served.url + "/")
    assert hub.download_model(INFO, app, backoff=0.01).name == "tiny__test"


def test_a_second_download_of_the_same_model_waits_its_turn(app, served):
    from filelock import FileLock

    lock_dir = app.models_dir / hub.DOWNLOADS_DIR
    lock_dir.mkdir(parents=True)
    with FileLock(str(lock_dir / "tiny__test.lock")):
        with pytest.raises(ModelError, match="already being downloaded"):
            _download(app, served)


def test_downloading_again_replaces_a_corrupt_install(app, served):
    path = _download(app, served)
    (path / BIG).write_bytes(b"garbage")
    with pytest.raises(ModelError, match="corrupt"):
        hub.verify_model(app, "tiny__test")
    _download(app, served)
    assert hub.verify_model(app, "tiny__test").model_id == "tiny__test"
    assert _leftovers(app) == []


# -- what is installed -------------------------------------------------------------


def test_the_shipped_model_counts_as_installed_and_is_the_fallback(app, served):
    models = hub.installed_models(app)
    assert [(m.model_id, m.bundled) for m in models] == [("clipdesk-mini", True)]
    assert hub.choose_model(app).model_id == "clipdesk-mini"
    _download(app, served)
    assert [m.model_id for m in hub.installed_models(app)] == ["tiny__test", "clipdesk-mini"]
    assert hub.choose_model(app).model_id == "tiny__test"
    assert hub.choose_model(app, preferred="clipdesk-mini").model_id == "clipdesk-mini"
    assert hub.choose_model(app, preferred="gone__model").model_id == "tiny__test"


def test_no_model_at_all(tmp_path, monkeypatch):
    monkeypatch.setenv("CLIPDESK_MODELS_DIR", str(tmp_path / "empty"))
    with pytest.raises(NotFound, match="clipdesk models download ViT-B-32__openai"):
        hub.choose_model(Paths.under(tmp_path))


def test_remove(app, served):
    _download(app, served)
    hub.remove_model(app, "tiny__test")
    assert hub.find_model(app, "tiny__test") is None and _leftovers(app) == []
    with pytest.raises(NotFound):
        hub.remove_model(app, "tiny__test")
    with pytest.raises(UsageError, match="ships with ClipDesk"):
        hub.remove_model(app, "clipdesk-mini")
    with pytest.raises(UsageError, match="not a valid model name"):
        hub.remove_model(app, "../etc")


def test_the_registry():
    names = [m.name for m in hub.REGISTRY]
    assert len(names) == len(set(names))
    assert hub.DEFAULT_MODEL == "ViT-B-32__openai"
    assert [m.name for m in hub.REGISTRY if m.recommended] == [hub.DEFAULT_MODEL]
    for m in hub.REGISTRY:
        assert m.repo == f"immich-app/{m.name}" and m.size_mb > 0 and m.embed_dim > 0
    assert hub.model_info("vit-b-32__OPENAI").name == "ViT-B-32__openai"
    assert hub.model_info("ViT-H-14__laion2b-s32b-b79k").repo == "immich-app/ViT-H-14__laion2b-s32b-b79k"
    with pytest.raises(NotFound):
        hub.model_info("../../x")


# -- the query-length text model, made once after download ---------------------------------

CAUSAL = hub.ModelInfo("causal__test", "immich-app/causal__test", "main", 1, 8, 32, "tests")


def _serve_text_tower(tmp_path, server, info, text_onnx, text_cfg=None):
    folder = write_bundle(tmp_path / info.name, ctx=16, manifest=False, text_onnx=text_onnx, text_cfg=text_cfg)
    server.add_repo(info.repo, folder)
    return folder


def test_a_downloaded_causal_model_gets_a_checked_query_length_text_model(app, served, tmp_path):
    upstream = _serve_text_tower(tmp_path, served, CAUSAL, transformer_text_model(16, 8, batch=1))
    path = hub.download_model(CAUSAL, app, endpoint=served.url, backoff=0.01)

    manifest = json.loads((path / B.MANIFEST).read_text())
    record = manifest["text_model"]
    assert record["file"] == B.QUERY_TEXTUAL_MODEL and record["input_length"] == "query"
    assert record["original"] == B.TEXTUAL_MODEL and record["check"]["min_cosine"] >= textgraph.MIN_COSINE
    # The original is the hub's file, byte for byte; the rewritten one joined the manifest.
    assert (path / B.TEXTUAL_MODEL).read_bytes() == (upstream / B.TEXTUAL_MODEL).read_bytes()
    assert set(manifest["files"]) >= {B.TEXTUAL_MODEL, B.QUERY_TEXTUAL_MODEL}
    assert hub.verify_model(app, CAUSAL.name).text_form.query_length
    assert hub.find_model(app, CAUSAL.name).text_model == record
    assert TextEncoder.from_path(path).query_length
    assert _leftovers(app) == []


def test_a_downloaded_bidirectional_model_keeps_its_text_model_and_says_why(app, served, tmp_path):
    info = hub.ModelInfo("siglip__test", "immich-app/siglip__test", "main", 1, 8, 32, "tests")
    _serve_text_tower(tmp_path, served, info, transformer_text_model(16, 8, causal=False, pooling="last"),
                      text_cfg={"no_causal_mask": True, "pool_type": "last"})
    path = hub.download_model(info, app, endpoint=served.url, backoff=0.01)
    record = hub.find_model(app, info.name).text_model
    assert record["input_length"] == "fixed" and "bidirectional attention" in record["reason"]
    assert not (path / B.QUERY_TEXTUAL_MODEL).exists()
    assert not TextEncoder.from_path(path).query_length


def test_a_model_installed_before_query_length_models_can_get_one(app, served, tmp_path):
    _serve_text_tower(tmp_path, served, CAUSAL, transformer_text_model(16, 8, batch="batch"))
    path = hub.download_model(CAUSAL, app, endpoint=served.url, backoff=0.01)
    # As an older ClipDesk left it: no rewritten file, no record.
    (path / B.QUERY_TEXTUAL_MODEL).unlink()
    manifest = json.loads((path / B.MANIFEST).read_text())
    del manifest["text_model"], manifest["files"][B.QUERY_TEXTUAL_MODEL]
    (path / B.MANIFEST).write_text(json.dumps(manifest))
    assert not TextEncoder.from_path(path).query_length

    form = hub.prepare_text_model(app, CAUSAL.name)
    assert form.query_length and TextEncoder.from_path(path).query_length
    with pytest.raises(UsageError, match="ships with ClipDesk"):
        hub.prepare_text_model(app, "clipdesk-mini")
    with pytest.raises(NotFound):
        hub.prepare_text_model(app, "gone__model")


def test_the_cli_prepares_older_downloads_and_doctor_says_how_texts_are_encoded(app, served, tmp_path):
    from support import run_cli

    _serve_text_tower(tmp_path, served, CAUSAL, transformer_text_model(16, 8, batch="batch"))
    path = hub.download_model(CAUSAL, app, endpoint=served.url, backoff=0.01)
    (path / B.QUERY_TEXTUAL_MODEL).unlink()  # as an older ClipDesk left it
    manifest = json.loads((path / B.MANIFEST).read_text())
    del manifest["text_model"], manifest["files"][B.QUERY_TEXTUAL_MODEL]
    (path / B.MANIFEST).write_text(json.dumps(manifest))
    env = {"CLIPDESK_DATA_DIR": str(app.data_dir), "CLIPDESK_CACHE_DIR": str(app.cache_dir),
           "CLIPDESK_MODELS_DIR": os.environ["CLIPDESK_MODELS_DIR"]}
    doctor = run_cli("doctor", env=env)
    assert "clipdesk models prepare" in doctor.stdout, doctor.stdout + doctor.stderr
    done = run_cli("models", "prepare", env=env)
    assert done.returncode == 0 and f"{CAUSAL.name}: texts at their own length" in done.stdout, done.stderr
    report = json.loads(run_cli("doctor", "--json", env=env).stdout)
    record = next(m for m in report["models"] if m["name"] == CAUSAL.name)["text_model"]
    assert record["input_length"] == "query"
    again = run_cli("models", "prepare", env=env)
    assert "already has its text model record" in again.stdout

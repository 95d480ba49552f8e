"""`clipdesk models ...` and `clipdesk doctor`, run as the real command against a local hub."""

import json

import pytest
from bundlekit import image_model, text_model, write_bundle
from hubserver import HubServer
from support import run_cli


@pytest.fixture
def hub_env(tmp_path):
    upstream = write_bundle(tmp_path / "up", dim=64, manifest=False,
                            image_onnx=image_model(32, 64), text_onnx=text_model(12, 64))
    server = HubServer()
    server.add_repo("immich-app/Tiny-B-32__test", upstream)
    server.start()
    shipped = tmp_path / "shipped"
    write_bundle(shipped / "clipdesk-mini")
    yield {"CLIPDESK_HF_ENDPOINT": server.url, "CLIPDESK_MODELS_DIR": str(shipped)}, server
    server.stop()


def test_list_download_verify_remove(hub_env, tmp_path):
    env, server = hub_env
    listing = json.loads(run_cli("models", "list", "--json", env=env).stdout)
    assert listing["default"] == "ViT-B-32__openai"
    rows = {r["name"]: r for r in listing["models"]}
    assert rows["ViT-B-32__openai"]["recommended"] and not rows["ViT-B-32__openai"]["installed"]
    assert rows["clipdesk-mini"]["installed"] and rows["clipdesk-mini"]["bundled"]
    assert listing["in_use"] in rows and rows[listing["in_use"]]["installed"]
    text = run_cli("models", "list", env=env).stdout
    (line,) = [ln for ln in text.splitlines() if f" {listing['in_use']} " in ln]
    assert "in use" in line  # which model searches use, as doctor marks it

    r = run_cli("models", "download", "Tiny-B-32__test", "--json", env=env)
    assert r.returncode == 0, r.stderr
    path = json.loads(r.stdout)["path"]
    rows = {m["name"]: m for m in json.loads(run_cli("models", "list", "--json", env=env).stdout)["models"]}
    assert rows["Tiny-B-32__test"]["installed"] and rows["Tiny-B-32__test"]["path"] == path
    assert rows["Tiny-B-32__test"]["revision"] == server.repos["immich-app/Tiny-B-32__test"]["commit"]

    r = run_cli("models", "verify", "--json", env=env)
    assert r.returncode == 0
    assert {m["name"]: m["ok"] for m in json.loads(r.stdout)["models"]} == {"Tiny-B-32__test": True, "clipdesk-mini": True}

    with open(f"{path}/textual/model.onnx", "r+b") as f:
        f.seek(100)
        f.write(b"\0\0\0\0")
    r = run_cli("models", "verify", "Tiny-B-32__test", env=env)
    assert r.returncode == 6 and "Traceback" not in r.stderr
    assert "textual/model.onnx does not match its checksum; run `clipdesk models download Tiny-B-32__test`" in r.stderr

    assert run_cli("models", "remove", "Tiny-B-32__test", env=env).returncode == 0
    r = run_cli("models", "remove", "clipdesk-mini", env=env)
    assert r.returncode == 2 and "ships with ClipDesk" in r.stderr


def test_download_errors_are_one_line(hub_env):
    env, _ = hub_env
    r = run_cli("models", "download", "nothing-here", env=env)
    assert r.returncode == 4 and r.stderr.count("\n") == 1 and "clipdesk models list" in r.stderr
    r = run_cli("models", "download", "Gone-B-32__nope", env=env)
    assert r.returncode == 6 and "Traceback" not in r.stderr


def test_doctor(hub_env):
    env, _ = hub_env
    r = run_cli("doctor", "--json", env=env)
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert "CPUExecutionProvider" in report["providers_available"]
    assert report["providers_plan"][-1] == "CPUExecutionProvider"
    assert report["active_model"] == "clipdesk-mini"
    assert [m["name"] for m in report["models"]] == ["clipdesk-mini"]
    text = run_cli("doctor", env={**env, "CLIPDESK_PROVIDERS": "cuda,cpu"}).stdout
    assert "will try, in order:" in text and "clipdesk-mini" in text

"""The Models dialog against a real HTTP server on 127.0.0.1; the demo-model banner."""

from __future__ import annotations

import pytest
from bundlekit import image_model, text_model, write_bundle
from hubserver import HubServer
from PySide6.QtCore import Qt

from clipdesk.core import modelhub

RECOMMENDED = modelhub.DEFAULT_MODEL


@pytest.fixture
def hub(tmp_path):
    folder = write_bundle(tmp_path / "upstream", dim=16, manifest=False,
                          image_onnx=image_model(32, 16), text_onnx=text_model(12, 16))
    server = HubServer(page_size=3)
    server.add_repo(f"immich-app/{RECOMMENDED}", folder, extra={"README.md": b"# model\n"})
    server.start()
    yield server
    server.stop()


def test_download_use_and_remove_a_model(open_window, indexed, hub, qtbot):
    # Real threads: the progress bar moves while the download runs.
    window = open_window(indexed, hub_endpoint=hub.url, threads=True)
    window.open_models()
    dialog = window.models_dialog
    qtbot.waitUntil(lambda: dialog.status is not None, timeout=5000)
    item, controls = dialog.rows[RECOMMENDED]
    assert item.text(3) == "not installed"
    assert controls.download.isVisible() and not controls.use.isVisible()
    assert "colour-test" in dialog.rows and "in use" in dialog.rows["colour-test"][0].text(3)
    assert "Searches use" in dialog.banner.text()

    values = []
    controls.bar.valueChanged.connect(values.append)
    with qtbot.waitSignal(dialog.downloadFinished, timeout=30000) as done:
        qtbot.mouseClick(controls.download, Qt.MouseButton.LeftButton)
        assert controls.bar.isVisible() and controls.cancel.isVisible()
    assert done.args == [RECOMMENDED, ""]
    assert values and values[-1] == 1000 and values == sorted(values)
    assert (indexed.models_dir / RECOMMENDED / "manifest.json").is_file()
    qtbot.waitUntil(lambda: controls.use.isVisible(), timeout=5000)
    assert item.text(3).startswith("installed")
    assert not controls.download.isVisible() and controls.remove.isVisible()

    with qtbot.waitSignal(dialog.modelChosen, timeout=10000):
        qtbot.mouseClick(controls.use, Qt.MouseButton.LeftButton)
    assert window.library.models.status().model_id == RECOMMENDED
    qtbot.waitUntil(lambda: "in use" in item.text(3), timeout=5000)
    # Switching models re-embeds the library in the background.
    qtbot.waitUntil(lambda: not window.index.running
                    and window.library.catalog.embedded_models().get(RECOMMENDED) == 60, timeout=30000)

    with qtbot.waitSignal(dialog.listed, timeout=10000):
        qtbot.mouseClick(controls.remove, Qt.MouseButton.LeftButton)
    assert not (indexed.models_dir / RECOMMENDED).exists()
    assert item.text(3).startswith("not installed") and controls.download.isVisible()


def test_a_failed_download_says_why_and_can_be_retried(open_window, indexed, hub, qtbot):
    hub.html_api = True  # a captive portal answers instead of the hub
    window = open_window(indexed, hub_endpoint=hub.url)
    window.open_models()
    dialog = window.models_dialog
    qtbot.waitUntil(lambda: dialog.status is not None, timeout=5000)
    item, controls = dialog.rows[RECOMMENDED]
    with qtbot.waitSignal(dialog.downloadFinished, timeout=30000) as done:
        dialog.download(RECOMMENDED)
    assert done.args[0] == RECOMMENDED and done.args[1]
    qtbot.waitUntil(lambda: controls.download.isVisible(), timeout=5000)
    assert not (indexed.models_dir / RECOMMENDED).exists()
    hub.html_api = False
    with qtbot.waitSignal(dialog.downloadFinished, timeout=30000) as done:
        dialog.download(RECOMMENDED)
    assert done.args == [RECOMMENDED, ""]


def test_the_demo_model_says_so_and_offers_the_recommended_one(open_window, paths, tmp_path, monkeypatch, qtbot):
    shipped = tmp_path / "shipped"
    write_bundle(shipped / "clipdesk-mini")
    monkeypatch.setenv("CLIPDESK_MODELS_DIR", str(shipped))
    window = open_window(paths)
    qtbot.waitUntil(lambda: window.banner.status is not None, timeout=5000)
    assert window.banner.status.is_demo
    assert window.banner.isVisible()
    assert "Demo model" in window.banner.label.text()
    assert window.banner.button.text() == f"Get {RECOMMENDED}…"
    qtbot.mouseClick(window.banner.button, Qt.MouseButton.LeftButton)
    dialog = window.models_dialog
    qtbot.waitUntil(lambda: dialog.status is not None, timeout=5000)
    assert "demo model" in dialog.banner.text()
    assert RECOMMENDED in dialog.banner.text()
    assert dialog.rows["clipdesk-mini"][0].text(3).startswith("built in (demo)")
    assert not dialog.rows["clipdesk-mini"][1].remove.isVisible()

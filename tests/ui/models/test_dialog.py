"""The Models dialog against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

from PySide6.QtCore import Qt

from clipdesk.core import modelhub

RECOMMENDED = modelhub.DEFAULT_MODEL


def test_download_use_and_remove_a_model(open_window, indexed, model_hub, qtbot):
    # Real threads: the progress bar moves while the download runs.
    window = open_window(indexed, hub_endpoint=model_hub.url, threads=True)
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


def test_a_failed_download_says_why_and_can_be_retried(open_window, indexed, model_hub, qtbot):
    model_hub.html_api = True  # a captive portal answers instead of the hub
    window = open_window(indexed, hub_endpoint=model_hub.url)
    window.open_models()
    dialog = window.models_dialog
    assert dialog.status is not None
    item, controls = dialog.rows[RECOMMENDED]
    finished = []
    dialog.downloadFinished.connect(lambda *args: finished.append(args))
    dialog.download(RECOMMENDED)
    assert finished[-1][0] == RECOMMENDED and finished[-1][1]
    assert controls.download.isVisible()
    assert not (indexed.models_dir / RECOMMENDED).exists()
    model_hub.html_api = False
    dialog.download(RECOMMENDED)
    assert finished[-1] == (RECOMMENDED, "")
    assert item.text(3).startswith("installed")

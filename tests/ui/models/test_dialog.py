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
    controls = dialog.rows[RECOMMENDED]
    assert controls.state.text() == "not installed"
    assert controls.download.isVisible() and not controls.use.isVisible()
    assert "recommended" in controls.name.text()
    assert "colour-test" in dialog.rows and "in use" in dialog.rows["colour-test"].state.text()
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
    assert controls.state.text().startswith("installed")
    assert not controls.download.isVisible() and controls.remove.isVisible()

    with qtbot.waitSignal(dialog.modelChosen, timeout=10000):
        qtbot.mouseClick(controls.use, Qt.MouseButton.LeftButton)
    assert window.library.models.status().model_id == RECOMMENDED
    qtbot.waitUntil(lambda: "in use" in controls.state.text(), timeout=5000)
    # Switching models re-embeds the library in the background.
    qtbot.waitUntil(lambda: not window.index.running
                    and window.library.catalog.embedded_models().get(RECOMMENDED) == 60, timeout=30000)

    with qtbot.waitSignal(dialog.listed, timeout=10000):
        qtbot.mouseClick(controls.remove, Qt.MouseButton.LeftButton)
    assert not (indexed.models_dir / RECOMMENDED).exists()
    assert controls.state.text().startswith("not installed") and controls.download.isVisible()


def test_a_failed_download_says_why_in_its_row_and_retry_keeps_the_focus(open_window, indexed, model_hub, qtbot):
    """Issue 16: a failed download was shown only in a tooltip, and the focus
    jumped to the next row's button."""
    model_hub.html_api = True  # a captive portal answers instead of the hub
    window = open_window(indexed, hub_endpoint=model_hub.url)
    window.open_models()
    dialog = window.models_dialog
    assert dialog.status is not None
    row = dialog.rows[RECOMMENDED]
    finished = []
    dialog.downloadFinished.connect(lambda *args: finished.append(args))
    dialog.activateWindow()
    row.download.setFocus()
    qtbot.waitUntil(row.download.hasFocus, timeout=5000)
    qtbot.keyClick(row.download, Qt.Key.Key_Space)
    assert finished[-1][0] == RECOMMENDED and finished[-1][1]
    assert row.error.isVisible() and row.error.text().startswith("The download failed: ")
    assert finished[-1][1] in row.error.text()
    assert row.download.isVisible() and row.download.text() == "Retry"
    assert row.download.hasFocus()  # not the next row's Download
    assert not (indexed.models_dir / RECOMMENDED).exists()
    model_hub.html_api = False
    qtbot.keyClick(row.download, Qt.Key.Key_Space)
    assert finished[-1] == (RECOMMENDED, "")
    assert row.state.text().startswith("installed") and not row.error.isVisible()
    assert row.use.hasFocus()


def test_the_accelerators_are_named_and_only_real_ones(open_window, indexed, qtbot):
    """Issue 16: "GPU available: Azure" on a CPU-only machine (ONNX Runtime's
    Azure provider is no GPU)."""
    from clipdesk.core.engine import gpu_providers

    window = open_window(indexed)
    window.open_models()
    text = window.models_dialog.providers.text()
    assert "Azure" not in text and "ExecutionProvider" not in text
    gpus = gpu_providers()
    assert text.startswith("GPU available: " + ", ".join(gpus) if gpus else "No GPU in this installation")

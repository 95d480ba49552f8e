"""The banner that says searches use the demo model, and offers the recommended one."""

from __future__ import annotations

from bundlekit import write_bundle
from PySide6.QtCore import Qt

from clipdesk.core import modelhub

RECOMMENDED = modelhub.DEFAULT_MODEL


def test_the_demo_model_says_so_and_offers_the_recommended_one(open_window, paths, tmp_path, monkeypatch, qtbot):
    shipped = tmp_path / "shipped"
    write_bundle(shipped / "clipdesk-mini")
    monkeypatch.setenv("CLIPDESK_MODELS_DIR", str(shipped))
    window = open_window(paths)
    assert window.banner.status.is_demo
    assert window.banner.isVisible()
    assert "demo model" in window.banner.label.text()
    # Words, not model ids (issue 16: the button said "Get ViT-B-32__openai…").
    assert window.banner.button.text() == "Download a better model…"
    assert "__" not in window.banner.label.text() and RECOMMENDED not in window.banner.label.text()
    # The empty search bar suggests what the demo model knows.
    assert "red sneaker" in window.bar.placeholderText() and "dog" not in window.bar.placeholderText()
    qtbot.mouseClick(window.banner.button, Qt.MouseButton.LeftButton)
    dialog = window.models_dialog
    assert "demo model" in dialog.banner.text()
    assert RECOMMENDED in dialog.banner.text()
    assert dialog.rows["clipdesk-mini"].state.text().startswith("built in (demo)")
    assert not dialog.rows["clipdesk-mini"].remove.isVisible()


def test_without_a_model_the_banner_says_so_until_one_is_downloaded(open_window, paths, tmp_path, monkeypatch,
                                                                     model_hub):
    (tmp_path / "nothing shipped").mkdir()
    monkeypatch.setenv("CLIPDESK_MODELS_DIR", str(tmp_path / "nothing shipped"))
    window = open_window(paths, hub_endpoint=model_hub.url)
    assert window.banner.status.model_id is None
    assert window.banner.isVisible() and "No model is installed" in window.banner.label.text()
    assert window.banner.button.text() == "Download a model…"
    window.open_models()
    window.models_dialog.download(RECOMMENDED)
    # The first model is the one searches use now: the download announced it.
    assert window.banner.status.model_id == RECOMMENDED
    assert not window.banner.isVisible()


def test_with_a_real_model_the_bar_suggests_real_queries(open_window, indexed):
    window = open_window(indexed)
    assert not window.banner.isVisible()
    assert "dog on a beach" in window.bar.placeholderText()


def test_the_built_in_offline_model_says_what_it_knows(open_window, paths, tmp_path, monkeypatch, qtbot):
    shipped = tmp_path / "shipped"
    write_bundle(shipped / modelhub.OFFLINE_MODEL)
    monkeypatch.setenv("CLIPDESK_MODELS_DIR", str(shipped))
    window = open_window(paths)
    assert window.banner.status.model_id == modelhub.OFFLINE_MODEL and window.banner.isVisible()
    text = window.banner.label.text()
    assert "built-in offline model" in text and "not people" in text and "demo" not in text
    assert "pizza" in window.bar.placeholderText() and "beach" not in window.bar.placeholderText()
    qtbot.mouseClick(window.banner.button, Qt.MouseButton.LeftButton)
    assert "built-in offline model" in window.models_dialog.banner.text()
    assert "demo" not in window.models_dialog.banner.text()

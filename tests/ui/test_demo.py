"""First run: the demo library with the shipped small model, and typed queries that find it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtWidgets import QLineEdit
from support import REPO

from clipdesk.ui.app import needs_demo, start_demo

MINI = REPO / "models" / "clipdesk-mini"

pytestmark = pytest.mark.skipif(
    not (MINI / "manifest.json").is_file(), reason="the shipped demo model is not in this checkout"
)


def _type(qtbot, bar: QLineEdit, text: str) -> None:
    bar.clear()
    qtbot.keyClicks(bar, text)


def test_first_run_indexes_the_demo_and_typed_queries_find_its_photos(open_window, paths, qtbot):
    window = open_window(paths)
    qtbot.waitUntil(lambda: window.banner.status is not None, timeout=10000)
    assert window.banner.status.is_demo and window.banner.isVisible()
    assert needs_demo(window.library)
    start_demo(window)
    qtbot.waitUntil(lambda: window.setup_pending == 0 and not window.index.running
                    and window.library.catalog.counts()["indexed"] == 300, timeout=120000)
    assert not needs_demo(window.library)
    folder = Path(window.library.catalog.roots()[0].path)
    truth = {r["file"]: r for r in json.loads((folder / "ground_truth.json").read_text())}

    _type(qtbot, window.bar, "red")
    qtbot.waitUntil(lambda: window.grid_ctl.answer.text == "red", timeout=20000)
    top = [Path(h.photo.path).name for h in window.model.hits()[:5]]
    assert top
    assert all(any(item["colour"] == "red" for item in truth[name]["items"]) for name in top), top

    _type(qtbot, window.bar, "on grass")
    qtbot.waitUntil(lambda: window.grid_ctl.answer.text == "on grass", timeout=20000)
    top = [Path(h.photo.path).name for h in window.model.hits()[:5]]
    assert top and all(truth[name]["background"] == "grass" for name in top), top
    # The demo notice is the banner's; the line under the bar does not repeat it.
    assert "Demo model" not in window.message.text()

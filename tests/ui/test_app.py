"""The app around the window: one instance per catalog, a locked catalog, screenshots, the demo on first run."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from PIL import Image
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QLineEdit, QMessageBox
from support import REPO

from clipdesk.demo import needs_demo
from clipdesk.ui.app import start_demo
from clipdesk.ui.single import SingleInstance

MINI = REPO / "models" / "clipdesk-mini"


def test_a_second_launch_brings_the_first_forward(paths, qtbot, tmp_path):
    first = SingleInstance(paths.catalog)
    assert first.listen()
    try:
        with qtbot.waitSignal(first.activated, timeout=5000):
            assert SingleInstance(paths.catalog).forward()
        assert not SingleInstance(tmp_path / "another" / "catalog.sqlite3").forward()
    finally:
        first.close()
    assert not SingleInstance(paths.catalog).forward()


def test_a_crashed_instance_does_not_block_the_next(paths, qtbot):
    stale = SingleInstance(paths.catalog)
    assert stale.listen()
    stale.server.close()  # gone without cleaning up, as after a crash
    again = SingleInstance(paths.catalog)
    assert again.listen()
    with qtbot.waitSignal(again.activated, timeout=5000):
        assert SingleInstance(paths.catalog).forward()
    again.close()


def test_a_catalog_locked_by_the_cli_is_explained(paths, qtbot, monkeypatch):
    from clipdesk.ui.app import run

    monkeypatch.setenv("CLIPDESK_DATA_DIR", str(paths.data_dir))
    monkeypatch.setenv("CLIPDESK_CACHE_DIR", str(paths.cache_dir))
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent("""
            import sys, time
            from clipdesk.core.library import Library
            from clipdesk.core.paths import Paths
            with Library(Paths.from_env()):
                print("locked", flush=True)
                sys.stdin.read()
        """)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=REPO, env=os.environ.copy(),
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        seen = []

        def answer_the_box():
            box = QApplication.activeModalWidget()
            if isinstance(box, QMessageBox):
                seen.append(box.text())
                box.accept()
            else:
                QTimer.singleShot(50, answer_the_box)

        QTimer.singleShot(50, answer_the_box)
        args = argparse.Namespace(first_run_demo=False, screenshot=None, query=None, theme=None,
                                  width=800, height=600)
        assert run(args) == 3
        assert seen and "in use by another ClipDesk" in seen[0]
        assert f"process {holder.pid}" in seen[0]
    finally:
        holder.communicate("", timeout=30)


def test_the_screenshot_command_renders_the_window_after_the_search(indexed, tmp_path):
    out = tmp_path / "shots" / "window.png"
    env = {**os.environ, "CLIPDESK_DATA_DIR": str(indexed.data_dir), "CLIPDESK_CACHE_DIR": str(indexed.cache_dir),
           "QT_QPA_PLATFORM": "offscreen"}
    proc = subprocess.run(
        [sys.executable, "-m", "clipdesk", "gui", "--screenshot", str(out), "--query", "red", "--theme", "dark"],
        capture_output=True, text=True, env=env, cwd=REPO, timeout=180,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == str(out)
    with Image.open(out) as img:
        assert img.size == (1280, 820)
        # Dark theme: the window background is dark.
        r, g, b = img.convert("RGB").getpixel((5, img.height // 2))
        assert max(r, g, b) < 90


def _type(qtbot, bar: QLineEdit, text: str) -> None:
    bar.clear()
    qtbot.keyClicks(bar, text)


@pytest.mark.skipif(not (MINI / "manifest.json").is_file(), reason="the shipped demo model is not in this checkout")
def test_first_run_indexes_the_demo_and_typed_queries_find_its_photos(open_window, paths, qtbot):
    window = open_window(paths)
    assert window.banner.status.is_demo and window.banner.isVisible()
    assert needs_demo(window.library)
    start_demo(window)
    # The demo is set up at once (synchronous pools here); indexing has a thread of its own.
    assert window.setup_pending == 0
    qtbot.waitUntil(lambda: not window.index.running and window.library.catalog.counts()["indexed"] == 300,
                    timeout=120000)
    assert not needs_demo(window.library)
    folder = Path(window.library.catalog.roots()[0].path)
    truth = {r["file"]: r for r in json.loads((folder / "ground_truth.json").read_text())}

    _type(qtbot, window.bar, "red")
    assert window.grid_ctl.answer.text == "red"
    top = [Path(h.photo.path).name for h in window.model.hits()[:5]]
    assert top
    assert all(any(item["colour"] == "red" for item in truth[name]["items"]) for name in top), top

    _type(qtbot, window.bar, "on grass")
    assert window.grid_ctl.answer.text == "on grass"
    top = [Path(h.photo.path).name for h in window.model.hits()[:5]]
    assert top and all(truth[name]["background"] == "grass" for name in top), top
    # The demo notice is the banner's; the line under the bar does not repeat it.
    assert "Demo model" not in window.message.text()

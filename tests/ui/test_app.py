"""The app around the window: one instance per catalog, a locked catalog, screenshots, the demo on first run."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image
from colourkit import colour_photo
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLineEdit
from support import REPO, age
from uikit import names, photo_named

from clipdesk.core.paths import Paths
from clipdesk.demo import needs_demo
from clipdesk.ui.app import start_demo, start_window
from clipdesk.ui.settings import Settings
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


def _clipdesk(*args: str, **kwargs):
    return [sys.executable, "-m", "clipdesk", *args]


def test_beside_a_scan_watch_the_window_opens_and_follows_it(indexed, photos_root, qtbot, monkeypatch):
    """Issue 14: `clipdesk gui` started while `clipdesk scan --watch` held the
    catalog waited forever on a modal box. It opens the library beside it:
    search, browse and tag work here; indexing and watching stay with the
    other process, whose work (and the command line's edits) reach the window."""
    monkeypatch.setenv("CLIPDESK_DATA_DIR", str(indexed.data_dir))
    monkeypatch.setenv("CLIPDESK_CACHE_DIR", str(indexed.cache_dir))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    watch = subprocess.Popen(_clipdesk("scan", "--watch", "--quiet"), stderr=subprocess.PIPE, stdout=subprocess.PIPE,
                             text=True, cwd=REPO, env=env)
    window = None
    try:
        for line in watch.stderr:
            if line.startswith("watching"):
                break
        args = argparse.Namespace(first_run_demo=False, screenshot=None, query=None, theme=None, width=800, height=600)
        window = start_window(args, Paths.from_env(), Settings(None))
        qtbot.addWidget(window)
        assert QApplication.activeModalWidget() is None
        assert not window.library.exclusive and window.beside.isVisible()
        assert "scan --watch" in window.beside.text()
        qtbot.waitUntil(lambda: window.grid_ctl.answer is not None and window.model.rowCount() == 60, timeout=30000)
        qtbot.keyClicks(window.bar, "red")
        qtbot.waitUntil(lambda: window.grid_ctl.answer.text == "red", timeout=10000)
        assert sorted(names(window)[:5]) == [f"red{i}.jpg" for i in range(5)]
        window.photo_actions.tag([photo_named(window, "red0.jpg")], "mine")
        qtbot.waitUntil(lambda: "mine" in [i.text(0) for i in window.sidebar.items("tag")], timeout=10000)
        assert not window.index.running  # the other process indexes

        # An edit from the command line reaches the window.
        done = subprocess.run(_clipdesk("tags", "add", "sky", str(photos_root / "cold" / "blue1.jpg")),
                              capture_output=True, text=True, cwd=REPO, env=env, timeout=120)
        assert done.returncode == 0, done.stderr
        qtbot.waitUntil(lambda: "sky" in [i.text(0) for i in window.sidebar.items("tag")], timeout=20000)
        # A new photo, indexed by the watching process, shows up.
        window.bar.clear()
        colour_photo(photos_root / "warm" / "red9.jpg", "red", noise=25, seed=9)
        age(photos_root / "warm" / "red9.jpg")
        qtbot.waitUntil(lambda: window.model.rowCount() == 61, timeout=60000)
    finally:
        if window is not None:
            window.close()
            window.shutdown()
            window.library.close()
        watch.terminate()
        watch.communicate(timeout=30)


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


@pytest.mark.skipif(not (MINI / "manifest.json").is_file(), reason="the shipped demo model is not in this checkout")
def test_a_first_start_offers_the_demo_library_and_a_model(open_window, paths, qtbot):
    """Issue 16: a fresh `clipdesk gui` (the installer's route, without
    --first-run-demo) showed an empty library with no way to the demo."""
    window = open_window(paths)
    welcome = window.welcome
    assert welcome.isVisible()
    assert welcome.add_folder.isVisible() and welcome.demo.isVisible() and welcome.model.isVisible()
    qtbot.mouseClick(welcome.model, Qt.MouseButton.LeftButton)
    assert window.models_dialog is not None and window.models_dialog.isVisible()
    window.models_dialog.close()
    with qtbot.waitSignal(window.index.finished, timeout=120000):
        qtbot.mouseClick(welcome.demo, Qt.MouseButton.LeftButton)
    assert not welcome.isVisible()
    qtbot.waitUntil(lambda: window.model.rowCount() == 300, timeout=30000)
    assert "Demo library added" in window.notice.text()

"""The app around the window: one instance per catalog, a locked catalog, screenshots, theme, state."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import textwrap

from PIL import Image
from PySide6.QtCore import QTimer
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication, QMessageBox
from support import REPO

from clipdesk.ui import theme
from clipdesk.ui.single import SingleInstance


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


def test_theme_follows_the_choice(open_window, paths, qtbot):
    window = open_window(paths)
    app = QApplication.instance()
    window.set_theme("dark")
    assert theme.is_dark(app)
    assert app.palette().color(QPalette.ColorRole.Window).lightness() < 80
    window.set_theme("light")
    assert not theme.is_dark(app)
    assert app.palette().color(QPalette.ColorRole.Window).lightness() > 180
    window.set_theme("system")
    assert theme.is_dark(app) == theme.system_is_dark(app)
    assert window.settings.theme == "system"


def test_window_state_is_restored(open_window, paths, qtbot, settings):
    window = open_window(paths)
    window.resize(760, 700)
    qtbot.waitUntil(lambda: (window.width(), window.height()) == (760, 700), timeout=5000)
    window.details_dock.hide()
    window.close()
    window.library.close()  # one window per catalog: the next one opens it again
    assert settings.window_state and settings.window_geometry
    again = open_window(paths)
    assert not again.details_dock.isVisible()
    assert again.sidebar_dock.isVisible()
    assert (again.width(), again.height()) == (760, 700)

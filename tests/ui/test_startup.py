"""Starting the app: the window paints before the core loads, takes typing at
once, and searches what was typed when the library and the model are ready."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

from PySide6.QtWidgets import QLineEdit
from support import REPO

from clipdesk.ui.mainwindow import MainWindow

#: What the first paint must not wait for.
HEAVY = ("numpy", "PIL", "sqlite3", "onnxruntime", "hnswlib", "tokenizers", "clipdesk.core.library",
         "clipdesk.core.catalog", "clipdesk.core.query", "clipdesk.ui.grid.view", "clipdesk.ui.search.bar",
         "clipdesk.ui.tagging.panel", "_hashlib", "PySide6.QtNetwork")


def test_the_frame_takes_typing_and_the_window_searches_it_once_built(indexed, settings, qtbot):
    from clipdesk.core.library import Library

    window = MainWindow(None, settings, paths=indexed, watch=False, start_indexing=False)
    qtbot.addWidget(window)
    window.show()
    qtbot.keyClicks(window.findChild(QLineEdit, "searchBar"), "blu")
    library = Library(indexed)
    try:
        window.attach(library)
        assert window.bar.text() == "blu" and window.bar.cursorPosition() == 3
        qtbot.keyClicks(window.bar, "e")  # typing goes on where it was
        window.start()
        qtbot.waitUntil(lambda: window.grid_ctl.answer is not None and window.grid_ctl.answer.text == "blue",
                        timeout=20000)
        assert all(h.photo.name.startswith("blue") for h in window.model.hits()[:5])
        assert window.menuBar().actions()[0].text() == "&File" and len(window.menuBar().actions()) == 5
    finally:
        window.close()
        window.shutdown()
        library.close()


def test_a_window_closed_before_the_library_opened_keeps_the_saved_layout(paths, settings, qtbot):
    settings.window_state = "AAAA/wAAAAD9AAAAAA=="
    window = MainWindow(None, settings, paths=paths, watch=False)
    qtbot.addWidget(window)
    window.show()
    window.close()
    assert settings.window_state == "AAAA/wAAAAD9AAAAAA=="


def test_nothing_heavy_is_imported_before_the_window_paints(paths):
    """``clipdesk gui`` in a fresh process: at the window's first paint none of
    the core, numpy, Pillow, SQLite, ONNX Runtime, hnswlib or the features'
    widgets are imported yet; then the library opens and the window is built."""
    script = textwrap.dedent(f"""
        import argparse, json, sys
        from PySide6.QtCore import QEvent, QObject, QTimer
        from PySide6.QtWidgets import QApplication
        import clipdesk.ui.app as gui

        seen = {{}}

        class Watch(QObject):
            def eventFilter(self, obj, event):
                if event.type() == QEvent.Type.Paint and "paint" not in seen:
                    seen["paint"] = sorted(m for m in {HEAVY!r} if m in sys.modules)
                return False

        class Window(gui.MainWindow):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                self.watch = Watch(self)
                self.installEventFilter(self.watch)

            def attach(self, library):
                super().attach(library)
                seen["attached"] = True
                QTimer.singleShot(0, self.close)

        gui.MainWindow = Window
        code = gui.run(argparse.Namespace(first_run_demo=False, screenshot=None, query=None, theme=None,
                                          width=800, height=600))
        print("SEEN " + json.dumps(seen))
        sys.exit(code)
    """)
    env = {**os.environ, "CLIPDESK_DATA_DIR": str(paths.data_dir), "CLIPDESK_CACHE_DIR": str(paths.cache_dir),
           "QT_QPA_PLATFORM": "offscreen"}
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, cwd=REPO,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    seen = json.loads(next(line[5:] for line in proc.stdout.splitlines() if line.startswith("SEEN ")))
    assert seen == {"paint": [], "attached": True}


def test_the_single_instance_name_is_one_per_catalog_and_user(tmp_path, monkeypatch):
    from clipdesk.ui.single import server_name

    a, b = tmp_path / "a" / "catalog.sqlite3", tmp_path / "b" / "catalog.sqlite3"
    assert server_name(a) == server_name(a) != server_name(b)
    monkeypatch.setenv("USER", "someone-else")
    other = server_name(a)
    monkeypatch.setenv("USER", "me")
    assert server_name(a) != other and server_name(a).startswith("clipdesk-")

"""The processes bench_gui.py starts to measure a cold start (not run on their own).

    gui_start.py baseline <launched>         import PySide6.QtWidgets, paint an empty QMainWindow
    gui_start.py app <launched> <query>      the real ``clipdesk gui``, ``query`` typed at the first paint

``launched`` is the parent's time.time() when it started the process. Each
prints one line, ``BENCH {json}``, with seconds since then. This file
imports nothing but what both need, so that neither process pays for the
benchmark's own imports.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _after_first_paint(widget, fn, on_paint=None) -> None:
    """Call ``fn`` once ``widget``'s first paint is done (the frame is on screen);
    ``on_paint`` at the paint event itself."""
    from PySide6.QtCore import QEvent, QObject, QTimer

    class Watch(QObject):
        fired = False

        def eventFilter(self, obj, event) -> bool:
            if event.type() == QEvent.Type.Paint and not self.fired:
                self.fired = True
                if on_paint is not None:
                    on_paint()
                QTimer.singleShot(0, fn)  # after this paint is done
            return False

    watch = Watch(widget)
    widget.installEventFilter(watch)


def baseline(launched: float) -> None:
    """The baseline process: ``import PySide6.QtWidgets`` and an empty QMainWindow, painted."""
    import PySide6.QtWidgets as w

    app = w.QApplication([sys.argv[0]])
    window = w.QMainWindow()
    window.resize(1280, 820)

    marks: dict[str, float] = {}

    def painting() -> None:
        marks.update(painted=time.time() - launched, painted_cpu=time.process_time())

    def painted() -> None:
        print("BENCH " + json.dumps(marks), flush=True)
        app.quit()

    _after_first_paint(window, painted, painting)
    window.show()
    app.exec()


def app(launched: float, query: str) -> None:
    """Runs in the measured process: the real ``clipdesk gui`` start-up, timed.
    As soon as the window is painted, ``query`` is typed into what has the
    focus (the search bar)."""
    import argparse as ap

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QLineEdit

    import clipdesk.ui.app as gui

    marks: dict[str, float] = {}
    loaded_before_paint: list[str] = []

    class Timed(gui.MainWindow):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            _after_first_paint(self, self.painted, self.painting)

        def painting(self) -> None:
            # (marked as the paint starts, as in the baseline: after it, a
            # worker starts importing the rest and would be counted too)
            marks.update(painted=time.time() - launched, painted_cpu=time.process_time())
            loaded_before_paint.extend(m for m in ("numpy", "PIL", "sqlite3", "onnxruntime", "hnswlib", "tokenizers",
                                                   "clipdesk.core.library") if m in sys.modules)

        def painted(self) -> None:
            from PySide6.QtTest import QTest

            bar = QApplication.focusWidget() or self.findChild(QLineEdit, "searchBar")
            QTest.keyClicks(bar, query)
            marks["typed"] = time.time() - launched

        def attach(self, library) -> None:
            marks["library_open"] = time.time() - launched
            super().attach(library)
            self.resultsShown.connect(self._answer)

        def _answer(self, answer) -> None:
            if answer.text == query and "first_search" not in marks:
                marks["first_search"] = time.time() - launched
                self._settle()

        def _settle(self) -> None:
            if self.index.running or not self.search_ctl.warm:
                QTimer.singleShot(200, self._settle)
                return
            QTimer.singleShot(3000, self._finish)

        def _finish(self) -> None:
            with open("/proc/self/status") as f:
                rss = next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
            marks["idle_rss_mb"] = rss / 1024
            marks["loaded_before_paint"] = loaded_before_paint
            print("BENCH " + json.dumps(marks), flush=True)
            self.close()
            QApplication.instance().quit()

    preload = gui._preload

    def timed_preload(library, part: str) -> None:
        marks.setdefault(f"{part}_loading", time.time() - launched)
        preload(library, part)
        marks.setdefault(f"{part}_loaded", time.time() - launched)

    gui._preload = timed_preload
    gui.MainWindow = Timed
    gui.run(ap.Namespace(first_run_demo=False, screenshot=None, query=None, theme=None, width=1280, height=820))


if __name__ == "__main__":
    mode, launched = sys.argv[1], float(sys.argv[2])
    if mode == "baseline":
        baseline(launched)
    else:
        app(launched, sys.argv[3])

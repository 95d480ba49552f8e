"""Drive the window on a real X server as a person does: xdotool moves the
mouse, clicks and types through the X server (XTEST) while the app's event
loop runs, one key at a time at a person's pace.

Run by tests/ui/test_real_x.py as a script (``python realx.py OUT.json``) with
``DISPLAY`` set to an Xvfb and the catalog in ``CLIPDESK_DATA_DIR``; it writes
what the window showed after each step to OUT.json.
"""

from __future__ import annotations

import json
import os
import sys

os.environ["QT_QPA_PLATFORM"] = "xcb"

from PySide6.QtCore import QPoint, QProcess, QTimer  # noqa: E402

from clipdesk.core.library import Library  # noqa: E402
from clipdesk.core.paths import Paths  # noqa: E402
from clipdesk.ui.app import application  # noqa: E402
from clipdesk.ui.mainwindow import MainWindow  # noqa: E402
from clipdesk.ui.settings import Settings  # noqa: E402

#: Milliseconds between two keys: a person typing fast.
KEY_DELAY_MS = 90


def main(out: str) -> int:
    app = application()
    library = Library(Paths.from_env())
    window = MainWindow(library, Settings(None), watch=False, start_indexing=False)
    window.setGeometry(0, 0, 1280, 820)
    window.show()
    window.start()
    results: dict = {}
    proc = QProcess()

    def centre(widget, point: QPoint | None = None) -> tuple[int, int]:
        p = widget.mapToGlobal(point if point is not None else widget.rect().center())
        return p.x(), p.y()

    def tag_item(name: str):
        tree = window.sidebar.tags
        item = next(i for i in window.sidebar.items("tag") if i.text(0) == name)
        return tree.viewport(), tree.visualItemRect(item).center()

    def record(name: str) -> None:
        results[name] = {"text": window.bar.text(), "caret": window.bar.cursorPosition(),
                         "answered": window.grid_ctl.answer.text if window.grid_ctl.answer else None,
                         "highlighted": [i.text(0) for i in window.sidebar.items("tag") if i.isSelected()]}

    # Each step: (xdotool arguments (a function: widget positions are read when the step starts), what to record).
    steps = [
        (lambda: ["mousemove", "--sync", *map(str, centre(window.bar)), "click", "1"], None),
        (lambda: ["type", "--delay", str(KEY_DELAY_MS), "tag:family"], "typed tag:family"),
        (lambda: ["key", "Escape"], "Esc"),
        (lambda: ["type", "--delay", str(KEY_DELAY_MS), "red after:2024"], "typed red after:2024"),
        (lambda: ["key", "Escape"], None),
        (lambda: ["mousemove", "--sync", *map(str, centre(*tag_item("family"))), "click", "1"], "clicked family"),
        (lambda: ["mousemove", "--sync", *map(str, centre(*tag_item("sky"))),
                  "keydown", "ctrl", "click", "1", "keyup", "ctrl"], "ctrl-clicked sky"),
    ]
    state = {"step": -1}

    def settled() -> bool:
        return not window.search_ctl.busy and window.library_ctl.state is not None

    def next_step() -> None:
        try:
            step()
        except Exception as exc:  # noqa: BLE001 - said in the results, and the run ends
            results["error"] = f"step {state['step']}: {exc!r}"
            app.quit()

    def step() -> None:
        if not settled():
            QTimer.singleShot(100, next_step)
            return
        if state["step"] >= 0 and steps[state["step"]][1]:
            record(steps[state["step"]][1])
        state["step"] += 1
        if state["step"] == len(steps):
            app.quit()
            return
        proc.start("xdotool", steps[state["step"]][0]())

    proc.finished.connect(lambda *_: QTimer.singleShot(400, next_step))  # then the pause a person makes
    QTimer.singleShot(1500, next_step)  # the window mapped, the library read
    QTimer.singleShot(120000, app.quit)
    app.exec()
    with open(out, "w", encoding="utf-8") as f:
        json.dump(results, f, indent=2)
    window.shutdown()
    library.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))

"""Start the desktop app: one window per catalog, the demo on first run, screenshots.

``clipdesk gui`` (and the ``clipdesk-gui`` launcher) end up in :func:`run`.

The window paints first: only Qt, the settings and the window's frame are
imported before it shows (``python -X importtime`` tells). The rest of the app
- the core with numpy, Pillow, SQLite - is imported and the library opened on
a worker meanwhile; then the window is built over it and starts, and the
model and the search index load in the background (see
:meth:`~clipdesk.ui.search.controller.SearchController.warm_up`). The search
bar takes typing from the first paint: what is typed is searched as soon as
the model can answer.

A second launch on the same catalog brings the first window forward. When
another program that is no window holds the catalog (``clipdesk scan
--watch``), the library is opened beside it (:func:`open_library`) instead of
waiting on it: nothing at start waits for a click that no one can give.
"""

from __future__ import annotations

import argparse
import logging
import sys
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from clipdesk import __version__
from clipdesk.core.errors import CatalogLocked, ClipDeskError
from clipdesk.core.paths import Paths
from clipdesk.ui import cmdline, theme
from clipdesk.ui.mainwindow import MainWindow, import_features
from clipdesk.ui.settings import Settings
from clipdesk.ui.single import SingleInstance
from clipdesk.ui.stalls import StallMeter
from clipdesk.ui.workers import Pools

if TYPE_CHECKING:
    from clipdesk.core.library import Library

log = logging.getLogger(__name__)

STARTUP_SCAN_DELAY_MS = 3000


def engine_options(device: str):
    """EngineOptions for the "device" setting (auto, cpu, gpu)."""
    from clipdesk.core.engine import EngineOptions

    if device == "cpu":
        return EngineOptions.from_env(providers=("cpu",))
    return EngineOptions.from_env()


def application(argv: list[str] | None = None) -> QApplication:
    app = QApplication.instance()
    if app is None:
        app = QApplication(argv if argv is not None else [sys.argv[0]])
    app.setApplicationName("ClipDesk")
    app.setOrganizationName("ClipDesk")
    app.setApplicationVersion(__version__)
    app.setDesktopFileName("clipdesk")
    return app  # type: ignore[return-value]


def start_demo(window: MainWindow) -> None:
    """Set up the demo library (off the GUI thread); it is indexed in the background."""
    window.library_ctl.add_demo()


def take_screenshot(window: MainWindow, path: Path, query: str | None, on_saved, timeout_ms: int = 120000) -> None:
    """Save the window to ``path`` once it shows the library as it settles: set-up
    and indexing done, ``query`` (if any) answered after that, the thumbnails on
    screen loaded. Then call ``on_saved(ok)``."""
    state = {"searched": query is None, "fresh": False, "done": False}

    def answered(answer) -> None:
        if query is None or answer.text == query:
            state["fresh"] = not window.index.running

    def index_finished(_result) -> None:
        state["fresh"] = False  # the refresh after the run is the one to show

    def tick() -> None:
        if state["done"] or window.library_ctl.state is None:
            return
        if window.setup_pending or window.index.running:
            return
        if not state["searched"]:
            state["searched"] = True
            window.bar.setText(query or "")
            return
        if state["fresh"] and window.thumbs.idle and not window.search_ctl.busy and not settle.isActive():
            settle.start()

    def finish() -> None:
        if state["done"]:
            return
        state["done"] = True
        poll.stop()
        window.grid.viewport().update()
        QApplication.processEvents()
        path.parent.mkdir(parents=True, exist_ok=True)
        on_saved(window.grab().save(str(path)))

    poll = QTimer(window)
    poll.setInterval(100)
    poll.timeout.connect(tick)
    poll.start()
    settle = QTimer(window)  # one more beat for thumbnails that arrive with the last paint
    settle.setSingleShot(True)
    settle.setInterval(300)
    settle.timeout.connect(lambda: finish() if window.thumbs.idle else None)
    expired = QTimer(window)
    expired.setSingleShot(True)
    expired.setInterval(timeout_ms)
    expired.timeout.connect(finish)
    expired.start()
    window.resultsShown.connect(answered)
    window.index.finished.connect(index_finished)


def open_library(paths: Paths, settings: Settings) -> Library:
    """The library, for this window alone; or, when another program that is no
    ClipDesk window holds the catalog (`clipdesk scan --watch`, which never
    lets go), opened beside it: search, browse and tag work, indexing and
    watching stay with that program (the window says so). Nothing waits for a
    click no one can give. Raises ClipDeskError when the catalog cannot be
    opened at all. (Imports the core: call it after the window paints.)"""
    from clipdesk.core.library import Library

    options = engine_options(settings.device)
    try:
        return Library(paths, engine_options=options)
    except CatalogLocked as exc:
        log.info("%s; opening the library beside it", exc)
        return Library(paths, lock=False, engine_options=options)


def start_window(args: argparse.Namespace, paths: Paths, settings: Settings) -> MainWindow:
    """Open the library (beside another program that holds it, if one does),
    show its window and start it, all at once on the calling thread: for
    scripts and tests (:func:`run` paints the window first and opens the
    library on a worker). Raises ClipDeskError when the catalog cannot be
    opened."""
    library = open_library(paths, settings)
    #: The startup scan for new photos waits a moment: the first search comes first.
    window = MainWindow(library, settings, paths=paths, watch=not args.screenshot,
                        index_delay_ms=0 if args.screenshot else STARTUP_SCAN_DELAY_MS)
    if args.screenshot:
        window.resize(args.width, args.height)
    window.show()
    window.start()
    if args.first_run_demo:
        start_demo(window)
    return window


def open_in_background(paths: Paths, settings: Settings, pools: Pools, on_open, on_error, opened: list) -> None:
    """:func:`open_library` on a worker (the library goes in ``opened``, to be
    closed at the end), then its model and search index start loading beside
    it while the app's features are imported; then ``on_open(library)`` or
    ``on_error(exc)`` on the GUI thread."""

    def job():
        library = open_library(paths, settings)
        opened.append(library)
        # What the first search needs loads on two threads from now on; the
        # window's warm-up (SearchController.warm_up) waits for it.
        for part in ("index", "text"):
            pools.run(pools.long, partial(_preload, library, part))
        import_features()
        return library

    pools.run(pools.general, job, on_open, on_error)


def _preload(library, part: str) -> None:
    try:
        library.search.preload(part)
    except ClipDeskError as exc:  # no model yet, or a broken one: the window says so
        log.info("preload (%s): %s", part, exc)


class _FirstPaint(QObject):
    """Calls ``fn`` once, right after ``widget`` first paints (or after
    ``fallback_ms`` if it never does: a window started minimised)."""

    def __init__(self, widget, fn, fallback_ms: int = 1000):
        super().__init__(widget)
        self.fn = fn
        widget.installEventFilter(self)
        QTimer.singleShot(fallback_ms, self, self._fire)

    def eventFilter(self, obj, event) -> bool:
        if event.type() == QEvent.Type.Paint and self.fn is not None:
            QTimer.singleShot(0, self, self._fire)  # once this paint is on screen
        return False

    def _fire(self) -> None:
        fn, self.fn = self.fn, None
        if fn is not None:
            self.parent().removeEventFilter(self)
            fn()


def run(args: argparse.Namespace) -> int:
    app = application()
    try:
        paths = Paths.from_env().ensure()
    except ClipDeskError as exc:  # the data folder is a file, read-only, ...
        if not args.screenshot:
            QMessageBox.critical(None, "ClipDesk", str(exc))
        print(f"clipdesk: {exc}", file=sys.stderr)
        return exc.exit_code
    settings = Settings.load(paths.settings)
    theme.apply(app, getattr(args, "theme", None) or settings.theme)

    single = SingleInstance(paths.catalog)
    if not args.screenshot and single.forward():
        log.info("ClipDesk is already running on this catalog; brought it forward")
        return 0

    pools = Pools(app)
    #: The startup scan for new photos waits a moment: the first search comes first.
    window = MainWindow(None, settings, paths=paths, watch=not args.screenshot, pools=pools,
                        index_delay_ms=0 if args.screenshot else STARTUP_SCAN_DELAY_MS)
    if args.screenshot:
        window.resize(args.width, args.height)
    window.show()
    StallMeter.from_env(window)  # CLIPDESK_LOG_STALLS=<ms>: log the GUI thread's long stretches of work
    code = {"value": 0}
    opened: list = []

    def start(library) -> None:
        if window.isHidden():  # closed before the library was open
            return
        window.attach(library)
        window.start()
        if args.first_run_demo:
            start_demo(window)
        if args.screenshot:
            take_screenshot(window, Path(args.screenshot).expanduser().absolute(), args.query, saved)

    def failed(exc: BaseException) -> None:
        if not isinstance(exc, ClipDeskError):
            log.error("could not start", exc_info=exc)
            exc = ClipDeskError(f"ClipDesk could not start: {exc}")
        if not args.screenshot:
            QMessageBox.critical(window, "ClipDesk", str(exc))
        print(f"clipdesk: {exc}", file=sys.stderr)
        code["value"] = exc.exit_code
        # Hidden, not closed: closing the last window would queue a second
        # quit, which outlives this event loop (and ends the next one at once).
        window.hide()
        app.quit()

    def saved(ok: bool) -> None:
        target = Path(args.screenshot).expanduser().absolute()
        if ok:
            print(target)
        else:
            print(f"clipdesk: could not write {target}", file=sys.stderr)
            code["value"] = 1
        window.close()
        app.quit()

    def painted() -> None:
        if not args.screenshot:  # a second launch brings this window forward from now on, library open or not
            single.listen()
            single.activated.connect(window.bring_forward)
        open_in_background(paths, settings, pools, start, failed, opened)

    # The library opens once the window is on screen (a worker importing
    # holds the GIL, which the paint needs too).
    _FirstPaint(window, painted)
    try:
        app.exec()
    finally:
        window.shutdown()
        single.close()
        for library in opened:
            library.close()
    return code["value"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="clipdesk-gui", description="ClipDesk, the desktop app")
    cmdline.add_arguments(parser)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    return run(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

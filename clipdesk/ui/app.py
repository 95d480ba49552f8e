"""Start the desktop app: one window per catalog, the demo on first run, screenshots.

``clipdesk gui`` (and the ``clipdesk-gui`` launcher) end up in :func:`run`.
A second launch on the same catalog brings the first window forward. When
another program that is no window holds the catalog (``clipdesk scan
--watch``), the library is opened beside it (:func:`open_library`) instead of
waiting on it: nothing at start waits for a click that no one can give.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from clipdesk import __version__
from clipdesk.core.errors import CatalogLocked, ClipDeskError
from clipdesk.core.library import Library
from clipdesk.core.paths import Paths
from clipdesk.ui import cmdline, theme
from clipdesk.ui.mainwindow import MainWindow
from clipdesk.ui.settings import Settings
from clipdesk.ui.single import SingleInstance

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
    opened at all."""
    options = engine_options(settings.device)
    try:
        return Library(paths, engine_options=options)
    except CatalogLocked as exc:
        log.info("%s; opening the library beside it", exc)
        return Library(paths, lock=False, engine_options=options)


def start_window(args: argparse.Namespace, paths: Paths, settings: Settings) -> MainWindow:
    """Open the library (beside another program that holds it, if one does),
    show its window and start it. Raises ClipDeskError when the catalog cannot
    be opened."""
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

    try:
        window = start_window(args, paths, settings)
    except ClipDeskError as exc:
        if not args.screenshot:
            QMessageBox.critical(None, "ClipDesk", str(exc))
        print(f"clipdesk: {exc}", file=sys.stderr)
        return exc.exit_code
    if not args.screenshot:
        single.listen()
        single.activated.connect(window.bring_forward)

    code = {"value": 0}
    if args.screenshot:
        target = Path(args.screenshot).expanduser().absolute()

        def saved(ok: bool) -> None:
            if ok:
                print(target)
            else:
                print(f"clipdesk: could not write {target}", file=sys.stderr)
                code["value"] = 1
            window.close()
            app.quit()

        take_screenshot(window, target, args.query, saved)

    try:
        app.exec()
    finally:
        window.shutdown()
        single.close()
        window.library.close()
    return code["value"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="clipdesk-gui", description="ClipDesk, the desktop app")
    cmdline.add_arguments(parser)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    return run(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

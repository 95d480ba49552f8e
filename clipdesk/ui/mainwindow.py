"""The main window: search bar and chips, the grid, sidebar, details, auto-tag, status.

The window owns the controllers (searches, indexing, thumbnails, the folder
watcher) and wires the widgets to them. Everything that reads or writes the
catalog, the disk or a model goes through :class:`~clipdesk.ui.workers.Pools`.
"""

from __future__ import annotations

import gc
import logging
import os
from dataclasses import dataclass

from PySide6.QtCore import QByteArray, QItemSelection, QItemSelectionModel, QPoint, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import (
    QAction, QActionGroup, QDesktopServices, QDragEnterEvent, QDropEvent, QGuiApplication, QKeySequence,
)
from PySide6.QtWidgets import (
    QApplication, QDockWidget, QFileDialog, QFrame, QHBoxLayout, QInputDialog, QLabel, QMainWindow, QMenu, QMessageBox,
    QPushButton, QScrollArea, QSlider, QToolButton, QVBoxLayout, QWidget,
)

from clipdesk import __version__
from clipdesk.core import modelhub
from clipdesk.core import query as querylang
from clipdesk.core.catalog import Photo
from clipdesk.core.changes import Changes
from clipdesk.core.errors import ClipDeskError
from clipdesk.core.library import Library
from clipdesk.core.models import ModelStatus
from clipdesk.core.paths import Paths
from clipdesk.core.pipeline import Progress, RunResult
from clipdesk.core.search import SearchResult
from clipdesk.ui import theme
from clipdesk.ui.dnd import local_paths
from clipdesk.ui.grid.details import DetailsPanel
from clipdesk.ui.grid.model import PhotoListModel
from clipdesk.ui.grid.preview import PreviewWindow, load_image
from clipdesk.ui.grid.thumbs import ThumbnailLoader
from clipdesk.ui.grid.view import PhotoGrid
from clipdesk.ui.library.indexing import IndexController
from clipdesk.ui.library.sidebar import FolderRow, Sidebar
from clipdesk.ui.library.status import FailuresDialog, IndexStatus, plural
from clipdesk.ui.models.dialog import ModelsDialog
from clipdesk.ui.search.bar import ErrorLine, FilterChips, SearchBar
from clipdesk.ui.search.controller import Answer, SearchController
from clipdesk.ui.settings import Settings
from clipdesk.ui.tagging.panel import AutoTagPanel
from clipdesk.ui.workers import Pools

log = logging.getLogger(__name__)

THUMB_STEPS = (64, 96, 128, 160, 200, 240, 280, 320)


@dataclass
class LibraryState:
    """What the sidebar and chips show, read on a worker thread."""

    folders: list[FolderRow]
    tags: list[tuple[str, int]]
    saved: list[tuple[str, str]]
    photos: int
    failed: int


class MainWindow(QMainWindow):
    #: The grid shows an answer (the model is updated; the paint follows).
    resultsShown = Signal(object)  # Answer
    #: The sidebar, chips and counts were refreshed from the catalog.
    libraryLoaded = Signal()
    #: The model and the search index are loaded (the first keystroke is quick).
    warmedUp = Signal()
    modelStatusKnown = Signal(object)  # ModelStatus or None

    def __init__(self, library: Library, settings: Settings, *, paths: Paths | None = None,
                 start_indexing: bool = True, watch: bool = True, pipeline_kwargs: dict | None = None,
                 hub_endpoint: str | None = None, index_delay_ms: int = 0, pools: Pools | None = None):
        super().__init__()
        self.setObjectName("mainWindow")
        self.setWindowTitle("ClipDesk")
        self.library = library
        self.settings = settings
        self.paths = paths or library.paths
        self.start_indexing = start_indexing
        #: How long after start the library is scanned for new photos.
        self.index_delay_ms = index_delay_ms
        self.watch = watch
        self.hub_endpoint = hub_endpoint
        #: The worker pools (tests hand in synchronous ones).
        self.pools = pools if pools is not None else Pools(self)
        self.state: LibraryState | None = None
        self.model_status: ModelStatus | None = None
        self.answer: Answer | None = None
        self.watcher = None  # clipdesk.core.watch.Watcher once the roots are known
        self._watched_roots: list[str] = []
        self._closing = False
        self._preview: PreviewWindow | None = None
        self._failures: FailuresDialog | None = None
        self._models: ModelsDialog | None = None
        self._saved_counts: dict[str, int] = {}
        #: Set-up jobs (the demo library) still running before indexing can start.
        self.setup_pending = 0
        self._progress_where: tuple = ()
        self.warm = False
        self._warming = False
        self._library_generation = 0
        self._saved_generation = 0

        self.thumbs = ThumbnailLoader(library.thumbnails, self.pools.thumbs, size=settings.thumb_size, parent=self)
        self.model = PhotoListModel(self.thumbs, self)
        self.search_ctl = SearchController(library, self.pools, limit=settings.result_limit,
                                           delay_ms=settings.search_delay_ms, parent=self)
        self.index = IndexController(library, parent=self, pipeline_kwargs=pipeline_kwargs)

        self._build()
        self._wire()
        self._restore_window()
        self.setAcceptDrops(True)
        # Settings are written a moment after they change, off the GUI thread.
        self._save_settings = QTimer(self)
        self._save_settings.setSingleShot(True)
        self._save_settings.setInterval(1000)
        self._save_settings.timeout.connect(
            lambda: self.pools.run(self.pools.writes, settings.save, None, lambda e: log.warning("settings: %s", e),
                                   owner=self))
        settings.on_change(lambda _name, _value: self._closing or self._save_settings.start())
        library.tags.write_sidecars = settings.write_sidecars
        settings.on_change(lambda name, value: name == "write_sidecars" and setattr(library.tags, "write_sidecars", value))

    # ------------------------------------------------------------------ building
    def _build(self) -> None:
        central = QWidget(self)
        v = QVBoxLayout(central)
        v.setContentsMargins(6, 6, 6, 0)
        v.setSpacing(4)

        self.banner = QWidget(central)
        self.banner.setObjectName("demoBanner")
        bl = QHBoxLayout(self.banner)
        bl.setContentsMargins(8, 4, 8, 4)
        self.banner_text = QLabel(self.banner)
        self.banner_text.setWordWrap(True)
        self.banner_button = QPushButton("Get a real model…", self.banner)
        self.banner_button.clicked.connect(self.open_models)
        bl.addWidget(self.banner_text, 1)
        bl.addWidget(self.banner_button)
        self.banner.setAutoFillBackground(True)
        self.banner.hide()
        v.addWidget(self.banner)

        row = QHBoxLayout()
        self.bar = SearchBar(central)
        self.save_search_button = QToolButton(central)
        self.save_search_button.setText("☆ Save")
        self.save_search_button.setToolTip("Save this search; it stays live as photos arrive")
        self.save_search_button.clicked.connect(self.save_current_search)
        self.chips = FilterChips(self.bar, central)
        row.addWidget(self.bar, 1)
        row.addWidget(self.save_search_button)
        row.addWidget(self.chips)
        v.addLayout(row)
        self.message = ErrorLine(central)
        v.addWidget(self.message)

        self.grid = PhotoGrid(self.model, central, size=self.settings.thumb_size,
                              show_names=self.settings.show_names)
        v.addWidget(self.grid, 1)
        self.empty = QLabel("", self.grid.viewport())
        self.empty.setObjectName("emptyMessage")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.empty.hide()
        self.setCentralWidget(central)

        self.sidebar = Sidebar(self)
        self.sidebar_dock = self._dock("Library", "sidebarDock", self.sidebar, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.details = DetailsPanel(self.library, self.pools, self)
        self.details_dock = self._dock("Details", "detailsDock", self.details, Qt.DockWidgetArea.RightDockWidgetArea)
        self.autotag = AutoTagPanel(self.library, self.pools, self.settings, self.thumbs, self)
        # The panel is tall; in a scroll area it never forces the window to be.
        autotag_scroll = QScrollArea(self)
        autotag_scroll.setWidgetResizable(True)
        autotag_scroll.setFrameShape(QFrame.Shape.NoFrame)
        autotag_scroll.setWidget(self.autotag)
        self.autotag_dock = self._dock("Auto-tag", "autotagDock", autotag_scroll, Qt.DockWidgetArea.RightDockWidgetArea)
        self.tabifyDockWidget(self.details_dock, self.autotag_dock)
        self.details_dock.raise_()

        sb = self.statusBar()
        # Permanent widgets only: QStatusBar hides its normal widgets while a
        # temporary message shows, and the indexing status must never vanish.
        self.index_status = IndexStatus(sb)
        sb.addPermanentWidget(self.index_status, 1)
        self.notice = QLabel("", sb)
        self.notice.setObjectName("notice")
        sb.addPermanentWidget(self.notice)
        self._notice_timer = QTimer(self)
        self._notice_timer.setSingleShot(True)
        self._notice_timer.timeout.connect(self.notice.clear)
        self.count_label = QLabel("", sb)
        self.count_label.setObjectName("countLabel")
        sb.addPermanentWidget(self.count_label)
        self.size_slider = QSlider(Qt.Orientation.Horizontal, sb)
        self.size_slider.setObjectName("thumbSize")
        self.size_slider.setRange(64, 320)
        self.size_slider.setSingleStep(16)
        self.size_slider.setPageStep(32)
        self.size_slider.setFixedWidth(120)
        self.size_slider.setValue(self.settings.thumb_size)
        self.size_slider.setToolTip("Thumbnail size (Ctrl + mouse wheel on the grid)")
        sb.addPermanentWidget(self.size_slider)

        self._build_menus()
        self.resize(1280, 820)

    def _dock(self, title: str, name: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetClosable
                         | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
        self.addDockWidget(area, dock)
        return dock

    def _build_menus(self) -> None:
        mb = self.menuBar()
        file = mb.addMenu("&File")
        self.add_folder_action = file.addAction("&Add folder…", self.choose_folder)
        self.add_folder_action.setShortcut(QKeySequence("Ctrl+O"))
        file.addAction("&Models…", self.open_models)
        self.failures_action = file.addAction("Photos that could not be &read…", self.show_failures)
        file.addSeparator()
        quit_action = file.addAction("&Quit", self.close)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)

        edit = mb.addMenu("&Edit")
        for seq in ("Ctrl+F", "Ctrl+L"):
            a = QAction("Find" if seq == "Ctrl+F" else "Go to search", self)
            a.setShortcut(QKeySequence(seq))
            a.triggered.connect(self.focus_search)
            self.addAction(a)
            edit.addAction(a)
        sel = edit.addAction("Select &all photos", self.grid.selectAll)
        sel.setShortcut(QKeySequence.StandardKey.SelectAll)
        sel.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        remove = QAction("&Remove from library…", self.grid)
        remove.setShortcut(QKeySequence.StandardKey.Delete)
        remove.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        remove.triggered.connect(lambda: self._selected_photos() and self.remove_photos(self._selected_photos()))
        self.grid.addAction(remove)
        edit.addAction(remove)

        view = mb.addMenu("&View")
        view.addAction(self.sidebar_dock.toggleViewAction())
        view.addAction(self.details_dock.toggleViewAction())
        view.addAction(self.autotag_dock.toggleViewAction())
        names = view.addAction("File &names under thumbnails")
        names.setCheckable(True)
        names.setChecked(self.settings.show_names)
        names.toggled.connect(self._set_show_names)
        bigger = view.addAction("&Larger thumbnails", lambda: self.zoom(1))
        bigger.setShortcut(QKeySequence.StandardKey.ZoomIn)
        smaller = view.addAction("&Smaller thumbnails", lambda: self.zoom(-1))
        smaller.setShortcut(QKeySequence.StandardKey.ZoomOut)
        themes = view.addMenu("&Colours")
        group = QActionGroup(self)
        for key, label in (("system", "Follow the system"), ("light", "Light"), ("dark", "Dark")):
            a = themes.addAction(label)
            a.setCheckable(True)
            a.setChecked(self.settings.theme == key)
            a.triggered.connect(lambda _=False, k=key: self.set_theme(k))
            group.addAction(a)

        help_ = mb.addMenu("&Help")
        help_.addAction("&Search syntax", self._show_syntax)
        help_.addAction("&About ClipDesk", lambda: QMessageBox.about(
            self, "About ClipDesk",
            f"<b>ClipDesk {__version__}</b><p>Find your photos by typing what you remember. "
            "Everything runs on this computer.</p>"))

    def _wire(self) -> None:
        self.bar.textChanged.connect(self._text_changed)
        self.bar.imageDropped.connect(self.find_similar_file)
        self.bar.photoDropped.connect(self.find_similar_photo)
        self.bar.returnPressed.connect(self._focus_grid)
        self.search_ctl.answered.connect(self._show_answer)
        self.model.photosWanted.connect(self._fetch_photos)
        self.search_ctl.failed.connect(self._search_failed)
        self.grid.selectionModel().selectionChanged.connect(self._selection_changed)
        self.grid.previewRequested.connect(self.open_preview)
        self.grid.previewToggled.connect(self.toggle_preview)
        self.grid.zoomRequested.connect(self.zoom)
        self.grid.contextMenuAt.connect(self._grid_menu)
        self.size_slider.valueChanged.connect(self._set_thumb_size)
        self._details_timer = QTimer(self)
        self._details_timer.setSingleShot(True)
        self._details_timer.setInterval(60)
        self._details_timer.timeout.connect(self._update_details)

        self.sidebar.folderActivated.connect(lambda p: self._set_query(querylang.set_filter(self.bar.text(), "folder", p)))
        self.sidebar.tagActivated.connect(lambda t: self._set_query(querylang.set_filter(self.bar.text(), "tag", t)))
        self.search_ctl.parsed.connect(self.chips.show_query)
        self.sidebar.savedActivated.connect(self._set_query)
        self.sidebar.addFolderRequested.connect(self.choose_folder)
        self.sidebar.removeFolderRequested.connect(self.remove_folder)
        self.sidebar.deleteSavedRequested.connect(self.delete_saved_search)
        self.sidebar.teachRequested.connect(self._teach_from_sidebar)
        self.sidebar.pathsDropped.connect(self.add_dropped_paths)

        self.details.changed.connect(self.apply_changes)
        self.autotag.changed.connect(self.apply_changes)
        self.autotag.message.connect(lambda m: self.notify(m, 6000))
        self.autotag.use_selection.clicked.connect(self._suggest_for_selection)

        self.index.progress.connect(self._progress)
        self.index.finished.connect(self._index_finished)
        self.index.catalogChanged.connect(self._catalog_changed)
        self.index.pausedChanged.connect(self.index_status.set_paused)
        self.index_status.pauseToggled.connect(lambda on: self.index.pause() if on else self.index.resume())
        self.index_status.failuresRequested.connect(self.show_failures)

        app = QGuiApplication.instance()
        if app is not None:
            app.styleHints().colorSchemeChanged.connect(self._system_scheme_changed)

    # ------------------------------------------------------------------ start / stop
    def start(self) -> None:
        """Load the library's state, show every photo, get the model ready, then
        look for new photos (a little later: the first search comes first)."""
        self.focus_search()
        self.refresh_library()
        self.refresh_model_status()
        self.search_ctl.search(self.bar.text())
        self._warming = True
        self._warm_up()
        if self.start_indexing:
            if self.index_delay_ms > 0:
                QTimer.singleShot(self.index_delay_ms, lambda: self._closing or self.index.start())
            else:
                self.index.start()

    def focus_search(self) -> None:
        self.bar.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.bar.selectAll()

    def _focus_grid(self) -> None:
        if self.model.rowCount():
            self.grid.setFocus()
            if not self.grid.currentIndex().isValid():
                self.grid.setCurrentIndex(self.model.index(0))

    def closeEvent(self, event) -> None:
        self.shutdown()
        super().closeEvent(event)

    def shutdown(self) -> None:
        """Stop background work and save the window state. Safe to call twice."""
        if self._closing:
            return
        self._closing = True
        self.settings.window_geometry = bytes(self.saveGeometry().toBase64().data()).decode("ascii")
        self.settings.window_state = bytes(self.saveState().toBase64().data()).decode("ascii")
        self.search_ctl.cancel()
        self.thumbs.close()
        self.index.cancel()
        if self.watcher is not None:
            self.watcher.stop()
            self.watcher = None
        if self._preview is not None:
            self._preview.close()
        if self._models is not None:
            self._models.done(0)
        self.pools.shutdown()
        try:
            self.settings.save()
        except OSError as exc:
            log.warning("could not save settings: %s", exc)

    def _restore_window(self) -> None:
        geo, state = self.settings.window_geometry, self.settings.window_state
        if geo:
            self.restoreGeometry(QByteArray.fromBase64(geo.encode("ascii")))
        if state:
            self.restoreState(QByteArray.fromBase64(state.encode("ascii")))
        else:  # first start: most of the width for the photos
            self.resizeDocks([self.sidebar_dock, self.details_dock], [210, 270], Qt.Orientation.Horizontal)

    def bring_forward(self) -> None:
        if self.isMinimized():
            self.showNormal()
        self.show()
        self.raise_()
        self.activateWindow()

    # ------------------------------------------------------------------ searching
    def _text_changed(self, text: str) -> None:
        self.search_ctl.search(text)

    def _set_query(self, text: str) -> None:
        self.bar.setText(text)
        self.focus_search()

    def find_similar_photo(self, photo_id: int) -> None:
        row = self.model.row_of(photo_id)
        photo = self.model.photo(row) if row is not None else None
        self._show_similar_text(photo.path if photo else None)
        self.search_ctl.similar(photo_id, label=f"photos like {photo.name if photo else photo_id}")

    def find_similar_file(self, path: str) -> None:
        self._show_similar_text(path)
        self.search_ctl.similar(path, label=f"photos like {os.path.basename(path)}")

    def _show_similar_text(self, path: str | None) -> None:
        """Put the equivalent query in the bar without searching again."""
        self.bar.blockSignals(True)
        self.bar.setText(f"similar:{querylang.quote_value(path)}" if path else "")
        self.bar.blockSignals(False)
        self.chips.show_query(None)

    def _show_answer(self, answer: Answer) -> None:
        self.answer = answer
        result: SearchResult = answer.result
        selected = {self.model.photo_id(r) for r in self.grid.selected_rows()}
        current = self.grid.current_row()
        current_id = self.model.photo_id(current) if current is not None and current < self.model.rowCount() else None
        scroll = self.grid.verticalScrollBar().value()
        how = self.model.set_rows(answer.ids, answer.scores, answer.photos, answer.fingerprint)
        if how == "reset":
            if selected or current_id is not None:
                self._restore_selection(selected, current_id)
            self.grid.verticalScrollBar().setValue(scroll if self._same_query(answer) else 0)
        self._last_answer_text = answer.text
        n = len(answer.ids)
        if answer.kind == "list":
            text = plural(n, "photo")
        elif answer.kind == "similar":
            text = plural(n, "similar photo")
        else:
            text = plural(n, "result") if result.model_id else plural(n, "photo")
        self.count_label.setText(f"{text} · {result.elapsed_ms:.0f} ms")
        notice = result.notice
        status = self.model_status
        if notice and status is not None and status.message and self.banner.isVisible():
            notice = notice.replace(status.message, "").strip()  # the banner says it already
        if notice:
            self.message.show_notice(notice)
        else:
            self.message.clear_message()
        self._update_empty(answer)
        self.resultsShown.emit(answer)

    def _warm_up(self) -> None:
        """Load what the first typed search needs (model, search index) right away.

        Importing ONNX Runtime and hnswlib (extension modules, loaded with the
        GIL held) or creating a model session stalls every thread for a moment;
        better now, once, than inside the first keystroke or in the middle of
        indexing.
        """
        library = self.library

        def job():
            import hnswlib  # noqa: F401
            import onnxruntime  # noqa: F401

            try:
                library.search.query("photo", limit=1)
            except ClipDeskError as exc:
                log.info("warm-up search: %s", exc)

        def done(_=None) -> None:
            # Everything loaded so far lives as long as the app: leave it out of
            # the garbage collector's full passes, which otherwise walk the
            # whole heap (models, Qt wrappers) and stall every thread for
            # 30-100 ms at a time.
            gc.collect()
            gc.freeze()
            self.warm = True
            self.warmedUp.emit()

        self.pools.run(self.pools.general, job, done, lambda e: done(), owner=self)

    def _same_query(self, answer: Answer) -> bool:
        return getattr(self, "_last_answer_text", None) == answer.text

    def _restore_selection(self, ids: set[int], current_id: int | None) -> None:
        sm = self.grid.selectionModel()
        sm.clearSelection()
        selection = QItemSelection()
        for pid in ids:
            row = self.model.row_of(pid)
            if row is not None:
                idx = self.model.index(row)
                selection.select(idx, idx)
        sm.select(selection, QItemSelectionModel.SelectionFlag.Select)
        if current_id is not None:
            row = self.model.row_of(current_id)
            if row is not None:
                sm.setCurrentIndex(self.model.index(row), QItemSelectionModel.SelectionFlag.NoUpdate)

    def _update_empty(self, answer: Answer | None) -> None:
        if self.model.rowCount():
            self.empty.hide()
            return
        if self.state is not None and not self.state.folders:
            text = "No photos yet.\nAdd a folder (File ▸ Add folder, or drop one here) to start."
        elif answer is not None and answer.text.strip():
            text = "Nothing matches this search."
        else:
            text = "No photos yet."
        self.empty.setText(text)
        self.empty.resize(self.grid.viewport().size())
        self.empty.show()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self.empty.isVisible():
            self.empty.resize(self.grid.viewport().size())

    def _search_failed(self, message: str, position: int) -> None:
        self.message.show_error(message)
        if position >= 0:
            self.bar.setCursorPosition(min(position, len(self.bar.text())))

    # ------------------------------------------------------------------ grid
    def _fetch_photos(self, ids: list) -> None:
        """Photos for rows the grid shows for the first time (a listing is fetched in pages)."""
        search = self.library.search
        self.pools.run(self.pools.general, lambda: search.photos(ids), self.model.add_photos, owner=self.model)

    def _selected_photos(self) -> list[Photo]:
        return [p for p in (self.model.photo(r) for r in self.grid.selected_rows()) if p is not None]

    def _selection_changed(self, *_args) -> None:
        self._details_timer.start()

    def _update_details(self) -> None:
        self.details.show_photos(self._selected_photos()[:500])

    def _set_thumb_size(self, size: int) -> None:
        size = int(size)
        self.settings.thumb_size = size
        self.thumbs.set_size(size)
        self.grid.set_thumb_size(size)

    def zoom(self, steps: int) -> None:
        size = self.settings.thumb_size
        if steps > 0:
            bigger = [s for s in THUMB_STEPS if s > size]
            size = bigger[0] if bigger else size
        else:
            smaller = [s for s in THUMB_STEPS if s < size]
            size = smaller[-1] if smaller else size
        self.size_slider.setValue(size)

    def _set_show_names(self, on: bool) -> None:
        self.settings.show_names = on
        self.grid.set_show_names(on)

    def _grid_menu(self, pos: QPoint) -> None:
        index = self.grid.indexAt(pos)
        if not index.isValid():
            return
        if not self.grid.selectionModel().isSelected(index):
            self.grid.setCurrentIndex(index)
        photos = self._selected_photos() or [p for p in [self.model.photo(index.row())] if p is not None]
        if not photos:
            return
        menu = self.build_photo_menu(photos)
        menu.exec(self.grid.viewport().mapToGlobal(pos))

    def build_photo_menu(self, photos: list[Photo]) -> QMenu:
        menu = QMenu(self)
        first = photos[0]
        menu.addAction("Find similar", lambda: self.find_similar_photo(first.id))
        menu.addAction("Preview", lambda: self.open_preview(self.model.row_of(first.id) or 0))
        menu.addSeparator()
        menu.addAction("Show in file manager", lambda: self.show_in_file_manager(first))
        menu.addAction("Open with the system viewer", lambda: self.open_externally(first))
        menu.addAction("Copy path" if len(photos) == 1 else f"Copy {len(photos)} paths",
                       lambda: self.copy_paths(photos))
        menu.addSeparator()
        tag_menu = menu.addMenu("Tag")
        tag_menu.addAction("New tag…", lambda: self.tag_photos_new(photos))
        if self.state is not None and self.state.tags:
            tag_menu.addSeparator()
            for name, _count in self.state.tags[:40]:
                tag_menu.addAction(name, lambda n=name: self.tag_photos(photos, n))
        menu.addAction("Suggest tags", lambda: self._suggest_for(photos))
        menu.addSeparator()
        menu.addAction("Remove from library…", lambda: self.remove_photos(photos))
        return menu

    def show_in_file_manager(self, photo: Photo) -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(os.path.dirname(photo.path)))

    def open_externally(self, photo: Photo) -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(photo.path))

    def copy_paths(self, photos: list[Photo]) -> None:
        QGuiApplication.clipboard().setText("\n".join(p.path for p in photos))
        self.notify(f"Copied {len(photos)} path(s)", 3000)

    def tag_photos(self, photos: list[Photo], tag: str) -> None:
        ids = [p.id for p in photos]
        tags = self.library.tags
        self.pools.run(self.pools.writes, lambda: tags.accept(ids, tag),
                       lambda changes: (self.notify(f"Tagged {len(ids)} photo(s) '{tag}'", 4000),
                                        self.apply_changes(changes)),
                       lambda e: self.show_error(f"Could not tag: {e}"), owner=self)

    def tag_photos_new(self, photos: list[Photo]) -> None:
        name, ok = QInputDialog.getText(self, "New tag", f"Tag for {len(photos)} photo(s):")
        if ok and name.strip():
            self.tag_photos(photos, name.strip())

    def remove_photos(self, photos: list[Photo], confirm: bool = True) -> None:
        if confirm:
            answer = QMessageBox.question(
                self, "Remove from library",
                f"Remove {len(photos)} photo(s) from the library? The files stay on disk, "
                "but their tags in ClipDesk are forgotten.",
            )
            if answer != QMessageBox.StandardButton.Yes:
                return
        ids = [p.id for p in photos]
        folders = self.library.folders
        # The refresh after the removal overtakes any listing read before it.
        self.pools.run(self.pools.writes, lambda: folders.remove_photos(ids), self.apply_changes,
                       lambda e: self.show_error(f"Could not remove: {e}"), owner=self)

    def _suggest_for_selection(self) -> None:
        self._suggest_for(self._selected_photos())

    def _suggest_for(self, photos: list[Photo]) -> None:
        if not photos:
            self.notify("Select photos in the grid first", 3000)
            return
        self.autotag_dock.show()
        self.autotag_dock.raise_()
        self.autotag.suggest([p.id for p in photos], [])

    def _teach_from_sidebar(self, tag: str, ids: list) -> None:
        self.autotag_dock.show()
        self.autotag_dock.raise_()
        self.autotag.start_teaching(tag, [int(i) for i in ids])

    # ------------------------------------------------------------------ preview
    def open_preview(self, row: int) -> None:
        if row is None or not (0 <= row < self.model.rowCount()):
            return
        if self._preview is None:
            self._preview = PreviewWindow(self)
            self._preview.step.connect(self._preview_step)
        photo = self.model.photo(row)
        if photo is None:
            return
        self.grid.setCurrentIndex(self.model.index(row))
        self._preview.show_photo(photo.id, photo.name, None, "loading…")
        self._preview.show()
        self._preview.raise_()
        screen = self.screen().availableGeometry() if self.screen() else None
        side = max(800, min(2400, max(screen.width(), screen.height()) if screen else 1600))
        preview = self._preview

        def done(image) -> None:
            if preview.photo_id == photo.id:
                preview.show_photo(photo.id, photo.name, image)

        def failed(exc) -> None:
            if preview.photo_id == photo.id:
                preview.show_photo(photo.id, photo.name, None, str(exc))

        self.pools.run(self.pools.general, lambda: load_image(photo.path, side), done, failed, owner=preview)

    def toggle_preview(self, row: int) -> None:
        if self._preview is not None and self._preview.isVisible():
            self._preview.close()
        else:
            self.open_preview(row)

    def _preview_step(self, step: int) -> None:
        row = self.grid.current_row()
        if row is None:
            return
        row = max(0, min(self.model.rowCount() - 1, row + step))
        self.grid.selectionModel().clearSelection()
        self.open_preview(row)

    @property
    def preview(self) -> PreviewWindow | None:
        return self._preview

    # ------------------------------------------------------------------ library state
    def refresh_library(self) -> None:
        """Re-read folders, tags, saved searches and counts (a worker); the newest read wins."""
        library = self.library
        self._library_generation += 1
        generation = self._library_generation

        def job() -> LibraryState:
            rows = [FolderRow(f.path, f.photos, f.state, f.note) for f in library.folders.rows("root")]
            tags = [(t.name, t.photos) for t in library.tags.list()]
            saved = library.search.saved()
            totals = library.folders.counts()
            return LibraryState(rows, tags, saved, sum(totals.values()), totals.get("failed", 0))

        def done(state: LibraryState) -> None:
            if generation != self._library_generation:
                return  # a later read is on its way; this one may be older than what is shown
            self.state = state
            self._show_folders()
            self.sidebar.set_tags(state.tags)
            self._show_saved()
            names = [t for t, _ in state.tags]
            self.chips.set_choices([f.path for f in state.folders], names)
            self.details.set_tag_names(names)
            self.autotag.set_tag_names(names)
            self.index_status.set_failures(state.failed)
            self.index_status.set_photo_count(state.photos)
            self._update_empty(self.answer)
            self._sync_watcher()
            self.libraryLoaded.emit()
            self._count_saved()

        self.pools.run(self.pools.general, job, done, lambda e: self.show_error(f"Could not read the library: {e}"),
                       owner=self)

    def _show_folders(self) -> None:
        if self.state is None:
            return
        p = self.index.last if self.index.running else None
        busy_folder = p.folder if p is not None else None
        rows = []
        for r in self.state.folders:
            if r.state == "offline":
                state = "offline"
            elif self.index.running and p is not None and p.phase == "scanning":
                state = "scanning"
            elif self.index.running and (busy_folder is None or _under(busy_folder, r.path)):
                state = "indexing"
            elif self.watcher is not None and self.watcher.mode == "watching":
                state = "watching"
            elif self.watcher is not None and self.watcher.mode == "polling":
                state = "polling"
            else:
                state = "idle"
            note = r.note
            if state == "polling" and self.watcher is not None:
                note = self.watcher.reason
            rows.append(FolderRow(r.path, r.photos, state, note))
        self.sidebar.set_folders(rows)

    def _show_saved(self) -> None:
        if self.state is None:
            return
        self.sidebar.set_saved([(n, q, self._saved_counts.get(n)) for n, q in self.state.saved])

    def _count_saved(self) -> None:
        """Run each saved search for its count (live as photos arrive)."""
        if self.state is None or not self.state.saved:
            return
        library, saved = self.library, list(self.state.saved)
        self._saved_generation += 1
        generation = self._saved_generation

        def job():
            out = {}
            for name, text in saved:
                try:
                    out[name] = library.search.count(querylang.parse_query(text)) if text.strip() else None
                except ClipDeskError:  # a saved search that no longer parses or runs shows no count
                    out[name] = None
            return out

        def done(counts):
            if generation != self._saved_generation:
                return
            self._saved_counts = {k: v for k, v in counts.items() if v is not None}
            self._show_saved()

        self.pools.run(self.pools.general, job, done, lambda e: None, owner=self)

    def apply_changes(self, changes: Changes) -> None:
        """The one place views refresh after a change: whatever a panel, dialog
        or indexing run changed, announced by the Changes it returned."""
        if self._closing or not changes:
            return
        if changes.removed:
            self.model.remove_ids(list(changes.removed))
        if changes.tags or changes.folders or changes.saved_searches or changes.removed or changes.catalog:
            self.refresh_library()
        if changes.tags or changes.photos:
            self.details.refresh_tags()
        if changes.removed or changes.model or changes.catalog or changes.folders or (
                changes.tags and "tag:" in self.bar.text().lower()):
            self.search_ctl.refresh()
        if changes.model:
            self.refresh_model_status()
        if changes.sidecar_failures:
            first = changes.sidecar_failures[0]
            more = len(changes.sidecar_failures) - 1
            self.notify(f"Could not write the sidecar of {os.path.basename(first.path)}: {first.reason}"
                        + (f" (and {more} more)" if more else ""), 10000)

    def refresh_model_status(self) -> None:
        library = self.library

        self.pools.run(self.pools.general, library.models.status, self._show_model_status,
                       lambda e: self._show_model_status(None),
                       owner=self)

    def _show_model_status(self, status: ModelStatus | None) -> None:
        self.model_status = status
        if status is not None and (status.is_demo or status.model_id is None):
            self.banner_text.setText(status.message or "")
            rec = status.recommended or modelhub.DEFAULT_MODEL
            self.banner_button.setText(f"Get {rec}…")
            self.banner.show()
        else:
            self.banner.hide()
        self.modelStatusKnown.emit(status)

    # ------------------------------------------------------------------ folders
    def choose_folder(self) -> None:
        start = self.settings.last_folder or os.path.expanduser("~")
        path = QFileDialog.getExistingDirectory(self, "Add a folder to the library", start)
        if path:
            self.settings.last_folder = path
            self.add_folders([path])

    def add_folders(self, paths: list[str]) -> None:
        library = self.library

        def job():
            added, errors = [], []
            for p in paths:
                try:
                    added.append(library.folders.add(p).path)
                except Exception as exc:  # noqa: BLE001 - said to the user
                    errors.append(str(exc))
            return added, errors

        def done(value) -> None:
            added, errors = value
            if added:
                self.notify(f"Added {', '.join(os.path.basename(a) for a in added)}", 5000)
                self.refresh_library()
                self.index.start()
            if errors:
                self.show_error("\n".join(errors))

        self.pools.run(self.pools.writes, job, done, owner=self)

    def add_dropped_paths(self, paths: list[str]) -> None:
        """Folders dropped on the window join the library; image files search by example."""
        def job():
            folders = [p for p in paths if os.path.isdir(p)]
            files = [p for p in paths if os.path.isfile(p)]
            return folders, files

        def done(value) -> None:
            folders, files = value
            if folders:
                self.add_folders(folders)
            elif files:
                self.find_similar_file(files[0])

        self.pools.run(self.pools.general, job, done, owner=self)

    def remove_folder(self, path: str, confirm: bool = True) -> None:
        if confirm:
            answer = QMessageBox.question(
                self, "Remove folder",
                f"Remove {path} from the library?\nThe photos stay on disk; their tags in ClipDesk are forgotten.",
            )
            if answer != QMessageBox.StandardButton.Yes:
                return
        library = self.library

        def done(changes: Changes) -> None:
            self.notify(f"Removed {os.path.basename(path)} ({len(changes.removed):,} photos left the library)", 5000)
            self.apply_changes(changes)

        self.pools.run(self.pools.writes, lambda: library.folders.remove(path), done,
                       lambda e: self.show_error(f"Could not remove the folder: {e}"), owner=self)

    def save_current_search(self) -> None:
        query = self.bar.text().strip()
        if not query:
            self.notify("Type a search first", 3000)
            return
        name, ok = QInputDialog.getText(self, "Save search", "Name:", text=query[:40])
        if ok and name.strip():
            self.save_search(name.strip(), query)

    def save_search(self, name: str, query: str) -> None:
        search = self.library.search
        self.pools.run(self.pools.writes, lambda: search.save(name, query), self.apply_changes,
                       lambda e: self.show_error(str(e)), owner=self)

    def delete_saved_search(self, name: str) -> None:
        search = self.library.search
        self.pools.run(self.pools.writes, lambda: search.delete_saved(name), self.apply_changes,
                       lambda e: self.show_error(str(e)), owner=self)

    # ------------------------------------------------------------------ indexing
    def _progress(self, p: Progress) -> None:
        self.index_status.show_progress(p)
        where = (p.phase, p.folder)
        if where != self._progress_where:
            self._progress_where = where
            self._show_folders()

    def _index_finished(self, result: RunResult) -> None:
        self.index_status.show_finished(result)
        self.refresh_library()
        self.refresh_model_status()

    def _catalog_changed(self) -> None:
        self.apply_changes(Changes(catalog=True))

    def show_failures(self) -> None:
        if self._failures is None:
            self._failures = FailuresDialog(self)
            self._failures.retryRequested.connect(self.retry_failures)
        folders = self.library.folders
        dlg = self._failures
        self.pools.run(self.pools.general, folders.failures, dlg.set_failures, owner=dlg)
        dlg.show()
        dlg.raise_()

    def retry_failures(self, ids: list) -> None:
        folders = self.library.folders

        def done(n: int) -> None:
            self.notify(f"Retrying {n} photo(s)", 4000)
            self.index.start()
            if self._failures is not None and self._failures.isVisible():
                self.pools.run(self.pools.general, folders.failures, self._failures.set_failures,
                               owner=self._failures)

        self.pools.run(self.pools.writes, lambda: folders.retry_failed(ids or None), done, owner=self)

    def _sync_watcher(self) -> None:
        """Watch the online roots (again, when they change)."""
        if not self.watch or self._closing or self.state is None:
            return
        roots = sorted(r.path for r in self.state.folders if r.state != "offline")
        if roots == self._watched_roots:
            return
        self._watched_roots = roots
        from clipdesk.core.watch import (
            Watcher,  # watchdog: not needed to paint the window
        )

        old, self.watcher = self.watcher, None
        dispatcher = self.pools.dispatcher

        def on_change() -> None:  # the watcher's thread
            dispatcher.post(self.index.start)

        new = Watcher(roots, on_change) if roots else None

        def job():
            if old is not None:
                old.stop()
            if new is not None:
                new.start()
            return new

        def done(w) -> None:
            if self._closing:
                if w is not None:
                    w.stop()
                return
            self.watcher = w
            self._show_folders()

        self.pools.run(self.pools.long, job, done, owner=self)

    # ------------------------------------------------------------------ models, theme
    def open_models(self) -> None:
        if self._models is None:
            self._models = ModelsDialog(self.library, self.paths, self.pools, self.settings, self,
                                        endpoint=self.hub_endpoint)
            self._models.modelChosen.connect(self._model_changed)
            self._models.downloadFinished.connect(lambda *_: self.refresh_model_status())
        else:
            self._models.refresh()
        self._models.show()
        self._models.raise_()

    @property
    def models_dialog(self) -> ModelsDialog | None:
        return self._models

    def _model_changed(self, model_id: str) -> None:
        self.notify(f"Searches now use {model_id}; photos are being re-indexed", 6000)
        self.apply_changes(Changes(model=True))
        self.index.start()

    def set_theme(self, choice: str) -> None:
        self.settings.theme = choice
        app = QApplication.instance()
        if app is not None:
            theme.apply(app, choice)

    def _system_scheme_changed(self, *_args) -> None:
        if self.settings.theme == "system":
            self.set_theme("system")

    # ------------------------------------------------------------------ drops, misc
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if local_paths(event.mimeData()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = local_paths(event.mimeData())
        if paths:
            event.acceptProposedAction()
            self.add_dropped_paths(paths)

    def notify(self, text: str, ms: int = 5000) -> None:
        """A passing message in the status bar."""
        self.notice.setText(text)
        self._notice_timer.start(ms)

    def show_error(self, text: str) -> None:
        self.notify(text.splitlines()[0] if text else "", 10000)
        box = QMessageBox(QMessageBox.Icon.Warning, "ClipDesk", text, QMessageBox.StandardButton.Ok, self)
        box.setObjectName("errorBox")
        box.open()

    def _show_syntax(self) -> None:
        QMessageBox.information(
            self, "Search syntax",
            "<p><b>dog on a beach</b> — what the photo shows<br>"
            "<b>beach + sunset</b> — both<br><b>red car -night</b> — push away from a word<br>"
            "<b>folder:Holidays</b>, <b>after:2023-07</b>, <b>before:2024</b>, <b>type:heic</b>, "
            "<b>camera:pixel</b>, <b>tag:family</b>, <b>-tag:\"to delete\"</b><br>"
            "<b>similar:~/Pictures/cat.jpg</b> — photos like a file (or drop it on the search bar)<br>"
            "<b>sort:newest</b>, <b>sort:oldest</b></p>",
        )


def _under(path: str, root: str) -> bool:
    root = root.rstrip(os.sep)
    return path == root or path.startswith(root + os.sep)

"""The main window: composes the features and wires them together.

It builds the widgets (the model banner, the search panel, the grid, the
sidebar, details and auto-tag docks, the status bar, the menus), hands each
feature its controller, and connects their signals. The logic lives in the
features: searching in :mod:`clipdesk.ui.search`, the grid and what can be
done to its photos in :mod:`clipdesk.ui.grid`, the library's state, indexing
and the watcher in :mod:`clipdesk.ui.library`, tagging in
:mod:`clipdesk.ui.tagging`, models in :mod:`clipdesk.ui.models`. Every
operation's Changes go through one :class:`~clipdesk.ui.hub.ChangeHub`, which
the views subscribe to, and the undo history too (:mod:`clipdesk.ui.undo`,
behind the Edit menu); everything that reads or writes the catalog, the disk
or a model runs on the :class:`~clipdesk.ui.workers.Pools`.

The window can paint before any of that exists: ``MainWindow(None, ...)``
shows its frame (a search bar that takes typing, an empty grid, the menus'
titles) and :meth:`MainWindow.attach` builds the features over the library
once it is open. This module imports only Qt at the top; the features, and
through them the core, numpy, Pillow and the catalog, are imported by
:meth:`MainWindow.attach` (app.run imports them on a worker while the frame
paints: :func:`import_features`).
"""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup, QDragEnterEvent, QDropEvent, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QApplication, QDockWidget, QLabel, QLineEdit, QListView, QMainWindow, QMessageBox, QSlider, QVBoxLayout, QWidget,
)

from clipdesk import __version__
from clipdesk.ui import theme
from clipdesk.ui.dnd import local_paths, photo_files
from clipdesk.ui.hub import ChangeHub, sidecar_notice
from clipdesk.ui.settings import Settings
from clipdesk.ui.undo import UndoHistory
from clipdesk.ui.workers import Pools

if TYPE_CHECKING:
    from clipdesk.core.catalog import Photo
    from clipdesk.core.changes import Changes
    from clipdesk.core.library import Library
    from clipdesk.core.paths import Paths
    from clipdesk.ui.duplicates.view import DuplicatesWindow
    from clipdesk.ui.export.dialog import ExportDialog
    from clipdesk.ui.library.controller import LibraryState
    from clipdesk.ui.models.dialog import ModelsDialog
    from clipdesk.ui.prefs.dialog import PreferencesDialog

log = logging.getLogger(__name__)


def import_features() -> None:
    """Import every module of the app's features, and through them the core
    (any thread: app.run does it on a worker while the frame paints), so that
    :meth:`MainWindow.attach` on the GUI thread only builds widgets."""
    import importlib
    import pkgutil

    import clipdesk.ui

    for module in pkgutil.walk_packages(clipdesk.ui.__path__, "clipdesk.ui."):
        importlib.import_module(module.name)


class MainWindow(QMainWindow):
    """The window: the features, laid out and wired. ``start()`` loads the library.

    ``library`` None: the window shows its frame until :meth:`attach` gets one.
    """

    #: The grid shows an answer (the model is updated; the paint follows).
    resultsShown = Signal(object)  # Answer

    def __init__(self, library: Library | None, settings: Settings, *, paths: Paths | None = None,
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
        self.hub_endpoint = hub_endpoint
        #: The worker pools (tests hand in synchronous ones).
        self.pools = pools if pools is not None else Pools(self)
        self.hub = ChangeHub(self.pools, self)
        self.history = UndoHistory(self.hub, self)
        self._closing = False
        self._attached = False
        self._models: ModelsDialog | None = None
        self._prefs: PreferencesDialog | None = None
        self._duplicates: DuplicatesWindow | None = None
        self._watch, self._pipeline_kwargs = watch, pipeline_kwargs
        self.resize(1280, 820)
        geo = settings.window_geometry
        if geo:
            self.restoreGeometry(QByteArray.fromBase64(geo.encode("ascii")))
        self._frame()
        if library is not None:
            self.attach(library)

    # ------------------------------------------------------------------ building
    def _frame(self) -> None:
        """What the window shows before the features are built: a search field
        (it takes typing at once; :meth:`attach` carries the text over to the
        search bar), an empty grid, the menus' titles. Plain Qt widgets: the
        search bar's module brings the query language with it."""
        central = QWidget(self)
        v = QVBoxLayout(central)
        v.setContentsMargins(6, 6, 6, 0)
        v.setSpacing(4)
        self._frame_bar = QLineEdit(central)
        self._frame_bar.setObjectName("searchBar")
        self._frame_bar.setPlaceholderText("Search your photos")
        self._frame_bar.setClearButtonEnabled(True)
        v.addWidget(self._frame_bar)
        v.addWidget(QListView(central), 1)
        self.setCentralWidget(central)
        self._frame_bar.setFocus()
        for title in ("&File", "&Edit", "&Photo", "&View", "&Help"):
            self.menuBar().addMenu(title)

    def attach(self, library: Library) -> None:
        """Build the features over ``library`` (once), in place of the frame."""
        if self._attached:
            return
        self._attached = True
        self.library = library
        settings = self.settings
        typed = self._frame_bar
        self.menuBar().clear()
        self._build(self._watch)
        self._build_menus()
        self._wire()
        self._follow_settings()
        self._restore_window()
        self.setAcceptDrops(True)
        #: Text was typed into the frame while the library opened (kept as the user left it).
        self._typed_early = typed.isModified()
        if self._typed_early:
            self.bar.setText(typed.text())
            self.bar.setCursorPosition(typed.cursorPosition())
            if typed.hasSelectedText():
                self.bar.setSelection(typed.selectionStart(), typed.selectionLength())
        if typed.hasFocus():
            self.bar.setFocus()
        typed.deleteLater()
        # Settings are written a moment after they change, off the GUI thread.
        self._save_settings = QTimer(self)
        self._save_settings.setSingleShot(True)
        self._save_settings.setInterval(1000)
        self._save_settings.timeout.connect(
            lambda: self.pools.run(self.pools.writes, settings.save, None, lambda e: log.warning("settings: %s", e),
                                   owner=self))
        settings.on_change(lambda _name, _value: self._closing or self._save_settings.start())

    def _build(self, watch: bool) -> None:
        from clipdesk.ui.files.operations import FileOperations
        from clipdesk.ui.grid.actions import PhotoActions
        from clipdesk.ui.grid.controller import GridController
        from clipdesk.ui.grid.details import DetailsPanel
        from clipdesk.ui.grid.marking import MarkActions
        from clipdesk.ui.grid.marks import MarkBadges, MarkCache
        from clipdesk.ui.grid.model import PhotoListModel
        from clipdesk.ui.grid.more import MoreBar
        from clipdesk.ui.grid.preview import PreviewController
        from clipdesk.ui.grid.sorting import GridArea, SortControl
        from clipdesk.ui.grid.thumbs import ThumbnailLoader
        from clipdesk.ui.grid.view import PhotoGrid
        from clipdesk.ui.library.controller import LibraryController
        from clipdesk.ui.library.indexing import IndexController
        from clipdesk.ui.library.sidebar import Sidebar
        from clipdesk.ui.library.status import BesideBanner, IndexStatus
        from clipdesk.ui.library.tagtree import TagEditor
        from clipdesk.ui.library.welcome import WelcomePanel
        from clipdesk.ui.models.banner import ModelBanner
        from clipdesk.ui.search.panel import SearchPanel
        from clipdesk.ui.tagging.panel import AutoTagPanel, PanelScroll

        library, pools, hub, settings = self.library, self.pools, self.hub, self.settings
        self.index = IndexController(library, hub, parent=self, pipeline_kwargs=self._pipeline_kwargs)
        self.thumbs = ThumbnailLoader(library.thumbnails, pools.thumbs, size=settings.thumb_size, parent=self)
        self.model = PhotoListModel(self.thumbs, self)
        central = QWidget(self)
        v = QVBoxLayout(central)
        v.setContentsMargins(6, 6, 6, 0)
        v.setSpacing(4)
        self.banner = ModelBanner(library, pools, hub, central)
        v.addWidget(self.banner)
        self.beside = BesideBanner(central)
        self.beside.setVisible(not getattr(library, "exclusive", True))
        v.addWidget(self.beside)
        self.search = SearchPanel(library, pools, hub, settings, central)
        v.addWidget(self.search)
        self.bar, self.chips, self.message = self.search.bar, self.search.chips, self.search.message
        self.search_ctl = self.search.controller
        self.grid = PhotoGrid(self.model, central, size=settings.thumb_size, show_names=settings.show_names)
        self.grid_area = GridArea(self.grid, central)
        v.addWidget(self.grid_area, 1)
        self.more_bar = MoreBar(self.grid, settings, central)
        v.addWidget(self.more_bar)
        self.setCentralWidget(central)
        self.grid_ctl = GridController(self.grid, library, pools, hub, settings, self)
        self.sorting = SortControl(self.grid_area.sort_combo, settings, self.search_ctl, self.grid_ctl, self)
        self.previews = PreviewController(self.grid, pools, library.thumbnails, self)
        self.files = FileOperations(library, hub, settings, self)
        self.photo_actions = PhotoActions(library, hub, self.grid_ctl, self.previews, self.files, self)
        self.marks = MarkCache(library, pools, hub, self)
        self.grid.delegate.overlay = MarkBadges(self.marks)
        self.mark_actions = MarkActions(library, hub, self.grid_ctl, self.previews, self)
        self.photo_actions.menu_extensions.append(lambda menu, _photos: self.mark_actions.fill_menu(menu))

        self.sidebar = Sidebar(self)
        self.sidebar_dock = self._dock("Library", "sidebarDock", self.sidebar, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.library_ctl = LibraryController(library, pools, hub, self.index, settings, watch=watch, parent=self)
        self.tag_editor = TagEditor(library, hub, self.sidebar.tags, self)
        self.welcome = WelcomePanel(self.grid.viewport())
        self.details = DetailsPanel(library, pools, hub, self)
        self.details_dock = self._dock("Details", "detailsDock", self.details, Qt.DockWidgetArea.RightDockWidgetArea)
        self.autotag = AutoTagPanel(library, pools, hub, settings, self.thumbs, self)
        self.autotag_dock = self._dock("Auto-tag", "autotagDock", PanelScroll(self.autotag, self),
                                       Qt.DockWidgetArea.RightDockWidgetArea)
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
        sb.addPermanentWidget(self.search.count_label)
        self.size_slider = QSlider(Qt.Orientation.Horizontal, sb)
        self.size_slider.setObjectName("thumbSize")
        self.size_slider.setRange(64, 320)
        self.size_slider.setSingleStep(16)
        self.size_slider.setPageStep(32)
        self.size_slider.setFixedWidth(120)
        self.size_slider.setValue(settings.thumb_size)
        self.size_slider.setToolTip("Thumbnail size (Ctrl + mouse wheel on the grid)")
        sb.addPermanentWidget(self.size_slider)

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
        add_folder = file.addAction("&Add folder…", self.library_ctl.choose_folder)
        add_folder.setShortcut(QKeySequence("Ctrl+O"))
        file.addAction("&Models…", self.open_models)
        file.addAction("Photos that could not be &read…", self.library_ctl.show_failures)
        export = file.addAction("&Export…", self.export_selected)
        export.setShortcut(QKeySequence("Ctrl+E"))
        file.addSeparator()
        quit_action = file.addAction("&Quit", self.close)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)

        edit = mb.addMenu("&Edit")
        self.undo_action = self.history.undo_action(self)
        self.redo_action = self.history.redo_action(self)
        for a in (self.undo_action, self.redo_action):
            self.addAction(a)
            edit.addAction(a)
        edit.addSeparator()
        for seq in ("Ctrl+F", "Ctrl+L"):
            a = QAction("Find" if seq == "Ctrl+F" else "Go to search", self)
            a.setShortcut(QKeySequence(seq))
            a.triggered.connect(self.search.focus)
            self.addAction(a)
            edit.addAction(a)
        sel = edit.addAction("Select &all photos", self.grid.selectAll)
        sel.setShortcut(QKeySequence.StandardKey.SelectAll)
        sel.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        remove = QAction("&Remove from library…", self.grid)
        remove.setShortcut(QKeySequence.StandardKey.Delete)
        remove.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        remove.triggered.connect(self.photo_actions.remove_selected)
        self.grid.addAction(remove)
        edit.addAction(remove)
        edit.addSeparator()
        prefs = edit.addAction("&Preferences…", self.open_preferences)
        prefs.setShortcuts(QKeySequence.keyBindings(QKeySequence.StandardKey.Preferences)
                           or [QKeySequence("Ctrl+,")])  # the platform's key (Cmd+, on macOS), else Ctrl+,
        prefs.setMenuRole(QAction.MenuRole.PreferencesRole)

        self.photo_menu = self.mark_actions.fill_menu(mb.addMenu("&Photo"))
        photo = self.photo_menu
        photo.addSeparator()
        for text, slot, keys in (
                ("View &full screen", lambda: self.previews.open_viewer(self.grid.current_row()), "F"),
                ("Show in file &manager", lambda: self._first_selected(self.photo_actions.show_in_file_manager), None),
                ("Move to &folder…", self.photo_actions.move_selected, "Ctrl+Shift+M"),
                ("Move to &trash…", self.photo_actions.trash_selected, "Ctrl+Del")):
            a = QAction(text, self.grid)
            a.triggered.connect(slot)
            if keys:
                a.setShortcut(QKeySequence(keys))
                a.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)  # the grid's keys, not the search bar's
                self.grid.addAction(a)
            photo.addAction(a)
        photo.addSeparator()
        photo.addAction("&Duplicates…", self.open_duplicates)


        view = mb.addMenu("&View")
        view.addAction(self.sidebar_dock.toggleViewAction())
        view.addAction(self.details_dock.toggleViewAction())
        view.addAction(self.autotag_dock.toggleViewAction())
        view.addAction(self.search.restore_action)
        names = self.names_action = view.addAction("File &names under thumbnails")
        names.setCheckable(True)
        names.setChecked(self.settings.show_names)
        names.toggled.connect(self.grid_ctl.set_show_names)
        bigger = view.addAction("&Larger thumbnails", lambda: self.grid_ctl.zoom(1))
        bigger.setShortcut(QKeySequence.StandardKey.ZoomIn)
        smaller = view.addAction("&Smaller thumbnails", lambda: self.grid_ctl.zoom(-1))
        smaller.setShortcut(QKeySequence.StandardKey.ZoomOut)
        themes = view.addMenu("&Colours")
        group = self.theme_actions = QActionGroup(self)
        for key, label in (("system", "Follow the system"), ("light", "Light"), ("dark", "Dark")):
            a = themes.addAction(label)
            a.setCheckable(True)
            a.setChecked(self.settings.theme == key)
            a.triggered.connect(lambda _=False, k=key: self.set_theme(k))
            a.setData(key)
            group.addAction(a)

        help_ = mb.addMenu("&Help")
        help_.addAction("&Search syntax", self.search.show_syntax)
        help_.addAction("&About ClipDesk", lambda: QMessageBox.about(
            self, "About ClipDesk",
            f"<b>ClipDesk {__version__}</b><p>Find your photos by typing what you remember. "
            "Everything runs on this computer.</p>"))

    def _wire(self) -> None:
        search, grid_ctl, actions, library_ctl = self.search, self.grid_ctl, self.photo_actions, self.library_ctl
        self.bar.imageDropped.connect(search.find_similar_file)
        self.bar.photoDropped.connect(lambda pid: search.find_similar_photo(pid, grid_ctl.photo(pid)))
        self.bar.returnPressed.connect(self._focus_grid)
        search.saveRequested.connect(library_ctl.save_search)
        search.statusMessage.connect(self.notify)
        self.search_ctl.answered.connect(grid_ctl.show_answer)
        self.search_ctl.answered.connect(self.resultsShown)
        self.search_ctl.answered.connect(self.more_bar.show_answer)
        self.more_bar.moreRequested.connect(self.search_ctl.show_more)
        self.banner.statusChanged.connect(search.set_model_status)
        search.filtersShown.connect(self.sidebar.show_query)
        self.banner.button.clicked.connect(self.open_models)

        self.grid.previewRequested.connect(self.previews.open)
        self.grid.previewToggled.connect(self.previews.toggle)
        self.grid.viewerRequested.connect(self.previews.open_viewer)
        self.grid.previewRequested.connect(self._viewer_keys)
        self.grid.previewToggled.connect(self._viewer_keys)
        self.marks.changed.connect(lambda _ids: self.grid.viewport().update())
        self.details.marks.markRequested.connect(self.mark_actions.apply)
        self.mark_actions.statusMessage.connect(self.notify)
        self.mark_actions.error.connect(self.show_error)
        self.tag_editor.statusMessage.connect(self.notify)
        self.tag_editor.error.connect(self.show_error)
        self.history.failed.connect(self.show_error)
        self.history.applied.connect(self._undone)
        self.grid.viewerRequested.connect(self._viewer_keys)
        grid_ctl.selectionSettled.connect(self.details.show_photos)
        grid_ctl.thumbSizeChanged.connect(self.size_slider.setValue)
        self.size_slider.valueChanged.connect(grid_ctl.set_thumb_size)
        actions.similarRequested.connect(lambda photo: search.find_similar_photo(photo.id, photo))
        actions.suggestRequested.connect(self._suggest_for)
        actions.statusMessage.connect(self.notify)
        actions.error.connect(self.show_error)
        actions.exportRequested.connect(self.open_export)
        self.files.statusMessage.connect(self.notify)
        self.files.error.connect(self.show_error)

        self.sidebar.folderActivated.connect(lambda path, add: search.filter_by("folder", path, add))
        self.sidebar.tagActivated.connect(lambda tag, add: search.filter_by("tag", tag, add))
        self.sidebar.savedActivated.connect(search.set_query)
        self.sidebar.addFolderRequested.connect(library_ctl.choose_folder)
        self.sidebar.removeFolderRequested.connect(library_ctl.remove_folder)
        self.sidebar.deleteSavedRequested.connect(library_ctl.delete_saved)
        self.sidebar.teachRequested.connect(self._teach_from_sidebar)
        self.sidebar.pathsDropped.connect(self.add_dropped_paths)
        library_ctl.loaded.connect(self._show_library)
        library_ctl.demoPending.connect(self.welcome.set_busy)
        self.welcome.addFolderRequested.connect(library_ctl.choose_folder)
        self.welcome.demoRequested.connect(library_ctl.add_demo)
        self.welcome.modelRequested.connect(self.open_models)
        self.banner.statusChanged.connect(self.welcome.set_model_status)
        library_ctl.foldersChanged.connect(self.sidebar.set_folders)
        library_ctl.savedChanged.connect(self.sidebar.set_saved)
        library_ctl.statusMessage.connect(self.notify)
        library_ctl.error.connect(self.show_error)

        self.autotag.message.connect(lambda m: self.notify(m, 6000))
        self.autotag.use_selection.clicked.connect(lambda: self._suggest_for(grid_ctl.selected_photos()))

        self.index.progress.connect(self.index_status.show_progress)
        self.index.finished.connect(self.index_status.show_finished)
        self.index.pausedChanged.connect(self.index_status.set_paused)
        self.index_status.pauseToggled.connect(lambda on: self.index.pause() if on else self.index.resume())
        self.index_status.failuresRequested.connect(library_ctl.show_failures)
        self.hub.changed.connect(self._report_sidecars)

        app = QGuiApplication.instance()
        if app is not None:
            app.styleHints().colorSchemeChanged.connect(self._system_scheme_changed)

    def _follow_settings(self) -> None:
        """Settings changed in Preferences (or anywhere) take effect at once."""
        from clipdesk.ui.prefs.dialog import follow_settings

        library, grid_ctl = self.library, self.grid_ctl
        library.tags.sidecar_style = self.settings.sidecar_style
        library.tags.write_sidecars = self.settings.write_sidecars  # tag edits from every panel

        def theme_changed(key: str) -> None:
            self.set_theme(key)
            for action in self.theme_actions.actions():
                action.setChecked(action.data() == key)

        def limit_changed(limit: int) -> None:
            self.search_ctl.limit = limit
            self.search_ctl.refresh()

        follow_settings(self.settings, {
            "theme": theme_changed,
            "thumb_size": grid_ctl.set_thumb_size,
            "show_names": lambda on: (grid_ctl.set_show_names(on), self.names_action.setChecked(on)),
            "result_limit": limit_changed,
            "sidecar_style": lambda style: setattr(library.tags, "sidecar_style", style),
            "write_sidecars": lambda on: setattr(library.tags, "write_sidecars", on),
            "show_scores": self.more_bar.scores.setChecked,
            "restore_search": self.search.restore_action.setChecked,
        })

    def _show_library(self, state: LibraryState) -> None:
        names = [t for t, _ in state.tags]
        self.sidebar.set_tag_tree(state.tag_tree)
        self.photo_actions.set_roots([f.path for f in state.folders])
        self.chips.set_choices([f.path for f in state.folders], names)
        for view in (self.details, self.autotag, self.photo_actions):
            view.set_tag_names(names)
        self.index_status.set_failures(state.failed)
        self.index_status.set_photo_count(state.photos)
        self.grid_ctl.set_has_folders(bool(state.folders))
        self.welcome.show_for(bool(state.folders))

    @property
    def setup_pending(self) -> int:
        """Set-up jobs (the demo library) still running before indexing can start."""
        return self.library_ctl.setup_pending

    # ------------------------------------------------------------------ start / stop
    def start(self) -> None:
        """Load the library's state, show every photo, get the model ready, then
        look for new photos (a little later: the first search comes first)."""
        if not self._typed_early:
            self.search.focus()
        self.library_ctl.refresh()
        self.banner.refresh()
        self.search_ctl.search(self.bar.text())
        self.search_ctl.warm_up()
        if self.start_indexing:
            if self.index_delay_ms > 0:
                QTimer.singleShot(self.index_delay_ms, lambda: self._closing or self.index.start())
            else:
                self.index.start()

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
        self.hub.close()
        self.settings.window_geometry = bytes(self.saveGeometry().toBase64().data()).decode("ascii")
        if self._attached:  # (the frame has no docks: their state stays as saved)
            self.settings.window_state = bytes(self.saveState().toBase64().data()).decode("ascii")
            self.search_ctl.cancel()
            self.thumbs.close()
            self.index.cancel()
            self.library_ctl.shutdown()
            self.previews.close()
        if self._models is not None:
            self._models.done(0)
        self.pools.shutdown()
        try:
            self.settings.save()
        except OSError as exc:
            log.warning("could not save settings: %s", exc)

    def _restore_window(self) -> None:
        state = self.settings.window_state  # (the geometry is restored with the frame)
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

    # ------------------------------------------------------------------ between features
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

    def _viewer_keys(self, _row=None) -> None:
        """The mark keys and undo work in the preview and the full-screen viewer too (once they exist)."""
        for viewer in (self.previews.window, self.previews.viewer):
            if viewer is not None:
                self.mark_actions.attach(viewer)
                viewer.addActions([a for a in (self.undo_action, self.redo_action) if a not in viewer.actions()])

    def _undone(self, changes: Changes) -> None:
        if changes.catalog and not self._closing:
            self.index.start()  # photos back in the library are indexed again

    def add_dropped_paths(self, paths: list[str]) -> None:
        """Folders dropped on the window join the library; photos search by example."""
        def job():
            return [p for p in paths if os.path.isdir(p)], photo_files(paths)

        def done(value) -> None:
            folders, files = value
            if folders:
                self.library_ctl.add_folders(folders)
            elif files:
                self.search.find_similar_file(files[0])

        self.pools.run(self.pools.general, job, done, owner=self)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if local_paths(event.mimeData()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = local_paths(event.mimeData())
        if paths:
            event.acceptProposedAction()
            self.add_dropped_paths(paths)

    # ------------------------------------------------------------------ models, theme
    def open_models(self) -> None:
        from clipdesk.ui.models.dialog import ModelsDialog

        if self._models is None:
            self._models = ModelsDialog(self.library, self.paths, self.pools, self.hub, self.settings, self,
                                        endpoint=self.hub_endpoint)
            self._models.modelChosen.connect(self._model_changed)
        else:
            self._models.refresh()
        self._models.show()
        self._models.raise_()

    def _first_selected(self, action) -> None:
        photos = self.grid_ctl.selected_photos()
        if photos:
            action(photos[0])

    def export_selected(self) -> None:
        """File ▸ Export…: the selected photos."""
        photos = self.grid_ctl.selected_photos()
        if photos:
            self.open_export(photos)
        else:
            self.notify("Select the photos to export in the grid first", 4000)

    def open_export(self, photos: list[Photo]) -> ExportDialog:
        from clipdesk.ui.export.dialog import ExportDialog

        dialog = ExportDialog(self.library, self.pools, self.settings, photos, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        return dialog

    def open_duplicates(self) -> DuplicatesWindow:
        """Photo ▸ Duplicates…: groups of copies, the one to keep, the others to the trash."""
        from clipdesk.ui.duplicates.view import DuplicatesWindow

        if self._duplicates is None:
            self._duplicates = DuplicatesWindow(self.library, self.pools, self.hub, self.files, self)
        self._duplicates.refresh()
        self._duplicates.show()
        self._duplicates.raise_()
        return self._duplicates

    def open_preferences(self) -> PreferencesDialog:
        """Edit ▸ Preferences: every setting, with what it does."""
        from clipdesk.ui.prefs.dialog import PreferencesDialog

        if self._prefs is None:
            self._prefs = PreferencesDialog(self.settings, self)
        self._prefs.load()
        self._prefs.show()
        self._prefs.raise_()
        return self._prefs

    @property
    def models_dialog(self) -> ModelsDialog | None:
        return self._models

    def _model_changed(self, model_id: str) -> None:
        self.notify(f"Searches now use {model_id}; photos are being re-indexed", 6000)
        self.index.start()

    def set_theme(self, choice: str) -> None:
        self.settings.theme = choice
        app = QApplication.instance()
        if app is not None:
            theme.apply(app, choice)

    def _system_scheme_changed(self, *_args) -> None:
        if self.settings.theme == "system":
            self.set_theme("system")

    # ------------------------------------------------------------------ messages
    def notify(self, text: str, ms: int = 5000) -> None:
        """A passing message in the status bar."""
        self.notice.setText(text)
        self._notice_timer.start(ms)

    def _report_sidecars(self, changes: Changes) -> None:
        text = sidecar_notice(changes)
        if text:
            self.notify(text, 10000)

    def show_error(self, text: str) -> None:
        self.notify(text.splitlines()[0] if text else "", 10000)
        box = QMessageBox(QMessageBox.Icon.Warning, "ClipDesk", text, QMessageBox.StandardButton.Ok, self)
        box.setObjectName("errorBox")
        box.open()

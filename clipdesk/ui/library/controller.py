"""The library as the sidebar shows it, kept current: folders, tags, saved searches, counts.

:class:`LibraryController` reads them on a worker whenever the change hub says
they changed (the newest read wins) and emits them; gives each folder its
live state (indexing, scanning, watching, polling, offline, idle) as indexing
moves on; counts the photos of each saved search; and watches every library
folder, offline ones included (the watcher polls those, so a drive that comes
back is indexed by itself), starting an indexing run when something in them
changes. A folder that joins the library, here or from the command line, is
indexed.

Other programs may change the catalog while the window is open
(`clipdesk tags add`, `clipdesk folders add`, a `clipdesk scan --watch` that
holds it): the controller polls
:meth:`~clipdesk.core.folders.FolderService.edited_elsewhere` and announces
such edits on the change hub, so every view refreshes as after its own edits.

Adding and removing folders, saving and deleting searches and retrying the
photos that could not be read go through it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from clipdesk.core import query as querylang
from clipdesk.core.changes import Changes
from clipdesk.core.errors import ClipDeskError
from clipdesk.core.library import Library
from clipdesk.core.pipeline import Progress
from clipdesk.core.wording import plural
from clipdesk.ui.hub import ChangeHub
from clipdesk.ui.library.indexing import IndexController
from clipdesk.ui.library.sidebar import FolderRow
from clipdesk.ui.library.status import FailuresDialog
from clipdesk.ui.settings import Settings
from clipdesk.ui.workers import Pools


@dataclass
class LibraryState:
    """What the sidebar and chips show, read on a worker thread."""

    folders: list[FolderRow]
    tags: list[tuple[str, int]]
    saved: list[tuple[str, str]]
    photos: int
    failed: int
    #: The tags nested as ``library.tags.tree()`` makes them (TagNode).
    tag_tree: list = field(default_factory=list)


class LibraryController(QObject):
    """Reads the library's state and keeps it current; dialogs it needs open over ``parent``."""

    #: A read finished: the LibraryState (folders as stored; foldersChanged has their live state).
    loaded = Signal(object)
    #: Each folder with its live state: list[FolderRow].
    foldersChanged = Signal(list)
    #: The saved searches: list of (name, query text, photo count or None).
    savedChanged = Signal(list)
    statusMessage = Signal(str, int)  # text, milliseconds
    error = Signal(str)
    #: The demo library is being set up (True), or that is over (False).
    demoPending = Signal(bool)

    #: How often the catalog is checked for edits by other programs.
    POLL_MS = 1000
    #: Edits by other programs may have changed any of these.
    ELSEWHERE = Changes(tags=True, folders=True, saved_searches=True, catalog=True)

    def __init__(self, library: Library, pools: Pools, hub: ChangeHub, index: IndexController, settings: Settings,
                 *, watch: bool = True, parent: QWidget):
        super().__init__(parent)
        self.library = library
        self.pools = pools
        self.hub = hub
        self.index = index
        self.settings = settings
        self.watch = watch
        self._host = parent
        #: The state last read (None until the first read).
        self.state: LibraryState | None = None
        #: The folder watcher (clipdesk.core.watch.Watcher) once the roots are known.
        self.watcher = None
        self._watched_roots: list[str] = []
        self._saved_counts: dict[str, int] = {}
        self._generation = 0
        self._saved_generation = 0
        self._progress_where: tuple = ()
        self._failures: FailuresDialog | None = None
        self._closing = False
        #: Set-up jobs (the demo library) still running before it can be indexed.
        self.setup_pending = 0
        #: Options for the folder watcher (clipdesk.core.watch.Watcher), e.g. its poll periods.
        self.watcher_options: dict = {}
        self._poll = QTimer(self)
        self._poll.setInterval(self.POLL_MS)
        self._poll.timeout.connect(self._poll_catalog)
        self._polling = False
        hub.changed.connect(self._on_changes)
        index.progress.connect(self._progress)

    # -- reading ---------------------------------------------------------------------
    def refresh(self) -> None:
        """Re-read folders, tags, saved searches and counts (a worker); the newest read wins."""
        library = self.library
        self._generation += 1
        generation = self._generation

        def job() -> tuple[LibraryState, bool]:
            # Edits by other programs are looked for from here on (the first
            # read takes the reference); the state read next includes them.
            elsewhere = library.folders.edited_elsewhere()
            rows = [FolderRow(f.path, f.photos, f.state, f.note) for f in library.folders.rows("root")]
            tags = [(t.name, t.photos) for t in library.tags.list()]
            saved = library.search.saved()
            totals = library.folders.counts()
            return LibraryState(rows, tags, saved, sum(totals.values()), totals.get("failed", 0),
                                library.tags.tree()), elsewhere

        def done(value: tuple[LibraryState, bool]) -> None:
            state, elsewhere = value
            if elsewhere and not self._closing:
                self.hub.announce(self.ELSEWHERE)  # the other views refresh too (this read runs again)
            if generation != self._generation:
                return  # a later read is on its way; this one may be older than what is shown
            before, self.state = self.state, state
            self._index_new_folders(before, state)
            if not self._poll.isActive() and not self._closing:
                self._poll.start()
            self.loaded.emit(state)
            self._show_folders()
            self._show_saved()
            self._sync_watcher()
            self._count_saved()

        self.pools.run(self.pools.general, job, done, lambda e: self.error.emit(f"Could not read the library: {e}"),
                       owner=self)

    def _index_new_folders(self, before: LibraryState | None, now: LibraryState) -> None:
        """A folder joined the library (added here or by another program): index it."""
        if before is None or not getattr(self.library, "exclusive", True):
            return
        if {r.path for r in now.folders} - {r.path for r in before.folders}:
            self.index.start()

    def _poll_catalog(self) -> None:
        """Announce edits other programs made to the catalog (a worker reads it)."""
        if self._polling or self._closing:
            return
        self._polling = True
        folders, hub = self.library.folders, self.hub

        def done(edited: bool) -> None:
            self._polling = False
            if edited and not self._closing:
                hub.announce(self.ELSEWHERE)

        def failed(exc: BaseException) -> None:
            self._polling = False

        self.pools.run(self.pools.general, folders.edited_elsewhere, done, failed, owner=self)

    def _on_changes(self, changes: Changes) -> None:
        if changes.tags or changes.folders or changes.saved_searches or changes.removed or changes.catalog:
            self.refresh()

    def _progress(self, p: Progress) -> None:
        where = (p.phase, p.folder)
        if where != self._progress_where:
            self._progress_where = where
            self._show_folders()

    def _show_folders(self) -> None:
        if self.state is None:
            return
        index, watcher = self.index, self.watcher
        p = index.last if index.running else None
        busy_folder = p.folder if p is not None else None
        rows = []
        for r in self.state.folders:
            if r.state == "offline":
                state = "offline"
            elif index.running and p is not None and p.phase == "scanning":
                state = "scanning"
            elif index.running and (busy_folder is None or _under(busy_folder, r.path)):
                state = "indexing"
            elif watcher is not None and watcher.mode in ("watching", "polling"):
                state = watcher.mode
            else:
                state = "idle"
            note = watcher.reason if state == "polling" else r.note
            rows.append(FolderRow(r.path, r.photos, state, note))
        self.foldersChanged.emit(rows)

    def _show_saved(self) -> None:
        if self.state is not None:
            self.savedChanged.emit([(n, q, self._saved_counts.get(n)) for n, q in self.state.saved])

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

    # -- the watcher -------------------------------------------------------------------
    def _sync_watcher(self) -> None:
        """Watch every root (again, when they change), offline ones included:
        the watcher polls those and asks for a run when one comes back. Beside
        another ClipDesk that holds the catalog, that one watches."""
        if not self.watch or self._closing or self.state is None or not getattr(self.library, "exclusive", True):
            return
        roots = sorted(r.path for r in self.state.folders)
        if roots == self._watched_roots:
            return
        self._watched_roots = roots
        from clipdesk.core.watch import Watcher  # watchdog: not needed to paint the window

        old, self.watcher = self.watcher, None
        dispatcher, index = self.pools.dispatcher, self.index

        def on_change() -> None:  # the watcher's thread
            dispatcher.post(index.start)

        new = Watcher(roots, on_change, **self.watcher_options) if roots else None

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

    def shutdown(self) -> None:
        """Stop watching and polling (the window is closing)."""
        self._closing = True
        self._poll.stop()
        if self.watcher is not None:
            self.watcher.stop()
            self.watcher = None

    # -- folders -------------------------------------------------------------------------
    def choose_folder(self) -> None:
        """Ask for a folder and add it."""
        start = self.settings.last_folder or os.path.expanduser("~")
        path = QFileDialog.getExistingDirectory(self._host, "Add a folder to the library", start)
        if path:
            self.settings.last_folder = path
            self.add_folders([path])

    def add_folders(self, paths: list[str]) -> None:
        """Add folders to the library and index them."""
        folders = self.library.folders

        def job():
            added, errors = [], []
            for p in paths:
                try:
                    added.append(folders.add(p).path)
                except Exception as exc:  # noqa: BLE001 - said to the user
                    errors.append(str(exc))
            return added, errors

        def done(value) -> None:  # the new folders are indexed once the library is read again
            added, errors = value
            if added:
                self.statusMessage.emit(f"Added {', '.join(os.path.basename(a) for a in added)}", 5000)
            if errors:
                self.error.emit("\n".join(errors))

        self.hub.write(job, done, owner=self, changes=lambda value: Changes(folders=bool(value[0])))

    def remove_folder(self, path: str, confirm: bool = True) -> None:
        """Take a folder out of the library (the files stay), after asking when ``confirm``."""
        if confirm:
            answer = QMessageBox.question(
                self._host, "Remove folder",
                f"Remove {path} from the library?\nThe photos stay on disk; their tags in ClipDesk are forgotten.",
            )
            if answer != QMessageBox.StandardButton.Yes:
                return
        folders = self.library.folders

        def done(changes: Changes) -> None:
            self.statusMessage.emit(
                f"Removed {os.path.basename(path)} ({len(changes.removed):,} photos left the library)", 5000)

        self.hub.write(lambda: folders.remove(path), done,
                       lambda e: self.error.emit(f"Could not remove the folder: {e}"), owner=self)

    def add_demo(self) -> None:
        """Set up the demo library (off the GUI thread) and add it; it is indexed
        like any folder that joins the library. Nothing happens when the library
        is not empty or a real model is installed."""
        library = self.library
        self.setup_pending += 1
        self.demoPending.emit(True)

        def job():
            from clipdesk.demo import needs_demo, setup_demo

            return setup_demo(library) if needs_demo(library) else None

        def done(dest) -> None:
            self.setup_pending -= 1
            self.demoPending.emit(False)
            if dest is not None:
                self.statusMessage.emit("Demo library added: try typing “red sneaker” or “bags on grass”", 15000)

        def failed(exc: BaseException) -> None:
            self.setup_pending -= 1
            self.demoPending.emit(False)
            self.error.emit(f"Could not set up the demo library: {exc}")

        self.hub.write(job, done, failed, owner=self, changes=lambda dest: Changes(folders=dest is not None))

    # -- saved searches --------------------------------------------------------------------
    def save_search(self, name: str, query: str) -> None:
        """Keep ``query`` under ``name`` (its count stays live as photos arrive)."""
        search = self.library.search
        self.hub.write(lambda: search.save(name, query), None, lambda e: self.error.emit(str(e)), owner=self)

    def delete_saved(self, name: str) -> None:
        search = self.library.search
        self.hub.write(lambda: search.delete_saved(name), None, lambda e: self.error.emit(str(e)), owner=self)

    # -- photos that could not be read ---------------------------------------------------
    @property
    def failures_dialog(self) -> FailuresDialog | None:
        """The list of photos that could not be read, once it was opened."""
        return self._failures

    def show_failures(self) -> None:
        """Open the list of photos that could not be indexed, with their reasons."""
        if self._failures is None:
            self._failures = FailuresDialog(self._host)
            self._failures.retryRequested.connect(self.retry_failures)
        self._list_failures()
        self._failures.show()
        self._failures.raise_()

    def _list_failures(self) -> None:
        dialog = self._failures
        if dialog is not None:
            self.pools.run(self.pools.general, self.library.folders.failures, dialog.set_failures, owner=dialog)

    def retry_failures(self, ids: list) -> None:
        """Index these failed photos again (all of them for an empty list)."""
        folders = self.library.folders

        def done(n: int) -> None:
            self.statusMessage.emit(f"Retrying {plural(n, 'photo')}", 4000)
            self.index.start()
            if self._failures is not None and self._failures.isVisible():
                self._list_failures()

        self.pools.run(self.pools.writes, lambda: folders.retry_failed(ids or None), done, owner=self)


def _under(path: str, root: str) -> bool:
    root = root.rstrip(os.sep)
    return path == root or path.startswith(root + os.sep)

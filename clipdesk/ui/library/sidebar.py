"""The sidebar: library folders with their state, saved searches, and the tag tree.

It shows what the library controller reads (the window connects the two) and
says what the user asked for; it never reads the library itself. Dropping
photos on a tag teaches that tag from them; dropping a folder adds it to the
library. The tags, nested and editable, are :class:`~clipdesk.ui.library.tagtree.TagTree`.

What is highlighted is what the query on screen filters by (:meth:`Sidebar.show_query`),
never a click that the query has left behind. As in Lightroom's keyword list,
clicking a tag or folder shows its photos (it replaces that filter); with Ctrl
or Shift held it is added to the filters already there.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtGui import QColor, QDragEnterEvent, QDropEvent, QFont, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView, QHBoxLayout, QHeaderView, QLabel, QMenu, QSplitter, QToolButton, QTreeWidget, QTreeWidgetItem,
    QVBoxLayout, QWidget,
)

from clipdesk.core.names import tag_key
from clipdesk.core.query import Query
from clipdesk.core.tags import TagNode
from clipdesk.ui.dnd import PHOTO_IDS_MIME, local_paths
from clipdesk.ui.library.tagtree import TagTree, adds

KIND_ROLE = Qt.ItemDataRole.UserRole + 1
VALUE_ROLE = Qt.ItemDataRole.UserRole + 2

STATE_COLORS = {
    "indexing": QColor(0x2F, 0x7F, 0xE0),
    "scanning": QColor(0x2F, 0x7F, 0xE0),
    "watching": QColor(0x3A, 0xA0, 0x5A),
    "polling": QColor(0xC0, 0x90, 0x30),
    "offline": QColor(0xC0, 0x40, 0x40),
    "idle": QColor(0x90, 0x90, 0x90),
}


@dataclass(frozen=True)
class FolderRow:
    path: str
    photos: int
    state: str  # indexing | scanning | watching | polling | offline | idle
    note: str | None = None


class Sidebar(QWidget):
    #: A folder or tag was clicked: (its path or name, True when it is to be added
    #: to the query's filters rather than replace them).
    folderActivated = Signal(str, bool)
    tagActivated = Signal(str, bool)
    savedActivated = Signal(str)  # the saved query text
    addFolderRequested = Signal()
    removeFolderRequested = Signal(str)
    deleteSavedRequested = Signal(str)
    teachRequested = Signal(str, list)  # tag, photo ids dropped on it
    pathsDropped = Signal(list)  # local paths (folders to add)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("sidebar")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        buttons = QHBoxLayout()
        buttons.setContentsMargins(4, 4, 4, 0)
        self.add_button = QToolButton(self)
        self.add_button.setText("+ Folder")
        self.add_button.setToolTip("Add a folder to the library (or drop one on the window)")
        self.add_button.clicked.connect(self.addFolderRequested)
        self.remove_button = QToolButton(self)
        self.remove_button.setText("− Remove")
        self.remove_button.setToolTip("Remove the selected folder from the library (files stay on disk)")
        self.remove_button.clicked.connect(self._remove_selected)
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        layout.addLayout(buttons)

        self.tree = _DropTree(self)
        self.tree.setObjectName("sidebarTree")
        self.tree.setHeaderHidden(True)
        self.tree.setColumnCount(2)
        self.tree.header().setStretchLastSection(False)
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.tree.header().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.setRootIsDecorated(False)
        self.tree.setIndentation(10)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.tree.customContextMenuRequested.connect(self._menu)
        self.tree.itemClicked.connect(self._clicked)
        self.tree.pathsDropped.connect(self.pathsDropped)

        tags_pane = QWidget(self)
        tags_layout = QVBoxLayout(tags_pane)
        tags_layout.setContentsMargins(0, 0, 0, 0)
        tags_layout.setSpacing(0)
        title = QLabel("Tags", tags_pane)
        title.setObjectName("tagsTitle")
        font = QFont(title.font())
        font.setBold(True)
        title.setFont(font)
        title.setContentsMargins(6, 4, 4, 2)
        tags_layout.addWidget(title)
        self.tags = TagTree(tags_pane)
        self.tags.tagActivated.connect(self.tagActivated)
        self.tags.teachRequested.connect(self.teachRequested)
        self.tags.pathsDropped.connect(self.pathsDropped)
        tags_layout.addWidget(self.tags)
        self.splitter = QSplitter(Qt.Orientation.Vertical, self)
        self.splitter.setObjectName("sidebarSplitter")
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(self.tree)
        self.splitter.addWidget(tags_pane)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 1)
        layout.addWidget(self.splitter)

        self.folders_item = self._section("Folders")
        self.saved_item = self._section("Saved searches")
        self._folder_rows: list[FolderRow] = []
        self._saved: list[tuple[str, str, int | None]] = []
        #: What the query on screen filters by: {(kind, key)} (see show_query).
        self._active: set[tuple[str, str]] = set()

    def _section(self, title: str) -> QTreeWidgetItem:
        item = QTreeWidgetItem(self.tree, [title])
        font = QFont(item.font(0))
        font.setBold(True)
        item.setFont(0, font)
        item.setFlags(Qt.ItemFlag.ItemIsEnabled)
        item.setData(0, KIND_ROLE, "section")
        item.setExpanded(True)
        return item

    # -- content ------------------------------------------------------------------
    def set_folders(self, rows: list[FolderRow]) -> None:
        if list(rows) == self._folder_rows and self.folders_item.childCount():
            return
        self._folder_rows = list(rows)
        self._refill(self.folders_item, [
            (os.path.basename(r.path.rstrip(os.sep)) or r.path, f"{r.photos:,}", "folder", r.path,
             _folder_tip(r), STATE_COLORS.get(r.state))
            for r in rows
        ], empty="Add a folder to start")

    def set_tag_tree(self, nodes: list[TagNode]) -> None:
        """The tags as a tree (``library.tags.tree()``)."""
        self.tags.set_tree(nodes)

    def set_saved(self, saved: list[tuple[str, str, int | None]]) -> None:
        if list(saved) == self._saved and self.saved_item.childCount():
            return
        self._saved = list(saved)
        self._refill(self.saved_item, [
            (name, "" if count is None else f"{count:,}", "saved", query, query, None)
            for name, query, count in saved
        ], empty="Save a search with ☆")

    def _refill(self, section: QTreeWidgetItem, rows, empty: str) -> None:
        selected = self.tree.currentItem()
        keep = (selected.data(0, KIND_ROLE), selected.data(0, VALUE_ROLE)) if selected else None
        section.takeChildren()
        if not rows:
            item = QTreeWidgetItem(section, [empty])
            item.setFlags(Qt.ItemFlag.NoItemFlags)
            item.setData(0, KIND_ROLE, "empty")
        for text, count, kind, value, tip, color in rows:
            item = QTreeWidgetItem(section, [text, count])
            item.setData(0, KIND_ROLE, kind)
            item.setData(0, VALUE_ROLE, value)
            item.setToolTip(0, tip)
            item.setTextAlignment(1, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            if color is not None:
                item.setIcon(0, _dot(color))
            if keep == (kind, value):
                self.tree.setCurrentItem(item)
        self._highlight()

    # -- what the query filters by ---------------------------------------------------
    def show_query(self, text: str, q: Query | None) -> None:
        """Highlight the folders, tags and saved search the query ``text`` (parsed
        as ``q``; None when it does not parse) stands for, and nothing else."""
        active: set[tuple[str, str]] = {("saved", text.strip())} if text.strip() else set()
        if q is not None:
            active |= {("folder", _folder_key(f)) for f in q.folders}
            active |= {("tag", tag_key(t)) for t in q.tags}
        if active != self._active:
            self._active = active
            self._highlight()

    def _highlight(self) -> None:
        tree = self.tree
        tree.blockSignals(True)
        try:
            for section in (self.folders_item, self.saved_item):
                for i in range(section.childCount()):
                    item = section.child(i)
                    item.setSelected(_key(item) in self._active)
        finally:
            tree.blockSignals(False)
        tree.viewport().update()
        self.tags.highlight({key for kind, key in self._active if kind == "tag"})

    def items(self, kind: str) -> list[QTreeWidgetItem]:
        """The rows of one kind: "folder", "saved", or "tag" (the top-level tags)."""
        if kind == "tag":
            return [i for i in self.tags.tag_items() if i.parent() is None]
        section = {"folder": self.folders_item, "saved": self.saved_item}[kind]
        return [section.child(i) for i in range(section.childCount())
                if section.child(i).data(0, KIND_ROLE) == kind]

    # -- user actions -------------------------------------------------------------
    def _clicked(self, item: QTreeWidgetItem) -> None:
        kind, value = item.data(0, KIND_ROLE), item.data(0, VALUE_ROLE)
        if kind == "folder":
            self.folderActivated.emit(value, adds(self.tree.click_modifiers))
        elif kind == "saved":
            self.savedActivated.emit(value)
        self._highlight()  # the click's own selection gives way to the query's

    def _remove_selected(self) -> None:
        item = self.tree.currentItem()
        if item is not None and item.data(0, KIND_ROLE) == "folder":
            self.removeFolderRequested.emit(item.data(0, VALUE_ROLE))

    def _menu(self, pos: QPoint) -> None:
        item = self.tree.itemAt(pos)
        if item is None:
            return
        kind, value = item.data(0, KIND_ROLE), item.data(0, VALUE_ROLE)
        menu = QMenu(self)
        if kind == "folder":
            menu.addAction("Show these photos", lambda: self.folderActivated.emit(value, False))
            menu.addAction("Remove from library…", lambda: self.removeFolderRequested.emit(value))
        elif kind == "saved":
            menu.addAction("Run", lambda: self.savedActivated.emit(value))
            menu.addAction("Delete", lambda: self.deleteSavedRequested.emit(item.text(0)))
        elif kind == "section" and item is self.folders_item:
            menu.addAction("Add folder…", self.addFolderRequested.emit)
        if not menu.isEmpty():
            menu.exec(self.tree.viewport().mapToGlobal(pos))


def _folder_key(path: str) -> str:
    return os.path.normpath(path)


def _key(item: QTreeWidgetItem) -> tuple[str, str]:
    kind, value = item.data(0, KIND_ROLE), item.data(0, VALUE_ROLE) or ""
    return kind, _folder_key(value) if kind == "folder" else value.strip()


_DOTS: dict[int, QIcon] = {}


def _dot(color: QColor) -> QIcon:
    """A small filled circle in ``color``: a folder's state at a glance."""
    icon = _DOTS.get(color.rgb())
    if icon is None:
        pm = QPixmap(12, 12)
        pm.fill(Qt.GlobalColor.transparent)
        p = QPainter(pm)
        try:
            p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(color)
            p.drawEllipse(1, 1, 10, 10)
        finally:
            p.end()
        icon = _DOTS[color.rgb()] = QIcon(pm)
    return icon


def _folder_tip(r: FolderRow) -> str:
    words = {
        "indexing": "indexing now", "scanning": "looking for new and changed photos",
        "watching": "watching for changes", "polling": "checking for changes from time to time",
        "offline": "offline: the folder is not reachable; its photos are kept", "idle": "up to date",
    }
    tip = f"{r.path}\n{r.photos:,} photos, {words.get(r.state, r.state)}"
    if r.note:
        tip += f"\n{r.note}"
    return tip


class _DropTree(QTreeWidget):
    """Takes folders dropped from the file manager (photos go on the tag tree)."""

    pathsDropped = Signal(list)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setAcceptDrops(True)
        self.setDropIndicatorShown(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DropOnly)
        #: The keys held at the last mouse press (Ctrl/Shift: add to the filters).
        self.click_modifiers = Qt.KeyboardModifier.NoModifier

    def mousePressEvent(self, event) -> None:
        self.click_modifiers = event.modifiers()
        super().mousePressEvent(event)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        mime = event.mimeData()
        if local_paths(mime) and not mime.hasFormat(PHOTO_IDS_MIME):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:
        self.dragEnterEvent(event)

    def dropEvent(self, event: QDropEvent) -> None:
        mime = event.mimeData()
        paths = local_paths(mime)
        if paths and not mime.hasFormat(PHOTO_IDS_MIME):
            event.acceptProposedAction()
            self.pathsDropped.emit(paths)
            return
        event.ignore()

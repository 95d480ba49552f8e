"""The tag tree in the sidebar: nested tags with their counts, and editing them.

:class:`TagTree` shows ``library.tags.tree()`` (``Places|Beach`` under
``Places``) as the library controller reads it, and says what the user asked
for: clicking a tag filters by it (Ctrl or Shift + click adds it to the
filters), and the tags the query filters by are highlighted; F2 (or the context menu) renames it in
place; dragging a tag onto another nests it there, onto empty space makes it
a top-level tag; Delete deletes it. Photos dropped on a tag teach it.

:class:`TagEditor` does what the tree asks, through the change hub (so the
views refresh, the undo history records it and sidecar failures are
reported): a rename onto a name that exists is a merge and is confirmed
first, a delete is confirmed with what it takes away.
"""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QMimeData, QModelIndex, QObject, QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView, QHeaderView, QLineEdit, QMenu, QMessageBox, QStyledItemDelegate, QTreeWidget, QTreeWidgetItem,
    QWidget,
)

from clipdesk.core.library import Library
from clipdesk.core.names import HIERARCHY_SEPARATOR, tag_key
from clipdesk.core.tags import TagNode
from clipdesk.core.wording import plural
from clipdesk.ui.dnd import PHOTO_IDS_MIME, decode_ids, local_paths
from clipdesk.ui.hub import ChangeHub

#: A tag dragged inside the tree: its full name, UTF-8.
TAG_MIME = "application/x-clipdesk-tag"

PATH_ROLE = Qt.ItemDataRole.UserRole + 1


def adds(modifiers) -> bool:
    """A click with Ctrl or Shift held adds to the query's filters."""
    return bool(modifiers & (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier))


def parent_of(path: str) -> str | None:
    head, sep, _leaf = path.rpartition(HIERARCHY_SEPARATOR)
    return head if sep else None


def leaf_of(path: str) -> str:
    return path.rpartition(HIERARCHY_SEPARATOR)[2]


def is_within(path: str, ancestor: str) -> bool:
    """``path`` is ``ancestor`` or nested below it (names compared as the catalog does)."""
    a, p = tag_key(ancestor), tag_key(path)
    return p == a or p.startswith(a + HIERARCHY_SEPARATOR)


class _RenameDelegate(QStyledItemDelegate):
    """Edits a tag's own name (the last level) in place; the tree does not
    change until the catalog says so."""

    renamed = Signal(str, str)  # full name, new last level as typed

    def createEditor(self, parent, option, index: QModelIndex):
        if index.column() != 0 or index.data(PATH_ROLE) is None:
            return None
        editor = QLineEdit(parent)
        editor.setObjectName("tagRenameEditor")
        return editor

    def setEditorData(self, editor: QLineEdit, index: QModelIndex) -> None:
        editor.setText(leaf_of(index.data(PATH_ROLE)))
        editor.selectAll()

    def setModelData(self, editor: QLineEdit, model, index: QModelIndex) -> None:
        path, text = index.data(PATH_ROLE), editor.text().strip()
        if text and text != leaf_of(path):
            self.renamed.emit(path, text)


class TagTree(QTreeWidget):
    """The tags as a tree with counts. Reads nothing itself: ``set_tree`` gives it
    the nodes; its signals say what the user asked for."""

    #: A tag was clicked: (its name, True with Ctrl or Shift held: add it to the filters).
    tagActivated = Signal(str, bool)
    #: tag, its new full name.
    renameRequested = Signal(str, str)
    #: tag, its new parent (None: the top level).
    moveRequested = Signal(str, object)
    deleteRequested = Signal(str)
    teachRequested = Signal(str, list)  # tag, photo ids dropped on it
    pathsDropped = Signal(list)  # local paths (folders to add)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("tagTree")
        self.setHeaderHidden(True)
        self.setColumnCount(2)
        self.header().setStretchLastSection(False)
        self.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.header().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.setIndentation(14)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.EditKeyPressed)
        self.setDragEnabled(True)
        self.setAcceptDrops(True)
        self.setDropIndicatorShown(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragDrop)
        self.setDefaultDropAction(Qt.DropAction.CopyAction)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self._menu)
        self.itemClicked.connect(self._clicked)
        self.delegate = _RenameDelegate(self)
        self.setItemDelegateForColumn(0, self.delegate)
        # Later, not inside the editor's commit: the answer rebuilds the tree.
        self.delegate.renamed.connect(self._renamed, Qt.ConnectionType.QueuedConnection)
        self.nodes: list[TagNode] = []
        self._by_key: dict[str, TagNode] = {}
        self._shown: list | None = None
        #: Nodes that arrived while a name was being edited (shown after), and
        #: how many trees were given (a newer one makes those out of date).
        self._waiting: list[TagNode] | None = None
        self._given = 0
        #: The tags the query on screen filters by (tag keys), highlighted.
        self._highlighted: set[str] = set()
        #: The keys held at the last mouse press.
        self.click_modifiers = Qt.KeyboardModifier.NoModifier
        self.set_tree([])

    # -- content -----------------------------------------------------------------------
    def set_tree(self, nodes: list[TagNode]) -> None:
        """Show these tags; what was expanded and the current tag stay so."""
        self._given += 1
        if self.state() == QAbstractItemView.State.EditingState:
            self._waiting = list(nodes)  # rebuilding now would close the editor under the user's hands
            return
        shape = _shape(nodes)
        if shape == self._shown:
            return
        self._shown = shape
        self.nodes = list(nodes)
        self._by_key = {tag_key(n.path): n for n in _walk(nodes)}
        collapsed = {tag_key(p) for p in self._collapsed_paths()}
        current = self.currentItem()
        keep = current.data(0, PATH_ROLE) if current is not None else None
        self.clear()
        if not nodes:
            empty = QTreeWidgetItem(self, ["No tags yet"])
            empty.setFlags(Qt.ItemFlag.NoItemFlags)
            return
        self._add(self.invisibleRootItem(), nodes, collapsed, keep)
        self.highlight(self._highlighted)

    def highlight(self, keys: set[str]) -> None:
        """Select the tags whose keys (names.tag_key) are ``keys``, and no other."""
        self._highlighted = set(keys)
        self.blockSignals(True)
        try:
            for item in self.tag_items():
                item.setSelected(tag_key(item.data(0, PATH_ROLE)) in self._highlighted)
        finally:
            self.blockSignals(False)
        self.viewport().update()

    def _add(self, parent: QTreeWidgetItem, nodes: list[TagNode], collapsed: set[str], keep: str | None) -> None:
        for node in nodes:
            item = QTreeWidgetItem(parent, [node.name, f"{node.photos:,}" if node.photos else ""])
            item.setData(0, PATH_ROLE, node.path)
            item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEditable
                          | Qt.ItemFlag.ItemIsDragEnabled | Qt.ItemFlag.ItemIsDropEnabled)
            item.setTextAlignment(1, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            item.setToolTip(0, _tip(node))
            if node.children:
                self._add(item, node.children, collapsed, keep)
                item.setExpanded(tag_key(node.path) not in collapsed)
            if keep is not None and tag_key(node.path) == tag_key(keep):
                self.setCurrentItem(item)

    def _collapsed_paths(self) -> list[str]:
        return [i.data(0, PATH_ROLE) for i in self.tag_items() if i.childCount() and not i.isExpanded()]

    def tag_items(self) -> list[QTreeWidgetItem]:
        """Every tag's item, depth first."""
        out: list[QTreeWidgetItem] = []

        def walk(item: QTreeWidgetItem) -> None:
            for i in range(item.childCount()):
                child = item.child(i)
                if child.data(0, PATH_ROLE) is not None:
                    out.append(child)
                    walk(child)

        walk(self.invisibleRootItem())
        return out

    def tag_item(self, path: str) -> QTreeWidgetItem | None:
        """The item of the tag called ``path`` (None when there is none)."""
        key = tag_key(path)
        return next((i for i in self.tag_items() if tag_key(i.data(0, PATH_ROLE)) == key), None)

    def node(self, path: str) -> TagNode | None:
        return self._by_key.get(tag_key(path))

    def exists(self, path: str) -> bool:
        """A tag of that name is in the library (a level that is only a path does not count)."""
        node = self.node(path)
        return node is not None and (node.photos > 0 or node.learned or not node.children)

    # -- the user's requests -------------------------------------------------------------
    def mousePressEvent(self, event) -> None:
        self.click_modifiers = event.modifiers()
        super().mousePressEvent(event)

    def _clicked(self, item: QTreeWidgetItem) -> None:
        path = item.data(0, PATH_ROLE)
        if path is not None:
            self.tagActivated.emit(path, adds(self.click_modifiers))
        self.highlight(self._highlighted)  # the click's own selection gives way to the query's

    def current_path(self) -> str | None:
        item = self.currentItem()
        return item.data(0, PATH_ROLE) if item is not None else None

    def rename(self, path: str) -> None:
        """Edit the tag's name in place (F2)."""
        item = self.tag_item(path)
        if item is not None:
            self.setCurrentItem(item)
            self.editItem(item, 0)

    def closeEditor(self, editor, hint) -> None:
        super().closeEditor(editor, hint)
        if self._waiting is not None:
            nodes, self._waiting, given = self._waiting, None, self._given
            QTimer.singleShot(0, self, lambda: self._given == given and self.set_tree(nodes))

    def _renamed(self, path: str, text: str) -> None:
        parent = parent_of(path)
        self.renameRequested.emit(path, f"{parent}{HIERARCHY_SEPARATOR}{text}" if parent else text)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        path = self.current_path()
        if path is not None and event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace) \
                and self.state() != QAbstractItemView.State.EditingState:
            self.deleteRequested.emit(path)
            return
        super().keyPressEvent(event)

    def _menu(self, pos: QPoint) -> None:
        item = self.itemAt(pos)
        path = item.data(0, PATH_ROLE) if item is not None else None
        if path is None:
            return
        self.menu_for(path).exec(self.viewport().mapToGlobal(pos))

    def menu_for(self, path: str) -> QMenu:
        menu = QMenu(self)
        menu.addAction("Show these photos", lambda: self.tagActivated.emit(path, False))
        menu.addAction("Add to the search", lambda: self.tagActivated.emit(path, True))
        menu.addSeparator()
        menu.addAction("Rename…", lambda: self.rename(path))
        if parent_of(path) is not None:
            menu.addAction("Move to the top level", lambda: self.moveRequested.emit(path, None))
        menu.addAction("Delete…", lambda: self.deleteRequested.emit(path))
        return menu

    # -- drag and drop --------------------------------------------------------------------
    def mimeTypes(self) -> list[str]:
        return [TAG_MIME]

    def mimeData(self, items) -> QMimeData:
        mime = QMimeData()
        paths = [i.data(0, PATH_ROLE) for i in items if i.data(0, PATH_ROLE) is not None]
        if paths:
            mime.setData(TAG_MIME, QByteArray(paths[0].encode("utf-8")))
            mime.setText(paths[0])
        return mime

    def supportedDropActions(self) -> Qt.DropAction:
        # Copy, never Move: a "moved" drag makes the view take the rows out
        # itself, and the tree must change only when the catalog did.
        return Qt.DropAction.CopyAction

    def _path_at(self, pos: QPoint) -> str | None:
        item = self.itemAt(pos)
        return item.data(0, PATH_ROLE) if item is not None else None

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        mime = event.mimeData()
        if mime.hasFormat(TAG_MIME) or mime.hasFormat(PHOTO_IDS_MIME) or local_paths(mime):
            event.setDropAction(Qt.DropAction.CopyAction)
            event.accept()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:
        mime = event.mimeData()
        target = self._path_at(event.position().toPoint())
        if mime.hasFormat(TAG_MIME):
            ok = self._move_target(bytes(mime.data(TAG_MIME)).decode("utf-8"), target) is not False
        elif mime.hasFormat(PHOTO_IDS_MIME):
            ok = target is not None
        else:
            ok = bool(local_paths(mime))
        if ok:
            event.setDropAction(Qt.DropAction.CopyAction)
            event.accept()
        else:
            event.ignore()

    def _move_target(self, path: str, target: str | None) -> str | None | bool:
        """The new parent of ``path`` dropped on ``target`` (None: top level), or
        False when the drop changes nothing or cannot be (onto itself, below itself)."""
        if target is not None and is_within(target, path):
            return False
        current = parent_of(path)
        if (target is None and current is None) or (
                target is not None and current is not None and tag_key(target) == tag_key(current)):
            return False
        return target

    def dropEvent(self, event: QDropEvent) -> None:
        mime = event.mimeData()
        target = self._path_at(event.position().toPoint())
        if mime.hasFormat(TAG_MIME):
            path = bytes(mime.data(TAG_MIME)).decode("utf-8")
            parent = self._move_target(path, target)
            if parent is False:
                event.ignore()
                return
            event.setDropAction(Qt.DropAction.CopyAction)
            event.accept()
            # After the drag is over: the answer rebuilds the tree.
            QTimer.singleShot(0, self, lambda: self.moveRequested.emit(path, parent))
            return
        ids = decode_ids(mime)
        if ids and target is not None:
            event.setDropAction(Qt.DropAction.CopyAction)
            event.accept()
            self.teachRequested.emit(target, ids)
            return
        paths = local_paths(mime)
        if paths and not ids:
            event.acceptProposedAction()
            self.pathsDropped.emit(paths)
            return
        event.ignore()


def _walk(nodes: list[TagNode]):
    for n in nodes:
        yield n
        yield from _walk(n.children)


def _shape(nodes: list[TagNode]) -> list:
    return [(n.path, n.photos, n.learned, _shape(n.children)) for n in nodes]


def _tip(node: TagNode) -> str:
    if node.photos:
        text = f"{node.path}: {plural(node.photos, 'photo')}"
    else:
        text = f"{node.path}: no photos of its own"
    if node.children:
        text += f"; {plural(len(node.children), 'tag')} below it"
    return text + "\nDrop photos here to teach it; drag it onto another tag to nest it there"


class TagEditor(QObject):
    """Renames, merges, moves and deletes tags as the tree asks; questions open over ``parent``."""

    statusMessage = Signal(str, int)  # text, milliseconds
    error = Signal(str)

    def __init__(self, library: Library, hub: ChangeHub, tree: TagTree, parent: QWidget):
        super().__init__(parent)
        self.library = library
        self.hub = hub
        self.tree = tree
        self._host = parent
        #: The question open now (merge or delete), if one is.
        self.question: QMessageBox | None = None
        tree.renameRequested.connect(self.rename)
        tree.moveRequested.connect(self.move)
        tree.deleteRequested.connect(self.delete)

    def rename(self, tag: str, new_name: str) -> None:
        """Rename ``tag``; onto a tag that exists, ask first: that is a merge."""
        tags = self.library.tags
        if self._merges(tag, new_name):
            self._ask("confirmMerge", "Merge tags",
                      f"“{new_name}” exists already. Merge “{tag}” into it?\n"
                      f"{self._what(tag)} will have “{new_name}” instead. This can be undone.",
                      lambda: self._write(lambda: tags.rename(tag, new_name), f"Merged “{tag}” into “{new_name}”"))
        else:
            self._write(lambda: tags.rename(tag, new_name), f"Renamed “{tag}” to “{new_name}”")

    def move(self, tag: str, parent: str | None) -> None:
        """Nest ``tag`` under ``parent`` (None: the top level); onto a tag that exists there, ask first."""
        tags = self.library.tags
        target = f"{parent}{HIERARCHY_SEPARATOR}{leaf_of(tag)}" if parent else leaf_of(tag)
        where = f"under “{parent}”" if parent else "to the top level"
        if self._merges(tag, target):
            self._ask("confirmMerge", "Merge tags",
                      f"“{target}” exists already. Merge “{tag}” into it?\n"
                      f"{self._what(tag)} will have “{target}” instead. This can be undone.",
                      lambda: self._write(lambda: tags.move(tag, parent), f"Merged “{tag}” into “{target}”"))
        else:
            self._write(lambda: tags.move(tag, parent), f"Moved “{tag}” {where}")

    def delete(self, tag: str) -> None:
        """Delete ``tag`` and the tags below it, after saying what goes."""
        tags = self.library.tags
        self._ask("confirmDelete", "Delete tag",
                  f"Delete the tag “{tag}”?\n{self._what(tag)} will lose it. This can be undone.",
                  lambda: self._write(lambda: tags.delete(tag), f"Deleted “{tag}”"))

    # -- helpers ---------------------------------------------------------------------------
    def _merges(self, tag: str, new_name: str) -> bool:
        return tag_key(new_name) != tag_key(tag) and self.tree.exists(new_name)

    def _what(self, tag: str) -> str:
        """What a tag and those below it are on, in words."""
        node = self.tree.node(tag)
        if node is None:
            return "Its photos"
        below = list(_walk(node.children))
        text = plural(node.photos, "photo") if node.photos else "No photo"
        if below:
            names = ", ".join(f"{leaf_of(n.path)} ({n.photos})" for n in below[:4])
            more = f" and {len(below) - 4} more" if len(below) > 4 else ""
            text += f" (and the {plural(len(below), 'tag')} below it: {names}{more})"
        return text

    def _ask(self, name: str, title: str, text: str, then) -> None:
        box = QMessageBox(QMessageBox.Icon.Question, title, text,
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel, self._host)
        box.setObjectName(name)
        box.setDefaultButton(QMessageBox.StandardButton.Yes)

        def finished(result: int) -> None:
            self.question = None
            box.deleteLater()
            if result == QMessageBox.StandardButton.Yes:
                then()

        box.finished.connect(finished)
        self.question = box
        box.open()

    def _write(self, operation, said: str) -> None:
        def done(changes) -> None:
            if not changes.sidecar_failures:  # else the window says which sidecars failed
                self.statusMessage.emit(said, 4000)

        self.hub.write(operation, done, lambda e: self.error.emit(f"Could not change the tag: {e}"), owner=self)

"""Rating, flagging and labelling the photos in the grid or the viewer, with Lightroom's keys.

0-5 set the stars, P picks, X rejects, U unflags, 6-9 put the red, yellow,
green and blue labels on or take them off (purple, which has no key in
Lightroom either, is in the menus). The keys act on the grid's selection, or
on the photo in the viewer when the viewer has the focus. The same actions
make the Photo menu and the grid's context menu. Every mark goes through the
change hub (so the views and the undo history hear of it).
"""

from __future__ import annotations

from typing import Sequence

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QWidget

from clipdesk.core.changes import Changes
from clipdesk.core.library import Library
from clipdesk.core.query import LABELS
from clipdesk.ui.grid.controller import GridController
from clipdesk.ui.grid.marks import LABEL_COLORS, swatch
from clipdesk.ui.grid.preview import PreviewController
from clipdesk.ui.hub import ChangeHub

#: Lightroom's keys for the colour labels.
LABEL_KEYS = {"red": "6", "yellow": "7", "green": "8", "blue": "9"}


class MarkActions(QObject):
    """The mark actions (``actions`` by name: rate0-rate5, pick, reject, unflag,
    label_<colour>, label_none) and the menus made of them."""

    statusMessage = Signal(str, int)  # text, milliseconds
    error = Signal(str)

    def __init__(self, library: Library, hub: ChangeHub, grid: GridController, previews: PreviewController,
                 parent: QWidget):
        super().__init__(parent)
        self.library = library
        self.hub = hub
        self.grid = grid
        self.previews = previews
        self.actions: dict[str, QAction] = {}
        for n in range(6):
            self._action(f"rate{n}", "&None" if n == 0 else "★" * n, str(n), lambda _checked=False, n=n: self.rate(self.targets(), n))
        self._action("pick", "&Pick", "P", lambda: self.flag(self.targets(), "pick"))
        self._action("reject", "&Reject", "X", lambda: self.flag(self.targets(), "reject"))
        self._action("unflag", "&Unflag", "U", lambda: self.flag(self.targets(), None))
        for name in LABELS:
            a = self._action(f"label_{name}", f"&{name.capitalize()}", LABEL_KEYS.get(name),
                             lambda _checked=False, name=name: self.label(self.targets(), name))
            a.setIcon(swatch(LABEL_COLORS[name]))
        self._action("label_none", "N&one", None, lambda: self.label(self.targets(), None, toggle=False))
        self.attach(grid.grid)

    def _action(self, name: str, text: str, key: str | None, fn) -> QAction:
        action = QAction(text, self)
        action.setObjectName(f"mark_{name}")
        if key:
            action.setShortcut(QKeySequence(key))
            # Only where photos are: typing a 3 in the search bar stays a 3.
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        action.triggered.connect(fn)
        self.actions[name] = action
        return action

    def attach(self, widget: QWidget) -> None:
        """Make the keys work in ``widget`` (the grid, the viewer)."""
        present = set(widget.actions())
        widget.addActions([a for a in self.actions.values() if a not in present])

    # -- menus -----------------------------------------------------------------------
    def fill_menu(self, menu: QMenu) -> QMenu:
        """Set Rating / Set Flag / Set Colour Label submenus in ``menu``."""
        a = self.actions
        rating = menu.addMenu("Set &rating")
        rating.addActions([a[f"rate{n}"] for n in range(6)])
        flag = menu.addMenu("Set &flag")
        flag.addActions([a["pick"], a["reject"], a["unflag"]])
        label = menu.addMenu("Set colour &label")
        label.addActions([a[f"label_{name}"] for name in LABELS])
        label.addSeparator()
        label.addAction(a["label_none"])
        return menu

    # -- which photos ------------------------------------------------------------------
    def targets(self) -> list[int]:
        """The photo in the preview or the full-screen viewer when it is the
        active window, else the grid's selection (or its current photo when
        nothing is selected)."""
        for viewer in (self.previews.window, self.previews.viewer):
            if viewer is not None and viewer.isVisible() and viewer.isActiveWindow() and viewer.photo_id is not None:
                return [viewer.photo_id]
        view, model = self.grid.grid, self.grid.model
        ids = [model.photo_id(r) for r in view.selected_rows()]
        if not ids and view.current_row() is not None:
            ids = [model.photo_id(view.current_row())]
        return ids

    # -- marking -------------------------------------------------------------------------
    def rate(self, ids: Sequence[int], stars: int) -> None:
        marks = self.library.marks
        self._write(ids, lambda: marks.rate(ids, stars))

    def flag(self, ids: Sequence[int], flag: str | None) -> None:
        marks = self.library.marks
        self._write(ids, lambda: marks.flag(ids, flag))

    def label(self, ids: Sequence[int], label: str | None, *, toggle: bool = True) -> None:
        """Put a colour label on the photos; with ``toggle``, a label every one of
        them has already is taken off instead (Lightroom's 6-9)."""
        marks = self.library.marks

        def job() -> Changes:
            value = label
            if toggle and label is not None and all(m[2] == label for m in marks.of(ids).values()):
                value = None
            return marks.label(ids, value)

        self._write(ids, job)

    def apply(self, ids: list, kind: str, value) -> None:
        """One mark on ``ids`` ("rating", "flag" or "label"): the details panel's clicks."""
        if kind == "rating":
            self.rate(ids, int(value))
        elif kind == "flag":
            self.flag(ids, value)
        elif kind == "label":
            self.label(ids, value, toggle=False)

    def _write(self, ids: Sequence[int], job) -> None:
        if not ids:
            self.statusMessage.emit("Select photos first", 3000)
            return

        def done(changes: Changes) -> None:
            if changes.undo is not None and not changes.sidecar_failures:  # else those are said
                self.statusMessage.emit(changes.undo.done or changes.undo.label, 3000)

        self.hub.write(job, done, lambda e: self.error.emit(f"Could not mark the photos: {e}"), owner=self)

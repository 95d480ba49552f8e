"""The search bar, its filter chips, and dropping an image on it.

The chips (folder, date, type, tag) show what the search controller parsed
and edit the query text with :mod:`clipdesk.core.query`'s edits; the text
stays the one truth about the query.
"""

from __future__ import annotations

import os
from datetime import date, timedelta

from PySide6.QtCore import QDate, QSize, Qt, Signal
from PySide6.QtGui import QAction, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QDateEdit, QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QMenu, QSizePolicy, QStyle, QToolButton,
    QWidget,
)

from clipdesk.core import query as querylang
from clipdesk.core.query import TYPE_EXTENSIONS, Query
from clipdesk.ui import theme
from clipdesk.ui.dnd import PHOTO_IDS_MIME, decode_ids, image_paths, local_paths
from clipdesk.ui.search.flow import FlowLayout, flow_policy


#: What the search bar suggests typing, for the demo model (which knows
#: clothing items, colours, counts and a few backgrounds) and for real CLIP models.
DEMO_EXAMPLES = ("red sneaker", "bags on grass")
#: The built-in offline model knows ImageNet's things and their families.
OFFLINE_EXAMPLES = ("dog", "pizza", "sailboat")
CLIP_EXAMPLES = ("dog on a beach", "receipts", "red car -night")
#: Without a model only file names and filters find photos.
NO_MODEL_EXAMPLES = ("IMG_0042", "tag:family", "after:2024")


class SearchBar(QLineEdit):
    """Typing searches; dropping an image (a file or a photo from the grid) finds similar ones."""

    imageDropped = Signal(str)  # a path
    photoDropped = Signal(int)  # a photo id

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("searchBar")
        self.set_examples(CLIP_EXAMPLES)
        self.setClearButtonEnabled(True)
        self.setAcceptDrops(True)
        self.setMinimumWidth(160)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def set_examples(self, examples: tuple[str, ...]) -> None:
        """Suggest ``examples`` (queries the model in use knows) in the empty bar."""
        self.setPlaceholderText("Search: " + ", ".join(examples))
        self.setToolTip("Type what the photos show, e.g. " + ", ".join(f"“{e}”" for e in examples)
                        + ". Drop a photo here to find similar ones. Esc clears the search.")

    def keyPressEvent(self, event) -> None:
        if event.key() == Qt.Key.Key_Escape and self.text():
            self.clear()  # Esc clears the search (a second Esc goes on to the window)
            event.accept()
            return
        super().keyPressEvent(event)

    def _accepts(self, mime) -> bool:
        return mime.hasFormat(PHOTO_IDS_MIME) or bool(image_paths(mime))

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if self._accepts(event.mimeData()):
            event.acceptProposedAction()
        elif local_paths(event.mimeData()):
            event.ignore()  # files that are no photos: not their path typed into the bar
        else:
            super().dragEnterEvent(event)

    def dragMoveEvent(self, event) -> None:
        if self._accepts(event.mimeData()):
            event.acceptProposedAction()
        elif local_paths(event.mimeData()):
            event.ignore()
        else:
            super().dragMoveEvent(event)

    def dropEvent(self, event: QDropEvent) -> None:
        mime = event.mimeData()
        ids = decode_ids(mime)
        if ids:
            event.acceptProposedAction()
            self.photoDropped.emit(ids[0])
            return
        paths = image_paths(mime)
        if paths:
            event.acceptProposedAction()
            self.imageDropped.emit(paths[0])
            return
        super().dropEvent(event)


class DateRangeDialog(QDialog):
    def __init__(self, parent=None, start: date | None = None, end: date | None = None):
        super().__init__(parent)
        self.setWindowTitle("Date range")
        form = QFormLayout(self)
        today = date.today()
        self.start = QDateEdit(self)
        self.start.setCalendarPopup(True)
        self.start.setDisplayFormat("yyyy-MM-dd")
        self.start.setDate(_qdate(start or today.replace(month=1, day=1)))
        self.end = QDateEdit(self)
        self.end.setCalendarPopup(True)
        self.end.setDisplayFormat("yyyy-MM-dd")
        self.end.setDate(_qdate((end - timedelta(days=1)) if end else today))
        form.addRow("From", self.start)
        form.addRow("To (included)", self.end)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def range(self) -> tuple[date, date]:
        a = self.start.date().toPython()
        b = self.end.date().toPython()
        if b < a:
            a, b = b, a
        return a, b + timedelta(days=1)


#: A chip shows at most this many characters of its value (the rest in its tooltip).
CHIP_VALUE_CHARS = 28


def _abbreviated(value: str) -> str:
    return value if len(value) <= CHIP_VALUE_CHARS else value[: CHIP_VALUE_CHARS - 1].rstrip() + "…"


def _unit(*days: date) -> str:
    """The coarsest period all ``days`` start: "year", "month" or "day"."""
    if all(d.month == 1 and d.day == 1 for d in days):
        return "year"
    return "month" if all(d.day == 1 for d in days) else "day"


def _named(d: date, unit: str) -> str:
    """The period of ``unit`` starting on ``d``, as the query writes it: 2024, 2024-07, 2024-07-14."""
    return {"year": f"{d.year}", "month": f"{d.year}-{d.month:02d}"}.get(unit) or d.isoformat()


def _previous(d: date, unit: str) -> date:
    if unit == "year":
        return date(d.year - 1, 1, 1)
    if unit == "month":
        return (d - timedelta(days=1)).replace(day=1)
    return d - timedelta(days=1)


def date_words(start: date | None, end: date | None) -> str:
    """A date filter (``start`` included, ``end`` not) in the fewest words, whole
    and with no ellipsis that reads as cut off: "2024", "from 2024",
    "before 2023-07", "2023-07 – 2023-12", "2024-03-02 – 2024-03-09"."""
    if start and end:
        unit = _unit(start, end)
        last = _previous(end, unit)
        return _named(start, unit) if last <= start else f"{_named(start, unit)} – {_named(last, unit)}"
    if start:
        return f"from {_named(start, _unit(start))}"
    if end:
        return f"before {_named(end, _unit(end))}"
    return ""


def _qdate(d: date) -> QDate:
    return QDate(d.year, d.month, d.day)


class ChipButton(QToolButton):
    """A filter chip: its menu opens on a click. Its size makes room for the
    menu arrow, which the style draws over the text's end otherwise."""

    def __init__(self, text: str, parent=None):
        super().__init__(parent)
        self.setText(text)
        self.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)

    def sizeHint(self) -> QSize:
        hint = super().sizeHint()
        arrow = self.style().pixelMetric(QStyle.PixelMetric.PM_MenuButtonIndicator, None, self)
        return QSize(hint.width() + arrow, hint.height())

    def minimumSizeHint(self) -> QSize:
        return self.sizeHint()


class FilterChips(QWidget):
    """Folder, date, type and tag chips. Each shows the query's current value
    for its filter, and picking a value rewrites the query text. They sit on a
    line of their own and wrap onto the next when the window is narrow: beside
    the bar they squeezed it, and their menu arrows were clipped."""

    def __init__(self, bar: QLineEdit, parent=None):
        super().__init__(parent)
        self.bar = bar
        self.folders: list[str] = []
        self.tags: list[str] = []
        layout = FlowLayout(self)
        self.setSizePolicy(flow_policy())
        self.chips: dict[str, ChipButton] = {}
        for key, label in (("folder", "Folder"), ("date", "Date"), ("type", "Type"), ("tag", "Tag")):
            b = ChipButton(label, self)
            b.setObjectName(f"chip_{key}")
            b.setProperty("label", label)
            menu = QMenu(b)
            menu.aboutToShow.connect(lambda k=key, m=menu: self._fill(k, m))
            b.setMenu(menu)
            layout.addWidget(b)
            self.chips[key] = b
        #: What the bar's text means, as the search controller parsed it
        #: (None while it does not parse).
        self.query: Query | None = None

    def add_chips(self, widget: QWidget) -> None:
        """More chips on the same lines (the marks' chips), after these."""
        self.layout().addWidget(widget)

    def set_choices(self, folders: list[str], tags: list[str]) -> None:
        self.folders = list(folders)
        self.tags = list(tags)

    # -- showing the query's state ------------------------------------------------
    def show_query(self, q: Query | None) -> None:
        """Show what the query (parsed once, by the search controller) filters by."""
        self.query = q
        values = {"folder": None, "date": None, "type": None, "tag": None}
        if q is not None:
            if q.folders:
                values["folder"] = ", ".join(os.path.basename(f.rstrip("/")) or f for f in q.folders)
            if q.date_from or q.date_to:
                values["date"] = date_words(q.date_from, q.date_to)
            if q.types:
                values["type"] = ", ".join(q.types)
            if q.tags:
                values["tag"] = ", ".join(q.tags)
        for key, b in self.chips.items():
            v = values[key]
            b.setText(f"{b.property('label')}: {_abbreviated(v)}" if v else b.property("label"))
            b.setToolTip(f"{b.property('label')}: {v}" if v and v != _abbreviated(v) else "")
            b.setProperty("active", bool(v))
            b.setDown(False)
            font = b.font()
            font.setBold(bool(v))
            b.setFont(font)

    # -- menus ------------------------------------------------------------------
    def _fill(self, key: str, menu: QMenu) -> None:
        menu.clear()
        if key == "folder":
            self._add(menu, "Any folder", lambda: self._set("folder", None))
            menu.addSeparator()
            for f in self.folders:
                self._add(menu, f, lambda f=f: self._set("folder", f))
        elif key == "date":
            self._add(menu, "Any date", lambda: self._dates(None, None))
            menu.addSeparator()
            today = date.today()
            self._add(menu, "Last 30 days", lambda: self._dates(today - timedelta(days=30), None))
            self._add(menu, "This year", lambda: self._dates(today.replace(month=1, day=1), None))
            last = today.year - 1
            self._add(menu, f"{last}", lambda: self._dates(date(last, 1, 1), date(last + 1, 1, 1)))
            self._add(menu, "Range…", self._custom_dates)
        elif key == "type":
            self._add(menu, "Any type", lambda: self._set("type", None))
            menu.addSeparator()
            for t in TYPE_EXTENSIONS:
                self._add(menu, t, lambda t=t: self._set("type", t))
        elif key == "tag":
            self._add(menu, "No tag filter", lambda: self._set("tag", None))
            menu.addSeparator()
            if not self.tags:
                a = menu.addAction("(no tags yet)")
                a.setEnabled(False)
            for t in self.tags:
                self._add(menu, t, lambda t=t: self._add_tag(t))

    @staticmethod
    def _add(menu: QMenu, text: str, fn) -> QAction:
        action = menu.addAction(text)
        action.triggered.connect(fn)
        return action

    def _apply(self, text: str) -> None:
        if text != self.bar.text():
            self.bar.setText(text)

    def _set(self, key: str, value: str | None) -> None:
        self._apply(querylang.set_filter(self.bar.text(), key, value))

    def _add_tag(self, tag: str) -> None:
        self._apply(querylang.add_filter(self.bar.text(), "tag", tag))

    def _dates(self, start: date | None, end: date | None) -> None:
        self._apply(querylang.set_dates(self.bar.text(), start, end))

    def _custom_dates(self) -> None:
        q = self.query
        dlg = DateRangeDialog(self, q.date_from if q else None, q.date_to if q else None)
        if dlg.exec() == QDialog.DialogCode.Accepted:
            self._dates(*dlg.range())


class ErrorLine(QLabel):
    """One line under the bar for a query that does not parse, or a notice."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("searchMessage")
        self.setWordWrap(True)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.hide()

    def show_error(self, text: str) -> None:
        self._show(text, "error")

    def show_notice(self, text: str, warning: bool = False) -> None:
        """A notice about the results (``warning``: one that says they are not to be trusted)."""
        self._show(text, "warning" if warning else None)

    def _show(self, text: str, tint: str | None) -> None:
        theme.set_tint(self, tint)
        self.setProperty("kind", tint or "notice")
        self.setText(text)
        self.show()

    def clear_message(self) -> None:
        self.setText("")
        self.hide()

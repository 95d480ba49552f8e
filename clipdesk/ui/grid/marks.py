"""Ratings, flags and colour labels as the grid and the details panel show them.

:class:`MarkCache` keeps the marks of the photos the grid has painted, read
from ``library.marks`` on a worker (the misses of one paint in one read) and
read again when the change hub says those photos changed. :class:`MarkBadges`
paints them over a cell: the stars and the colour label at the bottom of the
picture, the flag at its top, a rejected photo dimmed, as Lightroom's grid
does. Each combination of marks is drawn once into a small pixmap, so a
marked cell costs the GUI thread one or two extra calls and an unmarked one
none (see :mod:`clipdesk.ui.grid.thumbs` for why calls are counted).
:class:`MarksLine` is the details panel's row of stars, flags and labels.
"""

from __future__ import annotations

import math
from typing import Sequence

from PySide6.QtCore import QModelIndex, QObject, QPointF, QRect, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QIcon, QPainter, QPainterPath, QPalette, QPen, QPixmap, QPolygonF
from PySide6.QtWidgets import QHBoxLayout, QLabel, QStyleOptionViewItem, QToolButton, QVBoxLayout, QWidget

from clipdesk.core.changes import Changes
from clipdesk.core.library import Library
from clipdesk.core.query import LABELS
from clipdesk.ui import theme
from clipdesk.ui.grid.model import Roles
from clipdesk.ui.grid.thumbs import PAD
from clipdesk.ui.hub import ChangeHub
from clipdesk.ui.workers import Pools

#: (stars 0-5, flag "pick"/"reject"/None, colour label or None), as library.marks.of reads them.
Marks = tuple[int, "str | None", "str | None"]
NO_MARKS: Marks = (0, None, None)

LABEL_COLORS = {
    "red": QColor(0xE0, 0x44, 0x3C),
    "yellow": QColor(0xE8, 0xC2, 0x2A),
    "green": QColor(0x3F, 0xA8, 0x4E),
    "blue": QColor(0x3A, 0x7B, 0xE0),
    "purple": QColor(0x9A, 0x52, 0xC8),
}
STAR_COLOR = QColor(0xF5, 0xC5, 0x18)
PICK_COLOR = QColor(0x3A, 0xA0, 0x5A)
REJECT_COLOR = QColor(0x20, 0x20, 0x22)


class MarkCache(QObject):
    """Marks of photos by id, for painting. ``get`` answers at once from what
    is known and asks for the rest; ``changed`` says which ids have news."""

    changed = Signal(list)  # photo ids whose marks arrived or changed

    def __init__(self, library: Library, pools: Pools, hub: ChangeHub, parent: QObject | None = None):
        super().__init__(parent)
        self.library = library
        self.pools = pools
        self._marks: dict[int, Marks] = {}
        #: Known, but maybe out of date (an indexing run may have read new ones from the files).
        self._stale: set[int] = set()
        self._wanted: set[int] = set()
        self._asked: set[int] = set()
        #: Reads made (tests count them: one per paint, not one per cell).
        self.reads = 0
        self._flush = QTimer(self)
        self._flush.setSingleShot(True)
        self._flush.setInterval(0)
        self._flush.timeout.connect(self._read_wanted)
        hub.changed.connect(self._on_changes)

    def get(self, photo_id: int) -> Marks | None:
        """The photo's marks as last read (None before the first read; it is asked for)."""
        marks = self._marks.get(photo_id)
        if (marks is None or photo_id in self._stale) and photo_id not in self._asked:
            self._wanted.add(photo_id)
            if not self._flush.isActive():
                self._flush.start()
        return marks

    def _read_wanted(self) -> None:
        ids, self._wanted = sorted(self._wanted), set()
        if ids:
            self._read(ids)

    def _read(self, ids: Sequence[int]) -> None:
        self._asked.update(ids)
        self.reads += 1
        marks = self.library.marks

        def done(found: dict) -> None:
            self._asked.difference_update(ids)
            self._stale.difference_update(ids)
            news = [i for i in ids if self._marks.get(i) != found.get(i, NO_MARKS)]
            for i in ids:
                self._marks[i] = found.get(i, NO_MARKS)
            if news:
                self.changed.emit(news)

        def failed(_exc) -> None:
            self._asked.difference_update(ids)

        self.pools.run(self.pools.general, lambda: marks.of(ids), done, failed, owner=self)

    def _on_changes(self, changes: Changes) -> None:
        for i in changes.removed:
            self._marks.pop(i, None)
        if changes.catalog:
            self._stale.update(self._marks)
            self.changed.emit(list(self._marks))  # repainted, so read again
        touched = [i for i in changes.photos if i in self._marks]
        if touched:
            self._read(sorted(touched))


class MarkBadges:
    """Paints a cell's marks over its tile (the grid delegate's overlay)."""

    def __init__(self, cache: MarkCache):
        self.cache = cache
        self._pixmaps: dict[tuple, QPixmap] = {}

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex, size: int) -> None:
        pid = index.data(Roles.PhotoId)
        marks = self.cache.get(pid) if pid is not None else None
        if not marks or marks == NO_MARKS:
            return
        rating, flag, label = marks
        image = picture_rect(option.rect, size, index.data(Roles.Photo))
        dpr = painter.device().devicePixelRatioF() if painter.device() is not None else 1.0
        unit = max(7, min(12, size // 14))
        if flag == "reject":
            dim = QColor(option.palette.color(QPalette.ColorRole.Base))
            dim.setAlpha(130)
            painter.fillRect(image, dim)
        if flag is not None:
            pm = self._pixmap(("flag", flag, unit, dpr), lambda: _flag_pixmap(flag, unit, dpr))
            painter.drawPixmap(image.left() + 3, image.top() + 3, pm)
        if rating or label:
            pm = self._pixmap(("strip", rating, label, unit, dpr), lambda: _strip_pixmap(rating, label, unit, dpr))
            h = round(pm.height() / dpr)
            painter.drawPixmap(image.left() + 3, image.bottom() - 2 - h, pm)

    def _pixmap(self, key: tuple, make) -> QPixmap:
        pm = self._pixmaps.get(key)
        if pm is None:
            pm = self._pixmaps[key] = make()
        return pm


def picture_rect(cell: QRect, size: int, photo) -> QRect:
    """Where the thumbnail's picture lies in a cell (as compose_tile fits it)."""
    box = QRect(cell.left() + PAD, cell.top() + PAD, size, size)
    w, h = (getattr(photo, "width", None), getattr(photo, "height", None)) if photo is not None else (None, None)
    if not w or not h:
        return box
    scale = size / max(w, h)
    pw, ph = max(1, round(w * scale)), max(1, round(h * scale))
    return QRect(box.left() + (size - pw) // 2, box.top() + (size - ph) // 2, pw, ph)


def _canvas(w: int, h: int, dpr: float) -> tuple[QPixmap, QPainter]:
    pm = QPixmap(max(1, math.ceil(w * dpr)), max(1, math.ceil(h * dpr)))
    pm.setDevicePixelRatio(dpr)
    pm.fill(Qt.GlobalColor.transparent)
    p = QPainter(pm)
    p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    return pm, p


def star_path(cx: float, cy: float, r: float) -> QPainterPath:
    """A five-pointed star centred on (cx, cy), outer radius ``r``."""
    points = []
    for k in range(10):
        radius = r if k % 2 == 0 else r * 0.45
        angle = -math.pi / 2 + k * math.pi / 5
        points.append(QPointF(cx + radius * math.cos(angle), cy + radius * math.sin(angle)))
    path = QPainterPath()
    path.addPolygon(QPolygonF(points))
    path.closeSubpath()
    return path


def _strip_pixmap(rating: int, label: str | None, unit: int, dpr: float) -> QPixmap:
    """The stars and the colour label on a dark rounded backdrop (legible on any picture)."""
    pad = 3
    star = unit + 1
    width = pad + rating * star + (unit + 2 if label else 0) + (1 if rating and label else 0) + pad
    height = unit + 2 * pad
    pm, p = _canvas(width, height, dpr)
    try:
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(0, 0, 0, 150))
        p.drawRoundedRect(QRectF(0, 0, width, height), height / 2, height / 2)
        p.setBrush(STAR_COLOR)
        for i in range(rating):
            p.drawPath(star_path(pad + i * star + unit / 2, height / 2, unit / 2 + 0.5))
        if label:
            x = pad + rating * star + (1 if rating else 0)
            p.setPen(QPen(QColor(255, 255, 255, 220), 1))
            p.setBrush(LABEL_COLORS[label])
            p.drawEllipse(QRectF(x + 0.5, pad - 0.5, unit + 1, unit + 1))
    finally:
        p.end()
    return pm


def _flag_pixmap(flag: str, unit: int, dpr: float) -> QPixmap:
    """Pick: a white flag on green; reject: a white cross on black."""
    side = unit + 8
    pm, p = _canvas(side, side, dpr)
    try:
        p.setPen(QPen(QColor(255, 255, 255, 200), 1))
        p.setBrush(PICK_COLOR if flag == "pick" else REJECT_COLOR)
        p.drawEllipse(QRectF(0.5, 0.5, side - 1, side - 1))
        white = QColor(255, 255, 255)
        if flag == "pick":
            p.setPen(QPen(white, 1.4))
            x0, top, bottom = side * 0.36, side * 0.25, side * 0.77
            p.drawLine(QPointF(x0, top), QPointF(x0, bottom))
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(white)
            p.drawPolygon(QPolygonF([QPointF(x0, top), QPointF(side * 0.74, top + side * 0.14),
                                     QPointF(x0, top + side * 0.3)]))
        else:
            p.setPen(QPen(white, 1.8, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
            a, b = side * 0.32, side * 0.68
            p.drawLine(QPointF(a, a), QPointF(b, b))
            p.drawLine(QPointF(a, b), QPointF(b, a))
    finally:
        p.end()
    return pm


def swatch(color: QColor, side: int = 12) -> QIcon:
    """A round colour swatch (colour-label menus and buttons)."""
    pm, p = _canvas(side, side, 1.0)
    try:
        p.setPen(QPen(QColor(0, 0, 0, 90), 1))
        p.setBrush(color)
        p.drawEllipse(QRectF(1, 1, side - 2, side - 2))
    finally:
        p.end()
    return QIcon(pm)


def common(values: Sequence) -> tuple[bool, object]:
    """(True, value) when every value is the same, else (False, None)."""
    first = values[0] if values else None
    return (all(v == first for v in values), first) if values else (False, None)


#: A mark that is not set: a grey with 3:1 contrast (WCAG's minimum for
#: controls) on the window and base colours of both themes.
UNSET_COLOR = "#7a7a7a"


#: What the marks line says while no photo is selected.
NO_PHOTO_HINT = "Select a photo to rate, flag or label it"


class MarksLine(QWidget):
    """The shown photos' stars, flag and colour label; clicking one sets it on
    all of them (clicking the one already set takes it off), through
    ``markRequested`` (the window sends it to the same place as the keys)."""

    #: ids, "rating" | "flag" | "label", the new value (int, or str / None).
    markRequested = Signal(list, str, object)

    def __init__(self, library: Library, pools: Pools, hub: ChangeHub, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("marksLine")
        self.library = library
        self.pools = pools
        self.ids: list[int] = []
        #: What is shown: each mark, or None where the photos differ (or none is shown).
        self.rating: int | None = None
        self.flag: str | None = None
        self.label: str | None = None
        self._mixed: set[str] = set()
        # Two short rows: the details dock is narrow.
        rows = QVBoxLayout(self)
        rows.setContentsMargins(0, 0, 0, 0)
        rows.setSpacing(0)
        row = QHBoxLayout()
        row.setSpacing(0)
        rows.addLayout(row)
        self.stars: list[QToolButton] = []
        for n in range(1, 6):
            b = self._button(f"star{n}", "★", f"{n} star{'s' if n > 1 else ''} (key {n}; key 0 clears)")
            b.clicked.connect(lambda _=False, n=n: self._ask("rating", 0 if self.rating == n else n))
            self.stars.append(b)
            row.addWidget(b)
        row.addSpacing(8)
        self.pick = self._button("pick", "⚑", "Pick (P; U unflags)")
        self.pick.clicked.connect(lambda: self._ask("flag", None if self.flag == "pick" else "pick"))
        self.reject = self._button("reject", "✕", "Reject (X; U unflags)")
        self.reject.clicked.connect(lambda: self._ask("flag", None if self.flag == "reject" else "reject"))
        row.addWidget(self.pick)
        row.addWidget(self.reject)
        row.addStretch(1)
        row = QHBoxLayout()
        row.setSpacing(0)
        rows.addLayout(row)
        self.labels: dict[str, QToolButton] = {}
        keys = {"red": "6", "yellow": "7", "green": "8", "blue": "9"}
        for name in LABELS:
            b = self._button(f"label_{name}", "", f"{name.capitalize()} label"
                             + (f" (key {keys[name]})" if name in keys else ""))
            b.setIcon(swatch(LABEL_COLORS[name], 12))
            b.clicked.connect(lambda _=False, name=name: self._ask("label", None if self.label == name else name))
            self.labels[name] = b
            row.addWidget(b)
        row.addSpacing(6)
        self.note = QLabel("", self)
        self.note.setObjectName("marksNote")
        theme.set_tint(self.note, "secondary")  # given again at each change of theme, style sheet or not
        row.addWidget(self.note)
        row.addStretch(1)
        # What is set shows by colour (stars, flags) or a ring (labels), never
        # by a pressed-in button, which reads badly in the dark palette.
        self.setStyleSheet(
            "QToolButton { border: 1px solid transparent; border-radius: 9px; background: transparent; padding: 0; }"
            "QToolButton:hover { border-color: palette(mid); }"
            "QToolButton[ring=\"true\"]:checked { border-color: palette(text); }")
        for b in self.labels.values():
            b.setProperty("ring", True)
        self._show()
        hub.changed.connect(self._on_changes)

    def _button(self, name: str, text: str, tip: str) -> QToolButton:
        b = QToolButton(self)
        b.setObjectName(f"mark_{name}")
        b.setText(text)
        b.setToolTip(tip)
        b.setCheckable(True)
        b.setAutoRaise(True)
        b.setIconSize(QSize(12, 12))
        b.setFixedSize(b.sizeHint().expandedTo(QSize(18, 18)))  # the glyph whole, not clipped to 18 px
        return b

    # -- showing ---------------------------------------------------------------------
    def show_photos(self, ids: Sequence[int]) -> None:
        self.ids = list(ids)
        self._read()

    def _on_changes(self, changes: Changes) -> None:
        if self.ids and (changes.catalog or not changes.photos.isdisjoint(self.ids)):
            self._read()

    def _read(self) -> None:
        ids = list(self.ids)
        if not ids:
            self._set({})
            return
        marks = self.library.marks

        def done(found: dict) -> None:
            if ids == self.ids:
                self._set(found)

        self.pools.run(self.pools.general, lambda: marks.of(ids), done, owner=self)

    def _set(self, found: dict) -> None:
        values = [found.get(i, NO_MARKS) for i in self.ids]
        self._mixed = set()
        shown = []
        for k, name in enumerate(("rating", "flag", "label")):
            same, value = common([v[k] for v in values])
            if values and not same:
                self._mixed.add(name)
            shown.append(value if same else None)
        self.rating, self.flag, self.label = shown
        self._show()

    def _show(self) -> None:
        # With no photo shown there is nothing to mark: the buttons go (their
        # colours, set by style sheet, made them look ready for a click even
        # disabled) and the line says what to do instead.
        on = bool(self.ids)
        for b in [*self.stars, self.pick, self.reject, *self.labels.values()]:
            b.setEnabled(on)
            b.setVisible(on)
        rating = self.rating or 0
        for n, b in enumerate(self.stars, 1):
            b.setChecked(n <= rating)
            b.setStyleSheet(f"color: {STAR_COLOR.name() if n <= rating else UNSET_COLOR};")
        self.pick.setChecked(self.flag == "pick")
        self.reject.setChecked(self.flag == "reject")
        self.pick.setStyleSheet(f"color: {PICK_COLOR.name() if self.flag == 'pick' else UNSET_COLOR};")
        self.reject.setStyleSheet(f"color: {'#d04040' if self.flag == 'reject' else UNSET_COLOR};")
        for name, b in self.labels.items():
            b.setChecked(self.label == name)
        mixed = [m for m in ("rating", "flag", "label") if m in self._mixed]
        self.note.setText(NO_PHOTO_HINT if not on else f"mixed {', '.join(mixed)}" if mixed else "")

    def _ask(self, kind: str, value) -> None:
        self._show()  # a click toggles the button; what it shows follows the catalog
        if self.ids:
            self.markRequested.emit(list(self.ids), kind, value)

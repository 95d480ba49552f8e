"""The thumbnail grid: every photo a cell of one size, in sections with headers.

A :class:`QAbstractItemView` over :class:`PhotoListModel` that lays its cells
out by arithmetic: rows of ``columns`` cells, in sections (the months of a
timeline, each under a header; one section without a header otherwise). The
layout is a list with one entry per section (its first row and its top), so
placing, finding and scrolling to any of 100,000 photos is a binary search,
regrouping costs a few hundred additions, and nothing is asked of the model
but the rows on screen. Only those ask the loader for thumbnails.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

from PySide6.QtCore import (
    QEvent, QItemSelection, QItemSelectionModel, QLocale, QModelIndex, QPoint, QRect, QSize, Qt, Signal,
)
from PySide6.QtGui import (
    QColor, QDrag, QFont, QFontMetrics, QKeyEvent, QPainter, QPalette, QPen, QRegion, QWheelEvent,
)
from PySide6.QtWidgets import (
    QAbstractItemView, QLabel, QRubberBand, QStyle, QStyledItemDelegate, QStyleOptionViewItem,
)

from clipdesk.ui.grid.model import PhotoListModel, Roles
from clipdesk.ui.grid.more import paint_score
from clipdesk.ui.grid.thumbs import PAD, ThumbnailLoader, TileSpec

#: Space around the cells, in pixels.
MARGIN = 2


class ThumbnailDelegate(QStyledItemDelegate):
    """Draws each cell with one call: the tile the loader composed off the GUI thread
    (see :mod:`clipdesk.ui.grid.thumbs` for why), plus the selection behind it."""

    def __init__(self, loader: ThumbnailLoader | None, parent=None, size: int = 160, show_names: bool = True):
        super().__init__(parent)
        self.loader = loader
        self.size = size
        self.show_names = show_names
        self._spec: TileSpec | None = None
        self._spec_inputs: tuple = ()
        #: Paints over each cell after its tile (``paint(painter, option, index, size)``): the marks.
        self.overlay = None
        #: Each photo's score on its cell (on demand: grid.more.MoreBar).
        self.show_scores = False

    def cell_size(self, font) -> QSize:
        text_h = QFontMetrics(font).height() + 2 if self.show_names else 0
        return QSize(self.size + 2 * PAD, self.size + 2 * PAD + text_h)

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:
        return self.cell_size(option.font)

    def spec(self, option: QStyleOptionViewItem) -> TileSpec:
        pal = option.palette
        dpr = option.widget.devicePixelRatioF() if option.widget is not None else 1.0
        inputs = (self.size, self.show_names, option.rect.width(), option.rect.height(), dpr,
                  option.font.key(), pal.color(QPalette.ColorRole.Text).rgb(), pal.color(QPalette.ColorRole.Mid).rgb())
        if inputs != self._spec_inputs:
            self._spec_inputs = inputs
            self._spec = TileSpec(self.size, self.show_names, option.rect.width(), option.rect.height(), dpr,
                                  option.font.toString(), inputs[6], inputs[7])
        return self._spec  # type: ignore[return-value]

    @property
    def last_spec(self) -> TileSpec | None:
        """The spec of the cells painted last."""
        return self._spec

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        rect: QRect = option.rect
        state = option.state
        selected = bool(state & QStyle.StateFlag.State_Selected)
        if selected:
            c = QColor(option.palette.color(QPalette.ColorRole.Highlight))
            c.setAlpha(110)
            painter.fillRect(rect.adjusted(2, 2, -2, -2), c)
        photo = index.data(Roles.Photo)
        tile = self.loader.tile(photo, self.spec(option)) if self.loader is not None and photo is not None else None
        if tile is not None:
            if tile.deviceIndependentSize().toSize() == rect.size():
                painter.drawPixmap(rect.topLeft(), tile)
            else:  # the previous tile while the one for the new size is made
                painter.drawPixmap(rect, tile)
        if self.overlay is not None:
            self.overlay.paint(painter, option, index, self.size)
        if self.show_scores:
            paint_score(painter, rect, index.data(Roles.Score), option.font)
        if state & QStyle.StateFlag.State_HasFocus and not selected:
            painter.setPen(QPen(option.palette.color(QPalette.ColorRole.Highlight), 1, Qt.PenStyle.DotLine))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(rect.adjusted(2, 2, -3, -3))


@dataclass(frozen=True)
class Section:
    """A run of rows under one header: ``key`` "YYYY-MM" (None: no date) and
    ``count`` rows; ``start`` its first row and ``top`` the y of its header in
    the grid's content (set by the layout)."""

    key: str | None
    count: int
    start: int = 0
    top: int = 0
    lines: int = 0


def month_label(key: str | None) -> str:
    """"March 2021" for "2021-03" (in the user's language); "No date yet" for None."""
    if not key:
        return "No date yet"
    year, month = int(key[:4]), int(key[5:7])
    return f"{QLocale().standaloneMonthName(month, QLocale.FormatType.LongFormat)} {year}"


class PhotoGrid(QAbstractItemView):
    """The grid. Emits what the user asks for; its controllers decide what happens."""

    previewRequested = Signal(int)  # row: Enter
    previewToggled = Signal(int)  # row: Space
    viewerRequested = Signal(int)  # row: F or double-click (the full-screen viewer)
    zoomRequested = Signal(int)  # +1 / -1 steps (Ctrl + wheel, Ctrl +/-)
    contextMenuAt = Signal(QPoint)
    #: The layout changed (sections, sizes, rows): the scrubber redraws.
    layoutChanged = Signal()

    def __init__(self, model: PhotoListModel, parent=None, size: int = 160, show_names: bool = True):
        super().__init__(parent)
        #: The month headers' keys and counts (None: one section, no headers).
        self._groups: list[tuple[str | None, int]] | None = None
        self._sections: list[Section] = []
        self._starts: list[int] = []
        self._tops: list[int] = []
        self._height = 0
        self._columns = 1
        self._cell = QSize(1, 1)
        self._header = 0
        self._band_origin: QPoint | None = None
        self.setObjectName("photoGrid")
        self.delegate = ThumbnailDelegate(model.thumbs, self, size, show_names)
        self.setItemDelegate(self.delegate)
        self.setModel(model)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setDragEnabled(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.setDefaultDropAction(Qt.DropAction.CopyAction)
        self.setMouseTracking(True)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self.contextMenuAt)
        self.rubber = QRubberBand(QRubberBand.Shape.Rectangle, self.viewport())
        #: Says why there are no photos, over the grid (set_empty_text).
        self.empty = QLabel("", self.viewport())
        self.empty.setObjectName("emptyMessage")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.empty.hide()
        for signal in (model.modelReset, model.rowsInserted, model.rowsRemoved, model.layoutChanged):
            signal.connect(lambda *_: self._relayout())
        model.rowsAboutToBeRemoved.connect(lambda _parent, first, last: self._rows_leaving(first, last))
        self._relayout()

    def photo_model(self) -> PhotoListModel:
        return self.model()  # type: ignore[return-value]

    # -- what the layout is made of ----------------------------------------------------
    def set_thumb_size(self, size: int) -> None:
        if size == self.delegate.size:
            return
        self.delegate.size = size
        self._relayout()

    def set_show_names(self, show: bool) -> None:
        self.delegate.show_names = show
        self._relayout()

    def set_show_scores(self, show: bool) -> None:
        self.delegate.show_scores = show
        self.viewport().update()

    def set_sections(self, groups: list[tuple[str | None, int]] | None, *, keep_place: bool = True) -> None:
        """Group the rows under month headers: ("YYYY-MM" or None, rows) in row
        order (a date-sorted answer's ``months``); None for no headers. Counts
        that do not add up to the rows are mended: rows past them form a last
        section, sections past the rows are cut. ``keep_place``: the row at the
        top of the view stays there."""
        groups = [(k, int(n)) for k, n in groups] if groups is not None else None
        if groups == self._groups:
            return
        anchor = self._top_row() if keep_place else None
        self._groups = groups
        self._relayout(anchor)

    def _rows_leaving(self, first: int, last: int) -> None:
        """Rows first..last are being removed: their months count that many fewer."""
        if self._groups is None:
            return
        kept, start = [], 0
        for key, count in self._groups:
            gone = max(0, min(start + count, last + 1) - max(start, first))
            if count - gone > 0:
                kept.append((key, count - gone))
            start += count
        self._groups = kept

    @property
    def grouped(self) -> bool:
        """True when the rows are shown under month headers."""
        return self._groups is not None

    def sections(self) -> list[Section]:
        """The sections as laid out (with their first row and top)."""
        return list(self._sections)

    def gridSize(self) -> QSize:  # noqa: N802 - QListView's name, which callers know
        """One cell's size, spacing included."""
        return QSize(self._cell)

    def header_height(self) -> int:
        """The height of a month's header (0 without headers), as last laid out."""
        return self._header

    def content_height(self) -> int:
        """The height of everything laid out, in pixels."""
        return self._height

    def _header_font(self) -> QFont:
        font = QFont(self.font())
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.15)
        return font

    def _relayout(self, anchor: int | None = None) -> None:
        """Sections, columns and heights from the rows, the cell size and the width.
        ``anchor``: a row to keep at the top of the view (a regrouping, a resize)."""
        rows = self.model().rowCount() if self.model() is not None else 0
        base = self.delegate.cell_size(self.font()) + QSize(4, 4)
        width = max(1, self.viewport().width() - 2 * MARGIN - 1)
        self._columns = max(1, width // base.width())
        self._cell = QSize(max(base.width(), width // self._columns), base.height())
        self._header = header = (QFontMetrics(self._header_font()).height() + 18) if self._groups is not None else 0
        groups = self._groups if self._groups is not None else [(None, rows)]
        sections, start, y = [], 0, MARGIN
        for key, count in groups:
            count = min(count, rows - start)
            if count <= 0:
                continue
            lines = -(-count // self._columns)
            sections.append(Section(key, count, start, y, lines))
            start += count
            y += header + lines * self._cell.height()
        if start < rows:  # rows the counts did not cover (a refresh on its way)
            lines = -(-(rows - start) // self._columns)
            sections.append(Section(None, rows - start, start, y, lines))
            y += header + lines * self._cell.height()
        self._sections = sections
        self._starts = [s.start for s in sections]
        self._tops = [s.top for s in sections]
        self._height = y + MARGIN
        self.updateGeometries()
        if anchor is not None and 0 <= anchor < rows:
            self.verticalScrollBar().setValue(self._row_top(anchor) - header - MARGIN)
        self.viewport().update()
        if self.empty.isVisible():
            self.empty.resize(self.viewport().size())
        self.layoutChanged.emit()

    # -- geometry ----------------------------------------------------------------------
    def _section_index(self, row: int) -> int:
        return max(0, bisect.bisect_right(self._starts, row) - 1)

    def _place(self, row: int) -> tuple[int, int, int]:
        """(section index, line in it, column) of a row."""
        si = self._section_index(row)
        line, col = divmod(row - self._sections[si].start, self._columns)
        return si, line, col

    def _row_top(self, row: int) -> int:
        """The y of a row's cell in the content."""
        si, line, _col = self._place(row)
        return self._tops[si] + self.header_height() + line * self._cell.height()

    def _content_rect(self, row: int) -> QRect:
        _si, _line, col = self._place(row)
        return QRect(MARGIN + col * self._cell.width(), self._row_top(row), self._cell.width(), self._cell.height())

    def visualRect(self, index: QModelIndex) -> QRect:  # noqa: N802 - Qt's API
        if not index.isValid() or not self._sections or index.row() >= self.model().rowCount():
            return QRect()
        return self._content_rect(index.row()).translated(0, -self.verticalOffset())

    def _row_at(self, x: int, y: int) -> int | None:
        """The row whose cell holds content point (x, y), or None (a header, a gap)."""
        if not self._sections or y < 0:
            return None
        si = max(0, bisect.bisect_right(self._tops, y) - 1)
        sec = self._sections[si]
        inside = y - sec.top - self.header_height()
        col = (x - MARGIN) // self._cell.width()
        if inside < 0 or not 0 <= col < self._columns:
            return None
        i = (inside // self._cell.height()) * self._columns + col
        return sec.start + i if i < sec.count else None

    def indexAt(self, point: QPoint) -> QModelIndex:  # noqa: N802 - Qt's API
        row = self._row_at(point.x(), point.y() + self.verticalOffset())
        return self.model().index(row, 0) if row is not None else QModelIndex()

    def section_at(self, y: int) -> int | None:
        """The index of the section at content height ``y`` (None when there are none)."""
        if not self._sections:
            return None
        return max(0, min(len(self._sections) - 1, bisect.bisect_right(self._tops, y) - 1))

    def horizontalOffset(self) -> int:  # noqa: N802 - Qt's API
        return 0

    def verticalOffset(self) -> int:  # noqa: N802 - Qt's API
        return self.verticalScrollBar().value()

    def isIndexHidden(self, index: QModelIndex) -> bool:  # noqa: N802 - Qt's API
        return False

    def updateGeometries(self) -> None:  # noqa: N802 - Qt's API
        bar = self.verticalScrollBar()
        page = self.viewport().height()
        bar.setRange(0, max(0, self._height - page))
        bar.setPageStep(max(1, page))
        bar.setSingleStep(max(8, self._cell.height() // 4))
        super().updateGeometries()

    def scrollTo(self, index: QModelIndex, hint=QAbstractItemView.ScrollHint.EnsureVisible) -> None:  # noqa: N802
        if not index.isValid():
            return
        rect = self._content_rect(index.row())
        top, page = self.verticalOffset(), self.viewport().height()
        header = self.header_height()
        if hint == QAbstractItemView.ScrollHint.PositionAtTop:
            value = rect.top() - header
        elif hint == QAbstractItemView.ScrollHint.PositionAtCenter:
            value = rect.center().y() - page // 2
        elif rect.top() < top + header * (self._place(index.row())[1] == 0):
            value = rect.top() - (header if self._place(index.row())[1] == 0 else 0)
        elif rect.bottom() > top + page:
            value = rect.bottom() - page + 1
        else:
            return
        self.verticalScrollBar().setValue(value)

    def scroll_to_section(self, si: int) -> None:
        """Show section ``si`` (its header) at the top: the scrubber's jump."""
        if 0 <= si < len(self._sections):
            self.verticalScrollBar().setValue(self._sections[si].top - MARGIN)

    def visible_rows(self) -> range:
        """Rows at least partly on screen."""
        top, bottom = self.verticalOffset(), self.verticalOffset() + self.viewport().height()
        rows = [r for r in (self._first_row_from(top), self._last_row_until(bottom)) if r is not None]
        return range(rows[0], rows[1] + 1) if len(rows) == 2 and rows[0] <= rows[1] else range(0)

    def _first_row_from(self, y: int) -> int | None:
        """The first row whose cell reaches below content height ``y``."""
        if not self._sections:
            return None
        si = max(0, bisect.bisect_right(self._tops, y) - 1)
        sec = self._sections[si]
        line = max(0, (y - sec.top - self.header_height()) // self._cell.height())
        if line >= sec.lines:
            return self._sections[si + 1].start if si + 1 < len(self._sections) else None
        return sec.start + line * self._columns

    def _last_row_until(self, y: int) -> int | None:
        """The last row whose cell starts above content height ``y``."""
        if not self._sections:
            return None
        si = max(0, bisect.bisect_right(self._tops, y - 1) - 1)
        sec = self._sections[si]
        line = (y - 1 - sec.top - self.header_height()) // self._cell.height()
        if line < 0:
            return sec.start - 1 if si > 0 else None
        return min(sec.start + sec.count - 1, sec.start + (min(line, sec.lines - 1) + 1) * self._columns - 1)

    def _top_row(self) -> int | None:
        return self._first_row_from(self.verticalOffset() + self.header_height())

    # -- selection ---------------------------------------------------------------------
    def setSelection(self, rect: QRect, flags: QItemSelectionModel.SelectionFlag) -> None:  # noqa: N802
        """Select the cells a rubber band (viewport coordinates) touches."""
        r = rect.normalized().translated(0, self.verticalOffset())
        selection = QItemSelection()
        c0 = max(0, (r.left() - MARGIN) // self._cell.width())
        c1 = min(self._columns - 1, (r.right() - MARGIN) // self._cell.width())
        header = self.header_height()
        model = self.model()
        for sec in self._sections:
            bottom = sec.top + header + sec.lines * self._cell.height()
            if bottom <= r.top() or sec.top > r.bottom() or c0 > c1:
                continue
            first = max(0, (r.top() - sec.top - header) // self._cell.height())
            last = min(sec.lines - 1, (r.bottom() - sec.top - header) // self._cell.height())
            for line in range(first, last + 1):
                lo = sec.start + line * self._columns + c0
                hi = min(sec.start + line * self._columns + c1, sec.start + sec.count - 1)
                if lo <= hi:
                    selection.select(model.index(lo, 0), model.index(hi, 0))
        self.selectionModel().select(selection, flags)

    def visualRegionForSelection(self, selection: QItemSelection) -> QRegion:  # noqa: N802
        return QRegion(self.viewport().rect())  # repainting what is on screen costs no more

    def selectedIndexes(self) -> list[QModelIndex]:  # noqa: N802 - no row is ever hidden: skip the check
        return self.selectionModel().selectedIndexes()

    def selected_rows(self) -> list[int]:
        return sorted(i.row() for i in self.selectionModel().selectedIndexes())

    def current_row(self) -> int | None:
        idx = self.currentIndex()
        return idx.row() if idx.isValid() else None

    # -- moving with the keyboard ----------------------------------------------------
    def moveCursor(self, action: QAbstractItemView.CursorAction, modifiers) -> QModelIndex:  # noqa: N802
        rows = self.model().rowCount()
        if rows == 0:
            return QModelIndex()
        current = self.current_row()
        if current is None:
            return self.model().index(0, 0)
        A = QAbstractItemView.CursorAction
        if action in (A.MoveLeft, A.MovePrevious):
            row = current - 1
        elif action in (A.MoveRight, A.MoveNext):
            row = current + 1
        elif action == A.MoveUp:
            row = self._vertical(current, -1)
        elif action == A.MoveDown:
            row = self._vertical(current, 1)
        elif action == A.MoveHome:
            row = 0
        elif action == A.MoveEnd:
            row = rows - 1
        elif action in (A.MovePageUp, A.MovePageDown):
            step = self.viewport().height() * (1 if action == A.MovePageDown else -1)
            rect = self._content_rect(current)
            found = self._row_at(rect.center().x(), rect.center().y() + step)
            row = found if found is not None else (rows - 1 if step > 0 else 0)
        else:
            row = current
        return self.model().index(max(0, min(rows - 1, row)), 0)

    def _vertical(self, row: int, step: int) -> int:
        """The row above (-1) or below (+1) in the same column, across sections."""
        si, line, col = self._place(row)
        sec = self._sections[si]
        target_line = line + step
        if 0 <= target_line < sec.lines:
            return min(sec.start + target_line * self._columns + col, sec.start + sec.count - 1)
        nsi = si + step
        if not 0 <= nsi < len(self._sections):
            return row
        nxt = self._sections[nsi]
        line = 0 if step > 0 else nxt.lines - 1
        return min(nxt.start + line * self._columns + col, nxt.start + nxt.count - 1)

    # -- painting ----------------------------------------------------------------------
    def paintEvent(self, event) -> None:  # noqa: N802 - Qt's API
        painter = QPainter(self.viewport())
        try:
            self._paint(painter, event.rect())
        finally:
            painter.end()

    def _paint(self, painter: QPainter, dirty: QRect) -> None:
        offset = self.verticalOffset()
        top, bottom = offset + dirty.top(), offset + dirty.bottom() + 1
        header = self.header_height()
        if header:
            self._paint_headers(painter, top, bottom, offset)
        first, last = self._first_row_from(top), self._last_row_until(bottom)
        if first is None or last is None or last < first:
            return
        option = QStyleOptionViewItem()
        self.initViewItemOption(option)
        selection = self.selectionModel()
        current = self.currentIndex()
        focus = self.hasFocus()
        model = self.model()
        base_state = option.state
        for row in range(first, last + 1):
            index = model.index(row, 0)
            rect = self._content_rect(row).translated(0, -offset)
            if not rect.intersects(dirty):
                continue
            option.rect = rect
            state = base_state
            if selection.isSelected(index):
                state |= QStyle.StateFlag.State_Selected
            if focus and index == current:
                state |= QStyle.StateFlag.State_HasFocus
            option.state = state
            self.delegate.paint(painter, option, index)

    def _paint_headers(self, painter: QPainter, top: int, bottom: int, offset: int) -> None:
        font = self._header_font()
        small = QFont(self.font())
        header = self.header_height()
        pal = self.palette()
        si = self.section_at(top)
        if si is None:
            return
        for sec in self._sections[si:]:
            if sec.top > bottom:
                break
            rect = QRect(MARGIN + PAD, sec.top - offset, self.viewport().width() - 2 * (MARGIN + PAD), header)
            painter.setFont(font)
            painter.setPen(pal.color(QPalette.ColorRole.Text))
            label = month_label(sec.key)
            painter.drawText(rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, label)
            painter.setFont(small)
            painter.setPen(pal.color(QPalette.ColorRole.PlaceholderText))
            shift = QFontMetrics(font).horizontalAdvance(label) + 12
            painter.drawText(rect.adjusted(shift, 0, 0, 0), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                             f"{sec.count:,}")

    # -- showing a message ------------------------------------------------------------
    def set_empty_text(self, text: str | None) -> None:
        """Say why there are no photos (None: there are, say nothing)."""
        if text is None:
            self.empty.hide()
            return
        self.empty.setText(text)
        self.empty.resize(self.viewport().size())
        self.empty.show()

    def changeEvent(self, event) -> None:  # noqa: N802 - Qt's API
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self._relayout(self._top_row())

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's API
        anchor = self._top_row()
        super().resizeEvent(event)
        self._relayout(anchor if self.verticalOffset() > 0 else None)

    # -- input -------------------------------------------------------------------------
    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt's API
        key = event.key()
        mods = event.modifiers()
        current = self.currentIndex()
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and current.isValid():
            self.previewRequested.emit(current.row())
            return
        if key == Qt.Key.Key_Space and not mods and current.isValid():
            self.previewToggled.emit(current.row())
            return
        if key == Qt.Key.Key_F and not mods and current.isValid():
            self.viewerRequested.emit(current.row())
            return
        if mods & Qt.KeyboardModifier.ControlModifier and key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
            self.zoomRequested.emit(1)
            return
        if mods & Qt.KeyboardModifier.ControlModifier and key == Qt.Key.Key_Minus:
            self.zoomRequested.emit(-1)
            return
        super().keyPressEvent(event)

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802 - Qt's API
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            delta = event.angleDelta().y()
            if delta:
                self.zoomRequested.emit(1 if delta > 0 else -1)
            event.accept()
            return
        super().wheelEvent(event)

    def mousePressEvent(self, event) -> None:  # noqa: N802 - Qt's API
        super().mousePressEvent(event)
        if event.button() == Qt.MouseButton.LeftButton and not self.indexAt(event.position().toPoint()).isValid():
            self._band_origin = event.position().toPoint() + QPoint(0, self.verticalOffset())

    def mouseDoubleClickEvent(self, event) -> None:  # noqa: N802 - Qt's API
        index = self.indexAt(event.position().toPoint())
        if event.button() == Qt.MouseButton.LeftButton and index.isValid():
            self.setCurrentIndex(index)
            self.viewerRequested.emit(index.row())
            event.accept()
            return
        super().mouseDoubleClickEvent(event)

    def mouseMoveEvent(self, event) -> None:  # noqa: N802 - Qt's API
        super().mouseMoveEvent(event)
        if self._band_origin is not None and self.state() == QAbstractItemView.State.DragSelectingState:
            origin = self._band_origin - QPoint(0, self.verticalOffset())
            self.rubber.setGeometry(QRect(origin, event.position().toPoint()).normalized())
            self.rubber.show()

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802 - Qt's API
        super().mouseReleaseEvent(event)
        self._band_origin = None
        self.rubber.hide()

    def startDrag(self, actions: Qt.DropAction) -> None:  # noqa: N802 - Qt's API
        """Drag the selected photos, shown by the first one's tile (rendering
        every selected cell, as Qt would, costs too much for thousands)."""
        indexes = self.selectedIndexes()
        if not indexes:
            return
        mime = self.model().mimeData(indexes)
        if mime is None:
            return
        drag = QDrag(self)
        drag.setMimeData(mime)
        first = min(indexes, key=lambda i: i.row())
        photo = first.data(Roles.Photo)
        spec = self.delegate.last_spec
        tile = self.delegate.loader.tile(photo, spec) if self.delegate.loader and photo and spec else None
        if tile is not None:
            drag.setPixmap(tile)
        drag.exec(actions, self.defaultDropAction())

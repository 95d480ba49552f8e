"""The timeline scrubber: years down the side of a date-sorted grid, to jump through them.

As in Apple Photos and Immich: a narrow strip beside the grid shows the years
at the height their photos take in the grid, a mark for every month, and
where the view is. Pressing or dragging on it jumps the grid to the month at
that height. It reads only the grid's layout (one entry per month, from the
catalog's month counts), never a photo, so a jump through 100,000 photos
costs what painting the rows that land on screen costs.
"""

from __future__ import annotations

from PySide6.QtCore import QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QMouseEvent, QPainter, QPalette
from PySide6.QtWidgets import QSizePolicy, QWidget

from clipdesk.ui.grid.view import PhotoGrid, month_label

WIDTH = 58


class TimelineScrubber(QWidget):
    """Beside a :class:`PhotoGrid`; shown while the grid is grouped by month."""

    #: The grid jumped to a section (its index) from the scrubber.
    jumped = Signal(int)

    def __init__(self, grid: PhotoGrid, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("timelineScrubber")
        self.grid = grid
        self.setFixedWidth(WIDTH)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Expanding)
        self.setMouseTracking(True)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip("Jump to a year or month: click or drag")
        self._hover: int | None = None  # y of the mouse
        grid.layoutChanged.connect(self._follow_layout)
        grid.verticalScrollBar().valueChanged.connect(lambda _v: self.update())
        self._follow_layout()

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's API
        return QSize(WIDTH, 200)

    def _follow_layout(self) -> None:
        self.setVisible(self.grid.grouped and len(self.grid.sections()) > 1)
        self.update()

    # -- where things are --------------------------------------------------------------
    def _scale(self) -> float:
        """Scrubber pixels per pixel of the grid's content."""
        return max(1, self.height() - 1) / max(1, self.grid.content_height())

    def years(self) -> list[tuple[int, int]]:
        """(year, index of its first section) in the grid's order."""
        out: list[tuple[int, int]] = []
        for i, sec in enumerate(self.grid.sections()):
            year = int(sec.key[:4]) if sec.key else None
            if year is not None and (not out or out[-1][0] != year):
                out.append((year, i))
        return out

    def section_at(self, y: float) -> int | None:
        """The section of the grid at height ``y`` of the scrubber."""
        return self.grid.section_at(int(y / self._scale()))

    # -- jumping ---------------------------------------------------------------------
    def jump_to(self, y: float) -> int | None:
        """Show the month at height ``y`` of the scrubber at the top of the grid."""
        si = self.section_at(max(0.0, min(y, self.height() - 1)))
        if si is not None:
            self.grid.scroll_to_section(si)
            self.jumped.emit(si)
        return si

    def jump_to_year(self, year: int) -> int | None:
        """Show the first month of ``year`` (or the nearest year that has photos)."""
        years = self.years()
        if not years:
            return None
        _y, si = min(years, key=lambda ys: abs(ys[0] - year))
        self.grid.scroll_to_section(si)
        self.jumped.emit(si)
        return si

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt's API
        if event.button() == Qt.MouseButton.LeftButton:
            self.jump_to(event.position().y())

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt's API
        self._hover = int(event.position().y())
        if event.buttons() & Qt.MouseButton.LeftButton:
            self.jump_to(event.position().y())
        self.update()

    def leaveEvent(self, event) -> None:  # noqa: N802 - Qt's API
        self._hover = None
        self.update()

    # -- painting --------------------------------------------------------------------
    def paintEvent(self, event) -> None:  # noqa: N802 - Qt's API
        p = QPainter(self)
        try:
            self._paint(p)
        finally:
            p.end()

    def _paint(self, p: QPainter) -> None:
        pal = self.palette()
        scale = self._scale()
        sections = self.grid.sections()
        text = pal.color(QPalette.ColorRole.Text)
        quiet = pal.color(QPalette.ColorRole.PlaceholderText)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(quiet)
        for sec in sections:  # a mark per month
            p.drawRect(QRect(WIDTH - 8, int(sec.top * scale), 4, 1))
        font = QFont(self.font())
        font.setPointSizeF(font.pointSizeF() * 0.9)
        p.setFont(font)
        line = QFontMetrics(font).height()
        last = -line
        p.setPen(text)
        for year, si in self.years():
            y = int(sections[si].top * scale)
            if y - last >= line:  # years too close to read are left out
                p.drawText(QRect(2, y, WIDTH - 12, line), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop,
                           str(year))
                last = y
        view = self.grid.verticalOffset() * scale
        page = max(3.0, self.grid.viewport().height() * scale)
        band = QColor(pal.color(QPalette.ColorRole.Highlight))
        band.setAlpha(70)
        p.fillRect(QRect(0, int(view), WIDTH, int(page)), band)
        if self._hover is not None:
            si = self.section_at(self._hover)
            if si is not None:
                label = month_label(sections[si].key)
                p.fillRect(QRect(0, self._hover - line, WIDTH, line + 2), pal.color(QPalette.ColorRole.ToolTipBase))
                p.setPen(pal.color(QPalette.ColorRole.ToolTipText))
                p.drawText(QRect(2, self._hover - line, WIDTH - 4, line + 2), Qt.AlignmentFlag.AlignCenter,
                           QFontMetrics(font).elidedText(label, Qt.TextElideMode.ElideRight, WIDTH - 4))

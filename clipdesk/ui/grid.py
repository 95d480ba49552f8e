"""The thumbnail grid: a QListView in icon mode over :class:`PhotoListModel`.

Every cell has the same size (``uniformItemSizes``), so the view lays out and
scrolls 100,000 photos without asking the model about each one; it paints
only the cells on screen, and only those ask for thumbnails.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QEvent, QModelIndex, QPoint, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFontMetrics, QKeyEvent, QPainter, QPalette, QPen, QWheelEvent
from PySide6.QtWidgets import QAbstractItemView, QListView, QStyle, QStyledItemDelegate, QStyleOptionViewItem

from clipdesk.ui.photomodel import PhotoListModel, Roles

PAD = 6


class ThumbnailDelegate(QStyledItemDelegate):
    """Paints a thumbnail centred in a square, its name below, a badge for trouble."""

    def __init__(self, parent=None, size: int = 160, show_names: bool = True):
        super().__init__(parent)
        self.size = size
        self.show_names = show_names

    def cell_size(self, option_font) -> QSize:
        text_h = QFontMetrics(option_font).height() + 2 if self.show_names else 0
        return QSize(self.size + 2 * PAD, self.size + 2 * PAD + text_h)

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:
        return self.cell_size(option.font)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        painter.save()
        rect: QRect = option.rect
        pal: QPalette = option.palette
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        hovered = bool(option.state & QStyle.StateFlag.State_MouseOver)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        if selected:
            color = pal.color(QPalette.ColorRole.Highlight)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(color)
            painter.drawRoundedRect(rect.adjusted(2, 2, -2, -2), 6, 6)
        elif hovered:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(pal.color(QPalette.ColorRole.Midlight))
            painter.drawRoundedRect(rect.adjusted(2, 2, -2, -2), 6, 6)

        box = QRect(rect.left() + PAD, rect.top() + PAD, self.size, self.size)
        pixmap = index.data(Qt.ItemDataRole.DecorationRole)
        if pixmap is not None and not pixmap.isNull():
            pw, ph = pixmap.width(), pixmap.height()
            scale = min(self.size / pw, self.size / ph)
            w, h = max(1, round(pw * scale)), max(1, round(ph * scale))
            target = QRect(box.left() + (self.size - w) // 2, box.top() + (self.size - h) // 2, w, h)
            if (w, h) != (pw, ph):
                painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
            painter.drawPixmap(target, pixmap)
        else:
            placeholder = pal.color(QPalette.ColorRole.Mid)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(placeholder)
            inset = self.size // 8
            painter.drawRoundedRect(box.adjusted(inset, inset, -inset, -inset), 4, 4)
            error = index.data(Roles.ThumbError)
            if error:
                painter.setPen(pal.color(QPalette.ColorRole.Text))
                painter.drawText(box, Qt.AlignmentFlag.AlignCenter, "⚠")

        status = index.data(Roles.Status)
        if status in ("failed", "pending", "offline"):
            badge = {"failed": ("!", QColor(0xD0, 0x40, 0x40)), "pending": ("…", QColor(0x80, 0x80, 0x80)),
                     "offline": ("⏏", QColor(0xA0, 0x80, 0x30))}[status]
            r = QRect(box.right() - 20, box.top() + 2, 18, 18)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(badge[1])
            painter.drawEllipse(r)
            painter.setPen(QPen(QColor(0xFF, 0xFF, 0xFF)))
            painter.drawText(r, Qt.AlignmentFlag.AlignCenter, badge[0])

        if self.show_names:
            text_rect = QRect(rect.left() + PAD, box.bottom() + 2, self.size, rect.bottom() - box.bottom() - 2)
            painter.setPen(pal.color(
                QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
            ))
            name = option.fontMetrics.elidedText(
                index.data(Qt.ItemDataRole.DisplayRole) or "", Qt.TextElideMode.ElideMiddle, self.size
            )
            painter.drawText(text_rect, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop, name)
        if option.state & QStyle.StateFlag.State_HasFocus and not selected:
            painter.setPen(QPen(pal.color(QPalette.ColorRole.Highlight), 1, Qt.PenStyle.DotLine))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(rect.adjusted(2, 2, -3, -3), 6, 6)
        painter.restore()


class PhotoGrid(QListView):
    """The grid. Emits what the user asks for; the window decides what happens."""

    previewRequested = Signal(int)  # row: Enter / double-click
    previewToggled = Signal(int)  # row: Space
    zoomRequested = Signal(int)  # +1 / -1 steps (Ctrl + wheel, Ctrl +/-)
    contextMenuAt = Signal(QPoint)

    def __init__(self, model: PhotoListModel, parent=None, size: int = 160, show_names: bool = True):
        super().__init__(parent)
        self.setObjectName("photoGrid")
        self.delegate = ThumbnailDelegate(self, size, show_names)
        self.setItemDelegate(self.delegate)
        self.setModel(model)
        # Icon mode with a static grid laid out in batches: laying out 100,000
        # cells takes several event-loop turns instead of one long freeze.
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setMovement(QListView.Movement.Static)
        self.setFlow(QListView.Flow.LeftToRight)
        self.setWrapping(True)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setUniformItemSizes(True)
        self.setLayoutMode(QListView.LayoutMode.Batched)
        self.setBatchSize(2000)
        self.setSpacing(2)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setSelectionRectVisible(True)
        self.setDragEnabled(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.setDefaultDropAction(Qt.DropAction.CopyAction)
        self.setMouseTracking(True)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.verticalScrollBar().setSingleStep(24)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self.contextMenuAt)
        self.doubleClicked.connect(lambda index: self.previewRequested.emit(index.row()))
        self._apply_grid_size()

    def photo_model(self) -> PhotoListModel:
        return self.model()  # type: ignore[return-value]

    def set_thumb_size(self, size: int) -> None:
        if size == self.delegate.size:
            return
        self.delegate.size = size
        self._apply_grid_size()

    def set_show_names(self, show: bool) -> None:
        self.delegate.show_names = show
        self._apply_grid_size()

    def _apply_grid_size(self) -> None:
        self.setGridSize(self.delegate.cell_size(self.font()) + QSize(4, 4))
        self.setIconSize(QSize(self.delegate.size, self.delegate.size))
        self.scheduleDelayedItemsLayout()
        self.viewport().update()

    def selected_rows(self) -> list[int]:
        return sorted(i.row() for i in self.selectionModel().selectedIndexes())

    def current_row(self) -> int | None:
        idx = self.currentIndex()
        return idx.row() if idx.isValid() else None

    def visible_rows(self) -> range:
        """Rows at least partly on screen (cheap with uniform cells)."""
        n = self.model().rowCount()
        if n == 0:
            return range(0)
        first = self.indexAt(QPoint(4, 4))
        vp = self.viewport().rect()
        last = self.indexAt(QPoint(vp.right() - 4, vp.bottom() - 4))
        start = first.row() if first.isValid() else 0
        if last.isValid():
            end = last.row()
        else:
            cols = max(1, vp.width() // max(1, self.gridSize().width()))
            rows = math.ceil(vp.height() / max(1, self.gridSize().height())) + 1
            end = min(n - 1, start + cols * rows)
        return range(start, end + 1)

    # -- input -------------------------------------------------------------------
    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        mods = event.modifiers()
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.currentIndex().isValid():
            self.previewRequested.emit(self.currentIndex().row())
            return
        if key == Qt.Key.Key_Space and not mods and self.currentIndex().isValid():
            self.previewToggled.emit(self.currentIndex().row())
            return
        if mods & Qt.KeyboardModifier.ControlModifier and key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
            self.zoomRequested.emit(1)
            return
        if mods & Qt.KeyboardModifier.ControlModifier and key == Qt.Key.Key_Minus:
            self.zoomRequested.emit(-1)
            return
        super().keyPressEvent(event)

    def wheelEvent(self, event: QWheelEvent) -> None:
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            delta = event.angleDelta().y()
            if delta:
                self.zoomRequested.emit(1 if delta > 0 else -1)
            event.accept()
            return
        super().wheelEvent(event)

    def viewportEvent(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Leave:
            self.viewport().update()
        return super().viewportEvent(event)

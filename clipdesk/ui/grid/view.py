"""The thumbnail grid: a QListView in icon mode over :class:`PhotoListModel`.

Every cell has the same size (``uniformItemSizes``), so the view lays out and
scrolls 100,000 photos without asking the model about each one; it paints
only the cells on screen, and only those ask for thumbnails.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPoint, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFontMetrics, QKeyEvent, QPainter, QPalette, QPen, QWheelEvent
from PySide6.QtWidgets import QAbstractItemView, QLabel, QListView, QStyle, QStyledItemDelegate, QStyleOptionViewItem

from clipdesk.ui.grid.model import PhotoListModel, Roles
from clipdesk.ui.grid.thumbs import PAD, ThumbnailLoader, TileSpec


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
        if state & QStyle.StateFlag.State_HasFocus and not selected:
            painter.setPen(QPen(option.palette.color(QPalette.ColorRole.Highlight), 1, Qt.PenStyle.DotLine))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(rect.adjusted(2, 2, -3, -3))


class PhotoGrid(QListView):
    """The grid. Emits what the user asks for; its controllers decide what happens."""

    previewRequested = Signal(int)  # row: Enter / double-click
    previewToggled = Signal(int)  # row: Space
    zoomRequested = Signal(int)  # +1 / -1 steps (Ctrl + wheel, Ctrl +/-)
    contextMenuAt = Signal(QPoint)

    def __init__(self, model: PhotoListModel, parent=None, size: int = 160, show_names: bool = True):
        super().__init__(parent)
        self.setObjectName("photoGrid")
        self.delegate = ThumbnailDelegate(model.thumbs, self, size, show_names)
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
        #: Says why there are no photos, over the grid (set_empty_text).
        self.empty = QLabel("", self.viewport())
        self.empty.setObjectName("emptyMessage")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.empty.hide()
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
        """Cells as wide as needed to fill the row: the columns spread over the
        whole width instead of leaving a gap on the right."""
        cell = self.delegate.cell_size(self.font()) + QSize(4, 4)
        width = self.viewport().width() - 2 * self.spacing() - 1
        columns = max(1, width // cell.width())
        grid = QSize(max(cell.width(), width // columns), cell.height())
        if grid != self.gridSize():
            self.setGridSize(grid)
        self.setIconSize(QSize(self.delegate.size, self.delegate.size))
        self.scheduleDelayedItemsLayout()
        self.viewport().update()

    def set_empty_text(self, text: str | None) -> None:
        """Say why there are no photos (None: there are, say nothing)."""
        if text is None:
            self.empty.hide()
            return
        self.empty.setText(text)
        self.empty.resize(self.viewport().size())
        self.empty.show()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._apply_grid_size()
        if self.empty.isVisible():
            self.empty.resize(self.viewport().size())

    def selected_rows(self) -> list[int]:
        return sorted(i.row() for i in self.selectionModel().selectedIndexes())

    def current_row(self) -> int | None:
        idx = self.currentIndex()
        return idx.row() if idx.isValid() else None

    def visible_rows(self) -> range:
        """Rows at least partly on screen."""
        if self.model().rowCount() == 0:
            return range(0)
        vp = self.viewport().rect()
        step_x = max(8, self.gridSize().width() // 2)
        step_y = max(8, self.gridSize().height() // 2)
        rows = set()
        for y in range(2, vp.height(), step_y):
            for x in range(2, vp.width(), step_x):
                index = self.indexAt(QPoint(x, y))
                if index.isValid():
                    rows.add(index.row())
        return range(min(rows), max(rows) + 1) if rows else range(0)

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

"""A photo that can be looked at closely: fit, 100 %, zoom (wheel, pinch, keys), pan.

:class:`ZoomView` paints a decoded picture; it never decodes. It knows the
photo's own size (``full_size``), so 100 % means one pixel of the photo on
one pixel of the screen even while the picture it has is a smaller decode
(the screen-sized one that arrives first): it then asks for the full one
(``detailWanted``) and keeps the view where it is when that arrives.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPointF, QRectF, QSize, QSizeF, Qt, Signal
from PySide6.QtGui import QImage, QKeyEvent, QMouseEvent, QPainter, QPalette, QPixmap, QWheelEvent
from PySide6.QtWidgets import QGestureEvent, QPinchGesture, QSizePolicy, QWidget

#: Zoom limits, as a share of the photo's own size.
MAX_ZOOM = 16.0
#: Each wheel notch (120/8 degrees) and each +/- key zooms by this factor.
STEP = 1.25


class ZoomView(QWidget):
    """Paints a photo scaled to fit (the default), at 100 %, or zoomed and panned.

    Wheel and pinch zoom around the pointer; dragging pans a photo larger than
    the view; a double click toggles fit and 100 % at that point; the keys Z
    (toggle), Ctrl+0 (fit), Ctrl+1 (100 %), + and - (zoom) when it has the
    focus (0-5 alone are the rating keys, as in Lightroom).
    """

    #: The zoom changed: the scale, photo pixels to screen pixels (1.0 is 100 %).
    zoomChanged = Signal(float)
    #: More pixels than the picture has are on screen: the full-size decode is wanted.
    detailWanted = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("zoomView")
        self._pixmap: QPixmap | None = None
        self._full = QSizeF()  # the photo's own size, upright
        self._text = ""
        self._fit = True
        self._scale = 1.0  # screen (logical) pixels per photo pixel, when not fitting
        self._center = QPointF()  # the photo point at the centre of the view
        self._drag: QPointF | None = None
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(QSize(120, 120))
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.grabGesture(Qt.GestureType.PinchGesture)

    # -- the picture -------------------------------------------------------------------
    def set_image(self, image: QImage | None, full_size: QSize | None = None, text: str = "", *,
                  keep_view: bool = False) -> None:
        """Show ``image`` (None: only ``text``), a decode of a photo whose own
        size is ``full_size`` (default: the image's). ``keep_view``: the same
        photo in more detail, the zoom and position stay; else it fits."""
        self._pixmap = QPixmap.fromImage(image) if image is not None and not image.isNull() else None
        if self._pixmap is not None:
            size = full_size if full_size is not None and not full_size.isEmpty() else image.size()
            self._full = QSizeF(size)
        else:
            self._full = QSizeF()
        self._text = text
        if not keep_view or self._pixmap is None:
            self._fit = True
            self._center = QPointF(self._full.width() / 2, self._full.height() / 2)
        self.update()
        self.zoomChanged.emit(self.scale())

    def has_image(self) -> bool:
        return self._pixmap is not None

    def image_size(self) -> QSize:
        """The size of the picture painted (a decode, maybe smaller than the photo)."""
        return self._pixmap.size() if self._pixmap is not None else QSize()

    def text(self) -> str:
        return self._text

    # -- zoom ------------------------------------------------------------------------
    def fit_scale(self) -> float:
        """The scale at which the whole photo fits the view (never above 100 %)."""
        if self._full.isEmpty():
            return 1.0
        return min(self.width() / self._full.width(), self.height() / self._full.height(), self._one())

    def _one(self) -> float:
        """The scale of 100 %: one photo pixel on one device pixel."""
        return 1.0 / max(1e-6, self.devicePixelRatioF())

    def scale(self) -> float:
        """Screen (logical) pixels per photo pixel now."""
        return self.fit_scale() if self._fit else self._scale

    def zoom_percent(self) -> int:
        """The zoom as people read it: 100 at one photo pixel per screen pixel."""
        return round(self.scale() / self._one() * 100)

    def fitting(self) -> bool:
        return self._fit

    def fit(self) -> None:
        self._fit = True
        self._center = QPointF(self._full.width() / 2, self._full.height() / 2)
        self._changed()

    def actual_size(self, at: QPointF | None = None) -> None:
        """100 %, keeping the photo point under ``at`` (default: the centre) where it is."""
        self.zoom_to(self._one(), at)

    def toggle(self, at: QPointF | None = None) -> None:
        """Fit and 100 %, one and the other (a double click, Z)."""
        if self._fit:
            self.actual_size(at)
        else:
            self.fit()

    def zoom_by(self, factor: float, at: QPointF | None = None) -> None:
        """Zoom by ``factor`` around the view point ``at`` (default: the centre)."""
        self.zoom_to(self.scale() * factor, at)

    def zoom_to(self, scale: float, at: QPointF | None = None) -> None:
        if self._full.isEmpty():
            return
        low = min(self.fit_scale(), self._one()) / 2
        scale = max(low, min(MAX_ZOOM * self._one(), scale))
        at = at if at is not None else QPointF(self.width() / 2, self.height() / 2)
        under = self._photo_point(at)  # keep this photo point under the pointer
        self._fit = False
        self._scale = scale
        self._center = QPointF(under.x() - (at.x() - self.width() / 2) / scale,
                               under.y() - (at.y() - self.height() / 2) / scale)
        self._changed()

    def pan(self, dx: float, dy: float) -> None:
        """Move the photo by (dx, dy) screen pixels."""
        if self._fit:
            return
        s = self.scale()
        self._center = QPointF(self._center.x() - dx / s, self._center.y() - dy / s)
        self._changed()

    def _photo_point(self, at: QPointF) -> QPointF:
        s = self.scale()
        center = self._center if not self._fit else QPointF(self._full.width() / 2, self._full.height() / 2)
        return QPointF(center.x() + (at.x() - self.width() / 2) / s, center.y() + (at.y() - self.height() / 2) / s)

    def _clamp(self) -> None:
        """Keep the photo on screen: centred along an axis where it is smaller than the view."""
        s = self.scale()
        for axis, view, full in (("x", self.width(), self._full.width()), ("y", self.height(), self._full.height())):
            half = view / 2 / s
            value = self._center.x() if axis == "x" else self._center.y()
            value = full / 2 if full <= 2 * half else max(half, min(full - half, value))
            if axis == "x":
                self._center.setX(value)
            else:
                self._center.setY(value)

    def _changed(self) -> None:
        self._clamp()
        self.update()
        self.zoomChanged.emit(self.scale())
        if self._pixmap is not None and self.scale() * self.devicePixelRatioF() * self._full.width() > \
                self._pixmap.width() * 1.05:
            self.detailWanted.emit()

    def photo_rect(self) -> QRectF:
        """Where the photo is painted, in view coordinates."""
        if self._full.isEmpty():
            return QRectF()
        if not self._fit:
            self._clamp()
        s = self.scale()
        center = self._center if not self._fit else QPointF(self._full.width() / 2, self._full.height() / 2)
        w, h = self._full.width() * s, self._full.height() * s
        return QRectF(self.width() / 2 - center.x() * s, self.height() / 2 - center.y() * s, w, h)

    # -- painting --------------------------------------------------------------------
    def paintEvent(self, event) -> None:  # noqa: N802 - Qt's API
        p = QPainter(self)
        try:
            if self._pixmap is None:
                p.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
                p.drawText(self.rect().adjusted(8, 8, -8, -8), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                           self._text)
                return
            p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, self.zoom_percent() < 200)
            p.drawPixmap(self.photo_rect(), self._pixmap, QRectF(self._pixmap.rect()))
        finally:
            p.end()

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's API
        super().resizeEvent(event)
        if not self._fit:
            self._clamp()
        self.zoomChanged.emit(self.scale())  # fitting, the zoom follows the size

    # -- input -----------------------------------------------------------------------
    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802 - Qt's API
        delta = event.angleDelta().y()
        if not delta or self._pixmap is None:
            event.ignore()
            return
        self.zoom_by(STEP ** (delta / 120), event.position())
        event.accept()

    def event(self, event: QEvent) -> bool:  # noqa: N802 - pinch: touchpads (native gestures) and touch screens
        if event.type() == QEvent.Type.NativeGesture and event.gestureType() == Qt.NativeGestureType.ZoomNativeGesture:
            self.zoom_by(1.0 + event.value(), event.position())
            return True
        if event.type() == QEvent.Type.Gesture and isinstance(event, QGestureEvent):
            pinch = event.gesture(Qt.GestureType.PinchGesture)
            if isinstance(pinch, QPinchGesture):
                self.zoom_by(pinch.scaleFactor(), self.mapFromGlobal(pinch.centerPoint()))
                return True
        return super().event(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt's API
        if event.button() == Qt.MouseButton.LeftButton and not self._fit:
            self._drag = event.position()
            self.setCursor(Qt.CursorShape.ClosedHandCursor)
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt's API
        if self._drag is not None:
            d = event.position() - self._drag
            self._drag = event.position()
            self.pan(d.x(), d.y())
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt's API
        self._drag = None
        self.unsetCursor()
        super().mouseReleaseEvent(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt's API
        if self._pixmap is not None:
            self.toggle(event.position())

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt's API
        key = event.key()
        ctrl = bool(event.modifiers() & Qt.KeyboardModifier.ControlModifier)
        if key == Qt.Key.Key_0 and ctrl:
            self.fit()
        elif key == Qt.Key.Key_1 and ctrl:
            self.actual_size()
        elif key == Qt.Key.Key_Z:
            self.toggle()
        elif key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
            self.zoom_by(STEP)
        elif key == Qt.Key.Key_Minus:
            self.zoom_by(1 / STEP)
        else:
            super().keyPressEvent(event)

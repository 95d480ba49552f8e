"""What a person would see wrong in a laid-out window, measured on the real widgets.

Each check returns a list of problems in words (empty: none), so that one
test can report every one of them at once:

* :func:`clipped_text`: a label's or button's text does not fit its geometry
  (its size hint, or for wrapped text its height for its width, is larger);
* :func:`horizontal_scrollbars`: a dock grows a horizontal scroll bar;
* :func:`grid_problems`: the photo grid's columns do not fill its width, or
  its last row cannot be reached;
* :func:`low_contrast`: text whose rendered pixels contrast less than 4.5:1
  (WCAG 2 AA) with the background around it (3:1 for a one-symbol button,
  an icon by WCAG's rules). Disabled controls are left out, as WCAG does;
  a disabled label is not (it is text to read, not a control).
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPoint, QRect, QSize
from PySide6.QtGui import QImage
from PySide6.QtWidgets import (
    QAbstractButton, QAbstractScrollArea, QCheckBox, QLabel, QPushButton, QRadioButton, QToolButton, QWidget,
)

from clipdesk.ui.grid.view import MARGIN

#: WCAG 2 AA for normal text...
MIN_CONTRAST = 4.5
#: ...and for graphical objects that identify a control (WCAG 2.1, 1.4.11):
#: a button whose text is one symbol (★, ⚑, ✓, ✕) is such an icon.
MIN_SYMBOL_CONTRAST = 3.0


def _showing(w: QWidget, top: QWidget) -> bool:
    """Visible, on screen inside ``top`` (not scrolled away or clipped to nothing)."""
    if not w.isVisible() or w.width() <= 0 or w.height() <= 0:
        return False
    return not w.visibleRegion().isEmpty() and w.isVisibleTo(top)


def _name(w: QWidget) -> str:
    text = w.text() if isinstance(w, (QLabel, QAbstractButton)) else ""
    return f"{type(w).__name__}({w.objectName() or '-'}: {text[:40]!r})"


def text_widgets(top: QWidget) -> list[QWidget]:
    """Labels and buttons with text that show inside ``top``."""
    out = []
    for w in top.findChildren(QWidget):
        if isinstance(w, (QLabel, QAbstractButton)) and w.text().strip() and _showing(w, top):
            out.append(w)
    return out


def clipped_text(top: QWidget) -> list[str]:
    problems = []
    for w in text_widgets(top):
        size = w.size()
        if isinstance(w, QLabel) and w.wordWrap():
            need = QSize(w.minimumSizeHint().width(), w.heightForWidth(size.width()))
        elif isinstance(w, QLabel):
            need = w.sizeHint()
        elif isinstance(w, (QPushButton, QToolButton, QCheckBox, QRadioButton)):
            need = w.sizeHint()
        else:
            continue
        if need.width() > size.width() or need.height() > size.height():
            problems.append(f"{_name(w)} needs {need.width()}x{need.height()}, has {size.width()}x{size.height()}")
    return problems


def horizontal_scrollbars(dock: QWidget) -> list[str]:
    return [f"{dock.objectName()}: {type(a).__name__}({a.objectName() or '-'}) scrolls sideways"
            for a in [dock, *dock.findChildren(QAbstractScrollArea)]
            if isinstance(a, QAbstractScrollArea) and a.horizontalScrollBar().isVisible() and _showing(a, dock)]


def grid_columns(grid) -> int:
    """Cells in the grid's first row."""
    model = grid.model()
    first = grid.visualRect(model.index(0)).y() if model.rowCount() else 0
    return sum(1 for r in range(min(model.rowCount(), 64)) if grid.visualRect(model.index(r)).y() == first)


def grid_problems(grid) -> list[str]:
    model = grid.model()
    n = model.rowCount()
    if not n or not grid.isVisible():
        return []
    problems = []
    cell = grid.delegate.cell_size(grid.font()).width() + 4
    width = grid.viewport().width() - 2 * MARGIN - 1
    fit = max(1, width // cell)
    columns = grid_columns(grid)
    if columns != min(fit, n):
        problems.append(f"{grid.objectName()}: {columns} columns where {min(fit, n)} fit")
    if n >= fit and grid.viewport().width() - columns * grid.gridSize().width() >= cell:
        problems.append(f"{grid.objectName()}: a column's width is left empty on the right")
    last = grid.visualRect(model.index(n - 1))
    bar = grid.verticalScrollBar()
    if last.bottom() > grid.viewport().height() + (bar.maximum() - bar.value()) + 1:
        problems.append(f"{grid.objectName()}: the last row cannot be scrolled to")
    return problems


# -- contrast -------------------------------------------------------------------------------------
def relative_luminance(rgb: np.ndarray) -> np.ndarray:
    """WCAG 2 relative luminance of sRGB colours (..., 3) in 0..255."""
    c = np.asarray(rgb, dtype=np.float64) / 255.0
    lin = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return lin @ np.array([0.2126, 0.7152, 0.0722])


def contrast_ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    la, lb = relative_luminance(a), relative_luminance(b)
    return (np.maximum(la, lb) + 0.05) / (np.minimum(la, lb) + 0.05)


def pixels(image: QImage, rect: QRect) -> np.ndarray:
    """The RGB pixels of ``rect`` in ``image`` (N, 3)."""
    rect = rect.intersected(image.rect())
    img = image.copy(rect).convertToFormat(QImage.Format.Format_RGB888)
    w, h, stride = img.width(), img.height(), img.bytesPerLine()
    buf = np.frombuffer(bytes(img.constBits()), dtype=np.uint8)[: stride * h].reshape(h, stride)
    return buf[:, : w * 3].reshape(-1, 3)


def text_contrast(image: QImage, rect: QRect) -> float | None:
    """Contrast of the text in ``rect`` of a rendered window: the background is
    the area's most common colour, the text the pixel that stands out from it
    most (a glyph's stem is drawn in the full text colour). None when the area
    holds one colour only."""
    px = pixels(image, rect)
    if len(px) == 0:
        return None
    colours, counts = np.unique(px, axis=0, return_counts=True)
    if len(colours) < 2:
        return None
    background = colours[int(np.argmax(counts))]
    return float(contrast_ratio(colours, background).max())


def _text_rect(w: QWidget, top: QWidget) -> QRect:
    """Where ``w``'s text is drawn, in ``top``'s coordinates (a check box's
    indicator, a button's bevel left out as far as the style allows)."""
    rect = w.contentsRect()
    if isinstance(w, (QCheckBox, QRadioButton)):
        indicator = w.style().pixelMetric(w.style().PixelMetric.PM_IndicatorWidth, None, w) + 4
        rect = rect.adjusted(indicator, 0, 0, 0)
    elif isinstance(w, (QPushButton, QToolButton)):
        rect = rect.adjusted(3, 3, -3, -3)
    return QRect(w.mapTo(top, rect.topLeft()), rect.size())


def _text_to_read(w: QWidget) -> bool:
    """A label is no control: disabled, its text is still there to be read
    (a description drawn in the disabled colour is text hard to read), unless
    it names a control that is disabled itself."""
    if not isinstance(w, QLabel):
        return False
    buddy = w.buddy()
    return buddy is None or buddy.isEnabled()


def low_contrast(top: QWidget, image: QImage) -> list[str]:
    """Enabled text widgets of ``top`` whose rendering in ``image`` (a grab of
    ``top``) contrasts below :data:`MIN_CONTRAST`."""
    problems = []
    scale = image.width() / max(1, top.width())
    for w in text_widgets(top):
        if not w.isEnabled() and not _text_to_read(w):
            continue  # WCAG leaves inactive controls out
        rect = _text_rect(w, top)
        if scale != 1:
            rect = QRect(QPoint(round(rect.x() * scale), round(rect.y() * scale)),
                         QSize(round(rect.width() * scale), round(rect.height() * scale)))
        ratio = text_contrast(image, rect)
        text = w.text().strip()
        least = MIN_SYMBOL_CONTRAST if len(text) == 1 and not text.isalnum() else MIN_CONTRAST
        if ratio is not None and ratio < least:
            problems.append(f"{_name(w)} contrast {ratio:.2f}:1")
    return problems

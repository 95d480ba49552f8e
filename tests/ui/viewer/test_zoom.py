"""The zoomable picture (issue 19's viewer): fit, 100 %, wheel and pinch zoom
around the pointer, pan, and the full decode asked for past the picture's pixels."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, QSize, Qt
from PySide6.QtGui import QImage, QNativeGestureEvent, QPointingDevice, QWheelEvent
from PySide6.QtWidgets import QApplication

from clipdesk.ui.viewer.zoom import ZoomView


def _view(qtbot, image_size=(400, 300), full=(4000, 3000)) -> ZoomView:
    view = ZoomView()
    qtbot.addWidget(view)
    view.resize(800, 600)
    view.show()
    image = QImage(*image_size, QImage.Format.Format_RGB888)
    image.fill(Qt.GlobalColor.darkGreen)
    view.set_image(image, QSize(*full))
    return view


def _wheel(view, at: QPointF, notches: int) -> None:
    event = QWheelEvent(at, QPointF(view.mapToGlobal(at.toPoint())), QPoint(0, 0), QPoint(0, 120 * notches),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(view, event)


def test_fit_then_100_percent_asks_for_the_photo_s_own_pixels(qtbot):
    view = _view(qtbot)
    assert view.fitting() and view.zoom_percent() == 20  # 4000 px wide in 800
    assert view.photo_rect().width() == 800
    with qtbot.waitSignal(view.detailWanted):
        qtbot.keyClick(view, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    assert view.zoom_percent() == 100 and view.photo_rect().width() == 4000
    qtbot.keyClick(view, Qt.Key.Key_0, Qt.KeyboardModifier.ControlModifier)
    assert view.fitting()
    qtbot.keyClick(view, Qt.Key.Key_Z)
    assert view.zoom_percent() == 100
    # The full decode arrives: the view stays where it was.
    full = QImage(4000, 3000, QImage.Format.Format_RGB888)
    full.fill(Qt.GlobalColor.darkGreen)
    before = view.photo_rect()
    view.set_image(full, QSize(4000, 3000), keep_view=True)
    assert view.photo_rect() == before and view.image_size() == QSize(4000, 3000)


def test_the_wheel_zooms_around_the_pointer_and_dragging_pans(qtbot):
    view = _view(qtbot)
    at = QPointF(200, 150)  # over the photo, off its centre
    rect = view.photo_rect()
    under = ((at.x() - rect.left()) / rect.width(), (at.y() - rect.top()) / rect.height())
    _wheel(view, at, 3)
    assert not view.fitting() and view.zoom_percent() > 20
    rect = view.photo_rect()
    assert ((at.x() - rect.left()) / rect.width(), (at.y() - rect.top()) / rect.height()) == (
        pytest_approx(under[0]), pytest_approx(under[1]))
    left = rect.left()
    qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=QPoint(400, 300))
    qtbot.mouseMove(view, QPoint(300, 300))
    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, pos=QPoint(300, 300))
    assert view.photo_rect().left() == pytest_approx(left - 100)
    _wheel(view, at, -30)  # far out: never smaller than half the fit
    assert view.zoom_percent() == 10


def test_a_pinch_zooms(qtbot):
    view = _view(qtbot)
    device = QPointingDevice.primaryPointingDevice()
    at = QPointF(400, 300)
    event = QNativeGestureEvent(Qt.NativeGestureType.ZoomNativeGesture, device, 2, at, at,
                                QPointF(view.mapToGlobal(at.toPoint())), 0.5, QPointF(0, 0))
    QApplication.sendEvent(view, event)
    assert view.zoom_percent() == 30


def test_a_photo_smaller_than_the_view_is_never_enlarged_to_fit(qtbot):
    view = _view(qtbot, (200, 100), (200, 100))
    assert view.zoom_percent() == 100 and view.photo_rect().center() == QPointF(400, 300)
    qtbot.mouseDClick(view, Qt.MouseButton.LeftButton, pos=QPoint(400, 300))
    assert view.zoom_percent() == 100  # fit is 100 % already


def pytest_approx(value):
    import pytest

    return pytest.approx(value, abs=1e-3)

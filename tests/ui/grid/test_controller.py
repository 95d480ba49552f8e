"""The grid controller: thumbnail size, a refreshed answer that keeps the user's place."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import QItemSelectionModel, QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication
from uikit import names, select


def test_ctrl_wheel_changes_the_thumbnail_size_and_it_is_remembered(open_window, indexed, settings):
    window = open_window(indexed)
    before = window.settings.thumb_size
    event = QWheelEvent(QPointF(50, 50), QPointF(window.grid.mapToGlobal(QPoint(50, 50))), QPoint(0, 0),
                        QPoint(0, 120), Qt.MouseButton.NoButton, Qt.KeyboardModifier.ControlModifier,
                        Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(window.grid.viewport(), event)
    assert window.settings.thumb_size > before
    assert window.grid.delegate.size == window.settings.thumb_size == window.size_slider.value()
    assert window.grid.gridSize().width() > before
    window.size_slider.setValue(96)
    assert window.grid.delegate.size == window.settings.thumb_size == 96
    window.shutdown()
    assert '"thumb_size": 96' in settings.path.read_text()


def test_a_refreshed_answer_keeps_the_selection_and_the_current_photo(open_window, indexed):
    window = open_window(indexed)
    window.bar.setText("red")
    row = select(window, "red3.jpg")
    window.grid.selectionModel().select(window.model.index(row), QItemSelectionModel.SelectionFlag.Select)
    answer = window.grid_ctl.answer
    # The same search again, in another order (photos arrived, scores moved): a new layout.
    window.grid_ctl.show_answer(replace(answer, ids=answer.ids[::-1], scores=answer.scores[::-1], fingerprint=None))
    assert names(window)[0] == answer.result.hits[-1].photo.name
    assert window.model.photo(window.grid.current_row()).name == "red3.jpg"
    assert [window.model.photo(r).name for r in window.grid.selected_rows()] == ["red3.jpg"]


def test_the_details_never_show_a_photo_that_left_the_grid(open_window, indexed, qtbot):
    """Issue 16: after a new search the details panel kept showing a photo the
    grid no longer had."""
    window = open_window(indexed)
    qtbot.keyClicks(window.bar, "red")
    qtbot.mouseClick(window.grid.viewport(), Qt.MouseButton.LeftButton,
                     pos=window.grid.visualRect(window.model.index(names(window).index("red2.jpg"))).center())
    qtbot.waitUntil(lambda: window.details.fields["file"].text() == "red2.jpg", timeout=5000)
    qtbot.keyClicks(window.bar, " tag:none-yet")  # the same results? no: nothing has that tag
    qtbot.waitUntil(lambda: window.details.photos == [], timeout=5000)
    assert window.details.fields["file"].text() == ""
    window.bar.clear()
    qtbot.keyClicks(window.bar, "red")
    select(window, "red2.jpg")
    qtbot.waitUntil(lambda: window.details.fields["file"].text() == "red2.jpg", timeout=5000)
    window.photo_actions.remove([window.details.photos[0]], confirm=False)
    qtbot.waitUntil(lambda: window.details.photos == [], timeout=5000)

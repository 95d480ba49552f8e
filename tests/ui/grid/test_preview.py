"""The QuickLook preview: Enter opens it, Space toggles it, arrow keys step through the grid."""

from __future__ import annotations

from PySide6.QtCore import Qt
from uikit import names, select


def test_keyboard_enter_opens_the_preview_and_space_toggles_it(open_window, indexed, qtbot):
    window = open_window(indexed)
    row = select(window, "blue3.jpg")
    window.grid.setFocus()
    qtbot.keyClick(window.grid, Qt.Key.Key_Return)
    preview = window.previews.window
    assert preview is not None and preview.isVisible()
    assert preview.view.has_image()
    assert preview.caption.text() == "blue3.jpg"
    qtbot.keyClick(preview, Qt.Key.Key_Right)
    assert window.grid.current_row() == row + 1
    assert preview.caption.text() == names(window)[row + 1]
    qtbot.keyClick(preview, Qt.Key.Key_Space)
    assert not preview.isVisible()
    window.grid.setFocus()
    qtbot.keyClick(window.grid, Qt.Key.Key_Space)
    assert preview.isVisible()
    qtbot.keyClick(window.grid, Qt.Key.Key_Space)
    assert not preview.isVisible()

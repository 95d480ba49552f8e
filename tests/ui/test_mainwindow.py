"""The window as a whole: focus and shortcuts, drops on the window, theme, state kept between runs."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication
from uikit import drop, file_mime

from clipdesk.ui import theme


def test_search_bar_has_focus_and_shortcuts_return_to_it(open_window, indexed, qtbot):
    window = open_window(indexed)
    qtbot.waitUntil(window.bar.hasFocus)
    window.grid.setFocus()
    qtbot.waitUntil(window.grid.hasFocus)
    qtbot.keyClick(window.grid, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(window.bar.hasFocus)


def test_dropping_a_folder_on_the_window_adds_it(open_window, colour_model, photos_root, qtbot):
    window = open_window(colour_model)
    with qtbot.waitSignal(window.index.finished, timeout=30000):
        assert drop(window, file_mime(photos_root / "warm"))
    assert [r.path for r in window.library.catalog.roots()] == [str(photos_root / "warm")]
    assert window.model.rowCount() == 10


def test_theme_follows_the_choice(open_window, paths):
    window = open_window(paths)
    app = QApplication.instance()
    window.set_theme("dark")
    assert theme.is_dark(app)
    assert app.palette().color(QPalette.ColorRole.Window).lightness() < 80
    window.set_theme("light")
    assert not theme.is_dark(app)
    assert app.palette().color(QPalette.ColorRole.Window).lightness() > 180
    window.set_theme("system")
    assert theme.is_dark(app) == theme.system_is_dark(app)
    assert window.settings.theme == "system"


def test_window_state_is_restored(open_window, paths, qtbot, settings):
    window = open_window(paths)
    window.resize(760, 700)
    qtbot.waitUntil(lambda: (window.width(), window.height()) == (760, 700), timeout=5000)
    window.details_dock.hide()
    window.close()
    window.library.close()  # one window per catalog: the next one opens it again
    assert settings.window_state and settings.window_geometry
    again = open_window(paths)
    assert not again.details_dock.isVisible()
    assert again.sidebar_dock.isVisible()
    assert (again.width(), again.height()) == (760, 700)

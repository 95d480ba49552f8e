"""Move to trash, Move to folder, Show in file manager, and undoing them (issue 19),
through the menus and dialogs, on real files."""

from __future__ import annotations

import os

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QApplication, QMessageBox
from uikit import UrlCatcher, names, photo_named, select

from clipdesk.core.trashcan import restorable


def _answer_yes() -> None:
    """Click Yes on the question the next action asks (a modal QMessageBox)."""
    def click() -> None:
        box = QApplication.activeModalWidget()
        assert isinstance(box, QMessageBox), box
        box.button(QMessageBox.StandardButton.Yes).click()

    QTimer.singleShot(0, click)


def _menu_action(window, menu: str, text: str):
    bar = next(a.menu() for a in window.menuBar().actions() if a.text().replace("&", "") == menu)
    return next(a for a in bar.actions() if a.text().replace("&", "") == text)


@pytest.mark.skipif(not restorable(), reason="only freedesktop.org trashes let a program put files back")
def test_move_to_trash_asks_then_undo_puts_the_photo_back(open_window, indexed, photos_root, qtbot):
    window = open_window(indexed)
    select(window, "blue2.jpg")
    window.grid.selectionModel().select(window.grid.currentIndex(),
                                        window.grid.selectionModel().SelectionFlag.Select)
    path = photos_root / "cold" / "blue2.jpg"
    _answer_yes()
    _menu_action(window, "Photo", "Move to trash…").trigger()
    assert not path.exists() and "blue2.jpg" not in names(window)
    assert "Moved 1 photo to the trash" in window.notice.text()
    undo = _menu_action(window, "Edit", "Undo move 1 photo to the trash")
    undo.trigger()
    assert path.exists()
    qtbot.waitUntil(lambda: "blue2.jpg" in names(window) and not window.index.running, timeout=30000)
    assert photo_named(window, "blue2.jpg").status == "indexed"
    assert window.redo_action.isEnabled() and window.redo_action.text() == "&Redo move 1 photo to the trash"
    window.redo_action.trigger()
    assert not path.exists()


def test_move_to_folder_and_back(open_window, indexed, photos_root, tmp_path):
    window = open_window(indexed)
    best = photos_root / "best"
    best.mkdir()
    photo = photo_named(window, "yellow1.jpg")
    window.files.move([photo], str(best))
    assert (best / "yellow1.jpg").exists() and not (photos_root / "warm" / "yellow1.jpg").exists()
    assert window.library.search.photo(photo.id).path == str(best / "yellow1.jpg")
    assert "Moved 1 photo to best" in window.notice.text()
    window.undo_action.trigger()
    assert (photos_root / "warm" / "yellow1.jpg").exists()
    assert window.library.search.photo(photo.id).path == str(photos_root / "warm" / "yellow1.jpg")


def test_a_photo_that_cannot_be_trashed_is_listed_with_why(open_window, indexed, photos_root):
    window = open_window(indexed)
    photo = photo_named(window, "red1.jpg")
    os.remove(photo.path)  # gone behind ClipDesk's back
    window.files.trash([photo], confirm=False)
    box = window.findChild(QMessageBox, "errorBox")
    assert box is not None and "red1.jpg" in box.text() and "1 photo could not be moved to the trash" in box.text()


def test_show_in_file_manager_opens_the_folder_when_no_file_manager_answers(open_window, indexed, photos_root,
                                                                             monkeypatch):
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)  # no desktop session here
    window = open_window(indexed)
    urls = UrlCatcher()
    QDesktopServices.setUrlHandler("file", urls, "open")
    try:
        route = window.photo_actions.show_in_file_manager(photo_named(window, "red2.jpg"))
    finally:
        QDesktopServices.unsetUrlHandler("file")
    assert route == "folder" and [u.toLocalFile() for u in urls.opened] == [str(photos_root / "warm")]

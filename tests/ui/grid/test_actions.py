"""What the user can do to photos in the grid: the context menu, tagging, removing."""

from __future__ import annotations

import os

from PySide6.QtGui import QGuiApplication
from uikit import names, select


def test_context_menu_copy_path_find_similar_and_tag(open_window, indexed):
    window = open_window(indexed)
    row = select(window, "green1.jpg")
    photo = window.model.photo(row)
    menu = window.photo_actions.menu([photo])
    texts = [a.text() for a in menu.actions() if a.text()]
    for expected in ("Find similar", "Show in file manager", "Open with the system viewer", "Copy path",
                     "Tag", "Remove from library…"):
        assert expected in texts
    next(a for a in menu.actions() if a.text() == "Copy path").trigger()
    assert QGuiApplication.clipboard().text() == photo.path
    next(a for a in menu.actions() if a.text() == "Find similar").trigger()
    assert window.grid_ctl.answer.kind == "similar"
    assert set(names(window)[:4]) == {f"green{i}.jpg" for i in (0, 2, 3, 4)}
    window.photo_actions.tag([photo], "lawn")
    assert [i.text(0) for i in window.sidebar.items("tag")] == ["lawn"]
    assert window.library.catalog.tagged_ids("lawn") == [photo.id]
    tag_menu = next(a.menu() for a in window.photo_actions.menu([photo]).actions() if a.text() == "Tag")
    assert "lawn" in [a.text() for a in tag_menu.actions()]


def test_remove_from_library_keeps_the_file(open_window, indexed):
    window = open_window(indexed)
    row = select(window, "yellow2.jpg")
    photo = window.model.photo(row)
    window.photo_actions.remove([photo], confirm=False)
    assert "yellow2.jpg" not in names(window)
    assert window.library.catalog.photo_by_path(photo.path) is None
    assert os.path.exists(photo.path)
    assert [i.text(1) for i in window.sidebar.items("folder")] == ["59"]

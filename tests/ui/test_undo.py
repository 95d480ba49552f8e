"""Undo and redo: every kind of edit, from the Edit menu and with the keys,
the menu saying what will be undone, the views following."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox
from uikit import drop, ids_mime, names, photo_named, select

CTRL = Qt.KeyboardModifier.ControlModifier
CTRL_SHIFT = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier


def edit_menu(window):
    return next(a.menu() for a in window.menuBar().actions() if a.text() == "&Edit")


def undo(window):
    assert window.undo_action in edit_menu(window).actions()
    window.undo_action.trigger()


def redo(window):
    assert window.redo_action in edit_menu(window).actions()
    window.redo_action.trigger()


def focus_grid(window, qtbot, name: str) -> int:
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    window.grid.setFocus()
    qtbot.waitUntil(window.grid.hasFocus)
    return window.model.photo_id(select(window, name))


def marks(window, pid):
    return window.library.marks.of([pid])[pid]


def tags_of(window, pid):
    return sorted(t.tag for t in window.library.tags.of_photo(pid) if t.state == "accepted")


def test_a_rating_undone_and_redone_from_the_menu_and_the_keys(open_window, indexed, qtbot):
    window = open_window(indexed)
    assert not window.undo_action.isEnabled() and window.undo_action.text() == "&Undo"
    pid = focus_grid(window, qtbot, "misc03.jpg")
    qtbot.keyClick(window.grid, Qt.Key.Key_3)
    assert window.undo_action.text() == "&Undo rate 1 photo 3 stars" and window.undo_action.isEnabled()
    assert window.redo_action.text() == "&Redo" and not window.redo_action.isEnabled()
    undo(window)
    assert marks(window, pid) == (0, None, None)
    qtbot.waitUntil(lambda: window.marks.get(pid) == (0, None, None))  # the grid shows it
    assert window.redo_action.text() == "&Redo rate 1 photo 3 stars"
    assert window.undo_action.text() == "&Undo" and not window.undo_action.isEnabled()
    qtbot.keyClick(window.grid, Qt.Key.Key_Z, CTRL_SHIFT)
    assert marks(window, pid) == (3, None, None)
    qtbot.keyClick(window.grid, Qt.Key.Key_Z, CTRL)
    assert marks(window, pid) == (0, None, None)
    qtbot.keyClick(window.grid, Qt.Key.Key_Y, CTRL)  # Windows' redo key, where the platform has it
    assert marks(window, pid) == (3, None, None)
    redo_keys = [k.toString() for k in window.redo_action.shortcuts()]
    assert "Ctrl+Shift+Z" in redo_keys


def test_edits_are_undone_newest_first_and_a_new_edit_drops_the_redo(open_window, indexed, qtbot):
    window = open_window(indexed)
    pid = focus_grid(window, qtbot, "misc02.jpg")
    for key in (Qt.Key.Key_2, Qt.Key.Key_P, Qt.Key.Key_6):
        qtbot.keyClick(window.grid, key)
    assert marks(window, pid) == (2, "pick", "red")
    assert window.undo_action.text() == "&Undo label 1 photo red"
    undo(window)
    assert marks(window, pid) == (2, "pick", None)
    assert window.undo_action.text() == "&Undo mark 1 photo as a pick"
    assert window.redo_action.text() == "&Redo label 1 photo red"
    undo(window)
    assert marks(window, pid) == (2, None, None)
    redo(window)
    assert marks(window, pid) == (2, "pick", None)
    qtbot.keyClick(window.grid, Qt.Key.Key_X)
    assert window.redo_action.text() == "&Redo" and not window.redo_action.isEnabled()
    assert window.undo_action.text() == "&Undo mark 1 photo as a reject"
    undo(window)
    undo(window)
    undo(window)
    assert marks(window, pid) == (0, None, None)


def test_one_announcement_per_undo(open_window, indexed, qtbot):
    window = open_window(indexed)
    pid = focus_grid(window, qtbot, "misc04.jpg")
    qtbot.keyClick(window.grid, Qt.Key.Key_4)
    heard = []
    window.hub.changed.connect(heard.append)
    undo(window)
    assert len(heard) == 1 and heard[0].photos == {pid}
    assert window.history.stack.count() == 1  # the undo itself is not a new edit
    redo(window)
    assert len(heard) == 2 and window.history.stack.count() == 1


def test_tags_added_and_removed_in_the_details_panel(open_window, indexed, qtbot):
    window = open_window(indexed)
    pid = window.model.photo_id(select(window, "red4.jpg"))
    details = window.details
    qtbot.waitUntil(lambda: [p.id for p in details.photos] == [pid])
    details.add_tags("sunset")
    assert tags_of(window, pid) == ["sunset"]
    assert window.undo_action.text() == "&Undo add tag 'sunset' to 1 photo"
    undo(window)
    assert tags_of(window, pid) == []
    assert "sunset" not in details.tag_label.text()
    redo(window)
    assert tags_of(window, pid) == ["sunset"]
    assert "sunset" in details.tag_label.text()
    details.remove_tag("sunset")
    assert window.undo_action.text() == "&Undo remove tag 'sunset' from 1 photo"
    undo(window)
    assert tags_of(window, pid) == ["sunset"]
    assert [i.text(0) for i in window.sidebar.items("tag")] == ["sunset"]


def test_suggestions_accepted_and_rejected_in_the_auto_tag_panel(open_window, indexed, qtbot):
    window = open_window(indexed)
    panel = window.autotag
    green = photo_named(window, "green0.jpg")
    assert drop(panel.drop, ids_mime(green.id))
    panel.decide("green", "accepted")
    assert tags_of(window, green.id) == ["green"]
    assert window.undo_action.text() == "&Undo add tag 'green' to 1 photo"
    undo(window)
    assert tags_of(window, green.id) == []
    panel.suggest([green.id], [])
    panel.decide("green", "rejected")
    assert window.library.catalog.tagged_ids("green", "rejected") == [green.id]
    assert window.undo_action.text() == "&Undo reject tag 'green' on 1 photo"
    undo(window)
    assert window.library.catalog.tagged_ids("green", "rejected") == []
    redo(window)
    assert window.library.catalog.tagged_ids("green", "rejected") == [green.id]


def test_accept_all_is_one_edit_named_for_its_tags(open_window, indexed, qtbot):
    window = open_window(indexed)
    panel = window.autotag
    red, blue = photo_named(window, "red3.jpg"), photo_named(window, "blue3.jpg")
    assert drop(panel.drop, ids_mime(red.id, blue.id))
    suggested = list(panel.rows)
    assert {"red", "blue"} <= set(suggested)
    qtbot.mouseClick(panel.accept_all, Qt.MouseButton.LeftButton)
    assert "red" in tags_of(window, red.id) and "blue" in tags_of(window, blue.id)
    assert sorted(set(tags_of(window, red.id)) | set(tags_of(window, blue.id))) == sorted(suggested)
    assert window.undo_action.text().startswith("&Undo add tags '")
    assert window.history.stack.count() == 1
    undo(window)
    assert tags_of(window, red.id) == [] and tags_of(window, blue.id) == []


def test_tag_rename_merge_move_and_delete(open_window, indexed, qtbot):
    window = open_window(indexed)
    beach = [photo_named(window, n) for n in ("blue0.jpg", "blue1.jpg")]
    city = photo_named(window, "misc00.jpg")
    window.photo_actions.tag(beach, "Places|Beach")
    window.photo_actions.tag([city], "City")
    tree, editor = window.sidebar.tags, window.tag_editor

    editor.rename("Places", "Travel")
    assert window.undo_action.text() == "&Undo rename tag 'Places' to 'Travel'"
    assert tree.tag_item("Travel|Beach") is not None
    undo(window)
    assert tree.tag_item("Places|Beach") is not None and tree.tag_item("Travel") is None
    assert window.library.catalog.tagged_ids("Places|Beach") == sorted(p.id for p in beach)

    editor.move("City", "Places")
    assert window.undo_action.text() == "&Undo move tag 'City' under 'Places'"
    assert tree.tag_item("Places|City").text(1) == "1"
    undo(window)
    assert tree.tag_item("City").parent() is None

    editor.rename("City", "Places|Beach")
    window.tag_editor.question.done(window.tag_editor.question.StandardButton.Yes)
    assert window.undo_action.text() == "&Undo merge tag 'City' into 'Places|Beach'"
    assert tree.tag_item("Places|Beach").text(1) == "3" and tree.tag_item("City") is None
    undo(window)
    assert tree.tag_item("Places|Beach").text(1) == "2" and tree.tag_item("City").text(1) == "1"
    assert window.library.catalog.tagged_ids("City") == [city.id]

    editor.delete("Places")
    window.tag_editor.question.done(window.tag_editor.question.StandardButton.Yes)
    assert window.undo_action.text() == "&Undo delete tag 'Places'"
    assert tree.tag_item("Places") is None
    undo(window)
    assert tree.tag_item("Places|Beach").text(1) == "2"
    assert tags_of(window, beach[0].id) == ["Places|Beach"]
    redo(window)
    assert tree.tag_item("Places") is None and tags_of(window, beach[0].id) == []


def test_photos_removed_from_the_library_come_back(open_window, indexed, qtbot):
    window = open_window(indexed)
    photo = photo_named(window, "yellow2.jpg")
    window.photo_actions.tag([photo], "sun")
    window.photo_actions.remove([photo], confirm=False)
    assert "yellow2.jpg" not in names(window)
    assert window.undo_action.text() == "&Undo remove 1 photo from the library"
    with qtbot.waitSignal(window.index.finished, timeout=30000):  # back, and indexed again
        qtbot.keyClick(window.grid, Qt.Key.Key_Z, CTRL)
    assert "yellow2.jpg" in names(window)
    back = photo_named(window, "yellow2.jpg")
    assert tags_of(window, back.id) == ["sun"]
    assert [i.text(1) for i in window.sidebar.items("folder")] == ["60"]
    redo(window)
    assert "yellow2.jpg" not in names(window)


def test_a_removed_photo_comes_back_with_its_marks(open_window, indexed, qtbot):
    window = open_window(indexed)
    photo = photo_named(window, "yellow3.jpg")
    window.mark_actions.rate([photo.id], 4)
    window.mark_actions.label([photo.id], "red")
    window.photo_actions.remove([photo], confirm=False)
    with qtbot.waitSignal(window.index.finished, timeout=30000):
        undo(window)
    back = photo_named(window, "yellow3.jpg")
    assert marks(window, back.id) == (4, None, "red")


def test_an_excluded_folder_comes_back(open_window, indexed, qtbot, photos_root):
    window = open_window(indexed)
    red = photo_named(window, "red0.jpg")
    menu = window.photo_actions.menu([red])
    assert "Exclude the folder “warm”…" in [a.text() for a in menu.actions()]
    window.photo_actions.exclude(str(photos_root / "warm"), confirm=False)
    assert not any(n.startswith(("red", "yellow")) for n in names(window))
    assert window.undo_action.text() == "&Undo exclude warm"
    with qtbot.waitSignal(window.index.finished, timeout=30000):
        undo(window)
    assert sum(n.startswith(("red", "yellow")) for n in names(window)) == 10
    assert window.model.rowCount() == 60
    redo(window)
    assert window.model.rowCount() == 50


def test_undo_and_redo_asked_at_once_on_the_real_worker_threads(open_window, indexed, qtbot):
    """The redo is asked for before its undo ran: it waits for it (one writes thread)."""
    window = open_window(indexed, threads=True)
    pid = photo_named(window, "misc08.jpg").id
    window.mark_actions.rate([pid], 4)
    window.mark_actions.flag([pid], "pick")
    qtbot.waitUntil(lambda: window.history.stack.count() == 2)
    undo(window)
    undo(window)
    redo(window)
    assert window.history.pending == 3
    qtbot.waitUntil(lambda: window.history.pending == 0)
    assert marks(window, pid) == (4, None, None)
    assert window.undo_action.text() == "&Undo rate 1 photo 4 stars"
    assert window.redo_action.text() == "&Redo mark 1 photo as a pick"
    redo(window)
    qtbot.waitUntil(lambda: window.history.pending == 0)
    assert marks(window, pid) == (4, "pick", None)


def test_an_undo_that_fails_says_why_and_empties_the_history(open_window, indexed, qtbot):
    window = open_window(indexed)
    pid = photo_named(window, "misc09.jpg").id
    window.mark_actions.rate([pid], 2)
    window.library.close()  # the catalog is gone: nothing can be undone now
    undo(window)
    box = window.findChild(QMessageBox, "errorBox")
    assert box is not None and box.text().startswith("Could not undo “Rate 1 photo 2 stars”")
    qtbot.waitUntil(lambda: window.history.stack.count() == 0)
    assert not window.undo_action.isEnabled() and not window.redo_action.isEnabled()
    box.close()

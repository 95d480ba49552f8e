"""The tag tree in the sidebar: nesting and counts, filtering, and renaming,
merging, moving and deleting tags through the widget."""

from __future__ import annotations

import os

from PySide6.QtCore import QByteArray, QMimeData, QPoint, Qt
from PySide6.QtWidgets import QLineEdit, QMessageBox
from uikit import drop, names, photo_named

from clipdesk.ui.library.tagtree import TAG_MIME


def tag(window, tag_name: str, *photo_names: str) -> list[int]:
    photos = [photo_named(window, n) for n in photo_names]
    window.photo_actions.tag(photos, tag_name)
    return [p.id for p in photos]


def shown(tree) -> dict[str, str]:
    """Every tag in the tree by its full name: the count it shows."""
    return {i.data(0, Qt.ItemDataRole.UserRole + 1): i.text(1) for i in tree.tag_items()}


def places(window) -> dict[str, list[int]]:
    """Tag -> photo ids, from the catalog."""
    lib = window.library
    return {t.name: sorted(lib.catalog.tagged_ids(t.name)) for t in lib.tags.list() if t.photos}


def tag_mime(path: str) -> QMimeData:
    mime = QMimeData()
    mime.setData(TAG_MIME, QByteArray(path.encode("utf-8")))
    return mime


def answer(window, qtbot, name: str, button: QMessageBox.StandardButton) -> str:
    """Answer the question the tag editor asks; its text."""
    qtbot.waitUntil(lambda: window.tag_editor.question is not None
                    and window.tag_editor.question.objectName() == name)
    box = window.tag_editor.question
    text = box.text()
    qtbot.mouseClick(box.button(button), Qt.MouseButton.LeftButton)
    return text


def build(window):
    return {
        "beach": tag(window, "Places|Beach", "blue0.jpg", "blue1.jpg"),
        "city": tag(window, "Places|City", "misc00.jpg"),
        "places": tag(window, "Places", "green0.jpg"),
        "people": tag(window, "People", "red0.jpg"),
        "rome": tag(window, "Travel|Italy|Rome", "misc01.jpg"),
    }


def test_tags_nest_with_their_counts(open_window, indexed):
    window = open_window(indexed)
    build(window)
    tree = window.sidebar.tags
    assert [tree.topLevelItem(i).text(0) for i in range(tree.topLevelItemCount())] == ["People", "Places", "Travel"]
    assert shown(tree) == {"People": "1", "Places": "1", "Places|Beach": "2", "Places|City": "1",
                           "Travel": "", "Travel|Italy": "", "Travel|Italy|Rome": "1"}
    beach = tree.tag_item("Places|Beach")
    assert beach.parent() is tree.tag_item("Places") and beach.text(0) == "Beach"
    assert tree.tag_item("Travel|Italy").isExpanded()
    assert "no photos of its own" in tree.tag_item("Travel").toolTip(0)


def test_clicking_a_tag_filters_by_it_and_what_is_below_it(open_window, indexed, qtbot):
    window = open_window(indexed)
    build(window)
    tree = window.sidebar.tags
    window.bar.setText("blue")
    item = tree.tag_item("Places|Beach")
    qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=tree.visualItemRect(item).center())
    assert window.bar.text() == "blue tag:Places|Beach"
    assert sorted(names(window)) == ["blue0.jpg", "blue1.jpg"]
    item = tree.tag_item("Places")
    qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=tree.visualItemRect(item).center())
    assert window.bar.text() == "blue tag:Places"
    assert sorted(names(window)) == ["blue0.jpg", "blue1.jpg", "green0.jpg", "misc00.jpg"]


def focus(window, qtbot, widget) -> None:
    window.activateWindow()  # back from a question
    qtbot.waitUntil(window.isActiveWindow)
    widget.setFocus()
    qtbot.waitUntil(widget.hasFocus)


def rename_in_place(window, qtbot, path: str, text: str) -> None:
    tree = window.sidebar.tags
    focus(window, qtbot, tree)
    qtbot.waitUntil(tree.hasFocus)
    tree.setCurrentItem(tree.tag_item(path))
    qtbot.keyClick(tree, Qt.Key.Key_F2)
    editor = tree.findChild(QLineEdit, "tagRenameEditor")
    assert editor is not None and editor.text() == path.rpartition("|")[2]
    editor.selectAll()
    qtbot.keyClicks(editor, text)
    qtbot.keyClick(editor, Qt.Key.Key_Return)


def test_f2_renames_a_tag_in_place_and_the_tags_below_follow(open_window, indexed, qtbot):
    window = open_window(indexed)
    ids = build(window)
    rename_in_place(window, qtbot, "Travel", "Trips")
    qtbot.waitUntil(lambda: "Trips|Italy|Rome" in places(window))
    assert places(window)["Trips|Italy|Rome"] == ids["rome"]
    assert "Travel|Italy|Rome" not in places(window)
    tree = window.sidebar.tags
    assert tree.tag_item("Trips|Italy|Rome").text(1) == "1" and tree.tag_item("Travel") is None
    rename_in_place(window, qtbot, "Places|Beach", "Coast")
    qtbot.waitUntil(lambda: "Places|Coast" in places(window))
    assert places(window)["Places|Coast"] == sorted(ids["beach"])
    assert window.notice.text() == "Renamed “Places|Beach” to “Places|Coast”"


def test_renaming_onto_an_existing_tag_asks_and_merges(open_window, indexed, qtbot):
    window = open_window(indexed)
    ids = build(window)
    rename_in_place(window, qtbot, "Places|City", "Beach")
    text = answer(window, qtbot, "confirmMerge", QMessageBox.StandardButton.Cancel)
    assert "“Places|Beach” exists already" in text and "1 photo" in text
    assert places(window)["Places|City"] == ids["city"]  # nothing changed
    rename_in_place(window, qtbot, "Places|City", "Beach")
    answer(window, qtbot, "confirmMerge", QMessageBox.StandardButton.Yes)
    assert places(window)["Places|Beach"] == sorted(ids["beach"] + ids["city"])
    assert "Places|City" not in places(window)
    assert shown(window.sidebar.tags)["Places|Beach"] == "3"


def test_dragging_a_tag_nests_it_and_empty_space_is_the_top_level(open_window, indexed, qtbot):
    window = open_window(indexed)
    ids = build(window)
    tree = window.sidebar.tags
    dragged = tree.mimeData([tree.tag_item("People")])
    assert bytes(dragged.data(TAG_MIME)).decode() == "People"
    target = tree.visualItemRect(tree.tag_item("Travel|Italy")).center()
    assert drop(tree.viewport(), tag_mime("People"), target)
    qtbot.waitUntil(lambda: "Travel|Italy|People" in places(window))
    assert places(window)["Travel|Italy|People"] == ids["people"]
    assert tree.tag_item("Travel|Italy|People").parent() is tree.tag_item("Travel|Italy")
    # Onto itself or below itself: refused.
    assert not drop(tree.viewport(), tag_mime("Travel"), tree.visualItemRect(tree.tag_item("Travel|Italy")).center())
    # Onto empty space: the top level.
    empty = QPoint(10, tree.viewport().height() - 3)
    assert tree.itemAt(empty) is None
    assert drop(tree.viewport(), tag_mime("Places|City"), empty)
    qtbot.waitUntil(lambda: "City" in places(window))
    assert places(window)["City"] == ids["city"]
    assert tree.tag_item("City").parent() is None


def test_dragging_onto_a_tag_that_has_one_of_that_name_asks_and_merges(open_window, indexed, qtbot):
    window = open_window(indexed)
    ids = build(window)
    other = tag(window, "Beach", "yellow0.jpg")
    tree = window.sidebar.tags
    assert drop(tree.viewport(), tag_mime("Beach"), tree.visualItemRect(tree.tag_item("Places")).center())
    text = answer(window, qtbot, "confirmMerge", QMessageBox.StandardButton.Yes)
    assert "“Places|Beach” exists already" in text
    assert places(window)["Places|Beach"] == sorted(ids["beach"] + other)
    assert "Beach" not in places(window)


def test_delete_asks_with_what_goes_and_takes_the_tags_below_too(open_window, indexed, qtbot):
    window = open_window(indexed)
    ids = build(window)
    tree = window.sidebar.tags
    focus(window, qtbot, tree)
    tree.setCurrentItem(tree.tag_item("Places"))
    qtbot.keyClick(tree, Qt.Key.Key_Delete)
    text = answer(window, qtbot, "confirmDelete", QMessageBox.StandardButton.Cancel)
    assert "1 photo" in text and "Beach (2)" in text and "City (1)" in text
    assert "Places|Beach" in places(window)
    focus(window, qtbot, tree)
    qtbot.keyClick(tree, Qt.Key.Key_Delete)
    answer(window, qtbot, "confirmDelete", QMessageBox.StandardButton.Yes)
    assert sorted(places(window)) == ["People", "Travel|Italy|Rome"]
    assert tree.tag_item("Places") is None
    assert window.library.tags.of_photo(ids["beach"][0]) == []


def test_a_sidecar_that_cannot_be_written_is_said_in_the_status_bar(open_window, indexed, qtbot, photos_root):
    window = open_window(indexed)
    window.autotag.sidecars.setChecked(True)
    tag(window, "Places|Beach", "blue0.jpg", "blue1.jpg")
    sidecar = photos_root / "cold" / "blue0.jpg.xmp"
    assert sidecar.exists()
    os.chmod(sidecar, 0o444)
    try:
        rename_in_place(window, qtbot, "Places|Beach", "Coast")
        qtbot.waitUntil(lambda: "Places|Coast" in places(window))
        assert window.notice.text().startswith("Could not write the sidecar of blue0.jpg:")
        assert "read-only" in window.notice.text()
    finally:
        os.chmod(sidecar, 0o644)


def test_the_tree_waits_while_a_name_is_edited(open_window, indexed, qtbot):
    window = open_window(indexed)
    build(window)
    tree = window.sidebar.tags
    focus(window, qtbot, tree)
    tree.setCurrentItem(tree.tag_item("People"))
    qtbot.keyClick(tree, Qt.Key.Key_F2)
    editor = tree.findChild(QLineEdit, "tagRenameEditor")
    tag(window, "Pets", "misc05.jpg")  # the library changes meanwhile
    assert tree.findChild(QLineEdit, "tagRenameEditor") is editor and tree.tag_item("Pets") is None
    qtbot.keyClick(editor, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: tree.tag_item("Pets") is not None)
    assert tree.tag_item("People").text(1) == "1"


def test_clicking_a_tag_leaves_the_focus_on_it_so_f2_and_delete_reach_the_tag(open_window, indexed, qtbot):
    """The click puts ``tag:...`` in the search bar but not the cursor: the
    next F2 renames the tag clicked and Delete asks to delete it, and the
    query's text is left as it was (a saved search clicked likewise)."""
    window = open_window(indexed)
    build(window)
    window.library_ctl.save_search("Blues", "blue")
    tree = window.sidebar.tags
    focus(window, qtbot, tree)
    item = tree.tag_item("People")
    qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=tree.visualItemRect(item).center())
    assert window.bar.text() == "tag:People"
    assert not window.bar.hasFocus() and tree.hasFocus()
    qtbot.keyClick(tree, Qt.Key.Key_F2)
    editor = tree.findChild(QLineEdit, "tagRenameEditor")
    assert editor is not None and editor.isVisible() and editor.text() == "People"
    qtbot.keyClick(editor, Qt.Key.Key_Escape)
    qtbot.waitUntil(tree.hasFocus)
    qtbot.keyClick(tree, Qt.Key.Key_Delete)
    assert answer(window, qtbot, "confirmDelete", QMessageBox.StandardButton.Cancel).startswith("Delete the tag “People”")
    assert window.bar.text() == "tag:People" and "People" in places(window)

    folders = window.sidebar.tree
    focus(window, qtbot, folders)
    row = window.sidebar.items("saved")[0]
    qtbot.mouseClick(folders.viewport(), Qt.MouseButton.LeftButton, pos=folders.visualItemRect(row).center())
    qtbot.waitUntil(lambda: window.bar.text() == "blue")
    assert not window.bar.hasFocus()

"""Stars, flags and colour labels: Lightroom's keys on the grid and the viewer,
the badges the grid paints, the details panel, the menus."""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtGui import QColor, QImage
from uikit import names, select

from clipdesk.ui.grid.marks import LABEL_COLORS, PICK_COLOR, STAR_COLOR, picture_rect


def focus_grid(window, qtbot, name: str) -> int:
    window.grid.setFocus()
    qtbot.waitUntil(window.grid.hasFocus)
    return select(window, name)


def select_many(window, *photo_names: str) -> list[int]:
    sm = window.grid.selectionModel()
    sm.clearSelection()
    ids = []
    for name in photo_names:
        row = names(window).index(name)
        sm.select(window.model.index(row), QItemSelectionModel.SelectionFlag.Select)
        ids.append(window.model.photo_id(row))
    return ids


def marks_of(window, *ids):
    return window.library.marks.of(list(ids))


def cell_image(window, name: str) -> tuple[QImage, object]:
    """The grid as painted, and the rectangle of the picture of the photo called ``name``."""
    row = names(window).index(name)
    index = window.model.index(row)
    window.grid.scrollTo(index)
    image = window.grid.viewport().grab().toImage()
    rect = picture_rect(window.grid.visualRect(index), window.grid.delegate.size, window.model.photo(row))
    scale = image.devicePixelRatio()
    return image, (rect, scale)


def count_near(image: QImage, where, colour: QColor, tolerance: int = 40) -> int:
    """Pixels of about ``colour`` inside the rectangle (device pixels)."""
    rect, scale = where
    n = 0
    for y in range(int(rect.top() * scale), int((rect.bottom() + 1) * scale)):
        for x in range(int(rect.left() * scale), int((rect.right() + 1) * scale)):
            c = image.pixelColor(x, y)
            if abs(c.red() - colour.red()) + abs(c.green() - colour.green()) + abs(c.blue() - colour.blue()) < tolerance:
                n += 1
    return n


def test_number_keys_rate_the_selected_photo_and_the_grid_shows_its_stars(open_window, indexed, qtbot):
    window = open_window(indexed)
    focus_grid(window, qtbot, "misc03.jpg")
    pid = window.model.photo_id(names(window).index("misc03.jpg"))
    image, where = cell_image(window, "misc03.jpg")
    assert count_near(image, where, STAR_COLOR) == 0
    qtbot.keyClick(window.grid, Qt.Key.Key_3)
    assert marks_of(window, pid) == {pid: (3, None, None)}
    qtbot.waitUntil(lambda: window.marks.get(pid) == (3, None, None))
    image, where = cell_image(window, "misc03.jpg")
    stars = count_near(image, where, STAR_COLOR)
    assert stars > 20
    qtbot.keyClick(window.grid, Qt.Key.Key_5)
    qtbot.waitUntil(lambda: window.marks.get(pid) == (5, None, None))
    image, where = cell_image(window, "misc03.jpg")
    assert count_near(image, where, STAR_COLOR) > stars * 1.4  # five stars, not three
    qtbot.keyClick(window.grid, Qt.Key.Key_0)
    assert marks_of(window, pid)[pid] == (0, None, None)
    qtbot.waitUntil(lambda: window.marks.get(pid) == (0, None, None))
    image, where = cell_image(window, "misc03.jpg")
    assert count_near(image, where, STAR_COLOR) == 0


def test_flag_and_label_keys_work_on_a_multi_selection(open_window, indexed, qtbot):
    window = open_window(indexed)
    focus_grid(window, qtbot, "misc01.jpg")
    ids = select_many(window, "misc01.jpg", "misc02.jpg", "misc07.jpg")
    qtbot.keyClick(window.grid, Qt.Key.Key_P)
    assert {m[1] for m in marks_of(window, *ids).values()} == {"pick"}
    qtbot.keyClick(window.grid, Qt.Key.Key_8)
    assert set(marks_of(window, *ids).values()) == {(0, "pick", "green")}
    qtbot.keyClick(window.grid, Qt.Key.Key_X)
    assert set(marks_of(window, *ids).values()) == {(0, "reject", "green")}
    qtbot.keyClick(window.grid, Qt.Key.Key_U)
    assert set(marks_of(window, *ids).values()) == {(0, None, "green")}
    qtbot.keyClick(window.grid, Qt.Key.Key_8)  # the label every one of them has: taken off (Lightroom)
    assert set(marks_of(window, *ids).values()) == {(0, None, None)}
    qtbot.keyClick(window.grid, Qt.Key.Key_6)
    qtbot.keyClick(window.grid, Qt.Key.Key_9)  # another colour replaces it
    assert set(marks_of(window, *ids).values()) == {(0, None, "blue")}
    others = [i for i in (window.model.photo_id(r) for r in range(window.model.rowCount())) if i not in ids]
    assert set(marks_of(window, *others).values()) == {(0, None, None)}


def test_badges_show_flags_and_labels(open_window, indexed, qtbot):
    window = open_window(indexed)
    focus_grid(window, qtbot, "misc04.jpg")
    pid = window.model.photo_id(names(window).index("misc04.jpg"))
    qtbot.keyClick(window.grid, Qt.Key.Key_P)
    qtbot.keyClick(window.grid, Qt.Key.Key_6)
    qtbot.waitUntil(lambda: window.marks.get(pid) == (0, "pick", "red"))
    image, where = cell_image(window, "misc04.jpg")
    assert count_near(image, where, PICK_COLOR, 30) > 20
    assert count_near(image, where, LABEL_COLORS["red"], 30) > 10
    assert count_near(image, where, STAR_COLOR) == 0


def test_keys_typed_in_the_search_bar_stay_text(open_window, indexed, qtbot):
    window = open_window(indexed)
    select(window, "misc05.jpg")
    pid = window.model.photo_id(names(window).index("misc05.jpg"))
    window.search.focus()
    qtbot.waitUntil(window.bar.hasFocus)
    qtbot.keyClicks(window.bar, "p3")
    assert window.bar.text() == "p3"
    assert marks_of(window, pid)[pid] == (0, None, None)


def test_the_details_panel_shows_the_marks_and_sets_them(open_window, indexed, qtbot):
    window = open_window(indexed)
    focus_grid(window, qtbot, "misc01.jpg")
    ids = select_many(window, "misc01.jpg", "misc02.jpg")
    qtbot.keyClick(window.grid, Qt.Key.Key_4)
    qtbot.keyClick(window.grid, Qt.Key.Key_7)
    line = window.details.marks
    qtbot.waitUntil(lambda: sorted(line.ids) == sorted(ids))
    assert [b.isChecked() for b in line.stars] == [True] * 4 + [False]
    assert line.labels["yellow"].isChecked() and not line.pick.isChecked()
    assert line.note.text() == ""
    # One of them differs: the panel says so and shows no common rating.
    window.mark_actions.rate([ids[0]], 2)
    assert line.rating is None and "rating" in line.note.text()
    # A click on a star rates every shown photo; on the flag, flags them.
    qtbot.mouseClick(line.stars[4], Qt.MouseButton.LeftButton)
    assert set(marks_of(window, *ids).values()) == {(5, None, "yellow")}
    assert line.rating == 5 and line.note.text() == ""
    qtbot.mouseClick(line.reject, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(line.labels["purple"], Qt.MouseButton.LeftButton)
    assert set(marks_of(window, *ids).values()) == {(5, "reject", "purple")}
    assert line.reject.isChecked() and line.labels["purple"].isChecked()
    qtbot.mouseClick(line.stars[4], Qt.MouseButton.LeftButton)  # the rating shown: cleared
    assert set(marks_of(window, *ids).values()) == {(0, "reject", "purple")}


def test_photo_menu_and_context_menu_offer_the_same_actions(open_window, indexed, qtbot):
    window = open_window(indexed)
    row = select(window, "misc06.jpg")
    pid = window.model.photo_id(row)
    titles = [a.text() for a in window.photo_menu.actions()]
    assert titles[:3] == ["Set &rating", "Set &flag", "Set colour &label"]  # then the file actions (issue 19)
    label_menu = window.photo_menu.actions()[2].menu()
    purple = next(a for a in label_menu.actions() if a.text() == "&Purple")
    assert purple.shortcut().isEmpty()  # Lightroom has no key for it either
    purple.trigger()
    assert marks_of(window, pid)[pid] == (0, None, "purple")
    context = window.photo_actions.menu([window.model.photo(row)])
    rating_menu = next(a.menu() for a in context.actions() if a.text() == "Set &rating")
    three = next(a for a in rating_menu.actions() if a.text() == "★★★")
    assert three.shortcut().toString() == "3"
    three.trigger()
    assert marks_of(window, pid)[pid] == (3, None, "purple")


def test_keys_in_the_viewer_mark_the_photo_it_shows(open_window, indexed, qtbot):
    window = open_window(indexed)
    row = focus_grid(window, qtbot, "red2.jpg")
    pid = window.model.photo_id(row)
    window.grid.previewRequested.emit(row)
    viewer = window.previews.window
    qtbot.waitUntil(lambda: viewer.isVisible() and viewer.isActiveWindow())
    viewer.setFocus()
    qtbot.keyClick(viewer, Qt.Key.Key_2)
    qtbot.keyClick(viewer, Qt.Key.Key_X)
    assert marks_of(window, pid)[pid] == (2, "reject", None)
    qtbot.keyClick(viewer, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: marks_of(window, pid)[pid] == (2, None, None))


def test_one_read_of_the_catalog_per_paint_not_per_cell(open_window, indexed, qtbot):
    window = open_window(indexed)
    qtbot.waitUntil(lambda: all(window.marks.get(window.model.photo_id(r)) is not None
                                for r in window.grid.visible_rows()))
    before = window.marks.reads
    shown = len(window.grid.visible_rows())
    assert shown > 5
    window.grid.viewport().repaint()
    assert window.marks.reads == before  # all known: nothing read again
    window.mark_actions.rate([window.model.photo_id(r) for r in window.grid.visible_rows()], 1)
    assert window.marks.reads == before + 1  # the changed photos, in one read


def test_status_messages_say_what_was_marked_and_undo_names_it_alike(open_window, indexed, qtbot):
    """Past tense, counts by the one helper: "Labelled 1 photo red", and the
    Edit menu's "Undo label 1 photo red" for the same edit."""
    window = open_window(indexed)
    focus_grid(window, qtbot, "misc03.jpg")
    said = []
    for key in (Qt.Key.Key_6, Qt.Key.Key_1, Qt.Key.Key_0, Qt.Key.Key_X, Qt.Key.Key_U, Qt.Key.Key_6):
        qtbot.keyClick(window.grid, key)
        said.append((window.notice.text(), window.undo_action.text()))
    assert said == [
        ("Labelled 1 photo red", "&Undo label 1 photo red"),
        ("Rated 1 photo 1 star", "&Undo rate 1 photo 1 star"),
        ("Cleared the rating of 1 photo", "&Undo clear the rating of 1 photo"),
        ("Marked 1 photo as a reject", "&Undo mark 1 photo as a reject"),
        ("Unflagged 1 photo", "&Undo unflag 1 photo"),
        ("Cleared the label of 1 photo", "&Undo clear the label of 1 photo"),
    ]
    select_many(window, "red0.jpg", "red1.jpg", "red2.jpg")
    qtbot.keyClick(window.grid, Qt.Key.Key_4)
    assert window.notice.text() == "Rated 3 photos 4 stars"
    select_many(window, "red0.jpg", "red1.jpg")
    qtbot.keyClick(window.grid, Qt.Key.Key_P)
    assert (window.notice.text(), window.undo_action.text()) == ("Marked 2 photos as picks",
                                                                  "&Undo mark 2 photos as picks")
    qtbot.waitUntil(lambda: len(window.details.marks.ids) == 2, timeout=5000)  # the details follow the selection
    qtbot.mouseClick(window.details.marks.labels["green"], Qt.MouseButton.LeftButton)
    assert window.notice.text() == "Labelled 2 photos green"

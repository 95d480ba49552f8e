"""The search panel in the window: results as you type, chips, errors, drops on the bar."""

from __future__ import annotations

from datetime import date

import pytest
from colourkit import colour_photo
from PySide6.QtCore import Qt
from uikit import drop, file_mime, ids_mime, names

from clipdesk.core.changes import Changes
from clipdesk.ui.settings import Settings


def test_empty_query_lists_every_photo(open_window, indexed):
    window = open_window(indexed)
    assert window.grid_ctl.answer.kind == "list"
    assert window.model.rowCount() == 60
    assert window.search.count_label.text().startswith("60 photos")


def test_typing_a_query_shows_the_matching_photos_first(open_window, indexed, qtbot):
    window = open_window(indexed)
    seen = []
    window.resultsShown.connect(lambda a: seen.append(a.text))
    qtbot.keyClicks(window.bar, "red")
    assert window.grid_ctl.answer.text == "red"
    assert sorted(names(window)[:5]) == [f"red{i}.jpg" for i in range(5)]
    assert not any(n.startswith(("blue", "green")) for n in names(window))
    assert seen[-1] == "red"  # every keystroke searched; none answered after "red"
    assert window.search.count_label.text().startswith(f"{window.model.rowCount()} results")


def test_a_query_that_does_not_parse_says_why_and_keeps_the_results(open_window, indexed, qtbot):
    window = open_window(indexed)
    window.bar.setText("red")
    before = names(window)
    window.bar.setText("red after:someday")
    assert not window.message.isVisible()  # not while typing
    qtbot.waitUntil(window.message.isVisible, timeout=5000)  # once typing pauses
    assert "after" in window.message.text() and "character" not in window.message.text()
    assert names(window) == before
    assert "for “red”" in window.search.count_label.text()  # the results on screen are the last search's


def test_typing_at_human_speed_keeps_the_text_and_the_caret_as_typed(open_window, indexed, qtbot):
    """Issue 16: typing tag:family at normal speed ended up as "amilyftag:":
    each half-typed filter was an error, and the error moved the caret."""
    window = open_window(indexed)
    for text in ("tag:family", "dress after:2024"):
        window.bar.clear()
        qtbot.keyClicks(window.bar, text, delay=20)
        assert window.bar.text() == text
        assert window.bar.cursorPosition() == len(text)


def test_chips_edit_the_query_text(open_window, indexed, photos_root):
    window = open_window(indexed)
    window.bar.setText("blue")
    window.chips._set("folder", str(photos_root / "cold"))
    assert window.bar.text() == f"blue folder:{photos_root / 'cold'}"
    assert window.chips.chips["folder"].text() == "Folder: cold"
    assert window.grid_ctl.answer.text.startswith("blue folder:")
    assert names(window) and all(n.startswith(("blue", "green")) for n in names(window))
    window.chips._set("type", "png")
    assert window.bar.text().endswith("type:png")
    assert window.grid_ctl.answer.text.endswith("type:png")
    assert window.model.rowCount() == 0
    assert window.grid.empty.isVisible() and "Nothing matches" in window.grid.empty.text()
    window.chips._set("type", None)
    window.chips._set("folder", None)
    assert window.bar.text() == "blue"


def test_date_chip_writes_a_half_open_range(open_window, indexed):
    window = open_window(indexed)
    window.bar.setText("red")
    window.chips._dates(date(2023, 1, 1), date(2024, 1, 1))
    assert window.bar.text() == "red after:2023-01-01 before:2024-01-01"
    assert window.chips.chips["date"].text() == "Date: 2023"


@pytest.mark.parametrize(("typed", "shown"), [
    ("after:2024", "Date: from 2024"),
    ("before:2023-07", "Date: before 2023-07"),
    ("date:2024-03", "Date: 2024-03"),
    ("after:2023-07 before:2024", "Date: 2023-07 – 2023-12"),
    ("after:2024-03-02 before:2024-03-10", "Date: 2024-03-02 – 2024-03-09"),
    ("date:2024-03-02", "Date: 2024-03-02"),
])
def test_the_date_chip_says_the_period_typed_whole(open_window, indexed, qtbot, typed, shown):
    """No ellipsis for an open end: "Date: 2024-01-01 – …" read as a chip cut short."""
    window = open_window(indexed)
    window.bar.setFocus()
    qtbot.keyClicks(window.bar, typed)
    qtbot.waitUntil(lambda: window.chips.chips["date"].text() == shown, timeout=5000)


def test_dropping_an_image_on_the_bar_finds_similar_photos(open_window, indexed, tmp_path):
    window = open_window(indexed)
    outside = tmp_path / "elsewhere" / "query.jpg"
    colour_photo(outside, "yellow", noise=10)
    assert drop(window.bar, file_mime(outside))
    assert window.grid_ctl.answer.kind == "similar"
    assert names(window)[0].startswith("yellow")
    assert window.bar.text() == f"similar:{outside}"


def test_dropping_a_photo_from_the_grid_on_the_bar_finds_similar_photos(open_window, indexed):
    window = open_window(indexed)
    green = next(h.photo for h in window.model.hits() if h.photo.name == "green2.jpg")
    assert drop(window.bar, ids_mime(green.id))
    assert window.grid_ctl.answer.kind == "similar"
    assert set(names(window)[:4]) == {f"green{i}.jpg" for i in (0, 1, 3, 4)}
    assert "green2.jpg" not in names(window)
    assert window.grid_ctl.answer.text == "photos like green2.jpg"


def test_esc_clears_the_search(open_window, indexed, qtbot):
    window = open_window(indexed)
    qtbot.keyClicks(window.bar, "red")
    assert window.grid_ctl.answer.text == "red"
    qtbot.keyClick(window.bar, Qt.Key.Key_Escape)
    assert window.bar.text() == ""
    assert window.grid_ctl.answer.kind == "list" and window.model.rowCount() == 60


def test_the_last_search_is_shown_again_at_start_when_asked(open_window, indexed, qtbot, settings):
    window = open_window(indexed)
    assert not window.search.restore_action.isChecked()  # off until asked for
    view = next(a.menu() for a in window.menuBar().actions() if a.text() == "&View")
    assert window.search.restore_action in view.actions()
    window.search.restore_action.trigger()
    qtbot.keyClicks(window.bar, "blue")
    window.close()
    window.library.close()
    saved = Settings.load(settings.path)
    assert saved.restore_search and saved.last_search == "blue"
    again = open_window(indexed)
    assert again.bar.text() == "blue" and again.grid_ctl.answer.text == "blue"
    again.search.restore_action.trigger()
    again.close()
    again.library.close()
    third = open_window(indexed)
    assert third.bar.text() == "" and third.grid_ctl.answer.kind == "list"


def test_drops_are_judged_by_the_one_photo_predicate(open_window, indexed, tmp_path, qtbot):
    """Issue 14: dropped files were judged by an extension list of their own."""
    window = open_window(indexed)
    folder = tmp_path / "downloads"
    colour_photo(folder / "photo.jpg", "green", noise=10)
    leftovers = [folder / "._photo.jpg", folder / "photo.jpg~", folder / "DSC_0001.NEF"]
    for p in leftovers:
        p.write_bytes((folder / "photo.jpg").read_bytes())
    for p in leftovers:  # the bar refuses them; the window under it finds no photo in them
        drop(window.bar, file_mime(p))
        assert window.grid_ctl.answer.kind == "list" and window.bar.text() == "", p.name
    nameless = folder / "scan"  # a photo whose name says nothing: its content does
    nameless.write_bytes((folder / "photo.jpg").read_bytes())
    assert drop(window.bar, file_mime(nameless))
    assert window.grid_ctl.answer.kind == "similar" and names(window)[0].startswith("green")
    window.bar.clear()
    notes = folder / "notes"
    notes.write_text("not a photo")
    drop(window, file_mime(notes))
    assert window.grid_ctl.answer.kind == "list" and window.bar.text() == ""


def test_a_refresh_of_the_last_search_keeps_the_problem_of_the_query_on_screen(open_window, indexed, qtbot):
    """The library changing (indexing announces its progress every few seconds)
    ran the last good search again and wiped the problem of the query in the bar."""
    window = open_window(indexed)
    qtbot.keyClicks(window.bar, "red after:someday")
    qtbot.waitUntil(window.message.isVisible, timeout=5000)
    window.hub.announce(Changes(catalog=True))  # photos arrived: the last good search runs again
    assert window.grid_ctl.answer.text == "red after"
    assert window.message.isVisible() and "after" in window.message.text()
    assert "for “red after”" in window.search.count_label.text()


def type_watching(window, qtbot, text: str) -> list[tuple[str, str]]:
    """Type ``text`` one key at a time at a person's pace (the event loop runs
    between keys); (the bar's text, the message under it) after each key."""
    seen = []
    for key in text:
        qtbot.keyClicks(window.bar, key)
        qtbot.wait(40)
        seen.append((window.bar.text(), window.message.text() if window.message.isVisible() else ""))
    return seen


@pytest.mark.parametrize("typed", ["red after:2024", "red tag:bea", "red rating:>=3"])
def test_a_token_still_being_typed_is_no_word_of_the_notice(open_window, demo, qtbot, typed):
    """On the demo model "red a", "red af", "red after" are words it does not
    know: while they are the token being typed (a filter half typed) the
    notice does not speak of them; once typing pauses it speaks of what the
    finished query asks."""
    paths, _truth = demo
    window = open_window(paths)
    window.bar.setFocus()
    seen = type_watching(window, qtbot, typed)
    assert window.bar.text() == typed
    said = [(text, message) for text, message in seen if "does not seem to know" in message]
    assert said == [], said
    qtbot.wait(900)  # typing pauses
    assert "does not seem to know" not in window.message.text()
    assert window.grid_ctl.answer.text == typed  # the finished query was searched, and judged


def test_a_notice_about_unknown_words_waits_for_typing_to_pause(open_window, demo, qtbot):
    """Deferred, not dropped: words the model does not know are said once the
    user stops typing them, and at once when a space ends them."""
    paths, _truth = demo
    window = open_window(paths)
    window.bar.setFocus()
    seen = type_watching(window, qtbot, "red bike")
    assert not any("does not seem to know" in m for _t, m in seen)
    qtbot.waitUntil(lambda: "“red bike”" in window.message.text() and window.message.isVisible(), timeout=3000)
    qtbot.keyClicks(window.bar, " ")
    qtbot.wait(40)
    assert "“red bike”" in window.message.text() and window.message.isVisible()
    qtbot.wait(900)
    window.search_ctl.refresh()  # the library changed: the same search again, the same notice, no blink
    assert "“red bike”" in window.message.text() and window.message.isVisible()

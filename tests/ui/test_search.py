"""Typing searches in the window: results as you type, stale answers dropped, chips, drops."""

from __future__ import annotations

import threading
import time

from PySide6.QtCore import Qt
from uikit import drop, file_mime, ids_mime, names

from clipdesk.core.library import Library
from clipdesk.core.search import SearchService


def test_search_bar_has_focus_and_shortcuts_return_to_it(open_window, indexed, qtbot):
    window = open_window(indexed)
    qtbot.waitUntil(window.bar.hasFocus)
    window.grid.setFocus()
    qtbot.waitUntil(window.grid.hasFocus)
    qtbot.keyClick(window.grid, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(window.bar.hasFocus)


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
    qtbot.waitUntil(lambda: window.grid_ctl.answer.text == "red", timeout=10000)
    assert sorted(names(window)[:5]) == [f"red{i}.jpg" for i in range(5)]
    assert not any(n.startswith(("blue", "green")) for n in names(window))
    # Every keystroke searched; "r" and "re" may have been overtaken, never shown after "red".
    assert seen[-1] == "red"
    assert window.search.count_label.text().startswith(f"{window.model.rowCount()} results")


class SlowSearch(SearchService):
    """A search service whose search for "slow" takes a real second."""

    def __init__(self, *args):
        super().__init__(*args)
        self.slow_started = threading.Event()
        self.slow_finished = threading.Event()

    def query(self, query, **kwargs):
        if "slow" in str(query):
            self.slow_started.set()
            time.sleep(1.0)
            result = super().query("red", **kwargs)  # a real answer, with hits
            self.slow_finished.set()
            return result
        return super().query(query, **kwargs)


class SlowLibrary(Library):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.search = SlowSearch(self.catalog, self.models)
        self.slow_started = self.search.slow_started
        self.slow_finished = self.search.slow_finished


def test_a_slow_query_is_overtaken_and_never_shown(open_window, indexed, qtbot):
    library = SlowLibrary(indexed)
    window = open_window(indexed, library=library, threads=True)
    shown, resets = [], []
    window.resultsShown.connect(lambda a: shown.append(a.text))
    window.model.modelReset.connect(lambda: resets.append(names(window)))
    window.bar.setText("slow")
    qtbot.waitUntil(library.slow_started.is_set, timeout=5000)
    window.bar.setText("blue")  # typed while the slow search runs
    qtbot.waitUntil(lambda: window.grid_ctl.answer.text == "blue", timeout=10000)
    qtbot.waitUntil(library.slow_finished.is_set, timeout=5000)
    qtbot.wait(100)  # let the slow result reach the GUI thread, where it must be dropped
    assert "slow" not in shown
    assert window.grid_ctl.answer.text == "blue"
    assert sorted(names(window)[:6]) == sorted([f"blue{i}.jpg" for i in range(5)] + names(window)[5:6])
    assert all(n.startswith("blue") for n in names(window)[:5])
    assert not any(r and r[0].startswith("red") for r in resets)


def test_a_query_that_does_not_parse_says_why_and_keeps_the_results(open_window, indexed, qtbot):
    window = open_window(indexed)
    window.bar.setText("red")
    qtbot.waitUntil(lambda: window.grid_ctl.answer.text == "red", timeout=10000)
    before = names(window)
    window.bar.setText("red after:someday")
    qtbot.waitUntil(window.message.isVisible, timeout=5000)
    assert "after" in window.message.text()
    assert names(window) == before


def test_chips_edit_the_query_text(open_window, indexed, qtbot, photos_root):
    window = open_window(indexed)
    window.bar.setText("blue")
    qtbot.waitUntil(lambda: window.grid_ctl.answer.text == "blue", timeout=10000)
    window.chips._set("folder", str(photos_root / "cold"))
    assert window.bar.text() == f"blue folder:{photos_root / 'cold'}"
    assert window.chips.chips["folder"].text() == "Folder: cold"
    qtbot.waitUntil(lambda: window.grid_ctl.answer.text.startswith("blue folder:"), timeout=10000)
    assert names(window) and all(n.startswith(("blue", "green")) for n in names(window))
    window.chips._set("type", "png")
    assert window.bar.text().endswith("type:png")
    qtbot.waitUntil(lambda: window.grid_ctl.answer.text.endswith("type:png"), timeout=10000)
    assert window.model.rowCount() == 0
    assert window.grid.empty.isVisible() and "Nothing matches" in window.grid.empty.text()
    window.chips._set("type", None)
    window.chips._set("folder", None)
    assert window.bar.text() == "blue"


def test_date_chip_writes_a_half_open_range(open_window, indexed):
    from datetime import date

    window = open_window(indexed)
    window.bar.setText("red")
    window.chips._dates(date(2023, 1, 1), date(2024, 1, 1))
    assert window.bar.text() == "red after:2023-01-01 before:2024-01-01"
    assert window.chips.chips["date"].text() == "Date: 2023-01-01 – 2023-12-31"


def test_dropping_an_image_on_the_bar_finds_similar_photos(open_window, indexed, qtbot, tmp_path):
    from colourkit import colour_photo

    window = open_window(indexed)
    outside = tmp_path / "elsewhere" / "query.jpg"
    colour_photo(outside, "yellow", noise=10)
    assert drop(window.bar, file_mime(outside))
    qtbot.waitUntil(lambda: window.grid_ctl.answer.kind == "similar", timeout=10000)
    assert names(window)[0].startswith("yellow")
    assert window.bar.text() == f"similar:{outside}"


def test_dropping_a_photo_from_the_grid_on_the_bar_finds_similar_photos(open_window, indexed, qtbot):
    window = open_window(indexed)
    green = next(h.photo for h in window.model.hits() if h.photo.name == "green2.jpg")
    assert drop(window.bar, ids_mime(green.id))
    qtbot.waitUntil(lambda: window.grid_ctl.answer.kind == "similar", timeout=10000)
    assert set(names(window)[:4]) == {f"green{i}.jpg" for i in (0, 1, 3, 4)}
    assert "green2.jpg" not in names(window)


def test_a_saved_search_stays_live_as_photos_arrive(open_window, indexed, qtbot, photos_root):
    from colourkit import colour_photo
    from support import age

    window = open_window(indexed)
    window.library_ctl.save_search("Reds", "red")
    qtbot.waitUntil(lambda: [i.text(0) for i in window.sidebar.items("saved")] == ["Reds"], timeout=5000)
    item = window.sidebar.items("saved")[0]
    window.sidebar._clicked(item)
    assert window.bar.text() == "red"
    qtbot.waitUntil(lambda: window.grid_ctl.answer.text == "red", timeout=10000)
    reds = [n for n in names(window) if n.startswith("red")]
    assert len(reds) == 5
    for i in range(5, 8):
        colour_photo(photos_root / "warm" / f"red{i}.jpg", "red", noise=25, seed=i)
        age(photos_root / "warm" / f"red{i}.jpg")
    with qtbot.waitSignal(window.index.finished, timeout=20000):
        window.index.start()
    qtbot.waitUntil(lambda: len([n for n in names(window) if n.startswith("red")]) == 8, timeout=10000)
    # The count beside the saved search follows too.
    qtbot.waitUntil(lambda: int(window.sidebar.items("saved")[0].text(1) or 0) >= 8, timeout=10000)

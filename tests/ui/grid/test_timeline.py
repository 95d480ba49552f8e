"""Sort and timeline (issue 19): a sort control remembered per view; sorted by
date, the grid is grouped by month under headers and a scrubber jumps
through the years."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt
from uikit import names

from clipdesk.ui.grid.view import month_label


def _choose(window, label: str) -> None:
    combo = window.grid_area.sort_combo
    index = combo.findText(label)
    assert index >= 0 and combo.model().item(index).isEnabled(), label
    combo.setCurrentIndex(index)
    combo.activated.emit(index)


def _row_names(window) -> list[str]:
    return [window.model.photo(r).name for r in range(window.model.rowCount())]


def test_sorted_by_date_the_grid_is_grouped_by_month_with_headers(open_window, dated):
    window = open_window(dated)
    grid = window.grid
    window.grid_ctl.set_thumb_size(64)  # August's four photos on one line
    assert window.grid_area.sort_combo.currentData() == "newest"
    assert grid.grouped
    assert [(s.key, s.count) for s in grid.sections()] == [("2023-08", 4), ("2023-01", 1), ("2022-06", 3),
                                                          ("2021-12", 2)]
    assert _row_names(window)[:5] == ["aug23_d.jpg", "aug23_c.jpg", "aug23_b.jpg", "aug23_a.jpg", "jan23_a.jpg"]
    assert month_label("2023-08").endswith("2023") and month_label(None) == "No date yet"
    # A month starts a new line under its header: January 2023's one photo sits below August's row.
    header = grid.header_height()
    first_aug, jan = grid.visualRect(window.model.index(0)), grid.visualRect(window.model.index(4))
    assert header > 0 and first_aug.top() >= header and jan.left() == first_aug.left()
    assert jan.top() >= first_aug.bottom() + header
    assert not grid.indexAt(QPoint(first_aug.center().x(), 2)).isValid()  # a header is not a photo
    assert grid.indexAt(first_aug.center()).row() == 0
    # The arrow keys cross the months: Down from the last line of August goes to January.
    grid.setFocus()
    grid.setCurrentIndex(window.model.index(1))
    qtbot_key(grid, Qt.Key.Key_Down)
    assert grid.current_row() == 4
    qtbot_key(grid, Qt.Key.Key_Up)
    assert grid.current_row() == 0  # the same column (the first) of August's line


def qtbot_key(widget, key) -> None:
    from PySide6.QtTest import QTest

    QTest.keyClick(widget, key)


def test_the_scrubber_jumps_through_the_years(open_window, dated, qtbot):
    window = open_window(dated)
    window.settings.thumb_size = 320  # big cells: the library is taller than the window
    window.resize(700, 500)
    scrubber, grid = window.grid_area.scrubber, window.grid
    assert scrubber.isVisible() and [y for y, _si in scrubber.years()] == [2023, 2022, 2021]
    si = scrubber.jump_to_year(2021)
    assert grid.sections()[si].key == "2021-12"
    shown = [window.model.photo(r).name for r in grid.visible_rows()]
    assert any(n.startswith("dec21") for n in shown) and not any(n.startswith("aug23") for n in shown)
    qtbot.mouseClick(scrubber, Qt.MouseButton.LeftButton, pos=QPoint(10, 1))
    assert grid.verticalScrollBar().value() == 0
    # Dragging down the strip passes every month in order.
    seen = []
    for y in range(0, scrubber.height(), 4):
        seen.append(scrubber.jump_to(y))
    assert [grid.sections()[i].key for i in dict.fromkeys(seen)] == ["2023-08", "2023-01", "2022-06", "2021-12"]


def test_the_sort_control_sorts_each_view_and_remembers_it(open_window, dated, settings):
    window = open_window(dated)
    _choose(window, "Name")
    assert settings.sort_browse == "name" and not window.grid.grouped
    assert not window.grid_area.scrubber.isVisible()
    assert _row_names(window) == sorted(_row_names(window))
    window.bar.setText("red")  # a typed search has its own sort: relevance by default
    assert window.grid_ctl.answer.kind == "text"
    assert window.grid_area.sort_combo.currentData() == "relevance"
    _choose(window, "Date taken, oldest first")
    assert settings.sort_search == "oldest" and window.grid.grouped
    taken = [window.model.photo(r).taken_at for r in range(window.model.rowCount())]
    assert taken == sorted(taken)
    window.bar.setText("")
    assert window.grid_area.sort_combo.currentData() == "name"  # the library's own, remembered
    relevance = window.grid_area.sort_combo.findData("relevance")
    assert not window.grid_area.sort_combo.model().item(relevance).isEnabled()
    window.bar.setText("camera:canon sort:newest")  # typed, it wins and the control says so
    assert window.grid_area.sort_combo.currentData() == "newest"
    assert not window.grid_area.sort_combo.isEnabled()
    window.shutdown()
    assert '"sort_browse": "name"' in settings.path.read_text()


def test_photos_leaving_a_month_leave_its_count(open_window, dated):
    window = open_window(dated)
    jan = next(h.photo for h in window.model.hits() if h.photo.name == "jan23_a.jpg")
    window.photo_actions.remove([jan], confirm=False)
    assert "jan23_a.jpg" not in names(window)
    assert [s.key for s in window.grid.sections()] == ["2023-08", "2022-06", "2021-12"]


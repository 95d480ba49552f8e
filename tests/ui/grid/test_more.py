"""Results a user can trust: "Show more" widens the relevance cut step by step,
scores on demand, and a query the model does not know is not dressed up as results."""

from __future__ import annotations

from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QColor, QImage


def _light_on_dark(image: QImage, rect: QRect) -> bool:
    light = [QColor(image.pixel(x, y)).lightness()
             for x in range(rect.left(), rect.right()) for y in range(rect.top(), rect.bottom())]
    return min(light) < 90 and max(light) > 200


def _red_dresses(truth) -> set[str]:
    return {name for name, r in truth.items()
            if any(i["colour"] == "red" and i["item"] == "dress" for i in r["items"])}


def test_show_more_widens_the_cut_step_by_step(open_window, demo, qtbot):
    """Issue 16: "red dress" showed 1 of the 4 red-dress scenes, with no way to more."""
    paths, truth = demo
    window = open_window(paths)
    qtbot.keyClicks(window.bar, "red dress", delay=10)
    answer = window.grid_ctl.answer
    assert answer.text == "red dress" and answer.result.widen == 0
    shown = [h.photo.name for h in window.model.hits()]
    bar = window.more_bar
    assert bar.isVisible() and bar.more.isVisible() and bar.more.text() == "Show more"
    assert "stand out" in bar.label.text()
    wanted = _red_dresses(truth)
    presses = 0
    while not wanted <= set(shown):
        assert bar.more.isVisible(), f"all of {sorted(wanted)} never shown: {shown}"
        qtbot.mouseClick(bar.more, Qt.MouseButton.LeftButton)
        presses += 1
        now = [h.photo.name for h in window.model.hits()]
        assert len(now) > len(shown) and now[: len(shown)] == shown  # more, and the first ones stay first
        assert window.grid_ctl.answer.result.widen == presses
        shown = now
    assert presses <= 3
    assert "past the ones that stand out" in bar.label.text()
    window.bar.clear()
    qtbot.keyClicks(window.bar, "red dress")
    assert window.grid_ctl.answer.result.widen == 0  # a new query starts at the cut again


def test_scores_show_on_the_thumbnails_on_demand(open_window, indexed, qtbot):
    window = open_window(indexed)
    qtbot.keyClicks(window.bar, "red")
    bar = window.more_bar
    assert bar.isVisible() and not bar.scores.isChecked()
    cell = window.grid.visualRect(window.model.index(0))
    corner = QRect(cell.right() - 30, cell.top() + 8, 20, 12)
    assert not _light_on_dark(window.grid.viewport().grab().toImage(), corner)
    qtbot.mouseClick(bar.scores, Qt.MouseButton.LeftButton)
    assert window.settings.show_scores and window.grid.delegate.show_scores
    window.grid.viewport().repaint()
    assert _light_on_dark(window.grid.viewport().grab().toImage(), corner)  # the badge and its score
    qtbot.mouseClick(bar.scores, Qt.MouseButton.LeftButton)
    assert not window.grid.delegate.show_scores


def test_a_query_the_model_does_not_know_is_said_so_and_not_shown_as_results(open_window, demo, qtbot):
    """Issue 16: "dog on a beach" on the demo model returned 97 confident results."""
    paths, _truth = demo
    window = open_window(paths)
    qtbot.keyClicks(window.bar, "mountain lake at sunset", delay=10)
    answer = window.grid_ctl.answer
    assert answer.result.unknown and answer.withheld > 0
    assert window.model.rowCount() == 0
    qtbot.waitUntil(window.message.isVisible, timeout=5000)
    assert "does not seem to know" in window.message.text() and "closest" not in window.message.text()
    assert window.search.count_label.text().startswith("no match")
    bar = window.more_bar
    assert bar.more.text() == f"Show the {answer.withheld} closest matches"
    qtbot.mouseClick(bar.more, Qt.MouseButton.LeftButton)
    assert window.model.rowCount() == answer.withheld
    assert window.search.count_label.text().startswith(f"{answer.withheld} closest matches")
    assert bar.label.text() == "Nothing stands out: these are the closest matches."
    # The issue's own example: the people guard (issue 21) leaves no closest match
    # for "dog" on photos it cannot tell are not of people; said the same way.
    window.bar.clear()
    qtbot.keyClicks(window.bar, "dog on a beach", delay=10)
    assert window.grid_ctl.answer.result.unknown and window.model.rowCount() == 0
    qtbot.waitUntil(lambda: "does not seem to know" in window.message.text(), timeout=5000)
    assert "closest" not in window.message.text()
    assert window.search.count_label.text().startswith("no match")

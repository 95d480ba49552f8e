"""The sort control, and the grid area it sits in with the grid and the timeline scrubber.

Sorting is remembered per view, as the settings ``sort_browse`` (the library,
filters alone), ``sort_search`` (typed searches) and ``sort_similar`` (find
similar): the control shows and edits the sort of the view on screen, and the
search controller asks the library for that order (its ``sorts``). A
``sort:`` typed in the query wins; the control then says so and waits.
"""

from __future__ import annotations

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from clipdesk.ui.grid.controller import GridController
from clipdesk.ui.grid.timeline import TimelineScrubber
from clipdesk.ui.grid.view import PhotoGrid
from clipdesk.ui.search.controller import Answer, SearchController
from clipdesk.ui.settings import SORT_CHOICES, SORT_LABELS, Settings

#: An answer's kind -> the view it belongs to (the setting is ``sort_<view>``).
VIEWS = {"list": "browse", "text": "search", "similar": "similar"}


class SortControl(QObject):
    """The "Sort by" list: what the view on screen is sorted by, and the choice."""

    def __init__(self, combo: QComboBox, settings: Settings, search: SearchController, grid: GridController,
                 parent: QObject | None = None):
        super().__init__(parent)
        self.combo = combo
        self.settings = settings
        self.search = search
        self.grid = grid
        #: The view on screen: "browse", "search" or "similar".
        self.view = "browse"
        for value, label in zip(SORT_CHOICES, SORT_LABELS):
            combo.addItem(label, value)
        combo.activated.connect(lambda i: self.choose(combo.itemData(i)))
        search.answered.connect(self.follow)
        settings.on_change(self._setting_changed)
        search.sorts = self.sorts()
        self._show(self.sorts()["list"])

    def sorts(self) -> dict[str, str]:
        """The remembered sort of each kind of answer."""
        return {kind: getattr(self.settings, f"sort_{view}") for kind, view in VIEWS.items()}

    def choose(self, sort: str) -> None:
        """Sort the view on screen by ``sort`` (remembered for that view)."""
        setattr(self.settings, f"sort_{self.view}", sort)

    def _setting_changed(self, name: str, _value) -> None:
        if not name.startswith("sort_"):
            return
        self.search.sorts = self.sorts()
        if name == f"sort_{self.view}":
            self.grid.start_over()  # a new order: the top of it, not the old scroll position
            self.search.refresh()

    def follow(self, answer: Answer) -> None:
        """Show the order of the answer on screen."""
        self.view = VIEWS.get(answer.kind, "browse")
        wanted = getattr(self.settings, f"sort_{self.view}")
        own = answer.result.sort != wanted  # the query's own sort: wins
        self._show(answer.result.sort)
        self.combo.setEnabled(not own)
        self.combo.setToolTip(f"This search sorts itself (sort:{answer.result.sort}); remove sort: to choose"
                              if own else "How the photos on screen are sorted (remembered for this view)")

    def _show(self, sort: str) -> None:
        model = self.combo.model()
        relevance = model.item(SORT_CHOICES.index("relevance"))
        relevance.setEnabled(self.view != "browse")  # nothing to rank by without words
        self.combo.setCurrentIndex(max(0, self.combo.findData(sort)))


class GridArea(QWidget):
    """The grid, the timeline scrubber beside it, and the sort control above."""

    def __init__(self, grid: PhotoGrid, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("gridArea")
        self.grid = grid
        self.scrubber = TimelineScrubber(grid, self)
        self.sort_combo = QComboBox(self)
        self.sort_combo.setObjectName("sortBy")
        label = QLabel("Sort by", self)
        label.setBuddy(self.sort_combo)
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addStretch(1)
        top.addWidget(label)
        top.addWidget(self.sort_combo)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(0)
        row.addWidget(grid, 1)
        row.addWidget(self.scrubber)
        v = QVBoxLayout(self)
        v.setContentsMargins(0, 0, 0, 0)
        v.setSpacing(2)
        v.addLayout(top)
        v.addLayout(row, 1)

"""Results a user can trust: "Show more" under the grid, and scores on demand.

The relevance cut keeps the photos that stand out for a query; the bar under
the grid says so and offers "Show more", which lowers the cut one step at a
time (:meth:`~clipdesk.ui.search.controller.SearchController.show_more`). For
a query the model does not know, the closest matches are held back and the
button offers them. "Scores" puts each photo's match score on its thumbnail.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from PySide6.QtCore import QRect, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QPushButton, QWidget

from clipdesk.core.wording import plural
from clipdesk.ui.settings import Settings

if TYPE_CHECKING:
    from clipdesk.ui.search.controller import Answer


class MoreBar(QWidget):
    """Under the grid while it shows ranked results: what the cut kept,
    "Show more", and the scores switch."""

    moreRequested = Signal()

    def __init__(self, grid, settings: Settings, parent=None):
        """``grid``: the PhotoGrid whose cells show the scores (grid.view
        imports this module for paint_score, so it is not imported here)."""
        super().__init__(parent)
        self.setObjectName("moreBar")
        self.grid = grid
        self.settings = settings
        lay = QHBoxLayout(self)
        lay.setContentsMargins(2, 0, 2, 0)
        self.label = QLabel("", self)
        self.label.setObjectName("cutLabel")
        self.label.setWordWrap(True)
        self.more = QPushButton("Show more", self)
        self.more.setObjectName("showMore")
        self.more.setAutoDefault(False)
        self.more.setToolTip("Show the photos that come next, below the ones that stand out")
        self.more.clicked.connect(self.moreRequested)
        self.scores = QCheckBox("Scores", self)
        self.scores.setObjectName("showScores")
        self.scores.setToolTip("Show how well each photo matches (the cosine of the model's two embeddings)")
        self.scores.setChecked(settings.show_scores)
        self.scores.toggled.connect(self.set_show_scores)
        lay.addWidget(self.label, 1)
        lay.addWidget(self.more)
        lay.addWidget(self.scores)
        grid.set_show_scores(settings.show_scores)
        self.hide()

    def set_show_scores(self, on: bool) -> None:
        self.settings.show_scores = on
        self.grid.set_show_scores(on)

    def show_answer(self, answer: Answer) -> None:
        """Say what the cut kept for ``answer``, and offer more when there is more."""
        result = answer.result
        ranked = answer.kind in ("text", "similar") and answer.scores is not None and bool(result.model_id)
        self.setVisible(ranked)
        if not ranked:
            return
        n = len(answer.ids)
        if answer.withheld:
            self.label.setText("")
            self.more.setText(f"Show the {plural(answer.withheld, 'closest match', 'closest matches')}")
        elif answer.kind == "similar" or not n:
            self.label.setText("")
        elif not result.confident or result.unknown:
            self.label.setText("Nothing stands out: these are the closest matches.")
        elif result.widen:
            self.label.setText(f"{plural(n, 'photo')}: {plural(result.widen, 'step')} past the ones that stand out.")
        else:
            self.label.setText(f"The {plural(n, 'photo')} that stand out." if n > 1 else "The one photo that stands out.")
        if not answer.withheld:
            self.more.setText("Show more")
        self.more.setVisible(bool(answer.withheld) or (answer.kind == "text" and result.more))


def paint_score(painter: QPainter, cell: QRect, score: float | None, font: QFont) -> None:
    """A photo's score in the top right corner of its cell (the marks take the
    left): light text on a dark badge, readable over any photo and in either theme."""
    if score is None or math.isnan(score):
        return
    text = f"{score:.2f}"
    small = QFont(font)
    small.setPointSizeF(max(6.0, font.pointSizeF() * 0.85))
    metrics = QFontMetrics(small)
    width = metrics.horizontalAdvance(text) + 8
    box = QRect(cell.right() - 8 - width, cell.top() + 8, width, metrics.height() + 2)
    painter.save()
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(0, 0, 0, 190))
    painter.drawRoundedRect(box, 3, 3)
    painter.setFont(small)
    painter.setPen(QColor(255, 255, 255))
    painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)
    painter.restore()

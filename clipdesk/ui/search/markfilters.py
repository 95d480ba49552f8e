"""Rating, flag and colour-label chips beside the search bar.

Like the other filter chips (:class:`~clipdesk.ui.search.bar.FilterChips`)
each one shows what the query filters by, as the search controller parsed it,
and picking a value rewrites the query text with the query module's text
edits (``rating:>=3``, ``flag:pick``, ``-flag:reject``, ``label:red``): the
text in the bar stays the one truth.
"""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLineEdit, QMenu, QToolButton, QWidget

from clipdesk.core import query as querylang
from clipdesk.core.query import LABELS, Query
from clipdesk.ui.grid.marks import LABEL_COLORS, swatch
from clipdesk.ui.search.bar import ChipButton


def rating_text(lo: int | None, hi: int | None) -> str | None:
    """How the chip says a rating range (None: no rating filter)."""
    if lo is None and hi is None:
        return None
    if lo == hi:
        return "unrated" if lo == 0 else "★" * lo
    if hi is None or hi == 5:
        return f"{'★' * lo} or more" if lo < 5 else "★★★★★"
    if lo is None or lo == 0:
        return f"{'★' * hi} or less" if hi else "unrated"
    return f"{'★' * lo} to {'★' * hi}"


class MarkFilters(QWidget):
    """Rating, Flag and Label chips; each menu edits the query text in ``bar``."""

    def __init__(self, bar: QLineEdit, parent=None):
        super().__init__(parent)
        self.bar = bar
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        self.chips: dict[str, QToolButton] = {}
        self.menus: dict[str, QMenu] = {}
        for key, label in (("rating", "Rating"), ("flag", "Flag"), ("label", "Label")):
            b = ChipButton(label, self)  # room for its menu arrow
            b.setObjectName(f"chip_{key}")
            b.setProperty("label", label)
            menu = QMenu(b)
            b.setMenu(menu)
            layout.addWidget(b)
            self.chips[key] = b
            self.menus[key] = menu
        self._fill()
        self.show_query(None)

    def _fill(self) -> None:
        m = self.menus["rating"]
        m.addAction("Any rating", lambda: self._set("rating", None))
        m.addSeparator()
        for n in range(1, 6):
            m.addAction("★" * n + (" or more" if n < 5 else ""), lambda _checked=False, n=n: self._set("rating", f">={n}"))
        m.addAction("Unrated", lambda: self._set("rating", "0"))

        m = self.menus["flag"]
        m.addAction("Any flag", lambda: self._set("flag", None))
        m.addSeparator()
        m.addAction("Picked", lambda: self._set("flag", "pick"))
        m.addAction("Rejected", lambda: self._set("flag", "reject"))
        m.addAction("Unflagged", lambda: self._set("flag", "none"))
        m.addAction("Not rejected", lambda: self._set("flag", "reject", negated=True))

        m = self.menus["label"]
        m.addAction("Any label", lambda: self._set("label", None))
        m.addSeparator()
        for name in LABELS:
            m.addAction(swatch(LABEL_COLORS[name]), name.capitalize(), lambda _checked=False, name=name: self._set("label", name))
        m.addAction("No label", lambda: self._set("label", "none"))

    def action(self, key: str, text: str):
        """The menu entry of a chip called ``text``."""
        return next(a for a in self.menus[key].actions() if a.text() == text)

    # -- showing the query's state ------------------------------------------------------
    def show_query(self, q: Query | None) -> None:
        """Show what the query (parsed once, by the search controller) filters by."""
        values: dict[str, str | None] = {"rating": None, "flag": None, "label": None}
        if q is not None:
            values["rating"] = rating_text(q.rating_min, q.rating_max)
            flags = [{"pick": "picked", "reject": "rejected", "none": "unflagged"}[f] for f in q.flags]
            flags += [{"pick": "not picked", "reject": "not rejected", "none": "flagged"}[f] for f in q.exclude_flags]
            values["flag"] = ", ".join(flags) or None
            labels = [{"none": "no label"}.get(lb, lb) for lb in q.labels]
            labels += [f"not {lb}" if lb != "none" else "labelled" for lb in q.exclude_labels]
            values["label"] = ", ".join(labels) or None
        for key, b in self.chips.items():
            v = values[key]
            b.setText(f"{b.property('label')}: {v}" if v else b.property("label"))
            b.setProperty("active", bool(v))
            font = b.font()
            font.setBold(bool(v))
            b.setFont(font)

    # -- editing the text ---------------------------------------------------------------
    def _set(self, key: str, value: str | None, *, negated: bool = False) -> None:
        text = querylang.set_filter(self.bar.text(), key, value, negated=negated)
        if text != self.bar.text():
            self.bar.setText(text)

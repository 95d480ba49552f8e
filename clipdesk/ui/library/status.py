"""Indexing in the status bar: done / total, rate, time left, folder, pause; failures.
And the line that says when another program indexes the library instead."""

from __future__ import annotations

import os

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView, QDialog, QDialogButtonBox, QHBoxLayout, QHeaderView, QLabel, QProgressBar, QSizePolicy,
    QToolButton, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget,
)

from clipdesk.core.catalog import Photo
from clipdesk.core.pipeline import Progress, RunResult
from clipdesk.core.wording import plural
from clipdesk.ui.fitting import fit_over


def human_eta(seconds: float | None) -> str:
    if seconds is None or seconds != seconds or seconds < 0:
        return ""
    s = int(round(seconds))
    if s < 60:
        return f"{s} s left"
    m, s = divmod(s, 60)
    if m < 60:
        return f"{m} min {s:02d} s left"
    h, m = divmod(m, 60)
    return f"{h} h {m:02d} min left"


def describe(p: Progress) -> str:
    folder = os.path.basename(p.folder.rstrip("/")) if p.folder else ""
    if p.phase == "scanning":
        return f"Looking for new photos… {p.done:,} files seen"
    if p.phase in ("indexing", "paused"):
        parts = [f"{'Paused' if p.phase == 'paused' else 'Indexing'} {p.done:,} / {p.total:,}"]
        if p.rate and p.phase == "indexing":
            parts.append(f"{p.rate:.1f} photos/s")
        eta = human_eta(p.eta) if p.phase == "indexing" else ""
        if eta:
            parts.append(eta)
        if folder:
            parts.append(folder)
        return " · ".join(parts)
    if p.phase == "error":
        return f"Indexing stopped: {p.message}"
    if p.phase == "cancelled":
        return "Indexing cancelled"
    return "Up to date"


class IndexStatus(QWidget):
    """Lives in the status bar. Says what the pipeline is doing; pause/resume; failures."""

    pauseToggled = Signal(bool)  # True: pause
    failuresRequested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("indexStatus")
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.label = QLabel("", self)
        self.label.setObjectName("indexLabel")
        self.bar = QProgressBar(self)
        self.bar.setMaximumWidth(120)
        self.bar.setMaximumHeight(14)
        self.bar.setTextVisible(False)
        self.bar.hide()
        self.pause = QToolButton(self)
        self.pause.setObjectName("pauseButton")
        self.pause.setCheckable(True)
        self.pause.setText("Pause")
        self.pause.setToolTip("Pause indexing (it carries on where it stopped)")
        self.pause.toggled.connect(self._toggled)
        self.pause.hide()
        self.failures = QToolButton(self)
        self.failures.setObjectName("failuresButton")
        self.failures.setAutoRaise(True)
        self.failures.clicked.connect(self.failuresRequested)
        self.failures.hide()
        lay.addWidget(self.label, 1)
        lay.addWidget(self.bar)
        lay.addWidget(self.pause)
        lay.addWidget(self.failures)
        # Showing and hiding these must not move anything else: a relayout of the
        # status bar can ripple into the window (and the grid) many times a second.
        for w in (self.bar, self.pause):
            policy = w.sizePolicy()
            policy.setRetainSizeWhenHidden(True)
            w.setSizePolicy(policy)
        self.label.setMinimumWidth(120)
        self.label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.last: Progress | None = None
        self.finished: RunResult | None = None
        self.photos: int | None = None

    def _toggled(self, on: bool) -> None:
        self.pause.setText("Resume" if on else "Pause")
        self.pause.setToolTip("Resume indexing" if on else "Pause indexing (it carries on where it stopped)")
        self.pauseToggled.emit(on)

    def set_paused(self, paused: bool) -> None:
        self.pause.blockSignals(True)
        self.pause.setChecked(paused)
        self.pause.setText("Resume" if paused else "Pause")
        self.pause.blockSignals(False)

    def show_progress(self, p: Progress) -> None:
        self.last = p
        self.label.setText(describe(p))
        busy = p.phase in ("scanning", "indexing", "paused")
        self.bar.setVisible(busy)
        self.pause.setVisible(busy)
        if p.phase == "scanning" or not p.total:
            self.bar.setRange(0, 0)
        else:
            self.bar.setRange(0, p.total)
            self.bar.setValue(p.done)

    def show_finished(self, result: RunResult) -> None:
        self.bar.hide()
        self.pause.hide()
        self.finished = result
        self._idle_text()

    def set_photo_count(self, photos: int) -> None:
        """The library's size, shown while nothing is being indexed."""
        self.photos = photos
        if self.last is None or self.last.phase not in ("scanning", "indexing", "paused"):
            self._idle_text()

    def _idle_text(self) -> None:
        result = self.finished
        if result is not None and result.error:
            self.label.setText(f"Indexing stopped: {result.error}")
            return
        if result is not None and result.cancelled:
            self.label.setText("Indexing cancelled")
            return
        parts = ["Up to date" if result is not None else "Ready"]
        if self.photos is not None:
            parts.append(plural(self.photos, "photo"))
        if result is not None and result.indexed:
            parts.append(f"{result.indexed:,} indexed just now")
        self.label.setText(" · ".join(parts))

    def set_failures(self, n: int) -> None:
        self.failures.setVisible(n > 0)
        self.failures.setText(f"⚠ {n:,} could not be read")
        self.failures.setToolTip("Show the photos that could not be indexed, and why")


class FailuresDialog(QDialog):
    """Photos that could not be indexed, with the reason; retry some or all."""

    retryRequested = Signal(list)  # photo ids; empty list: all

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("failuresDialog")
        self.setWindowTitle("Photos that could not be indexed")
        lay = QVBoxLayout(self)
        self.summary = QLabel(self)
        lay.addWidget(self.summary)
        self.tree = QTreeWidget(self)
        self.tree.setObjectName("failuresTree")
        self.tree.setHeaderLabels(["File", "Reason", "Folder"])
        self.tree.setRootIsDecorated(False)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.tree.header().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        lay.addWidget(self.tree)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.retry_selected = buttons.addButton("Retry selected", QDialogButtonBox.ButtonRole.ActionRole)
        self.retry_all = buttons.addButton("Retry all", QDialogButtonBox.ButtonRole.ActionRole)
        self.retry_selected.clicked.connect(self._retry_selected)
        self.retry_all.clicked.connect(lambda: self.retryRequested.emit([]))
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)
        fit_over(self, 760, 420)

    def set_failures(self, photos: list[Photo]) -> None:
        self.tree.clear()
        for p in photos:
            item = QTreeWidgetItem(self.tree, [p.name, p.reason or "", os.path.dirname(p.path)])
            item.setData(0, Qt.ItemDataRole.UserRole, p.id)
            item.setToolTip(0, p.path)
            item.setToolTip(1, p.reason or "")
        self.tree.resizeColumnToContents(0)
        self.summary.setText(
            f"{plural(len(photos), 'photo')} could not be indexed. Fix the files (or wait until they are "
            "fully copied) and retry." if photos else "Every photo was indexed."
        )
        self.retry_all.setEnabled(bool(photos))
        self.retry_selected.setEnabled(bool(photos))

    def reasons(self) -> dict[str, str]:
        """File name -> reason, as listed."""
        return {
            self.tree.topLevelItem(i).text(0): self.tree.topLevelItem(i).text(1)
            for i in range(self.tree.topLevelItemCount())
        }

    def _retry_selected(self) -> None:
        ids = [i.data(0, Qt.ItemDataRole.UserRole) for i in self.tree.selectedItems()]
        if ids:
            self.retryRequested.emit(ids)


class BesideBanner(QLabel):
    """Shown when another program holds the catalog (``clipdesk scan --watch``)
    and this window opened the library beside it."""

    TEXT = ("Another ClipDesk program holds this library (for example <code>clipdesk scan --watch</code>): "
            "it indexes and watches your folders, and the photos it adds show up here. Searching, browsing "
            "and tagging work here as usual; to index from this window, close that program and start "
            "ClipDesk again.")

    def __init__(self, parent=None):
        super().__init__(self.TEXT, parent)
        self.setObjectName("besideBanner")
        self.setWordWrap(True)
        self.setContentsMargins(8, 4, 8, 4)
        self.setTextFormat(Qt.TextFormat.RichText)

"""The auto-tag panel: suggestions for dropped photos, teaching a tag, tagging the library.

* Drop photos (from the grid, or image files from the file manager, also ones
  outside the library) on the drop zone: the panel lists the suggested tags,
  each with a confidence bar and how many of the dropped photos it fits, to
  accept or reject one by one or all at once.
* Teach a tag: name it (new or existing), drop a few example photos, and the
  panel shows the photos the learned tag would add, to accept or reject.
* Apply to the whole library: a preview of how many photos each tag would
  get; the tags the user ticks (none at first) are added to those photos as
  accepted tags, as if the user had added them.

Accepted tags can also go to XMP sidecars (a setting). A file outside the
library has no catalog entry, so its tags can only go to its sidecar. Every
decision goes through the change hub, which tells the other views.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field

from PySide6.QtCore import QEvent, QObject, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QPainter, QPalette, QPen
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QDialog, QDialogButtonBox, QFrame, QGridLayout, QGroupBox, QHBoxLayout, QLabel, QProgressBar,
    QPushButton, QScrollArea, QStyle, QToolButton, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget,
)

from clipdesk.core.changes import Changes
from clipdesk.core.errors import ClipDeskError
from clipdesk.core.library import Library
from clipdesk.core.search import Hit
from clipdesk.core.tags import AutoTagResult, FileSuggestions
from clipdesk.core.wording import plural
from clipdesk.ui.dnd import PHOTO_IDS_MIME, decode_ids, image_paths
from clipdesk.ui.fitting import fit_over
from clipdesk.ui.grid.model import PhotoListModel
from clipdesk.ui.grid.thumbs import ThumbnailLoader
from clipdesk.ui.grid.view import PhotoGrid
from clipdesk.ui.hub import ChangeHub
from clipdesk.ui.settings import Settings
from clipdesk.ui.workers import CancelToken, Pools

log = logging.getLogger(__name__)


class DropZone(QFrame):
    """Accepts photos from the grid (ids) and image files (paths).

    The dashed border is painted from the palette at paint time, not set by a
    style sheet: a style sheet fixes the palette of the zone and its text when
    it is applied, so after a switch to the dark theme the text stayed dark."""

    dropped = Signal(list, list)  # photo ids, paths

    def __init__(self, text: str, parent=None):
        super().__init__(parent)
        self.setAcceptDrops(True)
        self.setMinimumHeight(56)
        self.label = QLabel(text, self)
        self.label.setWordWrap(True)
        self.label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(10, 8, 10, 8)
        lay.addWidget(self.label)
        self._idle_text = text
        self.hovered = False

    def _hover(self, on: bool) -> None:
        self.hovered = on
        self.update()

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        try:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            role = QPalette.ColorRole.Highlight if self.hovered else QPalette.ColorRole.PlaceholderText
            painter.setPen(QPen(self.palette().color(role), 2, Qt.PenStyle.DashLine))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(QRectF(self.rect()).adjusted(1, 1, -1, -1), 6, 6)
        finally:
            painter.end()

    def set_text(self, text: str | None) -> None:
        self.label.setText(text or self._idle_text)

    @staticmethod
    def _accepts(mime) -> bool:
        return mime.hasFormat(PHOTO_IDS_MIME) or bool(image_paths(mime))

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if self._accepts(event.mimeData()):
            event.acceptProposedAction()
            self._hover(True)
        else:
            event.ignore()

    def dragLeaveEvent(self, event) -> None:
        self._hover(False)

    def dropEvent(self, event: QDropEvent) -> None:
        self._hover(False)
        mime = event.mimeData()
        ids = decode_ids(mime)
        paths = [] if ids else image_paths(mime)
        if ids or paths:
            event.acceptProposedAction()
            self.dropped.emit(ids, paths)
        else:
            event.ignore()


@dataclass
class TagGroup:
    """One suggested tag over the dropped photos."""

    tag: str
    source: str
    scores: list[float] = field(default_factory=list)
    photo_ids: list[int] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)  # files not in the library
    paths: list[str] = field(default_factory=list)  # every file it fits
    decision: str | None = None  # "accepted" | "rejected"

    @property
    def confidence(self) -> float:
        return max(self.scores) if self.scores else 0.0

    @property
    def count(self) -> int:
        return len(self.paths)


def group_suggestions(results: list[FileSuggestions]) -> list[TagGroup]:
    groups: dict[str, TagGroup] = {}
    for fs in results:
        for s in fs.suggestions:
            g = groups.setdefault(s.tag.lower(), TagGroup(s.tag, s.source))
            g.scores.append(float(s.score))
            g.paths.append(fs.path)
            if fs.photo_id is not None:
                g.photo_ids.append(fs.photo_id)
            else:
                g.outside.append(fs.path)
            if s.source == "learned":
                g.source = "learned"
    return sorted(groups.values(), key=lambda g: (-g.count, -sum(g.scores) / len(g.scores), g.tag.lower()))


class TagRow(QObject):
    """One suggested tag: its name, confidence, how many photos it fits, and the
    buttons to accept or reject it; after a decision, what was decided in the
    buttons' place. Its widgets go in a column of a grid shared by every row,
    so the rows line up whatever each one shows."""

    accept = Signal(str)
    reject = Signal(str)

    def __init__(self, group: TagGroup, total: int, grid: QGridLayout, row: int, parent: QWidget):
        super().__init__(parent)
        self.group = group
        self.name = QLabel(group.tag + ("  ✦" if group.source == "learned" else ""), parent)
        self.name.setObjectName(f"tagRow:{group.tag}")
        self.name.setToolTip("learned from your examples" if group.source == "learned" else "suggested by the model")
        self.bar = QProgressBar(parent)
        self.bar.setRange(0, 100)
        self.bar.setValue(round(group.confidence * 100))
        self.bar.setFormat("%p%")
        self.bar.setFixedWidth(64)
        self.bar.setMaximumHeight(16)
        self.bar.setToolTip(f"confidence {group.confidence:.0%}")
        self.count = QLabel(f"{group.count}/{total}", parent)
        self.count.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.count.setToolTip(f"fits {group.count} of the {plural(total, 'photo')} dropped")
        self.accept_button = QToolButton(parent)
        self.accept_button.setText("✓")
        self.accept_button.setToolTip(f"Tag {plural(group.count, 'photo')} with '{group.tag}'")
        self.accept_button.clicked.connect(lambda: self.accept.emit(group.tag))
        self.reject_button = QToolButton(parent)
        self.reject_button.setText("✕")
        self.reject_button.setToolTip(f"Not '{group.tag}': never suggest it for these photos again")
        self.reject_button.clicked.connect(lambda: self.reject.emit(group.tag))
        self.state = QLabel("", parent)
        self.state.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.state.hide()
        grid.addWidget(self.name, row, 0)
        grid.addWidget(self.bar, row, 1)
        grid.addWidget(self.count, row, 2)
        grid.addWidget(self.accept_button, row, 3)
        grid.addWidget(self.reject_button, row, 4)
        grid.addWidget(self.state, row, 3, 1, 2)

    def set_decision(self, decision: str | None, note: str | None = None) -> None:
        self.group.decision = decision
        done = decision is not None
        self.accept_button.setEnabled(not done)
        self.reject_button.setEnabled(not done)
        self.accept_button.setVisible(not done)
        self.reject_button.setVisible(not done)
        self.state.setVisible(done)
        self.state.setText({"accepted": "added", "rejected": "rejected", None: ""}[decision])
        if note:
            self.state.setToolTip(note)
        font = self.name.font()
        font.setStrikeOut(decision == "rejected")
        self.name.setFont(font)


class ApplyDialog(QDialog):
    """Preview of apply-to-library: how many photos each tag would get; the user
    ticks the tags to add. Nothing is ticked at first: a tag that fits half the
    library ("shirt" on 335 of 556 photos) is not something to add unread."""

    def __init__(self, counts: dict[str, int], parent=None, *, calibrated: bool = True):
        from clipdesk.core.tagging import MIN_BACKGROUND

        super().__init__(parent)
        self.setObjectName("applyDialog")
        self.setWindowTitle("Tag the whole library")
        lay = QVBoxLayout(self)
        rough = ("" if calibrated else f" With fewer than {MIN_BACKGROUND} photos in the library, these are rough "
                 "guesses: the tags are not yet measured against your own photos.")
        intro = QLabel("Tick the tags to add. Each one is added to the number of photos shown, as if you had "
                       "added it yourself; you can remove it from a photo later in its details." + rough, self)
        intro.setWordWrap(True)
        lay.addWidget(intro)
        self.tree = QTreeWidget(self)
        self.tree.setObjectName("applyTree")
        self.tree.setHeaderLabels(["Tag", "Photos"])
        self.tree.setRootIsDecorated(False)
        for tag, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0].lower())):
            item = QTreeWidgetItem(self.tree, [tag, f"{n:,}"])
            item.setData(0, Qt.ItemDataRole.UserRole, tag)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(0, Qt.CheckState.Unchecked)
            item.setTextAlignment(1, Qt.AlignmentFlag.AlignRight)
        self.tree.resizeColumnToContents(0)
        self.tree.itemChanged.connect(self._ticked)
        lay.addWidget(self.tree)
        self.sidecars = QCheckBox("Also write the tags to XMP sidecars", self)
        lay.addWidget(self.sidecars)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel, self)
        self.apply_button = buttons.addButton("Add the ticked tags", QDialogButtonBox.ButtonRole.AcceptRole)
        self.apply_button.setEnabled(False)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)
        fit_over(self, 440, 480)

    def _ticked(self, *_args) -> None:
        self.apply_button.setEnabled(bool(self.chosen()))

    def chosen(self) -> list[str]:
        out = []
        for i in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(i)
            if item.checkState(0) == Qt.CheckState.Checked:
                out.append(item.data(0, Qt.ItemDataRole.UserRole))
        return out


class PanelScroll(QScrollArea):
    """A tall panel in a dock: it scrolls up and down (it never forces the
    window to be as tall as it is) and never sideways, because the dock is
    never made narrower than the panel needs, whatever the window's size."""

    def __init__(self, panel: QWidget, parent=None):
        super().__init__(parent)
        self.setObjectName(f"{panel.objectName()}Scroll")
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setWidget(panel)
        panel.installEventFilter(self)

    def minimumSizeHint(self) -> QSize:
        hint = super().minimumSizeHint()
        widget = self.widget()
        if widget is None:
            return hint
        bar = self.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent, None, self.verticalScrollBar())
        return QSize(widget.minimumSizeHint().width() + bar + 2 * self.frameWidth(), hint.height())

    def eventFilter(self, watched, event) -> bool:
        if watched is self.widget() and event.type() == QEvent.Type.LayoutRequest:
            self.updateGeometry()  # the panel's rows changed what it needs: the dock follows
        return super().eventFilter(watched, event)


class AutoTagPanel(QWidget):
    """Tag suggestions for dropped photos, teaching a tag, tagging the whole library."""

    message = Signal(str)  # one line for the status bar
    applyPreviewShown = Signal(object)  # the ApplyDialog, before it runs (tests drive it)

    def __init__(self, library: Library, pools: Pools, hub: ChangeHub, settings: Settings, thumbs: ThumbnailLoader,
                 parent=None):
        super().__init__(parent)
        self.setObjectName("autoTagPanel")
        self.library = library
        self.pools = pools
        self.hub = hub
        self.settings = settings
        self.groups: list[TagGroup] = []
        self.rows: dict[str, TagRow] = {}
        self.examples: list[int] = []
        self._token: CancelToken | None = None

        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)

        # -- suggestions -------------------------------------------------------
        self.drop = DropZone("Drop photos here (from the grid or your file manager) to see tag suggestions", self)
        self.drop.setObjectName("autoTagDrop")
        self.drop.dropped.connect(self.suggest)
        lay.addWidget(self.drop)
        self.use_selection = QPushButton("Suggest for the selection", self)
        lay.addWidget(self.use_selection)
        self.status = QLabel("", self)
        self.status.setWordWrap(True)
        lay.addWidget(self.status)
        #: The suggested tags, one grid row each (made anew for each drop).
        self.table: QWidget | None = None
        self.table_slot = QVBoxLayout()
        self.table_slot.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(self.table_slot)
        all_row = QHBoxLayout()
        self.accept_all = QPushButton("Accept all", self)
        self.accept_all.clicked.connect(lambda: self._decide_all("accepted"))
        self.reject_all = QPushButton("Reject all", self)
        self.reject_all.clicked.connect(lambda: self._decide_all("rejected"))
        all_row.addWidget(self.accept_all)
        all_row.addWidget(self.reject_all)
        lay.addLayout(all_row)
        self.sidecars = QCheckBox("Write tags to XMP sidecars", self)
        self.sidecars.setToolTip("Tags you add or remove, here and in the details panel, also go to each photo's "
                                 "XMP sidecar (photo.jpg.xmp), where other photo programs read them")
        self.sidecars.setChecked(settings.write_sidecars)
        self.sidecars.toggled.connect(lambda on: setattr(self.settings, "write_sidecars", on))
        lay.addWidget(self.sidecars)

        # -- teach -------------------------------------------------------------
        teach = QGroupBox("Teach a tag", self)
        tl = QVBoxLayout(teach)
        self.teach_tag = QComboBox(teach)
        self.teach_tag.setObjectName("teachTag")
        self.teach_tag.setEditable(True)
        self.teach_tag.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.teach_tag.lineEdit().setPlaceholderText("tag name, new or existing")
        tl.addWidget(self.teach_tag)
        self.teach_drop = DropZone("Drop a few example photos of this tag", teach)
        self.teach_drop.setObjectName("teachDrop")
        self.teach_drop.dropped.connect(self._examples_dropped)
        tl.addWidget(self.teach_drop)
        self.teach_button = QPushButton("Find photos like these", teach)
        self.teach_button.clicked.connect(self.teach)
        tl.addWidget(self.teach_button)
        self.teach_status = QLabel("", teach)
        self.teach_status.setWordWrap(True)
        tl.addWidget(self.teach_status)
        self.teach_model = PhotoListModel(thumbs, self)
        self.teach_grid = PhotoGrid(self.teach_model, teach, size=88, show_names=False)
        self.teach_grid.setObjectName("teachGrid")
        self.teach_grid.setMinimumHeight(100)
        tl.addWidget(self.teach_grid, 1)
        tb = QGridLayout()
        self.teach_accept = QPushButton("Add to selected", teach)
        self.teach_accept.clicked.connect(lambda: self._teach_decide("accepted", selected=True))
        self.teach_accept_all = QPushButton("Add to all", teach)
        self.teach_accept_all.clicked.connect(lambda: self._teach_decide("accepted", selected=False))
        self.teach_reject = QPushButton("Not this tag", teach)
        self.teach_reject.setToolTip("The selected photos are not this tag (teaches it too)")
        self.teach_reject.clicked.connect(lambda: self._teach_decide("rejected", selected=True))
        tb.addWidget(self.teach_accept, 0, 0)
        tb.addWidget(self.teach_accept_all, 0, 1)
        tb.addWidget(self.teach_reject, 1, 0)
        tl.addLayout(tb)
        lay.addWidget(teach, 3)

        self.apply_button = QPushButton("Tag the whole library…", self)
        self.apply_button.clicked.connect(self.preview_apply)
        lay.addWidget(self.apply_button)
        self._update_buttons()

    # -- suggestions -------------------------------------------------------------
    def set_tag_names(self, names: list[str]) -> None:
        current = self.teach_tag.currentText()
        self.teach_tag.blockSignals(True)
        self.teach_tag.clear()
        self.teach_tag.addItems(names)
        self.teach_tag.setEditText(current)
        self.teach_tag.blockSignals(False)

    def suggest(self, ids: list[int], paths: list[str]) -> None:
        targets: list = list(ids) + list(paths)
        if not targets:
            return
        if self._token is not None:
            self._token.cancel()
        self.drop.set_text(f"{plural(len(targets), 'photo')}: finding tags…")
        self.status.setText("")
        self._clear_rows()
        top = self.settings.suggestion_count
        library = self.library
        self._token = self.pools.run(
            self.pools.interactive, lambda: (library.tags.suggest(targets, top=top), library.tags.calibrated()),
            self._show, self._failed, owner=self,
        )

    def _show(self, answer: tuple[list[FileSuggestions], bool]) -> None:
        from clipdesk.core.tagging import MIN_BACKGROUND

        results, calibrated = answer
        self.drop.set_text(f"{plural(len(results), 'photo')} dropped — drop more to start again")
        errors = [f"{os.path.basename(r.path)}: {r.error}" for r in results if r.error]
        self.groups = group_suggestions(results)
        self._clear_rows()
        if self.groups:
            self.table = QWidget(self)
            self.table.setObjectName("suggestions")
            grid = QGridLayout(self.table)
            grid.setContentsMargins(0, 0, 0, 0)
            grid.setHorizontalSpacing(6)
            grid.setVerticalSpacing(2)
            grid.setColumnStretch(0, 1)
            for i, g in enumerate(self.groups):
                row = TagRow(g, len(results), grid, i, self.table)
                row.accept.connect(lambda tag: self.decide(tag, "accepted"))
                row.reject.connect(lambda tag: self.decide(tag, "rejected"))
                self.rows[g.tag] = row
            self.table_slot.addWidget(self.table)
        lines = []
        if not self.groups:
            lines.append("No tag stands out for these photos.")
        if not calibrated:
            lines.append(f"Rough guesses: the library has fewer than {MIN_BACKGROUND} photos, so the tags are "
                         "not yet measured against your own photos.")
        lines += errors
        self.status.setText("\n".join(lines))
        self._update_buttons()

    def _failed(self, exc: BaseException) -> None:
        self.drop.set_text(None)
        self.status.setText(str(exc) if isinstance(exc, ClipDeskError) else f"Suggestions failed: {exc}")
        if not isinstance(exc, ClipDeskError):
            log.error("suggestions failed", exc_info=exc)

    def _clear_rows(self) -> None:
        if self.table is not None:
            self.table.hide()
            self.table.setParent(None)
            self.table.deleteLater()
            self.table = None
        self.rows = {}
        self._update_buttons()

    def _update_buttons(self) -> None:
        open_ = [r for r in self.rows.values() if r.group.decision is None]
        self.accept_all.setEnabled(bool(open_))
        self.reject_all.setEnabled(bool(open_))
        has = self.teach_model.rowCount() > 0
        self.teach_accept.setEnabled(has)
        self.teach_accept_all.setEnabled(has)
        self.teach_reject.setEnabled(has)

    def decide(self, tag: str, decision: str) -> None:
        row = self.rows.get(tag)
        if row is None or row.group.decision is not None:
            return
        self._apply_decisions([row], decision)

    def _decide_all(self, decision: str) -> None:
        self._apply_decisions([r for r in self.rows.values() if r.group.decision is None], decision)

    def _apply_decisions(self, rows: list[TagRow], decision: str) -> None:
        if not rows:
            return
        for r in rows:
            r.set_decision(decision, "saving…")
        self._update_buttons()
        groups = [r.group for r in rows]
        tags = self.library.tags

        def job():
            notes: dict[str, str] = {}
            changes = Changes()
            for g in groups:
                if g.photo_ids:
                    decide = tags.accept if decision == "accepted" else tags.reject
                    changes = changes | decide(g.photo_ids, g.tag)
                note = []
                if decision == "accepted" and g.outside:
                    if tags.write_sidecars:
                        changes = changes | tags.tag_files(g.outside, g.tag)
                    else:
                        note.append(f"{plural(len(g.outside), 'file')} outside the library not tagged: "
                                    "turn on XMP sidecars to tag them")
                note += [f"{os.path.basename(f.path)}: {f.reason}" for f in changes.sidecar_failures
                         if f.path in g.paths]
                notes[g.tag] = "; ".join(note)
            decided = [f"'{g.tag}'" for g in groups if g.photo_ids]
            if len(decided) > 1:  # one undo for them all, named for them all
                verb = "Add tags" if decision == "accepted" else "Reject tags"
                more = f" and {len(decided) - 3} more" if len(decided) > 3 else ""
                changes = changes.labelled(f"{verb} {', '.join(decided[:3])}{more}")
            return notes, changes

        def done(value) -> None:
            notes, _changes = value
            for g in groups:
                row = self.rows.get(g.tag)
                if row is not None:
                    row.set_decision(decision, notes.get(g.tag) or None)
            noted = [f"{t}: {n}" for t, n in notes.items() if n]
            verb = "Added" if decision == "accepted" else "Rejected"
            self.message.emit(f"{verb} {', '.join(g.tag for g in groups)}" + (f" ({'; '.join(noted)})" if noted else ""))
            self._update_buttons()

        def failed(exc: BaseException) -> None:
            for g in groups:
                row = self.rows.get(g.tag)
                if row is not None:
                    row.set_decision(None)
            self.status.setText(f"Could not save: {exc}")
            self._update_buttons()

        self.hub.write(job, done, failed, owner=self, changes=lambda value: value[1])

    # -- teaching ----------------------------------------------------------------
    def _examples_dropped(self, ids: list[int], paths: list[str]) -> None:
        if paths and not ids:
            self.teach_status.setText(
                "Examples must be photos in the library: drag them from the grid "
                "(or add their folder first)."
            )
            return
        for i in ids:
            if i not in self.examples:
                self.examples.append(i)
        self.teach_drop.set_text(f"{plural(len(self.examples), 'example photo')} — drop more, or find photos like them")
        if self.teach_tag.currentText().strip():
            self.teach()

    def start_teaching(self, tag: str, ids: list[int]) -> None:
        """Teach ``tag`` from ``ids`` (photos dropped on a tag in the sidebar)."""
        self.teach_tag.setEditText(tag)
        self.examples = []
        self._examples_dropped(ids, [])

    def teach(self) -> None:
        tag = self.teach_tag.currentText().strip()
        if not tag:
            self.teach_status.setText("Name the tag first.")
            return
        if not self.examples:
            self.teach_status.setText("Drop a few example photos first.")
            return
        examples = list(self.examples)
        library = self.library
        self.teach_status.setText(f"Learning '{tag}' from {plural(len(examples), 'example')}…")

        def done(hits: list[Hit]) -> None:
            self.hub.announce(Changes.of_photos(examples, tags=True))  # the examples are accepted as taught
            self.teach_model.set_hits(hits)
            self.teach_status.setText(
                f"'{tag}' would be added to {plural(len(hits), 'more photo')}. Select the right ones and add, "
                "or mark the wrong ones." if hits else f"No other photo looks like '{tag}' yet."
            )
            self._update_buttons()

        def failed(exc: BaseException) -> None:
            self.teach_status.setText(str(exc))

        self.pools.run(self.pools.interactive, lambda: library.tags.teach(tag, examples), done, failed, owner=self)

    def _teach_decide(self, decision: str, *, selected: bool) -> None:
        tag = self.teach_tag.currentText().strip()
        rows = self.teach_grid.selected_rows() if selected else list(range(self.teach_model.rowCount()))
        ids = [self.teach_model.photo(r).id for r in rows]
        if not ids or not tag:
            return
        tags = self.library.tags

        def job():
            return (tags.accept if decision == "accepted" else tags.reject)(ids, tag)

        def done(_changes: Changes):
            self.teach_model.remove_ids(ids)
            verb = "Added" if decision == "accepted" else "Rejected"
            self.teach_status.setText(f"{verb} '{tag}' on {plural(len(ids), 'photo')}.")
            self.message.emit(f"{verb} '{tag}' on {plural(len(ids), 'photo')}")
            self._update_buttons()

        self.hub.write(job, done, lambda e: self.teach_status.setText(f"Could not save: {e}"), owner=self)

    # -- whole library -------------------------------------------------------------
    def preview_apply(self) -> None:
        library = self.library
        self.apply_button.setEnabled(False)
        self.apply_button.setText("Counting…")

        def done(answer: tuple[dict[str, int], bool]) -> None:
            counts, calibrated = answer
            self._reset_apply_button()
            dlg = ApplyDialog(counts, self, calibrated=calibrated)
            dlg.sidecars.setChecked(self.settings.write_sidecars)
            dlg.accepted.connect(lambda: self._apply(dlg.chosen(), dlg.sidecars.isChecked()))
            self.applyPreviewShown.emit(dlg)
            dlg.open()

        def failed(exc: BaseException) -> None:
            self._reset_apply_button()
            self.message.emit(f"Could not preview: {exc}")

        self.pools.run(self.pools.general, lambda: (library.tags.preview_auto(), library.tags.calibrated()),
                       done, failed, owner=self)

    def _reset_apply_button(self) -> None:
        self.apply_button.setEnabled(True)
        self.apply_button.setText("Tag the whole library…")

    def _apply(self, tags: list[str], write_xmp: bool) -> None:
        if not tags:
            return
        library = self.library
        self.message.emit(f"Adding {plural(len(tags), 'tag')} to the library…")

        def done(result: AutoTagResult) -> None:
            added = ", ".join(f"{tag} ({n:,})" for tag, n in result.counts.items())
            self.message.emit(f"Added {added}" if added else "No photo fits these tags")

        self.hub.write(lambda: library.tags.apply_auto(tags, sidecars=write_xmp), done,
                       lambda e: self.message.emit(f"Tagging the library failed: {e}"), owner=self,
                       changes=lambda result: result.changes)

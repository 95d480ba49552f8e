"""The details panel: a larger preview, the file's facts, its marks and its tags (editable).

Tags added or removed here go through the change hub; the panel reads the
shown photos' tags again whenever the hub says tags or photos changed,
whoever changed them.
"""

from __future__ import annotations

import html
import logging
import os
from datetime import datetime

from PySide6.QtCore import QStringListModel, Qt
from PySide6.QtWidgets import QCompleter, QFormLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from clipdesk.core.catalog import Photo
from clipdesk.core.changes import Changes
from clipdesk.core.library import Library
from clipdesk.ui.grid.marks import MarksLine
from clipdesk.ui.grid.preview import ImageView, load_image
from clipdesk.ui.hub import ChangeHub
from clipdesk.ui.workers import CancelToken, Pools

log = logging.getLogger(__name__)

PREVIEW_SIDE = 640


def human_size(n: int | None) -> str:
    if n is None:
        return ""
    size = float(n)
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:,.0f} {unit}" if unit == "bytes" else f"{size:,.1f} {unit}"
        size /= 1000
    return str(n)


def human_date(taken: str | None, source: str | None) -> str:
    if not taken:
        return ""
    try:
        text = datetime.fromisoformat(taken).strftime("%d %b %Y, %H:%M")
    except ValueError:
        text = taken
    return text + (" (file date)" if source == "file" else "")


class DetailsPanel(QWidget):
    """The selected photos: one photo's picture and facts, or a summary of several;
    the tags they share, to add to and remove."""

    def __init__(self, library: Library, pools: Pools, hub: ChangeHub, parent=None):
        super().__init__(parent)
        self.setObjectName("detailsPanel")
        self.library = library
        self.pools = pools
        self.hub = hub
        self.photos: list[Photo] = []
        self.tags: list[tuple[str, str, str, float | None]] = []
        self._token: CancelToken | None = None
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        self.preview = ImageView(self)
        self.preview.setMinimumHeight(120)
        self.preview.set_image(None, "Select a photo to see its details")
        lay.addWidget(self.preview, 3)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.fields: dict[str, QLabel] = {}
        for key, label in (("file", "File"), ("folder", "Folder"), ("date", "Taken"), ("camera", "Camera"),
                           ("size", "Size"), ("status", "Status")):
            value = QLabel(self)
            value.setWordWrap(True)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            value.setObjectName(f"detail_{key}")
            form.addRow(label, value)
            self.fields[key] = value
        lay.addLayout(form)
        #: Stars, flag and colour label (clicks ask the window's mark actions).
        self.marks = MarksLine(library, pools, hub, self)
        lay.addWidget(self.marks)
        self.tag_label = QLabel(self)
        self.tag_label.setObjectName("detailTags")
        self.tag_label.setWordWrap(True)
        self.tag_label.setTextFormat(Qt.TextFormat.RichText)
        self.tag_label.linkActivated.connect(self._tag_link)
        self.tag_label.setToolTip("Click ✕ to remove a tag, a suggested tag to confirm it")
        lay.addWidget(self.tag_label)
        self.add_tag = QLineEdit(self)
        self.add_tag.setObjectName("addTag")
        self.add_tag.setPlaceholderText("Add a tag and press Enter")
        self.add_tag.returnPressed.connect(self._add_typed_tag)
        self._names = QStringListModel(self)
        completer = QCompleter(self._names, self)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.add_tag.setCompleter(completer)
        lay.addWidget(self.add_tag)
        lay.addStretch(1)
        self._set_enabled(False)
        hub.changed.connect(self._on_changes)

    def set_tag_names(self, names: list[str]) -> None:
        self._names.setStringList(names)

    def _set_enabled(self, on: bool) -> None:
        self.add_tag.setEnabled(on)

    # -- showing -------------------------------------------------------------------
    def show_photos(self, photos: list[Photo]) -> None:
        if [p.id for p in photos] == [p.id for p in self.photos] and photos == self.photos:
            return
        self.photos = list(photos)
        self.marks.show_photos([p.id for p in photos])
        if self._token is not None:
            self._token.cancel()
        if not photos:
            for v in self.fields.values():
                v.setText("")
            self.preview.set_image(None, "Select a photo to see its details")
            self.tag_label.setText("")
            self._set_enabled(False)
            return
        self._set_enabled(True)
        first = photos[0]
        if len(photos) == 1:
            p = first
            self.fields["file"].setText(html.escape(p.name))
            self.fields["folder"].setText(html.escape(os.path.dirname(p.path)))
            self.fields["date"].setText(human_date(p.taken_at, p.date_source))
            self.fields["camera"].setText(p.camera or "")
            dims = f"{p.width} × {p.height}, " if p.width and p.height else ""
            self.fields["size"].setText(f"{dims}{human_size(p.size)}" + (f", {p.format}" if p.format else ""))
            status = {"indexed": "indexed", "pending": "waiting to be indexed",
                      "offline": "offline (folder not reachable)"}.get(p.status, p.status)
            if p.status == "failed":
                status = f"could not be indexed: {p.reason}"
            self.fields["status"].setText(status)
        else:
            self.fields["file"].setText(f"{len(photos)} photos selected")
            self.fields["folder"].setText("")
            dates = sorted(p.taken_at for p in photos if p.taken_at)
            self.fields["date"].setText(
                f"{human_date(dates[0], None)} – {human_date(dates[-1], None)}" if dates else ""
            )
            self.fields["camera"].setText(", ".join(sorted({p.camera for p in photos if p.camera}))[:200])
            self.fields["size"].setText(human_size(sum(p.size or 0 for p in photos)))
            self.fields["status"].setText("")
        self.preview.set_image(None, "loading…")
        self.tag_label.setText("")
        ids = [p.id for p in photos]
        library = self.library

        def job():
            tags = library.tags.common(ids)
            try:
                image, text = load_image(first.path, PREVIEW_SIDE), ""
            except Exception as exc:  # noqa: BLE001 - the panel says why, nothing else breaks
                image, text = None, str(exc)
            return tags, image, text

        def done(value) -> None:
            tags, image, text = value
            self.tags = tags
            self.preview.set_image(image, text)
            self._render_tags()

        self._token = self.pools.run(self.pools.general, job, done, lambda e: log.error("details", exc_info=e),
                                     owner=self)

    def _on_changes(self, changes: Changes) -> None:
        if changes.tags or changes.photos:
            self._refresh_tags()

    def _refresh_tags(self) -> None:
        if not self.photos:
            return
        ids = [p.id for p in self.photos]
        library = self.library

        def done(tags) -> None:
            if [p.id for p in self.photos] == ids:
                self.tags = tags
                self._render_tags()

        self.pools.run(self.pools.general, lambda: library.tags.common(ids), done, owner=self)

    def _render_tags(self) -> None:
        parts = []
        for name, source, state, score in self.tags:
            e = html.escape(name)
            q = html.escape(name, quote=True)
            if state == "accepted":
                parts.append(f'<span style="white-space:nowrap"><b>{e}</b>&nbsp;<a href="rm:{q}">✕</a></span>')
            elif state == "suggested":
                pct = f" {score:.0%}" if score is not None else ""
                parts.append(f'<span style="white-space:nowrap"><a href="ok:{q}"><i>{e}?{pct}</i></a></span>')
        self.tag_label.setText("Tags: " + ("&nbsp;&nbsp; ".join(parts) if parts else "<i>none</i>"))

    # -- editing ---------------------------------------------------------------------
    def _tag_link(self, link: str) -> None:
        action, _, name = link.partition(":")
        if action == "rm":
            self.remove_tag(name)
        elif action == "ok":
            self.add_tags(name)

    def _add_typed_tag(self) -> None:
        name = self.add_tag.text().strip()
        if name:
            self.add_tag.clear()
            self.add_tags(name)

    def add_tags(self, name: str) -> None:
        self._change_tag(self.library.tags.accept, name, "add")

    def remove_tag(self, name: str) -> None:
        self._change_tag(self.library.tags.remove, name, "remove")

    def _change_tag(self, operation, name: str, verb: str) -> None:
        ids = [p.id for p in self.photos]
        if not ids:
            return
        self.hub.write(lambda: operation(ids, name), None,
                       lambda e: self.tag_label.setText(f"Could not {verb} the tag: {html.escape(str(e))}"), owner=self)

"""The details panel: the preview pane, the photo's facts, its marks, and its tags (editable).

One photo: a zoomable preview (decoded by indexing's path; the cached
thumbnail with a note when the file cannot be shown), and what the file
says of it through the one metadata reader scanning uses
(``library.files.details``): camera, lens, exposure, focal length with its
35 mm equivalent, size, format, the capture date with its time-zone offset,
the GPS position ("Open in map" hands a ``geo:`` link to the system, or an
OpenStreetMap page to the browser when nothing takes ``geo:``), the sidecar;
then its stars, flag and colour label (to set, :class:`~clipdesk.ui.grid.marks.MarksLine`)
and tags. Several photos: a summary.

Tags added or removed here go through the change hub; the panel reads the
shown photos' tags again whenever the hub says tags or photos changed,
whoever changed them.
"""

from __future__ import annotations

import html
import logging
import os

from PySide6.QtCore import QStringListModel, Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QCompleter, QFormLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from clipdesk.core.catalog import Photo
from clipdesk.core.changes import Changes
from clipdesk.core.library import Library
from clipdesk.core.metadata import Position
from clipdesk.ui.grid import facts
from clipdesk.ui.grid.facts import human_date, human_size
from clipdesk.ui.grid.marks import MarksLine
from clipdesk.ui.hub import ChangeHub
from clipdesk.ui.viewer.loading import load_photo
from clipdesk.ui.viewer.zoom import ZoomView
from clipdesk.ui.workers import CancelToken, Pools

log = logging.getLogger(__name__)

PREVIEW_SIDE = 640

#: The rows of facts, in order: (key, label).
FIELDS = (("file", "File"), ("folder", "Folder"), ("date", "Taken"), ("camera", "Camera"), ("lens", "Lens"),
          ("exposure", "Exposure"), ("focal", "Focal length"), ("size", "Size"), ("place", "Location"),
          ("sidecar", "Sidecar"), ("status", "Status"))


def open_map(position: Position) -> str:
    """Show ``position`` on a map: the system's ``geo:`` handler (a map app),
    else OpenStreetMap in the browser. Returns the URL that was opened."""
    url = facts.geo_url(position)
    if QDesktopServices.openUrl(QUrl(url)):
        return url
    url = facts.web_map_url(position)
    QDesktopServices.openUrl(QUrl(url))
    return url


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
        #: The position of the photo shown, when it has one ("Open in map").
        self.position: Position | None = None
        self._token: CancelToken | None = None
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        self.preview = ZoomView(self)
        self.preview.setObjectName("detailsPreview")
        self.preview.setMinimumHeight(120)
        self.preview.set_image(None, None, "Select a photo to see its details")
        lay.addWidget(self.preview, 3)
        self.note = QLabel(self)
        self.note.setObjectName("detailsNote")
        self.note.setWordWrap(True)
        self.note.hide()
        lay.addWidget(self.note)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.fields: dict[str, QLabel] = {}
        self._rows: dict[str, QLabel] = {}
        for key, label in FIELDS:
            value = QLabel(self)
            value.setWordWrap(True)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse
                                          | Qt.TextInteractionFlag.LinksAccessibleByMouse)
            value.setObjectName(f"detail_{key}")
            name = QLabel(label, self)
            form.addRow(name, value)
            self.fields[key] = value
            self._rows[key] = name
        self.fields["place"].setTextFormat(Qt.TextFormat.RichText)
        self.fields["place"].linkActivated.connect(lambda _link: self.position and open_map(self.position))
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
        self._set_fields({})
        hub.changed.connect(self._on_changes)

    def set_tag_names(self, names: list[str]) -> None:
        self._names.setStringList(names)

    def _set_enabled(self, on: bool) -> None:
        self.add_tag.setEnabled(on)

    def _set_fields(self, values: dict[str, str]) -> None:
        """Fill the rows; a row with nothing to say is hidden."""
        for key, value in self.fields.items():
            text = values.get(key, "")
            value.setText(text)
            value.setVisible(bool(text))
            self._rows[key].setVisible(bool(text))

    # -- showing -------------------------------------------------------------------
    def show_photos(self, photos: list[Photo]) -> None:
        if [p.id for p in photos] == [p.id for p in self.photos] and photos == self.photos:
            return
        self.photos = list(photos)
        self.position = None
        self.marks.show_photos([p.id for p in photos])
        if self._token is not None:
            self._token.cancel()
        self.note.hide()
        if not photos:
            self._set_fields({})
            self.preview.set_image(None, None, "Select a photo to see its details")
            self.tag_label.setText("")
            self._set_enabled(False)
            return
        self._set_enabled(True)
        first = photos[0]
        self._set_fields(_catalog_facts(photos))
        self.preview.set_image(None, None, "loading…")
        self.tag_label.setText("")
        ids = [p.id for p in photos]
        library = self.library

        def job():
            tags = library.tags.common(ids)
            shown = load_photo(first, library.thumbnails, PREVIEW_SIDE)
            details = library.files.details(first) if len(photos) == 1 else None
            return tags, shown, details

        def done(value) -> None:
            tags, shown, details = value
            self.tags = tags
            self.preview.set_image(shown.image, shown.size, shown.note)
            self.note.setText(shown.note if shown.image is not None else "")
            self.note.setVisible(bool(shown.note) and shown.image is not None)
            fields = _catalog_facts(self.photos)
            if details is not None:
                fields.update(self._file_facts(first, details))
            self._set_fields(fields)
            self._render_tags()

        self._token = self.pools.run(self.pools.general, job, done, lambda e: log.error("details", exc_info=e),
                                     owner=self)

    def _file_facts(self, photo: Photo, details) -> dict[str, str]:
        """The rows that come from the file itself (one photo)."""
        out = {"sidecar": html.escape(details.sidecar) if details.sidecar else "none"}
        meta = details.metadata
        if meta is None:
            out["status"] = f"{self.fields['status'].text()} — {details.problem}" if details.problem else ""
            return {k: v for k, v in out.items() if v}
        shot = meta.shot
        out.update({"lens": shot.lens or "", "exposure": facts.exposure(shot), "focal": facts.focal_length(shot)})
        if meta.camera:
            out["camera"] = meta.camera
        width, height = photo.width or meta.width, photo.height or meta.height
        out["size"] = " · ".join(p for p in (facts.dimensions(width, height), human_size(photo.size),
                                            photo.format or meta.format.lower()) if p)
        if shot.position is not None:
            self.position = shot.position
            out["place"] = f'{facts.place(shot.position)} &nbsp;<a href="map:">Open in map</a>'
        return out

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


def _catalog_facts(photos: list[Photo]) -> dict[str, str]:
    """What the catalog knows of one photo, or a summary of several."""
    if len(photos) == 1:
        p = photos[0]
        status = {"indexed": "indexed", "pending": "waiting to be indexed",
                  "offline": "offline (folder not reachable)"}.get(p.status, p.status)
        if p.status == "failed":
            status = f"could not be indexed: {p.reason}"
        size = " · ".join(x for x in (facts.dimensions(p.width, p.height), human_size(p.size), p.format) if x)
        return {"file": html.escape(p.name), "folder": html.escape(os.path.dirname(p.path)),
                "date": human_date(p.taken_at, p.date_source, p.taken_offset), "camera": p.camera or "",
                "size": size, "status": status}
    dates = sorted(p.taken_at for p in photos if p.taken_at)
    return {"file": f"{len(photos)} photos selected",
            "date": f"{human_date(dates[0], None)} – {human_date(dates[-1], None)}" if dates else "",
            "camera": ", ".join(sorted({p.camera for p in photos if p.camera}))[:200],
            "size": human_size(sum(p.size or 0 for p in photos))}


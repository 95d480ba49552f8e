"""The duplicates view: each group of copies side by side, the one to keep, the others to the trash.

``library.search.duplicates()`` (on a worker) finds photos with identical
content or near-identical embeddings and suggests the copy to keep, with why
(the original, the most real detail, the oldest: :mod:`clipdesk.core.duplicates`).
Each group shows its copies as cards: thumbnail, name, folder, size, format,
date; the keeper is marked with the reason. "Keep this one" makes another
copy the keeper; "Move the others to the trash" sends the rest through
:class:`~clipdesk.ui.files.operations.FileOperations` (asked first, undoable
where the system allows). Groups are shown a page at a time: a library can
have thousands.
"""

from __future__ import annotations

import logging
import os

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QFontMetrics, QImage, QPixmap
from PySide6.QtWidgets import (
    QDialog, QFrame, QHBoxLayout, QLabel, QPushButton, QScrollArea, QSizePolicy, QVBoxLayout, QWidget,
)

from clipdesk.core.catalog import Photo
from clipdesk.core.changes import Changes
from clipdesk.core.duplicates import DuplicateGroup
from clipdesk.core.library import Library
from clipdesk.core.wording import plural
from clipdesk.ui.files.operations import FileOperations
from clipdesk.ui.fitting import fit_over
from clipdesk.ui.grid.facts import dimensions, human_date, human_size
from clipdesk.ui.hub import ChangeHub
from clipdesk.ui.images import thumbnail_image
from clipdesk.ui.workers import Pools

log = logging.getLogger(__name__)

#: Groups shown at first, and added by "Show more".
PAGE = 40
THUMB = 160


class CopyCard(QFrame):
    """One copy in a group: its thumbnail and facts; the keeper says why it is kept."""

    def __init__(self, photo: Photo, image: QImage | None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("duplicateCopy")
        self.photo = photo
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setFixedWidth(THUMB + 24)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 8, 8, 8)
        picture = QLabel(self)
        picture.setFixedSize(QSize(THUMB, THUMB))
        picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        if image is not None and not image.isNull():
            picture.setPixmap(QPixmap.fromImage(image).scaled(THUMB, THUMB, Qt.AspectRatioMode.KeepAspectRatio,
                                                              Qt.TransformationMode.SmoothTransformation))
        else:
            picture.setText("no thumbnail")
        lay.addWidget(picture)
        facts = [photo.name, os.path.basename(os.path.dirname(photo.path)) + "/",
                 dimensions(photo.width, photo.height), " · ".join(x for x in (human_size(photo.size), photo.format)
                                                                   if x),
                 human_date(photo.taken_at, None)]
        metrics = QFontMetrics(self.font())
        self.facts = QLabel("\n".join(metrics.elidedText(f, Qt.TextElideMode.ElideMiddle, THUMB)
                                      for f in facts if f), self)
        self.facts.setToolTip(photo.path)
        lay.addWidget(self.facts)
        #: "Keep ✓ <why>" on the keeper.
        self.badge = QLabel(self)
        self.badge.setObjectName("keeperBadge")
        self.badge.setWordWrap(True)
        lay.addWidget(self.badge)
        self.keep = QPushButton("Keep this one", self)
        self.keep.setObjectName("keepThisOne")
        lay.addWidget(self.keep)
        lay.addStretch(1)

    def set_keeper(self, keeper: bool, why: str) -> None:
        self.badge.setText(f"<b>✓ Keep</b> — {why}" if keeper else "")
        self.badge.setVisible(keeper)
        self.keep.setVisible(not keeper)
        self.setStyleSheet("#duplicateCopy { border: 2px solid palette(highlight); }" if keeper else "")


class GroupCard(QFrame):
    """A group of copies side by side, with the keeper marked and the trash button."""

    def __init__(self, group: DuplicateGroup, images: dict[int, QImage], files: FileOperations,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("duplicateGroup")
        self.group = group
        self.files = files
        self.images = images
        #: The copy the user keeps (the suggestion until "Keep this one").
        self.keeper: Photo = group.photos[0]
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 6, 0, 6)
        alike = min((s for s in group.scores if s == s), default=1.0)
        what = "Identical files" if group.reason == "identical content" else f"Near-duplicates ({alike:.0%} alike)"
        self.title = QLabel(f"<b>{what}</b> · {plural(len(group.photos), 'copy', 'copies')}", self)
        lay.addWidget(self.title)
        row = QHBoxLayout()
        self.cards: list[CopyCard] = []
        for photo in group.photos:
            card = CopyCard(photo, images.get(photo.id), self)
            card.keep.clicked.connect(lambda _=False, p=photo: self.keep(p))
            row.addWidget(card)
            self.cards.append(card)
        row.addStretch(1)
        lay.addLayout(row)
        self.trash_button = QPushButton(self)
        self.trash_button.setObjectName("trashOthers")
        self.trash_button.clicked.connect(self.trash_others)
        buttons = QHBoxLayout()
        buttons.addWidget(self.trash_button)
        buttons.addStretch(1)
        lay.addLayout(buttons)
        self.keep(self.keeper)

    def keep(self, photo: Photo) -> None:
        """Make ``photo`` the copy that stays."""
        self.keeper = photo
        suggested = self.group.photos[0]
        for card in self.cards:
            why = self.group.why if photo.id == suggested.id else "your choice"
            card.set_keeper(card.photo.id == photo.id, why)
        n = len(self.group.photos) - 1
        self.trash_button.setText(f"Move the other {plural(n, 'copy', 'copies')} to the trash" if n > 1
                                  else "Move the other copy to the trash")

    def others(self) -> list[Photo]:
        return [p for p in self.group.photos if p.id != self.keeper.id]

    def trash_others(self, *, confirm: bool = True) -> None:
        self.files.trash(self.others(), confirm=confirm)


class DuplicatesWindow(QDialog):
    """Every group of duplicates in the library; opened from View ▸ Duplicates."""

    def __init__(self, library: Library, pools: Pools, hub: ChangeHub, files: FileOperations,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("duplicatesWindow")
        self.setWindowTitle("Duplicates")
        self.setModal(False)
        self.library = library
        self.pools = pools
        self.files = files
        #: Every group found, and those shown (a page at a time).
        self.found: list[DuplicateGroup] = []
        self.groups: list[GroupCard] = []
        self.loading = False
        lay = QVBoxLayout(self)
        top = QHBoxLayout()
        self.summary = QLabel("", self)
        self.summary.setObjectName("duplicatesSummary")
        self.summary.setWordWrap(True)
        refresh = QPushButton("Look again", self)
        refresh.clicked.connect(self.refresh)
        top.addWidget(self.summary, 1)
        top.addWidget(refresh)
        lay.addLayout(top)
        self.body = QWidget(self)
        self.column = QVBoxLayout(self.body)
        self.column.addStretch(1)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.body)
        scroll.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        lay.addWidget(scroll, 1)
        self.more = QPushButton("Show more", self)
        self.more.clicked.connect(self._show_page)
        self.more.hide()
        lay.addWidget(self.more)
        fit_over(self, 900, 640)
        hub.changed.connect(self._on_changes)

    def refresh(self) -> None:
        """Look for duplicates again (on a worker)."""
        self.loading = True
        self.summary.setText("Looking for duplicates…")
        search, thumbs = self.library.search, self.library.thumbnails

        def job():
            groups = search.duplicates()
            images = {}
            for group in groups[:PAGE]:
                images.update(_thumbnails(group, thumbs))
            return groups, images

        def failed(exc: BaseException) -> None:
            self.loading = False
            self.summary.setText(f"Could not look for duplicates: {exc}")

        self.pools.run(self.pools.general, job, self._show, failed, owner=self)

    def _show(self, value) -> None:
        groups, images = value
        self.loading = False
        self.found = groups
        for card in self.groups:
            card.deleteLater()
        self.groups = []
        self._add(groups[:PAGE], images)
        self._summarise()

    def _show_page(self) -> None:
        page = self.found[len(self.groups):len(self.groups) + PAGE]
        thumbs = self.library.thumbnails

        def job():
            images = {}
            for group in page:
                images.update(_thumbnails(group, thumbs))
            return images

        self.pools.run(self.pools.general, job, lambda images: (self._add(page, images), self._summarise()),
                       owner=self)

    def _add(self, groups: list[DuplicateGroup], images: dict[int, QImage]) -> None:
        for group in groups:
            card = GroupCard(group, images, self.files, self.body)
            self.column.insertWidget(self.column.count() - 1, card)
            self.groups.append(card)

    def _summarise(self) -> None:
        if not self.found:
            self.summary.setText("No duplicates: every photo in the library is one of a kind.")
        else:
            spare = sum(len(g.photos) - 1 for g in self.found)
            self.summary.setText(f"{plural(len(self.found), 'group')} of copies; {plural(spare, 'photo')} could go. "
                                 "The suggested copy to keep is marked, with why.")
        self.more.setVisible(len(self.groups) < len(self.found))

    def _on_changes(self, changes: Changes) -> None:
        """Copies that left the library leave their group; a group of one is done."""
        if not changes.removed or self.loading:
            return
        gone = changes.removed
        self.found = [t for g in self.found if (t := _without(g, gone)) is not None]
        for card in list(self.groups):
            if not any(p.id in gone for p in card.group.photos):
                continue
            at = self.column.indexOf(card)
            self.column.removeWidget(card)
            card.deleteLater()
            i = self.groups.index(card)
            trimmed = _without(card.group, gone)
            if trimmed is None:
                del self.groups[i]
                continue
            fresh = GroupCard(trimmed, card.images, self.files, self.body)
            self.column.insertWidget(at, fresh)
            self.groups[i] = fresh
        self._summarise()


def _without(group: DuplicateGroup, gone: frozenset[int]) -> DuplicateGroup | None:
    """The group without the photos that left; None when fewer than two remain."""
    kept = [(p, s) for p, s in zip(group.photos, group.scores) if p.id not in gone]
    if len(kept) == len(group.photos):
        return group
    if len(kept) < 2:
        return None
    why = group.why if kept[0][0].id == group.photos[0].id else "the suggested copy left the library"
    return DuplicateGroup([p for p, _ in kept], [s for _, s in kept], group.reason, why)


def _thumbnails(group: DuplicateGroup, thumbs) -> dict[int, QImage]:
    """Each copy's cached thumbnail (worker thread)."""
    out = {}
    for photo in group.photos:
        image = thumbnail_image(thumbs.get(photo.hash) if photo.hash else None)
        if not image.isNull():
            out[photo.id] = image
    return out

"""The marks service: a photographer's culling marks.

``library.marks`` sets 0-5 stars, pick/reject flags and colour labels (red,
yellow, green, blue, purple) on photos, as Lightroom Classic and digiKam do;
each change is undoable and, when sidecar writing is on, goes to the photos'
XMP sidecars as ``xmp:Rating`` (-1 for a rejected photo) and ``xmp:Label``
(:class:`clipdesk.core.sidecar.Marks`). They are filters of the query
language: ``rating:>=3``, ``flag:pick``, ``label:red``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from clipdesk.core.catalog import Catalog
from clipdesk.core.changes import Changes, SidecarFailure, UndoStep
from clipdesk.core.errors import ClipDeskError, UsageError
from clipdesk.core.names import display_path
from clipdesk.core.query import FLAGS, LABELS
from clipdesk.core.wording import plural


class MarkService:
    def __init__(self, catalog: Catalog, sidecars):
        self._catalog = catalog
        #: The sidecar policy shared with the tag service (write or not, which name).
        self._sidecars = sidecars

    def of(self, photo_ids: Sequence[int]) -> dict[int, tuple[int, str | None, str | None]]:
        """photo id -> (stars, flag, label)."""
        return self._catalog.marks(photo_ids)

    def rate(self, photo_ids: Sequence[int], stars: int) -> Changes:
        """0 (no rating) to 5 stars. Undoable. UsageError outside 0-5."""
        if not isinstance(stars, int) or not 0 <= stars <= 5:
            raise UsageError("a rating is 0 to 5 stars")
        label = f"Rate {plural(len(photo_ids), 'photo')} {plural(stars, 'star')}" if stars \
            else f"Clear the rating of {plural(len(photo_ids), 'photo')}"
        return self._set(photo_ids, label, {"rating": stars})

    def flag(self, photo_ids: Sequence[int], flag: str | None) -> Changes:
        """"pick", "reject" or None (unflagged). Undoable."""
        if flag is not None and flag not in FLAGS:
            raise UsageError(f"a flag is {' or '.join(FLAGS)}")
        what = {"pick": "Pick", "reject": "Reject", None: "Unflag"}[flag]
        return self._set(photo_ids, f"{what} {plural(len(photo_ids), 'photo')}", {"flag": flag})

    def label(self, photo_ids: Sequence[int], label: str | None) -> Changes:
        """A colour label (red, yellow, green, blue, purple) or None. Undoable."""
        if label is not None and label not in LABELS:
            raise UsageError(f"a colour label is one of {', '.join(LABELS)}")
        what = f"Label {plural(len(photo_ids), 'photo')} {label}" if label \
            else f"Clear the label of {plural(len(photo_ids), 'photo')}"
        return self._set(photo_ids, what, {"label": label})

    def _set(self, photo_ids: Sequence[int], label: str, values: dict) -> Changes:
        before = self._catalog.marks(photo_ids)
        self._catalog.set_marks(photo_ids, **values)
        return self._announce(before, label)

    def _announce(self, before: dict, label: str) -> Changes:
        ids = sorted(before)
        failures = self._write_sidecars(ids) if self._sidecars.write else ()

        def undo() -> Changes:
            now = self._catalog.marks(ids)
            self._catalog.restore_marks(before)
            return self._announce(now, label)

        return Changes(photos=frozenset(ids), sidecar_failures=failures, undo=UndoStep(label, undo))

    def _write_sidecars(self, ids) -> tuple[SidecarFailure, ...]:
        from clipdesk.core.sidecar import Marks, update_tags

        failures = []
        marks = self._catalog.marks(ids)
        for photo in self._catalog.photos(ids):
            rating, flag, label = marks[photo.id]
            try:
                update_tags(Path(photo.path), style=self._sidecars.style,
                            marks=Marks(rating, flag == "reject", label))
            except ClipDeskError as exc:
                failures.append(SidecarFailure(display_path(photo.path), str(exc)))
        return tuple(failures)

"""The marks service: a photographer's culling marks.

``library.marks`` sets 0-5 stars, pick/reject flags and colour labels (red,
yellow, green, blue, purple) on photos, as Lightroom Classic and digiKam do;
each change is undoable and, when sidecar writing is on, goes to the photos'
XMP sidecars as ``xmp:Rating`` (-1 for a rejected photo) and ``xmp:Label``
(:class:`clipdesk.core.sidecar.Marks`). They are filters of the query
language: ``rating:>=3``, ``flag:pick``, ``label:red``.
"""

from __future__ import annotations

from typing import Sequence

from clipdesk.core.catalog import Catalog
from clipdesk.core.changes import Changes, SidecarFailure, UndoStep
from clipdesk.core.errors import UsageError
from clipdesk.core.query import FLAGS, LABELS
from clipdesk.core.wording import plural


def _words(kind: str, value, n: int) -> tuple[str, str]:
    """A mark set on ``n`` photos in words: (the edit, for the Edit menu's
    Undo; the same edit done, for the status bar), e.g. ("Label 1 photo red",
    "Labelled 1 photo red"), ("Mark 2 photos as picks", "Marked 2 photos as picks")."""
    photos = plural(n, "photo")
    if kind == "rating":
        if not value:
            return f"Clear the rating of {photos}", f"Cleared the rating of {photos}"
        return f"Rate {photos} {plural(value, 'star')}", f"Rated {photos} {plural(value, 'star')}"
    if kind == "flag":
        if value is None:
            return f"Unflag {photos}", f"Unflagged {photos}"
        as_what = f"a {value}" if n == 1 else f"{value}s"  # a pick, rejects
        return f"Mark {photos} as {as_what}", f"Marked {photos} as {as_what}"
    if value is None:
        return f"Clear the label of {photos}", f"Cleared the label of {photos}"
    return f"Label {photos} {value}", f"Labelled {photos} {value}"


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
        return self._set(photo_ids, _words("rating", stars, len(photo_ids)), {"rating": stars})

    def flag(self, photo_ids: Sequence[int], flag: str | None) -> Changes:
        """"pick", "reject" or None (unflagged). Undoable."""
        if flag is not None and flag not in FLAGS:
            raise UsageError(f"a flag is {' or '.join(FLAGS)}")
        return self._set(photo_ids, _words("flag", flag, len(photo_ids)), {"flag": flag})

    def label(self, photo_ids: Sequence[int], label: str | None) -> Changes:
        """A colour label (red, yellow, green, blue, purple) or None. Undoable."""
        if label is not None and label not in LABELS:
            raise UsageError(f"a colour label is one of {', '.join(LABELS)}")
        return self._set(photo_ids, _words("label", label, len(photo_ids)), {"label": label})

    def _set(self, photo_ids: Sequence[int], words: tuple[str, str], values: dict) -> Changes:
        before = self._catalog.marks(photo_ids)
        self._catalog.set_marks(photo_ids, **values)
        return self._announce(before, words)

    def _announce(self, before: dict, words: tuple[str, str]) -> Changes:
        ids = sorted(before)
        failures = self._write_sidecars(ids) if self._sidecars.write else ()

        def undo() -> Changes:
            now = self._catalog.marks(ids)
            self._catalog.restore_marks(before)
            return self._announce(now, words)

        label, done = words
        return Changes(photos=frozenset(ids), sidecar_failures=failures, undo=UndoStep(label, undo, done))

    def _write_sidecars(self, ids) -> tuple[SidecarFailure, ...]:
        from clipdesk.core.sidecar import Marks

        failures = []
        marks = self._catalog.marks(ids)
        for photo in self._catalog.photos(ids):
            rating, flag, label = marks[photo.id]
            failures += self._sidecars.update(self._catalog, photo, marks=Marks(rating, flag == "reject", label))
        return tuple(failures)

"""The folder service: library folders, exclusions, offline state, scanning and indexing.

``library.folders`` adds and removes library folders, keeps exclusions,
reports each folder's state (online or offline, with why) and counts, and
runs the indexing pipeline (scan -> decode -> embed -> write), keeping the
active model's vector index in step and saving it when a run ends.

Thread-safe: call from worker threads.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from clipdesk.core.catalog import Catalog, Folder, Photo, Summary
from clipdesk.core.changes import Changes, UndoStep
from clipdesk.core.errors import ClipDeskError, ModelError, NotFound, UsageError
from clipdesk.core.imaging import ThumbnailCache
from clipdesk.core.models import ActiveModel, ModelService
from clipdesk.core.names import display_path, incoming_path, is_under, path_candidates, resolve_typed_path
from clipdesk.core.pipeline import Pipeline, Progress, RunResult
from clipdesk.core.wording import plural

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FolderRow:
    """A library folder as the sidebar and `clipdesk folders list` show it."""

    path: str
    kind: str  # "root" | "exclude"
    state: str  # "online" | "offline"
    photos: int
    last_scan: float | None  # seconds since the epoch
    note: str | None  # why it is offline


def read_summary(paths) -> Summary:
    """Counts of a catalog opened read-only and without its lock, so that
    `clipdesk doctor` works while the app holds the catalog. Raises
    CatalogError when it cannot be read."""
    with Catalog(paths.catalog, readonly=True) as cat:
        return cat.summary()


class FolderService:
    def __init__(self, catalog: Catalog, models: ModelService, thumbnails: ThumbnailCache):
        self._catalog = catalog
        self._models = models
        self._thumbnails = thumbnails

    # -- edits by other programs -------------------------------------------------------
    def edited_elsewhere(self) -> bool:
        """True when another program (`clipdesk tags add`, `folders add`, a
        `clipdesk scan --watch`) changed the catalog since the last call; the
        first call only takes the reference. Cheap: the GUI polls it every
        second (:meth:`Catalog.edited_elsewhere <clipdesk.core.catalog.base.CatalogBase.edited_elsewhere>`)."""
        return self._catalog.edited_elsewhere()

    # -- folders ---------------------------------------------------------------------------
    def add(self, path: str | os.PathLike) -> Folder:
        """Add a folder to the library, recorded where it really is (symbolic
        links resolved, a name typed in NFC matched to one written in NFD).
        Photos an outer library folder already holds below it move to the new
        one with their ids and tags; an exclusion of that folder is lifted and
        the photos it held come back. Raises NotFound when ``path`` is not a folder."""
        real = resolve_typed_path(path)
        if not os.path.isdir(real):
            raise NotFound(f"{display_path(incoming_path(path))} is not a folder")
        if real in self._catalog.exclusions():
            self._lift_exclusion(self._catalog.folder_by_path(real))
        folder = self._catalog.add_folder(real)
        self._catalog.reassign_photos(real, folder.id)
        return folder

    def exclude(self, path: str | os.PathLike) -> Changes:
        """Skip a folder inside a library folder. Its photos leave the library but
        are remembered (removing the exclusion brings them back, tags included).
        Raises UsageError when it is not inside a library folder."""
        roots = [os.fsencode(f.path) for f in self._catalog.roots()]
        for candidate in path_candidates(path):
            if any(is_under(candidate, r) and candidate != r for r in roots):
                folder = self._catalog.add_folder(candidate, kind="exclude")
                ids = self._catalog.photo_ids_under(candidate)
                self._catalog.archive_photos(ids)
                self._models.forget(ids)
                undo = UndoStep(f"Exclude {os.path.basename(display_path(candidate))}",
                                lambda: self._lift_exclusion(folder))
                return Changes(removed=frozenset(ids), folders=True, tags=bool(ids), undo=undo)
        raise UsageError(
            f"{display_path(incoming_path(path))} is not inside a library folder, so there is nothing to exclude")

    def remove(self, path: str | os.PathLike) -> Changes:
        """Take a library folder or an exclusion out of the library; the files
        stay on disk. A library folder's photos that an outer library folder
        still covers stay, with their ids and tags; the others leave. Removing
        an exclusion brings back the photos it held. Raises NotFound for a path
        that is neither."""
        folder = self._folder(path)
        if folder.kind == "exclude":
            return self._lift_exclusion(folder)
        raw = os.fsencode(folder.path)
        outer = [f for f in self._catalog.roots() if f.id != folder.id and is_under(raw, os.fsencode(f.path))]
        if outer:
            keeper = max(outer, key=lambda f: len(f.path))  # the nearest one
            self._catalog.reassign_photos(raw, keeper.id)
        ids = self._catalog.remove_folder(folder.id)
        self._models.forget(ids)
        return Changes(removed=frozenset(ids), folders=True, tags=bool(ids))

    def _lift_exclusion(self, folder: Folder) -> Changes:
        raw = os.fsencode(folder.path)
        self._catalog.remove_folder(folder.id)
        restored = self._catalog.restore_archived(self._catalog.archived_under(raw))
        undo = UndoStep(f"Include {os.path.basename(folder.path)} again", lambda: self.exclude(raw))
        return Changes(photos=frozenset(restored), folders=True, tags=bool(restored), catalog=bool(restored),
                       undo=undo)

    def _folder(self, path) -> Folder:
        for candidate in path_candidates(path):
            try:
                return self._catalog.folder_by_path(candidate)
            except NotFound:
                continue
        raise NotFound(f"{display_path(incoming_path(path))} is not a library folder")

    def roots(self) -> list[Folder]:
        return self._catalog.roots()

    def all(self) -> list[Folder]:
        return self._catalog.folders()

    def rows(self, kind: str | None = None) -> list[FolderRow]:
        """Folders (``kind`` "root" or "exclude", or both) with their photo counts, by path."""
        counts = self._catalog.folder_photo_counts()
        return [FolderRow(f.path, f.kind, f.state, counts.get(f.id, 0), f.last_scan, f.note)
                for f in self._catalog.folders(kind)]

    def remove_photos(self, ids: Sequence[int]) -> Changes:
        """Take photos out of the library (their files stay on disk). They stay
        out: later scans skip them until :meth:`restore_photos`. Undoable."""
        paths = self._catalog.archive_photos(ids)
        self._models.forget(ids)
        undo = UndoStep(f"Remove {plural(len(paths), 'photo')} from the library",
                        lambda: self.restore_photos(paths))
        return Changes(removed=frozenset(int(i) for i in ids), tags=True, undo=undo)

    def restore_photos(self, paths: Sequence[str | bytes | os.PathLike]) -> Changes:
        """Bring photos the user removed back into the library, tags included
        (they are indexed again). Paths that were not removed are ignored."""
        candidates = [c for p in paths for c in path_candidates(p)]
        restored = self._catalog.restore_archived(candidates)
        undo = UndoStep(f"Restore {plural(len(restored), 'photo')}", lambda: self.remove_photos(restored))
        return Changes(photos=frozenset(restored), tags=bool(restored), catalog=bool(restored), undo=undo)

    def removed(self) -> list[str]:
        """Paths of the photos the user removed from the library (scans skip them)."""
        return sorted(display_path(p) for p in self._catalog.archived_paths())

    # -- status ----------------------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        """Photos by status: pending, indexed, failed, offline."""
        return self._catalog.counts()

    def summary(self) -> Summary:
        return self._catalog.summary()

    def failures(self, limit: int | None = None) -> list[Photo]:
        """Photos that could not be indexed, with their reasons, by path."""
        return self._catalog.failures(limit)

    def waiting(self, limit: int | None = 50) -> list[Photo]:
        """Photos waiting with a reason (still being written, disk full...)."""
        return self._catalog.waiting(limit)

    def retry_failed(self, ids: Sequence[int] | None = None) -> int:
        """Failed photos (all, or these) go back to the queue; returns how many.
        The next indexing run tries them again."""
        return self._catalog.retry_failed(ids)

    # -- indexing --------------------------------------------------------------------------
    def pipeline(
        self,
        *,
        on_progress: Callable[[Progress], None] | None = None,
        embed: bool = True,
        embedder=None,
        **kwargs,
    ) -> Pipeline:
        """An indexing run. With a model installed it embeds as it decodes and
        keeps the open vector index in step. ``embedder`` overrides the active
        model's image encoder (benchmarks, tests); ``embed=False`` only decodes."""
        model = None
        if embed and embedder is None:
            try:
                model = self._models.active()
                embedder = model.image
            except ModelError as exc:
                log.warning("indexing without embeddings: %s", exc)
        elif not embed:
            embedder = None

        def on_embedded(model_id: str, ids: np.ndarray, vecs: np.ndarray) -> None:
            if model is not None:
                model.add_vectors(model_id, ids, vecs)

        kwargs.setdefault("on_embedded", on_embedded)
        kwargs.setdefault("on_removed", self._models.forget)
        return _SavingPipeline(model, self._catalog, self._thumbnails, embedder=embedder,
                               on_progress=on_progress, **kwargs)

    def index(self, *, on_progress=None, **kwargs) -> RunResult:
        """Scan every root and index what is new or changed."""
        return self.pipeline(on_progress=on_progress, **kwargs).run()


class _SavingPipeline(Pipeline):
    """An indexing run that keeps the model's vector index open and in step, and
    saves it when the last run ends: the saved index then matches the catalog,
    so the next start loads it instead of rebuilding."""

    def __init__(self, model: ActiveModel | None, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.model = model

    def run(self, **kwargs) -> RunResult:
        model = self.model
        if model is None:
            return super().run(**kwargs)
        model.open_index()
        model.run_started()
        try:
            result = super().run(**kwargs)
        finally:
            still_running = model.run_ended()
        if still_running == 0 and model.index is not None:
            while model.index.rebuilding and not self._cancel.is_set():
                time.sleep(0.1)
            try:
                model.save_index()
            except ClipDeskError as exc:
                log.warning("could not save the search index: %s", exc)
        return result

"""The library: one object that owns the catalog and the caches beside it.

The CLI and the GUI are two doors onto this class; neither reaches around it
into the modules below for anything that changes state.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Callable

from dataclasses import dataclass, field
from typing import Sequence

from clipdesk.core.catalog import Catalog, Folder, Photo, encode_path, under
from clipdesk.core.errors import NotFound, UsageError
from clipdesk.core.imaging import ThumbnailCache
from clipdesk.core.paths import Paths
from clipdesk.core.pipeline import Pipeline, Progress, RunResult

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Hit:
    """One search result: a catalogued photo and its relevance score."""

    photo: Photo
    score: float


@dataclass
class SearchResult:
    """What :meth:`Library.search` and :meth:`Library.similar` return."""

    query: str
    hits: list[Hit]
    #: "relevance" or "date".
    sort: str = "relevance"
    model_id: str | None = None
    #: The adaptive relevance cut applied (None when the query had no meaning part).
    cut: float | None = None
    #: Photos that passed the query's filters (before the cut and the limit).
    considered: int = 0
    elapsed_ms: float = 0.0
    #: One line for the user, e.g. that the demo model is in use or the index is
    #: being rebuilt (exact search meanwhile). None when there is nothing to say.
    notice: str | None = None


@dataclass(frozen=True)
class TagSuggestion:
    tag: str
    score: float  # calibrated confidence in [0, 1]
    source: str  # "auto" (zero-shot vocabulary) or "learned" (taught from examples)


@dataclass
class FileSuggestions:
    """Tag suggestions for one file (in the library or not)."""

    path: str
    photo_id: int | None
    suggestions: list[TagSuggestion] = field(default_factory=list)
    error: str | None = None  # why the file could not be read


@dataclass(frozen=True)
class ModelStatus:
    """Which model searches use, in words the search bar can show."""

    model_id: str | None
    is_demo: bool
    #: e.g. "Demo model: knows clothing items and colours only. Get a real model ..."
    message: str | None
    recommended: str | None


class Library:
    def __init__(self, paths: Paths, *, lock: bool = True):
        self.paths = paths.ensure()
        self.catalog = Catalog(paths.catalog, lock=lock)
        self.thumbnails = ThumbnailCache(paths.thumbnails_dir)

    def close(self) -> None:
        self.catalog.close()

    def __enter__(self) -> "Library":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- folders -------------------------------------------------------------------
    def add_folder(self, path: str | os.PathLike[str]) -> Folder:
        p = Path(path).expanduser()
        if not p.is_dir():
            raise NotFound(f"{p} is not a folder")
        p = p.resolve()
        for f in self.catalog.folders("exclude"):
            if f.path == str(p):
                self.catalog.remove_folder(p)
        return self.catalog.add_folder(p)

    def exclude_folder(self, path: str | os.PathLike[str]) -> Folder:
        p = Path(path).expanduser().absolute()
        raw = encode_path(p)
        if not any(under(raw, encode_path(r.path)) for r in self.catalog.roots()):
            raise UsageError(f"{p} is not inside a library folder, so there is nothing to exclude")
        return self.catalog.add_folder(p, kind="exclude")

    def remove_folder(self, path: str | os.PathLike[str]) -> int:
        p = Path(path).expanduser()
        try:
            return self.catalog.remove_folder(p.absolute())
        except NotFound:
            if p.exists():
                return self.catalog.remove_folder(p.resolve())
            raise

    # -- indexing ------------------------------------------------------------------
    def pipeline(
        self,
        *,
        on_progress: Callable[[Progress], None] | None = None,
        **kwargs,
    ) -> Pipeline:
        return Pipeline(self.catalog, self.thumbnails, on_progress=on_progress, **kwargs)

    def index(self, *, on_progress=None, **kwargs) -> RunResult:
        """Scan every root and index what is new or changed."""
        return self.pipeline(on_progress=on_progress, **kwargs).run()

    # -- the contract the GUI and CLI are written against --------------------------
    # (bodies land with the engine/index/search issues; signatures are fixed)

    def model_status(self) -> ModelStatus:
        """The active model, whether it is the built-in demo model, and what to tell the user."""
        raise NotImplementedError

    def search(
        self,
        text: str,
        *,
        limit: int = 500,
        cancelled: Callable[[], bool] | None = None,
    ) -> SearchResult:
        """Run a typed query (see clipdesk.core.query for the syntax).

        Raises QueryError (message says where and why) for a query that cannot be
        parsed. ``cancelled`` is polled between stages; when it returns True the
        search stops early and returns what it has (the caller drops it).
        Thread-safe: call from worker threads, never the GUI thread.
        """
        raise NotImplementedError

    def similar(self, target: int | str | os.PathLike[str], *, limit: int = 200) -> SearchResult:
        """Photos like a catalogued photo (its id) or like any image file (a path)."""
        raise NotImplementedError

    def suggest_tags(self, targets: Sequence[int | str | os.PathLike[str]], *, top: int = 8) -> list[FileSuggestions]:
        """Tag suggestions (zero-shot vocabulary + learned tags) for photo ids or
        image files, also files outside the library."""
        raise NotImplementedError

    def accept_tag(self, photo_ids: Sequence[int], tag: str) -> None:
        """The user confirms ``tag`` on these catalogued photos."""
        raise NotImplementedError

    def reject_tag(self, photo_ids: Sequence[int], tag: str) -> None:
        """The user says these photos are not ``tag``: never suggested again, and a
        negative example for a learned tag."""
        raise NotImplementedError

    def teach_tag(
        self, tag: str, positive_ids: Sequence[int], negative_ids: Sequence[int] = (), *, limit: int = 200
    ) -> list[Hit]:
        """Learn ``tag`` from example photos; return the photos it would add, best first."""
        raise NotImplementedError

    def preview_auto_tags(self, tags: Sequence[str] | None = None) -> dict[str, int]:
        """How many photos each tag would get if applied to the whole library."""
        raise NotImplementedError

    def apply_auto_tags(self, tags: Sequence[str] | None = None, *, write_sidecars: bool = False) -> dict[str, int]:
        """Store suggested tags for the whole library (state 'suggested', source auto/learned)."""
        raise NotImplementedError

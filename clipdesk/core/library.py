"""The library: one object that owns the catalog and the caches beside it.

The CLI and the GUI are two doors onto this class; neither reaches around it
into the modules below for anything that changes state.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Callable

from clipdesk.core.catalog import Catalog, Folder, encode_path, under
from clipdesk.core.errors import NotFound, UsageError
from clipdesk.core.imaging import ThumbnailCache
from clipdesk.core.paths import Paths
from clipdesk.core.pipeline import Pipeline, Progress, RunResult

log = logging.getLogger(__name__)


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

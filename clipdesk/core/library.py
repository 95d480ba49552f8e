"""The library: a thin front door over the catalog and the per-domain services.

After Anki's collection, which hands work to its managers: the CLI and the GUI
open one :class:`Library` and call its services, never the catalog or SQL:

* ``library.search``  (:class:`~clipdesk.core.search.SearchService`): typed
  queries, find similar, listings, duplicates, saved searches;
* ``library.tags``    (:class:`~clipdesk.core.tags.TagService`): manual tags,
  suggestions, learned tags, vocabulary, sidecars;
* ``library.folders`` (:class:`~clipdesk.core.folders.FolderService`): roots,
  exclusions, offline state, scanning and indexing;
* ``library.models``  (:class:`~clipdesk.core.models.ModelService`): the
  installed models and the active one, with its vector index;
* ``library.marks``   (:class:`~clipdesk.core.marks.MarkService`): stars,
  pick/reject flags, colour labels;
* ``library.files``   (:class:`~clipdesk.core.files.FileService`): the
  photos' files: export, system trash, move to a folder.

Operations that change the library return :class:`~clipdesk.core.changes.Changes`.
All services are safe to call from worker threads.
"""

from __future__ import annotations

from clipdesk.core.catalog import Catalog
from clipdesk.core.files import FileService
from clipdesk.core.folders import FolderService
from clipdesk.core.imaging import ThumbnailCache
from clipdesk.core.models import ModelService
from clipdesk.core.paths import Paths
from clipdesk.core.people import PeopleGuard
from clipdesk.core.search import SearchService
from clipdesk.core.marks import MarkService
from clipdesk.core.tags import SidecarPolicy, TagService


class Library:
    """Open with the locations to use; close (or use ``with``) when done.

    ``lock``: take the catalog's process lock, which indexing needs (a second
    ClipDesk on the same catalog raises CatalogLocked). Without it, reads and
    catalog writes (tags, folders) still work beside the ClipDesk that holds
    it: SQLite's WAL serves readers beside a writer and queues writers.
    ``readonly``: open the catalog read-only and never write a cache file (the
    vector index is built in memory when the saved one cannot be used).
    ``model``: use this installed model instead of the one chosen in the
    catalog. Raises CatalogError when the catalog cannot be opened or upgraded.
    """

    def __init__(self, paths: Paths, *, lock: bool = True, readonly: bool = False, model: str | None = None,
                 engine_options=None):
        self.paths = paths.ensure(writable=not readonly)
        #: The catalog, for the services and for tests; the CLI and GUI never touch it.
        self.catalog = Catalog(paths.catalog, lock=lock and not readonly, readonly=readonly)
        #: True when this library holds the catalog's lock (it may index).
        self.exclusive = lock and not readonly
        self.thumbnails = ThumbnailCache(paths.thumbnails_dir)
        self.models = ModelService(paths, self.catalog, requested=model, engine_options=engine_options,
                                   save_index=self.exclusive)
        self.folders = FolderService(self.catalog, self.models, self.thumbnails)
        #: Every automatic label and text search passes through it (issue 21).
        self.people = PeopleGuard(self.catalog, self.models, self.thumbnails, paths.resources_dir,
                                  None if readonly else paths.cache_dir / "people")
        self.search = SearchService(self.catalog, self.models, self.people)
        #: Whether edits go to XMP sidecars (the user's setting), for tags and marks alike.
        self.sidecars = SidecarPolicy()
        self.tags = TagService(self.catalog, self.models, paths, self.sidecars, self.people)
        self.marks = MarkService(self.catalog, self.sidecars)
        self.files = FileService(self.catalog, self.models)

    def close(self) -> None:
        self.search.close()
        self.models.close()
        self.catalog.close()

    def __enter__(self) -> "Library":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

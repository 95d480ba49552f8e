"""The SQLite catalog: the one source of truth for the library, and the only
code that speaks SQL.

Folders, photos (path bytes, size, mtime, content hash, dimensions, EXIF date
and camera, status), tags, photo-tag links, saved searches and the embedding of
each photo per model live here. Everything else on disk (thumbnails, the HNSW
index) is a cache derived from it. Every read and write is a named method;
the connections are private (:mod:`clipdesk.core.catalog.base`).

Modules by job: ``schema`` (tables, migrations), ``base`` (connections,
transactions, lock, meta), ``folders``, ``photos``, ``tags``, ``embeddings``,
``filters`` (a query's filters as SQL), ``records`` (what reads return).
Paths are stored as the bytes ``os.fsencode`` gives, so names that are not
valid UTF-8 round-trip exactly.
"""

from __future__ import annotations

from clipdesk.core.catalog.embeddings import EmbeddingQueries
from clipdesk.core.catalog.folders import FolderQueries
from clipdesk.core.catalog.photos import PhotoQueries
from clipdesk.core.catalog.records import Folder, Photo, PhotoTag, Summary, TagCount
from clipdesk.core.catalog.schema import STATUSES, TAG_SOURCES, TAG_STATES
from clipdesk.core.catalog.tags import TagQueries


class Catalog(FolderQueries, PhotoQueries, TagQueries, EmbeddingQueries):
    """The library catalog. Open with ``Catalog(path)`` (takes the process lock,
    migrates) or ``Catalog(path, readonly=True)``; close, or use ``with``."""


__all__ = [
    "STATUSES",
    "TAG_SOURCES",
    "TAG_STATES",
    "Catalog",
    "Folder",
    "Photo",
    "PhotoTag",
    "Summary",
    "TagCount",
]

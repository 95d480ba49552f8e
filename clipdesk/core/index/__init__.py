"""The vector index: one per model, keyed by catalog photo ids.

One module per job:

* :mod:`.vectorindex` -- :class:`VectorIndex`, the API, and which search path
  answers (the measured switch-over points);
* :mod:`.store` -- every vector in one float32 matrix: exact search, and the
  checks ids and vectors pass on the way in;
* :mod:`.graph` -- the hnswlib graph over the same vectors;
* :mod:`.rebuild` -- rebuilding store and graph from the catalog in the
  background while searches and writes go on;
* :mod:`.files` -- the file on disk and the manifest that vouches for it;
* :mod:`.lock` -- the readers-writer lock that guards all of it.
"""

from clipdesk.core.index.files import (
    IndexIOError,
    IndexStale,
    Manifest,
    file_stem,
    manifest_path,
    read_manifest,
)
from clipdesk.core.index.graph import HnswParams
from clipdesk.core.index.lock import RWLock
from clipdesk.core.index.rebuild import RebuildHandle, RebuildSource
from clipdesk.core.index.store import InvalidVector, normalise_rows
from clipdesk.core.index.vectorindex import (
    EXACT_SEARCH_MAX,
    FILTER_EXACT_MAX,
    POSTFILTER_MIN_SHARE,
    TEXT_QUERY_EF,
    SearchHits,
    VectorIndex,
    text_query_ef,
)

__all__ = [
    "EXACT_SEARCH_MAX",
    "FILTER_EXACT_MAX",
    "POSTFILTER_MIN_SHARE",
    "TEXT_QUERY_EF",
    "text_query_ef",
    "HnswParams",
    "IndexIOError",
    "IndexStale",
    "InvalidVector",
    "Manifest",
    "RWLock",
    "RebuildHandle",
    "RebuildSource",
    "SearchHits",
    "VectorIndex",
    "file_stem",
    "manifest_path",
    "normalise_rows",
    "read_manifest",
]

"""The search service: typed queries, find similar, listings, duplicates, saved searches.

``library.search`` answers what the search bar, the grid and the CLI ask:

* :meth:`SearchService.query` runs a parsed :class:`~clipdesk.core.query.Query`
  (parsed once, by the caller, from what the user typed): a meaning part is
  ranked by the active model (:mod:`clipdesk.core.ranking`) with the adaptive
  relevance cut; filters alone list the matching photos by date;
* :meth:`SearchService.listing` is the grid's cheap form of a filters-only
  query: every matching id, and only the first page of photos;
* :meth:`SearchService.similar`, :meth:`SearchService.duplicates`, saved searches.

Thread-safe: call from worker threads, never the GUI thread.
"""

from __future__ import annotations

import math
import os
import time
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Callable, Sequence

import numpy as np

from clipdesk.core.catalog import Catalog, Photo
from clipdesk.core.changes import Changes
from clipdesk.core.duplicates import DuplicateGroup, find_duplicates
from clipdesk.core.errors import InvalidEmbedding, NotFound
from clipdesk.core.models import ModelService
from clipdesk.core.names import display_path, encode_path, is_under, path_candidates
from clipdesk.core.query import DATE_SORTS, SORTS, Query, parse_query
from clipdesk.core.wording import plural

#: Photos fetched with a listing's ids; the grid fetches the rest as it scrolls.
PREFETCH = 2000
#: The score a file-name match shows (it ranks above every meaning match).
NAME_MATCH = 1.0
#: Typed text shorter than this is not looked for in file names.
MIN_NAME_MATCH = 3


@dataclass(frozen=True)
class Hit:
    """One search result: a catalogued photo and its relevance score (cosine;
    NaN in a listing, which has no score)."""

    photo: Photo
    score: float


@dataclass
class SearchResult:
    """What :meth:`SearchService.query`, :meth:`~SearchService.similar` and
    :meth:`~SearchService.listing` return."""

    query: str
    hits: list[Hit]
    #: How the rows are ordered: one of clipdesk.core.query.SORTS.
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
    #: Every row of a listing in order (``hits`` holds the first page); None
    #: for a ranked result, whose rows are ``hits``.
    ids: list[int] | None = None
    #: False when nothing stood out: the hits are only the closest matches.
    confident: bool = True
    #: True when the model does not seem to know what the text asks for.
    unknown: bool = False
    #: True when "Show more" (``widen + 1``) would add photos.
    more: bool = False
    #: How many "Show more" steps this result went below the adaptive cut.
    widen: int = 0
    #: For a result sorted by capture date: ("YYYY-MM" or None for no date,
    #: rows) for each month, in the rows' order; their counts add up to the
    #: rows. None for the other sorts.
    months: list[tuple[str | None, int]] | None = None

    @property
    def row_ids(self) -> list[int]:
        return self.ids if self.ids is not None else [h.photo.id for h in self.hits]


def month_runs(photos: Sequence[Photo]) -> list[tuple[str | None, int]]:
    """("YYYY-MM" or None, count) of each run of photos taken in the same
    month, in the order given (photos sorted by date: one run per month)."""
    runs: list[tuple[str | None, int]] = []
    for p in photos:
        month = p.taken_at[:7] if p.taken_at else None
        if runs and runs[-1][0] == month:
            runs[-1] = (month, runs[-1][1] + 1)
        else:
            runs.append((month, 1))
    return runs


def _check_sort(sort: str | None) -> None:
    if sort is not None and sort not in SORTS:
        raise ValueError(f"unknown sort {sort!r}; one of {', '.join(SORTS)}")


def _sort_of(query: Query | None, sort: str | None) -> str:
    """The query's own ``sort:``, else ``sort``, else its default."""
    if query is not None and query.sort:
        return query.sort
    if sort is not None and (sort != "relevance" or (query is not None and query.has_meaning)):
        return sort
    return query.effective_sort if query is not None else "newest"


class SearchService:
    def __init__(self, catalog: Catalog, models: ModelService, guard=None):
        self._catalog = catalog
        self._models = models
        #: :class:`clipdesk.core.people.PeopleGuard`: a search for a denied word
        #: (an animal, a crime, an insult) never returns photos of people.
        self._guard = guard
        #: One thread for work a search does beside its ranking.
        self._beside = ThreadPoolExecutor(1, thread_name_prefix="search-beside")
        #: (index, its size bucket, its library sample): see :meth:`_library_sample`.
        self._sample: tuple | None = None
        #: (catalog photos stamp, folder names): see :meth:`_directory_names`.
        self._dir_names: tuple | None = None

    def close(self) -> None:
        self._beside.shutdown(wait=True)

    # -- photos --------------------------------------------------------------------------
    def photos(self, ids: Sequence[int]) -> list[Photo]:
        """Photos by id, in the order given (ids no longer catalogued are skipped)."""
        return self._catalog.photos(ids)

    def photo(self, photo_id: int) -> Photo:
        """Raises NotFound when there is no such photo."""
        return self._catalog.photo(photo_id)

    def find_photo(self, path: str | bytes | os.PathLike) -> Photo | None:
        """The catalogued photo at a path someone handed us (as given, or through
        symbolic links), or None."""
        return self._catalog.photo_by_path(*path_candidates(path))

    def photo_ids(self, paths: Sequence[str | bytes | os.PathLike], *, folders: bool = False) -> list[int]:
        """Ids of catalogued photos by path, each photo once (a RAW and its
        JPEG named together are one photo); NotFound names the first path that
        is not one. ``folders``: a path may also name a folder, on disk or
        gone, and stands for every catalogued photo below it."""
        out: dict[int, None] = {}
        for p in paths:
            photo = self.find_photo(p)
            if photo is not None:
                out[photo.id] = None
                continue
            below = [i for c in path_candidates(p) for i in self._catalog.photo_ids_under(c)] if folders else []
            if not below:
                raise NotFound(self._not_in_library(p))
            out.update(dict.fromkeys(below))
        return list(out)

    def _not_in_library(self, path) -> str:
        """Why a path someone named is not a catalogued photo, in words."""
        candidates = path_candidates(path)
        if not any(os.path.lexists(c) for c in candidates):
            return f"{display_path(path)} is not in the library, and there is no such file"
        roots = [encode_path(f.path) for f in self._catalog.roots()]
        if any(is_under(c, r) for c in candidates for r in roots):
            return (f"{display_path(path)} is not in the library: it was removed or excluded, or is not "
                    "scanned yet (`clipdesk scan`)")
        return f"{display_path(path)} is not in the library (add its folder first)"

    # -- searching -----------------------------------------------------------------------
    def query(
        self,
        query: Query | str,
        *,
        limit: int = 500,
        cancelled: Callable[[], bool] | None = None,
        cut: bool = True,
        widen: int = 0,
        sort: str | None = None,
        door: str = "app",
    ) -> SearchResult:
        """Run a query (a parsed :class:`Query`; text is parsed here, for scripts).

        ``door`` ("app" or "cli") says where the notice is read, so that it
        names what the user can do there (:meth:`ModelService.status`).

        ``sort`` (one of clipdesk.core.query.SORTS) orders the rows when the
        query names no ``sort:`` of its own (the grid's sort control); by
        default relevance when there is something to rank by, else newest.

        ``limit``: most photos returned. ``cut=False`` skips the adaptive
        relevance cut (the top ``limit`` by score); ``widen`` > 0 lowers it that
        many steps ("Show more"; ``SearchResult.more`` tells whether another
        step would add photos). ``cancelled`` is polled
        between stages; when it turns true the search stops early and returns
        an empty result (the caller drops it). Raises QueryError for text that
        does not parse or parts that cancel out, ModelError when a meaning part
        needs a model and none is installed.
        """
        from clipdesk.core.ranking import Cancelled, Ranked

        _check_sort(sort)
        start = time.perf_counter()
        if isinstance(query, str) and not query.strip():
            return SearchResult(query, [], "newest")
        q = parse_query(query) if isinstance(query, str) else query
        text = query if isinstance(query, str) else str(query)
        order = _sort_of(q, sort)
        if not q.has_meaning:
            ids = self._catalog.matching_ids(q, limit=limit, sort=order)
            hits = [Hit(p, 0.0) for p in self._catalog.photos(ids)]
            return SearchResult(text, hits, order, None, None, len(hits), (time.perf_counter() - start) * 1e3,
                                months=month_runs([h.photo for h in hits]) if order in DATE_SORTS else None)
        model = self._models.active()
        # File names are matched beside the ranking (SQLite and ONNX Runtime
        # both let go of the GIL): a keystroke waits for the longer of the two.
        names = self._beside.submit(self._name_matches, q)
        try:
            ranked = model.searcher().run(q, limit=limit, cancelled=cancelled, cut=cut, widen=widen)
        except Cancelled:
            return SearchResult(text, [], order, model.model_id)
        except InvalidEmbedding:
            if not names.result():
                raise
            ranked = Ranked([], [], None, 0, True, "none")  # a file name the model cannot read as text
        named = names.result()
        if self._guard is not None and q.positives and ranked.ids:
            ranked = self._screen(" ".join(q.positives), ranked, model)
        hits = self._hits(ranked.ids, ranked.scores)
        if named:  # a file name typed (IMG_0003, holiday-2019): those files first, as Immich does
            seen = {p.id for p in named}
            hits = ([Hit(p, NAME_MATCH) for p in named] + [h for h in hits if h.photo.id not in seen])[:limit]
        notice = None
        pointer = self._named_filter(q)
        if pointer is not None:  # the text is a tag's or a folder's name: say where those photos are
            notice = pointer
        elif not ranked.known and not named:
            notice = (f"This model does not seem to know what “{', '.join(q.positives)}” looks like; "
                      "these are only the closest matches.")
        elif hits and not ranked.confident and not named:
            notice = "Nothing stands out for this search; these are the closest matches."
        if model.index is not None and model.index.rebuilding:
            notice = "The search index is being rebuilt; results may be incomplete for a moment."
        status = self._models.status(door)
        if status.is_demo and pointer is None:
            notice = status.message if notice is None else f"{notice} {status.message}"
        hits = self._sorted(hits, order)
        return SearchResult(text, hits, order, model.model_id, ranked.cut, ranked.considered,
                            (time.perf_counter() - start) * 1e3, notice, confident=ranked.confident,
                            unknown=not ranked.known, more=ranked.more, widen=widen,
                            months=month_runs([h.photo for h in hits]) if order in DATE_SORTS else None)

    def preload(self, part: str) -> None:
        """Load what typed searches need before the first one comes, so that it
        answers at once: ``"index"``, the active model's vector index, or
        ``"text"``, its text encoder (ONNX session and tokenizer). Two threads
        load the two parts side by side; a search meanwhile waits for them.
        Raises ModelError when no model is installed or it cannot load."""
        model = self._models.active()
        if part == "index":
            model.open_index()
        elif part == "text":
            model.text.load()
        else:
            raise ValueError(f"nothing called {part!r} to preload")

    def _library_sample(self, index) -> np.ndarray:
        """:func:`clipdesk.core.tagging.library_sample` of ``index``, kept while
        the library stays within the same hundred photos (as the person
        evidence is: :meth:`clipdesk.core.people.PeopleGuard.person_model`): a
        search for a denied word needs it at every keystroke, and drawing it
        costs 3-10 ms at 100,000 photos. A library smaller than the sample is
        drawn again at every change of size (it is the whole library, cheap,
        and whether it is large enough to calibrate on must not lag)."""
        from clipdesk.core.tagging import BACKGROUND_SAMPLE, library_sample

        size = len(index)
        bucket = ("size", size) if size <= BACKGROUND_SAMPLE else ("hundreds", size // 100)
        cached = self._sample
        if cached is None or cached[0] is not index or cached[1] != bucket:
            cached = self._sample = (index, bucket, library_sample(index))
        return cached[2]

    def _screen(self, text: str, ranked, model):
        """``ranked`` less the photos of people, when ``text`` names a denied
        word: not shown at all, and nothing says so."""
        from clipdesk.core.people import SEARCH_FACE_BUDGET, Subject

        if not self._guard.denied.denies(text):
            return ranked
        from clipdesk.core.tagging import VocabEntry, Vocabulary, ZeroShotTagger

        index = model.open_index()
        ids, vecs = index.vectors(ranked.ids)
        # The query calibrated against the library like a tag: its confidence on each photo.
        qvec = model.searcher().query_vector(parse_query(text))
        tagger = ZeroShotTagger(Vocabulary([VocabEntry(text, (text,))], qvec[None]), self._library_sample(index))
        # A query the model does not know gets no benefit of the doubt.
        conf = tagger.confidences(vecs)[0][:, 0] if tagger.calibrated and ranked.known else None
        if conf is None and ranked.known and not tagger.calibrated:  # a small library: the model's relative sense
            conf = self._guard.search_confidence(vecs, qvec)
        keep = self._guard.allowed(text, [Subject(int(i), v) for i, v in zip(ids, vecs)], conf,
                                   budget=SEARCH_FACE_BUDGET)
        allowed = {int(i) for i, k in zip(ids, keep) if k}
        pairs = [(i, s) for i, s in zip(ranked.ids, ranked.scores) if i in allowed]
        return replace(ranked, ids=[i for i, _ in pairs], scores=[s for _, s in pairs])

    def _named_filter(self, q: Query) -> str | None:
        """When the query's whole text is the name of a tag or of a folder
        holding photos, a line that says which filter lists them (the user
        typed a name, not a description); else None."""
        text = " ".join(q.positives)
        if not text or q.negatives or q.similar or len(q.positives) > 1:
            return None
        tag = self._catalog.stored_tag_name(text)
        if tag is not None and (n := len(self._catalog.tagged_ids(tag))):
            return f"“{text}” is a tag: {_filter('tag', tag)} lists its {plural(n, 'photo')}."
        wanted = unicodedata.normalize("NFC", text).casefold()
        if os.sep in wanted or not wanted.strip():
            return None
        if wanted in self._directory_names():
            return f"“{text}” is a folder's name: {_filter('folder', text)} lists the photos in it."
        return None

    def _directory_names(self) -> set[str]:
        """The catalog's folder names, read again only when photos come or go:
        matching every path at each keystroke cost ~230 ms at 100,000 photos
        (bench_gui). A folder renamed by a move is seen at the next add or
        removal."""
        stamp = self._catalog.photos_stamp()
        if self._dir_names is None or self._dir_names[0] != stamp:
            self._dir_names = (stamp, self._catalog.directory_names())
        return self._dir_names[1]

    def _name_matches(self, q: Query) -> list[Photo]:
        """Photos whose file name holds the query's whole text (at least
        :data:`MIN_NAME_MATCH` characters), filtered like the query, by name."""
        text = " ".join(q.positives)
        if len(text) < MIN_NAME_MATCH or q.similar:
            return []
        return self._catalog.photos(self._catalog.name_matches(text, q))

    def listing(self, query: Query | None = None, *, prefetch: int = PREFETCH,
                sort: str | None = None) -> SearchResult:
        """Photos that pass a filters-only query (every photo without one):
        every id in ``ids``, the first ``prefetch`` photos in ``hits`` (score
        NaN). Ordered by the query's ``sort:``, else by ``sort``, else newest
        first; sorted by date, ``months`` holds the month counts
        (:meth:`month_counts`) the timeline is drawn from. Cheap at 100,000
        photos: two indexed statements, no photo read beyond the first page."""
        _check_sort(sort)
        start = time.perf_counter()
        order = _sort_of(query, sort)
        if order == "relevance":
            order = "newest"
        ids = self._catalog.matching_ids(query, sort=order)
        months = None
        if order in DATE_SORTS:
            months = self._catalog.month_counts(query, oldest=order == "oldest")
            if sum(n for _m, n in months) != len(ids):  # a write came between the two reads
                ids = self._catalog.matching_ids(query, sort=order)
                months = month_runs(self._catalog.photos(ids))
        photos = self._catalog.photos(ids[:prefetch])
        return SearchResult(
            query=str(query or ""), hits=[Hit(p, math.nan) for p in photos],
            sort=order, considered=len(ids),
            elapsed_ms=(time.perf_counter() - start) * 1e3, ids=ids, months=months,
        )

    def month_counts(self, query: Query | None = None, *, oldest: bool = False) -> list[tuple[str | None, int]]:
        """("YYYY-MM", photos) of every month with photos that pass the query's
        filters, newest first (oldest first with ``oldest``); None counts the
        photos with no date yet. One GROUP BY, no photo read."""
        return self._catalog.month_counts(query, oldest=oldest)

    def count(self, query: Query | str) -> int:
        """How many photos a query shows (a saved search's count)."""
        q = parse_query(query) if isinstance(query, str) else query
        if not q.has_meaning:
            return len(self._catalog.matching_ids(q))
        return len(self.query(q).hits)

    def similar(self, target: int | str | os.PathLike[str], *, limit: int = 200,
                sort: str | None = None) -> SearchResult:
        """Photos like a catalogued photo (its id) or like any image file (a path);
        the photo itself is not a result. ``sort`` (clipdesk.core.query.SORTS)
        orders them; by default the most alike first. Raises NotFound for a
        missing file, DecodeError for one that cannot be read, ModelError
        without a model, ValueError for an unknown sort."""
        _check_sort(sort)
        start = time.perf_counter()
        model = self._models.active()
        searcher = model.searcher()
        vec = searcher.image_embedding(target)
        if isinstance(target, (int, np.integer)):
            exclude = [int(target)]
            label = f"similar to photo {target}"
        else:
            found = self.find_photo(target)
            exclude = [found.id] if found is not None else []
            label = f"similar:{display_path(target)}"
        ranked = searcher.rank(vec, limit=limit, exclude=exclude)
        order = sort or "relevance"
        hits = self._sorted(self._hits(ranked.ids, ranked.scores), order)
        return SearchResult(label, hits, order, model.model_id, ranked.cut, ranked.considered,
                            (time.perf_counter() - start) * 1e3,
                            months=month_runs([h.photo for h in hits]) if order in DATE_SORTS else None)

    def duplicates(self, threshold: float = 0.95, limit: int | None = None) -> list[DuplicateGroup]:
        """Groups of photos that are the same or nearly (embedding cosine >=
        ``threshold``, or identical content), each with the copy to keep first."""
        return find_duplicates(self._catalog, self._models.index(), threshold=threshold, limit=limit)

    def _sorted(self, hits: list[Hit], sort: str) -> list[Hit]:
        """Ranked hits in ``sort`` order (the catalog's, as listings have it)."""
        if sort == "relevance":
            return hits
        by_id = {h.photo.id: h for h in hits}
        return [by_id[i] for i in self._catalog.ordered_ids(list(by_id), sort)]

    def _hits(self, ids: list[int], scores: list[float]) -> list[Hit]:
        photos = {p.id: p for p in self._catalog.photos(ids)}
        return [Hit(photos[i], s) for i, s in zip(ids, scores) if i in photos]

    # -- saved searches ------------------------------------------------------------------
    def saved(self) -> list[tuple[str, str]]:
        """(name, query text) of every saved search, by name."""
        return self._catalog.saved_searches()

    def save(self, name: str, text: str) -> Changes:
        self._catalog.save_search(name, text)
        return Changes(saved_searches=True)

    def delete_saved(self, name: str) -> Changes:
        self._catalog.delete_saved_search(name)
        return Changes(saved_searches=True)


def _filter(name: str, value: str) -> str:
    """A filter as the user types it: ``tag:plants``, ``folder:"Summer 2023"``."""
    return f'{name}:"{value}"' if any(c.isspace() for c in value) else f"{name}:{value}"

"""Searches as the user types: each keystroke overtakes the query before it.

Every request gets a generation number and a cancel token. A new request
cancels the token of the one before it (a running search notices between its
stages and stops) and only a result whose generation is still the newest is
delivered, so a slow old query can never paint over a newer one. Searches run
one at a time on the one-thread interactive pool, and at most one request
waits for the one running: a newer keystroke replaces it. So typing fast runs
the model on the text that was being searched and then on the newest text,
never on the ones typed in between. The core caches each text's embedding
(:class:`~clipdesk.core.ranking.TextCache`): a text typed again is not run
through the model again.

The last search runs again when the change hub says that what it shows may
have changed (photos added or removed, folders, the model, or tags when it
filters by tag).

"Show more" (:meth:`SearchController.show_more`) runs the same query with the
relevance cut lowered one more step (``widen``), until the query changes. A
query the model does not know is answered with its closest matches held back
(:attr:`Answer.withheld`); the first "Show more" shows them.
"""

from __future__ import annotations

import gc
import logging
from dataclasses import dataclass, field, replace

from PySide6.QtCore import QObject, QTimer, Signal

from clipdesk.core.catalog import Photo
from clipdesk.core.changes import Changes
from clipdesk.core.errors import ClipDeskError, QueryError
from clipdesk.core.library import Library
from clipdesk.core.query import Query, parse_query
from clipdesk.core.search import SearchResult
from clipdesk.ui.hub import ChangeHub
from clipdesk.ui.workers import CancelToken, Pools

log = logging.getLogger(__name__)


@dataclass
class Answer:
    """A delivered search: what was asked, what came back, how long it took."""

    generation: int
    text: str
    result: SearchResult
    kind: str  # "text" | "similar" | "list" (filters only, or everything by date)
    #: Every row in order. ``result.hits`` holds the rows whose photos came
    #: with the answer: all of them for a search, the first PREFETCH of a listing.
    ids: list[int] = field(default_factory=list)
    scores: list[float] | None = None
    #: Identifies the rows' order and content (computed off the GUI thread):
    #: the grid tells an identical or reordered refresh apart without
    #: comparing 100,000 rows on the GUI thread.
    fingerprint: tuple[int, int] | None = None
    #: Closest matches held back (not in ``ids``): the model does not know what
    #: the query asks for, and a grid of them would look like real results.
    #: "Show more" shows them.
    withheld: int = 0

    @property
    def photos(self) -> dict[int, Photo]:
        return {h.photo.id: h.photo for h in self.result.hits}


def fingerprint(ids: list[int], result: SearchResult) -> tuple[int, int]:
    """(order, content): a hash of the ids in order, and of what each known row shows."""
    content = hash(tuple((h.photo.id, h.photo.status, h.photo.hash, h.photo.path, h.photo.taken_at, h.score)
                         for h in result.hits))
    return hash(tuple(ids)), content


class SearchController(QObject):
    """Parses what the user typed (once per search) and runs it on a worker.

    ``parsed`` tells the search bar's chips what the text now means (None
    while it does not parse), so nothing else parses it again.
    """

    answered = Signal(object)  # Answer
    failed = Signal(str, int)  # message, position in the text (-1: none)
    parsed = Signal(object)  # Query | None

    def __init__(self, library: Library, pools: Pools, hub: ChangeHub, *, limit: int = 500, delay_ms: int = 0,
                 parent: QObject | None = None):
        super().__init__(parent)
        self.library = library
        self.pools = pools
        self.limit = limit
        #: The model and the search index are loaded (the first keystroke is quick).
        self.warm = False
        self.generation = 0
        self.delivered = 0
        self.text = ""
        self._last: tuple = ("text", None, "")
        self._token: CancelToken | None = None
        #: A search is on its way (asked for, not answered yet).
        self.busy = False
        #: The request waiting for the search that runs (at most one: the newest).
        self._pending: tuple | None = None
        self._running = False
        #: "Show more" steps taken for the current query.
        self.widen = 0
        #: The answer whose closest matches are held back (see Answer.withheld),
        #: and whether the user asked to see them for the current query.
        self._withheld: Answer | None = None
        self._revealed = False
        #: The sort of each kind of answer ("list", "text", "similar") when the
        #: query names none (the grid's sort control sets it).
        self.sorts: dict[str, str] = {}
        self._delay = QTimer(self)
        self._delay.setSingleShot(True)
        self._delay.setInterval(delay_ms)
        self._delay.timeout.connect(self._start_pending)
        hub.changed.connect(self._on_changes)

    # -- requests ----------------------------------------------------------------
    def search(self, text: str) -> None:
        """Search for ``text`` (empty: all photos by date); a text that does not
        parse is reported by ``failed`` at once."""
        if text != self.text:
            self.widen, self._revealed, self._withheld = 0, False, None
        self.text = text
        try:
            query = parse_query(text) if text.strip() else None
        except QueryError as exc:
            self.parsed.emit(None)
            self.generation += 1
            if self._token is not None:
                self._token.cancel()
            self._pending = None
            self.busy = False
            self.failed.emit(str(exc), int(getattr(exc, "position", -1)))
            return
        self.parsed.emit(query)
        self._submit("text", query, text)

    def similar(self, target: int | str, label: str | None = None) -> None:
        """Photos like a catalogued photo (id) or an image file (path)."""
        shown = label or (f"similar:{target}" if isinstance(target, str) else f"photo {target}")
        self._submit("similar", target, shown)

    def refresh(self) -> None:
        """Run the last request again (the catalog changed)."""
        self._submit(*self._last, refresh=True)

    def show_more(self) -> None:
        """Show the closest matches held back, or else lower the relevance cut
        one more step for the current typed query."""
        withheld, self._withheld = self._withheld, None
        if withheld is not None:
            self._revealed = True
            ids = withheld.result.row_ids
            self.answered.emit(replace(withheld, ids=ids, scores=[h.score for h in withheld.result.hits],
                                       fingerprint=None, withheld=0))
            return
        if self._last[0] != "text" or self._last[1] is None:
            return
        self.widen += 1
        self._submit(*self._last, refresh=True)

    def _on_changes(self, changes: Changes) -> None:
        kind, target, shown = self._last
        by_tag = kind == "text" and "tag:" in shown.lower()
        by_marks = kind == "text" and target is not None and _filters_marks(target)
        if changes.removed or changes.model or changes.catalog or changes.folders or (changes.tags and by_tag) \
                or (changes.photos and by_marks):
            self.refresh()

    def _submit(self, kind: str, target, shown: str, refresh: bool = False) -> None:
        self._last = (kind, target, shown)
        self.generation += 1
        if self._token is not None:
            self._token.cancel()
        self._token = CancelToken()
        self._pending = (self.generation, kind, target, shown, self._token)
        self.busy = True
        if self._delay.interval() > 0 and not refresh:
            self._delay.start()
        else:
            self._start_pending()

    def _start_pending(self) -> None:
        if self._pending is None or self._running:
            return  # (the search that runs starts the waiting request when it ends)
        generation, kind, target, shown, token = self._pending
        self._pending = None
        self._running = True
        library, limit, widen, sorts = self.library, self.limit, self.widen, dict(self.sorts)

        def job():
            if token.cancelled:
                return None  # overtaken before it started
            q: Query | None = target if kind == "text" else None
            if kind == "similar":
                result = library.search.similar(target, limit=limit, sort=sorts.get("similar"))
                got_kind, scores = "similar", [h.score for h in result.hits]
            elif q is None or not q.has_meaning:
                result = library.search.listing(q, sort=sorts.get("list"))
                got_kind, scores = "list", None
            else:
                result = library.search.query(q, limit=limit, cancelled=token, widen=widen, sort=sorts.get("text"))
                got_kind, scores = "text", [h.score for h in result.hits]
            ids = result.row_ids
            return got_kind, result, ids, scores, fingerprint(ids, result)

        def done(value) -> None:
            self._ended()
            if value is None or generation != self.generation:
                return  # overtaken by a newer request
            got_kind, result, ids, scores, print_ = value
            self.delivered = generation
            self.busy = False
            answer = Answer(generation, shown, result, got_kind, ids, scores, print_)
            self._withheld = None
            if got_kind == "text" and result.unknown and ids and widen == 0 and not self._revealed:
                self._withheld = answer
                answer = replace(answer, ids=[], scores=[], fingerprint=None, withheld=len(ids))
            self.answered.emit(answer)

        def error(exc: BaseException) -> None:
            self._ended()
            if generation != self.generation:
                return
            self.busy = False
            if isinstance(exc, ClipDeskError):
                self.failed.emit(str(exc), int(getattr(exc, "position", -1)))
            else:
                log.error("search failed", exc_info=exc)
                self.failed.emit(f"the search failed: {exc}", -1)

        # No token for the pool: an overtaken search still comes back (and is
        # dropped), so that the request waiting for it can start.
        self.pools.run(self.pools.interactive, job, done, error, owner=self)

    def _ended(self) -> None:
        self._running = False
        self._start_pending()

    def cancel(self) -> None:
        self.generation += 1
        if self._token is not None:
            self._token.cancel()
        self._pending = None
        self.busy = False

    def warm_up(self) -> None:
        """Load what the first typed search needs right away: the model's text
        encoder and the search index, side by side on two threads (a search
        typed meanwhile waits for them and then runs), then one search that
        measures what every later one reuses.

        Importing ONNX Runtime and hnswlib (extension modules, loaded with the
        GIL held) or creating a model session stalls every thread for a moment;
        better now, once, than inside the first keystroke or in the middle of
        indexing.
        """
        library, pools = self.library, self.pools
        waiting = {"index", "text"}

        def preload(part: str):
            def job():
                try:
                    library.search.preload(part)
                except ClipDeskError as exc:
                    log.info("warm-up (%s): %s", part, exc)
            return job

        def loaded(part: str) -> None:
            waiting.discard(part)
            if waiting:
                return
            if self.busy:  # a typed search is on its way: it warms what this one would
                done()
            else:  # (one search at a time: the interactive pool's)
                pools.run(pools.interactive, search, done, lambda e: done(), owner=self)

        def search() -> None:
            try:
                library.search.query("photo", limit=1)
            except ClipDeskError as exc:
                log.info("warm-up search: %s", exc)

        def done(_=None) -> None:
            # Everything loaded so far lives as long as the app: leave it out of
            # the garbage collector's full passes, which otherwise walk the
            # whole heap (models, Qt wrappers) and stall every thread for
            # 30-100 ms at a time. (No gc.collect() first: it is such a pass,
            # 60-70 ms on the GUI thread at 100,000 photos; the little garbage
            # there is now stays.)
            gc.freeze()
            self.warm = True

        for part in sorted(waiting):
            pools.run(pools.long, preload(part), lambda _=None, p=part: loaded(p), lambda _e, p=part: loaded(p),
                      owner=self)


def _filters_marks(q: Query) -> bool:
    """Whether a photo's stars, flag or colour label decide if it is in the answer."""
    return (q.rating_min is not None or q.rating_max is not None
            or bool(q.flags or q.exclude_flags or q.labels or q.exclude_labels))

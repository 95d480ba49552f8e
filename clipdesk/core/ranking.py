"""Rank photos for a parsed query: filters from the catalog, meaning from the model.

A query (:mod:`clipdesk.core.query`) has two halves that combine:

* **filters** (folder, dates, type, camera, tags) become an SQL query over the
  catalog that yields the allowed photo ids;
* **meaning** (free text, ``-negatives``, ``+`` concepts, ``similar:`` images)
  becomes one query vector; the vector index ranks the allowed photos by
  cosine similarity and :func:`clipdesk.core.relevance.relevance_cut` decides how
  many of them are relevant, from this query's own score distribution.

A query with filters only is a listing (:mod:`clipdesk.core.search`), not a ranking.

Text embeddings of recent query parts are cached, so typing "red car" after
"red" only embeds the new text. :class:`Searcher` is thread-safe: the GUI runs
searches on a worker thread and may cancel one by making ``cancelled()`` true.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from clipdesk.core.catalog import Catalog, Photo
from clipdesk.core.embedding import ImageEmbedder, TextEmbedder
from clipdesk.core.errors import ClipDeskError, DecodeError, NotFound, QueryError
from clipdesk.core.imaging import decode
from clipdesk.core.index import VectorIndex, text_query_ef
from clipdesk.core.names import path_candidates
from clipdesk.core.query import Query
from clipdesk.core.relevance import query_vector, relevance_cut

log = logging.getLogger(__name__)

#: Candidates ranked before the relevance cut. The cut needs to see past the
#: relevant group to find where it ends.
MIN_CANDIDATES = 1000
#: When nothing stands out (the cut is not confident), this many of the closest
#: photos are still shown, labelled as closest matches.
CLOSEST_WHEN_UNSURE = 24


#: Texts no photo library is about: generic words, function words, nonsense.
#: A text query whose best matches fit it no better than they fit these is one
#: the model does not know (see :meth:`Searcher.knows`).
REFERENCE_PHRASES = (
    "a photo", "an image", "a picture", "something", "a thing", "the", "and then", "hello",
    "yesterday", "number", "xqzvt", "lorem ipsum", "blorft", "asdfgh", "okay", "maybe",
)
#: How many of the best matches the margin averages.
MARGIN_TOP = 5


@dataclass(frozen=True)
class Ranked:
    """Ranked photo ids with scores, before they are turned into Photos."""

    ids: list[int]
    scores: list[float]
    cut: float | None
    considered: int
    confident: bool
    method: str
    #: False when the query's best matches stand out no more than unrelated
    #: text's do (REFERENCE_PHRASES): the model does not know what was asked.
    known: bool = True
    #: Another "Show more" step would add photos.
    more: bool = False


class Cancelled(ClipDeskError):
    """The caller lost interest (a newer keystroke)."""


class TextCache:
    """Embeddings of recent query texts (LRU), per model."""

    def __init__(self, encoder: TextEmbedder, size: int = 512):
        self.encoder = encoder
        self.size = size
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out: list[np.ndarray | None] = []
        missing: list[str] = []
        with self._lock:
            for t in texts:
                v = self._cache.get(t)
                if v is not None:
                    self._cache.move_to_end(t)
                else:
                    missing.append(t)
                out.append(v)
        if missing:
            vecs = self.encoder.embed_texts(list(dict.fromkeys(missing)))
            fresh = dict(zip(dict.fromkeys(missing), vecs))
            with self._lock:
                for t, v in fresh.items():
                    self._cache[t] = v
                while len(self._cache) > self.size:
                    self._cache.popitem(last=False)
            out = [v if v is not None else fresh[t] for t, v in zip(texts, out)]
        return np.stack(out) if out else np.zeros((0, self.encoder.dim), np.float32)


class Searcher:
    """Runs queries for one model over one catalog and one vector index."""

    def __init__(
        self,
        catalog: Catalog,
        index: VectorIndex,
        texts: TextCache,
        images: ImageEmbedder,
    ):
        self.catalog = catalog
        self.index = index
        self.texts = texts
        self.images = images
        self.model_id = index.model_id
        #: One thread measures the reference margin; the others wait for it.
        self._reference_lock = threading.Lock()

    # -- parts -------------------------------------------------------------------------
    def image_embedding(self, target: int | str | os.PathLike[str]) -> np.ndarray:
        """The embedding of a catalogued photo (stored) or of any image file (computed)."""
        photo: Photo | None
        if isinstance(target, (int, np.integer)):
            photo = self.catalog.photo(int(target))
        else:
            candidates = path_candidates(target)
            photo = self.catalog.photo_by_path(*candidates)
            if photo is None:
                if not os.path.exists(candidates[0]):
                    raise NotFound(f"{os.fsdecode(candidates[0])} does not exist")
                return self._embed_file(candidates[0])
        got = self.index.vectors([photo.id])
        if len(got[0]):
            return got[1][0]
        stored = list(self.catalog.iter_embeddings(self.model_id, ids=[photo.id]))
        if stored:
            return stored[0][1][0]
        return self._embed_file(photo.path)

    def _embed_file(self, path: str | bytes) -> np.ndarray:
        try:
            d = decode(path, embedder=self.images)
        except DecodeError as exc:
            err = DecodeError(f"cannot read {os.fsdecode(path)}: {exc}")
            err.reason = str(exc)  # without the path, for a list that names the file already
            raise err from None
        return self.images.embed(d.model_input[None])[0]

    def query_vector(self, q: Query) -> np.ndarray | None:
        pos, neg = [], []
        if q.positives:
            pos.append(self.texts.embed(q.positives))
        if q.negatives:
            neg.append(self.texts.embed(q.negatives))
        if q.similar:
            pos.append(np.stack([self.image_embedding(p) for p in q.similar]))
        if q.dissimilar:
            neg.append(np.stack([self.image_embedding(p) for p in q.dissimilar]))
        try:
            return query_vector(
                np.concatenate(pos) if pos else None, np.concatenate(neg) if neg else None
            )
        except ValueError as exc:
            raise QueryError(str(exc)) from None

    # -- ranking -----------------------------------------------------------------------
    def rank(
        self,
        qvec: np.ndarray,
        *,
        limit: int,
        allowed: np.ndarray | None = None,
        exclude: Sequence[int] = (),
        min_keep: int = CLOSEST_WHEN_UNSURE,
        cut: bool = True,
        ef: int | None = None,
        widen: int = 0,
        words: Sequence[str] = (),
    ) -> Ranked:
        """Best first. ``cut=False`` returns the top ``limit`` by score, without
        the adaptive relevance cut (scripts, evaluations); ``widen`` > 0 lowers
        the cut that many steps ("Show more", :meth:`RelevanceCut.widened`).
        ``words``: the query's text (its positive parts), for :meth:`knows`."""
        total = len(self.index) if allowed is None else len(allowed)
        k = min((max(limit, MIN_CANDIDATES) if cut else limit) + len(exclude), max(total, 1))
        hits = self.index.search(qvec, k, allowed=allowed, ef=ef)
        ids, scores = hits.ids, hits.scores
        if exclude:
            keep = ~np.isin(ids, np.asarray(list(exclude), dtype=np.int64))
            ids, scores = ids[keep], scores[keep]
        if len(ids) == 0:
            return Ranked([], [], None, total, False, hits.method)
        if not cut:
            n = min(limit, len(ids))
            return Ranked(ids[:n].tolist(), scores[:n].astype(float).tolist(), None, total, True, hits.method)
        if len(ids) >= total:
            background = None  # the candidates are every photo: they are the background
        else:
            background = self.index.sample_scores(qvec)
        cut = relevance_cut(scores, background, library_size=total, min_keep=0)
        known = not words or self.knows(qvec, ids[:MARGIN_TOP], scores[:MARGIN_TOP], words)
        confident = cut.confident and known
        n = cut.keep if confident else min(min_keep, len(ids))
        if widen > 0:
            n = max(n, cut.widened(scores, widen))
        more = n < limit and max(n, cut.widened(scores, widen + 1)) > n
        n = min(n, limit)
        return Ranked(
            ids[:n].tolist(), scores[:n].astype(float).tolist(), cut.threshold, total,
            confident, hits.method, known, more,
        )

    def knows(self, qvec: np.ndarray, top_ids: np.ndarray, top_scores: np.ndarray, words: Sequence[str] = ()) -> bool:
        """Whether the model knows what a text query asks for.

        A small-vocabulary model (one that ships with ClipDesk) does not know a
        word its tokenizer cannot spell as one token (``words`` checked by
        :meth:`clipdesk.core.tokenize.Tokenizer.unknown_words`). Any model does
        not know a query whose best matches fit it no better than they fit
        unrelated text: the margin of the query's scores over the mean of the
        :data:`REFERENCE_PHRASES`' scores on its top :data:`MARGIN_TOP`
        photos must beat the median of the same margin for each reference
        phrase against the others (measured on this library, cached)."""
        tokenizer = getattr(self.texts.encoder, "tokenizer", None)
        if tokenizer is not None and words and tokenizer.unknown_words(" ".join(words)):
            return False
        if tokenizer is not None and tokenizer.small_vocabulary:
            return True  # its vocabulary says it all; scores of a tiny world are not comparable
        if len(top_ids) == 0:
            return True
        threshold, mean_ref = self._reference_margin()
        _, vecs = self.index.vectors(top_ids)
        margin = float(np.mean(np.asarray(top_scores)[: len(vecs)] - vecs @ mean_ref))
        return margin > threshold

    def _reference_margin(self) -> tuple[float, np.ndarray]:
        """(median reference margin, mean reference direction), cached while the
        library's size stays within the same 2%."""
        size = len(self.index)
        bucket = size // max(1, size // 50) if size else 0
        cached = getattr(self, "_reference", None)
        if cached is not None and cached[0] == bucket:
            return cached[1]
        with self._reference_lock:
            cached = getattr(self, "_reference", None)
            if cached is not None and cached[0] == bucket:
                return cached[1]  # measured by the thread this one waited for
            return self._measure_reference(size, bucket)

    def _measure_reference(self, size: int, bucket: int) -> tuple[float, np.ndarray]:
        refs = self.texts.embed(REFERENCE_PHRASES)
        margins = []
        for j, vec in enumerate(refs):
            others = np.delete(refs, j, axis=0).mean(axis=0)
            hits = self.index.search(vec, min(MARGIN_TOP, max(size, 1)))
            _, vecs = self.index.vectors(hits.ids)
            if len(vecs):
                margins.append(float(np.mean(hits.scores[: len(vecs)] - vecs @ others)))
        value = (float(np.median(margins)) if margins else float("-inf"), refs.mean(axis=0))
        self._reference = (bucket, value)
        return value

    def run(
        self,
        q: Query,
        *,
        limit: int = 500,
        cancelled: Callable[[], bool] | None = None,
        cut: bool = True,
        widen: int = 0,
    ) -> Ranked:
        """Rank the photos a parsed query with a meaning part allows, best first.
        Raises Cancelled when ``cancelled()`` turns true between stages, QueryError
        when the parts cancel each other out."""
        is_cancelled = cancelled or (lambda: False)
        allowed = self.catalog.allowed_ids(q)
        if is_cancelled():
            raise Cancelled("cancelled")
        qvec = self.query_vector(q)
        if is_cancelled():
            raise Cancelled("cancelled")
        if qvec is None or (allowed is not None and len(allowed) == 0):
            return Ranked([], [], None, 0, False, "none")
        exclude: list[int] = []
        for target in q.similar:  # the example itself is not a result
            p = self.catalog.photo_by_path(*path_candidates(target))
            if p is not None:
                exclude.append(p.id)
        # Text lies farther from every photo than photos from each other (the
        # modality gap): the graph must look wider to keep its recall.
        is_text = bool(q.positives or q.negatives)
        ef = text_query_ef(len(self.index)) if is_text else None
        return self.rank(qvec, limit=limit, allowed=allowed, exclude=exclude, cut=cut, ef=ef, widen=widen,
                         words=q.positives if not q.similar else ())

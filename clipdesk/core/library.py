"""The library: one object that owns the catalog and everything derived from it.

The CLI and the GUI are two doors onto this class; neither reaches around it
into the modules below for anything that changes state. It ties together:

* the catalog (the truth) and the thumbnail cache;
* the active model (the user's choice if installed, else the best installed
  one, else nothing; the small model shipped with ClipDesk counts as installed
  and is reported as the demo model), its encoders, and its vector index,
  which is kept in step with the pipeline's writes and saved after each run;
* search (:mod:`clipdesk.core.search`) and tagging (:mod:`clipdesk.core.tagging`).

All methods are safe to call from worker threads.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from clipdesk.core import modelhub
from clipdesk.core.catalog import Catalog, Folder, Photo, encode_path, under
from clipdesk.core.errors import ClipDeskError, DecodeError, ModelError, NotFound, UsageError
from clipdesk.core.imaging import ThumbnailCache, decode
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


@dataclass
class DuplicateGroup:
    """Photos that are copies or near-copies of each other; ``photos[0]`` is the
    suggested copy to keep."""

    photos: list[Photo]
    scores: list[float]  # similarity of each photo to the kept one (1.0 for itself)
    reason: str  # "identical content" or "near-duplicate"


@dataclass(frozen=True)
class ModelStatus:
    """Which model searches use, in words the search bar can show."""

    model_id: str | None
    is_demo: bool
    #: e.g. "Demo model: knows clothing items and colours only. Get a real model ..."
    message: str | None
    recommended: str | None


class Library:
    def __init__(
        self,
        paths: Paths,
        *,
        lock: bool = True,
        model: str | None = None,
        engine_options=None,
    ):
        self.paths = paths.ensure()
        self.catalog = Catalog(paths.catalog, lock=lock)
        self.thumbnails = ThumbnailCache(paths.thumbnails_dir)
        self._requested_model = model
        self._engine_options = engine_options
        self._model_lock = threading.RLock()
        self._model: _ActiveModel | None = None
        self._tag_cache: dict[tuple, object] = {}
        self._runs_lock = threading.Lock()
        self._active_runs = 0  # indexing runs in progress: the index is saved after the last

    def close(self) -> None:
        with self._model_lock:
            if self._model is not None:
                self._model.close(self)
                self._model = None
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
            folder = self.catalog.folder_by_path(p.absolute())
        except NotFound:
            if not p.exists():
                raise
            folder = self.catalog.folder_by_path(p.resolve())
        ids = [r[0] for r in self.catalog.con.execute("SELECT id FROM photos WHERE folder_id = ?", (folder.id,))]
        n = self.catalog.remove_folder(folder.path)
        self._forget(ids)
        return n

    def remove_photos(self, ids: Sequence[int]) -> None:
        """Take photos out of the library (their files stay on disk)."""
        self.catalog.remove_photos(ids)
        self._forget(ids)

    def _forget(self, ids: Sequence[int]) -> None:
        model = self._model
        if ids and model is not None and model.index is not None:
            model.index.remove(ids)

    # -- models ----------------------------------------------------------------------
    def installed_models(self) -> list[modelhub.InstalledModel]:
        return modelhub.installed_models(self.paths)

    def _preferred_model(self) -> str | None:
        return self._requested_model or self.catalog.get_meta("model")

    def active_model(self) -> "_ActiveModel":
        """The model searches and indexing use; raises ModelError when none is installed."""
        with self._model_lock:
            if self._model is None:
                try:
                    chosen = modelhub.choose_model(self.paths, self._preferred_model())
                except NotFound as exc:
                    raise ModelError(str(exc)) from None
                self._model = _ActiveModel(chosen, self._engine_options)
            return self._model

    def set_engine_options(self, options) -> None:
        """Change providers or threads (the Models dialog's CPU/GPU choice); the
        model is loaded again with them on next use."""
        with self._model_lock:
            self._engine_options = options
            if self._model is not None:
                self._model.close(self)
                self._model = None

    def set_model(self, model_id: str) -> None:
        """Switch models. Photos are re-embedded by the next indexing run, in the
        background; until then searches cover the photos already embedded."""
        found = modelhub.find_model(self.paths, model_id)
        if found is None:
            raise NotFound(f"model {model_id} is not installed; `clipdesk models download {model_id}`")
        with self._model_lock:
            self.catalog.set_meta("model", model_id)
            self._requested_model = None
            if self._model is not None and self._model.model_id != model_id:
                self._model.close(self)
                self._model = None

    def model_status(self) -> ModelStatus:
        recommended = modelhub.DEFAULT_MODEL
        try:
            m = self.active_model()
        except ModelError:
            return ModelStatus(
                None, False,
                f"No model is installed. Download {recommended} in Models (or "
                f"`clipdesk models download {recommended}`) to search by meaning.",
                recommended,
            )
        if m.installed.bundled:
            return ModelStatus(
                m.model_id, True,
                "Demo model: it only knows clothing items, colours, counts and a few "
                f"backgrounds. Download a real model ({recommended}) in Models to search "
                "your own photos.",
                recommended,
            )
        return ModelStatus(m.model_id, False, None, recommended)

    @property
    def embedder(self):
        return self.active_model().image

    # -- the vector index --------------------------------------------------------------
    def vector_index(self):
        """The active model's index, opened (or rebuilt in the background) on first use."""
        return self.active_model().open_index(self)

    def save_index(self) -> None:
        model = self._model
        if model is not None:
            model.save_index(self)

    # -- indexing ------------------------------------------------------------------
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
                model = self.active_model()
                embedder = model.image
            except ModelError as exc:
                log.warning("indexing without embeddings: %s", exc)
        elif not embed:
            embedder = None

        def on_embedded(model_id: str, ids: np.ndarray, vecs: np.ndarray) -> None:
            if model is not None and model.index is not None and model_id == model.model_id:
                model.index.add(ids, vecs)

        def on_removed(ids: list[int]) -> None:
            self._forget(ids)

        kwargs.setdefault("on_embedded", on_embedded)
        kwargs.setdefault("on_removed", on_removed)
        return _SavingPipeline(
            self, model, self.catalog, self.thumbnails, embedder=embedder, on_progress=on_progress, **kwargs
        )

    def index(self, *, on_progress=None, **kwargs) -> RunResult:
        """Scan every root and index what is new or changed."""
        return self.pipeline(on_progress=on_progress, **kwargs).run()

    def thumbnail(self, photo: Photo) -> bytes | None:
        """The grid thumbnail; regenerated from the original when the cache lost it."""
        if photo.hash:
            data = self.thumbnails.get(photo.hash)
            if data:
                return data
        try:
            d = decode(photo.path)
        except DecodeError:
            return None
        try:
            self.thumbnails.put(d.hash, d.thumbnail)
        except OSError:
            pass
        return d.thumbnail

    # -- search --------------------------------------------------------------------
    def search(
        self,
        text: str,
        *,
        limit: int = 500,
        cancelled: Callable[[], bool] | None = None,
        cut: bool = True,
    ) -> SearchResult:
        """Run a typed query (see clipdesk.core.query for the syntax).

        ``cut=False`` skips the adaptive relevance cut: the top ``limit`` by score.

        Raises QueryError (message says where and why) for a query that cannot be
        parsed. ``cancelled`` is polled between stages; when it returns True the
        search stops early and returns an empty result (the caller drops it).
        Thread-safe: call from worker threads, never the GUI thread.
        """
        from clipdesk.core.query import parse_query
        from clipdesk.core.search import Cancelled, sort_photos

        start = time.perf_counter()
        if not text.strip():
            return SearchResult(text, [], "newest")
        q = parse_query(text)
        notice = None
        model_id = None
        if q.has_meaning:
            model = self.active_model()
            model_id = model.model_id
            searcher = model.searcher(self)
            try:
                q, ranked, _ = searcher.run(text, limit=limit, cancelled=cancelled, cut=cut)
            except Cancelled:
                return SearchResult(text, [], q.effective_sort, model_id)
            photos = {p.id: p for p in self.catalog.photos(ranked.ids)}
            hits = [Hit(photos[i], s) for i, s in zip(ranked.ids, ranked.scores) if i in photos]
            if hits and not ranked.confident:
                notice = "Nothing stands out for this search; these are the closest matches."
            if model.index is not None and model.index.rebuilding:
                notice = "The search index is being rebuilt; results may be incomplete for a moment."
            considered, cut = ranked.considered, ranked.cut
            status = self.model_status()
            if status.is_demo:
                notice = status.message if notice is None else f"{notice} {status.message}"
        else:
            ids = self.list_ids(q, limit=limit)
            hits = [Hit(p, 0.0) for p in self.catalog.photos(ids)]
            considered, cut = len(hits), None
        if q.effective_sort in ("newest", "oldest") and q.has_meaning:
            order = {h.photo.id: h for h in hits}
            hits = [order[p.id] for p in sort_photos([h.photo for h in hits], q.effective_sort)]
        return SearchResult(
            text, hits, q.effective_sort, model_id, cut, considered,
            (time.perf_counter() - start) * 1e3, notice,
        )

    def list_ids(self, query=None, *, limit: int | None = None) -> list[int]:
        """Ids of the photos that pass a parsed query's filters (every photo
        without a query), newest first (oldest first for ``sort:oldest``).
        Cheap for 100,000 photos: no Photo objects are made."""
        from clipdesk.core.filters import filter_sql

        where, args = filter_sql(query) if query is not None else ("", [])
        oldest = query is not None and query.effective_sort == "oldest"
        order = "taken_at ASC, id" if oldest else "taken_at DESC, id DESC"
        sql = f"SELECT id FROM photos WHERE {where or '1'} ORDER BY {order}"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [r[0] for r in self.catalog.con.execute(sql, args)]

    def similar(self, target: int | str | os.PathLike[str], *, limit: int = 200) -> SearchResult:
        """Photos like a catalogued photo (its id) or like any image file (a path)."""
        start = time.perf_counter()
        model = self.active_model()
        searcher = model.searcher(self)
        vec = searcher.image_embedding(target)
        exclude = []
        if isinstance(target, (int, np.integer)):
            exclude.append(int(target))
        else:
            p = self.catalog.photo_by_path(os.path.abspath(os.path.expanduser(os.fspath(target))))
            if p is not None:
                exclude.append(p.id)
        ranked = searcher.rank(vec, limit=limit, exclude=exclude)
        photos = {p.id: p for p in self.catalog.photos(ranked.ids)}
        hits = [Hit(photos[i], s) for i, s in zip(ranked.ids, ranked.scores) if i in photos]
        label = f"similar:{target}" if not isinstance(target, (int, np.integer)) else f"similar to photo {target}"
        return SearchResult(label, hits, "relevance", model.model_id, ranked.cut, ranked.considered,
                            (time.perf_counter() - start) * 1e3)

    def duplicates(self, threshold: float = 0.95, limit: int | None = None) -> list["DuplicateGroup"]:
        """Groups of photos that are the same or nearly (embedding cosine >=
        ``threshold``, or identical content), each with the copy to keep first."""
        from clipdesk.core.duplicates import find_duplicates

        return find_duplicates(self, threshold=threshold, limit=limit)

    # -- tagging -----------------------------------------------------------------------
    def _embeddings_for(self, targets: Sequence[int | str | os.PathLike[str]]):
        """(FileSuggestions shells, embeddings [n, D] of those that could be read)."""
        model = self.active_model()
        searcher = model.searcher(self)
        shells: list[FileSuggestions] = []
        vecs: list[np.ndarray] = []
        for t in targets:
            if isinstance(t, (int, np.integer)):
                photo = self.catalog.photo(int(t))
                shell = FileSuggestions(photo.path, photo.id)
            else:
                path = os.path.abspath(os.path.expanduser(os.fspath(t)))
                photo = self.catalog.photo_by_path(path)
                shell = FileSuggestions(path, photo.id if photo else None)
            try:
                vecs.append(searcher.image_embedding(shell.photo_id if shell.photo_id is not None else shell.path))
            except ClipDeskError as exc:
                shell.error = str(exc)
            shells.append(shell)
        dim = model.dim
        return shells, (np.stack(vecs) if vecs else np.zeros((0, dim), np.float32))

    def _background(self, n: int = 4000) -> np.ndarray:
        index = self.vector_index()
        ids = index.ids()
        if len(ids) > n:
            ids = np.random.default_rng(0).choice(ids, n, replace=False)
        return index.vectors(ids)[1]

    def _zero_shot(self):
        from clipdesk.core.tagging import Vocabulary, ZeroShotTagger, vocabulary_file

        model = self.active_model()
        index = self.vector_index()
        key = ("zeroshot", model.model_id, len(index) // 100)
        tagger = self._tag_cache.get(key)
        if tagger is None:
            vocab = model.vocabulary
            if vocab is None:
                vocab = Vocabulary.load(
                    vocabulary_file(self.paths.resources_dir, model.model_id), model.text,
                    self.paths.text_cache_dir,
                )
                model.vocabulary = vocab
            tagger = ZeroShotTagger(vocab, self._background())
            self._tag_cache = {k: v for k, v in self._tag_cache.items() if k[0] != "zeroshot"}
            self._tag_cache[key] = tagger
        return tagger

    def _learned(self, tag: str):
        """The learned model of a tag, refitted when its decisions change."""
        from clipdesk.core.tagging import LearnedTag

        pos_ids, neg_ids = self.catalog.tag_decisions(tag)
        if not pos_ids:
            return None
        model = self.active_model()
        key = ("learned", model.model_id, tag.lower(), tuple(pos_ids), tuple(neg_ids))
        hit = self._tag_cache.get(key)
        if hit is not None:
            return hit
        index = self.vector_index()
        pos = index.vectors(pos_ids)[1]
        if len(pos) == 0:
            return None
        neg = index.vectors(neg_ids)[1] if neg_ids else None
        learned = LearnedTag.fit(tag, pos, neg, self._background(2000))
        self._tag_cache = {k: v for k, v in self._tag_cache.items() if k[:3] != key[:3]}
        self._tag_cache[key] = learned
        return learned

    def suggest_tags(self, targets: Sequence[int | str | os.PathLike[str]], *, top: int = 8) -> list[FileSuggestions]:
        """Tag suggestions (zero-shot vocabulary + learned tags) for photo ids or
        image files, also files outside the library."""
        shells, vecs = self._embeddings_for(targets)
        if not len(vecs):
            return shells
        tagger = self._zero_shot()
        zs = tagger.suggest(vecs, top=top)
        learned = [lt for lt in (self._learned(t) for t in self.catalog.learned_tags()) if lt is not None]
        readable = [s for s in shells if s.error is None]
        for i, shell in enumerate(readable):
            decided = {}
            if shell.photo_id is not None:
                decided = {t.lower(): st for t, _src, st, _sc in self.catalog.photo_tags(shell.photo_id)}
            out: dict[str, TagSuggestion] = {}
            for tag, conf in zs[i]:
                out[tag.lower()] = TagSuggestion(tag, conf, "auto")
            for lt in learned:
                p = float(lt.probability(vecs[i])[0])
                if p >= 0.5 and p > out.get(lt.tag.lower(), TagSuggestion("", 0, "")).score:
                    out[lt.tag.lower()] = TagSuggestion(lt.tag, p, "learned")
            shell.suggestions = sorted(
                (s for k, s in out.items() if decided.get(k) != "rejected"),
                key=lambda s: -s.score,
            )[:top]
        return shells

    def accept_tag(self, photo_ids: Sequence[int], tag: str) -> None:
        """The user confirms ``tag`` on these catalogued photos."""
        self.catalog.decide_tag(photo_ids, tag, "accepted")

    def reject_tag(self, photo_ids: Sequence[int], tag: str) -> None:
        """The user says these photos are not ``tag``: never suggested again, and a
        negative example for a learned tag."""
        self.catalog.decide_tag(photo_ids, tag, "rejected")

    def teach_tag(
        self, tag: str, positive_ids: Sequence[int], negative_ids: Sequence[int] = (), *, limit: int = 200
    ) -> list[Hit]:
        """Learn ``tag`` from example photos; return the photos it would add, best first."""
        if positive_ids:
            self.accept_tag(positive_ids, tag)
        if negative_ids:
            self.reject_tag(negative_ids, tag)
        self.catalog.set_learned(tag)
        learned = self._learned(tag)
        if learned is None:
            raise UsageError(
                f"teaching {tag!r} needs example photos that are indexed with the current model"
            )
        pos_ids, neg_ids = self.catalog.tag_decisions(tag)
        decided = set(pos_ids) | set(neg_ids)
        index = self.vector_index()
        k = min(len(index), limit * 3 + len(decided))
        if k == 0:
            return []
        hits = index.search(learned.direction, k)
        _, vecs = index.vectors(hits.ids)
        probs = learned.probability(vecs) if len(vecs) else np.zeros(0)
        order = [(int(i), float(p)) for i, p in zip(hits.ids, probs) if p >= 0.5 and int(i) not in decided]
        order.sort(key=lambda t: -t[1])
        order = order[:limit]
        photos = {p.id: p for p in self.catalog.photos([i for i, _ in order])}
        return [Hit(photos[i], p) for i, p in order if i in photos]

    def _library_tags(self, tags: Sequence[str] | None) -> dict[str, tuple[str, np.ndarray, np.ndarray]]:
        """tag -> (source, photo ids, confidences) it would carry across the library."""
        tagger = self._zero_shot()
        index = self.vector_index()
        ids_all = index.ids()
        wanted = {t.lower() for t in tags} if tags is not None else None
        out: dict[str, tuple[str, list, list]] = {}
        learned = [lt for lt in (self._learned(t) for t in self.catalog.learned_tags()) if lt is not None]
        for start in range(0, len(ids_all), 4096):
            ids, vecs = index.vectors(ids_all[start : start + 4096])
            conf, ok = tagger.confidences(vecs)
            for j, tag in enumerate(tagger.vocab.tags):
                if wanted is not None and tag.lower() not in wanted:
                    continue
                rows = np.flatnonzero(ok[:, j])
                if len(rows):
                    src, pid, pc = out.setdefault(tag, ("auto", [], []))
                    pid.extend(ids[rows].tolist())
                    pc.extend(conf[rows, j].tolist())
            for lt in learned:
                if wanted is not None and lt.tag.lower() not in wanted:
                    continue
                p = lt.probability(vecs)
                rows = np.flatnonzero(p >= 0.5)
                if len(rows):
                    src, pid, pc = out.setdefault(lt.tag, ("learned", [], []))
                    pid.extend(ids[rows].tolist())
                    pc.extend(p[rows].tolist())
        return {t: (src, np.asarray(i, np.int64), np.asarray(c)) for t, (src, i, c) in out.items()}

    def preview_auto_tags(self, tags: Sequence[str] | None = None) -> dict[str, int]:
        """How many photos each tag would get if applied to the whole library
        (photos where the user rejected the tag are not counted)."""
        result = {}
        for tag, (_src, ids, _c) in self._library_tags(tags).items():
            rejected = set(self.catalog.tagged_ids(tag, "rejected")) if self._tag_exists(tag) else set()
            n = sum(1 for i in ids.tolist() if i not in rejected)
            if n:
                result[tag] = n
        return dict(sorted(result.items(), key=lambda kv: (-kv[1], kv[0])))

    def _tag_exists(self, tag: str) -> bool:
        try:
            self.catalog.tag_id(tag, create=False)
            return True
        except NotFound:
            return False

    def apply_auto_tags(self, tags: Sequence[str] | None = None, *, write_sidecars: bool = False) -> dict[str, int]:
        """Tag the whole library with what the preview showed (state accepted,
        source auto or learned, with the confidence); the user's own decisions
        are kept. Optionally write the tags to XMP sidecars."""
        counts = {}
        for tag, (src, ids, conf) in self._library_tags(tags).items():
            self.catalog.set_photo_tags(ids.tolist(), tag, source=src, state="accepted",
                                        scores=conf.tolist(), keep_decisions=True)
            counts[tag] = len(ids)
        if write_sidecars:
            self.write_sidecars()
        return counts

    def write_sidecars(self, photo_ids: Sequence[int] | None = None) -> tuple[int, list[tuple[str, str]]]:
        """Write accepted tags to each photo's XMP sidecar. Returns (written, failures)."""
        from clipdesk.core.sidecar import update_tags

        if photo_ids is None:
            photo_ids = [r[0] for r in self.catalog.con.execute(
                "SELECT DISTINCT photo_id FROM photo_tags WHERE state = 'accepted'")]
        written, failures = 0, []
        for photo in self.catalog.photos(photo_ids):
            tags = [t for t, _src, st, _sc in self.catalog.photo_tags(photo.id) if st == "accepted"]
            rejected = [t for t, _src, st, _sc in self.catalog.photo_tags(photo.id) if st == "rejected"]
            try:
                if update_tags(Path(photo.path), add=tags, remove=rejected):
                    written += 1
            except ClipDeskError as exc:
                failures.append((photo.path, str(exc)))
        return written, failures

    # -- demo ----------------------------------------------------------------------------
    def setup_demo(self, count: int = 300) -> Path:
        """Write the demo library (scenes from held-out Fashion-MNIST items) into
        the data folder and add it; the caller indexes it."""
        from clipdesk.core.scenes import write_demo_library

        dest = self.paths.data_dir / "Demo library"
        if not (dest / "ground_truth.json").exists():
            dest.mkdir(parents=True, exist_ok=True)
            write_demo_library(dest, count=count, resources_dir=self.paths.resources_dir)
        self.add_folder(dest)
        return dest


class _SavingPipeline(Pipeline):
    """An indexing run that keeps the model's vector index open and in step, and
    saves it when done: the saved index then matches the catalog, so the next
    start loads it instead of rebuilding."""

    def __init__(self, library: Library, model: "_ActiveModel | None", *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.library = library
        self.model = model

    def run(self, **kwargs) -> RunResult:
        library = self.library
        if self.model is not None:
            self.model.open_index(library)
        with library._runs_lock:
            library._active_runs += 1
        try:
            result = super().run(**kwargs)
        finally:
            with library._runs_lock:
                library._active_runs -= 1
        model = library._model
        if model is not None and model.index is not None and library._active_runs == 0:
            while model.index.rebuilding and not self._cancel.is_set():
                time.sleep(0.1)
            try:
                library.save_index()
            except ClipDeskError as exc:
                log.warning("could not save the search index: %s", exc)
        return result


class _ActiveModel:
    """One model's encoders, index and vocabulary, created on first use."""

    def __init__(self, installed: modelhub.InstalledModel, options=None):
        from clipdesk.core.engine import EngineOptions, load_encoders

        self.installed = installed
        self.model_id = installed.model_id
        self.image, self.text = load_encoders(installed.path, options or EngineOptions.from_env())
        self.dim = self.image.dim
        self.index = None
        self.vocabulary = None
        self._searcher = None
        self._lock = threading.Lock()
        self._saved_generation: int | None = None

    def open_index(self, library: Library):
        with self._lock:
            if self.index is None:
                from clipdesk.core.index import VectorIndex

                catalog = library.catalog
                generation = catalog.generation(self.model_id)

                def source():
                    return catalog.iter_embeddings(self.model_id)

                def on_rebuilt(index, handle):
                    # While a run is writing, the catalog is ahead of what has
                    # reached the index; the run saves when it ends.
                    if handle.error is None and library._active_runs == 0:
                        self.save_index(library)

                self.index, stale = VectorIndex.open(
                    library.paths.index_dir, self.model_id, self.dim,
                    generation=generation, source=source, on_rebuilt=on_rebuilt,
                )
                if stale is None:
                    self._saved_generation = generation
            return self.index

    def searcher(self, library: Library):
        from clipdesk.core.search import Searcher, TextCache

        index = self.open_index(library)
        if self._searcher is None:
            self._searcher = Searcher(library.catalog, index, TextCache(self.text), self.image)
        return self._searcher

    def save_index(self, library: Library) -> None:
        index = self.index
        if index is None or index.rebuilding:
            return
        generation = library.catalog.generation(self.model_id)
        if generation == self._saved_generation:
            return
        index.save(library.paths.index_dir, generation)
        self._saved_generation = generation

    def close(self, library: Library) -> None:
        try:
            self.save_index(library)
        except ClipDeskError as exc:
            log.warning("could not save the search index: %s", exc)
        if self.index is not None:
            self.index.close()
        self.image.close()
        self.text.close()

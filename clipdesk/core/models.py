"""The model searches and indexing use, its encoders and its vector index.

The active model is the user's choice if installed, else the best installed
one, else nothing; the small model shipped with ClipDesk counts as installed
and is reported as the demo model. Its encoders load on first use, and its
vector index is opened (or rebuilt in the background from the catalog) on
first use, kept in step with the pipeline's writes and saved after each
indexing run, so the next start loads it instead of rebuilding.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from clipdesk.core import modelhub
from clipdesk.core.catalog import Catalog
from clipdesk.core.changes import Changes
from clipdesk.core.errors import ClipDeskError, ModelError, NotFound
from clipdesk.core.paths import Paths

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModelStatus:
    """Which model searches use, in words the search bar can show."""

    model_id: str | None
    is_demo: bool
    #: e.g. "Demo model: knows clothing items and colours only. Get a real model ..."
    message: str | None
    recommended: str | None


class ActiveModel:
    """One model's encoders, index and vocabulary, created on first use."""

    def __init__(self, installed: modelhub.InstalledModel, catalog: Catalog, paths: Paths, options=None,
                 *, save: bool = True):
        from clipdesk.core.engine import EngineOptions, load_encoders

        self.installed = installed
        self.model_id = installed.model_id
        self.catalog = catalog
        self.paths = paths
        self.image, self.text = load_encoders(installed.path, options or EngineOptions.from_env())
        self.dim = self.image.dim
        self.index = None
        self.vocabulary = None
        self._searcher = None
        self._lock = threading.Lock()
        self._saved_generation: int | None = None
        #: Whether the index may be written to disk (not beside another ClipDesk
        #: that holds the catalog: that one keeps the index file).
        self._save = save
        #: Indexing runs in progress: while one writes, the catalog is ahead of
        #: the index, so only the last run to end saves it.
        self._runs = 0
        self._runs_lock = threading.Lock()

    @property
    def is_bundled(self) -> bool:
        return self.installed.bundled

    def open_index(self):
        """The vector index, loaded from disk or (stale, missing) rebuilt in the
        background from the catalog while exact search serves."""
        with self._lock:
            if self.index is None:
                from clipdesk.core.index import VectorIndex

                catalog = self.catalog
                generation = catalog.generation(self.model_id)

                def source():
                    return catalog.iter_embeddings(self.model_id)

                def on_rebuilt(index, handle):
                    # A rebuild cut short (the program is closing) has no graph to save.
                    if handle.error is None and not handle.cancelled and self.runs == 0:
                        self.save_index()

                self.index, stale = VectorIndex.open(
                    self.paths.index_dir, self.model_id, self.dim,
                    generation=generation, source=source, on_rebuilt=on_rebuilt,
                )
                if stale is None:
                    self._saved_generation = generation
            return self.index

    def searcher(self):
        from clipdesk.core.ranking import Searcher, TextCache

        index = self.open_index()
        if self._searcher is None:
            self._searcher = Searcher(self.catalog, index, TextCache(self.text), self.image)
        return self._searcher

    @property
    def runs(self) -> int:
        return self._runs

    def run_started(self) -> None:
        with self._runs_lock:
            self._runs += 1

    def run_ended(self) -> int:
        """Returns how many runs are still going."""
        with self._runs_lock:
            self._runs -= 1
            return self._runs

    def add_vectors(self, model_id: str, ids: np.ndarray, vecs: np.ndarray) -> None:
        """The pipeline stored embeddings: keep the open index in step."""
        if self.index is not None and model_id == self.model_id:
            self.index.add(ids, vecs)

    def save_index(self) -> None:
        index = self.index
        if index is None or index.rebuilding or not self._save:
            return
        generation = self.catalog.generation(self.model_id)
        if generation == self._saved_generation:
            return
        index.save(self.paths.index_dir, generation)
        self._saved_generation = generation

    def close(self) -> None:
        try:
            self.save_index()
        except ClipDeskError as exc:
            log.warning("could not save the search index: %s", exc)
        if self.index is not None:
            self.index.close()
        self.image.close()
        self.text.close()


class ModelService:
    """The installed models and the active one. Thread-safe."""

    def __init__(self, paths: Paths, catalog: Catalog, *, requested: str | None = None, engine_options=None,
                 save_index: bool = True):
        self.paths = paths
        self.catalog = catalog
        self._save_index = save_index
        self._requested = requested
        self._engine_options = engine_options
        self._lock = threading.RLock()
        self._active: ActiveModel | None = None

    def installed(self) -> list[modelhub.InstalledModel]:
        return modelhub.installed_models(self.paths)

    def active(self) -> ActiveModel:
        """The model searches and indexing use; raises ModelError when none is installed."""
        with self._lock:
            if self._active is None:
                try:
                    chosen = modelhub.choose_model(self.paths, self._requested or self.catalog.get_meta("model"))
                except NotFound as exc:
                    raise ModelError(str(exc)) from None
                self._active = ActiveModel(chosen, self.catalog, self.paths, self._engine_options,
                                           save=self._save_index)
            return self._active

    @property
    def loaded(self) -> ActiveModel | None:
        """The active model if it is loaded already (never loads one)."""
        return self._active

    def set_model(self, model_id: str) -> Changes:
        """Switch models. Photos are re-embedded by the next indexing run, in the
        background; until then searches cover the photos already embedded.
        Raises NotFound when the model is not installed."""
        if modelhub.find_model(self.paths, model_id) is None:
            raise NotFound(f"model {model_id} is not installed; `clipdesk models download {model_id}`")
        with self._lock:
            self.catalog.set_meta("model", model_id)
            self._requested = None
            if self._active is not None and self._active.model_id != model_id:
                self._active.close()
                self._active = None
        return Changes(model=True)

    def set_engine_options(self, options) -> None:
        """Change providers or threads (the Models dialog's CPU/GPU choice); the
        model is loaded again with them on next use."""
        with self._lock:
            self._engine_options = options
            if self._active is not None:
                self._active.close()
                self._active = None

    def status(self, door: str = "app") -> ModelStatus:
        """Which model searches use, and for a built-in one what it knows and
        how to get a real one, said for the ``door`` the user came in by:
        "app" names the Models dialog, "cli" the `clipdesk models` command."""
        recommended = modelhub.DEFAULT_MODEL
        command = f"`clipdesk models download {recommended}`"
        get = f"download {recommended} in Models" if door == "app" else f"run {command}"
        try:
            m = self.active()
        except ModelError:
            how = f"Download {recommended} in Models (or {command})" if door == "app" else f"Run {command}"
            return ModelStatus(None, False, f"No model is installed. {how} to search by meaning.", recommended)
        if m.is_bundled:
            knows = modelhub.BUNDLED_KNOWS.get(m.model_id)
            if m.model_id == modelhub.OFFLINE_MODEL:
                message = (f"Built-in offline model: {knows}. {get[:1].upper() + get[1:]} to "
                           "search far more: people, places, moments and any phrase.")
            else:
                real = f"Download a real model ({recommended}) in Models" if door == "app" else \
                    f"For a real model, {get}"
                message = (f"Demo model: {knows or 'it knows only what it was built for'}. {real} "
                           "to search your own photos.")
            return ModelStatus(m.model_id, True, message, recommended)
        return ModelStatus(m.model_id, False, None, recommended)

    def index(self):
        """The active model's vector index, opened (or rebuilt) on first use."""
        return self.active().open_index()

    def forget(self, ids: Sequence[int]) -> None:
        """Photos left the catalog: take them out of the open index."""
        model = self._active
        if ids and model is not None and model.index is not None:
            model.index.remove(ids)

    def save_index(self) -> None:
        model = self._active
        if model is not None:
            model.save_index()

    def close(self) -> None:
        with self._lock:
            if self._active is not None:
                self._active.close()
                self._active = None

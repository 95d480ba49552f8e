"""``clipdesk --self-test``: check that an installed copy of ClipDesk works.

Runs the app's own path end to end on a few photos it writes itself, in a
temporary folder with its own data and cache directories (never the user's):

========  =====================================================================
photos    write JPEG scenes (clothing items the bundled model knows, from the
          held-out items under resources/), or else photos of plain colours
decode    decode them the way the indexer does (thumbnail + model input)
model     find the model shipped with the app and verify its SHA-256 manifest
embed     embed the photos and a text query with ONNX Runtime
index     put the vectors in the HNSW index (hnswlib), save it, load it back
search    a typed query finds the expected photo first; so does an image query
library   the whole app path: catalog, scan, pipeline, index, ``search``
========  =====================================================================

Each step reports one :class:`Step`: ``ok <step> (<ms> ms)``,
``FAIL <step>: <reason>`` or ``skip <step>: <reason>``. A step whose module is
not part of this build is skipped, not failed (the installer may be built from
a tree where it has not landed yet); a step that needs an earlier one that did
not pass is skipped with that reason. :func:`exit_code` is 0 only when no step
failed. This module prints nothing; the CLI prints the lines.
"""

from __future__ import annotations

import os
import tempfile
import time
import traceback
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from clipdesk.core.paths import Paths

#: Seed of the self-test's scenes: fixed, so every run checks the same photos.
SCENE_SEED = 4242
#: How many photos the self-test writes.
PHOTO_COUNT = 6
#: Steps that must not be skipped: a skip of one of these is reported as a
#: failure. Empty while parts of the app may still be missing from a build;
#: set it to ``set(STEPS)`` once every installer must carry everything.
REQUIRED_STEPS: frozenset[str] = frozenset()
#: Every step, in order.
STEPS = ("photos", "decode", "model", "embed", "index", "search", "library")


@dataclass(frozen=True)
class Step:
    name: str
    status: str  # "ok", "FAIL" or "skip"
    ms: float = 0.0
    detail: str = ""

    @property
    def line(self) -> str:
        if self.status == "ok":
            extra = f": {self.detail}" if self.detail else ""
            return f"ok {self.name} ({self.ms:.0f} ms){extra}"
        return f"{self.status} {self.name}: {self.detail}"


class _Skip(Exception):
    """Raised inside a step: report it as skipped with this reason."""


class _Fail(Exception):
    """Raised inside a step: report it as failed with this reason."""


@contextmanager
def _isolated_environment(root: Path) -> Iterator[Paths]:
    """Point every ClipDesk location at ``root`` for the duration, then restore.

    The components get the :class:`Paths` explicitly; the environment is set
    too, so that nothing that reads it on its own can reach the user's files.
    """
    paths = Paths.under(root)
    saved = {k: os.environ.get(k) for k in ("CLIPDESK_DATA_DIR", "CLIPDESK_CACHE_DIR")}
    os.environ["CLIPDESK_DATA_DIR"] = str(paths.data_dir)
    os.environ["CLIPDESK_CACHE_DIR"] = str(paths.cache_dir)
    try:
        yield paths.ensure()
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


class _SelfTest:
    def __init__(self, paths: Paths, photo_dir: Path):
        self.paths = paths
        self.photo_dir = photo_dir
        self.passed: set[str] = set()
        # Filled in by the steps, in order.
        self.files: list[Path] = []
        self.target = 0  # index into files of the photo the queries must find
        self.query = ""  # the typed query that must find files[target] first
        self.decoded: list = []
        self.bundle_path: Path | None = None
        self.image_encoder = None
        self.text_encoder = None
        self.image_vectors: np.ndarray | None = None
        self.text_vector: np.ndarray | None = None
        self.index = None

    def run(self, name: str, fn: Callable[[], str | None], needs: tuple[str, ...] = ()) -> Step:
        step = self._run(name, fn, needs)
        if step.status == "skip" and name in REQUIRED_STEPS:
            return Step(name, "FAIL", detail=f"{step.detail} (this step is required)")
        return step

    def _run(self, name: str, fn: Callable[[], str | None], needs: tuple[str, ...]) -> Step:
        missing = [n for n in needs if n not in self.passed]
        if missing:
            return Step(name, "skip", detail=f"needs {', '.join(missing)}")
        start = time.perf_counter()
        try:
            detail = fn() or ""
        except _Skip as exc:
            return Step(name, "skip", detail=str(exc))
        except _Fail as exc:
            return Step(name, "FAIL", detail=str(exc))
        except Exception as exc:  # the report must go on and say what broke
            where = traceback.extract_tb(exc.__traceback__)[-1]
            return Step(
                name, "FAIL",
                detail=f"{type(exc).__name__}: {exc} ({Path(where.filename).name}:{where.lineno})",
            )
        self.passed.add(name)
        return Step(name, "ok", (time.perf_counter() - start) * 1000, detail)

    # -- steps -----------------------------------------------------------------
    def write_photos(self) -> str:
        self.photo_dir.mkdir(parents=True, exist_ok=True)
        scenes = _scene_photos(self.paths)
        if scenes is not None:
            pixels, self.query = scenes
            kind = "scenes of clothing items"
        else:
            pixels, self.query = _colour_photos(), COLOUR_QUERY
            kind = "colour photos (no scene items in this build)"
        from PIL import Image

        for i, px in enumerate(pixels):
            path = self.photo_dir / f"photo-{i + 1:02d}.jpg"
            Image.fromarray(px, "RGB").save(path, "JPEG", quality=90)
            self.files.append(path)
        return f"{len(self.files)} {kind}"

    def decode(self) -> str:
        from clipdesk.core import imaging

        for path in self.files:
            d = imaging.decode(path)
            if (d.width, d.height) != _image_size(path) or not d.thumbnail:
                raise _Fail(f"{path.name}: decoded as {d.width}x{d.height} with a {len(d.thumbnail)}-byte thumbnail")
            self.decoded.append(d)
        return f"{len(self.decoded)} JPEGs"

    def model(self) -> str:
        from clipdesk.core import bundle as bundle_mod

        folders = [p for p in _bundled_models(self.paths) if (p / "config.json").is_file()]
        if not folders:
            raise _Skip(f"no model bundle in {self.paths.bundled_models_dir}")
        # The small in-house model is what the self-test's scenes are made for.
        folders.sort(key=lambda p: (p.name != "clipdesk-mini", p.name))
        self.bundle_path = folders[0]
        bundle_mod.verify_bundle(self.bundle_path)
        return self.bundle_path.name

    def embed(self) -> str:
        from clipdesk.core import engine

        self.image_encoder, self.text_encoder = engine.load_encoders(self.bundle_path, engine.EngineOptions())
        from PIL import Image

        images = []
        for path in self.files:
            with Image.open(path) as im:
                images.append(im.convert("RGB"))
        vecs = np.asarray(self.image_encoder.embed_images(images), dtype=np.float32)
        if vecs.shape != (len(self.files), self.image_encoder.dim):
            raise _Fail(f"image embeddings have shape {vecs.shape}")
        if not np.all(np.isfinite(vecs)) or not np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-3):
            raise _Fail("image embeddings are not finite unit vectors")
        self.image_vectors = vecs
        t = np.asarray(self.text_encoder.embed_texts([self.query]), dtype=np.float32)
        if t.shape != (1, self.text_encoder.dim) or not np.all(np.isfinite(t)):
            raise _Fail(f"text embedding has shape {t.shape} or is not finite")
        self.text_vector = t[0]
        return f"{len(vecs)} images, dim {vecs.shape[1]}, providers {self._providers()}"

    def _providers(self) -> str:
        providers = getattr(self.image_encoder, "providers", None)
        value = providers() if callable(providers) else providers
        return ",".join(str(p).replace("ExecutionProvider", "") for p in value) if value else "default"

    def build_index(self) -> str:
        from clipdesk.core import index as index_mod

        model_id = self.image_encoder.model_id
        index = index_mod.VectorIndex(model_id, self.image_vectors.shape[1])
        ids = np.arange(1, len(self.files) + 1, dtype=np.int64)
        index.add(ids, self.image_vectors)
        # Not the library's own index folder: the library step builds that one.
        folder = self.paths.cache_dir / "selftest-index"
        index.save(folder, generation=1)
        self.index = index_mod.VectorIndex.load(folder, model_id, self.image_vectors.shape[1], generation=1)
        if len(self.index) != len(ids):
            raise _Fail(f"the saved index holds {len(self.index)} vectors, not {len(ids)}")
        return f"{len(self.index)} vectors, saved and loaded"

    def search(self) -> str:
        want = self.target + 1
        # Find similar, through the HNSW graph itself (small indexes are
        # otherwise answered exactly): a photo's own vector finds the photo.
        hits = self.index.search(self.image_vectors[self.target], 3, method="hnsw")
        if int(hits.ids[0]) != want:
            raise _Fail(f"image query: top result is photo {int(hits.ids[0])}, expected {want}")
        hits = self.index.search(self.text_vector, len(self.files))
        top = int(hits.ids[0])
        if top != want:
            raise _Fail(f"{self.query!r}: top result is {self.files[top - 1].name}, expected {self.files[self.target].name}")
        return f"{self.query!r} -> {self.files[self.target].name} (score {float(hits.scores[0]):.2f})"

    def library(self) -> str:
        from clipdesk.core.library import Library

        with Library(self.paths) as lib:
            lib.folders.add(self.photo_dir)
            lib.folders.index()
            result = lib.search.query(self.query, limit=5)
            if not result.hits:
                raise _Fail(f"{self.query!r}: no results")
            top = Path(os.fsdecode(result.hits[0].photo.path))
            if top.name != self.files[self.target].name:
                raise _Fail(f"{self.query!r}: top result is {top.name}, expected {self.files[self.target].name}")
        return f"{self.query!r} -> {top.name}"


def _bundled_models(paths: Paths) -> list[Path]:
    try:
        return [p for p in Path(paths.bundled_models_dir).iterdir() if p.is_dir()]
    except OSError:
        return []


def _image_size(path: Path) -> tuple[int, int]:
    from PIL import Image

    with Image.open(path) as im:
        return im.size


def _scene_photos(paths: Paths) -> tuple[list[np.ndarray], str] | None:
    """Single-item scenes with distinct items and colours, and the query for the first.

    None when this build has no held-out items to draw with.
    """
    from clipdesk.demo import scenes

    try:
        images, labels = scenes.load_demo_items(paths.resources_dir)
    except OSError:
        return None
    chosen, seen_items, seen_colours = [], set(), set()
    for scene in scenes.make_scenes(labels, 200, SCENE_SEED, n_items=1):
        item = scene.items[0]
        if scene.background != "plain" or item.label in seen_items or item.colour in seen_colours:
            continue
        chosen.append(scene)
        seen_items.add(item.label)
        seen_colours.add(item.colour)
        if len(chosen) == PHOTO_COUNT:
            break
    if len(chosen) < 2:
        return None
    return [scenes.render_scene(s, images) for s in chosen], scenes.describe(chosen[0])


#: Photos of the fallback set: one dominant colour each; the query asks for the first.
COLOUR_PHOTOS = {
    "red": (225, 35, 30), "green": (40, 175, 50), "blue": (35, 65, 215),
    "yellow": (240, 215, 40), "white": (240, 240, 235), "black": (20, 20, 25),
}
COLOUR_QUERY = "a red photo"


def _colour_photos() -> list[np.ndarray]:
    """Photo-like images, each of one dominant colour with a soft gradient and noise.

    Any CLIP model tells these apart by colour, so "a red photo" must find the
    first one; no scene items are needed.
    """
    rng = np.random.default_rng(SCENE_SEED)
    yy, xx = np.mgrid[0:120, 0:160].astype(np.float32)
    shade = ((xx + yy) / (120 + 160) - 0.5)[..., None] * 30.0
    out = []
    for rgb in COLOUR_PHOTOS.values():
        px = np.asarray(rgb, np.float32) + shade + rng.normal(0, 4, (120, 160, 3)).astype(np.float32)
        out.append(np.clip(px, 0, 255).astype(np.uint8))
    return out


def run(root: Path | None = None) -> Iterator[Step]:
    """Run every step in a fresh temporary folder (or below ``root``); yields each result."""
    with tempfile.TemporaryDirectory(prefix="clipdesk-selftest-", dir=root) as tmp:
        with _isolated_environment(Path(tmp) / "home") as paths:
            t = _SelfTest(paths, Path(tmp) / "photos")
            yield t.run("photos", t.write_photos)
            yield t.run("decode", t.decode, needs=("photos",))
            yield t.run("model", t.model)
            yield t.run("embed", t.embed, needs=("photos", "model"))
            yield t.run("index", t.build_index, needs=("embed",))
            yield t.run("search", t.search, needs=("index",))
            yield t.run("library", t.library, needs=("photos", "model"))
            for enc in (t.image_encoder, t.text_encoder):
                close = getattr(enc, "close", None)
                if close is not None:
                    try:
                        close()
                    except Exception:  # closing after a failed load is not a new failure
                        pass


def exit_code(steps: list[Step]) -> int:
    """0 when no step failed (skipped steps do not fail the self-test), else 1."""
    return 1 if any(s.status == "FAIL" for s in steps) else 0


def main(emit: Callable[[str], None]) -> int:
    """Run the self-test, handing each report line to ``emit``; returns the exit code."""
    steps = []
    for step in run():
        steps.append(step)
        emit(step.line)
    failed = sum(s.status == "FAIL" for s in steps)
    skipped = sum(s.status == "skip" for s in steps)
    emit(f"self-test {'FAILED' if failed else 'passed'}: {len(steps) - failed - skipped} ok, {failed} failed, {skipped} skipped")
    return exit_code(steps)

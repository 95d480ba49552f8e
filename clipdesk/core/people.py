"""People in photos, and the words automatic labels never put on them (issue 21).

CLIP-style models carry the biases of the photos they learned from: the CLIP
paper (Radford et al. 2021, section 7) measured photos of people put into
"animal", "gorilla" and "chimpanzee" and into crime-related classes, at rates
that differed by race. ClipDesk therefore never lets the machine put a word
from a reviewed denied set (``resources/vocab/denied-for-people.txt``:
animals, crime, demeaning words) on a photo that shows people.

:class:`PeopleGuard` is the one place every automatic label passes through:
zero-shot suggestions and tags learned from examples
(:meth:`clipdesk.core.tags.TagService.suggest`, ``teach``), "Tag the whole
library" (``preview_auto``, ``apply_auto``) and text searches
(:meth:`clipdesk.core.search.SearchService.query`: a search for an animal never
returns photos of people). It is visible only as absence: nothing names what
was held back. The user's own tags are never touched.

Whether a photo shows people comes from evidence that does not depend on the
tag vocabulary:

* the model's own person prompts (``resources/vocab/<model-id>.person.txt``,
  else ``person.txt``; one concept per line), each calibrated against the
  library like a tag (:class:`clipdesk.core.tagging.ZeroShotTagger`). A model
  is trusted to know people when its own prompt file says so, or when its
  person prompts stand out from unrelated text the way a known search does
  (:meth:`clipdesk.core.ranking.Searcher.knows`); a randomly initialised or
  a small model is not;
* a face detector (OpenCV's Haar cascades, :class:`FaceDetector`), run on the
  photo itself, its result cached by content hash (:class:`FaceCache`).

A photo shows people when a trusted model is sure of it, or, unless a trusted
model is sure it does not, when the detector finds a face; a photo nothing can
be read from counts as showing people. Where neither is sure (no face, and a
model that is unsure or does not know people), a denied tag is kept only when
the label itself is sure (:data:`DENIED_SURE`). In a library too small to
calibrate on (fewer than :data:`clipdesk.core.tagging.MIN_BACKGROUND` photos),
a search is sure of such a photo when a trusted model finds it more like the
query than like any of its person prompts (:meth:`PersonModel.more_like`);
without that, a first search for "dog" in a folder of 30 photos found nothing.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import re
import sys
import threading
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np

from clipdesk.core.errors import ClipDeskError, UsageError
from clipdesk.core.fsutil import atomic_write
from clipdesk.core.vectors import unit

log = logging.getLogger(__name__)

DENIED_FILE = "denied-for-people.txt"
DENIED_SECTIONS = ("animal", "crime", "demeaning")
#: A trusted model's calibrated person confidence at or above which a photo
#: shows people whatever the detector says.
PERSON_SURE = 0.5
#: ... and below which it does not, whatever the detector says (a detector
#: fires on a pug's face; a model that knows people is not fooled by it).
#: Measured on the real-photo corpus (benchmarks/eval_people.py).
PERSON_NONE = 0.1
#: Where neither is sure (no face found, a model between the two above, or a
#: model that does not know people), a denied tag needs this confidence: a
#: bird photo is "bird" at 0.99, while clipdesk-imagenet's stray "lion" or
#: "pig" on photos of people came at 0.5-0.75.
DENIED_SURE = 0.9
#: At most this many photos a search for a denied word sends to the face
#: detector (about 0.15 s of CPU each); the best-ranked first. Photos beyond
#: it that the cache does not know yet and the model is unsure of are left
#: out of that search, as if they showed people; a later search finds them
#: cached. Typing stays fast with any model.
SEARCH_FACE_BUDGET = 16
#: What the evidence says of a photo.
NOBODY, UNSURE, PEOPLE = 0, 1, 2


class VocabularyRefused(UsageError):
    """A vocabulary line that would put a denied word on people."""


# -- words -------------------------------------------------------------------------------

_IRREGULAR = {
    "mice": "mouse", "lice": "louse", "geese": "goose", "oxen": "ox", "teeth": "tooth",
    "feet": "foot", "men": "man", "women": "woman", "children": "child", "people": "person",
    "wolves": "wolf", "calves": "calf", "halves": "half", "hooves": "hoof", "thieves": "thief",
    "knives": "knife", "wives": "wife", "lives": "life",
}


def _singular(word: str) -> str:
    if word in _IRREGULAR:
        return _IRREGULAR[word]
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith(("sses", "ches", "shes", "xes", "zes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


@lru_cache(maxsize=65536)
def words(text: str) -> tuple[str, ...]:
    """``text`` as folded words: lower case, accents dropped, plurals made
    singular, split at anything that is not a letter or digit ("Animals|Ape"
    is ("animal", "ape"))."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    return tuple(_singular(w) for w in re.findall(r"[a-z0-9]+", plain))


class DeniedWords:
    """The reviewed denied set and the words that name people, from the data
    file (see the file's own header for its format and review rules)."""

    def __init__(self, sections: dict[str, Iterable[str]], source: str = ""):
        self.source = source
        self._phrases: dict[tuple[str, ...], str] = {}
        for section in DENIED_SECTIONS:
            for term in sections.get(section, ()):
                key = words(term)
                if key:
                    self._phrases.setdefault(key, section)
        self._people = {words(t) for t in sections.get("people", ()) if words(t)}
        self._allowed = {words(t) for t in sections.get("allowed", ()) if words(t)}
        self._longest = max((len(k) for k in [*self._phrases, *self._people, *self._allowed]), default=1)
        self._lock = threading.Lock()
        self._memo: dict[str, tuple[str, str] | None] = {}

    @classmethod
    def parse(cls, text: str, source: str = "") -> "DeniedWords":
        sections: dict[str, list[str]] = {}
        current = None
        for n, raw in enumerate(text.splitlines(), 1):
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            if line.startswith("[") and line.endswith("]"):
                current = line[1:-1].strip().lower()
                if current not in (*DENIED_SECTIONS, "people", "allowed"):
                    raise UsageError(f"{source or 'the denied words'}: line {n}: unknown section [{current}]")
                sections.setdefault(current, [])
                continue
            if current is None:
                raise UsageError(f"{source or 'the denied words'}: line {n}: a word before the first [section]")
            sections[current].append(line)
        if not any(sections.get(s) for s in DENIED_SECTIONS):
            raise UsageError(f"{source or 'the denied words'} denies nothing")
        return cls(sections, source)

    @classmethod
    def load(cls, path: Path) -> "DeniedWords":
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot read the denied words {path}: {exc.strerror or exc}") from None
        return cls.parse(text, str(path))

    def _spans(self, toks: tuple[str, ...], table) -> Iterable[tuple[int, int, tuple[str, ...]]]:
        for i in range(len(toks)):
            for n in range(min(self._longest, len(toks) - i), 0, -1):
                key = toks[i : i + n]
                if key in table:
                    yield i, i + n, key

    def match(self, text: str) -> tuple[str, str] | None:
        """(section, the denied phrase as folded words) that ``text`` names, or None."""
        with self._lock:
            if text in self._memo:
                return self._memo[text]
        toks = words(text)
        allowed = set()
        for a, b, _ in self._spans(toks, self._allowed):
            allowed.update(range(a, b))
        found = None
        for a, b, key in self._spans(toks, self._phrases):
            if not allowed.intersection(range(a, b)):
                found = (self._phrases[key], " ".join(key))
                break
        with self._lock:
            self._memo[text] = found
        return found

    def denies(self, tag: str) -> bool:
        """Whether ``tag`` (a tag name, a search text) names a denied word."""
        return self.match(tag) is not None

    def names_people(self, text: str) -> bool:
        return any(True for _ in self._spans(words(text), self._people))

    def check_vocabulary(self, text: str, source: str = "") -> None:
        """Refuse (VocabularyRefused) a vocabulary whose line pairs a word that
        names people with a denied word, or names a demeaning word at all."""
        from clipdesk.core.tagging import parse_vocabulary

        for n, raw in enumerate(text.splitlines(), 1):
            for entry in parse_vocabulary(raw):
                texts = (entry.tag, *entry.prompts)
                hits = [m for m in map(self.match, texts) if m is not None]
                if not hits:
                    continue
                demeaning = next((m for m in hits if m[0] == "demeaning"), None)
                if demeaning is None and not any(self.names_people(t) for t in texts):
                    continue
                section, word = demeaning or hits[0]
                why = ("names a word that demeans people" if demeaning
                       else f"puts a word from the {section} list on people")
                raise VocabularyRefused(
                    f"{source or 'the vocabulary'}, line {n}: the tag {entry.tag!r} {why} ({word!r}); "
                    f"automatic tags never do that (see {Path(self.source).name or DENIED_FILE}). "
                    "Remove the line or reword it."
                )


def denied_words_for(resources_dir: Path) -> DeniedWords:
    """The denied set beside the vocabularies (``resources/vocab``); a resources
    folder without one (a user's or a test's own) gets the one ClipDesk ships:
    the guard never goes away with a file."""
    own = Path(resources_dir) / "vocab" / DENIED_FILE
    if not own.is_file():
        from clipdesk.core.paths import PACKAGE_ROOT

        for shipped in (PACKAGE_ROOT / "resources", Path(sys.prefix) / "share" / "clipdesk" / "resources"):
            if (shipped / "vocab" / DENIED_FILE).is_file():
                own = shipped / "vocab" / DENIED_FILE
                break
    return DeniedWords.load(own)


def person_prompts_file(resources_dir: Path, model_id: str) -> tuple[Path, bool]:
    """(the person prompts for a model, whether they are the model's own)."""
    vocab = Path(resources_dir) / "vocab"
    own = vocab / f"{model_id}.person.txt"
    return (own, True) if own.is_file() else (vocab / "person.txt", False)


# -- the face detector --------------------------------------------------------------------

#: The long side, in pixels, photos are read at for the detector: faces down
#: to about 1/40 of it are found. Measured on the real-photo corpus.
DETECT_SIZE = 640
#: The cascades and their settings (OpenCV's own Haar cascades, Intel licence).
CASCADES = (("haarcascade_frontalface_default.xml", 4),)


class FaceDetector:
    """Faces in a photo, by the Haar cascades that ship inside opencv-python(-headless) 4.x.
    (OpenCV 5.0's wheels ship no cascades.) ``available`` is False when
    OpenCV cannot be loaded: every photo then counts as showing people."""

    def __init__(self, cascades=CASCADES):
        self.id = "haar-" + "-".join(f"{Path(f).stem.split('_', 1)[1]}{n}" for f, n in cascades) + f"-{DETECT_SIZE}"
        self._cascades = None
        self._spec = cascades
        self._lock = threading.Lock()
        self._why: str | None = None

    def _load(self):
        with self._lock:
            if self._cascades is None and self._why is None:
                try:
                    import cv2

                    loaded = []
                    for file, neighbours in self._spec:
                        c = cv2.CascadeClassifier(str(Path(cv2.data.haarcascades) / file))
                        if c.empty():
                            raise ImportError(f"OpenCV has no {file}")
                        loaded.append((c, neighbours))
                    self._cascades = loaded
                except (ImportError, AttributeError, OSError) as exc:
                    self._why = str(exc)
                    log.warning("the face detector is not available (%s): automatic tags treat every "
                                "photo as one that may show people", exc)
            return self._cascades

    @property
    def available(self) -> bool:
        return self._load() is not None

    def faces(self, grey: np.ndarray) -> int:
        """How many faces the cascades find in an 8-bit grey image (largest side ~DETECT_SIZE)."""
        import cv2

        cascades = self._load()
        if cascades is None:
            raise ClipDeskError(f"the face detector is not available: {self._why}")
        img = cv2.equalizeHist(np.ascontiguousarray(grey, dtype=np.uint8))
        side = max(20, min(img.shape) // 40)
        for i, (cascade, neighbours) in enumerate(cascades):
            # The profile cascade sees faces turned one way: the mirror image finds the others.
            for im in (img,) if i == 0 else (img, np.ascontiguousarray(img[:, ::-1])):
                found = len(cascade.detectMultiScale(im, scaleFactor=1.1, minNeighbors=neighbours,
                                                     minSize=(side, side)))
                if found:
                    return found
        return 0

    def faces_in_file(self, path: str | bytes) -> tuple[str, int]:
        """(content hash, faces) of an image file, read through ClipDesk's one decoder
        (RAW, HEIF, orientation); raises DecodeError."""
        from PIL import Image

        from clipdesk.core.imaging import decode

        d = decode(path, thumb_size=DETECT_SIZE)
        with Image.open(io.BytesIO(d.thumbnail)) as im:
            return d.hash, self.faces(np.asarray(im.convert("L")))

    def faces_in_jpeg(self, data: bytes) -> int:
        """Faces in JPEG bytes (a grid thumbnail, read at twice its size)."""
        from PIL import Image

        with Image.open(io.BytesIO(data)) as im:
            grey = im.convert("L")
            scale = DETECT_SIZE / max(grey.size)
            if scale > 1.05:
                grey = grey.resize((round(grey.width * scale), round(grey.height * scale)), Image.Resampling.BICUBIC)
            return self.faces(np.asarray(grey))


class FaceCache:
    """Detector results by content hash, in one small file per detector under
    the cache folder: derived data, checked (detector id and checksum) before
    use and rebuilt when wrong, never the only copy of anything."""

    def __init__(self, directory: Path | None, detector_id: str):
        self.path = Path(directory) / f"faces-{detector_id}.json" if directory else None
        self.detector_id = detector_id
        self._faces: dict[str, int] | None = None
        self._dirty = 0
        self._lock = threading.Lock()

    def _data(self) -> dict[str, int]:
        if self._faces is None:
            self._faces = {}
            if self.path is not None and self.path.is_file():
                try:
                    doc = json.loads(self.path.read_text(encoding="utf-8"))
                    body = json.dumps(doc["faces"], sort_keys=True)
                    if doc.get("detector") == self.detector_id and doc.get("sha256") == \
                            hashlib.sha256(body.encode()).hexdigest():
                        self._faces = {str(k): int(v) for k, v in doc["faces"].items()}
                    else:
                        log.info("the face cache %s is damaged or stale; it is made again", self.path)
                except (OSError, ValueError, KeyError, TypeError, AttributeError):
                    log.info("the face cache %s cannot be read; it is made again", self.path)
        return self._faces

    def get(self, digest: str) -> int | None:
        with self._lock:
            return self._data().get(digest)

    def put(self, digest: str, faces: int) -> None:
        with self._lock:
            self._data()[digest] = int(faces)
            self._dirty += 1

    def save(self) -> None:
        with self._lock:
            if not self._dirty or self.path is None:
                return
            body = json.dumps(self._data(), sort_keys=True)
            doc = {"detector": self.detector_id, "sha256": hashlib.sha256(body.encode()).hexdigest(),
                   "faces": self._data()}
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                atomic_write(self.path, json.dumps(doc, sort_keys=True).encode(), durable=False)
                self._dirty = 0
            except OSError as exc:  # a cache: the results are simply computed again
                log.warning("could not save the face cache: %s", exc)


# -- the model's own evidence --------------------------------------------------------------


@dataclass
class PersonModel:
    """One model's person prompts, calibrated on its library. ``trusted``:
    whether the model knows what a person looks like."""

    model_id: str
    trusted: bool
    tagger: object | None  # ZeroShotTagger over the person prompts, or None
    #: The person prompts' unit text embeddings [prompts, dim] (also in a small library), or None.
    prompts: np.ndarray | None = None

    def confidence(self, vecs: np.ndarray) -> np.ndarray | None:
        """Each photo's person confidence (the best of the prompts), or None when not trusted."""
        if not self.trusted or self.tagger is None or len(vecs) == 0:
            return None
        conf, _ = self.tagger.confidences(vecs)
        return conf.max(axis=1)

    def more_like(self, vecs: np.ndarray, query: np.ndarray) -> np.ndarray | None:
        """Per photo (``vecs`` [n, dim], unit rows), whether the model finds it
        more like ``query`` (a unit text embedding) than like any of its person
        prompts, by raw cosine: its own relative sense, which needs no library
        to calibrate on. None when the model is not trusted to know people.
        Measured with clipdesk-imagenet on 12 corpus photos of people and 12 of
        animals: no photo of people for monkey, ape, gorilla, pig, dog, animal
        or criminal; all 12 animals for "animal"."""
        if not self.trusted or self.prompts is None or len(vecs) == 0:
            return None
        return np.asarray(vecs @ query) > (np.asarray(vecs) @ self.prompts.T).max(axis=1)


def person_model(model, resources_dir: Path, background: np.ndarray | None,
                 knows: Callable[[np.ndarray, list[str]], bool] | None = None) -> PersonModel:
    """The person evidence of an active model (:class:`clipdesk.core.models.ActiveModel`):
    ``background`` a sample of its library's embeddings, ``knows(query vector, words)``
    whether the model knows what a text query (its vector, its words) asks for."""
    from clipdesk.core.tagging import MIN_BACKGROUND, Vocabulary, ZeroShotTagger, parse_vocabulary

    path, own = person_prompts_file(resources_dir, model.model_id)
    try:
        entries = parse_vocabulary(path.read_text(encoding="utf-8"))
    except OSError:
        entries = []
    if not entries or background is None or not len(background):
        return PersonModel(model.model_id, False, None)
    try:
        emb = Vocabulary.embed_entries(entries, model.text)
    except ClipDeskError as exc:  # a model that cannot read the prompts has no say
        log.info("person prompts of %s cannot be embedded: %s", model.model_id, exc)
        return PersonModel(model.model_id, False, None)
    trusted = own or (knows is not None and bool(knows(unit(emb.mean(axis=0)), [e.tag for e in entries])))
    if len(background) < MIN_BACKGROUND:  # nothing to calibrate on: only the relative sense
        return PersonModel(model.model_id, trusted, None, emb)
    tagger = ZeroShotTagger(Vocabulary(entries, emb, str(path)), background, evidence=True)
    return PersonModel(model.model_id, trusted, tagger, emb)


# -- the guard ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Subject:
    """A photo the guard looks at: its catalog id (None for a file outside the
    library), its embedding, and, for a file outside the library, its path."""

    photo_id: int | None
    vector: np.ndarray
    path: str | bytes | None = None


class PeopleGuard:
    """The one place automatic labels pass through on their way to photos.

    Built by :class:`clipdesk.core.library.Library` from the catalog (where a
    photo's pixels are), the model service (the active model's evidence), the
    thumbnail cache and the resources folder (the denied words and person
    prompts). Thread-safe."""

    def __init__(self, catalog, models, thumbnails, resources_dir: Path, cache_dir: Path | None, *,
                 denied: DeniedWords | None = None, detector: FaceDetector | None = None):
        self._catalog = catalog
        self._models = models
        self._thumbnails = thumbnails
        self._resources = Path(resources_dir)
        self._denied = denied
        self.detector = detector or FaceDetector()
        self.cache = FaceCache(cache_dir, self.detector.id)
        self._person: dict[tuple, PersonModel] = {}
        self._lock = threading.Lock()

    @property
    def denied(self) -> DeniedWords:
        if self._denied is None:
            self._denied = denied_words_for(self._resources)
        return self._denied

    # -- what the callers use ------------------------------------------------------------
    def denied_tags(self, tags: Sequence[str]) -> np.ndarray:
        return np.array([self.denied.denies(t) for t in tags], dtype=bool)

    def screen(self, tags: Sequence[str], accepted: np.ndarray, subjects: Sequence[Subject],
               confidence: np.ndarray | None = None, *, budget: int | None = None) -> np.ndarray:
        """``accepted`` [photos, tags] less every denied tag on a photo that shows
        people. Where the evidence is unsure (no face found, the model not sure
        either way) a denied tag stays only at ``confidence`` >= DENIED_SURE.
        ``budget``: at most this many photos go to the face detector (None:
        all); the others it would have been asked about count as people."""
        accepted = np.array(accepted, dtype=bool, ndmin=2)
        deny = self.denied_tags(tags)
        if not deny.any() or not len(subjects):
            return accepted
        rows = np.flatnonzero(accepted[:, deny].any(axis=1))
        if not len(rows):
            return accepted
        seen = self.evidence([subjects[i] for i in rows], budget=budget)
        cols = np.flatnonzero(deny)
        block = np.zeros((len(rows), len(cols)), dtype=bool)
        block[seen == PEOPLE] = True
        unsure = seen == UNSURE
        if unsure.any():
            if confidence is None:
                block[unsure] = True
            else:
                conf = np.array(confidence, dtype=float, ndmin=2)[np.ix_(rows, cols)]
                block[unsure] = conf[unsure] < DENIED_SURE
        sub = accepted[np.ix_(rows, cols)]
        accepted[np.ix_(rows, cols)] = sub & ~block
        return accepted

    def allowed(self, text: str, subjects: Sequence[Subject], confidence: np.ndarray | None = None, *,
                budget: int | None = None) -> np.ndarray:
        """Which photos may carry one tag, or be a result of one search text
        (``confidence`` and ``budget``: as :meth:`screen` takes them)."""
        conf = None if confidence is None else np.asarray(confidence, dtype=float).reshape(-1, 1)
        return self.screen([text], np.ones((len(subjects), 1), dtype=bool), subjects, conf, budget=budget)[:, 0]

    # -- evidence ------------------------------------------------------------------------
    def person_model(self) -> PersonModel | None:
        """The active model's person evidence, recalibrated as the library grows."""
        from clipdesk.core.errors import ModelError
        from clipdesk.core.tagging import library_sample

        try:
            model = self._models.active()
            index = self._models.index()
        except ModelError:
            return None
        key = (model.model_id, len(index) // 100)
        with self._lock:
            hit = self._person.get(key)
        if hit is not None:
            return hit
        searcher = model.searcher()

        def knows(qvec: np.ndarray, words: list[str]) -> bool:
            top = index.search(qvec, min(len(index), 5))
            return searcher.knows(qvec, top.ids, top.scores, words)

        evidence = person_model(model, self._resources, library_sample(index), knows)
        log.info("person evidence of %s: %s", model.model_id,
                 "its own person prompts" if evidence.trusted else "the face detector alone")
        with self._lock:
            self._person = {key: evidence}
        return evidence

    def evidence(self, subjects: Sequence[Subject], *, budget: int | None = None) -> np.ndarray:
        """Per photo: PEOPLE, NOBODY or UNSURE (see the module's docstring);
        ``budget`` as :meth:`screen` takes it."""
        n = len(subjects)
        out = np.full(n, UNSURE, dtype=np.int8)
        if n == 0:
            return out
        model = self.person_model()
        conf = model.confidence(np.stack([s.vector for s in subjects])) if model is not None else None
        ask = np.ones(n, dtype=bool)
        if conf is not None:
            out[conf >= PERSON_SURE] = PEOPLE
            out[conf < PERSON_NONE] = NOBODY
            ask = (conf < PERSON_SURE) & (conf >= PERSON_NONE)
        idx = np.flatnonzero(ask)
        if len(idx):
            faces = self.faces([subjects[i] for i in idx], budget=budget)
            out[idx] = [PEOPLE if f is None or f > 0 else UNSURE for f in faces]
        return out

    def search_confidence(self, vecs: np.ndarray, query: np.ndarray) -> np.ndarray | None:
        """For a search in a library too small to calibrate the query on: 1.0
        for each photo a trusted model finds more like the query than like a
        person (:meth:`PersonModel.more_like`), else 0.0; None when the model
        has no such sense. A confidence for :meth:`allowed`."""
        model = self.person_model()
        more = model.more_like(vecs, query) if model is not None else None
        return None if more is None else more.astype(float)

    def shows_people(self, subjects: Sequence[Subject]) -> np.ndarray:
        """Whether each photo shows people, as far as the evidence is sure."""
        return self.evidence(subjects) == PEOPLE

    def faces(self, subjects: Sequence[Subject], *, budget: int | None = None) -> list[int | None]:
        """Faces per photo (None: nothing could be read, or the detector's
        ``budget`` of photos not in the cache was spent), from the cache or
        the detector, in the order given."""
        if not self.detector.available:
            return [None] * len(subjects)
        ids = [s.photo_id for s in subjects if s.photo_id is not None]
        photos = {p.id: p for p in self._catalog.photos(ids)} if ids else {}
        left = [budget if budget is not None else len(subjects)]
        out: list[int | None] = []
        for s in subjects:
            photo = photos.get(s.photo_id) if s.photo_id is not None else None
            if photo is not None:
                out.append(self._faces_of(photo.path, photo.hash, left))
            else:
                out.append(self._faces_of(s.path, None, left))
        self.cache.save()
        return out

    def _faces_of(self, path, digest: str | None, left: list[int]) -> int | None:
        from clipdesk.core.errors import DecodeError

        if digest is not None:
            hit = self.cache.get(digest)
            if hit is not None:
                return hit
        if left[0] <= 0:
            return None
        left[0] -= 1
        if path is not None:
            try:
                got, faces = self.detector.faces_in_file(path)
            except (DecodeError, OSError) as exc:
                log.debug("faces: %r cannot be read (%s); its thumbnail is tried", path, exc)
            else:
                self.cache.put(got, faces)
                return faces
        if digest is not None and self._thumbnails is not None:
            data = self._thumbnails.get(digest)
            if data is not None:
                try:
                    faces = self.detector.faces_in_jpeg(data)
                except (OSError, ValueError) as exc:
                    log.debug("faces: the thumbnail of %s cannot be read (%s)", digest, exc)
                else:
                    self.cache.put(digest, faces)
                    return faces
        return None

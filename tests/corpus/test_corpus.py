"""The corpus itself: every file fetches and matches, every file and label is accounted for,
fetching heals a damaged cache and refuses altered downloads, and ExifTool reads the cameras' files."""

from __future__ import annotations

import hashlib
import io
import json
import re
import shutil
import subprocess
import tarfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from corpus import LABELS, MANIFEST, Corpus, default_cache_dir
from corpus.fetch import FetchError, Member, Source, fetch_source

HEX64 = re.compile(r"^[0-9a-f]{64}$")
RELATIONS = {"stereo", "sequence", "same-scene", "same-photo"}


@pytest.fixture(scope="module")
def manifest() -> dict:
    return json.loads(MANIFEST.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def labels() -> dict:
    return json.loads(LABELS.read_text(encoding="utf-8"))


# -- the manifest and the labels, read as data (no network) ---------------------


def test_every_source_is_pinned_with_registry_version_url_checksum_and_licence(manifest):
    assert manifest["sources"]
    for key, s in manifest["sources"].items():
        assert s["registry"] in ("debian", "pypi"), key
        assert s["package"] and s["version"] and s["filename"], key
        assert s["archive"] in ("deb", "tar", "zip"), key
        assert s["urls"] and all(u.startswith(("https://", "http://")) for u in s["urls"]), key
        assert all(u.rsplit("/", 1)[1] == s["filename"] for u in s["urls"]), key
        assert HEX64.match(s["sha256"]) and s["size"] > 0, key
        assert s["licence"].strip() and s["licence_note"].strip(), key


def test_every_file_has_its_source_path_checksum_licence_and_kinds(manifest):
    ids = [f["id"] for f in manifest["files"]]
    assert len(ids) == len(set(ids)), "file ids are unique"
    for f in manifest["files"]:
        src = manifest["sources"][f["source"]]
        assert f["path"].startswith(src["root"]), f["id"]
        assert f["id"] == f["source"] + "/" + f["path"][len(src["root"]):]
        assert HEX64.match(f["sha256"]) and f["size"] >= 0, f["id"]
        assert f["licence"].strip(), f["id"]
        assert f["kinds"] == sorted(set(f["kinds"])) and f["kinds"], f["id"]


def test_every_label_and_pair_refers_to_a_manifest_file_and_known_concepts(manifest, labels):
    files = {f["id"]: f for f in manifest["files"]}
    concepts = labels["concepts"]
    for name, c in concepts.items():
        assert set(c.get("parents", [])) <= set(concepts), name
    for file_id, shown in labels["photos"].items():
        assert file_id in files, f"label for {file_id}, which is not in the manifest"
        assert shown and set(shown) <= set(concepts), file_id
        # A labelled photo must be one the app can decode: labels are for
        # measuring search and tags, not for testing broken input.
        assert "decodes" in files[file_id]["kinds"], file_id
    for p in labels["pairs"]:
        assert p["a"] in files and p["b"] in files and p["a"] != p["b"], p
        assert p["relation"] in RELATIONS, p


def test_no_concept_is_its_own_ancestor(labels):
    concepts = labels["concepts"]
    for name in concepts:
        seen, todo = set(), list(concepts[name].get("parents", []))
        while todo:
            c = todo.pop()
            assert c != name, f"{name} is its own ancestor"
            if c not in seen:
                seen.add(c)
                todo += concepts[c].get("parents", [])


def test_enough_labelled_photos_people_animals_and_pairs():
    corpus = Corpus(cache_dir=Path("/nonexistent"))
    photos = corpus.photos()
    assert len(corpus.labelled()) >= 120
    assert len(corpus.distinct(photos)) >= 120
    assert len(corpus.distinct(corpus.photos("person"))) >= 15
    assert corpus.photos("portrait") and corpus.photos("group") and corpus.photos("sport")
    assert len(corpus.distinct(corpus.photos("animal"))) >= 15
    assert len(corpus.pairs()) >= 12 and len(corpus.pairs("stereo")) >= 4


def test_concepts_include_broader_ones_and_unknown_concepts_are_errors():
    corpus = Corpus(cache_dir=Path("/nonexistent"))
    dogs = corpus.labelled("dog")
    assert dogs and all("animal" in e.labels for e in dogs)
    assert {e.id for e in dogs} <= {e.id for e in corpus.labelled("animal")}
    assert not any("graphic" in e.labels for e in corpus.photos())
    not_dogs = corpus.labelled("animal", without={"dog"})
    assert not_dogs and all("dog" not in e.labels for e in not_dogs)
    with pytest.raises(KeyError):
        corpus.labelled("puppy")


def test_kinds_answer_the_metadata_oracle_questions():
    corpus = Corpus(cache_dir=Path("/nonexistent"))
    raw_formats = {k for e in corpus.select("raw") for k in e.kinds if k.startswith("format:")}
    assert {"format:cr2", "format:cr3", "format:nef", "format:raf", "format:rw2", "format:dng"} <= raw_formats
    assert corpus.select("format:jpeg", "camera", "offset-time-original")
    assert corpus.select("heif", "camera", "offset-time-original", "subsec-time-original")
    assert corpus.select("format:jpeg", "camera", "gps")
    assert corpus.select("orientation") and corpus.select("xmp") and corpus.select("iptc")
    assert corpus.select("mode:CMYK", "format:jpeg") and corpus.select("16-bit", "format:png")
    assert corpus.select("mode:P", "transparency") and corpus.select("broken")


def test_the_default_cache_is_not_under_the_per_test_home(monkeypatch, _isolated_home):
    monkeypatch.delenv("CLIPDESK_CORPUS_DIR", raising=False)
    assert not default_cache_dir().is_relative_to(_isolated_home)
    monkeypatch.setenv("CLIPDESK_CORPUS_DIR", "/some/where")
    assert default_cache_dir() == Path("/some/where")


# -- the real fetch ------------------------------------------------------------------


def test_every_manifest_file_fetches_and_matches_its_checksum(corpus):
    corpus.fetch()
    assert corpus.problems() == []
    for e in corpus.entries.values():
        p = corpus.path(e)
        assert p.stat().st_size == e.size
        assert hashlib.sha256(p.read_bytes()).hexdigest() == e.sha256, e.id


def test_a_damaged_or_missing_cache_file_is_fetched_again(tmp_path):
    """Its own cache: the exiftool source (3.5 MB) downloaded for real."""
    corpus = Corpus(cache_dir=tmp_path / "cache")
    first, second = (e.id for e in corpus.select("camera", source="exiftool")[:2])
    p = corpus.path(first)
    good = p.read_bytes()
    data = bytearray(good)
    data[len(data) // 2] ^= 0xFF
    p.write_bytes(bytes(data))
    corpus.local(second).unlink()

    again = Corpus(cache_dir=tmp_path / "cache")  # a new process's view
    assert sorted(again.problems(["exiftool"])) == sorted([f"{first}: damaged", f"{second}: missing"])
    assert again.path(first).read_bytes() == good
    assert again.path(second).is_file()
    assert again.problems(["exiftool"]) == []
    assert not list((tmp_path / "cache" / "v1" / "work").glob("*.part")), "no download left behind"


# -- fetching from a misbehaving server on 127.0.0.1 -----------------------------


class _ArchiveServer:
    """Serves one archive; the first ``bad`` requests get it with one byte flipped."""

    def __init__(self, data: bytes, bad: int):
        self.data, self.bad, self.requests = data, bad, 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's name
                outer.requests += 1
                body = bytearray(outer.data)
                if outer.requests <= outer.bad:
                    body[len(body) // 2] ^= 0x01
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(bytes(body))

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/photos.tar.gz"


@pytest.fixture(scope="module")
def small_archive(tmp_path_factory) -> tuple[bytes, bytes]:
    """A real tar.gz holding one real photo of the corpus (sklearn's china.jpg)."""
    corpus = Corpus(cache_dir=tmp_path_factory.mktemp("corpus-cache"))
    photo = corpus.path("sklearn/china.jpg").read_bytes()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        info = tarfile.TarInfo("photos/china.jpg")
        info.size = len(photo)
        tar.addfile(info, io.BytesIO(photo))
    return buf.getvalue(), photo


def _source(url: str, data: bytes) -> Source:
    return Source(key="local", registry="pypi", package="local", version="1", archive="tar",
                  filename="photos.tar.gz", urls=(url,), sha256=hashlib.sha256(data).hexdigest(),
                  size=len(data), root="photos/")


def test_an_altered_download_is_retried_and_the_file_checked(tmp_path, small_archive):
    data, photo = small_archive
    dest = tmp_path / "files" / "china.jpg"
    with _ArchiveServer(data, bad=2) as server:
        member = Member("photos/china.jpg", hashlib.sha256(photo).hexdigest(), len(photo), dest)
        assert fetch_source(_source(server.url, data), [member], tmp_path / "work", sleep=lambda s: None).written == 1
        assert server.requests == 3
    assert dest.read_bytes() == photo


def test_a_download_that_never_matches_is_refused_and_leaves_nothing(tmp_path, small_archive):
    data, photo = small_archive
    dest = tmp_path / "files" / "china.jpg"
    with _ArchiveServer(data, bad=99) as server:
        member = Member("photos/china.jpg", hashlib.sha256(photo).hexdigest(), len(photo), dest)
        with pytest.raises(FetchError, match="SHA-256"):
            fetch_source(_source(server.url, data), [member], tmp_path / "work", sleep=lambda s: None)
    assert not dest.exists()
    assert not list((tmp_path / "work").glob("*.part"))


def test_a_member_whose_checksum_differs_from_the_manifest_is_not_installed(tmp_path, small_archive):
    data, photo = small_archive
    dest = tmp_path / "files" / "china.jpg"
    with _ArchiveServer(data, bad=0) as server:
        member = Member("photos/china.jpg", "0" * 64, len(photo), dest)
        with pytest.raises(FetchError, match="the manifest says"):
            fetch_source(_source(server.url, data), [member], tmp_path / "work", sleep=lambda s: None)
    assert not dest.exists() and not list(dest.parent.glob("*"))


# -- ExifTool, the metadata oracle -------------------------------------------------------


def test_exiftool_reads_the_cameras_files(corpus):
    exiftool = shutil.which("exiftool")
    if exiftool is None:
        pytest.skip("exiftool is not installed (Debian: libimage-exiftool-perl; ./dev.sh test installs it)")
    cameras = corpus.select("camera")
    paths = corpus.paths(cameras)
    out = subprocess.run([exiftool, "-json", "-n", "-G0", "-Make", "-Model", "-FileType", "-EXIF:OffsetTimeOriginal",
                          "-EXIF:DateTimeOriginal", *map(str, paths)], capture_output=True, text=True, check=False)
    read = {Path(d["SourceFile"]): d for d in json.loads(out.stdout)}
    assert len(read) == len(cameras) >= 50
    for e, p in zip(cameras, paths, strict=True):
        d = read[p]
        assert " ".join(str(d.get(k, "")).strip() for k in ("EXIF:Make", "EXIF:Model") if d.get(k)) == e.camera, e.id
        assert d["File:FileType"] == e.format, e.id
        if "offset-time-original" in e.kinds:
            assert re.match(r"^[+-]\d\d:\d\d$", str(d["EXIF:OffsetTimeOriginal"])), e.id
        if "date-original" in e.kinds:
            assert "EXIF:DateTimeOriginal" in d, e.id
    raws = {e.format for e in corpus.select("raw", "camera")}
    assert {"CR2", "CR3", "NEF", "RAF", "RW2", "DNG"} <= raws

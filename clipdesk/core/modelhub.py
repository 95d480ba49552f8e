"""The models users can download, and the download itself.

Models are the CLIP exports Immich publishes on Hugging Face
(``immich-app/<arch>__<pretrained>``), in the bundle layout of models/BUNDLE.md.

Download (:func:`download_model`):

1. resolve the revision to a commit (``/api/models/<repo>/revision/<rev>``) so
   every file comes from the same commit;
2. list the files and the hashes the hub reports
   (``/api/models/<repo>/tree/<commit>?recursive=true``, following the
   ``Link: rel="next"`` pages): the SHA-256 of LFS files, the git blob SHA-1
   of small ones;
3. fetch each file (``/<repo>/resolve/<commit>/<path>``) into
   ``<models>/.downloads/<model>/<commit>/``, resuming a partial file with a
   Range request, retrying dropped connections, and hashing what arrives;
4. when every file matches, move them into a staging folder, write
   ``manifest.json``, verify the bundle as the engine will, give it a
   query-length text model when its text tower allows it
   (:func:`clipdesk.core.textgraph.prepare_query_length`: the rewritten graph
   is used only when it embeds 256 check texts as the original does; the
   original stays beside it), and rename it into place. A half-downloaded
   model is never where the engine looks.

The endpoint is ``https://huggingface.co`` unless ``CLIPDESK_HF_ENDPOINT`` or
the ``endpoint`` argument says otherwise (tests use a server on 127.0.0.1).
"""

from __future__ import annotations

import errno
import hashlib
import http.client
import json
import logging
import os
import re
import shutil
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Callable, Iterable

from clipdesk import __version__
from clipdesk.core import bundle as bundle_format
from clipdesk.core.errors import ModelError, NotFound, UsageError
from clipdesk.core.paths import Paths

log = logging.getLogger(__name__)

DEFAULT_ENDPOINT = "https://huggingface.co"
ENDPOINT_ENV = "CLIPDESK_HF_ENDPOINT"
DOWNLOADS_DIR = ".downloads"
_CHUNK = 1 << 20
_USER_AGENT = f"ClipDesk/{__version__}"


@dataclass(frozen=True)
class ModelInfo:
    """One downloadable model."""

    name: str
    repo: str
    #: Branch, tag or commit. A 40-hex commit pins the exact files; a branch is
    #: resolved at download time and the commit recorded in the manifest.
    revision: str
    #: Approximate download size (fp32 ONNX, both towers).
    size_mb: int
    embed_dim: int
    image_size: int
    good_for: str
    recommended: bool = False

    @property
    def pinned(self) -> bool:
        return bool(re.fullmatch(r"[0-9a-f]{40}", self.revision))


#: The registry. Sizes are approximate (parameter counts x 4 bytes); the
#: download reports exact sizes from the hub before it starts.
#: Revisions: the build machine cannot reach Hugging Face, so these follow the
#: branch and every install records the commit it got (manifest "source").
REGISTRY: tuple[ModelInfo, ...] = (
    ModelInfo(
        "ViT-B-32__openai", "immich-app/ViT-B-32__openai", "main", 605, 512, 224,
        "OpenAI CLIP; small and fast, the best choice without a GPU (ImageNet zero-shot 63%)", recommended=True,
    ),
    ModelInfo(
        "ViT-B-32__laion2b-s34b-b79k", "immich-app/ViT-B-32__laion2b-s34b-b79k", "main", 605, 512, 224,
        "same size and speed as ViT-B-32__openai, trained on LAION-2B (ImageNet zero-shot 67%)",
    ),
    ModelInfo(
        "ViT-B-16__openai", "immich-app/ViT-B-16__openai", "main", 600, 512, 224,
        "finer detail (16-pixel patches), about 4x the compute of ViT-B-32 (ImageNet zero-shot 68%)",
    ),
    ModelInfo(
        "ViT-B-16-SigLIP__webli", "immich-app/ViT-B-16-SigLIP__webli", "main", 815, 768, 224,
        "SigLIP, 768-d; much more accurate, ViT-B-16 speed (ImageNet zero-shot 76%)",
    ),
    ModelInfo(
        "ViT-L-14__openai", "immich-app/ViT-L-14__openai", "main", 1710, 768, 224,
        "large OpenAI CLIP, about 20x the compute of ViT-B-32: for a GPU (ImageNet zero-shot 76%)",
    ),
)
DEFAULT_MODEL = next(m.name for m in REGISTRY if m.recommended)

#: The models that ship with ClipDesk (models/), in the order they are chosen when nothing has
#: been downloaded. clipdesk-imagenet knows real photos (ImageNet's 1,000 things and their
#: families): the offline default for the user's own folders. clipdesk-mini knows only the demo
#: library's synthetic clothing scenes: it searches the demo (clipdesk.demo sets it up with it).
OFFLINE_MODEL = "clipdesk-imagenet"
DEMO_MODEL = "clipdesk-mini"
BUNDLED_ORDER = (OFFLINE_MODEL, DEMO_MODEL)
#: What each shipped model can be asked about, for the status line (core/models.py).
BUNDLED_KNOWS = {
    OFFLINE_MODEL: ("it knows the 1,000 kinds of thing in ImageNet and their families (animals, food "
                    "and drink, vehicles, buildings, everyday objects, a few landscapes), but not people, "
                    "activities, scenes such as a sunset or a wedding, colours, or text"),
    DEMO_MODEL: "it only knows clothing items, colours, counts and a few backgrounds",
}

#: The same in a few words, for a one-line banner.
BUNDLED_BRIEF = {
    OFFLINE_MODEL: "it knows everyday things, animals and food, not people, scenes or colours",
    DEMO_MODEL: "it only knows clothing items, colours, counts and a few backgrounds",
}

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*__[A-Za-z0-9._-]+$")


def model_info(name: str) -> ModelInfo:
    """Registry entry by name; an unlisted ``<arch>__<pretrained>`` maps to immich-app's repo."""
    for info in REGISTRY:
        if info.name.lower() == name.lower():
            return info
    if _NAME_RE.match(name):
        log.warning("model %s is not in ClipDesk's list; trying immich-app/%s on the hub", name, name)
        return ModelInfo(name, f"immich-app/{name}", "main", 0, 0, 0, "not in ClipDesk's list")
    raise NotFound(
        f"unknown model {name!r}; `clipdesk models list` shows the models you can download"
    )


def endpoint_from_env(endpoint: str | None = None) -> str:
    value = endpoint or os.environ.get(ENDPOINT_ENV) or DEFAULT_ENDPOINT
    return value.rstrip("/")


# -- installed models ------------------------------------------------------------


@dataclass
class InstalledModel:
    model_id: str
    path: Path
    bundled: bool
    size_bytes: int
    info: ModelInfo | None
    source: dict[str, Any] = field(default_factory=dict)
    #: The manifest's text model record ({"file", "input_length", "reason", "check", ...};
    #: empty for bundles from before it): whether texts are encoded at their own
    #: length, and if not, why.
    text_model: dict[str, Any] = field(default_factory=dict)


def _manifest_summary(folder: Path) -> tuple[int, dict[str, Any], dict[str, Any]]:
    """Total size, source and text model record of a bundle, read without hashing anything."""
    try:
        manifest = json.loads((folder / bundle_format.MANIFEST).read_text(encoding="utf-8"))
        files = manifest.get("files") or {}
        size = sum(int(f.get("size", 0)) for f in files.values() if isinstance(f, dict))
        text_model = manifest.get(bundle_format.TEXT_MODEL_KEY)
        return size, dict(manifest.get("source") or {}), dict(text_model) if isinstance(text_model, dict) else {}
    except (OSError, ValueError, TypeError, AttributeError):
        return 0, {}, {}


def _registry_entry(model_id: str) -> ModelInfo | None:
    return next((m for m in REGISTRY if m.name == model_id), None)


def installed_models(paths: Paths) -> list[InstalledModel]:
    """Downloaded models first (recommended one first), then the ones shipped with ClipDesk
    (in :data:`BUNDLED_ORDER`: the model for real photos before the demo's).

    A downloaded model hides a bundled one of the same name. Nothing is
    hashed here: :func:`verify_model` does that.
    """
    found: dict[str, InstalledModel] = {}
    for root, bundled in ((paths.models_dir, False), (paths.bundled_models_dir, True)):
        try:
            entries = sorted(Path(root).iterdir())
        except OSError:
            continue
        for folder in entries:
            if folder.name.startswith(".") or folder.name in found or not folder.is_dir():
                continue
            if not bundle_format.looks_like_bundle(folder):
                continue
            size, source, text_model = _manifest_summary(folder)
            found[folder.name] = InstalledModel(
                folder.name, folder, bundled, size, _registry_entry(folder.name), source, text_model
            )
    order = {m.name: i for i, m in enumerate(REGISTRY)}
    shipped = {name: i for i, name in enumerate(BUNDLED_ORDER)}

    def rank(m: InstalledModel):
        if m.bundled:
            return (True, shipped.get(m.model_id, len(shipped)), m.model_id)
        return (False, order.get(m.model_id, len(order)), m.model_id)

    return sorted(found.values(), key=rank)


def find_model(paths: Paths, model_id: str) -> InstalledModel | None:
    return next((m for m in installed_models(paths) if m.model_id == model_id), None)


def choose_model(paths: Paths, preferred: str | None = None) -> InstalledModel:
    """The model to use: the user's choice if installed, else the best installed one.

    Fallback order: the recommended download, any other download, then the
    models shipped with ClipDesk: clipdesk-imagenet (real photos, offline)
    before clipdesk-mini (the demo library's). Raises NotFound when there is none.
    """
    models = installed_models(paths)
    if preferred:
        for m in models:
            if m.model_id == preferred:
                return m
        log.warning("model %s is not installed; using another one", preferred)
    if not models:
        raise NotFound(
            f"no model is installed; run `clipdesk models download {DEFAULT_MODEL}`"
        )
    return models[0]


def verify_model(paths: Paths, model_id: str) -> bundle_format.Bundle:
    """Hash every file of an installed model against its manifest."""
    m = find_model(paths, model_id)
    if m is None:
        raise NotFound(f"model {model_id} is not installed")
    return bundle_format.verify_bundle(m.path, model_id=model_id)


def remove_model(paths: Paths, model_id: str) -> Path:
    """Delete a downloaded model (and any partial download of it)."""
    _check_model_id(model_id)
    target = paths.models_dir / model_id
    partial = paths.models_dir / DOWNLOADS_DIR / model_id
    if not target.is_dir():
        if partial.is_dir():
            shutil.rmtree(partial, ignore_errors=True)
            return partial
        m = find_model(paths, model_id)
        if m is not None and m.bundled:
            raise UsageError(f"model {model_id} ships with ClipDesk and cannot be removed")
        raise NotFound(f"model {model_id} is not installed")
    trash = paths.models_dir / f".trash-{model_id}-{os.getpid()}-{time.monotonic_ns()}"
    os.replace(target, trash)
    shutil.rmtree(trash, ignore_errors=True)
    shutil.rmtree(partial, ignore_errors=True)
    return target


def _check_model_id(model_id: str) -> None:
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", model_id or "") or ".." in model_id:
        raise UsageError(f"{model_id!r} is not a valid model name")


# -- talking to the hub --------------------------------------------------------------


@dataclass(frozen=True)
class RemoteFile:
    path: str
    size: int
    #: SHA-256 of the content (LFS files), or None.
    sha256: str | None
    #: git blob SHA-1 (every file; the only hash for small non-LFS files).
    git_oid: str | None

    def checker(self) -> "_Checker":
        return _Checker(self)


class _Checker:
    """Hashes a file as it arrives, the way the hub reported it."""

    def __init__(self, rf: RemoteFile):
        self.rf = rf
        self.sha256 = hashlib.sha256()
        self.sha1 = None
        if rf.sha256 is None:
            self.sha1 = hashlib.sha1(usedforsecurity=False)
            self.sha1.update(b"blob %d\0" % rf.size)

    def update(self, data: bytes) -> None:
        self.sha256.update(data)
        if self.sha1 is not None:
            self.sha1.update(data)

    def matches(self) -> bool:
        if self.rf.sha256 is not None:
            return self.sha256.hexdigest() == self.rf.sha256
        return self.sha1 is not None and self.rf.git_oid is not None and self.sha1.hexdigest() == self.rf.git_oid


def _wanted(path: str) -> bool:
    """The files of a bundle: config.json and the ONNX/JSON files of visual/ and textual/.

    Immich's repositories also hold other runtimes' exports in subfolders
    (ARM NN, RKNN) and fp16 variants; those are skipped.
    """
    p = PurePosixPath(path)
    if len(p.parts) == 1:
        return p.name == bundle_format.CONFIG
    if len(p.parts) != 2 or p.parts[0] not in ("visual", "textual"):
        return False
    name = p.name
    return name.endswith(".json") or name.startswith("model.onnx") or name.endswith(".onnx_data")


class _Retryable(Exception):
    pass


class _NotOnServer(ModelError):
    """HTTP 401/403/404: Hugging Face answers 401 for repositories that do not exist."""


class DownloadCancelled(ModelError):
    """The user cancelled; what was downloaded is kept for the next attempt."""


@dataclass(frozen=True)
class Progress:
    model_id: str
    file: str
    file_done: int
    file_total: int
    done: int
    total: int


class HubClient:
    """The few Hugging Face endpoints a download needs, over plain urllib."""

    def __init__(self, endpoint: str | None = None, *, timeout: float = 30.0):
        self.endpoint = endpoint_from_env(endpoint)
        self.timeout = timeout

    def _url(self, *parts: str, query: str = "") -> str:
        path = "/".join(urllib.parse.quote(p, safe="/") for p in parts)
        return f"{self.endpoint}/{path}" + (f"?{query}" if query else "")

    def open(self, url: str, headers: dict[str, str] | None = None):
        req = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT, **(headers or {})})
        try:
            return urllib.request.urlopen(req, timeout=self.timeout)
        except urllib.error.HTTPError as exc:
            code = exc.code
            exc.close()
            if code in (401, 403, 404):
                raise _NotOnServer(f"the model server has no {url.removeprefix(self.endpoint)} (HTTP {code})") from None
            if code >= 500 or code == 429:
                raise _Retryable(f"the model server answered HTTP {code}") from None
            raise ModelError(f"the model server refused {url.removeprefix(self.endpoint)} (HTTP {code})") from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise ModelError(f"cannot reach the model server at {self.endpoint}: {reason}") from None

    def get_json(self, url: str) -> tuple[Any, Any]:
        for attempt in range(3):
            try:
                resp = self.open(url)
                break
            except _Retryable as exc:
                if attempt == 2:
                    raise ModelError(str(exc)) from None
                time.sleep(0.5 * (attempt + 1))
        with resp:
            ctype = resp.headers.get("Content-Type", "")
            try:
                body = resp.read(32 << 20)
            except (OSError, http.client.HTTPException) as exc:
                raise ModelError(f"the model server dropped the connection ({exc})") from None
        if "html" in ctype.lower() or body.lstrip()[:1] == b"<":
            raise ModelError(
                f"the model server at {self.endpoint} answered with a web page instead of data "
                "(a proxy or captive portal?)"
            )
        try:
            return json.loads(body), resp.headers
        except ValueError:
            raise ModelError(f"the model server at {self.endpoint} sent malformed data") from None

    def resolve_revision(self, repo: str, revision: str) -> str:
        try:
            data, _ = self.get_json(self._url("api", "models", repo, "revision", revision))
        except _NotOnServer:
            raise ModelError(f"{repo} (revision {revision}) does not exist on {self.endpoint}") from None
        sha = data.get("sha") if isinstance(data, dict) else None
        if not isinstance(sha, str) or not re.fullmatch(r"[0-9a-f]{40}", sha):
            raise ModelError(f"the model server did not say which commit {repo}@{revision} is")
        return sha

    def list_files(self, repo: str, commit: str) -> list[RemoteFile]:
        url: str | None = self._url("api", "models", repo, "tree", commit, query="recursive=true")
        files: list[RemoteFile] = []
        pages = 0
        while url:
            pages += 1
            if pages > 1000:
                raise ModelError("the model server's file list does not end")
            data, headers = self.get_json(url)
            if not isinstance(data, list):
                raise ModelError(f"the model server sent no file list for {repo}")
            for item in data:
                if not isinstance(item, dict) or item.get("type") != "file":
                    continue
                path, size = item.get("path"), item.get("size")
                lfs = item.get("lfs") if isinstance(item.get("lfs"), dict) else None
                sha256 = lfs.get("oid") if lfs else None
                if sha256 is not None and isinstance(lfs.get("size"), int):
                    size = lfs["size"]
                if not isinstance(path, str) or not isinstance(size, int) or size < 0:
                    raise ModelError(f"the model server sent a malformed file list for {repo}")
                if sha256 is not None and not re.fullmatch(r"[0-9a-f]{64}", str(sha256)):
                    raise ModelError(f"the model server sent a malformed hash for {path}")
                oid = item.get("oid") if isinstance(item.get("oid"), str) else None
                files.append(RemoteFile(path, size, sha256, oid))
            url = _next_link(headers.get("Link", ""), self.endpoint)
        return files

    def file_url(self, repo: str, commit: str, path: str) -> str:
        return self._url(repo, "resolve", commit, path)


def _next_link(header: str, endpoint: str) -> str | None:
    for part in header.split(","):
        m = re.match(r'\s*<([^>]+)>\s*;\s*rel="?next"?', part)
        if m:
            return urllib.parse.urljoin(endpoint + "/", m.group(1))
    return None


# -- download ----------------------------------------------------------------


def download_model(
    name: str | ModelInfo,
    paths: Paths,
    *,
    endpoint: str | None = None,
    progress: Callable[[Progress], None] | None = None,
    cancel: threading.Event | None = None,
    retries: int = 5,
    timeout: float = 30.0,
    backoff: float = 1.0,
) -> Path:
    """Download, verify and install a model; returns its folder.

    Interrupted downloads resume where they stopped (also in a later call).
    Raises ModelError (or DownloadCancelled) and installs nothing on failure.
    """
    from filelock import FileLock, Timeout

    info = name if isinstance(name, ModelInfo) else model_info(name)
    model_id = info.name
    _check_model_id(model_id)
    client = HubClient(endpoint, timeout=timeout)
    paths.models_dir.mkdir(parents=True, exist_ok=True)
    locks = paths.models_dir / DOWNLOADS_DIR
    locks.mkdir(exist_ok=True)
    lock = FileLock(str(locks / f"{model_id}.lock"))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise ModelError(f"model {model_id} is already being downloaded by another ClipDesk") from None
    try:
        return _download_locked(info, paths, client, progress, cancel, retries, backoff)
    finally:
        lock.release()


def _download_locked(
    info: ModelInfo,
    paths: Paths,
    client: HubClient,
    progress: Callable[[Progress], None] | None,
    cancel: threading.Event | None,
    retries: int,
    backoff: float,
) -> Path:
    model_id = info.name
    commit = info.revision if info.pinned else client.resolve_revision(info.repo, info.revision)
    files = [f for f in client.list_files(info.repo, commit) if _wanted(f.path)]
    names = {f.path for f in files}
    missing = [n for n in bundle_format.REQUIRED_FILES if n not in names]
    if missing:
        raise ModelError(f"{info.repo} is not a ClipDesk/Immich model: it has no {', '.join(missing)}")
    for f in files:
        try:
            bundle_format.safe_relpath(f.path)
        except ValueError as exc:
            raise ModelError(f"{info.repo} lists an unsafe file name ({exc})") from None

    work = paths.models_dir / DOWNLOADS_DIR / model_id
    stage_root = work / commit
    stage_root.mkdir(parents=True, exist_ok=True)
    for stale in work.iterdir():  # parts of another commit cannot be resumed
        if stale.is_dir() and stale.name != commit:
            shutil.rmtree(stale, ignore_errors=True)

    total = sum(f.size for f in files)
    need = sum(f.size for f in files if not (stage_root / f.path).is_file()) - sum(
        _size(stage_root / (f.path + ".part")) for f in files
    )
    free = shutil.disk_usage(stage_root).free
    if need > free - (64 << 20):
        raise ModelError(
            f"not enough disk space for model {model_id}: it needs {need / 1e6:.0f} MB more, "
            f"{free / 1e6:.0f} MB are free in {paths.models_dir}"
        )

    done = 0
    for f in files:
        final = stage_root / f.path
        final.parent.mkdir(parents=True, exist_ok=True)
        if final.is_file() and _file_matches(final, f):
            done += f.size
            continue
        _fetch_file(client, info, commit, f, final, done, total, progress, cancel, retries, backoff)
        done += f.size

    return _install(info, paths, commit, client.endpoint, stage_root, [f.path for f in files], work)


def _size(p: Path) -> int:
    try:
        return p.stat().st_size
    except OSError:
        return 0


def _file_matches(path: Path, rf: RemoteFile) -> bool:
    if _size(path) != rf.size:
        return False
    checker = rf.checker()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            checker.update(chunk)
    return checker.matches()


def _fetch_file(
    client: HubClient,
    info: ModelInfo,
    commit: str,
    rf: RemoteFile,
    final: Path,
    done_before: int,
    total: int,
    progress: Callable[[Progress], None] | None,
    cancel: threading.Event | None,
    retries: int,
    backoff: float,
) -> None:
    """Fetch one file into ``final`` (via ``final.part``), resuming and retrying as needed."""
    part = final.with_name(final.name + ".part")
    url = client.file_url(info.repo, commit, rf.path)
    attempt = 0
    resumed = False
    while True:
        if cancel is not None and cancel.is_set():
            raise DownloadCancelled(f"download of model {info.name} cancelled")
        try:
            resumed |= _fetch_once(client, info.name, url, rf, part, done_before, total, progress, cancel)
        except _Retryable as exc:
            attempt += 1
            if attempt > retries:
                raise ModelError(
                    f"download of model {info.name} failed: {rf.path}: {exc} (tried {attempt} times; "
                    "run the download again to resume)"
                ) from None
            delay = min(30.0, backoff * 2 ** (attempt - 1))
            log.info("download of %s: %s; retrying in %.1f s", rf.path, exc, delay)
            if cancel is not None:
                if cancel.wait(delay):
                    raise DownloadCancelled(f"download of model {info.name} cancelled") from None
            else:
                time.sleep(delay)
            continue
        if _file_matches(part, rf):
            os.replace(part, final)
            return
        part.unlink(missing_ok=True)
        if resumed:
            # The kept part may be what was damaged: one fresh try from byte 0.
            log.info("download of %s: checksum mismatch after resuming; starting the file over", rf.path)
            resumed = False
            continue
        raise ModelError(
            f"download of model {info.name} failed: {rf.path} does not match the checksum the hub "
            "reported (the data was damaged on the way); run the download again"
        )


def _fetch_once(
    client: HubClient,
    model_id: str,
    url: str,
    rf: RemoteFile,
    part: Path,
    done_before: int,
    total: int,
    progress: Callable[[Progress], None] | None,
    cancel: threading.Event | None,
) -> bool:
    """One request for the rest of a file. Returns whether it appended to an earlier part."""
    have = _size(part)
    if have > rf.size:
        part.unlink()
        have = 0
    if have == rf.size and rf.size > 0:
        return True
    headers = {"Range": f"bytes={have}-"} if have else {}
    resp = client.open(url, headers)
    with resp:
        ctype = (resp.headers.get("Content-Type") or "").lower()
        if "text/html" in ctype and not rf.path.endswith((".html", ".htm")):
            raise ModelError(
                f"the model server answered with a web page instead of {rf.path} (a proxy or captive portal?)"
            )
        if have and resp.status == 206:
            m = re.match(r"bytes (\d+)-", resp.headers.get("Content-Range", ""))
            if not m or int(m.group(1)) != have:
                part.unlink(missing_ok=True)
                raise _Retryable("the server resumed at the wrong place")
            mode, resumed = "ab", True
        elif resp.status == 200:
            have, mode, resumed = 0, "wb", False  # the server ignored the Range: start over
        else:
            raise _Retryable(f"unexpected HTTP {resp.status}")
        written = have
        try:
            out = open(part, mode)
        except OSError as exc:
            raise ModelError(f"cannot write model {model_id} to {part.parent}: {exc.strerror or exc}") from None
        with out:
            while written <= rf.size:
                if cancel is not None and cancel.is_set():
                    raise DownloadCancelled(f"download of model {model_id} cancelled")
                try:
                    chunk = resp.read(min(_CHUNK, rf.size - written + 1))
                except (http.client.HTTPException, OSError) as exc:
                    raise _Retryable(f"connection lost ({type(exc).__name__})") from None
                if not chunk:
                    break
                try:
                    out.write(chunk)
                except OSError as exc:
                    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                        raise ModelError(f"the disk is full: model {model_id} could not be saved") from None
                    raise ModelError(f"cannot write model {model_id}: {exc.strerror or exc}") from None
                written += len(chunk)
                if progress is not None and written <= rf.size:
                    progress(Progress(model_id, rf.path, written, rf.size, done_before + written, total))
            out.flush()
            os.fsync(out.fileno())
    if written > rf.size:
        part.unlink(missing_ok=True)
        raise ModelError(f"download of model {model_id} failed: {rf.path} is larger than the hub said")
    if written < rf.size:
        raise _Retryable(f"connection closed after {written} of {rf.size} bytes")
    return resumed


def _prepare_text_model(folder: Path, model_id: str) -> None:
    """The query-length text model, once per download; a failure to make one never fails the install."""
    from clipdesk.core import textgraph
    from clipdesk.core.engine import EngineOptions

    try:
        textgraph.prepare_query_length(folder, model_id, options=EngineOptions.from_env())
    except (ModelError, OSError) as exc:
        # The manifest still describes the files that are there.
        log.warning("model %s: no query-length text model (%s)", model_id, exc)


def prepare_text_model(paths: Paths, model_id: str) -> bundle_format.TextModelForm:
    """Give an installed download a query-length text model (for models downloaded before ClipDesk made them).

    Returns the manifest's new record. Raises NotFound, UsageError for a
    model that ships with ClipDesk, ModelError for a corrupt bundle.
    """
    from filelock import FileLock, Timeout

    from clipdesk.core import textgraph
    from clipdesk.core.engine import EngineOptions

    m = find_model(paths, model_id)
    if m is None:
        raise NotFound(f"model {model_id} is not installed")
    if m.bundled:
        raise UsageError(f"model {model_id} ships with ClipDesk and is not changed")
    locks = paths.models_dir / DOWNLOADS_DIR
    locks.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(locks / f"{model_id}.lock"))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise ModelError(f"model {model_id} is being downloaded or changed by another ClipDesk") from None
    try:
        return textgraph.prepare_query_length(m.path, model_id, options=EngineOptions.from_env())
    finally:
        lock.release()


def _install(
    info: ModelInfo,
    paths: Paths,
    commit: str,
    endpoint: str,
    stage_root: Path,
    names: Iterable[str],
    work: Path,
) -> Path:
    model_id = info.name
    names = list(names)
    staging = Path(tempfile.mkdtemp(prefix=f".staging-{model_id}-", dir=paths.models_dir))
    try:
        for name in names:
            dest = staging / name
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.replace(stage_root / name, dest)
        source = {"repo": info.repo, "revision": commit, "endpoint": endpoint}
        bundle_format.write_manifest(staging, model_id, names=names, source=source)
        bundle_format.verify_bundle(staging, model_id=model_id)
        _prepare_text_model(staging, model_id)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(staging, 0o777 & ~umask)
        target = paths.models_dir / model_id
        trash = None
        if target.exists():
            trash = paths.models_dir / f".trash-{model_id}-{os.getpid()}-{time.monotonic_ns()}"
            os.replace(target, trash)
        os.replace(staging, target)
        if trash is not None:
            shutil.rmtree(trash, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    shutil.rmtree(work, ignore_errors=True)
    log.info("model %s installed from %s@%s", model_id, info.repo, commit[:12])
    return target

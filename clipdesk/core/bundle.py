"""Find, read and validate model bundles (the folder format of models/BUNDLE.md).

A bundle is checked before ONNX Runtime parses any of it:

* every file is listed in ``manifest.json`` with its SHA-256 and size;
* every name in the manifest is a plain relative path that stays inside the
  folder (no absolute paths, no ``..``, no symlink that leads outside);
* every external-data file an ONNX model refers to is listed too, so it is
  hashed like the rest and cannot point outside the folder.

Opening a bundle (:func:`open_bundle`) reads and hashes the small files (JSON,
tokenizer) and checks names and sizes of the rest; the large ONNX files are
hashed when an encoder actually loads them (:func:`read_model`), right before
ONNX Runtime opens them by path. (Handing ONNX Runtime the verified bytes
instead would close the window between hash and load, but it keeps a second
copy of the weights alive: ~350 MB more for a ViT-B-32 image tower. Whoever
can write the model folder in that window could also write anything else of
the user's.) :func:`verify_bundle` hashes everything at once (``clipdesk models verify``).

Failures are :class:`~clipdesk.core.errors.ModelError` with a message that
names the model and the file and says how to fetch it again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import mmap
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Iterable, Iterator

from clipdesk.core import onnxproto as P
from clipdesk.core.errors import ModelError
from clipdesk.core.fsutil import atomic_write

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
MANIFEST_FORMAT = 1

CONFIG = "config.json"
VISUAL_MODEL = "visual/model.onnx"
PREPROCESS_CFG = "visual/preprocess_cfg.json"
TEXTUAL_MODEL = "textual/model.onnx"
#: A text model rewritten to take the query's own length (clipdesk.core.textgraph), beside the original.
QUERY_TEXTUAL_MODEL = "textual/model.query.onnx"
TOKENIZER = "textual/tokenizer.json"
TOKENIZER_CONFIG = "textual/tokenizer_config.json"
SPECIAL_TOKENS_MAP = "textual/special_tokens_map.json"

#: Files every bundle must have. The two tokenizer side files are optional
#: (their settings have defaults), but when present they must be listed.
REQUIRED_FILES = (CONFIG, VISUAL_MODEL, PREPROCESS_CFG, TEXTUAL_MODEL, TOKENIZER)

#: Small files read whole when a bundle is opened (each must stay under this).
_SMALL_FILE_LIMIT = 64 << 20
_CHUNK = 1 << 20


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def looks_like_bundle(folder: Path) -> bool:
    """Cheap test used when listing folders: a config and both towers' folders."""
    return (folder / CONFIG).is_file() and (folder / "visual").is_dir() and (folder / "textual").is_dir()


def _refetch_hint(model_id: str) -> str:
    return f"run `clipdesk models download {model_id}` to fetch it again"


def safe_relpath(name: str) -> PurePosixPath:
    """A manifest name as a path that cannot leave the bundle folder.

    Raises ValueError for absolute paths, drive letters, ``..``, backslashes,
    empty parts and control characters (a manifest is data from elsewhere).
    """
    if not isinstance(name, str) or not name:
        raise ValueError("empty file name")
    if any(ord(c) < 32 for c in name) or "\\" in name:
        raise ValueError(f"invalid characters in file name {name!r}")
    p = PurePosixPath(name)
    if p.is_absolute() or name.startswith("/"):
        raise ValueError(f"absolute path {name!r}")
    parts = name.split("/")
    if any(part in ("", ".", "..") for part in parts):
        raise ValueError(f"file name {name!r} is not a plain relative path")
    if ":" in parts[0]:
        raise ValueError(f"file name {name!r} looks like a drive path")
    return p


def resolve_inside(root: Path, rel: PurePosixPath) -> Path:
    """``root / rel`` after following symlinks, refusing anything that lands outside ``root``."""
    real_root = Path(os.path.realpath(root))
    target = Path(os.path.realpath(root / Path(*rel.parts)))
    if target != real_root and real_root not in target.parents:
        raise ValueError(f"{rel} points outside the model folder")
    return target


@dataclass(frozen=True)
class FileEntry:
    name: str
    sha256: str
    size: int


#: Manifest key of the text model record (:class:`TextModelForm`).
TEXT_MODEL_KEY = "text_model"
#: ``input_length`` values: [N, context_length] only, or [N, L] for any L up to it.
FIXED_LENGTH, QUERY_LENGTH = "fixed", "query"


@dataclass(frozen=True)
class TextModelForm:
    """Which text model file the engine runs, and what input length it takes.

    Recorded in ``manifest.json`` under ``"text_model"``. ``query`` means the
    model takes [N, L] token ids for any L up to the context length and gives
    the same embedding for a text's L tokens (start and end token included) as
    for its padded context-length row, so the engine pads each batch only to
    its longest text. A bundle without the record runs ``textual/model.onnx``
    at the full context length, as before.
    """

    #: The ONNX file to run (a manifest name).
    file: str = TEXTUAL_MODEL
    #: :data:`FIXED_LENGTH` or :data:`QUERY_LENGTH`.
    input_length: str = FIXED_LENGTH
    #: Why the text model keeps its fixed length (shown by ``clipdesk models list``/``doctor``).
    reason: str | None = None
    #: The model the file was rewritten from, kept beside it.
    original: str | None = None
    #: How the query-length model was checked: {"strings", "min_cosine", "threshold", "tokens": [min, max], ...}.
    check: dict[str, Any] | None = None

    @property
    def query_length(self) -> bool:
        return self.input_length == QUERY_LENGTH

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"file": self.file, "input_length": self.input_length}
        for key in ("reason", "original", "check"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out

    @classmethod
    def from_json(cls, raw: Any, model_id: str, files: dict[str, FileEntry]) -> TextModelForm:
        """Read and check a manifest's record; raises ModelError when it is malformed or names an unlisted file."""
        if raw is None:
            return cls()
        bad = f"model {model_id} is corrupt: the manifest's {TEXT_MODEL_KEY} record "
        if not isinstance(raw, dict) or not isinstance(raw.get("file"), str):
            raise ModelError(bad + f"is malformed; {_refetch_hint(model_id)}")
        if raw.get("input_length") not in (FIXED_LENGTH, QUERY_LENGTH):
            raise ModelError(bad + f"has an unknown input_length {raw.get('input_length')!r}")
        for key in ("file", "original"):
            name = raw.get(key)
            if name is not None and name not in files:
                raise ModelError(bad + f"names {name}, which the manifest does not list; {_refetch_hint(model_id)}")
        reason, check = raw.get("reason"), raw.get("check")
        return cls(
            file=raw["file"],
            input_length=raw["input_length"],
            reason=reason if isinstance(reason, str) else None,
            original=raw.get("original") if isinstance(raw.get("original"), str) else None,
            check=dict(check) if isinstance(check, dict) else None,
        )


@dataclass
class Bundle:
    """A bundle whose manifest, names, sizes and small files have been checked."""

    path: Path
    model_id: str
    files: dict[str, FileEntry]
    config: dict[str, Any]
    preprocess_cfg: dict[str, Any]
    tokenizer_json: bytes
    tokenizer_config: dict[str, Any]
    special_tokens: dict[str, Any]
    manifest: dict[str, Any] = field(default_factory=dict)
    #: The text model to run and the input length it takes (manifest ``text_model``).
    text_form: TextModelForm = field(default_factory=TextModelForm)

    # -- what the config says -------------------------------------------------
    @property
    def embed_dim(self) -> int:
        return int(self.config["embed_dim"])

    @property
    def context_length(self) -> int:
        text_cfg = self.config.get("text_cfg") or {}
        ctx = text_cfg.get("context_length") or self.tokenizer_config.get("model_max_length") or 77
        return int(ctx)

    @property
    def image_size(self) -> int:
        vision = self.config.get("vision_cfg") or {}
        size = vision.get("image_size") or self.preprocess_cfg.get("size")
        if isinstance(size, (list, tuple)):
            return int(max(size))
        return int(size)

    @property
    def source(self) -> dict[str, Any]:
        """Where the bundle came from (hub repo and commit), as the manifest records it."""
        return dict(self.manifest.get("source") or {})

    def file_path(self, name: str) -> Path:
        return resolve_inside(self.path, safe_relpath(name))

    def read_model(self, name: str) -> "VerifiedModel":
        return read_model(self, name)


@dataclass(frozen=True)
class VerifiedModel:
    """An ONNX model whose file (and external data files) matched the manifest just now."""

    name: str
    path: Path
    external_files: tuple[str, ...] = ()


# -- manifest ----------------------------------------------------------------


def iter_bundle_files(folder: Path) -> Iterator[str]:
    """Relative POSIX names of the regular files in a bundle folder (manifest excluded).

    Hidden files and folders (names starting with '.') are skipped: they are
    download leftovers or editor files, never part of a model.
    """
    folder = Path(folder)
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for fn in sorted(filenames):
            if fn.startswith("."):
                continue
            full = Path(dirpath) / fn
            rel = full.relative_to(folder).as_posix()
            if rel == MANIFEST:
                continue
            yield rel


def build_manifest(
    folder: Path,
    model_id: str,
    *,
    names: Iterable[str] | None = None,
    source: dict[str, Any] | None = None,
    text_model: TextModelForm | None = None,
) -> dict[str, Any]:
    """Hash the files of a bundle folder into a manifest dict (``text_model``: the record of :class:`TextModelForm`)."""
    folder = Path(folder)
    files = {}
    for name in sorted(names if names is not None else iter_bundle_files(folder)):
        target = resolve_inside(folder, safe_relpath(name))
        files[name] = {"sha256": sha256_file(target), "size": target.stat().st_size}
    manifest: dict[str, Any] = {"format": MANIFEST_FORMAT, "model_id": model_id, "files": files}
    if source:
        manifest["source"] = source
    if text_model is not None:
        manifest[TEXT_MODEL_KEY] = text_model.to_json()
    return manifest


def write_manifest(folder: Path, model_id: str, **kwargs: Any) -> dict[str, Any]:
    """Write ``manifest.json`` for every file in the folder (atomically)."""
    manifest = build_manifest(folder, model_id, **kwargs)
    dest = Path(folder) / MANIFEST
    atomic_write(dest, (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode("utf-8"))
    return manifest


def update_manifest(
    folder: Path,
    model_id: str,
    *,
    add: Iterable[str] = (),
    remove: Iterable[str] = (),
    text_model: TextModelForm | None = None,
) -> dict[str, Any]:
    """Rewrite a bundle's ``manifest.json`` with files added (hashed now) or removed, and its text model record.

    Entries of the files left as they were are kept without hashing them
    again, and so is every other key. Raises ModelError when the manifest
    cannot be read, OSError when a file cannot be hashed or the manifest written.
    """
    folder = Path(folder)
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelError(f"model {model_id}: cannot read {MANIFEST} ({exc})") from None
    _parse_manifest(manifest, model_id)
    files = dict(manifest["files"])
    for name in remove:
        files.pop(name, None)
    for name in add:
        target = resolve_inside(folder, safe_relpath(name))
        files[name] = {"sha256": sha256_file(target), "size": target.stat().st_size}
    manifest["files"] = dict(sorted(files.items()))
    if text_model is not None:
        manifest[TEXT_MODEL_KEY] = text_model.to_json()
    atomic_write(folder / MANIFEST, (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode("utf-8"))
    return manifest


def _parse_manifest(raw: Any, model_id: str) -> dict[str, FileEntry]:
    if not isinstance(raw, dict) or not isinstance(raw.get("files"), dict):
        raise ModelError(f"model {model_id} is corrupt: manifest.json has no file list; {_refetch_hint(model_id)}")
    if raw.get("format") != MANIFEST_FORMAT:
        raise ModelError(
            f"model {model_id} has a manifest of format {raw.get('format')!r}, which this version of "
            f"ClipDesk does not know; {_refetch_hint(model_id)}"
        )
    entries: dict[str, FileEntry] = {}
    for name, info in raw["files"].items():
        try:
            safe_relpath(name)
        except ValueError as exc:
            raise ModelError(f"model {model_id} is refused: its manifest names an unsafe file ({exc})") from None
        if (
            not isinstance(info, dict)
            or not isinstance(info.get("sha256"), str)
            or len(info["sha256"]) != 64
            or not isinstance(info.get("size"), int)
            or info["size"] < 0
        ):
            raise ModelError(f"model {model_id} is corrupt: manifest entry for {name} is malformed; {_refetch_hint(model_id)}")
        entries[name] = FileEntry(name, info["sha256"].lower(), info["size"])
    return entries


# -- opening -------------------------------------------------------------------


def _checked_path(bundle_path: Path, model_id: str, entry: FileEntry) -> Path:
    """The file of a manifest entry: inside the folder, a regular file of the listed size."""
    rel = safe_relpath(entry.name)
    try:
        target = resolve_inside(bundle_path, rel)
    except ValueError:
        raise ModelError(f"model {model_id} is refused: {entry.name} is a link that points outside the model folder") from None
    try:
        st = os.stat(target)
    except FileNotFoundError:
        raise ModelError(f"model {model_id} is incomplete: {entry.name} is missing; {_refetch_hint(model_id)}") from None
    except OSError as exc:
        raise ModelError(f"model {model_id}: cannot read {entry.name} ({exc.strerror or exc})") from None
    if not stat.S_ISREG(st.st_mode):
        raise ModelError(f"model {model_id} is corrupt: {entry.name} is not a regular file; {_refetch_hint(model_id)}")
    if st.st_size != entry.size:
        raise ModelError(
            f"model {model_id} is corrupt: {entry.name} has {st.st_size} bytes instead of {entry.size}; "
            f"{_refetch_hint(model_id)}"
        )
    return target


def _read_verified(bundle_path: Path, model_id: str, entry: FileEntry) -> bytes:
    target = _checked_path(bundle_path, model_id, entry)
    try:
        data = target.read_bytes()
    except OSError as exc:
        raise ModelError(f"model {model_id}: cannot read {entry.name} ({exc.strerror or exc})") from None
    if len(data) != entry.size or hashlib.sha256(data).hexdigest() != entry.sha256:
        raise ModelError(
            f"model {model_id} is corrupt: {entry.name} does not match its checksum; {_refetch_hint(model_id)}"
        )
    return data


def _verify_file(bundle_path: Path, model_id: str, entry: FileEntry) -> Path:
    target = _checked_path(bundle_path, model_id, entry)
    if sha256_file(target) != entry.sha256:
        raise ModelError(
            f"model {model_id} is corrupt: {entry.name} does not match its checksum; {_refetch_hint(model_id)}"
        )
    return target


def _json(data: bytes, model_id: str, name: str) -> dict[str, Any]:
    try:
        value = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"model {model_id} is corrupt: {name} is not valid JSON ({exc})") from None
    if not isinstance(value, dict):
        raise ModelError(f"model {model_id} is corrupt: {name} is not a JSON object")
    return value


def open_bundle(path: Path | str, *, model_id: str | None = None) -> Bundle:
    """Open a bundle folder: check the manifest, names and sizes, read the small files.

    The ONNX files are hashed later, when an encoder loads them.
    """
    path = Path(path)
    model_id = model_id or path.name
    if not path.is_dir():
        raise ModelError(f"model {model_id} is not installed (no folder {path})")
    try:
        manifest_path = resolve_inside(path, PurePosixPath(MANIFEST))
    except ValueError:
        raise ModelError(f"model {model_id} is refused: {MANIFEST} is a link that points outside the model folder") from None
    try:
        manifest_bytes = manifest_path.read_bytes()
    except FileNotFoundError:
        raise ModelError(
            f"model {model_id} cannot be verified: {path} has no {MANIFEST}; {_refetch_hint(model_id)}"
        ) from None
    except OSError as exc:
        raise ModelError(f"model {model_id}: cannot read {MANIFEST} ({exc.strerror or exc})") from None
    manifest = _json(manifest_bytes, model_id, MANIFEST)
    entries = _parse_manifest(manifest, model_id)
    for name in REQUIRED_FILES:
        if name not in entries:
            raise ModelError(
                f"model {model_id} is incomplete: {name} is not in its manifest; {_refetch_hint(model_id)}"
            )
    for entry in entries.values():
        _checked_path(path, model_id, entry)

    def small(name: str) -> bytes | None:
        entry = entries.get(name)
        if entry is None:
            return None
        if entry.size > _SMALL_FILE_LIMIT:
            raise ModelError(f"model {model_id} is refused: {name} is implausibly large ({entry.size} bytes)")
        return _read_verified(path, model_id, entry)

    config = _json(small(CONFIG) or b"", model_id, CONFIG)
    preprocess_cfg = _json(small(PREPROCESS_CFG) or b"", model_id, PREPROCESS_CFG)
    tokenizer_json = small(TOKENIZER) or b""
    tok_cfg_bytes = small(TOKENIZER_CONFIG)
    special_bytes = small(SPECIAL_TOKENS_MAP)
    tokenizer_config = _json(tok_cfg_bytes, model_id, TOKENIZER_CONFIG) if tok_cfg_bytes is not None else {}
    special_tokens = _json(special_bytes, model_id, SPECIAL_TOKENS_MAP) if special_bytes is not None else {}

    embed_dim = config.get("embed_dim")
    if not isinstance(embed_dim, int) or embed_dim <= 0:
        raise ModelError(f"model {model_id} is corrupt: config.json has no valid embed_dim")
    text_form = TextModelForm.from_json(manifest.get(TEXT_MODEL_KEY), model_id, entries)
    return Bundle(
        path=path,
        model_id=model_id,
        files=entries,
        config=config,
        preprocess_cfg=preprocess_cfg,
        tokenizer_json=tokenizer_json,
        tokenizer_config=tokenizer_config,
        special_tokens=special_tokens,
        manifest=manifest,
        text_form=text_form,
    )


def read_model(bundle: Bundle, name: str) -> VerifiedModel:
    """Hash one ONNX file (and its external data) against the manifest, return what to load."""
    entry = bundle.files.get(name)
    if entry is None:
        raise ModelError(f"model {bundle.model_id} is incomplete: {name} is not in its manifest")
    model_path = _verify_file(bundle.path, bundle.model_id, entry)
    try:
        with open(model_path, "rb") as fh:
            if entry.size == 0:
                raise ValueError("empty file")
            # Mapped, so that only the pages the walk touches are read.
            with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
                refs = external_data_locations(mm)
    except ValueError as exc:
        raise ModelError(
            f"model {bundle.model_id} is corrupt: {name} is not a valid ONNX file ({exc}); "
            f"{_refetch_hint(bundle.model_id)}"
        ) from None
    except OSError as exc:
        raise ModelError(f"model {bundle.model_id}: cannot read {name} ({exc.strerror or exc})") from None
    base = PurePosixPath(name).parent
    external = []
    for location in sorted(refs):
        try:
            rel = safe_relpath(location)
        except ValueError as exc:
            raise ModelError(f"model {bundle.model_id} is refused: {name} refers to external data outside its folder ({exc})") from None
        data_name = (base / rel).as_posix()
        data_entry = bundle.files.get(data_name)
        if data_entry is None:
            raise ModelError(
                f"model {bundle.model_id} is refused: {name} refers to external data {data_name} "
                f"that is not in the manifest"
            )
        _verify_file(bundle.path, bundle.model_id, data_entry)
        external.append(data_name)
    return VerifiedModel(name, model_path, tuple(external))


def verify_bundle(path: Path | str, *, model_id: str | None = None) -> Bundle:
    """Open a bundle and hash every file it lists (what ``clipdesk models verify`` does)."""
    bundle = open_bundle(path, model_id=model_id)
    for entry in bundle.files.values():
        if entry.name.endswith(".onnx"):  # its external data must be listed too
            read_model(bundle, entry.name)
        else:
            _verify_file(bundle.path, bundle.model_id, entry)
    return bundle


# -- external data of an ONNX model ------------------------------------------
#
# ONNX Runtime offers no way to list a model's external-data references before
# it opens them. Only the few message fields that can hold a tensor are walked
# (clipdesk.core.onnxproto); tensor payloads are skipped by length, so a 350 MB
# model is scanned in milliseconds.

_MODEL_GRAPH, _MODEL_TRAINING_INFO, _MODEL_FUNCTIONS = P.MODEL_GRAPH, P.MODEL_TRAINING_INFO, P.MODEL_FUNCTIONS
_TRAINING_GRAPHS = (1, 2)
_FUNCTION_NODE = 7
_GRAPH_NODE, _GRAPH_INITIALIZER, _GRAPH_SPARSE_INITIALIZER = P.GRAPH_NODE, P.GRAPH_INITIALIZER, P.GRAPH_SPARSE_INITIALIZER
_NODE_ATTRIBUTE = P.NODE_ATTRIBUTE
_ATTR_T, _ATTR_G, _ATTR_TENSORS, _ATTR_GRAPHS = P.ATTR_T, P.ATTR_G, P.ATTR_TENSORS, P.ATTR_GRAPHS
_ATTR_SPARSE, _ATTR_SPARSES = P.ATTR_SPARSE_TENSOR, P.ATTR_SPARSE_TENSORS
_SPARSE_VALUES, _SPARSE_INDICES = P.SPARSE_VALUES, P.SPARSE_INDICES
_TENSOR_EXTERNAL_DATA, _TENSOR_DATA_LOCATION = P.TENSOR_EXTERNAL_DATA, P.TENSOR_DATA_LOCATION
_ENTRY_KEY, _ENTRY_VALUE = P.ENTRY_KEY, P.ENTRY_VALUE
_LOCATION_EXTERNAL = P.LOCATION_EXTERNAL
_fields = P.fields


def _tensor_locations(buf: memoryview, start: int, end: int, out: set[str]) -> None:
    location = None
    external = False
    for number, wire, value in _fields(buf, start, end):
        if number == _TENSOR_DATA_LOCATION and wire == 0:
            external = value == _LOCATION_EXTERNAL
        elif number == _TENSOR_EXTERNAL_DATA and wire == 2:
            key = val = None
            for n, w, v in _fields(buf, *value):
                if w == 2 and n == _ENTRY_KEY:
                    key = bytes(buf[v[0]:v[1]]).decode("utf-8", "replace")
                elif w == 2 and n == _ENTRY_VALUE:
                    val = bytes(buf[v[0]:v[1]]).decode("utf-8", "replace")
            if key == "location":
                location = val
    if external or location is not None:
        if not location:
            raise ValueError("a tensor stored as external data names no file")
        out.add(location)


def _sparse_locations(buf: memoryview, start: int, end: int, out: set[str]) -> None:
    for number, wire, value in _fields(buf, start, end):
        if wire == 2 and number in (_SPARSE_VALUES, _SPARSE_INDICES):
            _tensor_locations(buf, *value, out)


def _graph_locations(buf: memoryview, start: int, end: int, out: set[str], depth: int) -> None:
    if depth > 64:
        raise ValueError("graphs nested too deeply")
    for number, wire, value in _fields(buf, start, end):
        if wire != 2:
            continue
        if number == _GRAPH_INITIALIZER:
            _tensor_locations(buf, *value, out)
        elif number == _GRAPH_SPARSE_INITIALIZER:
            _sparse_locations(buf, *value, out)
        elif number == _GRAPH_NODE:
            _node_locations(buf, *value, out, depth)


def _node_locations(buf: memoryview, start: int, end: int, out: set[str], depth: int) -> None:
    for number, wire, value in _fields(buf, start, end):
        if number != _NODE_ATTRIBUTE or wire != 2:
            continue
        for n, w, v in _fields(buf, *value):
            if w != 2:
                continue
            if n in (_ATTR_T, _ATTR_TENSORS):
                _tensor_locations(buf, *v, out)
            elif n in (_ATTR_SPARSE, _ATTR_SPARSES):
                _sparse_locations(buf, *v, out)
            elif n in (_ATTR_G, _ATTR_GRAPHS):
                _graph_locations(buf, *v, out, depth + 1)


def external_data_locations(model: bytes | mmap.mmap) -> set[str]:
    """Every external-data ``location`` an ONNX model refers to (raises ValueError if unparsable)."""
    buf = memoryview(model)
    try:
        return _model_locations(buf)
    finally:
        buf.release()


def _model_locations(buf: memoryview) -> set[str]:
    out: set[str] = set()
    saw_graph = False
    for number, wire, value in _fields(buf, 0, len(buf)):
        if wire != 2:
            continue
        if number == _MODEL_GRAPH:
            saw_graph = True
            _graph_locations(buf, *value, out, 0)
        elif number == _MODEL_FUNCTIONS:
            for n, w, v in _fields(buf, *value):
                if n == _FUNCTION_NODE and w == 2:
                    _node_locations(buf, *v, out, 0)
        elif number == _MODEL_TRAINING_INFO:
            for n, w, v in _fields(buf, *value):
                if n in _TRAINING_GRAPHS and w == 2:
                    _graph_locations(buf, *v, out, 0)
    if not saw_graph:
        raise ValueError("no graph")
    return out

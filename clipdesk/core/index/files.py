"""The index on disk: one hnswlib file and a manifest that vouches for it.

The file is a *derived cache* (DESIGN.md): it is written atomically (temp
file, fsync, rename, fsync of the directory; :mod:`clipdesk.core.fsutil`)
under a name that is unique per save, and a manifest written the same way
*after* it names the file with its size and SHA-256. Loading checks the
manifest (format, model id, dimension, catalog generation, file size,
checksum) and reads the file's layout with numpy before hnswlib ever sees
it, because ``hnswlib.Index.load_index`` accepts truncated or mismatched
files and can then crash the process. Any disagreement raises
:class:`IndexStale`, which the index turns into a rebuild from the catalog.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from clipdesk.core.errors import ClipDeskError
from clipdesk.core.fsutil import atomic_path, atomic_write, unlink_quietly
from clipdesk.core.index.graph import Graph, HnswParams

__all__ = [
    "FORMAT_VERSION",
    "IndexIOError",
    "IndexStale",
    "Manifest",
    "file_stem",
    "manifest_path",
    "read_index",
    "read_manifest",
    "write_index",
]

#: Bumped whenever the manifest or the set of files it describes changes meaning.
FORMAT_VERSION = 1

#: Manifest files larger than this are not ours.
_MANIFEST_MAX_BYTES = 1 << 20
_HASH_CHUNK = 1 << 22


class IndexStale(ClipDeskError):
    """The index on disk cannot be used (missing, stale, corrupt, other model).

    Never fatal: the index is rebuilt from the catalog. ``reason`` is a short
    sentence for the log and the status bar.
    """

    def __init__(self, reason: str, *, first: bool = False):
        super().__init__(f"The search index must be rebuilt: {reason}")
        self.reason = reason
        #: Nothing was ever saved (a first run): normal, nothing went wrong.
        self.first = first


class IndexIOError(ClipDeskError):
    """The index could not be written (disk full, permissions...)."""


@dataclass(frozen=True)
class Manifest:
    """What a saved index promises: written after the file it describes.

    ``count``: live vectors; ``element_count``: graph slots, deleted ones
    included; ``index_size`` in bytes; ``hnsw``: :meth:`HnswParams.describe`.
    """

    format_version: int
    model_id: str
    dim: int
    count: int
    element_count: int
    generation: int | str | None
    index_file: str
    index_size: int
    index_sha256: str
    hnsw: dict = field(default_factory=dict)


def file_stem(model_id: str) -> str:
    """A file-system-safe, collision-free name for a model's index files."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", model_id).strip("._")[:60] or "model"
    digest = hashlib.sha256(model_id.encode("utf-8")).hexdigest()[:10]
    return f"{safe}-{digest}"


def manifest_path(directory: Path, model_id: str) -> Path:
    return Path(directory) / f"{file_stem(model_id)}.manifest.json"


# --------------------------------------------------------------------------- writing


def write_index(
    directory: Path,
    model_id: str,
    dim: int,
    params: HnswParams,
    generation: int | str | None,
    dump: Callable[[Path], tuple[int, int]],
) -> Manifest:
    """Write a graph file and then its manifest into ``directory``; returns the manifest.

    ``dump(path)`` writes the graph to ``path`` and returns (live vectors,
    graph slots). Earlier saves of the model and leftovers of interrupted ones
    are removed afterwards. Raises :class:`IndexIOError` when the disk refuses
    (the previous save stays usable), or whatever ``dump`` raises.
    """
    directory = Path(directory)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise IndexIOError(f"could not create {directory}: {exc.strerror or exc}") from exc
    stem = file_stem(model_id)
    index_name = f"{stem}.{secrets.token_hex(6)}.hnsw"
    try:
        with atomic_path(directory / index_name) as tmp:
            count, element_count = dump(tmp)
            index_size, index_sha = _size_and_hash(tmp)
        manifest = Manifest(
            format_version=FORMAT_VERSION, model_id=model_id, dim=dim, generation=generation,
            count=count, element_count=element_count, hnsw=params.describe(),
            index_file=index_name, index_size=index_size, index_sha256=index_sha,
        )
        atomic_write(
            manifest_path(directory, model_id),
            json.dumps(asdict(manifest), indent=1, sort_keys=True).encode("utf-8"),
        )
    except OSError as exc:
        unlink_quietly(directory / index_name)
        raise IndexIOError(f"could not write the search index to {directory}: {exc}") from exc
    _remove_unreferenced(directory, stem, keep={index_name})
    return manifest


def _size_and_hash(path: Path) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        while chunk := f.read(_HASH_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def _remove_unreferenced(directory: Path, stem: str, keep: set[str]) -> None:
    """Delete earlier saves and leftovers of interrupted ones (best effort)."""
    prefixes = (stem + ".", "." + stem + ".")
    try:
        names = os.listdir(directory)
    except OSError:
        return
    for name in names:
        if not name.startswith(prefixes) or name in keep or name == f"{stem}.manifest.json":
            continue
        if name.endswith((".hnsw", ".tmp")):
            unlink_quietly(directory / name)


# --------------------------------------------------------------------------- reading


def read_index(
    directory: Path,
    model_id: str,
    dim: int,
    params: HnswParams,
    *,
    generation: int | str | None,
    check_generation: bool,
) -> tuple[Graph, np.ndarray, np.ndarray]:
    """(graph, live ids int64 [N], their unit vectors float32 [N, dim]) of a saved index.

    Raises :class:`IndexStale` with the reason when anything disagrees with
    the manifest, the model, ``dim`` or (when ``check_generation``) the
    catalog's ``generation``; hnswlib only reads a file whose size and
    SHA-256 match the manifest and whose layout numpy has checked.
    """
    directory = Path(directory)
    manifest = read_manifest(directory, model_id)
    if manifest.model_id != model_id:
        raise IndexStale(f"the index belongs to model {manifest.model_id!r}, not {model_id!r}")
    if manifest.dim != dim:
        raise IndexStale(f"the index has dimension {manifest.dim}, the model has {dim}")
    if check_generation and manifest.generation != generation:
        raise IndexStale(
            f"the index was saved at catalog generation {manifest.generation}, the catalog is at {generation}"
        )
    index_path = directory / manifest.index_file
    _verify_file(index_path, manifest.index_size, manifest.index_sha256)

    # Our own reading of the header and vectors first: it refuses a file whose
    # layout disagrees with the dimension before hnswlib trusts that layout.
    live_ids, vecs = _read_level0(index_path, dim, manifest.element_count)
    if len(live_ids) != manifest.count:
        raise IndexStale(f"the index holds {len(live_ids)} live vectors, the manifest says {manifest.count}")
    try:
        graph = Graph.load(index_path, dim, params)
    except (RuntimeError, ValueError, MemoryError) as exc:
        raise IndexStale(f"hnswlib could not read the index ({exc})") from exc
    if graph.element_count != manifest.element_count or graph.hnsw.dim != dim:
        raise IndexStale("the index file does not match its manifest")
    _spot_check(graph, live_ids, vecs)
    return graph, live_ids, vecs


def read_manifest(directory: Path, model_id: str) -> Manifest:
    """Parse and type-check the manifest; raises :class:`IndexStale`."""
    path = manifest_path(directory, model_id)
    try:
        with open(path, "rb") as f:
            raw = f.read(_MANIFEST_MAX_BYTES + 1)
    except FileNotFoundError:
        raise IndexStale("no saved index", first=True) from None
    except OSError as exc:
        raise IndexStale(f"the manifest is unreadable ({exc.strerror or exc})") from exc
    if len(raw) > _MANIFEST_MAX_BYTES:
        raise IndexStale("the manifest is too large to be ours")
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise IndexStale(f"the manifest is not valid JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise IndexStale("the manifest is not a JSON object")
    if data.get("format_version") != FORMAT_VERSION:
        raise IndexStale(f"the index format {data.get('format_version')!r} is not {FORMAT_VERSION}")
    types = {
        "model_id": str,
        "dim": int,
        "count": int,
        "element_count": int,
        "index_file": str,
        "index_size": int,
        "index_sha256": str,
        "hnsw": dict,
    }
    for key, typ in types.items():
        value = data.get(key)
        if not isinstance(value, typ) or isinstance(value, bool):
            raise IndexStale(f"the manifest field {key!r} is missing or malformed")
    gen = data.get("generation")
    if gen is not None and (not isinstance(gen, (int, str)) or isinstance(gen, bool)):
        raise IndexStale("the manifest field 'generation' is malformed")
    name = data["index_file"]
    if not name or "/" in name or "\\" in name or name in (".", "..") or "\x00" in name:
        raise IndexStale(f"the manifest names an unsafe file {name!r}")
    # Every field was checked above, so none is missing here.
    return Manifest(generation=gen, format_version=FORMAT_VERSION, **{key: data[key] for key in types})


def _verify_file(path: Path, size: int, sha256: str) -> None:
    try:
        actual = path.stat().st_size
    except FileNotFoundError:
        raise IndexStale(f"{path.name} is missing") from None
    except OSError as exc:
        raise IndexStale(f"{path.name} is unreadable ({exc.strerror or exc})") from exc
    if actual != size:
        raise IndexStale(f"{path.name} has {actual} bytes, the manifest says {size} (truncated?)")
    try:
        _, digest = _size_and_hash(path)
    except OSError as exc:
        raise IndexStale(f"{path.name} is unreadable ({exc.strerror or exc})") from exc
    if digest != sha256:
        raise IndexStale(f"{path.name} does not match its checksum (damaged on disk?)")


# hnswlib's saveIndex writes a fixed header (see hnswalg.h):
# offsetLevel0, max_elements, cur_element_count, size_data_per_element,
# label_offset, offsetData (size_t each), maxlevel (int), enterpoint (uint32),
# maxM, maxM0, M (size_t), mult (double), ef_construction (size_t); then the
# level-0 block: per element its link list (uint32 header whose third byte
# holds the deleted mark, then maxM0 uint32 links), the vector, the label.
_HNSW_HEADER = np.dtype(
    [
        ("offset_level0", "<u8"),
        ("max_elements", "<u8"),
        ("count", "<u8"),
        ("size_per_element", "<u8"),
        ("label_offset", "<u8"),
        ("offset_data", "<u8"),
        ("max_level", "<i4"),
        ("enterpoint", "<u4"),
        ("max_m", "<u8"),
        ("max_m0", "<u8"),
        ("m", "<u8"),
        ("mult", "<f8"),
        ("ef_construction", "<u8"),
    ]
)
_DELETE_MARK_BYTE = 2
_LOAD_CHUNK = 65536


def _read_level0(path: Path, dim: int, element_count: int) -> tuple[np.ndarray, np.ndarray]:
    """(live labels, their vectors) read straight from a saved hnswlib file.

    ``hnswlib.Index.get_items`` goes through Python lists of floats (10 s for
    30k vectors); reading the level-0 block with numpy takes well under a
    second at 1M. The layout is checked against the header and the result is
    spot-checked against ``get_items`` by the caller.
    """
    try:
        header = np.fromfile(path, dtype=_HNSW_HEADER, count=1)
    except (OSError, ValueError) as exc:
        raise IndexStale(f"the index header is unreadable ({exc})") from exc
    if len(header) != 1:
        raise IndexStale("the index file is too short")
    hd = header[0]
    per = int(hd["size_per_element"])
    off_data = int(hd["offset_data"])
    off_label = int(hd["label_offset"])
    count = int(hd["count"])
    max_m0 = int(hd["max_m0"])
    if (
        count != element_count
        or count > int(hd["max_elements"])
        or not 0 < max_m0 <= 4096
        or off_data != 4 + 4 * max_m0
        or off_label - off_data != 4 * dim
        or per != off_label + 8
        or int(hd["offset_level0"]) != 0
        or _HNSW_HEADER.itemsize + count * per > path.stat().st_size
    ):
        raise IndexStale("the index file's layout is not the one this version of ClipDesk reads")
    if count == 0:
        return np.zeros(0, np.int64), np.zeros((0, dim), np.float32)
    block = np.memmap(path, dtype=np.uint8, mode="r", offset=_HNSW_HEADER.itemsize, shape=(count, per))
    try:
        live = (block[:, _DELETE_MARK_BYTE] & 1) == 0
        labels = np.ascontiguousarray(block[:, off_label : off_label + 8]).view("<u8")[:, 0]
        live_rows = np.flatnonzero(live)
        vecs = np.empty((len(live_rows), dim), dtype=np.float32)
        for start in range(0, len(live_rows), _LOAD_CHUNK):
            rows = live_rows[start : start + _LOAD_CHUNK]
            vecs[start : start + len(rows)] = (
                np.ascontiguousarray(block[rows, off_data:off_label]).view("<f4").reshape(len(rows), dim)
            )
        ids = labels[live_rows]
    finally:
        del block
    if (ids > np.iinfo(np.int64).max).any():
        raise IndexStale("the index holds labels that are not photo ids")
    ids = ids.astype(np.int64)
    if len(np.unique(ids)) != len(ids):
        raise IndexStale("the index lists a photo twice")
    if not np.isfinite(vecs).all():
        raise IndexStale("the index holds non-finite vectors")
    return ids, vecs


def _spot_check(graph: Graph, ids: np.ndarray, vecs: np.ndarray, samples: int = 16) -> None:
    """Compare a few vectors read by :func:`_read_level0` with hnswlib's own view."""
    if not len(ids):
        return
    rows = np.unique(np.linspace(0, len(ids) - 1, num=min(samples, len(ids))).astype(np.int64))
    try:
        theirs = graph.vectors(ids[rows])
    except RuntimeError as exc:
        raise IndexStale(f"the index and its vectors disagree ({exc})") from exc
    if theirs.shape != vecs[rows].shape or not np.array_equal(theirs, vecs[rows]):
        raise IndexStale("the index file's layout is not the one this version of ClipDesk reads")

"""The SQLite catalog: the one source of truth for the library.

Folders, photos (path bytes, size, mtime, content hash, dimensions, EXIF date
and camera, status), tags, photo-tag links, saved searches and the embedding of
each photo per model live here. Everything else on disk (thumbnails, the HNSW
index) is a cache derived from it.

* WAL mode; one connection per thread (SQLite serialises writers; readers never
  block on a writer), explicit ``BEGIN IMMEDIATE`` transactions for writes.
* The schema version is ``PRAGMA user_version``; :data:`MIGRATIONS` holds one
  step per version. Before a migration the file is copied aside with SQLite's
  backup API, so an interrupted or failed upgrade never costs the user a thing.
* Paths are stored as the bytes ``os.fsencode`` gives, so names that are not
  valid UTF-8 round-trip exactly.
* A second process on the same catalog is refused (:class:`CatalogLocked`):
  an OS file lock that the kernel drops when a process dies, so a crash never
  leaves it stuck.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, Sequence

import numpy as np
from filelock import FileLock, Timeout

from clipdesk.core.errors import CatalogError, CatalogLocked, NotFound

log = logging.getLogger(__name__)

STATUSES = ("pending", "indexed", "failed", "offline")
TAG_SOURCES = ("user", "auto", "learned", "sidecar")
TAG_STATES = ("suggested", "accepted", "rejected")

_V1 = """
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE folders (
    id        INTEGER PRIMARY KEY,
    path      BLOB NOT NULL UNIQUE,
    kind      TEXT NOT NULL DEFAULT 'root' CHECK (kind IN ('root', 'exclude')),
    state     TEXT NOT NULL DEFAULT 'online' CHECK (state IN ('online', 'offline')),
    added_at  REAL NOT NULL,
    last_scan REAL,
    note      TEXT
);
CREATE TABLE photos (
    id          INTEGER PRIMARY KEY,
    folder_id   INTEGER NOT NULL REFERENCES folders(id) ON DELETE CASCADE,
    path        BLOB NOT NULL UNIQUE,
    size        INTEGER NOT NULL,
    mtime_ns    INTEGER NOT NULL,
    hash        TEXT,
    format      TEXT,
    width       INTEGER,
    height      INTEGER,
    taken_at    TEXT,
    date_source TEXT CHECK (date_source IN ('exif', 'file')),
    camera      TEXT,
    status      TEXT NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'indexed', 'failed', 'offline')),
    reason      TEXT,
    prev_status TEXT,
    attempts    INTEGER NOT NULL DEFAULT 0,
    added_at    REAL NOT NULL,
    indexed_at  REAL
);
CREATE INDEX photos_folder ON photos(folder_id);
CREATE INDEX photos_hash ON photos(hash);
CREATE INDEX photos_status ON photos(status);
CREATE INDEX photos_taken ON photos(taken_at);
CREATE TABLE tags (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE COLLATE NOCASE,
    learned    INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL
);
CREATE TABLE photo_tags (
    photo_id   INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
    tag_id     INTEGER NOT NULL REFERENCES tags(id) ON DELETE CASCADE,
    source     TEXT NOT NULL CHECK (source IN ('user', 'auto', 'learned', 'sidecar')),
    state      TEXT NOT NULL DEFAULT 'accepted'
               CHECK (state IN ('suggested', 'accepted', 'rejected')),
    score      REAL,
    updated_at REAL NOT NULL,
    PRIMARY KEY (photo_id, tag_id)
) WITHOUT ROWID;
CREATE INDEX photo_tags_tag ON photo_tags(tag_id, state);
CREATE TABLE embeddings (
    photo_id INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
    model_id TEXT NOT NULL,
    vector   BLOB NOT NULL,
    PRIMARY KEY (model_id, photo_id)
) WITHOUT ROWID;
CREATE INDEX embeddings_photo ON embeddings(photo_id);
CREATE TABLE saved_searches (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    query      TEXT NOT NULL,
    created_at REAL NOT NULL
);
"""

#: MIGRATIONS[n] upgrades a catalog from version n to n+1.
MIGRATIONS: list[str] = [_V1]
SCHEMA_VERSION = len(MIGRATIONS)


def encode_path(path: str | os.PathLike[str] | bytes) -> bytes:
    return os.fsencode(path)


def decode_path(raw: bytes) -> str:
    return os.fsdecode(raw)


def display_path(raw: bytes | str) -> str:
    """A path as text for people: undecodable bytes shown as U+FFFD."""
    if isinstance(raw, str):
        raw = os.fsencode(raw)
    return raw.decode("utf-8", errors="replace")


def in_folder(path: bytes, needle: str) -> int:
    """SQL function ``clipdesk_in_folder(path, needle)`` for the ``folder:`` filter.

    ``needle`` is either "/" + an absolute folder path ending in a separator
    (that folder and below) or lower-case text that the photo's folder path
    must contain.
    """
    folder = os.path.dirname(os.fsdecode(path))
    if needle.startswith("/") and os.path.isabs(needle[1:]):
        return int((folder + os.sep).startswith(needle[1:]))
    return int(needle in folder.lower())


def under(path: bytes, root: bytes) -> bool:
    root = root.rstrip(b"/\\")
    return path == root or path.startswith(root + os.sep.encode())


@dataclass(frozen=True)
class Folder:
    id: int
    path: str
    kind: str
    state: str
    added_at: float
    last_scan: float | None
    note: str | None


@dataclass(frozen=True)
class Photo:
    id: int
    folder_id: int
    path: str
    size: int
    mtime_ns: int
    hash: str | None
    format: str | None
    width: int | None
    height: int | None
    taken_at: str | None
    date_source: str | None
    camera: str | None
    status: str
    reason: str | None

    @property
    def name(self) -> str:
        return os.path.basename(self.path)


_PHOTO_COLS = (
    "id, folder_id, path, size, mtime_ns, hash, format, width, height, "
    "taken_at, date_source, camera, status, reason"
)


def _photo(row: Sequence) -> Photo:
    return Photo(row[0], row[1], decode_path(row[2]), *row[3:])


def _folder(row: Sequence) -> Folder:
    return Folder(row[0], decode_path(row[1]), *row[2:])


class Catalog:
    """The library catalog. Open with :meth:`open`; close (or use ``with``)."""

    def __init__(self, path: Path, *, lock: bool = True, lock_timeout: float = 0.0):
        self.path = Path(path)
        self._local = threading.local()
        self._conns: list[sqlite3.Connection] = []
        self._conns_lock = threading.Lock()
        self._lock: FileLock | None = None
        self._closed = False
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if lock:
            self._acquire_lock(lock_timeout)
        try:
            self._migrate()
        except BaseException:
            self.close()
            raise

    # -- lifecycle ---------------------------------------------------------------
    @classmethod
    def open(cls, path: Path, **kwargs) -> "Catalog":
        return cls(path, **kwargs)

    def __enter__(self) -> "Catalog":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        with self._conns_lock:
            for con in self._conns:
                with contextlib.suppress(sqlite3.Error):
                    con.close()
            self._conns.clear()
        if self._lock is not None:
            with contextlib.suppress(OSError):
                self._owner_file.unlink()
            self._lock.release()
            self._lock = None

    @property
    def _owner_file(self) -> Path:
        return self.path.with_name(self.path.name + ".owner")

    def _acquire_lock(self, timeout: float) -> None:
        lock = FileLock(str(self.path) + ".lock", thread_local=False)
        try:
            lock.acquire(timeout=timeout)
        except Timeout:
            owner = ""
            with contextlib.suppress(OSError, ValueError):
                owner = f" (process {int(self._owner_file.read_text().split()[0])})"
            raise CatalogLocked(
                f"the catalog {self.path} is in use by another ClipDesk{owner}; "
                "close it first, or use another catalog with CLIPDESK_DATA_DIR"
            ) from None
        self._lock = lock
        with contextlib.suppress(OSError):
            self._owner_file.write_text(f"{os.getpid()}\n")

    # -- connections -------------------------------------------------------------
    @property
    def con(self) -> sqlite3.Connection:
        """This thread's connection."""
        con = getattr(self._local, "con", None)
        if con is None:
            if self._closed:
                raise CatalogError("the catalog is closed")
            con = self._connect()
            self._local.con = con
        return con

    def _connect(self) -> sqlite3.Connection:
        try:
            con = sqlite3.connect(
                self.path, timeout=30.0, isolation_level=None, check_same_thread=False
            )
            con.execute("PRAGMA foreign_keys = ON")
            con.create_function("clipdesk_in_folder", 2, in_folder, deterministic=True)
            con.execute("PRAGMA synchronous = NORMAL")
            mode = con.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if mode.lower() != "wal":
                log.warning("catalog %s: journal mode is %s, not WAL", self.path, mode)
        except sqlite3.DatabaseError as exc:
            raise CatalogError(
                f"cannot open the catalog {self.path}: {exc}. The file was left as it is; "
                "move it aside to start a new catalog."
            ) from exc
        with self._conns_lock:
            self._conns.append(con)
        return con

    @contextlib.contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (``BEGIN IMMEDIATE`` ... ``COMMIT``)."""
        con = self.con
        if con.in_transaction:  # nested: join the outer transaction
            yield con
            return
        try:
            con.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise CatalogError(f"the catalog is busy or unwritable: {exc}") from exc
        try:
            yield con
        except BaseException:
            con.execute("ROLLBACK")
            raise
        else:
            try:
                con.execute("COMMIT")
            except sqlite3.OperationalError as exc:
                with contextlib.suppress(sqlite3.Error):
                    con.execute("ROLLBACK")
                raise CatalogError(f"could not save to the catalog: {exc}") from exc

    # -- schema ------------------------------------------------------------------
    def _migrate(self) -> None:
        con = self.con
        try:
            version = con.execute("PRAGMA user_version").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            raise CatalogError(
                f"{self.path} is not a ClipDesk catalog or is damaged ({exc}); "
                "it was left untouched"
            ) from exc
        if version > SCHEMA_VERSION:
            raise CatalogError(
                f"the catalog {self.path} was written by a newer ClipDesk "
                f"(schema {version}, this one knows {SCHEMA_VERSION}); update ClipDesk"
            )
        if version == SCHEMA_VERSION:
            return
        if version > 0:
            self._backup(f".bak-v{version}")
        for step in range(version, SCHEMA_VERSION):
            try:
                con.execute("BEGIN IMMEDIATE")
                for statement in _split_sql(MIGRATIONS[step]):
                    con.execute(statement)
                con.execute(f"PRAGMA user_version = {step + 1}")
                con.execute("COMMIT")
            except sqlite3.Error as exc:
                with contextlib.suppress(sqlite3.Error):
                    con.execute("ROLLBACK")
                raise CatalogError(
                    f"could not upgrade the catalog to schema {step + 1}: {exc}"
                ) from exc
            log.info("catalog %s migrated to schema %d", self.path, step + 1)

    def _backup(self, suffix: str) -> Path:
        dest = self.path.with_name(self.path.name + suffix)
        target = sqlite3.connect(dest)
        try:
            self.con.backup(target)
        finally:
            target.close()
        return dest

    @property
    def schema_version(self) -> int:
        return self.con.execute("PRAGMA user_version").fetchone()[0]

    # -- meta --------------------------------------------------------------------
    def get_meta(self, key: str, default: str | None = None) -> str | None:
        row = self.con.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def set_meta(self, key: str, value: str) -> None:
        with self.write() as con:
            con.execute(
                "INSERT INTO meta(key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    # -- folders -----------------------------------------------------------------
    def add_folder(self, path: str | os.PathLike[str], kind: str = "root") -> Folder:
        raw = encode_path(os.path.abspath(path))
        with self.write() as con:
            con.execute(
                "INSERT INTO folders(path, kind, added_at) VALUES (?, ?, ?) "
                "ON CONFLICT(path) DO UPDATE SET kind = excluded.kind",
                (raw, kind, time.time()),
            )
        return self.folder_by_path(raw)

    def folder_by_path(self, path: str | bytes | os.PathLike[str]) -> Folder:
        raw = path if isinstance(path, bytes) else encode_path(os.path.abspath(path))
        row = self.con.execute(
            "SELECT id, path, kind, state, added_at, last_scan, note FROM folders WHERE path = ?",
            (raw,),
        ).fetchone()
        if row is None:
            raise NotFound(f"{display_path(raw)} is not a library folder")
        return _folder(row)

    def remove_folder(self, path: str | os.PathLike[str]) -> int:
        """Remove a root (and its photos) or an exclusion. Returns photos removed."""
        folder = self.folder_by_path(path)
        with self.write() as con:
            n = con.execute("SELECT COUNT(*) FROM photos WHERE folder_id = ?", (folder.id,)).fetchone()[0]
            models = [r[0] for r in con.execute(
                "SELECT DISTINCT e.model_id FROM embeddings e JOIN photos p ON p.id = e.photo_id "
                "WHERE p.folder_id = ?", (folder.id,))]
            con.execute("DELETE FROM folders WHERE id = ?", (folder.id,))
            self._bump_generation(con, models)
        return n

    def folders(self, kind: str | None = None) -> list[Folder]:
        sql = "SELECT id, path, kind, state, added_at, last_scan, note FROM folders"
        args: tuple = ()
        if kind:
            sql += " WHERE kind = ?"
            args = (kind,)
        return [_folder(r) for r in self.con.execute(sql + " ORDER BY path", args)]

    def roots(self) -> list[Folder]:
        return self.folders("root")

    def exclusions(self) -> list[bytes]:
        return [encode_path(f.path) for f in self.folders("exclude")]

    def set_folder_state(self, folder_id: int, state: str, note: str | None = None) -> None:
        """Mark a root online or offline. Offline photos keep everything they had."""
        with self.write() as con:
            old = con.execute("SELECT state FROM folders WHERE id = ?", (folder_id,)).fetchone()
            con.execute(
                "UPDATE folders SET state = ?, note = ? WHERE id = ?", (state, note, folder_id)
            )
            if old and old[0] == state:
                return
            if state == "offline":
                con.execute(
                    "UPDATE photos SET prev_status = status, status = 'offline' "
                    "WHERE folder_id = ? AND status != 'offline'",
                    (folder_id,),
                )
            else:
                con.execute(
                    "UPDATE photos SET status = COALESCE(prev_status, 'pending'), prev_status = NULL "
                    "WHERE folder_id = ? AND status = 'offline'",
                    (folder_id,),
                )

    def touch_folder_scan(self, folder_id: int) -> None:
        with self.write() as con:
            con.execute("UPDATE folders SET last_scan = ? WHERE id = ?", (time.time(), folder_id))

    # -- photos ------------------------------------------------------------------
    def photo(self, photo_id: int) -> Photo:
        row = self.con.execute(
            f"SELECT {_PHOTO_COLS} FROM photos WHERE id = ?", (photo_id,)
        ).fetchone()
        if row is None:
            raise NotFound(f"no photo with id {photo_id}")
        return _photo(row)

    def photo_by_path(self, path: str | bytes | os.PathLike[str]) -> Photo | None:
        raw = path if isinstance(path, bytes) else encode_path(os.path.abspath(path))
        row = self.con.execute(
            f"SELECT {_PHOTO_COLS} FROM photos WHERE path = ?", (raw,)
        ).fetchone()
        return _photo(row) if row else None

    def photos(
        self,
        ids: Iterable[int] | None = None,
        *,
        status: str | None = None,
        folder_id: int | None = None,
        limit: int | None = None,
        order: str = "path",
    ) -> list[Photo]:
        where, args = [], []
        if status:
            where.append("status = ?")
            args.append(status)
        if folder_id is not None:
            where.append("folder_id = ?")
            args.append(folder_id)
        order_sql = {
            "path": "path",
            "date": "taken_at DESC, id",
            "id": "id",
        }[order]
        if ids is not None:
            ids = list(ids)
            out: dict[int, Photo] = {}
            for chunk in _chunks(ids, 900):
                sql = f"SELECT {_PHOTO_COLS} FROM photos WHERE id IN ({','.join('?' * len(chunk))})"
                if where:
                    sql += " AND " + " AND ".join(where)
                for row in self.con.execute(sql, [*chunk, *args]):
                    out[row[0]] = _photo(row)
            return [out[i] for i in ids if i in out]
        sql = f"SELECT {_PHOTO_COLS} FROM photos"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += f" ORDER BY {order_sql}"
        if limit:
            sql += f" LIMIT {int(limit)}"
        return [_photo(r) for r in self.con.execute(sql, args)]

    def known_files(self, folder_id: int) -> dict[bytes, tuple[int, int, int, str | None, str]]:
        """path -> (id, size, mtime_ns, hash, status) for one root: the scanner's view."""
        return {
            r[0]: (r[1], r[2], r[3], r[4], r[5])
            for r in self.con.execute(
                "SELECT path, id, size, mtime_ns, hash, status FROM photos WHERE folder_id = ?",
                (folder_id,),
            )
        }

    def counts(self) -> dict[str, int]:
        out = dict.fromkeys(STATUSES, 0)
        for status, n in self.con.execute("SELECT status, COUNT(*) FROM photos GROUP BY status"):
            out[status] = n
        return out

    def failures(self, limit: int | None = None) -> list[Photo]:
        sql = f"SELECT {_PHOTO_COLS} FROM photos WHERE status = 'failed' ORDER BY path"
        if limit:
            sql += f" LIMIT {int(limit)}"
        return [_photo(r) for r in self.con.execute(sql)]

    def retry_failed(self, ids: Iterable[int] | None = None) -> int:
        with self.write() as con:
            if ids is None:
                cur = con.execute(
                    "UPDATE photos SET status = 'pending', reason = NULL, attempts = 0 "
                    "WHERE status = 'failed'"
                )
            else:
                cur = con.executemany(
                    "UPDATE photos SET status = 'pending', reason = NULL, attempts = 0 "
                    "WHERE id = ? AND status = 'failed'",
                    [(i,) for i in ids],
                )
            return cur.rowcount

    def pending_ids(self, model_id: str | None = None, limit: int | None = None) -> list[int]:
        """Photos the pipeline still has to process: pending ones, and indexed ones
        that have no embedding for ``model_id`` (after a model switch)."""
        sql = "SELECT id FROM photos WHERE status = 'pending'"
        args: list = []
        if model_id:
            sql += (
                " UNION ALL SELECT p.id FROM photos p WHERE p.status = 'indexed' AND NOT EXISTS "
                "(SELECT 1 FROM embeddings e WHERE e.model_id = ? AND e.photo_id = p.id)"
            )
            args.append(model_id)
        sql = f"SELECT id FROM ({sql}) ORDER BY id"
        if limit:
            sql += f" LIMIT {int(limit)}"
        return [r[0] for r in self.con.execute(sql, args)]

    # Writes used by the scanner --------------------------------------------------
    def insert_photo(
        self, con: sqlite3.Connection, folder_id: int, path: bytes, size: int, mtime_ns: int,
        hash_: str | None,
    ) -> int:
        cur = con.execute(
            "INSERT INTO photos(folder_id, path, size, mtime_ns, hash, added_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (folder_id, path, size, mtime_ns, hash_, time.time()),
        )
        return int(cur.lastrowid)

    def mark_changed(
        self, con: sqlite3.Connection, photo_id: int, size: int, mtime_ns: int, hash_: str | None
    ) -> None:
        """The file's content changed: it must be decoded and embedded again.
        Tags stay; embeddings of the old content go."""
        con.execute(
            "UPDATE photos SET size = ?, mtime_ns = ?, hash = ?, status = 'pending', "
            "reason = NULL, attempts = 0, prev_status = NULL WHERE id = ?",
            (size, mtime_ns, hash_, photo_id),
        )
        models = [r[0] for r in con.execute(
            "SELECT model_id FROM embeddings WHERE photo_id = ?", (photo_id,))]
        con.execute("DELETE FROM embeddings WHERE photo_id = ?", (photo_id,))
        self._bump_generation(con, models)

    def move_photo(
        self, con: sqlite3.Connection, photo_id: int, folder_id: int, path: bytes, mtime_ns: int
    ) -> None:
        """Same content at a new path: keep id, tags, embeddings and status."""
        con.execute(
            "UPDATE photos SET folder_id = ?, path = ?, mtime_ns = ?, "
            "status = CASE WHEN status = 'offline' THEN COALESCE(prev_status, 'pending') ELSE status END, "
            "prev_status = NULL WHERE id = ?",
            (folder_id, path, mtime_ns, photo_id),
        )

    def delete_photos(self, con: sqlite3.Connection, ids: Sequence[int]) -> None:
        """Forget photos whose files are gone. User tags on them move to another
        catalogued copy of the same content when there is one."""
        for chunk in _chunks(list(ids), 900):
            marks = ",".join("?" * len(chunk))
            con.execute(
                f"""INSERT OR IGNORE INTO photo_tags(photo_id, tag_id, source, state, score, updated_at)
                    SELECT twin.id, pt.tag_id, pt.source, pt.state, pt.score, pt.updated_at
                    FROM photo_tags pt
                    JOIN photos gone ON gone.id = pt.photo_id
                    JOIN photos twin ON twin.hash = gone.hash AND twin.id NOT IN ({marks})
                    WHERE pt.photo_id IN ({marks}) AND gone.hash IS NOT NULL
                      AND pt.state != 'suggested'""",
                [*chunk, *chunk],
            )
            models = [r[0] for r in con.execute(
                f"SELECT DISTINCT model_id FROM embeddings WHERE photo_id IN ({marks})", chunk)]
            con.execute(f"DELETE FROM photos WHERE id IN ({marks})", chunk)
            self._bump_generation(con, models)

    def remove_photos(self, ids: Sequence[int]) -> None:
        """Remove photos from the library (the files stay on disk)."""
        with self.write() as con:
            self.delete_photos(con, ids)

    # Writes used by the pipeline ---------------------------------------------------
    def record_decoded(
        self,
        con: sqlite3.Connection,
        photo_id: int,
        *,
        hash_: str,
        format_: str,
        width: int,
        height: int,
        taken_at: str | None,
        date_source: str,
        camera: str | None,
        size: int,
        mtime_ns: int,
    ) -> None:
        con.execute(
            "UPDATE photos SET hash = ?, format = ?, width = ?, height = ?, taken_at = ?, "
            "date_source = ?, camera = ?, size = ?, mtime_ns = ?, status = 'indexed', "
            "reason = NULL, indexed_at = ? WHERE id = ?",
            (hash_, format_, width, height, taken_at, date_source, camera, size, mtime_ns,
             time.time(), photo_id),
        )

    def record_failure(self, con: sqlite3.Connection, photo_id: int, reason: str) -> None:
        con.execute(
            "UPDATE photos SET status = 'failed', reason = ?, attempts = attempts + 1 WHERE id = ?",
            (reason, photo_id),
        )

    def record_deferred(self, con: sqlite3.Connection, photo_id: int, reason: str) -> None:
        """The file is still changing: leave it pending, note why."""
        con.execute("UPDATE photos SET reason = ? WHERE id = ?", (reason, photo_id))

    # -- embeddings ----------------------------------------------------------------
    def _bump_generation(self, con: sqlite3.Connection, models: Iterable[str]) -> None:
        con.executemany(
            "INSERT INTO meta(key, value) VALUES (?, '1') "
            "ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1",
            [(f"generation:{m}",) for m in set(models)],
        )

    def generation(self, model_id: str) -> int:
        """Bumped on every change to the embeddings of ``model_id``; the index
        manifest keeps it, so a saved index that missed a change is rebuilt."""
        return int(self.get_meta(f"generation:{model_id}", "0") or 0)

    def store_embeddings(
        self, con: sqlite3.Connection, model_id: str, ids: Sequence[int], vectors: np.ndarray
    ) -> None:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        con.executemany(
            "INSERT INTO embeddings(photo_id, model_id, vector) VALUES (?, ?, ?) "
            "ON CONFLICT(model_id, photo_id) DO UPDATE SET vector = excluded.vector",
            [(int(i), model_id, v.tobytes()) for i, v in zip(ids, vectors)],
        )
        self._bump_generation(con, [model_id])

    def embedding_count(self, model_id: str) -> int:
        return self.con.execute(
            "SELECT COUNT(*) FROM embeddings WHERE model_id = ?", (model_id,)
        ).fetchone()[0]

    def embedded_models(self) -> dict[str, int]:
        return dict(
            self.con.execute("SELECT model_id, COUNT(*) FROM embeddings GROUP BY model_id")
        )

    def iter_embeddings(
        self, model_id: str, batch: int = 20000, ids: Iterable[int] | None = None
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """(ids int64 [n], vectors float32 [n, D]) in batches, ordered by id."""
        if ids is not None:
            id_list = list(ids)
            for chunk in _chunks(id_list, 900):
                rows = self.con.execute(
                    f"SELECT photo_id, vector FROM embeddings WHERE model_id = ? "
                    f"AND photo_id IN ({','.join('?' * len(chunk))})",
                    [model_id, *chunk],
                ).fetchall()
                if rows:
                    yield _unpack(rows)
            return
        cur = self.con.execute(
            "SELECT photo_id, vector FROM embeddings WHERE model_id = ? ORDER BY photo_id",
            (model_id,),
        )
        while True:
            rows = cur.fetchmany(batch)
            if not rows:
                return
            yield _unpack(rows)

    def delete_embeddings(self, model_id: str) -> int:
        with self.write() as con:
            n = con.execute("DELETE FROM embeddings WHERE model_id = ?", (model_id,)).rowcount
            self._bump_generation(con, [model_id])
        return n

    # -- tags ----------------------------------------------------------------------
    def tag_id(self, name: str, create: bool = True) -> int:
        name = normalise_tag(name)
        row = self.con.execute("SELECT id FROM tags WHERE name = ?", (name,)).fetchone()
        if row:
            return row[0]
        if not create:
            raise NotFound(f"there is no tag {name!r}")
        with self.write() as con:
            con.execute(
                "INSERT OR IGNORE INTO tags(name, created_at) VALUES (?, ?)", (name, time.time())
            )
            return con.execute("SELECT id FROM tags WHERE name = ?", (name,)).fetchone()[0]

    def tags(self) -> list[tuple[int, str, int]]:
        """(id, name, accepted photo count) for every tag, by name."""
        return list(
            self.con.execute(
                "SELECT t.id, t.name, COUNT(pt.photo_id) FROM tags t "
                "LEFT JOIN photo_tags pt ON pt.tag_id = t.id AND pt.state = 'accepted' "
                "GROUP BY t.id ORDER BY t.name COLLATE NOCASE"
            )
        )

    def delete_tag(self, name: str) -> None:
        tid = self.tag_id(name, create=False)
        with self.write() as con:
            con.execute("DELETE FROM tags WHERE id = ?", (tid,))

    def set_photo_tags(
        self,
        photo_ids: Iterable[int],
        name: str,
        *,
        source: str = "user",
        state: str = "accepted",
        score: float | None = None,
        scores: Sequence[float] | None = None,
        keep_decisions: bool = False,
    ) -> None:
        """Link photos to a tag. ``keep_decisions`` leaves links the user already
        accepted or rejected alone (used when suggestions are refreshed)."""
        tid = self.tag_id(name)
        ids = list(photo_ids)
        now = time.time()
        values = [
            (int(pid), tid, source, state, scores[i] if scores is not None else score, now)
            for i, pid in enumerate(ids)
        ]
        with self.write() as con:
            if keep_decisions:
                con.executemany(
                    "INSERT INTO photo_tags(photo_id, tag_id, source, state, score, updated_at) "
                    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(photo_id, tag_id) DO UPDATE SET "
                    "score = excluded.score, updated_at = excluded.updated_at "
                    "WHERE photo_tags.state = 'suggested'",
                    values,
                )
            else:
                con.executemany(
                    "INSERT INTO photo_tags(photo_id, tag_id, source, state, score, updated_at) "
                    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(photo_id, tag_id) DO UPDATE SET "
                    "source = excluded.source, state = excluded.state, "
                    "score = COALESCE(excluded.score, photo_tags.score), updated_at = excluded.updated_at",
                    values,
                )

    def decide_tag(self, photo_ids: Iterable[int], name: str, state: str) -> None:
        """The user accepts or rejects a tag on photos; a link keeps its source
        (auto, learned, sidecar), a new link is the user's own."""
        if state not in ("accepted", "rejected"):
            raise ValueError(f"unknown decision {state!r}")
        tid = self.tag_id(name)
        now = time.time()
        with self.write() as con:
            con.executemany(
                "INSERT INTO photo_tags(photo_id, tag_id, source, state, score, updated_at) "
                "VALUES (?, ?, 'user', ?, NULL, ?) ON CONFLICT(photo_id, tag_id) DO UPDATE SET "
                "state = excluded.state, updated_at = excluded.updated_at",
                [(int(p), tid, state, now) for p in photo_ids],
            )

    def set_learned(self, name: str, learned: bool = True) -> None:
        tid = self.tag_id(name)
        with self.write() as con:
            con.execute("UPDATE tags SET learned = ? WHERE id = ?", (int(learned), tid))

    def learned_tags(self) -> list[str]:
        return [r[0] for r in self.con.execute("SELECT name FROM tags WHERE learned = 1 ORDER BY name")]

    def tag_decisions(self, name: str) -> tuple[list[int], list[int]]:
        """(accepted ids, rejected ids) of a tag: a learned tag's examples."""
        return self.tagged_ids(name, "accepted"), self.tagged_ids(name, "rejected")

    def untag(self, photo_ids: Iterable[int], name: str) -> None:
        tid = self.tag_id(name, create=False)
        with self.write() as con:
            con.executemany(
                "DELETE FROM photo_tags WHERE photo_id = ? AND tag_id = ?",
                [(int(p), tid) for p in photo_ids],
            )

    def photo_tags(self, photo_id: int) -> list[tuple[str, str, str, float | None]]:
        """(tag, source, state, score) for one photo."""
        return list(
            self.con.execute(
                "SELECT t.name, pt.source, pt.state, pt.score FROM photo_tags pt "
                "JOIN tags t ON t.id = pt.tag_id WHERE pt.photo_id = ? ORDER BY t.name",
                (photo_id,),
            )
        )

    def tagged_ids(self, name: str, state: str = "accepted") -> list[int]:
        row = self.con.execute("SELECT id FROM tags WHERE name = ?", (normalise_tag(name),)).fetchone()
        if row is None:
            return []
        return [
            r[0]
            for r in self.con.execute(
                "SELECT photo_id FROM photo_tags WHERE tag_id = ? AND state = ? ORDER BY photo_id",
                (row[0], state),
            )
        ]

    # -- saved searches --------------------------------------------------------------
    def save_search(self, name: str, query: str) -> None:
        with self.write() as con:
            con.execute(
                "INSERT INTO saved_searches(name, query, created_at) VALUES (?, ?, ?) "
                "ON CONFLICT(name) DO UPDATE SET query = excluded.query",
                (name, query, time.time()),
            )

    def saved_searches(self) -> list[tuple[str, str]]:
        return list(self.con.execute("SELECT name, query FROM saved_searches ORDER BY name"))

    def delete_saved_search(self, name: str) -> None:
        with self.write() as con:
            con.execute("DELETE FROM saved_searches WHERE name = ?", (name,))


def normalise_tag(name: str) -> str:
    """Tags are trimmed, inner whitespace collapsed, control characters dropped."""
    cleaned = "".join(ch for ch in name if ch.isprintable())
    cleaned = " ".join(cleaned.split())
    if not cleaned:
        raise ValueError("a tag needs at least one visible character")
    return cleaned[:200]


def _unpack(rows: list[tuple[int, bytes]]) -> tuple[np.ndarray, np.ndarray]:
    ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    vecs = np.frombuffer(b"".join(r[1] for r in rows), dtype=np.float32).reshape(len(rows), -1)
    return ids, vecs


def _chunks(seq: Sequence, n: int) -> Iterator[Sequence]:
    for i in range(0, len(seq), n):
        yield seq[i : i + n]


def _split_sql(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]

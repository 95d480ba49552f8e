"""The catalog's connections, transactions, lock, migrations and meta values.

* WAL mode; one connection per thread (SQLite serialises writers; readers never
  block on a writer), explicit ``BEGIN IMMEDIATE`` transactions for writes.
  The connections are private: everything outside this package asks the
  catalog's named methods.
* Before a migration the file is copied aside with SQLite's backup API, so an
  interrupted or failed upgrade never costs the user a thing.
* A second process on the same catalog is refused (:class:`CatalogLocked`):
  an OS file lock that the kernel drops when a process dies, so a crash never
  leaves it stuck. A read-only catalog (:meth:`CatalogBase.__init__` with
  ``readonly=True``) takes no lock and changes nothing: `clipdesk doctor`
  reads one while the app holds it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import sqlite3
import threading
from pathlib import Path
from typing import Iterable, Iterator, Sequence

from filelock import FileLock, Timeout

from clipdesk.core.catalog import schema
from clipdesk.core.catalog.filters import in_folder
from clipdesk.core.errors import CatalogError, CatalogLocked

log = logging.getLogger(__name__)

#: Most ids bound in one statement (SQLite's default limit is 999 variables).
CHUNK = 900


def chunks(seq: Sequence, n: int = CHUNK) -> Iterator[Sequence]:
    for i in range(0, len(seq), n):
        yield seq[i : i + n]


def marks(n: int) -> str:
    """``?,?,...`` for an IN list of ``n`` values."""
    return ",".join("?" * n)


class CatalogBase:
    def __init__(self, path: Path, *, lock: bool = True, lock_timeout: float = 0.0, readonly: bool = False):
        self.path = Path(path)
        self.readonly = readonly
        self._local = threading.local()
        self._conns: list[sqlite3.Connection] = []
        self._conns_lock = threading.Lock()
        self._lock: FileLock | None = None
        self._closed = False
        # Edits by other connections (edited_elsewhere): the data_version last
        # accounted for (None until someone asks), and whether one was seen.
        self._watch: sqlite3.Connection | None = None
        self._watch_lock = threading.Lock()
        self._version: int | None = None
        self._elsewhere = False
        if readonly:
            if not self.path.exists():
                raise CatalogError(f"there is no catalog at {self.path}")
            return
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
    def open(cls, path: Path, **kwargs):
        return cls(path, **kwargs)

    def __enter__(self):
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
        with self._watch_lock:
            if self._watch is not None:
                with contextlib.suppress(sqlite3.Error):
                    self._watch.close()
                self._watch = None
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
        except OSError as exc:  # a read-only folder, a lock file that is a folder
            raise CatalogError(
                f"cannot take the catalog's lock ({lock.lock_file}): {exc.strerror or exc}; make the catalog's "
                "folder writable, or point CLIPDESK_DATA_DIR elsewhere. The catalog is intact.") from None
        self._lock = lock
        with contextlib.suppress(OSError):
            self._owner_file.write_text(f"{os.getpid()}\n")

    # -- connections -------------------------------------------------------------
    @property
    def _con(self) -> sqlite3.Connection:
        """This thread's connection."""
        con = getattr(self._local, "con", None)
        if con is None:
            if self._closed:
                raise CatalogError("the catalog is closed")
            con = self._connect()
            self._local.con = con
        return con

    def _readonly_uri(self) -> str:
        """The catalog's URI for reading. On a read-only disk or folder SQLite
        cannot make the WAL's shared-memory file, so the file is opened as
        immutable: nothing can change it there, and no lock is needed."""
        uri = self.path.absolute().as_uri() + "?mode=ro"
        return uri + "&immutable=1" if not os.access(self.path.parent, os.W_OK) else uri

    def _connect(self) -> sqlite3.Connection:
        try:
            if self.readonly:
                con = sqlite3.connect(self._readonly_uri(), uri=True, timeout=5.0,
                                      isolation_level=None, check_same_thread=False)
            else:
                con = sqlite3.connect(self.path, timeout=30.0, isolation_level=None, check_same_thread=False)
            con.execute("PRAGMA foreign_keys = ON")
            con.create_function("clipdesk_in_folder", 2, in_folder, deterministic=True)
            if not self.readonly:
                con.execute("PRAGMA synchronous = NORMAL")
                mode = con.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                if mode.lower() != "wal":
                    log.warning("catalog %s: journal mode is %s, not WAL", self.path, mode)
        except sqlite3.DatabaseError as exc:
            raise self._explain(exc, "open") from exc
        with self._conns_lock:
            self._conns.append(con)
        return con

    def _read(self, sql: str, args: Iterable = ()) -> list[tuple]:
        """Rows of one query; a damaged or unreadable file is a CatalogError."""
        try:
            return self._con.execute(sql, tuple(args)).fetchall()
        except sqlite3.DatabaseError as exc:
            raise CatalogError(f"cannot read the catalog {self.path}: {exc}") from exc

    def _one(self, sql: str, args: Iterable = ()) -> tuple | None:
        rows = self._read(sql, args)
        return rows[0] if rows else None

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """Group the writes made inside into one transaction (``BEGIN IMMEDIATE``
        ... ``COMMIT``), rolled back when the block raises. Nested blocks join
        the outer one. Raises CatalogError when the catalog is busy or cannot
        be written."""
        with self._write():
            yield

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        if self.readonly:
            raise CatalogError(f"the catalog {self.path} was opened read-only")
        con = self._con
        if con.in_transaction:  # nested: join the outer transaction
            yield con
            return
        try:
            con.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise self._explain(exc, "write") from exc
        self._account(before_own_write=True)
        try:
            yield con
        except sqlite3.OperationalError as exc:
            with contextlib.suppress(sqlite3.Error):
                con.execute("ROLLBACK")
            raise self._explain(exc, "write") from exc
        except BaseException:
            con.execute("ROLLBACK")
            raise
        else:
            try:
                con.execute("COMMIT")
            except sqlite3.OperationalError as exc:
                with contextlib.suppress(sqlite3.Error):
                    con.execute("ROLLBACK")
                raise self._explain(exc, "write") from exc
            self._account(before_own_write=False)

    # -- edits by other programs -------------------------------------------------
    def edited_elsewhere(self) -> bool:
        """True when another program (or another Catalog on this file) committed
        to the catalog since the last call; the first call only starts
        watching. It reads SQLite's ``PRAGMA data_version`` on a connection of
        its own, which changes with every commit of any other connection, ours
        included: so each of this Catalog's write transactions notes the value
        as it begins (a change since the last one noted is someone else's; no
        one else can commit while we hold the write lock) and as it ends (that
        change is ours). Cheap enough to poll every second."""
        with self._watch_lock:
            version = self._data_version()
            if self._version is None:
                self._version = version
                return False
            seen = self._elsewhere or version != self._version
            self._version, self._elsewhere = version, False
            return seen

    def _account(self, *, before_own_write: bool) -> None:
        """Note the data_version around one of our write transactions (only once
        edited_elsewhere was asked for: the command line never pays for it)."""
        if self._version is None:
            return
        with self._watch_lock:
            if self._version is None or self._closed:
                return
            try:
                version = self._data_version()
            except CatalogError:
                return
            if before_own_write and version != self._version:
                self._elsewhere = True
            self._version = version

    def _data_version(self) -> int:
        if self._closed:
            raise CatalogError("the catalog is closed")
        if self._watch is None:
            try:
                self._watch = sqlite3.connect(self._readonly_uri(), uri=True, timeout=5.0,
                                              isolation_level=None, check_same_thread=False)
            except sqlite3.DatabaseError as exc:
                raise self._explain(exc, "open") from exc
        try:
            return int(self._watch.execute("PRAGMA data_version").fetchone()[0])
        except sqlite3.DatabaseError as exc:
            raise CatalogError(f"cannot read the catalog {self.path}: {exc}") from exc

    def _disk_nearly_full(self) -> bool:
        """SQLite reports a full disk as "disk I/O error" when it cannot map its
        shared-memory file; the free space tells the two apart."""
        try:
            return shutil.disk_usage(self.path.parent).free < (1 << 20)
        except OSError:
            return False

    def _explain(self, exc: sqlite3.DatabaseError, doing: str) -> CatalogError:
        """One line that says what happened and what to do. A full disk or a
        read-only folder is not a damaged catalog: the file is intact, and the
        message says so instead of suggesting to move it aside."""
        text = str(exc).lower()
        if "readonly" in text or "read-only" in text or (
                isinstance(exc, sqlite3.OperationalError) and not os.access(self.path.parent, os.W_OK)):
            return CatalogError(
                f"the catalog ({self.path}) cannot be written: its folder or disk is read-only. "
                "Make it writable (or point CLIPDESK_DATA_DIR elsewhere); the catalog is intact.")
        if "full" in text or (isinstance(exc, sqlite3.OperationalError) and self._disk_nearly_full()):
            return CatalogError(
                f"the disk holding the catalog ({self.path.parent}) is full: free some space and try "
                "again. The catalog is intact; nothing was lost.")
        if "locked" in text or "busy" in text:
            return CatalogError(f"the catalog is busy (another program holds a write lock): {exc}")
        if doing == "open":
            return CatalogError(
                f"cannot open the catalog {self.path}: {exc}. The file was left as it is; "
                "move it aside to start a new catalog.")
        return CatalogError(f"could not save to the catalog: {exc}")

    # -- schema ------------------------------------------------------------------
    def _migrate(self) -> None:
        con = self._con
        target = schema.schema_version()
        try:
            version = con.execute("PRAGMA user_version").fetchone()[0]
        except sqlite3.OperationalError as exc:
            raise self._explain(exc, "open") from exc
        except sqlite3.DatabaseError as exc:
            raise CatalogError(
                f"{self.path} is not a ClipDesk catalog or is damaged ({exc}); "
                "it was left untouched"
            ) from exc
        if version > target:
            raise CatalogError(
                f"the catalog {self.path} was written by a newer ClipDesk "
                f"(schema {version}, this one knows {target}); update ClipDesk"
            )
        if version == target:
            return
        if version > 0:
            self._backup(f".bak-v{version}")
        for step in range(version, target):
            try:
                con.execute("BEGIN IMMEDIATE")
                migration = schema.MIGRATIONS[step]
                if callable(migration):
                    migration(con)
                else:
                    for statement in schema.split_sql(migration):
                        con.execute(statement)
                con.execute(f"PRAGMA user_version = {step + 1}")
                con.execute("COMMIT")
            except sqlite3.Error as exc:
                with contextlib.suppress(sqlite3.Error):
                    con.execute("ROLLBACK")
                if isinstance(exc, sqlite3.OperationalError) and ("full" in str(exc) or "readonly" in str(exc)):
                    raise self._explain(exc, "write") from exc
                raise CatalogError(
                    f"could not upgrade the catalog to schema {step + 1}: {exc}"
                ) from exc
            log.info("catalog %s migrated to schema %d", self.path, step + 1)

    def _backup(self, suffix: str) -> Path:
        dest = self.path.with_name(self.path.name + suffix)
        target = sqlite3.connect(dest)
        try:
            self._con.backup(target)
        finally:
            target.close()
        return dest

    @property
    def schema_version(self) -> int:
        return self._one("PRAGMA user_version")[0]

    def pragma(self, name: str) -> object:
        """The value of a read-only PRAGMA (``journal_mode``, ``foreign_keys``...)."""
        if not name.replace("_", "").isalpha():
            raise ValueError(f"not a pragma name: {name!r}")
        return self._one(f"PRAGMA {name}")[0]

    def table_columns(self, table: str) -> list[str]:
        if not table.replace("_", "").isalnum():
            raise ValueError(f"not a table name: {table!r}")
        return [r[1] for r in self._read(f"PRAGMA table_info({table})")]

    def tables(self) -> set[str]:
        return {r[0] for r in self._read("SELECT name FROM sqlite_master WHERE type = 'table'")}

    # -- meta --------------------------------------------------------------------
    def get_meta(self, key: str, default: str | None = None) -> str | None:
        row = self._one("SELECT value FROM meta WHERE key = ?", (key,))
        return row[0] if row else default

    def set_meta(self, key: str, value: str) -> None:
        with self._write() as con:
            con.execute(
                "INSERT INTO meta(key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

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

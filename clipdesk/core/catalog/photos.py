"""Photos: reads, the scanner's and the pipeline's writes, listings by filter."""

from __future__ import annotations

import json
import os
import sqlite3
import time
import unicodedata
from typing import Iterable, NamedTuple, Sequence

import numpy as np

from clipdesk.core.catalog.base import CatalogBase, chunks, marks
from clipdesk.core.catalog.filters import filter_sql, like_escape
from clipdesk.core.catalog.records import PHOTO_COLUMNS, Photo, Summary, photo_from_row
from clipdesk.core.catalog.schema import STATUSES
from clipdesk.core.errors import NotFound
from clipdesk.core.names import is_under, name_key, tag_key
from clipdesk.core.query import Query

_ORDERS = {"path": "path", "date": "taken_at DESC, id", "id": "id"}

#: ORDER BY of each sort (clipdesk.core.query.SORTS but relevance, which needs
#: a model): the id breaks ties, so every order is total and stable. A photo
#: with no capture date yet (NULL) comes last newest first, first oldest first,
#: as :meth:`PhotoQueries.month_counts` counts it.
SORT_ORDERS = {
    "newest": "taken_at DESC, id DESC",
    "oldest": "taken_at ASC, id ASC",
    "added": "added_at DESC, id DESC",
    "name": "name_key ASC, id ASC",
    "rating": "rating DESC, taken_at DESC, id DESC",
}


def _order(sort: str | None, query: Query | None) -> str:
    """The ORDER BY for ``sort`` (else the query's sort; relevance and none: newest)."""
    sort = sort or (query.effective_sort if query is not None else "newest")
    return SORT_ORDERS.get(sort, SORT_ORDERS["newest"])


class KnownFile(NamedTuple):
    """A catalogued file as the scanner compares it with the disk."""

    id: int
    size: int
    mtime_ns: int
    hash: str | None
    status: str
    ctime_ns: int | None
    sidecar_mtime_ns: int | None
    companion: bytes | None = None


def _below(prefix: bytes) -> tuple[bytes, bytes]:
    """(low, high) bounds of the paths strictly below folder ``prefix``: its
    children sort between prefix + separator and prefix + the next byte."""
    sep = os.sep.encode()
    base = prefix.rstrip(sep)
    return base + sep, base + bytes([sep[0] + 1])


#: What a removed photo's snapshot keeps besides its tags, so an undo or a
#: restore gives back all the user made: marks, the RAW's companion, and what
#: its files said when last imported (so they are not imported again as new).
_KEPT_ON_REMOVAL = ("rating", "flag", "label", "companion", "file_keywords", "file_marks", "sidecar_mtime_ns")


#: The snapshot's mark of a photo deleted outside ClipDesk, as opposed to one
#: the user took out of the library (which later scans skip).
_VANISHED = "vanished"
_BY_USER = f"json_extract(snapshot, '$.{_VANISHED}') IS NULL"


class PhotoQueries(CatalogBase):
    # -- reads ------------------------------------------------------------------------
    def photo(self, photo_id: int) -> Photo:
        """Raises NotFound when there is no such photo."""
        row = self._one(f"SELECT {PHOTO_COLUMNS} FROM photos WHERE id = ?", (int(photo_id),))
        if row is None:
            raise NotFound(f"no photo with id {photo_id}")
        return photo_from_row(row)

    def photo_by_path(self, *candidates: bytes | str | os.PathLike) -> Photo | None:
        """The photo catalogued under the first of these exact paths (as
        :func:`clipdesk.core.names.path_candidates` gives them), or None. The
        JPEG of a RAW+JPEG pair finds the pair's photo."""
        for raw in candidates:
            path = os.fsencode(raw)
            row = self._one(f"SELECT {PHOTO_COLUMNS} FROM photos WHERE path = ? OR companion = ? "
                            "ORDER BY path = ? DESC LIMIT 1", (path, path, path))
            if row is not None:
                return photo_from_row(row)
        return None

    def photos(
        self,
        ids: Iterable[int] | None = None,
        *,
        status: str | None = None,
        folder_id: int | None = None,
        limit: int | None = None,
        order: str = "path",
    ) -> list[Photo]:
        """Photos by id (in the order given, missing ids skipped) or, without
        ids, every photo that matches ``status``/``folder_id`` in ``order``
        ("path", "date" newest first, or "id")."""
        where, args = [], []
        if status:
            where.append("status = ?")
            args.append(status)
        if folder_id is not None:
            where.append("folder_id = ?")
            args.append(folder_id)
        if ids is not None:
            ids = [int(i) for i in ids]
            out: dict[int, Photo] = {}
            for chunk in chunks(ids):
                sql = f"SELECT {PHOTO_COLUMNS} FROM photos WHERE id IN ({marks(len(chunk))})"
                if where:
                    sql += " AND " + " AND ".join(where)
                for row in self._read(sql, [*chunk, *args]):
                    out[row[0]] = photo_from_row(row)
            return [out[i] for i in ids if i in out]
        sql = f"SELECT {PHOTO_COLUMNS} FROM photos"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += f" ORDER BY {_ORDERS[order]}"
        if limit:
            sql += f" LIMIT {int(limit)}"
        return [photo_from_row(r) for r in self._read(sql, args)]

    def photo_ids_in_folder(self, folder_id: int) -> list[int]:
        return [r[0] for r in self._read("SELECT id FROM photos WHERE folder_id = ?", (folder_id,))]

    def photo_folders(self, folder_ids: Sequence[int]) -> dict[int, int]:
        """photo id -> folder id for every photo in these folders."""
        out: dict[int, int] = {}
        for chunk in chunks(list(folder_ids)):
            out.update(self._read(
                f"SELECT id, folder_id FROM photos WHERE folder_id IN ({marks(len(chunk))})", chunk))
        return out

    def known_files(self, folder_id: int) -> dict[bytes, KnownFile]:
        """path -> what the scanner compares the file with, for one root."""
        return {
            r[0]: KnownFile(*r[1:])
            for r in self._read(
                "SELECT path, id, size, mtime_ns, hash, status, ctime_ns, sidecar_mtime_ns, companion FROM photos "
                "WHERE folder_id = ?",
                (folder_id,),
            )
        }

    def photos_stamp(self) -> tuple[int, int]:
        """(photos, highest id): changes when photos are added or removed; two
        statements SQLite answers from an index each (together, one scan)."""
        return (int(self._read("SELECT COUNT(*) FROM photos")[0][0]),
                int(self._read("SELECT MAX(id) FROM photos")[0][0] or 0))

    def directory_names(self) -> set[str]:
        """Every folder name on the paths of the photos' folders, NFC and
        case-folded ("Café" and "CAFÉ" are "café"); reads every path."""
        dirs = {os.path.dirname(bytes(r[0])) for r in self._read("SELECT path FROM photos")}
        return {part for d in dirs for part in
                unicodedata.normalize("NFC", os.fsdecode(d)).casefold().split(os.sep) if part}

    def photo_ids_under(self, prefix: bytes) -> list[int]:
        """Photos at or below a folder path (whole path components)."""
        return [r[0] for r in self._read(
            "SELECT id FROM photos WHERE path > ? AND path < ?", _below(prefix))]

    def counts(self) -> dict[str, int]:
        """Photos by status (every status present, 0 when none)."""
        out = dict.fromkeys(STATUSES, 0)
        out.update(self._read("SELECT status, COUNT(*) FROM photos GROUP BY status"))
        return out

    def summary(self) -> Summary:
        roots = self._one(
            "SELECT COUNT(*), COALESCE(SUM(state = 'offline'), 0) FROM folders WHERE kind = 'root'")
        embedded = dict(self._read("SELECT model_id, COUNT(*) FROM embeddings GROUP BY model_id"))
        return Summary(self.counts(), roots[0], roots[1], embedded)

    def failures(self, limit: int | None = None) -> list[Photo]:
        sql = f"SELECT {PHOTO_COLUMNS} FROM photos WHERE status = 'failed' ORDER BY path"
        if limit:
            sql += f" LIMIT {int(limit)}"
        return [photo_from_row(r) for r in self._read(sql)]

    def waiting(self, limit: int | None = 50) -> list[Photo]:
        """Pending photos with a recorded reason (still being written, disk full...)."""
        sql = f"SELECT {PHOTO_COLUMNS} FROM photos WHERE status = 'pending' AND reason IS NOT NULL ORDER BY path"
        if limit:
            sql += f" LIMIT {int(limit)}"
        return [photo_from_row(r) for r in self._read(sql)]

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
        return [r[0] for r in self._read(sql, args)]

    def identical_groups(self) -> list[list[int]]:
        """Ids of photos that share their content hash, one list per hash."""
        return [[int(x) for x in ids.split(",")] for (ids,) in self._read(
            "SELECT group_concat(id) FROM photos WHERE hash IS NOT NULL GROUP BY hash HAVING COUNT(*) > 1")]

    # -- listings by a query's filters --------------------------------------------------
    def matching_ids(self, query: Query | None = None, *, limit: int | None = None,
                     sort: str | None = None) -> list[int]:
        """Ids of the photos that pass a parsed query's filters (every photo
        without a query), in ``sort`` order (one of :data:`SORT_ORDERS`; by
        default the query's own sort, newest first for relevance)."""
        where, args = filter_sql(query) if query is not None else ("", [])
        sql = f"SELECT id FROM photos WHERE {where or '1'} ORDER BY {_order(sort, query)}"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [r[0] for r in self._read(sql, args)]

    def ordered_ids(self, ids: Sequence[int], sort: str) -> list[int]:
        """These photos in ``sort`` order, by the same ORDER BY as
        :meth:`matching_ids` (ids no longer catalogued are dropped). One
        statement whatever the count: the ids travel as one JSON array."""
        if sort == "relevance":
            return list(ids)
        rows = self._read(
            f"SELECT id FROM photos WHERE id IN (SELECT value FROM json_each(?)) ORDER BY {_order(sort, None)}",
            (json.dumps([int(i) for i in ids]),))
        return [r[0] for r in rows]

    def month_counts(self, query: Query | None = None, *, oldest: bool = False) -> list[tuple[str | None, int]]:
        """(``"YYYY-MM"`` of the capture date, photos) for every month that has
        photos passing the query's filters, newest month first (oldest first
        with ``oldest``); photos with no date yet count under None, where the
        date sorts put them (last newest first, first oldest first). One
        GROUP BY over the capture-date index: the timeline's sections and
        scrubber without reading a single photo."""
        where, args = filter_sql(query) if query is not None else ("", [])
        rows = self._read(
            f"SELECT substr(taken_at, 1, 7) AS month, COUNT(*) FROM photos WHERE {where or '1'} "
            f"GROUP BY month ORDER BY month {'ASC' if oldest else 'DESC'}", args)
        return [(m, n) for m, n in rows]

    def name_matches(self, text: str, query: Query | None = None, *, limit: int = 200) -> list[int]:
        """Photos whose file name contains ``text`` (NFC, case-folded) and that
        pass ``query``'s filters, by name."""
        where, args = filter_sql(query) if query is not None else ("", [])
        needle = f"%{like_escape(name_key(text))}%"
        rows = self._read(
            f"SELECT id FROM photos WHERE name_key LIKE ? ESCAPE '\\' {('AND ' + where) if where else ''} "
            f"ORDER BY name_key, id LIMIT {int(limit)}", [needle, *args])
        return [r[0] for r in rows]

    def allowed_ids(self, query: Query) -> np.ndarray | None:
        """int64 ids of the photos a query's filters allow; None without filters."""
        if not query.has_filters:
            return None
        where, args = filter_sql(query)
        rows = self._read(f"SELECT id FROM photos WHERE {where}", args)
        return np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))

    # -- the scanner's writes -------------------------------------------------------------
    def insert_photo(
        self, folder_id: int, path: bytes, size: int, mtime_ns: int, hash_: str | None,
        *, ctime_ns: int | None = None, companion: bytes | None = None,
    ) -> int | None:
        """A new file (a RAW with its ``companion`` JPEG/HEIF); None when that
        path is already catalogued (under another root)."""
        with self._write() as con:
            try:
                cur = con.execute(
                    "INSERT INTO photos(folder_id, path, size, mtime_ns, hash, added_at, ctime_ns, name_key, "
                    "companion) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (folder_id, path, size, mtime_ns, hash_, time.time(), ctime_ns, name_key(path), companion),
                )
            except sqlite3.IntegrityError:
                return None
            return int(cur.lastrowid)

    def touch_mtimes(self, pairs: Sequence[tuple[int, int]]) -> None:
        """(mtime_ns, photo id) pairs: the file was touched, its content is the same."""
        with self._write() as con:
            con.executemany("UPDATE photos SET mtime_ns = ? WHERE id = ?", pairs)

    def record_ctimes(self, pairs: Sequence[tuple[int, int]]) -> None:
        """(ctime_ns, photo id) pairs: when each file's status last changed."""
        with self._write() as con:
            con.executemany("UPDATE photos SET ctime_ns = ? WHERE id = ?", pairs)

    def reassign_photos(self, prefix: bytes, folder_id: int) -> int:
        """Photos at or below ``prefix`` now belong to library folder ``folder_id``
        (a nested root was added, or an inner root removed while an outer one
        still covers its photos): ids, tags and embeddings stay. Returns how many."""
        with self._write() as con:
            return con.execute(
                "UPDATE photos SET folder_id = ? WHERE path > ? AND path < ? AND folder_id != ?",
                (folder_id, *_below(prefix), folder_id)).rowcount

    def offline_reasons(self, limit: int = 50) -> list[tuple[str, int]]:
        """(why, how many photos) of the offline photos, the most first; the
        reason names the folder that is gone, empty or unreadable."""
        return [(r[0] or "", int(r[1])) for r in self._read(
            "SELECT reason, COUNT(*) AS n FROM photos WHERE status = 'offline' GROUP BY reason "
            "ORDER BY n DESC, reason LIMIT ?", (int(limit),))]

    def set_photos_offline(self, ids: Sequence[int], reason: str) -> None:
        """These photos' folder is not there (an unmounted share, a vanished
        drive): keep everything, mark them offline with why."""
        with self._write() as con:
            for chunk in chunks([int(i) for i in ids]):
                con.execute(
                    f"UPDATE photos SET prev_status = status, status = 'offline', reason = ? "
                    f"WHERE id IN ({marks(len(chunk))}) AND status != 'offline'", [reason, *chunk])

    def set_photos_online(self, ids: Sequence[int]) -> None:
        """Offline photos whose files are back: their status before."""
        with self._write() as con:
            for chunk in chunks([int(i) for i in ids]):
                # A photo that had failed is tried again: its reason was replaced by the offline one.
                con.execute(
                    "UPDATE photos SET status = CASE WHEN prev_status IN ('indexed', 'pending') "
                    "THEN prev_status ELSE 'pending' END, prev_status = NULL, reason = NULL "
                    f"WHERE id IN ({marks(len(chunk))}) AND status = 'offline'", chunk)

    def mark_changed(self, photo_id: int, size: int, mtime_ns: int, hash_: str | None) -> None:
        """The file's content changed: it must be decoded and embedded again.
        Tags stay; embeddings of the old content go."""
        with self._write() as con:
            con.execute(
                "UPDATE photos SET size = ?, mtime_ns = ?, hash = ?, status = 'pending', "
                "reason = NULL, attempts = 0, prev_status = NULL WHERE id = ?",
                (size, mtime_ns, hash_, photo_id),
            )
            models = [r[0] for r in con.execute(
                "SELECT model_id FROM embeddings WHERE photo_id = ?", (photo_id,))]
            con.execute("DELETE FROM embeddings WHERE photo_id = ?", (photo_id,))
            self._bump_generation(con, models)

    def move_photo(self, photo_id: int, folder_id: int, path: bytes, mtime_ns: int) -> None:
        """Same content at a new path: keep id, tags, embeddings and status."""
        with self._write() as con:
            con.execute(
                "UPDATE photos SET folder_id = ?, path = ?, mtime_ns = ?, name_key = ?, "
                "status = CASE WHEN status = 'offline' THEN COALESCE(prev_status, 'pending') ELSE status END, "
                "prev_status = NULL WHERE id = ?",
                (folder_id, path, mtime_ns, name_key(path), photo_id),
            )

    def set_companion(self, photo_id: int, companion: bytes | None) -> None:
        """The JPEG/HEIF beside this RAW now (None: it has none any more)."""
        with self._write() as con:
            con.execute("UPDATE photos SET companion = ? WHERE id = ?", (companion, photo_id))

    def repoint_photo(self, photo_id: int, path: bytes, size: int, mtime_ns: int, *,
                      ctime_ns: int | None = None, companion: bytes | None = None) -> None:
        """The photo is now the file at ``path`` (in the same library folder):
        a JPEG's photo whose RAW appeared beside it becomes the RAW+JPEG
        pair, a pair whose RAW went becomes its JPEG's. Id, tags and marks
        stay; the new master is decoded and embedded again."""
        with self._write() as con:
            con.execute(
                "UPDATE photos SET path = ?, name_key = ?, size = ?, mtime_ns = ?, ctime_ns = ?, companion = ?, "
                "hash = NULL, status = 'pending', reason = NULL, attempts = 0, prev_status = NULL WHERE id = ?",
                (path, name_key(path), size, mtime_ns, ctime_ns, companion, photo_id))
            models = [r[0] for r in con.execute("SELECT model_id FROM embeddings WHERE photo_id = ?", (photo_id,))]
            con.execute("DELETE FROM embeddings WHERE photo_id = ?", (photo_id,))
            self._bump_generation(con, models)

    def absorb_companion(self, master_id: int, companion_id: int) -> None:
        """A JPEG that had a photo of its own is now the companion of the RAW
        photo ``master_id``: its tags (but not suggestions) and the marks the
        RAW does not have join the RAW's photo, and its own row goes."""
        with self._write() as con:
            con.execute(
                "INSERT OR IGNORE INTO photo_tags(photo_id, tag_id, source, state, score, updated_at) "
                "SELECT ?, tag_id, source, state, score, updated_at FROM photo_tags "
                "WHERE photo_id = ? AND state != 'suggested'", (master_id, companion_id))
            con.execute(
                "UPDATE photos SET "
                "rating = CASE WHEN rating = 0 THEN (SELECT rating FROM photos WHERE id = :c) ELSE rating END, "
                "flag = COALESCE(flag, (SELECT flag FROM photos WHERE id = :c)), "
                "label = COALESCE(label, (SELECT label FROM photos WHERE id = :c)) WHERE id = :m",
                {"c": companion_id, "m": master_id})
            models = [r[0] for r in con.execute(
                "SELECT model_id FROM embeddings WHERE photo_id = ?", (companion_id,))]
            con.execute("DELETE FROM photos WHERE id = ?", (companion_id,))
            self._bump_generation(con, models)

    def delete_photos(self, ids: Sequence[int]) -> None:
        """Forget photos (their files are gone, or the user removed them). User
        tags on them move to another catalogued copy of the same content."""
        with self._write() as con:
            for chunk in chunks([int(i) for i in ids]):
                m = marks(len(chunk))
                con.execute(
                    f"""INSERT OR IGNORE INTO photo_tags(photo_id, tag_id, source, state, score, updated_at)
                        SELECT twin.id, pt.tag_id, pt.source, pt.state, pt.score, pt.updated_at
                        FROM photo_tags pt
                        JOIN photos gone ON gone.id = pt.photo_id
                        JOIN photos twin ON twin.hash = gone.hash AND twin.id NOT IN ({m})
                        WHERE pt.photo_id IN ({m}) AND gone.hash IS NOT NULL
                          AND pt.state != 'suggested'""",
                    [*chunk, *chunk],
                )
                models = [r[0] for r in con.execute(
                    f"SELECT DISTINCT model_id FROM embeddings WHERE photo_id IN ({m})", chunk)]
                con.execute(f"DELETE FROM photos WHERE id IN ({m})", chunk)
                self._bump_generation(con, models)

    # -- the pipeline's writes ------------------------------------------------------------
    def record_decoded(
        self,
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
        date_field: str | None = None,
        taken_offset: str | None = None,
    ) -> None:
        """What one decode found (imaging.Decoded): the photo is indexed.
        ``date_field`` names the field that gave ``taken_at`` and
        ``taken_offset`` its UTC offset ("+02:00"), when known."""
        with self._write() as con:
            con.execute(
                "UPDATE photos SET hash = ?, format = ?, width = ?, height = ?, taken_at = ?, "
                "date_source = ?, date_field = ?, taken_offset = ?, camera = ?, size = ?, mtime_ns = ?, "
                "status = 'indexed', reason = NULL, indexed_at = ? WHERE id = ?",
                (hash_, format_, width, height, taken_at, date_source, date_field, taken_offset, camera,
                 size, mtime_ns, time.time(), photo_id),
            )

    def record_failure(self, photo_id: int, reason: str) -> None:
        with self._write() as con:
            con.execute(
                "UPDATE photos SET status = 'failed', reason = ?, attempts = attempts + 1 WHERE id = ?",
                (reason, photo_id),
            )

    def record_deferred(self, photo_id: int, reason: str) -> None:
        """The file is still changing: leave it pending, note why."""
        with self._write() as con:
            con.execute("UPDATE photos SET reason = ? WHERE id = ?", (reason, photo_id))

    # -- photos the user removed ------------------------------------------------------------
    def snapshot_photos(self, ids: Sequence[int]) -> dict[bytes, str]:
        """path -> what :meth:`restore_snapshots` needs to bring each photo back
        (its id, folder, file facts and tags, as JSON text)."""
        out: dict[bytes, str] = {}
        for photo in self.photos(ids):
            tags = [list(t) for t in self._read(
                "SELECT t.name, pt.source, pt.state, pt.score FROM photo_tags pt "
                "JOIN tags t ON t.id = pt.tag_id WHERE pt.photo_id = ?", (photo.id,))]
            kept = dict(zip(_KEPT_ON_REMOVAL, self._one(
                f"SELECT {', '.join(_KEPT_ON_REMOVAL)} FROM photos WHERE id = ?", (photo.id,))))
            kept["companion"] = os.fsdecode(kept["companion"]) if kept["companion"] is not None else None
            out[os.fsencode(photo.path)] = json.dumps({
                "id": photo.id, "folder_id": photo.folder_id, "size": photo.size, "mtime_ns": photo.mtime_ns,
                "hash": photo.hash, "tags": tags, **kept})
        return out

    def restore_snapshots(self, snapshots: dict[bytes, str]) -> list[int]:
        """Photos back from :meth:`snapshot_photos` (pending: they are indexed
        again), with their id when it is free and their tags, under the
        library folder that covers each path now; a path no library folder
        covers, or one catalogued meanwhile, is skipped. Returns the new ids."""
        roots = self._roots_longest_first()
        with self._write() as con:
            return [pid for raw, snap in snapshots.items()
                    if (pid := self._restore_one(con, bytes(raw), json.loads(snap), roots)) is not None]

    def _roots_longest_first(self) -> list[tuple[bytes, int]]:
        """(path, id) of the library folders, innermost first."""
        return sorted(((os.fsencode(f.path), f.id) for f in self.folders("root")), key=lambda r: -len(r[0]))

    def _restore_one(self, con: sqlite3.Connection, raw: bytes, snap: dict,
                     roots: list[tuple[bytes, int]]) -> int | None:
        folder_id = next((fid for root, fid in roots if is_under(raw, root)), None)
        if folder_id is None:
            return None
        taken = con.execute("SELECT 1 FROM photos WHERE id = ?", (snap["id"],)).fetchone()
        cur = con.execute(
            "INSERT INTO photos(id, folder_id, path, size, mtime_ns, hash, added_at, name_key) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(path) DO NOTHING",
            (None if taken else snap["id"], folder_id, raw, snap["size"], snap["mtime_ns"],
             snap["hash"], time.time(), name_key(raw)))
        if not cur.rowcount:
            return None
        pid = int(cur.lastrowid)
        kept = {k: snap[k] for k in _KEPT_ON_REMOVAL if k in snap}  # older snapshots have tags only
        if kept.get("companion") is not None:
            kept["companion"] = os.fsencode(kept["companion"])
        if kept:
            con.execute(f"UPDATE photos SET {', '.join(f'{k} = ?' for k in kept)} WHERE id = ?", [*kept.values(), pid])
        for name, source, state, score in snap["tags"]:
            con.execute(
                "INSERT OR IGNORE INTO photo_tags(photo_id, tag_id, source, state, score, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?)", (pid, self.tag_id(name), source, state, score, time.time()))
        return pid

    def archive_photos(self, ids: Sequence[int], *, vanished: bool = False) -> list[bytes]:
        """Take photos out of the library but remember them: their paths are
        skipped by later scans, and :meth:`restore_archived` brings them back
        with their tags. Returns the archived paths.

        ``vanished``: their files were deleted outside ClipDesk (from a folder
        that is there). Their paths are not skipped: the snapshot waits for the
        same file to come back to the same place (:meth:`vanished_files`)."""
        now = time.time()
        with self._write() as con:
            snapshots = self.snapshot_photos(ids)
            if vanished:
                snapshots = {raw: json.dumps({**json.loads(snap), _VANISHED: True})
                             for raw, snap in snapshots.items()}
            con.executemany(
                "INSERT INTO removed_files(path, removed_at, snapshot) VALUES (?, ?, ?) "
                "ON CONFLICT(path) DO UPDATE SET removed_at = excluded.removed_at, snapshot = excluded.snapshot",
                [(raw, now, snap) for raw, snap in snapshots.items()])
            self.delete_photos(ids)
        return list(snapshots)

    def archived_paths(self) -> set[bytes]:
        """Paths of photos the user removed (the scanner skips them)."""
        return {r[0] for r in self._read(f"SELECT path FROM removed_files WHERE {_BY_USER}")}

    def archived_under(self, prefix: bytes) -> list[bytes]:
        return [r[0] for r in self._read(
            f"SELECT path FROM removed_files WHERE path > ? AND path < ? AND {_BY_USER} ORDER BY path",
            _below(prefix))]

    def vanished_files(self) -> dict[bytes, tuple[int, int, str | None]]:
        """path -> (size, mtime_ns, content hash or None) of the photos whose
        files were deleted outside ClipDesk (``archive_photos(vanished=True)``):
        the scanner brings one back with :meth:`restore_archived` when the same
        file turns up at its path again, and :meth:`forget_archived` when
        another file does."""
        out = {}
        for raw, snap in self._read(f"SELECT path, snapshot FROM removed_files WHERE NOT {_BY_USER}"):
            facts = json.loads(snap)
            out[bytes(raw)] = (facts["size"], facts["mtime_ns"], facts["hash"])
        return out

    def forget_archived(self, paths: Sequence[bytes]) -> None:
        """Drop the snapshots of these paths for good."""
        with self._write() as con:
            con.executemany("DELETE FROM removed_files WHERE path = ?", [(bytes(p),) for p in paths])

    def restore_archived(self, paths: Sequence[bytes]) -> list[int]:
        """Bring removed photos back (pending: they are indexed again) with their
        tags, under the library folder that covers each now. Paths no library
        folder covers stay archived. Returns the restored photo ids."""
        restored = []
        roots = self._roots_longest_first()
        with self._write() as con:
            for raw in paths:
                raw = bytes(raw)
                row = con.execute("SELECT snapshot FROM removed_files WHERE path = ?", (raw,)).fetchone()
                if row is None or not any(is_under(raw, root) for root, _fid in roots):
                    continue
                con.execute("DELETE FROM removed_files WHERE path = ?", (raw,))
                pid = self._restore_one(con, raw, json.loads(row[0]), roots)
                if pid is not None:
                    restored.append(pid)
        return restored

    def retry_failed(self, ids: Iterable[int] | None = None) -> int:
        """Failed photos (all, or these) back to pending; returns how many."""
        with self._write() as con:
            if ids is None:
                cur = con.execute(
                    "UPDATE photos SET status = 'pending', reason = NULL, attempts = 0 "
                    "WHERE status = 'failed'"
                )
            else:
                cur = con.executemany(
                    "UPDATE photos SET status = 'pending', reason = NULL, attempts = 0 "
                    "WHERE id = ? AND status = 'failed'",
                    [(int(i),) for i in ids],
                )
            return cur.rowcount

    # -- culling marks ---------------------------------------------------------------------
    def marks(self, ids: Iterable[int]) -> dict[int, tuple[int, str | None, str | None]]:
        """photo id -> (rating 0-5, flag "pick"/"reject"/None, colour label or None)."""
        out: dict[int, tuple[int, str | None, str | None]] = {}
        for chunk in chunks([int(i) for i in ids]):
            for pid, rating, flag, label in self._read(
                    f"SELECT id, rating, flag, label FROM photos WHERE id IN ({marks(len(chunk))})", chunk):
                out[pid] = (rating, flag, label)
        return out

    def set_marks(self, ids: Iterable[int], **values) -> None:
        """Set ``rating`` (0-5), ``flag`` ("pick", "reject", None) and/or
        ``label`` (a colour, None) on photos; a mark not named stays."""
        unknown = set(values) - {"rating", "flag", "label"}
        if unknown:
            raise ValueError(f"unknown marks {sorted(unknown)}")
        if not values:
            return
        sets = ", ".join(f"{k} = ?" for k in values)
        with self._write() as con:
            con.executemany(f"UPDATE photos SET {sets} WHERE id = ?",
                            [(*values.values(), int(i)) for i in ids])

    def restore_marks(self, before: dict[int, tuple[int, str | None, str | None]]) -> None:
        """Put marks back as :meth:`marks` read them."""
        with self._write() as con:
            con.executemany("UPDATE photos SET rating = ?, flag = ?, label = ? WHERE id = ?",
                            [(r, f, lb, pid) for pid, (r, f, lb) in before.items()])

    # -- what the photo's files say -------------------------------------------------------
    def record_sidecar_write(self, photo_id: int, added: Sequence[str], removed: Sequence[str], marks,
                             before_ns: int | None, after_ns: int | None) -> None:
        """Remember what ClipDesk itself just wrote to the photo's sidecar, so the
        next scan does not take it for another program's edit (a tag removed
        in ClipDesk without sidecar writing came back from the sidecar an
        earlier write had put it in). The keywords last read from the files
        take ``added`` and lose ``removed``; when the sidecar had no edit of
        another program pending (its mtime was ``before_ns`` as last read), the
        new mtime ``after_ns`` and ``marks`` (as read back, or None: not
        written) are recorded too; else the next scan still reads that edit."""
        with self._write() as con:
            row = con.execute("SELECT file_keywords, sidecar_mtime_ns FROM photos WHERE id = ?",
                              (int(photo_id),)).fetchone()
            if row is None:
                return
            keys = {tag_key(k): k for k in json.loads(row[0] or "[]")}
            for name in removed:
                keys.pop(tag_key(name), None)
            for name in added:
                keys.setdefault(tag_key(name), name)
            con.execute("UPDATE photos SET file_keywords = ? WHERE id = ?",
                        (json.dumps(sorted(keys.values())), int(photo_id)))
            if row[1] == before_ns:
                con.execute("UPDATE photos SET sidecar_mtime_ns = ? WHERE id = ?", (after_ns, int(photo_id)))
                if marks is not None:
                    con.execute("UPDATE photos SET file_marks = ? WHERE id = ?",
                                (json.dumps([marks.rating, marks.rejected, marks.label]), int(photo_id)))

    def import_file_metadata(self, photo_id: int, keywords: Sequence[str], marks, sidecar_mtime_ns: int | None) -> None:
        """Bring in what the photo's files (embedded XMP/IPTC, its sidecar) say,
        applying only what changed there since the last import, so a user's
        own edit in ClipDesk is never undone by a file that did not change:

        * a keyword new in the files becomes a tag of source "file" unless the
          photo has that tag in any state already (the user's decision wins);
          a keyword gone from the files takes away the "file" tag it made, if
          nobody touched it since;
        * marks (``sidecar.Marks`` or None) that changed in the files replace
          the photo's (the last writer wins); on the first import they only
          fill in a photo that has none.
        """
        new_keys = {tag_key(k): k for k in keywords}
        new_marks = None if marks is None else [marks.rating, marks.rejected, marks.label]
        with self._write() as con:
            row = con.execute("SELECT file_keywords, file_marks, rating, flag, label FROM photos WHERE id = ?",
                              (int(photo_id),)).fetchone()
            if row is None:
                return
            old_keys = {tag_key(k) for k in json.loads(row[0] or "[]")}
            for key in new_keys.keys() - old_keys:
                tid = self.tag_id(new_keys[key])
                con.execute(
                    "INSERT OR IGNORE INTO photo_tags(photo_id, tag_id, source, state, score, updated_at) "
                    "VALUES (?, ?, 'file', 'accepted', NULL, ?)", (int(photo_id), tid, time.time()))
            for key in old_keys - new_keys.keys():
                con.execute(
                    "DELETE FROM photo_tags WHERE photo_id = ? AND source = 'file' AND state = 'accepted' "
                    "AND tag_id = (SELECT id FROM tags WHERE key = ?)", (int(photo_id), key))
            old_marks = json.loads(row[1]) if row[1] else None
            untouched = row[1] is None and (row[2], row[3], row[4]) == (0, None, None)
            if new_marks is not None and new_marks != old_marks and (row[1] is not None or untouched):
                rating, rejected, label = new_marks
                flag = "reject" if rejected else (row[3] if row[3] == "pick" else None)
                con.execute("UPDATE photos SET rating = ?, flag = ?, label = ? WHERE id = ?",
                            (rating, flag, label, int(photo_id)))
            con.execute(
                "UPDATE photos SET file_keywords = ?, file_marks = ?, sidecar_mtime_ns = ? WHERE id = ?",
                (json.dumps(sorted(new_keys.values())), json.dumps(new_marks) if new_marks is not None else None,
                 sidecar_mtime_ns, int(photo_id)))

"""Library folders: roots, exclusions, their offline state."""

from __future__ import annotations

import time

from clipdesk.core.catalog.base import CatalogBase
from clipdesk.core.catalog.records import FOLDER_COLUMNS, Folder, folder_from_row
from clipdesk.core.errors import NotFound
from clipdesk.core.names import display_path, encode_path


class FolderQueries(CatalogBase):
    def add_folder(self, path: bytes | str, kind: str = "root") -> Folder:
        """Add (or re-kind) a folder; ``path`` in canonical form (names.incoming_path)."""
        raw = encode_path(path)
        with self._write() as con:
            con.execute(
                "INSERT INTO folders(path, kind, added_at) VALUES (?, ?, ?) "
                "ON CONFLICT(path) DO UPDATE SET kind = excluded.kind",
                (raw, kind, time.time()),
            )
        return self.folder_by_path(raw)

    def folder_by_path(self, path: bytes | str) -> Folder:
        """Raises NotFound when ``path`` (canonical form) is not a library folder."""
        raw = encode_path(path)
        row = self._one(f"SELECT {FOLDER_COLUMNS} FROM folders WHERE path = ?", (raw,))
        if row is None:
            raise NotFound(f"{display_path(raw)} is not a library folder")
        return folder_from_row(row)

    def remove_folder(self, folder_id: int) -> list[int]:
        """Remove a root (and its photos) or an exclusion. Returns the ids of the
        photos that left the catalog."""
        with self._write() as con:
            ids = [r[0] for r in con.execute("SELECT id FROM photos WHERE folder_id = ?", (folder_id,))]
            models = [r[0] for r in con.execute(
                "SELECT DISTINCT e.model_id FROM embeddings e JOIN photos p ON p.id = e.photo_id "
                "WHERE p.folder_id = ?", (folder_id,))]
            con.execute("DELETE FROM folders WHERE id = ?", (folder_id,))
            self._bump_generation(con, models)
        return ids

    def folders(self, kind: str | None = None) -> list[Folder]:
        """Folders by path; ``kind`` "root" or "exclude" keeps one kind."""
        if kind:
            rows = self._read(f"SELECT {FOLDER_COLUMNS} FROM folders WHERE kind = ? ORDER BY path", (kind,))
        else:
            rows = self._read(f"SELECT {FOLDER_COLUMNS} FROM folders ORDER BY path")
        return [folder_from_row(r) for r in rows]

    def roots(self) -> list[Folder]:
        return self.folders("root")

    def exclusions(self) -> list[bytes]:
        return [encode_path(f.path) for f in self.folders("exclude")]

    def folder_photo_counts(self) -> dict[int, int]:
        """folder id -> photos catalogued under it."""
        return dict(self._read("SELECT folder_id, COUNT(*) FROM photos GROUP BY folder_id"))

    def set_folder_state(self, folder_id: int, state: str, note: str | None = None) -> None:
        """Mark a root online or offline. Offline photos keep everything they had."""
        with self._write() as con:
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
        with self._write() as con:
            con.execute("UPDATE folders SET last_scan = ? WHERE id = ?", (time.time(), folder_id))

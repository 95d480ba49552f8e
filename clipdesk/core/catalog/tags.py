"""Tags, their links to photos (source, state, score), learned tags, saved searches."""

from __future__ import annotations

import time
from typing import Iterable, Sequence

from clipdesk.core.catalog.base import CatalogBase
from clipdesk.core.catalog.records import PhotoTag, TagCount
from clipdesk.core.errors import NotFound
from clipdesk.core.names import tag_key, tag_name

_DECISIONS = ("accepted", "rejected")


class TagQueries(CatalogBase):
    def tag_id(self, name: str, create: bool = True) -> int:
        """The id of a tag, found the way people read names (names.tag_key: "Café"
        typed in NFC finds "Café" stored in NFD, "STRASSE" finds "Straße"); made
        when ``create``, NotFound otherwise. InvalidTag for an unusable name."""
        name = tag_name(name)
        key = tag_key(name)
        row = self._one("SELECT id FROM tags WHERE key = ?", (key,))
        if row:
            return row[0]
        if not create:
            raise NotFound(f"there is no tag {name!r}")
        with self._write() as con:
            con.execute("INSERT OR IGNORE INTO tags(name, key, created_at) VALUES (?, ?, ?)",
                        (name, key, time.time()))
            return con.execute("SELECT id FROM tags WHERE key = ?", (key,)).fetchone()[0]

    def has_tag(self, name: str) -> bool:
        return self._one("SELECT 1 FROM tags WHERE key = ?", (tag_key(tag_name(name)),)) is not None

    def tags(self) -> list[TagCount]:
        """Every tag with its accepted photo count, by name."""
        return [TagCount(r[0], r[1], r[2], bool(r[3])) for r in self._read(
            "SELECT t.id, t.name, COUNT(pt.photo_id), t.learned FROM tags t "
            "LEFT JOIN photo_tags pt ON pt.tag_id = t.id AND pt.state = 'accepted' "
            "GROUP BY t.id ORDER BY t.name COLLATE NOCASE")]

    def delete_tag(self, name: str) -> None:
        tid = self.tag_id(name, create=False)
        with self._write() as con:
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
        update = (
            "score = excluded.score, updated_at = excluded.updated_at WHERE photo_tags.state = 'suggested'"
            if keep_decisions else
            "source = excluded.source, state = excluded.state, "
            "score = COALESCE(excluded.score, photo_tags.score), updated_at = excluded.updated_at"
        )
        with self._write() as con:
            con.executemany(
                "INSERT INTO photo_tags(photo_id, tag_id, source, state, score, updated_at) "
                f"VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(photo_id, tag_id) DO UPDATE SET {update}",
                values,
            )

    def decide_tag(self, photo_ids: Iterable[int], name: str, state: str) -> None:
        """The user accepts or rejects a tag on photos; a link keeps its source
        (auto, learned, sidecar), a new link is the user's own."""
        if state not in _DECISIONS:
            raise ValueError(f"unknown decision {state!r}")
        tid = self.tag_id(name)
        now = time.time()
        with self._write() as con:
            con.executemany(
                "INSERT INTO photo_tags(photo_id, tag_id, source, state, score, updated_at) "
                "VALUES (?, ?, 'user', ?, NULL, ?) ON CONFLICT(photo_id, tag_id) DO UPDATE SET "
                "state = excluded.state, updated_at = excluded.updated_at",
                [(int(p), tid, state, now) for p in photo_ids],
            )

    def untag(self, photo_ids: Iterable[int], name: str) -> None:
        """Take a tag's links off photos (NotFound for an unknown tag)."""
        tid = self.tag_id(name, create=False)
        with self._write() as con:
            con.executemany(
                "DELETE FROM photo_tags WHERE photo_id = ? AND tag_id = ?",
                [(int(p), tid) for p in photo_ids],
            )

    def set_learned(self, name: str, learned: bool = True) -> None:
        tid = self.tag_id(name)
        with self._write() as con:
            con.execute("UPDATE tags SET learned = ? WHERE id = ?", (int(learned), tid))

    def learned_tags(self) -> list[str]:
        return [r[0] for r in self._read("SELECT name FROM tags WHERE learned = 1 ORDER BY name")]

    def tag_decisions(self, name: str) -> tuple[list[int], list[int]]:
        """(accepted ids, rejected ids) of a tag: a learned tag's examples."""
        return self.tagged_ids(name, "accepted"), self.tagged_ids(name, "rejected")

    def photo_tags(self, photo_id: int) -> list[PhotoTag]:
        """Every tag link of one photo, by tag name."""
        return [PhotoTag(*r) for r in self._read(
            "SELECT t.name, pt.source, pt.state, pt.score FROM photo_tags pt "
            "JOIN tags t ON t.id = pt.tag_id WHERE pt.photo_id = ? ORDER BY t.name",
            (int(photo_id),))]

    def tagged_ids(self, name: str, state: str = "accepted") -> list[int]:
        """Photos whose link to ``name`` is in ``state``, by id (empty for an unknown tag)."""
        row = self._one("SELECT id FROM tags WHERE key = ?", (tag_key(tag_name(name)),))
        if row is None:
            return []
        return [r[0] for r in self._read(
            "SELECT photo_id FROM photo_tags WHERE tag_id = ? AND state = ? ORDER BY photo_id",
            (row[0], state))]

    def photos_with_accepted_tags(self) -> list[int]:
        return [r[0] for r in self._read(
            "SELECT DISTINCT photo_id FROM photo_tags WHERE state = 'accepted' ORDER BY photo_id")]

    def accepted_tag_counts(self) -> dict[int, int]:
        """photo id -> how many tags it has accepted (photos without any left out)."""
        return dict(self._read(
            "SELECT photo_id, COUNT(*) FROM photo_tags WHERE state = 'accepted' GROUP BY photo_id"))

    # -- saved searches ------------------------------------------------------------------
    def save_search(self, name: str, query: str) -> None:
        with self._write() as con:
            con.execute(
                "INSERT INTO saved_searches(name, query, created_at) VALUES (?, ?, ?) "
                "ON CONFLICT(name) DO UPDATE SET query = excluded.query",
                (name, query, time.time()),
            )

    def saved_searches(self) -> list[tuple[str, str]]:
        """(name, query text) by name."""
        return [tuple(r) for r in self._read("SELECT name, query FROM saved_searches ORDER BY name")]

    def delete_saved_search(self, name: str) -> None:
        with self._write() as con:
            con.execute("DELETE FROM saved_searches WHERE name = ?", (name,))

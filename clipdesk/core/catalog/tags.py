"""Tags, their links to photos (source, state, score), learned tags, saved searches."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Iterable, Sequence

from clipdesk.core.catalog.base import CatalogBase
from clipdesk.core.catalog.records import PhotoTag, TagCount
from clipdesk.core.errors import NotFound
from clipdesk.core.names import InvalidTag, tag_key, tag_name

_DECISIONS = ("accepted", "rejected")


@dataclass(frozen=True)
class TagSnapshot:
    """Tags as they were: key -> (name, learned, links) or None when the tag did
    not exist; ``photo_ids``: the links are those of these photos only."""

    entries: dict
    photo_ids: tuple[int, ...] | None


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
        """Every tag with its accepted photo count, by name. A tag that only
        records decisions against it (rejected, or suggested and never
        accepted) is not the user's tag and is left out: rejecting "pullover"
        must not add a "pullover" with no photos to the tag lists. A tag taught
        from examples, or one with no links at all (the user emptied it), stays."""
        return [TagCount(r[0], r[1], r[2], bool(r[3])) for r in self._read(
            "SELECT t.id, t.name, COALESCE(SUM(pt.state = 'accepted'), 0) AS n, t.learned FROM tags t "
            "LEFT JOIN photo_tags pt ON pt.tag_id = t.id "
            "GROUP BY t.id HAVING n > 0 OR t.learned OR COUNT(pt.photo_id) = 0 "
            "ORDER BY t.name COLLATE NOCASE")]

    def delete_tag(self, name: str) -> None:
        """Delete a tag and the tags nested below it; a level that is only a path
        ("Places" above "Places|Beach") works too. NotFound when there is none."""
        with self._write() as con:
            family = self._family(con, name)
            if not family:
                raise NotFound(f"there is no tag {tag_name(name)!r}")
            con.executemany("DELETE FROM tags WHERE id = ?", [(t,) for t, _ in family])

    def stored_tag_name(self, name: str) -> str | None:
        """The spelling a tag is kept under, found the way :meth:`tag_id` finds
        it ("PLANTS" finds "plants"); None when there is no such tag or the
        name is unusable."""
        try:
            key = tag_key(tag_name(name))
        except InvalidTag:
            return None
        row = self._one("SELECT name FROM tags WHERE key = ?", (key,))
        return row[0] if row else None

    def accepted_links(self) -> list[tuple[str, int]]:
        """(tag name, photo id) of every accepted tag."""
        return [(r[0], r[1]) for r in self._read(
            "SELECT t.name, pt.photo_id FROM photo_tags pt JOIN tags t ON t.id = pt.tag_id "
            "WHERE pt.state = 'accepted'")]

    def tag_family(self, name: str) -> list[str]:
        """A tag's name and those nested below it ("Places", "Places|Beach"...)."""
        return [n for _, n in self._family(self._con, name)]

    @staticmethod
    def _family(con, name: str) -> list[tuple[int, str]]:
        key = tag_key(tag_name(name))
        return [tuple(r) for r in con.execute(
            "SELECT id, name FROM tags WHERE key = ? OR substr(key, 1, ?) = ? ORDER BY key",
            (key, len(key) + 1, key + "|"))]

    def rename_tag(self, old: str, new: str) -> list[tuple[str, str]]:
        """Rename a tag and every tag nested below it ("Places|Beach" follows
        "Places" -> "Travel"); a name that exists already is a merge: the links
        move to it (the user's decisions win over suggestions) and learning
        carries over. Returns the (old name, new name) pairs. NotFound for an
        unknown tag, InvalidTag for an unusable new name."""
        old_levels = tag_name(old).split("|")
        new_levels = tag_name(new).split("|")
        renamed = []
        with self._write() as con:
            family = self._family(con, old)
            if not family:
                raise NotFound(f"there is no tag {tag_name(old)!r}")
            for tid, name in family:
                target = tag_name("|".join(new_levels + name.split("|")[len(old_levels):]))
                key = tag_key(target)
                other = con.execute("SELECT id FROM tags WHERE key = ? AND id != ?", (key, tid)).fetchone()
                if other is None:
                    con.execute("UPDATE tags SET name = ?, key = ? WHERE id = ?", (target, key, tid))
                else:
                    self._merge_links(con, tid, other[0])
                renamed.append((name, target))
        return renamed

    @staticmethod
    def _merge_links(con, source: int, target: int) -> None:
        con.execute(
            "INSERT INTO photo_tags(photo_id, tag_id, source, state, score, updated_at) "
            "SELECT photo_id, ?, source, state, score, updated_at FROM photo_tags WHERE tag_id = ? "
            "ON CONFLICT(photo_id, tag_id) DO UPDATE SET state = CASE WHEN photo_tags.state = 'suggested' "
            "THEN excluded.state ELSE photo_tags.state END, source = CASE WHEN photo_tags.state = 'suggested' "
            "THEN excluded.source ELSE photo_tags.source END",
            (target, source))
        con.execute("UPDATE tags SET learned = MAX(learned, (SELECT learned FROM tags WHERE id = ?)) WHERE id = ?",
                    (source, target))
        con.execute("DELETE FROM tags WHERE id = ?", (source,))

    def tag_snapshot(self, names: Iterable[str], photo_ids: Iterable[int] | None = None) -> TagSnapshot:
        """What these tags are now (existing or not: a snapshot restores both),
        with their links, all or only those of ``photo_ids``: for undo."""
        ids = None if photo_ids is None else sorted({int(i) for i in photo_ids})
        entries: dict[str, tuple | None] = {}
        for name in names:
            key = tag_key(tag_name(name))
            row = self._one("SELECT id, name, learned FROM tags WHERE key = ?", (key,))
            if row is None:
                entries[key] = None
                continue
            links = [tuple(r) for r in self._read(
                "SELECT photo_id, source, state, score, updated_at FROM photo_tags WHERE tag_id = ?", (row[0],))
                if ids is None or r[0] in ids]
            entries[key] = (row[1], row[2], links)
        return TagSnapshot(entries, None if ids is None else tuple(ids))

    def restore_tag_snapshot(self, snapshot: TagSnapshot) -> None:
        """Put these tags back as the snapshot saw them: a tag that did not exist
        goes (or, for a snapshot of some photos, its links to them), one that
        existed comes back with its name, learning and links."""
        ids = snapshot.photo_ids
        with self._write() as con:
            for key, entry in snapshot.entries.items():
                row = con.execute("SELECT id FROM tags WHERE key = ?", (key,)).fetchone()
                if entry is None:
                    if row is not None and ids is None:
                        con.execute("DELETE FROM tags WHERE id = ?", (row[0],))
                    elif row is not None:
                        con.executemany("DELETE FROM photo_tags WHERE tag_id = ? AND photo_id = ?",
                                        [(row[0], i) for i in ids])
                    continue
                name, learned, links = entry
                if row is None:
                    tid = con.execute("INSERT INTO tags(name, key, learned, created_at) VALUES (?, ?, ?, ?)",
                                      (name, key, learned, time.time())).lastrowid
                else:
                    tid = row[0]
                    con.execute("UPDATE tags SET name = ?, learned = ? WHERE id = ?", (name, learned, tid))
                if ids is None:
                    con.execute("DELETE FROM photo_tags WHERE tag_id = ?", (tid,))
                else:
                    con.executemany("DELETE FROM photo_tags WHERE tag_id = ? AND photo_id = ?", [(tid, i) for i in ids])
                con.executemany(
                    "INSERT OR IGNORE INTO photo_tags(photo_id, tag_id, source, state, score, updated_at) "
                    "SELECT ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM photos WHERE id = ?)",
                    [(pid, tid, src, st, sc, at, pid) for pid, src, st, sc, at in links])

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

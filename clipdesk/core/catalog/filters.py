"""A parsed query's filters as SQL over the catalog's photos table.

Listing photos by folder, date or tag needs only this and the catalog: no
vector index, no model.
"""

from __future__ import annotations

import os
import unicodedata

from clipdesk.core.names import name_key, resolve_typed_path, tag_key
from clipdesk.core.query import Query, type_formats


def in_folder(path: bytes, needle: str) -> int:
    """SQL function ``clipdesk_in_folder(path, needle)`` for the ``folder:`` filter.

    ``needle`` (from :func:`_folder_needle`) is either "/" + an absolute folder
    path ending in a separator (that folder and below) or case-folded text that
    the photo's folder path must contain. Both sides are compared in Unicode
    NFC, so a name macOS wrote in NFD matches what people type.
    """
    folder = unicodedata.normalize("NFC", os.path.dirname(os.fsdecode(path)))
    if needle.startswith("/") and os.path.isabs(needle[1:]):
        return int((folder + os.sep).startswith(needle[1:]))
    return int(needle in unicodedata.normalize("NFC", folder.casefold()))


def filter_sql(q: Query) -> tuple[str, list]:
    """WHERE clause (without WHERE) and arguments for the query's filters."""
    where: list[str] = []
    args: list = []
    if q.folders:
        where.append("(" + " OR ".join("clipdesk_in_folder(path, ?)" for _ in q.folders) + ")")
        args += [_folder_needle(f) for f in q.folders]
    for f in q.exclude_folders:
        where.append("NOT clipdesk_in_folder(path, ?)")
        args.append(_folder_needle(f))
    if q.date_from:
        where.append("taken_at >= ?")
        args.append(q.date_from.isoformat())
    if q.date_to:
        where.append("taken_at < ?")
        args.append(q.date_to.isoformat())
    if q.types:
        formats = [f for t in q.types for f in type_formats(t)]
        where.append(f"format IN ({','.join('?' * len(formats))})")
        args += formats
    if q.exclude_types:
        formats = [f for t in q.exclude_types for f in type_formats(t)]
        where.append(f"(format IS NULL OR format NOT IN ({','.join('?' * len(formats))}))")
        args += formats
    if q.rating_min is not None:
        where.append("rating >= ?")
        args.append(q.rating_min)
    if q.rating_max is not None:
        where.append("rating <= ?")
        args.append(q.rating_max)
    for column, wanted, unwanted in (("flag", q.flags, q.exclude_flags), ("label", q.labels, q.exclude_labels)):
        if wanted:
            where.append("(" + " OR ".join(f"{column} IS NULL" if v == "none" else f"{column} = ?"
                                           for v in wanted) + ")")
            args += [v for v in wanted if v != "none"]
        for v in unwanted:
            where.append(f"{column} IS NOT NULL" if v == "none" else f"({column} IS NULL OR {column} != ?)")
            if v != "none":
                args.append(v)
    if q.names:
        where.append("(" + " OR ".join("name_key LIKE ? ESCAPE '\\'" for _ in q.names) + ")")
        args += [f"%{like_escape(name_key(n))}%" for n in q.names]
    for n in q.exclude_names:
        where.append("name_key NOT LIKE ? ESCAPE '\\'")
        args.append(f"%{like_escape(name_key(n))}%")
    if q.cameras:
        where.append("(" + " OR ".join("camera LIKE ? ESCAPE '\\'" for _ in q.cameras) + ")")
        args += [f"%{like_escape(c)}%" for c in q.cameras]
    for c in q.exclude_cameras:
        where.append("(camera IS NULL OR camera NOT LIKE ? ESCAPE '\\')")
        args.append(f"%{like_escape(c)}%")
    tag_sql = (
        "SELECT pt.photo_id FROM photo_tags pt JOIN tags t ON t.id = pt.tag_id "
        "WHERE (t.key = ? OR substr(t.key, 1, ?) = ?) AND pt.state = 'accepted'"
    )
    # A tag means itself and the tags nested below it (tag:Places finds Places|Beach).
    for t in q.tags:
        where.append(f"id IN ({tag_sql})")
        args += _tag_args(t)
    for t in q.exclude_tags:
        where.append(f"id NOT IN ({tag_sql})")
        args += _tag_args(t)
    return " AND ".join(where), args


def _tag_args(name: str) -> list:
    key = tag_key(name)
    return [key, len(key) + 1, key + "|"]


def like_escape(text: str) -> str:
    """Text for a LIKE pattern with ESCAPE '\\': its % and _ taken literally."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _folder_needle(value: str) -> str:
    """An absolute path (or ~/...) matches that folder and below (through
    symbolic links: the folder where it really is); anything else matches
    folders whose path contains it, case-insensitively. NFC throughout."""
    expanded = os.path.expanduser(value)
    if os.path.isabs(expanded):
        real = resolve_typed_path(expanded)
        return "/" + unicodedata.normalize("NFC", os.fsdecode(real)).rstrip(os.sep) + os.sep
    return unicodedata.normalize("NFC", unicodedata.normalize("NFC", value).casefold())

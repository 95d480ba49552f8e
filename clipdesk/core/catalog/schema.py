"""The catalog's schema and its step-by-step migrations.

The schema version is SQLite's ``PRAGMA user_version``; ``MIGRATIONS[n]``
upgrades a catalog from version n to n+1 (version 0 is an empty file). A
migration only ever adds: columns, tables, indexes, so the user's rows are
carried over as they are.
"""

from __future__ import annotations

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


def schema_version() -> int:
    """The version this ClipDesk writes (read at call time, so a test can add a step)."""
    return len(MIGRATIONS)


def split_sql(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]

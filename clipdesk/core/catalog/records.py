"""What the catalog hands out: plain, immutable records (no SQL, no connection)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import NamedTuple, Sequence

from clipdesk.core.names import decode_path


@dataclass(frozen=True)
class Folder:
    """A library folder (``kind`` "root") or an excluded folder inside one ("exclude")."""

    id: int
    path: str
    kind: str
    state: str  # "online" | "offline"
    added_at: float  # seconds since the epoch
    last_scan: float | None
    note: str | None  # why it is offline


@dataclass(frozen=True)
class Photo:
    """One catalogued file. ``taken_at`` is ISO 8601 local time (sub-seconds
    kept when the metadata has them); ``date_source`` "exif" (any metadata
    field) or "file"; ``date_field`` which field gave the date and
    ``taken_offset`` its UTC offset, when known (clipdesk.core.metadata);
    ``status`` one of pending, indexed, failed (``reason`` says why) or offline."""

    id: int
    folder_id: int
    path: str
    size: int  # bytes
    mtime_ns: int
    hash: str | None
    format: str | None
    width: int | None  # pixels, orientation applied
    height: int | None
    taken_at: str | None
    date_source: str | None
    camera: str | None
    status: str
    reason: str | None
    date_field: str | None = None  # "EXIF:DateTimeOriginal", ..., "File:ModifyDate"
    taken_offset: str | None = None  # "+02:00"
    #: The JPEG/HEIF beside a RAW master (same folder and name), or None.
    companion: str | None = None

    @property
    def name(self) -> str:
        return os.path.basename(self.path)

    @property
    def files(self) -> list[str]:
        """The photo's own files: the master, then its companion if any."""
        return [self.path] if self.companion is None else [self.path, self.companion]


class PhotoTag(NamedTuple):
    """A tag on one photo: where it came from and what the user decided."""

    tag: str
    source: str  # user | auto | learned | sidecar | file
    state: str  # suggested | accepted | rejected
    score: float | None  # calibrated confidence of a suggestion, in [0, 1]


class TagCount(NamedTuple):
    id: int
    name: str
    photos: int  # photos with the tag accepted
    learned: bool


@dataclass(frozen=True)
class Summary:
    """Counts for `clipdesk status` and `clipdesk doctor`."""

    by_status: dict[str, int]
    roots: int
    offline_roots: int
    embeddings: dict[str, int]  # model id -> photos embedded


PHOTO_COLUMNS = (
    "id, folder_id, path, size, mtime_ns, hash, format, width, height, "
    "taken_at, date_source, camera, status, reason, date_field, taken_offset, companion"
)
FOLDER_COLUMNS = "id, path, kind, state, added_at, last_scan, note"


def photo_from_row(row: Sequence) -> Photo:
    companion = decode_path(row[16]) if row[16] is not None else None
    return Photo(row[0], row[1], decode_path(row[2]), *row[3:16], companion)


def folder_from_row(row: Sequence) -> Folder:
    return Folder(row[0], decode_path(row[1]), *row[2:])

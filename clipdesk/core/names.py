"""One canonical form for every path and name that comes in, one display form
for every path that goes out.

Paths
    The bytes a file has on disk are its identity: the catalog stores them as
    they are (``os.fsencode``), so a name that is not valid UTF-8 round-trips
    exactly. A path that comes in from a person or another program (a CLI
    argument, a dropped file, a ``folder:`` or ``similar:`` filter, a watcher
    event) goes through :func:`incoming_path` before it meets the catalog:
    ``~`` expanded, made absolute, ``.``/``..`` removed. Where it may name a
    catalogued file through a symbolic link, :func:`path_candidates` also
    gives the resolved path.
Names
    Tag names are cleaned once (:func:`tag_name`, for the catalog, sidecars
    and vocabularies alike) and compared by :func:`tag_key`, the way people
    read them.
Display
    Every path printed or shown goes through :func:`display_path`: undecodable
    bytes are shown as U+FFFD, never a traceback.
"""

from __future__ import annotations

import os
import unicodedata

from clipdesk.core.errors import UsageError

__all__ = [
    "HIERARCHY_SEPARATOR",
    "InvalidTag",
    "MAX_TAG_DEPTH",
    "MAX_TAG_LENGTH",
    "decode_path",
    "display_path",
    "encode_path",
    "incoming_path",
    "is_under",
    "path_candidates",
    "resolve_typed_path",
    "tag_key",
    "tag_name",
]

PathLike = str | bytes | os.PathLike

#: Levels of a nested tag are separated by this in ClipDesk and in lr:hierarchicalSubject.
HIERARCHY_SEPARATOR = "|"
#: Longest tag name kept (characters), and deepest nesting.
MAX_TAG_LENGTH = 255
MAX_TAG_DEPTH = 16
_BIDI_CONTROLS = set("\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def encode_path(path: PathLike) -> bytes:
    """The bytes of a path as the file system has them."""
    return os.fsencode(path)


def decode_path(raw: bytes) -> str:
    """A path as ``str`` that encodes back to the same bytes (surrogate escapes)."""
    return os.fsdecode(raw)


def display_path(raw: PathLike) -> str:
    """A path as text for people: undecodable bytes shown as U+FFFD."""
    if not isinstance(raw, bytes):
        raw = os.fsencode(raw)
    return raw.decode("utf-8", errors="replace")


def incoming_path(path: PathLike) -> bytes:
    """The canonical form of a path someone handed us: ``~`` expanded, absolute,
    normalised (no ``.``, ``..`` or doubled separators), as bytes. Symbolic
    links are kept: the scanner records files under the names it walked."""
    return os.path.abspath(os.path.expanduser(os.fsencode(path)))


def resolve_typed_path(path: PathLike) -> bytes:
    """Where a path someone typed really is on disk: symbolic links resolved,
    and a component that does not exist as typed matched to the directory entry
    that is the same text in Unicode NFC (macOS writes names in NFD, people
    type NFC). Returns :func:`incoming_path` of ``path`` when nothing matches."""
    given = incoming_path(path)
    if os.path.lexists(given):
        return os.path.realpath(given)
    parts = given.split(os.sep.encode())
    current = parts[0] + os.sep.encode() if parts[0] else os.sep.encode()
    for part in parts[1:]:
        if not part:
            continue
        candidate = os.path.join(current, part)
        if not os.path.lexists(candidate):
            candidate = _same_name_in(current, part)
            if candidate is None:
                return given
        current = os.path.realpath(candidate)
    return current


def _same_name_in(folder: bytes, name: bytes) -> bytes | None:
    want = _nfc(name)
    try:
        with os.scandir(folder) as it:
            for entry in it:
                if _nfc(entry.name) == want:
                    return entry.path
    except OSError:
        return None
    return None


def _nfc(raw: bytes) -> str:
    return unicodedata.normalize("NFC", os.fsdecode(raw))


def path_candidates(path: PathLike) -> list[bytes]:
    """The names under which a path someone handed us may be catalogued: as
    given (:func:`incoming_path`), then as it really is on disk
    (:func:`resolve_typed_path`: links resolved, NFC/NFD told apart)."""
    given = incoming_path(path)
    resolved = resolve_typed_path(given)
    return [given] if resolved == given else [given, resolved]


def is_under(path: bytes, root: bytes) -> bool:
    """True when ``path`` is ``root`` or inside it (whole path components)."""
    root = root.rstrip(b"/\\") or root[:1]
    sep = os.sep.encode()
    return path == root or path.startswith(root if root.endswith(sep) else root + sep)


class InvalidTag(UsageError):
    """A tag name that cannot be stored (empty, too long, too deep)."""


def tag_name(name: str) -> str:
    """The canonical form of a tag name, or :class:`InvalidTag`.

    NFC; control characters, line/paragraph separators and bidirectional
    overrides removed (they break XML or disguise text); whitespace runs
    collapsed; empty hierarchy levels dropped ("a||b" -> "a|b"); at most
    :data:`MAX_TAG_LENGTH` characters and :data:`MAX_TAG_DEPTH` levels.
    """
    if not isinstance(name, str):
        raise InvalidTag(f"a tag must be text, got {type(name).__name__}")
    text = unicodedata.normalize("NFC", name)
    cleaned = []
    for ch in text:
        cat = unicodedata.category(ch)
        if cat in ("Cc", "Zl", "Zp"):
            cleaned.append(" ")
        elif cat == "Cs" or ch in _BIDI_CONTROLS or ch in ("\ufffe", "\uffff"):
            continue
        else:
            cleaned.append(ch)
    levels = [" ".join(level.split()) for level in "".join(cleaned).split(HIERARCHY_SEPARATOR)]
    levels = [level for level in levels if level]
    if not levels:
        raise InvalidTag("a tag needs at least one visible character")
    if len(levels) > MAX_TAG_DEPTH:
        raise InvalidTag(f"a tag can be nested at most {MAX_TAG_DEPTH} levels deep")
    result = HIERARCHY_SEPARATOR.join(levels)
    if len(result) > MAX_TAG_LENGTH:
        raise InvalidTag(f"a tag can be at most {MAX_TAG_LENGTH} characters long, this one has {len(result)}")
    return result


def tag_key(name: str) -> str:
    """How two tag names are compared: equal when people read them as the same
    word (Unicode case folding of the NFC form), e.g. "Straße" and "STRASSE"."""
    return unicodedata.normalize("NFC", unicodedata.normalize("NFC", name).casefold())

"""The search language people type: lexer, parser, and edits of the query text.

Parsing (no model calls here)::

    dog on a beach                  one concept, embedded as one text
    beach + sunset                  two concepts, both wanted
    red car -night -"rainy street"  push away from "night" and "rainy street"
    "new york" skyline              quotes keep a phrase together
    folder:"Holidays 2023"          filters: folder, after, before, date, type,
    after:2023-07 before:2024       camera, tag (repeatable; -tag:x excludes),
    type:heic camera:pixel          similar:PATH (find photos like a file),
    tag:family -tag:"to delete"     name:IMG_0042 (file name),
    sort:relevance|date|newest|oldest|added|name|rating
    rating:>=3 flag:pick label:red  culling marks (flag:reject, label:none, -flag:reject...)
    similar:~/Pictures/cat.jpg

Words mean the concept; filters (``key:value``) narrow the photos. ``-`` in
front of a word, a quoted phrase or a filter negates it. Filter names are
case-insensitive; an unknown ``word:`` is ordinary text (times, URLs), but a
near miss of a filter name (``tags:``, ``foldr:``) is an error that names the
filter, so a typo does not silently become a search for the word "foldr".

Dates are periods: ``after:2023-07`` keeps photos taken from 1 July 2023 on,
``before:2023-07`` those taken before 1 July 2023, ``date:2023-07`` the month
itself; so ``after:X before:Y`` is the half-open range [X, Y).

Every parsing error is a :class:`QueryError` whose message says what was
expected and where; ``error.position`` is the 0-based offset for the UI.

One lexer (:func:`lex`) reads the text for the parser and for the search
bar's filter chips, which edit the text (:func:`set_filter`,
:func:`add_filter`, :func:`set_dates`) instead of keeping a second copy of the
filters. How the parsed parts are scored is :mod:`clipdesk.core.relevance`.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field, fields
from datetime import date

from clipdesk.core.errors import QueryError
from clipdesk.core.photofiles import RAW_EXTENSIONS, RAW_FORMATS

log = logging.getLogger(__name__)

#: Canonical type name -> file extensions it covers.
TYPE_EXTENSIONS: dict[str, tuple[str, ...]] = {
    "jpeg": (".jpg", ".jpeg", ".jpe", ".jfif"),
    "png": (".png",),
    "heic": (".heic", ".heif", ".hif"),
    "avif": (".avif",),
    "webp": (".webp",),
    "tiff": (".tif", ".tiff"),
    "gif": (".gif",),
    "bmp": (".bmp",),
    # type:raw is every camera RAW format; type:nef, type:dng... one of them.
    "raw": tuple(sorted(RAW_EXTENSIONS)),
    **{fmt: (f".{fmt}",) for fmt in sorted(RAW_FORMATS - {"raw"})},
}
_TYPE_ALIASES = {
    **{name: name for name in TYPE_EXTENSIONS},
    "jpg": "jpeg",
    "jpe": "jpeg",
    "jfif": "jpeg",
    "heif": "heic",
    "hif": "heic",
    "tif": "tiff",
}


def type_formats(type_name: str) -> tuple[str, ...]:
    """The catalog ``format`` values a canonical ``type:`` name covers."""
    return tuple(sorted(RAW_FORMATS)) if type_name == "raw" else (type_name,)


#: How results can be ordered: by relevance (the meaning's score), capture date
#: (newest or oldest first), date added to the library (newest first), file
#: name (A to Z), or star rating (most stars first, then newest).
SORTS = ("relevance", "newest", "oldest", "added", "name", "rating")
#: Sorts that order by capture date: the grid groups them by month.
DATE_SORTS = ("newest", "oldest")
_SORT_ALIASES = {"relevance": "relevance", "date": "newest", "newest": "newest", "oldest": "oldest",
                 "added": "added", "name": "name", "rating": "rating"}
FILTER_KEYS = ("folder", "after", "before", "date", "type", "camera", "tag", "name", "rating", "flag", "label",
               "similar", "sort")
_NEGATABLE = {"folder", "type", "camera", "tag", "name", "flag", "label", "similar"}
#: Culling marks as Lightroom and digiKam name them.
FLAGS = ("pick", "reject")
LABELS = ("red", "yellow", "green", "blue", "purple")
_RATING_RE = re.compile(r"^(>=|<=|>|<|=)?([0-5])$")
#: Longest query we parse; longer input is refused with a clear message.
MAX_QUERY_LENGTH = 2000

_DATE_RE = re.compile(r"^(\d{4})(?:[-/](\d{1,2})(?:[-/](\d{1,2}))?)?$")
_KEY_RE = re.compile(r"([A-Za-z]{2,12}):")


def _error(message: str, position: int, length: int = 1, incomplete: bool = False) -> QueryError:
    return QueryError(message, position, length, incomplete=incomplete)


_DATE_PREFIX = re.compile(r"^\d{0,4}([-/]\d{0,2}([-/]\d{0,2})?)?$")


def _unfinished(key: str, value: str) -> bool:
    """A filter value that more typing can still make valid (the text ends there)."""
    if not value:
        return True
    if key in ("after", "before", "date"):
        m = _DATE_PREFIX.match(value)
        if not m:
            return False
        parts = re.split(r"[-/]", value)
        month = parts[1] if len(parts) > 1 else ""
        day = parts[2] if len(parts) > 2 else ""
        return (len(month) < 2 or 1 <= int(month) <= 12) and (len(day) < 2 or 1 <= int(day) <= 31)
    if key == "type":
        last = value.split(",")[-1].strip().lower().lstrip(".")
        return any(name.startswith(last) for name in _TYPE_ALIASES)
    if key == "sort":
        return any(name.startswith(value.lower()) for name in _SORT_ALIASES)
    return False


@dataclass(frozen=True)
class Query:
    """A parsed query. Filters combine with AND; repeated values of one filter
    combine with OR (folder, type, camera) or AND (tag)."""

    #: Concepts to move towards; each one is embedded as one text.
    positives: tuple[str, ...] = ()
    #: Concepts to push away from.
    negatives: tuple[str, ...] = ()
    #: Image files whose embeddings join the positives / negatives.
    similar: tuple[str, ...] = ()
    dissimilar: tuple[str, ...] = ()
    folders: tuple[str, ...] = ()
    exclude_folders: tuple[str, ...] = ()
    #: Capture date: date_from <= taken < date_to.
    date_from: date | None = None
    date_to: date | None = None
    #: Canonical names from TYPE_EXTENSIONS.
    types: tuple[str, ...] = ()
    exclude_types: tuple[str, ...] = ()
    #: Case-insensitive substrings of the camera make and model.
    cameras: tuple[str, ...] = ()
    exclude_cameras: tuple[str, ...] = ()
    #: Star rating: rating_min <= stars <= rating_max (0-5; 0 is unrated).
    rating_min: int | None = None
    rating_max: int | None = None
    #: "pick", "reject", or "none" (neither); repeated values combine with OR.
    flags: tuple[str, ...] = ()
    exclude_flags: tuple[str, ...] = ()
    #: Colour labels (LABELS, or "none"); repeated values combine with OR.
    labels: tuple[str, ...] = ()
    exclude_labels: tuple[str, ...] = ()
    #: File names containing any of these (case-insensitive).
    names: tuple[str, ...] = ()
    exclude_names: tuple[str, ...] = ()
    #: Every one of these tags (exact names).
    tags: tuple[str, ...] = ()
    #: None of these tags.
    exclude_tags: tuple[str, ...] = ()
    #: None: relevance when there is something to rank by, else newest.
    sort: str | None = None

    @property
    def has_meaning(self) -> bool:
        """True when there is something to rank by (text or example images)."""
        return bool(self.positives or self.negatives or self.similar or self.dissimilar)

    @property
    def has_filters(self) -> bool:
        return any(
            getattr(self, f.name) not in (None, ())
            for f in fields(self)
            if f.name not in ("positives", "negatives", "similar", "dissimilar", "sort")
        )

    @property
    def effective_sort(self) -> str:
        if self.sort:
            return self.sort
        return "relevance" if self.has_meaning else "newest"

    @property
    def extensions(self) -> tuple[str, ...]:
        """File extensions allowed by ``type:`` (empty: any)."""
        return tuple(ext for t in self.types for ext in TYPE_EXTENSIONS[t])

    @property
    def excluded_extensions(self) -> tuple[str, ...]:
        return tuple(ext for t in self.exclude_types for ext in TYPE_EXTENSIONS[t])

    def __str__(self) -> str:
        """The query in canonical syntax; ``parse_query(str(q)) == q``."""
        parts: list[str] = []
        parts.append(" + ".join(_quote_text(p) for p in self.positives))
        parts += [f"-{_quote(n) if ' ' in n else _quote_text(n)}" for n in self.negatives]
        for key, values, neg in (
            ("similar", self.similar, False),
            ("similar", self.dissimilar, True),
            ("folder", self.folders, False),
            ("folder", self.exclude_folders, True),
            ("type", self.types, False),
            ("type", self.exclude_types, True),
            ("camera", self.cameras, False),
            ("camera", self.exclude_cameras, True),
            ("name", self.names, False),
            ("name", self.exclude_names, True),
            ("tag", self.tags, False),
            ("tag", self.exclude_tags, True),
        ):
            parts += [f"{'-' if neg else ''}{key}:{_quote_value(v)}" for v in values]
        if self.rating_min is not None or self.rating_max is not None:
            lo, hi = self.rating_min, self.rating_max
            parts.append(f"rating:{lo}" if lo == hi else f"rating:>={lo}" if hi is None else f"rating:<={hi}"
                         if lo is None else f"rating:>={lo} rating:<={hi}")
        for key, values, neg in (("flag", self.flags, False), ("flag", self.exclude_flags, True),
                                 ("label", self.labels, False), ("label", self.exclude_labels, True)):
            parts += [f"{'-' if neg else ''}{key}:{v}" for v in values]
        if self.date_from:
            parts.append(f"after:{self.date_from.isoformat()}")
        if self.date_to:
            parts.append(f"before:{self.date_to.isoformat()}")
        if self.sort:
            parts.append(f"sort:{self.sort}")
        return " ".join(p for p in parts if p)


def _needs_quotes(text: str) -> bool:
    return not text or any(c.isspace() or c in '"\\' for c in text) or text[0] in "-+"


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _quote_value(text: str) -> str:
    return _quote(text) if _needs_quotes(text) else text


def _quote_text(text: str) -> str:
    """A concept's words, quoted only where a word would otherwise be read as syntax."""
    words = text.split(" ")
    if any(_needs_quotes(w) or _KEY_RE.match(w) or w == "+" for w in words):
        return _quote(text)
    return text


# --------------------------------------------------------------------------- lexer


@dataclass(frozen=True)
class Token:
    """One piece of a query's text, as typed.

    ``kind`` is "plus" (a ``+`` between concepts), "filter" (``key:value``
    with a known key) or "text" (a word or a quoted phrase). ``start``/``end``
    span the token in the text, ``-`` included; ``value`` is a filter's value
    or the text, quotes and escapes removed; ``closed`` is False for a quote
    that is never closed (the value then runs to the end of the text).
    """

    kind: str
    start: int
    end: int
    negated: bool = False
    key: str | None = None
    value: str = ""
    quoted: bool = False
    closed: bool = True
    #: For "text": the ``word:`` prefix it starts with, if any (a near miss of
    #: a filter name is refused by the parser).
    prefix: str | None = None
    #: Where the value starts (after ``key:``, at the opening quote).
    value_start: int = 0


def lex(text: str) -> list[Token]:
    """Split a query into tokens. Never raises: half-typed text (``tag:``, an
    open quote) gives tokens too, so the search bar can edit any text; the
    parser decides what is an error."""
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
            continue
        if c == "+":
            tokens.append(Token("plus", i, i + 1))
            i += 1
            continue
        start, negated = i, False
        if c == "-":
            if i + 1 >= n or text[i + 1].isspace():
                i += 1  # a dash on its own means nothing
                continue
            negated = True
            i += 1
        key_match = _KEY_RE.match(text, i)
        key = key_match.group(1).lower() if key_match else None
        if key in FILTER_KEYS:
            value_start = key_match.end()
            value, end, quoted, closed = _read_word(text, value_start)
            tokens.append(Token("filter", start, end, negated, key, value, quoted, closed,
                                value_start=value_start))
        else:
            value, end, quoted, closed = _read_word(text, i)
            tokens.append(Token("text", start, end, negated, None, value, quoted, closed,
                                prefix=key_match.group(1) if key_match else None, value_start=i))
        i = end
    return tokens


def _read_word(text: str, i: int) -> tuple[str, int, bool, bool]:
    """(value, end, quoted, closed) of the word or "quoted phrase" at ``i``;
    inside quotes a backslash escapes " and \\."""
    n = len(text)
    if i < n and text[i] == '"':
        out: list[str] = []
        j = i + 1
        while j < n:
            ch = text[j]
            if ch == "\\" and j + 1 < n and text[j + 1] in '"\\':
                out.append(text[j + 1])
                j += 2
                continue
            if ch == '"':
                return "".join(out), j + 1, True, True
            out.append(ch)
            j += 1
        return "".join(out), n, True, False
    j = i
    while j < n and not text[j].isspace():
        j += 1
    return text[i:j], j, False, True


# --------------------------------------------------------------------------- parser


@dataclass
class _Builder:
    concepts: list[list[str]] = field(default_factory=lambda: [[]])
    negatives: list[str] = field(default_factory=list)
    values: dict[str, list[str]] = field(default_factory=dict)
    date_from: date | None = None
    date_to: date | None = None
    sort: str | None = None
    rating_min: int | None = None
    rating_max: int | None = None

    def add(self, key: str, value: str) -> None:
        self.values.setdefault(key, [])
        if value not in self.values[key]:
            self.values[key].append(value)


def parse_query(text: str) -> Query:
    """Parse what the user typed. Raises :class:`QueryError` with the position."""
    if not isinstance(text, str):
        raise QueryError("a query must be text")
    if len(text) > MAX_QUERY_LENGTH:
        raise _error(f"the query is too long ({len(text)} characters, at most {MAX_QUERY_LENGTH})", MAX_QUERY_LENGTH)
    b = _Builder()
    for tok in lex(text):
        if tok.kind == "plus":
            if b.concepts[-1]:
                b.concepts.append([])
            continue
        if not tok.closed:
            raise _error('this quote is never closed; add a closing "', tok.value_start, len(text) - tok.value_start,
                         incomplete=True)
        if tok.kind == "filter":
            value = _clean_text(tok.value) if tok.key not in ("folder", "similar") else tok.value.strip()
            at_end = tok.end == len(text)
            if not value:
                raise _error(f"{tok.key}: needs a value, for example {_EXAMPLES[tok.key]}", tok.start,
                             tok.end - tok.start, incomplete=at_end)
            try:
                _apply_filter(b, tok.key, value, tok.negated, tok.start, tok.end)
            except QueryError as exc:
                exc.incomplete = at_end and not tok.quoted and _unfinished(tok.key, value)
                raise
            continue
        if tok.prefix is not None:
            _refuse_near_miss(tok.prefix, tok.value_start)
        word = _clean_text(tok.value)
        if not word:
            continue
        if tok.negated:
            b.negatives.append(word)
        else:
            b.concepts[-1].append(word)
    positives = tuple(" ".join(words) for words in b.concepts if words)
    v = b.values
    return Query(
        positives=_dedupe(positives),
        negatives=_dedupe(b.negatives),
        similar=tuple(v.get("similar", ())),
        dissimilar=tuple(v.get("-similar", ())),
        folders=tuple(v.get("folder", ())),
        exclude_folders=tuple(v.get("-folder", ())),
        date_from=b.date_from,
        date_to=b.date_to,
        types=tuple(v.get("type", ())),
        exclude_types=tuple(v.get("-type", ())),
        cameras=tuple(v.get("camera", ())),
        exclude_cameras=tuple(v.get("-camera", ())),
        names=tuple(v.get("name", ())),
        exclude_names=tuple(v.get("-name", ())),
        rating_min=b.rating_min,
        rating_max=b.rating_max,
        flags=tuple(v.get("flag", ())),
        exclude_flags=tuple(v.get("-flag", ())),
        labels=tuple(v.get("label", ())),
        exclude_labels=tuple(v.get("-label", ())),
        tags=tuple(v.get("tag", ())),
        exclude_tags=tuple(v.get("-tag", ())),
        sort=b.sort,
    )


def _dedupe(items) -> tuple[str, ...]:
    seen: list[str] = []
    for item in items:
        if item not in seen:
            seen.append(item)
    return tuple(seen)


def _clean_text(text: str) -> str:
    """Control characters become spaces; runs of whitespace become one."""
    text = "".join(" " if (ord(ch) < 32 or 0x7F <= ord(ch) < 0xA0) else ch for ch in text)
    return " ".join(text.split())


_EXAMPLES = {
    "folder": 'folder:"Holidays 2023"',
    "after": "after:2023-07",
    "before": "before:2023-07-14",
    "date": "date:2023",
    "type": "type:jpeg",
    "camera": "camera:pixel",
    "name": "name:IMG_0042",
    "rating": "rating:>=3",
    "flag": "flag:pick",
    "label": "label:red",
    "tag": 'tag:"family"',
    "similar": "similar:photo.jpg",
    "sort": "sort:date",
}


def _refuse_near_miss(word: str, start: int) -> None:
    low = word.lower()
    for key in FILTER_KEYS:
        if len(low) >= 3 and _edit_distance_at_most_one(low, key):
            raise _error(f"unknown filter '{word}:'; did you mean {key}:? (quote the text to search for it)",
                         start, len(word) + 1)


def _edit_distance_at_most_one(a: str, b: str) -> bool:
    if a == b:
        return False
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b)) == 1
    if len(a) > len(b):
        a, b = b, a
    for k in range(len(b)):
        if a == b[:k] + b[k + 1 :]:
            return True
    return False


def parse_date_period(value: str) -> tuple[date, date]:
    """'2023' / '2023-07' / '2023-07-14' -> (first day, first day after). ValueError if not."""
    m = _DATE_RE.match(value)
    if not m:
        raise ValueError(value)
    year = int(m.group(1))
    if not 1800 <= year <= 9998:
        raise ValueError(value)
    if m.group(2) is None:
        return date(year, 1, 1), date(year + 1, 1, 1)
    month = int(m.group(2))
    if not 1 <= month <= 12:
        raise ValueError(value)
    next_month = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    if m.group(3) is None:
        return date(year, month, 1), next_month
    day = date(year, month, int(m.group(3)))  # ValueError for 2023-02-30
    return day, date.fromordinal(day.toordinal() + 1)


def _apply_filter(b: _Builder, key: str, value: str, negated: bool, start: int, end: int) -> None:
    span = end - start
    if negated and key not in _NEGATABLE:
        hint = {"after": "use before: instead", "before": "use after: instead"}.get(key, "it has no opposite")
        raise _error(f"{key}: cannot be negated; {hint}", start, span)
    if key in ("after", "before", "date"):
        try:
            first, after_last = parse_date_period(value)
        except ValueError:
            raise _error(
                f"{key}: expects a date like 2023, 2023-07 or 2023-07-14, got '{value}'", start, span
            ) from None
        lo, hi = {"after": (first, None), "before": (None, first), "date": (first, after_last)}[key]
        if lo is not None and (b.date_from is None or lo > b.date_from):
            b.date_from = lo
        if hi is not None and (b.date_to is None or hi < b.date_to):
            b.date_to = hi
        if b.date_from is not None and b.date_to is not None and b.date_from >= b.date_to:
            raise _error(
                f"no date is on or after {b.date_from.isoformat()} and before {b.date_to.isoformat()}; "
                "check the after:/before:/date: filters",
                start,
                span,
            )
        return
    if key == "sort":
        sort = _SORT_ALIASES.get(value.lower())
        if sort is None:
            raise _error(f"sort: expects relevance, date, newest, oldest, added, name or rating, got '{value}'",
                         start, span)
        if b.sort is not None and b.sort != sort:
            raise _error(f"sort: given twice ({b.sort} and {sort}); keep one", start, span)
        b.sort = sort
        return
    if key == "rating":
        m = _RATING_RE.match(value.replace(" ", ""))
        if m is None:
            raise _error(f"rating: expects 0 to 5 stars, as in rating:3, rating:>=3 or rating:<2, got '{value}'",
                         start, span)
        op, n = m.group(1) or "=", int(m.group(2))
        lo, hi = {"=": (n, n), ">=": (n, None), ">": (n + 1, None), "<=": (None, n), "<": (None, n - 1)}[op]
        if lo is not None:
            b.rating_min = lo if b.rating_min is None else max(b.rating_min, lo)
        if hi is not None:
            b.rating_max = hi if b.rating_max is None else min(b.rating_max, hi)
        if (b.rating_min or 0) > (5 if b.rating_max is None else b.rating_max):
            raise _error("no rating is in that range; check the rating: filters", start, span)
        return
    if key in ("flag", "label"):
        allowed = (*(FLAGS if key == "flag" else LABELS), "none")
        word = value.lower()
        if word not in allowed:
            raise _error(f"{key}: expects {', '.join(allowed)}, got '{value}'", start, span)
        b.add(("-" if negated else "") + key, word)
        return
    if key == "type":
        for part in value.split(","):
            canon = _TYPE_ALIASES.get(part.strip().lower().lstrip("."))
            if canon is None:
                known = ", ".join(t for t in TYPE_EXTENSIONS if t not in RAW_FORMATS or t == "raw")
                known += " or a RAW format (nef, cr2, dng...)"
                raise _error(f"type: expects one of {known}, got '{part.strip()}'", start, span)
            b.add(("-" if negated else "") + key, canon)
        return
    b.add(("-" if negated else "") + key, value)


# --------------------------------------------------------------------------- editing


def quote_value(text: str) -> str:
    """A filter value as it must be typed: quoted (with escapes) when it holds
    spaces, quotes or backslashes, or starts like an operator."""
    return _quote(text) if _needs_quotes(text) else text


def _without(text: str, drop) -> str:
    """The text without the tokens ``drop(token)`` selects. What is kept stays
    as typed (phrases keep their spacing); a removed token leaves one space."""
    out: list[str] = []
    prev: Token | None = None
    removed = False
    for tok in lex(text):
        if drop(tok):
            removed = True
            continue
        if prev is not None:
            out.append(" " if removed else text[prev.end : tok.start])
        out.append(text[tok.start : tok.end])
        prev, removed = tok, False
    return "".join(out)


def remove_filter(text: str, key: str) -> str:
    """The text without any ``key:`` (or ``-key:``) filter."""
    return _without(text, lambda t: t.kind == "filter" and t.key == key)


def set_filter(text: str, key: str, value: str | None, *, negated: bool = False) -> str:
    """Replace every ``key:`` filter in ``text`` by one ``key:value`` (or remove it)."""
    text = remove_filter(text, key)
    if value is None or value == "":
        return text
    return _append(text, f"{'-' if negated else ''}{key}:{quote_value(value)}")


def add_filter(text: str, key: str, value: str) -> str:
    """Add ``key:value`` unless the query already has it (tags combine with AND)."""
    for t in lex(text):
        if t.kind == "filter" and t.key == key and not t.negated and t.value.casefold() == value.casefold():
            return text
    return _append(text, f"{key}:{quote_value(value)}")


def set_dates(text: str, start: date | None, end: date | None) -> str:
    """``after:start before:end`` (end exclusive), replacing any date filter."""
    text = _without(text, lambda t: t.kind == "filter" and t.key in ("after", "before", "date"))
    if start:
        text = _append(text, f"after:{start.isoformat()}")
    if end:
        text = _append(text, f"before:{end.isoformat()}")
    return text


def _append(text: str, token: str) -> str:
    return f"{text.rstrip()} {token}" if text.strip() else token


__all__ = [
    "FILTER_KEYS",
    "FLAGS",
    "LABELS",
    "MAX_QUERY_LENGTH",
    "Query",
    "DATE_SORTS",
    "SORTS",
    "TYPE_EXTENSIONS",
    "Token",
    "add_filter",
    "lex",
    "parse_date_period",
    "parse_query",
    "quote_value",
    "remove_filter",
    "set_dates",
    "set_filter",
]

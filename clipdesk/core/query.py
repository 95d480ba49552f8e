"""The search language people type, and how its parts become one ranking.

Parsing (no model calls here)::

    dog on a beach                  one concept, embedded as one text
    beach + sunset                  two concepts, both wanted
    red car -night -"rainy street"  push away from "night" and "rainy street"
    "new york" skyline              quotes keep a phrase together
    folder:"Holidays 2023"          filters: folder, after, before, date, type,
    after:2023-07 before:2024       camera, tag (repeatable; -tag:x excludes),
    type:heic camera:pixel          similar:PATH (find photos like a file),
    tag:family -tag:"to delete"     sort:relevance|date|newest|oldest
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

Scoring: :func:`query_vector` turns embeddings of the positive and negative
parts into one query vector, and :func:`relevance_cut` decides how many of the
ranked results are relevant, from the query's own score distribution.
"""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass, field, fields
from datetime import date
from statistics import NormalDist

import numpy as np

from clipdesk.core.errors import QueryError
from clipdesk.core.vectors import BadRows, unit, unit_rows

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
SORTS = ("relevance", "newest", "oldest")
_SORT_ALIASES = {"relevance": "relevance", "date": "newest", "newest": "newest", "oldest": "oldest"}
FILTER_KEYS = ("folder", "after", "before", "date", "type", "camera", "tag", "similar", "sort")
_NEGATABLE = {"folder", "type", "camera", "tag", "similar"}
#: Longest query we parse; longer input is refused with a clear message.
MAX_QUERY_LENGTH = 2000

_DATE_RE = re.compile(r"^(\d{4})(?:[-/](\d{1,2})(?:[-/](\d{1,2}))?)?$")
_KEY_RE = re.compile(r"([A-Za-z]{2,12}):")


def _error(message: str, position: int, length: int = 1) -> QueryError:
    err = QueryError(f"{message} (at character {position + 1})")
    err.position = position  # type: ignore[attr-defined]
    err.length = max(1, length)  # type: ignore[attr-defined]
    return err


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
            getattr(self, f.name)
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
            ("tag", self.tags, False),
            ("tag", self.exclude_tags, True),
        ):
            parts += [f"{'-' if neg else ''}{key}:{_quote_value(v)}" for v in values]
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


# --------------------------------------------------------------------------- parser


@dataclass
class _Builder:
    concepts: list[list[str]] = field(default_factory=lambda: [[]])
    negatives: list[str] = field(default_factory=list)
    values: dict[str, list[str]] = field(default_factory=dict)
    date_from: date | None = None
    date_to: date | None = None
    date_from_pos: int = 0
    sort: str | None = None

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
    i = 0
    n = len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
            continue
        if c == "+":
            if b.concepts[-1]:
                b.concepts.append([])
            i += 1
            continue
        start = i
        negated = False
        if c == "-":
            if i + 1 >= n or text[i + 1].isspace():
                i += 1  # a dash on its own means nothing
                continue
            negated = True
            i += 1
        key_match = _KEY_RE.match(text, i)
        if key_match and key_match.group(1).lower() in FILTER_KEYS:
            key = key_match.group(1).lower()
            value, i = _read_value(text, key_match.end(), key, start)
            _apply_filter(b, key, value, negated, start, i)
            continue
        if key_match:
            _refuse_near_miss(key_match.group(1), text, i, key_match.end())
        if text[i] == '"':
            word, i = _read_quoted(text, i)
        else:
            j = i
            while j < n and not text[j].isspace():
                j += 1
            word, i = text[i:j], j
        word = _clean_text(word)
        if not word:
            continue
        if negated:
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


def _read_quoted(text: str, i: int) -> tuple[str, int]:
    """Read "..." starting at the opening quote; backslash escapes " and \\."""
    assert text[i] == '"'
    out: list[str] = []
    j = i + 1
    while j < len(text):
        ch = text[j]
        if ch == "\\" and j + 1 < len(text) and text[j + 1] in '"\\':
            out.append(text[j + 1])
            j += 2
            continue
        if ch == '"':
            return "".join(out), j + 1
        out.append(ch)
        j += 1
    raise _error('this quote is never closed; add a closing "', i, len(text) - i)


def _read_value(text: str, i: int, key: str, start: int) -> tuple[str, int]:
    if i < len(text) and text[i] == '"':
        value, end = _read_quoted(text, i)
    else:
        end = i
        while end < len(text) and not text[end].isspace():
            end += 1
        value = text[i:end]
    value = _clean_text(value) if key not in ("folder", "similar") else value.strip()
    if not value:
        raise _error(f"{key}: needs a value, for example {_EXAMPLES[key]}", start, end - start)
    return value, end


_EXAMPLES = {
    "folder": 'folder:"Holidays 2023"',
    "after": "after:2023-07",
    "before": "before:2023-07-14",
    "date": "date:2023",
    "type": "type:jpeg",
    "camera": "camera:pixel",
    "tag": 'tag:"family"',
    "similar": "similar:photo.jpg",
    "sort": "sort:date",
}


def _refuse_near_miss(word: str, text: str, start: int, end: int) -> None:
    low = word.lower()
    for key in FILTER_KEYS:
        if len(low) >= 3 and _edit_distance_at_most_one(low, key):
            raise _error(f"unknown filter '{word}:'; did you mean {key}:? (quote the text to search for it)", start, end - start)


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
            b.date_from, b.date_from_pos = lo, start
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
            raise _error(f"sort: expects relevance, date, newest or oldest, got '{value}'", start, span)
        if b.sort is not None and b.sort != sort:
            raise _error(f"sort: given twice ({b.sort} and {sort}); keep one", start, span)
        b.sort = sort
        return
    if key == "type":
        for part in value.split(","):
            canon = _TYPE_ALIASES.get(part.strip().lower().lstrip("."))
            if canon is None:
                known = ", ".join(TYPE_EXTENSIONS)
                raise _error(f"type: expects one of {known}, got '{part.strip()}'", start, span)
            b.add(("-" if negated else "") + key, canon)
        return
    b.add(("-" if negated else "") + key, value)


# --------------------------------------------------------------------------- scoring

#: Weight of the negatives in :func:`query_vector`. Ranking by
#: ``x . (p - w n)`` is ranking by ``score(x, p) - w * score(x, n)``: a photo
#: that matches a negative as well as it matches the positive ends up about
#: where an unrelated photo is with w = 0.5, without falling below every
#: unrelated photo (w = 1 does that; CLIP scores of unrelated text-image pairs
#: differ by only ~0.1, so larger weights make the negative dominate).
NEGATIVE_WEIGHT = 0.5


def query_vector(
    positives: np.ndarray | None,
    negatives: np.ndarray | None = None,
    *,
    negative_weight: float = NEGATIVE_WEIGHT,
) -> np.ndarray | None:
    """One unit query vector from the embeddings of the query's parts.

    * positives [P, D] (the "+"-separated concepts, and images from
      ``similar:``): the normalised mean of the unit rows. The score of a
      photo is then proportional to the *sum* of its scores against each
      concept, so "beach + sunset" favours photos that show both.
    * negatives [N, D]: their normalised mean ``n`` is subtracted with
      ``negative_weight``: q = normalise(p - w n). Linear in the scores, so
      predictable (see :data:`NEGATIVE_WEIGHT`).
    * negatives only: q = -n (rank by how little a photo looks like them).

    Image and text embeddings live at different distances from photos (the
    modality gap); pass them together only when that weighting is wanted.
    Returns None when there is nothing to rank by.
    """
    has_pos = positives is not None and np.size(positives) > 0
    has_neg = negatives is not None and np.size(negatives) > 0
    if not has_pos and not has_neg:
        return None
    if negative_weight < 0 or not math.isfinite(negative_weight):
        raise ValueError("negative_weight must be a finite number >= 0")
    neg = None
    if has_neg:
        neg = _mean_direction(negatives, "negatives", optional=True)
    if not has_pos:
        if neg is None:
            return None
        return (-neg).astype(np.float32)
    q = _mean_direction(positives, "positives")
    if neg is not None and negative_weight > 0:
        try:
            q = unit(q - negative_weight * neg)
        except BadRows:
            raise ValueError("the negatives cancel the positives out") from None
    return q.astype(np.float32)


def _mean_direction(x: np.ndarray, what: str, optional: bool = False) -> np.ndarray | None:
    """The unit mean of the unit rows of ``x``; when they cancel out, None
    (``optional``) or ValueError."""
    try:
        rows = unit_rows(x)
    except BadRows as exc:
        problem = "contain NaN, infinite or zero vectors" if exc.rows else "must be a [N, D] array"
        raise ValueError(f"{what} {problem}") from None
    try:
        return unit(rows.mean(axis=0))
    except BadRows:
        if optional:
            return None
        raise ValueError(f"the {what} cancel each other out") from None


@dataclass(frozen=True)
class RelevanceCut:
    """How many of the best-first results to show."""

    #: Results to keep (of the scores passed in, best first).
    keep: int
    #: Lowest kept score (-inf when keep is 0).
    threshold: float
    #: False when nothing stood out from the library: the kept results are
    #: only the closest matches (the UI can say so).
    confident: bool
    #: "gap", "mixture", "tail", "min_keep" or "empty": which rule decided.
    reason: str


#: A cluster must be separated from what follows by at least this many
#: background standard deviations...
GAP_SIGMA = 1.0
#: ...and by this many times the typical spacing of the next scores.
GAP_RATIO = 4.0
#: Floor of the tail threshold, in background standard deviations.
MIN_TAIL_Z = 2.5
#: Expected number of unrelated photos above the tail threshold in a library
#: of Gaussian scores: 0.1, so pure noise is kept (and called confident) in
#: about one query in ten, and then as one or two photos.
TAIL_FALSE_POSITIVES = 0.1
#: Two-Gaussian fits of the background count as "a relevant group exists"
#: only when clearly bimodal (Ashman's D) and the upper group is not tiny.
MIN_ASHMAN_D = 2.0
MIN_MIXTURE_WEIGHT = 0.01


def relevance_cut(
    scores: np.ndarray,
    background: np.ndarray | None = None,
    *,
    library_size: int | None = None,
    min_keep: int = 1,
) -> RelevanceCut:
    """Decide how many of the ranked ``scores`` are relevant to the query.

    ``scores``: the candidates' scores (any order; the cut applies to them
    sorted best first). ``background``: the query's scores against a random
    sample of the library (:meth:`VectorIndex.sample_scores`); without it the
    candidates themselves are the background (right for small libraries, where
    the candidates are every photo). ``library_size``: photos searched.

    The rules, in order:

    1. *Null model.* Most photos are unrelated to a query, so the background's
       median gives the unrelated photos' centre, and the larger of its MAD
       and its upper tail's width (97.5th percentile, capped at 1.5x the MAD)
       their spread - scores are often right-skewed and only the upper tail
       matters here. If the
       background is clearly two groups (a two-Gaussian fit with Ashman's
       D >= 2, a valley between its two modes, and an upper group of at least
       1%) - a concept that many photos
       show - the lower group is the null and the cut is where a score becomes
       more likely to belong to the upper group ("mixture").
    2. *Gap.* A group of results separated from everything below by a clear
       gap (>= 1 background sigma and >= 4x the spacing of the scores after
       it), sitting above the tail threshold, is kept whole and the noise
       below it dropped ("gap"). The lowest such gap wins, so two relevant
       tiers are both kept.
    3. *Tail.* Otherwise keep what lies above the score that unrelated
       photos reach by chance in a library of ``library_size`` (the normal
       quantile 1 - 0.1/N, at least 2.5 sigma) ("tail").
    4. *Split.* For small libraries (no background of 200 scores to fit), the
       best two-group split of the scores is kept when the groups are clearly
       apart (Ashman's D >= 3, the upper group at most half the photos).
    5. Never fewer than ``min_keep`` (then ``confident`` is False).
    """
    s = np.asarray(scores, dtype=np.float64).ravel()
    s = np.sort(s[np.isfinite(s)])[::-1]
    if len(s) == 0:
        return RelevanceCut(0, float("-inf"), False, "empty")
    bg = s if background is None else np.asarray(background, dtype=np.float64).ravel()
    bg = bg[np.isfinite(bg)]
    if len(bg) < 8:
        bg = s
    n_lib = max(int(library_size or 0), len(bg), len(s), 2)
    floor = min(max(int(min_keep), 0), len(s))

    mu = float(np.median(bg))
    # Spread: the larger of the MAD and the upper tail's width, because score
    # distributions are often right-skewed and only the upper tail matters here.
    # The tail's width counts at most 1.5x the MAD: in a small library a group
    # of relevant photos can make up the whole upper 2.5%.
    mad_sigma = 1.4826 * float(np.median(np.abs(bg - mu)))
    tail_sigma = (float(np.quantile(bg, 0.975)) - mu) / 1.959964
    sigma = max(mad_sigma, min(tail_sigma, 1.5 * mad_sigma))
    if sigma <= 0:
        sigma = float(np.std(bg))
    scale = max(abs(mu), float(np.max(np.abs(s))), 1e-12)
    sigma = max(sigma, scale * 1e-6)

    mixture_threshold = None
    if len(bg) >= 200:
        fit = _two_gaussians(bg)
        if fit is not None:
            (w1, m1, s1), (w2, m2, s2) = fit
            d = math.sqrt(2.0) * abs(m2 - m1) / math.sqrt(s1 * s1 + s2 * s2)
            if d >= MIN_ASHMAN_D and w2 >= MIN_MIXTURE_WEIGHT and _has_dip(w1, m1, s1, w2, m2, s2):
                mu, sigma = m1, max(s1, scale * 1e-6)
                mixture_threshold = _posterior_crossing(w1, m1, s1, w2, m2, s2)

    z = (s - mu) / sigma
    z_tail = max(MIN_TAIL_Z, NormalDist().inv_cdf(1.0 - TAIL_FALSE_POSITIVES / n_lib))
    z_floor = z_tail if mixture_threshold is None else min(z_tail, (mixture_threshold - mu) / sigma)

    keep, reason = 0, "tail"
    gaps = z[:-1] - z[1:]
    for i in range(len(gaps) - 1, -1, -1):
        if z[i] < z_floor or gaps[i] < GAP_SIGMA:
            continue
        after = gaps[i + 1 : i + 11]
        if len(after) >= 3 and gaps[i] < GAP_RATIO * max(float(np.median(after)), 1e-12):
            continue
        keep, reason = i + 1, "gap"
        break
    if reason != "gap":
        split = _clear_split(s) if len(bg) < 200 or background is None else None
        if mixture_threshold is not None:
            keep, reason = int((s >= mixture_threshold).sum()), "mixture"
        elif split is not None:
            keep, reason = split, "split"
        else:
            keep = int((z >= z_tail).sum())
    confident = keep > 0
    if keep < floor:
        keep, reason, confident = floor, "min_keep", False
    threshold = float(s[keep - 1]) if keep else float("-inf")
    return RelevanceCut(keep, threshold, confident, reason)


#: A small library splits into "shows it" and "does not" when the two groups
#: are at least this far apart (Ashman's D)...
MIN_SPLIT_D = 3.0
#: ...and the upper group is at most this share of the photos.
MAX_SPLIT_SHARE = 0.5


def _clear_split(s: np.ndarray) -> int | None:
    """For libraries too small for a background fit: the two-group split of the
    sorted (best first) scores with the widest separation (Ashman's D), kept
    when the groups are clearly apart. A concept can cover a large share of a
    small library (a fifth of the demo library is red), which hides it from
    the tail rule."""
    n = len(s)
    if n < 8:
        return None
    k = np.arange(1, int(n * MAX_SPLIT_SHARE) + 1)
    csum, csq = np.cumsum(s), np.cumsum(s * s)
    m1 = csum[k - 1] / k
    m2 = (csum[-1] - csum[k - 1]) / (n - k)
    v1 = np.maximum(csq[k - 1] / k - m1 * m1, 0.0)
    v2 = np.maximum((csq[-1] - csq[k - 1]) / (n - k) - m2 * m2, 0.0)
    floor = (max(float(np.max(np.abs(s))), 1e-12) * 1e-3) ** 2
    d = math.sqrt(2.0) * (m1 - m2) / np.sqrt(v1 + v2 + floor)
    best = int(np.argmax(d))
    return int(k[best]) if d[best] >= MIN_SPLIT_D else None


def _two_gaussians(x: np.ndarray, iterations: int = 50) -> tuple[tuple[float, float, float], tuple[float, float, float]] | None:
    """EM fit of two 1-D Gaussians: ((weight, mean, sd) low, (weight, mean, sd) high)."""
    total_var = float(np.var(x))
    var_floor = max(total_var * 1e-3, 1e-18)
    lo, hi = (float(v) for v in np.quantile(x, [0.4, 0.98]))
    if hi <= lo:
        return None
    m1, m2 = lo, hi
    v1 = v2 = total_var / 4 + var_floor
    w1, w2 = 0.9, 0.1
    n = len(x)
    for _ in range(iterations):
        # Responsibility of the upper component, computed as a logistic of the log-odds.
        log_odds = (
            math.log(w2 / w1)
            - 0.5 * math.log(v2 / v1)
            - 0.5 * (x - m2) ** 2 / v2
            + 0.5 * (x - m1) ** 2 / v1
        )
        r2 = 1.0 / (1.0 + np.exp(-np.clip(log_odds, -500, 500)))
        n2 = float(r2.sum())
        n1 = n - n2
        if n1 < 2 or n2 < 2:
            return None
        new_m1 = float(((1 - r2) * x).sum()) / n1
        new_m2 = float((r2 * x).sum()) / n2
        v1 = float(((1 - r2) * (x - new_m1) ** 2).sum()) / n1 + var_floor
        v2 = float((r2 * (x - new_m2) ** 2).sum()) / n2 + var_floor
        moved = abs(new_m1 - m1) + abs(new_m2 - m2)
        m1, m2, w1, w2 = new_m1, new_m2, n1 / n, n2 / n
        if moved < 1e-7 * math.sqrt(total_var + 1e-300):
            break
    if m1 > m2:
        (w1, m1, v1), (w2, m2, v2) = (w2, m2, v2), (w1, m1, v1)
    return (w1, m1, math.sqrt(v1)), (w2, m2, math.sqrt(v2))


def _has_dip(w1: float, m1: float, s1: float, w2: float, m2: float, s2: float) -> bool:
    """True when the fitted mixture has two modes with a clear valley between.

    A skewed but unimodal score distribution also fits two Gaussians with
    Ashman's D near 2; only a real valley means a separate group of photos.
    """
    grid = np.linspace(m1, m2 + s2, 801)
    pdf = w1 / s1 * np.exp(-0.5 * ((grid - m1) / s1) ** 2) + w2 / s2 * np.exp(-0.5 * ((grid - m2) / s2) ** 2)
    valley = int(np.argmin(pdf[: int(np.searchsorted(grid, m2)) + 1]))
    upper_peak = float(pdf[valley:].max())
    return valley > 0 and pdf[valley] < 0.8 * upper_peak


def _posterior_crossing(w1: float, m1: float, s1: float, w2: float, m2: float, s2: float) -> float:
    """Lowest score between the means where the upper group becomes the likelier one."""
    grid = np.linspace(m1, m2, 2001)

    def logpdf(x, w, m, s):
        return math.log(w) - math.log(s) - 0.5 * ((x - m) / s) ** 2

    upper_wins = logpdf(grid, w2, m2, s2) >= logpdf(grid, w1, m1, s1)
    idx = int(np.argmax(upper_wins)) if upper_wins.any() else len(grid) - 1
    return float(grid[idx])


__all__ = [
    "FILTER_KEYS",
    "NEGATIVE_WEIGHT",
    "Query",
    "RelevanceCut",
    "SORTS",
    "TYPE_EXTENSIONS",
    "parse_date_period",
    "parse_query",
    "query_vector",
    "relevance_cut",
]

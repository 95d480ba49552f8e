"""Edit the text of a query the way the filter chips do.

The chips never keep a second copy of the filters: they read them from the
query text (:func:`clipdesk.core.query.parse_query`) and change that text, so
what the user sees in the search bar is always the whole query and can be
edited by hand, saved, or pasted elsewhere.
"""

from __future__ import annotations

import re
from datetime import date

from clipdesk.core.errors import QueryError
from clipdesk.core.query import Query, parse_query

_VALUE = r'(?:"(?:[^"\\]|\\.)*"?|\S+)'


def _token_re(key: str, negated: bool | None = None) -> re.Pattern:
    sign = {None: "-?", True: "-", False: ""}[negated]
    return re.compile(rf'(?:(?<=\s)|^){sign}{key}:{_VALUE}', re.IGNORECASE)


def quote_value(value: str) -> str:
    if not value or any(c.isspace() or c in '"\\' for c in value) or value[0] in "-+":
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return value


def _tidy(text: str) -> str:
    return " ".join(text.split())


def remove_filter(text: str, key: str) -> str:
    """The text without any ``key:`` (or ``-key:``) filter."""
    return _tidy(_token_re(key).sub(" ", text))


def set_filter(text: str, key: str, value: str | None, *, negated: bool = False) -> str:
    """Replace every ``key:`` filter in ``text`` by one ``key:value`` (or remove it)."""
    text = remove_filter(text, key)
    if value is None or value == "":
        return text
    token = f"{'-' if negated else ''}{key}:{quote_value(value)}"
    return _tidy(f"{text} {token}")


def add_filter(text: str, key: str, value: str) -> str:
    """Add ``key:value`` unless the query already has it (tags combine with AND)."""
    token = f"{key}:{quote_value(value)}"
    if token.lower() in text.lower().split():
        return text
    return _tidy(f"{text} {token}")


def set_dates(text: str, start: date | None, end: date | None) -> str:
    """``after:start before:end`` (end exclusive), replacing any date filter."""
    for key in ("after", "before", "date"):
        text = remove_filter(text, key)
    if start:
        text = f"{text} after:{start.isoformat()}"
    if end:
        text = f"{text} before:{end.isoformat()}"
    return _tidy(text)


def parsed(text: str) -> Query | None:
    """The parsed query, or None while the text does not parse."""
    try:
        return parse_query(text)
    except QueryError:
        return None

"""Counts in words, the same in the CLI and the GUI: "1 photo", "1,234 photos",
never "photo(s)" nor "1 photos". Every count printed goes through here."""

from __future__ import annotations

__all__ = ["agree", "plural"]


def agree(n: int, one: str, many: str) -> str:
    """``one`` when ``n`` is 1, else ``many``: the word that agrees with a
    count ("is"/"are", "was"/"were")."""
    return one if n == 1 else many


def plural(n: int, word: str, many: str | None = None) -> str:
    """``n`` and ``word`` agreeing in number, with thousands separators;
    ``many`` for irregular plurals ("1 library", "2 libraries")."""
    return f"{n:,} {agree(n, word, many or word + 's')}"

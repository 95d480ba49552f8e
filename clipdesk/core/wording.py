"""Counts in words, the same in the CLI and the GUI: "1 photo", "1,234 photos",
never "photo(s)"."""

from __future__ import annotations

__all__ = ["plural"]


def plural(n: int, word: str, many: str | None = None) -> str:
    """``n`` and ``word`` agreeing in number, with thousands separators;
    ``many`` for irregular plurals ("1 library", "2 libraries")."""
    return f"{n:,} {word if n == 1 else (many or word + 's')}"

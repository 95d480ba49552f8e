"""How the window words a count ("1 photo", "2,000 photos")."""

from __future__ import annotations


def plural(n: int, word: str) -> str:
    return f"{n:,} {word}" + ("" if n == 1 else "s")

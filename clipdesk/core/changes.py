"""What an operation changed, so that views refresh from one announcement.

Every core operation that changes the library returns a :class:`Changes`
(after Anki's ``OpChanges``); the GUI hands it to one place that refreshes the
views that care, instead of refresh calls sprinkled through the window.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

__all__ = ["Changes", "SidecarFailure"]


@dataclass(frozen=True)
class SidecarFailure:
    """A sidecar that could not be written or read, and why (shown to the user)."""

    path: str
    reason: str


@dataclass(frozen=True)
class Changes:
    """What changed. Sets are photo ids; flags say which lists must be re-read."""

    #: Photos whose own data changed (tags, status, metadata).
    photos: frozenset[int] = field(default_factory=frozenset)
    #: Photos that left the library.
    removed: frozenset[int] = field(default_factory=frozenset)
    #: The tag list or tag counts changed.
    tags: bool = False
    #: Library folders (roots, exclusions, their state) changed.
    folders: bool = False
    #: Saved searches changed.
    saved_searches: bool = False
    #: The model searches use changed.
    model: bool = False
    #: Photos were added or their files changed (an indexing run's work).
    catalog: bool = False
    #: Sidecars that could not be written.
    sidecar_failures: tuple[SidecarFailure, ...] = ()

    def __or__(self, other: "Changes") -> "Changes":
        merged = {}
        for f in fields(self):
            a, b = getattr(self, f.name), getattr(other, f.name)
            merged[f.name] = a | b if isinstance(a, (frozenset, bool)) else a + b
        return Changes(**merged)

    def __bool__(self) -> bool:
        return any(getattr(self, f.name) for f in fields(self))

    @classmethod
    def of_photos(cls, ids, **flags) -> "Changes":
        return cls(photos=frozenset(int(i) for i in ids), **flags)

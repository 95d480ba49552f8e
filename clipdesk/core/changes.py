"""What an operation changed, so that views refresh from one announcement,
and how to take it back.

Every core operation that changes the library returns a :class:`Changes`
(after Anki's ``OpChanges``); the GUI hands it to one place that refreshes the
views that care, instead of refresh calls sprinkled through the window.

A user's edit also carries its inverse (:attr:`Changes.undo`): an
:class:`UndoStep` that performs the inverse through the same services (so
sidecars follow) and returns *its* Changes, whose ``undo`` is the redo. The
core keeps no history; the GUI keeps the stack.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Callable

__all__ = ["Changes", "SidecarFailure", "UndoStep"]


@dataclass(frozen=True)
class SidecarFailure:
    """A sidecar that could not be written or read, and why (shown to the user)."""

    path: str
    reason: str


@dataclass(frozen=True)
class UndoStep:
    """The inverse of one user edit. ``label`` names the edit for the Edit menu
    ("Add tag 'beach' to 3 photos"); ``run()`` performs the inverse (on a
    worker thread) and returns its Changes, whose ``undo`` redoes the edit.
    ``done`` says the same edit as done, for the status bar ("Labelled 1
    photo red" beside the menu's "Label 1 photo red"); empty where the
    operation's caller says it in words of its own."""

    label: str
    run: Callable[[], "Changes"]
    done: str = ""

    def then(self, other: "UndoStep") -> "UndoStep":
        """One step that takes back ``other`` and then this one (edits done
        in the order this, other)."""

        def run() -> Changes:
            first = other.run()
            second = self.run()
            redo = None
            if first.undo is not None and second.undo is not None:
                redo = second.undo.then(first.undo)
            return Changes(**{**(first | second).__dict__, "undo": redo})

        return UndoStep(self.label, run)


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
    #: How to take the edit back (None for what is not the user's edit, such as indexing).
    undo: UndoStep | None = None

    def __or__(self, other: "Changes") -> "Changes":
        """Both changes; the undo takes back ``other`` first, then this."""
        merged = {}
        for f in fields(self):
            a, b = getattr(self, f.name), getattr(other, f.name)
            if f.name == "undo":
                merged[f.name] = a.then(b) if a is not None and b is not None else (a or b)
            else:
                merged[f.name] = a | b if isinstance(a, (frozenset, bool)) else a + b
        return Changes(**merged)

    def __bool__(self) -> bool:
        return any(getattr(self, f.name) for f in fields(self) if f.name != "undo")

    def labelled(self, label: str) -> "Changes":
        """The same changes, their undo step named ``label``."""
        if self.undo is None:
            return self
        return Changes(**{**self.__dict__, "undo": UndoStep(label, self.undo.run)})

    @classmethod
    def of_photos(cls, ids, **flags) -> "Changes":
        return cls(photos=frozenset(int(i) for i in ids), **flags)

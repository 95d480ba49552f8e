"""Typed errors of the core. Each carries a message meant for the user.

The CLI prints ``str(error)`` on one line and exits with ``error.exit_code``;
the GUI shows the same text. Nothing in core calls ``sys.exit`` or prints.
"""

from __future__ import annotations


class ClipDeskError(Exception):
    """Base class: a failure with a clear, user-facing message."""

    exit_code = 1


class UsageError(ClipDeskError):
    """The user asked for something that cannot be done as asked."""

    exit_code = 2


class CatalogLocked(ClipDeskError):
    """Another ClipDesk process holds the catalog."""

    exit_code = 3


class NotFound(ClipDeskError):
    """A path, folder, tag or model the user named does not exist."""

    exit_code = 4


class CatalogError(ClipDeskError):
    """The catalog cannot be opened or migrated."""

    exit_code = 5


class DecodeError(ClipDeskError):
    """A photo could not be read. The message is the recorded reason."""


class ModelError(ClipDeskError):
    """A model bundle is missing, corrupt, tampered with or cannot run."""

    exit_code = 6


class InvalidEmbedding(ModelError):
    """A model produced non-finite or zero-norm embeddings for some inputs: those
    inputs' fault (``rows``, 0-based), not the model's."""

    def __init__(self, message: str, rows):
        super().__init__(message)
        self.rows = list(rows)


class QueryError(UsageError):
    """A search query could not be parsed; the message says why in words.

    ``position``/``length``: where in the text (0-based, -1 when not known),
    for the search bar to underline. ``incomplete``: the text stops in the
    middle of a filter that more typing can finish (``tag:``, ``after:20``, an
    open quote): a search bar keeps the last results instead of showing an
    error while the user types."""

    def __init__(self, message: str, position: int = -1, length: int = 1, *, incomplete: bool = False):
        super().__init__(message)
        self.position = position
        self.length = max(1, length)
        self.incomplete = incomplete

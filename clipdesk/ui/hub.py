"""Changes announce themselves: the one way a change to the library reaches the views.

After Anki's operations (``qt/aqt/operations``): every operation that changes
the library returns a :class:`~clipdesk.core.changes.Changes`;
:meth:`ChangeHub.write` runs the operation on the writes pool and, back on the
GUI thread, announces what it changed. Every view and controller subscribes to
:attr:`ChangeHub.changed` and refreshes what it shows from that (the grid
drops removed photos, the sidebar re-reads tags and folders, the search runs
again...): nobody calls another view's refresh. Indexing runs announce
``Changes(catalog=True)`` the same way.
"""

from __future__ import annotations

import logging
import os
from typing import Any, Callable

import shiboken6
from PySide6.QtCore import QObject, Signal

from clipdesk.core.changes import Changes
from clipdesk.ui.workers import Pools

log = logging.getLogger(__name__)


class ChangeHub(QObject):
    """Announces what each operation changed; views subscribe to ``changed``."""

    changed = Signal(object)  # Changes

    def __init__(self, pools: Pools, parent: QObject | None = None):
        super().__init__(parent)
        self.pools = pools
        self._closed = False

    def announce(self, changes: Changes) -> None:
        """Tell every subscriber what changed (nothing when nothing did, or once closed)."""
        if changes and not self._closed:
            self.changed.emit(changes)

    def write(
        self,
        fn: Callable[[], Any],
        on_done: Callable[[Any], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
        *,
        owner: QObject | None = None,
        changes: Callable[[Any], Changes] | None = None,
    ) -> None:
        """Run the operation ``fn()`` on the writes pool, after every write asked
        for before it. Then, on the GUI thread, announce what it changed
        (``changes(result)``; by default the result is the Changes) and call
        ``on_done(result)``; or ``on_error(exc)``. The announcement is made even
        when ``owner`` (who asked) is gone: the change happened all the same;
        the callbacks are not."""

        def done(result: Any) -> None:
            self.announce(result if changes is None else changes(result))
            if on_done is not None and _alive(owner):
                on_done(result)

        def failed(exc: BaseException) -> None:
            if on_error is None:
                log.error("a library operation failed", exc_info=exc)
            elif _alive(owner):
                on_error(exc)

        self.pools.run(self.pools.writes, fn, done, failed, owner=self)

    def close(self) -> None:
        """Announce nothing more (the window is closing)."""
        self._closed = True


def _alive(owner: QObject | None) -> bool:
    return owner is None or shiboken6.isValid(owner)


def sidecar_notice(changes: Changes) -> str | None:
    """One line about the sidecars a change could not write, or None."""
    if not changes.sidecar_failures:
        return None
    first = changes.sidecar_failures[0]
    more = len(changes.sidecar_failures) - 1
    return (f"Could not write the sidecar of {os.path.basename(first.path)}: {first.reason}"
            + (f" (and {more} more)" if more else ""))

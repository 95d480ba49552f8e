"""Work-arounds for bugs in the Qt bindings, applied once when the UI is imported.

PySide6 6.12.0 on Python 3.11 drops one reference to ``None`` every time a
C++ method that returns nothing is called (``setText``, ``drawPixmap``,
``processEvents``...). Python 3.12 made ``None`` immortal, so the bug is
invisible there; on 3.11 ``None``'s reference count runs down to zero within
minutes of painting and the interpreter aborts ("deallocating None"). PySide6
6.11 does not have the bug.

:func:`keep_none_alive` checks whether the installed bindings have it and, if
so, gives ``None`` the practically endless reference count that Python 3.12
gives it anyway.
"""

from __future__ import annotations

import logging
import sys

log = logging.getLogger(__name__)

#: What Python 3.12+ effectively does: a count no program can run down.
_CUSHION = 1 << 40


def pyside_drops_none() -> bool:
    """True when calling a void method of the bindings loses a reference to None."""
    from PySide6.QtCore import QObject

    probe = QObject()
    before = sys.getrefcount(None)
    for _ in range(16):
        probe.setObjectName("probe")
    return sys.getrefcount(None) <= before - 8


def keep_none_alive() -> None:
    """Apply the work-around when needed."""
    # (ctypes and platform are not imported unless needed: this runs before
    # the window's first paint.)
    if sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return
    if not pyside_drops_none():
        return
    import ctypes

    before = sys.getrefcount(None)
    refcnt = ctypes.c_ssize_t.from_address(id(None))  # ob_refcnt: the first field of every object
    refcnt.value += _CUSHION
    if abs(sys.getrefcount(None) - before - _CUSHION) > 1000:  # not the layout we expected: undo
        refcnt.value -= _CUSHION
        log.warning("PySide6 loses references to None and the work-around could not be applied")
        return
    import PySide6

    log.info("PySide6 %s loses a reference to None per call on Python %s; None made immortal",
             PySide6.__version__, "%d.%d.%d" % sys.version_info[:3])

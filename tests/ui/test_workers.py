"""The worker layer: results on the GUI thread, nothing for whoever stopped waiting; its synchronous stand-in."""

from __future__ import annotations

import threading

from PySide6.QtCore import QObject
from syncpools import SyncPools

from clipdesk.ui.workers import CancelToken, Pools


def test_results_come_back_on_the_gui_thread(qtbot):
    pools = Pools()
    gui = threading.get_ident()
    seen = []
    pools.run(pools.general, lambda: threading.get_ident(), lambda worker: seen.append((worker, threading.get_ident())))
    qtbot.waitUntil(lambda: bool(seen), timeout=5000)
    worker, delivered_on = seen[0]
    assert worker != gui and delivered_on == gui
    errors = []
    pools.run(pools.general, lambda: 1 / 0, lambda _: None, errors.append)
    qtbot.waitUntil(lambda: bool(errors), timeout=5000)
    assert isinstance(errors[0], ZeroDivisionError)
    pools.shutdown()


def test_nothing_is_delivered_to_a_deleted_owner_or_after_cancel(qtbot):
    pools = Pools()
    release = threading.Event()
    got = []
    owner = QObject()
    pools.run(pools.general, release.wait, got.append, owner=owner)
    token = CancelToken()
    pools.run(pools.general, release.wait, got.append, token=token)
    owner.deleteLater()
    qtbot.waitUntil(lambda: not _alive(owner), timeout=5000)
    token.cancel()
    release.set()
    assert pools.wait(5000)
    marker = []
    pools.run(pools.general, lambda: "after", marker.append)
    qtbot.waitUntil(lambda: marker == ["after"], timeout=5000)
    assert got == []
    pools.shutdown()


def _alive(obj) -> bool:
    import shiboken6

    return shiboken6.isValid(obj)


def test_the_synchronous_pools_deliver_at_once_by_the_same_rules(qtbot):
    import shiboken6

    pools = SyncPools()
    got, errors, ran = [], [], []
    pools.run(pools.general, lambda: 2, got.append)
    pools.run(pools.writes, lambda: 1 / 0, got.append, errors.append)
    assert got == [2] and isinstance(errors[0], ZeroDivisionError)
    cancelled = CancelToken()
    cancelled.cancel()
    pools.run(pools.general, lambda: ran.append("cancelled"), got.append, token=cancelled)
    assert ran == []  # a cancelled request never starts
    gone = QObject()
    shiboken6.delete(gone)
    pools.run(pools.general, lambda: ran.append("owner gone") or 3, got.append, owner=gone)
    late = CancelToken()
    pools.run(pools.interactive, lambda: late.cancel() or 4, got.append, token=late)
    assert ran == ["owner gone"] and got == [2]  # it ran, but nobody wanted the result
    assert pools.shutdown(1000)

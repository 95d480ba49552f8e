"""The change hub: what an operation changed is announced once, to every view that listens."""

from __future__ import annotations

import shiboken6
from PySide6.QtCore import QObject
from syncpools import SyncPools

from clipdesk.core.changes import Changes, SidecarFailure
from clipdesk.ui.hub import ChangeHub, sidecar_notice


def test_a_write_announces_its_changes_before_its_callback(qtbot):
    hub = ChangeHub(SyncPools())
    heard = []
    hub.changed.connect(lambda changes: heard.append(("announced", changes)))
    hub.write(lambda: Changes(tags=True), lambda result: heard.append(("done", result)))
    assert heard == [("announced", Changes(tags=True)), ("done", Changes(tags=True))]


def test_what_a_result_changed_is_taken_from_it_and_nothing_is_not_announced(qtbot):
    hub = ChangeHub(SyncPools())
    heard, done = [], []
    hub.changed.connect(heard.append)
    hub.write(lambda: ("notes", Changes(folders=True)), done.append, changes=lambda value: value[1])
    hub.write(lambda: Changes(), done.append)
    assert heard == [Changes(folders=True)]
    assert done == [("notes", Changes(folders=True)), Changes()]


def test_a_change_is_announced_even_when_whoever_asked_is_gone(qtbot):
    hub = ChangeHub(SyncPools())
    heard, done = [], []
    hub.changed.connect(heard.append)
    gone = QObject()
    shiboken6.delete(gone)
    hub.write(lambda: Changes(removed=frozenset({3})), done.append, owner=gone)
    assert heard == [Changes(removed=frozenset({3}))] and done == []


def test_failures_go_to_the_caller_and_change_nothing(qtbot):
    hub = ChangeHub(SyncPools())
    heard, errors = [], []
    hub.changed.connect(heard.append)
    hub.write(lambda: 1 / 0, heard.append, errors.append)
    assert heard == [] and isinstance(errors[0], ZeroDivisionError)


def test_a_closed_hub_announces_nothing(qtbot):
    hub = ChangeHub(SyncPools())
    heard = []
    hub.changed.connect(heard.append)
    hub.close()
    hub.announce(Changes(catalog=True))
    assert heard == []


def test_sidecars_that_could_not_be_written_are_said_in_one_line():
    failures = (SidecarFailure("/photos/a.jpg", "read-only"), SidecarFailure("/photos/b.jpg", "read-only"))
    assert sidecar_notice(Changes(tags=True)) is None
    assert sidecar_notice(Changes(sidecar_failures=failures)) == (
        "Could not write the sidecar of a.jpg: read-only (and 1 more)")

"""Settings, query-text editing and the worker layer, without a window."""

from __future__ import annotations

import json
import threading

import pytest
from PySide6.QtCore import QObject
from syncpools import SyncPools

from clipdesk.ui.settings import OPTIONS, Settings
from clipdesk.ui.workers import CancelToken, Pools


def test_settings_have_defaults_types_and_survive_a_round_trip(tmp_path):
    path = tmp_path / "settings.json"
    s = Settings.load(path)
    assert s.thumb_size == 160 and s.theme == "system" and s.write_sidecars is False
    s.thumb_size = 200
    s.theme = "dark"
    s.save()
    again = Settings.load(path)
    assert (again.thumb_size, again.theme) == (200, "dark")
    assert json.loads(path.read_text())["version"] == 1
    assert len({o.name for o in OPTIONS}) == len(OPTIONS)


def test_bad_values_are_refused_when_set_and_ignored_when_read(tmp_path):
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"thumb_size": "huge", "theme": "purple", "show_names": False,
                                "from_a_newer_version": [1, 2]}))
    s = Settings.load(path)
    assert s.thumb_size == 160 and s.theme == "system" and s.show_names is False
    with pytest.raises(ValueError):
        s.thumb_size = 5000
    with pytest.raises(ValueError):
        s.write_sidecars = "yes"
    with pytest.raises(AttributeError):
        s.no_such_setting = 1
    s.save()
    assert json.loads(path.read_text())["from_a_newer_version"] == [1, 2]


def test_a_damaged_settings_file_gives_defaults(tmp_path):
    path = tmp_path / "settings.json"
    path.write_text("{not json")
    assert Settings.load(path).thumb_size == 160


def test_listeners_hear_changes_only(tmp_path):
    s = Settings(tmp_path / "s.json")
    heard = []
    s.on_change(lambda name, value: heard.append((name, value)))
    s.theme = "light"
    s.theme = "light"
    assert heard == [("theme", "light")]


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

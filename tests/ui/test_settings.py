"""Settings: declared once with type and default, saved as JSON, damaged files survived."""

from __future__ import annotations

import json

import pytest

from clipdesk.ui.settings import OPTIONS, Settings


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

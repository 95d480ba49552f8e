"""Preferences (issue 19): one declaration drives the dialog, the JSON file and
the defaults; a change takes effect at once."""

from __future__ import annotations

import json

from PySide6.QtWidgets import QCheckBox, QComboBox, QDialogButtonBox, QGroupBox, QLabel, QSpinBox

from clipdesk.ui.settings import GROUPS, OPTIONS


def _menu_action(window, menu_title: str, text: str):
    menu = next(a.menu() for a in window.menuBar().actions() if a.text().replace("&", "") == menu_title)
    return next(a for a in menu.actions() if a.text().replace("&", "") == text)


def test_every_declared_setting_is_in_the_dialog_grouped_with_its_description(open_window, indexed):
    window = open_window(indexed)
    _menu_action(window, "Edit", "Preferences…").trigger()
    dialog = window.open_preferences()
    assert dialog.isVisible()
    for option in OPTIONS:
        row = dialog.editors.get(option.name) or dialog.kept.get(option.name)
        assert row is not None, option.name
        assert option.kept == (option.name in dialog.kept)
        about = dialog.findChild(QLabel, f"about_{option.name}")
        assert about.text().startswith(option.doc)
        box = next(w for w in [row.parent()] + [row.parent().parent()] if isinstance(w, QGroupBox))
        assert box.title() == option.group
    assert [b.title() for b in dialog.findChildren(QGroupBox)] == list(GROUPS)
    assert "next time ClipDesk starts" in dialog.findChild(QLabel, "about_device").text()
    style = dialog.editors["sidecar_style"]
    assert isinstance(style, QComboBox) and [style.itemText(i) for i in range(style.count())] == [
        "photo.jpg.xmp", "photo.xmp"]
    assert isinstance(dialog.editors["write_sidecars"], QCheckBox)
    limit = dialog.editors["result_limit"]
    assert isinstance(limit, QSpinBox) and (limit.minimum(), limit.maximum()) == (24, 100000)


def test_ok_applies_the_changes_at_once_and_saves_them(open_window, indexed, settings):
    window = open_window(indexed)
    dialog = window.open_preferences()
    dialog.editors["thumb_size"].setValue(200)
    dialog.editors["write_sidecars"].setChecked(True)
    style = dialog.editors["sidecar_style"]
    style.setCurrentIndex(style.findData("stem"))
    names = dialog.editors["show_names"]
    names.setChecked(False)
    dialog.editors["result_limit"].setValue(48)
    assert set(dialog.changed()) == {"thumb_size", "write_sidecars", "sidecar_style", "show_names", "result_limit"}
    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    assert not dialog.isVisible()
    assert window.grid.delegate.size == 200 and window.size_slider.value() == 200
    assert window.library.tags.write_sidecars is True and window.library.tags.sidecar_style == "stem"
    assert not window.grid.delegate.show_names and not window.names_action.isChecked()
    assert window.search_ctl.limit == 48
    window.shutdown()
    saved = json.loads(settings.path.read_text())
    assert (saved["thumb_size"], saved["sidecar_style"], saved["write_sidecars"], saved["result_limit"]) == (
        200, "stem", True, 48)


def test_cancel_changes_nothing_and_restore_defaults_resets_the_editors(open_window, indexed):
    window = open_window(indexed)
    window.settings.theme = "light"
    dialog = window.open_preferences()
    assert dialog.editors["theme"].currentData() == "light"
    dialog.editors["thumb_size"].setValue(96)
    dialog.buttons.button(QDialogButtonBox.StandardButton.Cancel).click()
    assert window.settings.thumb_size == 160
    dialog = window.open_preferences()
    assert dialog.editors["thumb_size"].value() == 160  # shows the settings again, not the cancelled edit
    dialog.buttons.button(QDialogButtonBox.StandardButton.RestoreDefaults).click()
    assert dialog.values() == {o.name: o.default for o in OPTIONS if not o.kept}
    dialog.accept()
    assert window.settings.theme == "system"
    checked = [a.data() for a in window.theme_actions.actions() if a.isChecked()]
    assert checked == ["system"]

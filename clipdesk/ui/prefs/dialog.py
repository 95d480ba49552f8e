"""The Preferences dialog, made from the settings' declarations.

Each :class:`~clipdesk.ui.settings.Option` gives its row: the editor follows
its type (a check box for a flag, a list for choices, a number box within its
bounds, a text field), its ``label`` names it, its ``doc`` is written under
it, its ``group`` is its section. Nothing about a setting is written here, so
a setting declared once appears in the JSON file, takes its default and shows
in this dialog. Options ClipDesk keeps by itself (``kept``: window places,
the last folder) are shown without an editor. OK sets what changed; the
settings' listeners make each change take effect (:func:`follow_settings`).
"""

from __future__ import annotations

import logging
from typing import Any, Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QDialog, QDialogButtonBox, QFormLayout, QGroupBox, QLabel, QLineEdit, QMessageBox,
    QScrollArea, QSpinBox, QVBoxLayout, QWidget,
)

from clipdesk.ui import theme
from clipdesk.ui.fitting import fit_over
from clipdesk.ui.settings import GROUPS, OPTIONS, Option, Settings

log = logging.getLogger(__name__)


class PreferencesDialog(QDialog):
    """Every setting, grouped, with its description. ``editors`` maps each
    editable option's name to its widget (tests and the window use it)."""

    def __init__(self, settings: Settings, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("preferencesDialog")
        self.setWindowTitle("Preferences")
        self.settings = settings
        self.editors: dict[str, QWidget] = {}
        #: The read-only rows of what ClipDesk remembers by itself.
        self.kept: dict[str, QLabel] = {}
        body = QWidget(self)
        column = QVBoxLayout(body)
        for group in GROUPS:
            box = QGroupBox(group, body)
            box.setObjectName(f"prefs_{group}")
            form = QFormLayout(box)
            form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
            for option in (o for o in OPTIONS if o.group == group):
                form.addRow(option.label or option.name, self._row(option, box))
            column.addWidget(box)
        column.addStretch(1)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setWidget(body)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
                                   | QDialogButtonBox.StandardButton.RestoreDefaults, self)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        buttons.button(QDialogButtonBox.StandardButton.RestoreDefaults).clicked.connect(self.restore_defaults)
        self.buttons = buttons
        lay = QVBoxLayout(self)
        lay.addWidget(scroll, 1)
        lay.addWidget(buttons)
        fit_over(self, 620, 640)
        self.load()

    # -- rows ------------------------------------------------------------------------
    def _row(self, option: Option, parent: QWidget) -> QWidget:
        cell = QWidget(parent)
        v = QVBoxLayout(cell)
        v.setContentsMargins(0, 0, 0, 6)
        v.setSpacing(2)
        if option.kept:
            shown = QLabel(cell)
            shown.setObjectName(f"kept_{option.name}")
            shown.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.kept[option.name] = shown
            v.addWidget(shown)
        else:
            editor = _editor(option, cell)
            editor.setObjectName(f"pref_{option.name}")
            editor.setToolTip(option.doc)
            self.editors[option.name] = editor
            v.addWidget(editor)
        note = option.doc + (" (takes effect the next time ClipDesk starts)" if option.restart else "")
        about = QLabel(note, cell)
        about.setObjectName(f"about_{option.name}")
        about.setWordWrap(True)
        theme.set_tint(about, "secondary")
        v.addWidget(about)
        return cell

    # -- values ----------------------------------------------------------------------
    def load(self) -> None:
        """Show the settings' current values."""
        for option in OPTIONS:
            value = getattr(self.settings, option.name)
            if option.kept:
                self.kept[option.name].setText(_kept_text(option, value))
            else:
                _set(self.editors[option.name], option, value)

    def restore_defaults(self) -> None:
        """Every editor back to its default (kept on OK)."""
        for option in OPTIONS:
            if not option.kept:
                _set(self.editors[option.name], option, option.default)

    def values(self) -> dict[str, Any]:
        """The editors' values, by setting name."""
        return {name: _get(editor, _BY_NAME[name]) for name, editor in self.editors.items()}

    def changed(self) -> dict[str, Any]:
        """The values that differ from the settings now."""
        return {k: v for k, v in self.values().items() if getattr(self.settings, k) != v}

    def accept(self) -> None:
        """Set what changed; a value the settings refuse leaves the dialog open and says why."""
        try:
            for option in OPTIONS:  # validate all first: nothing is half-applied
                if option.name in self.editors:
                    option.check(_get(self.editors[option.name], option))
        except ValueError as exc:
            QMessageBox.warning(self, "Preferences", str(exc))
            return
        for name, value in self.changed().items():
            setattr(self.settings, name, value)
        super().accept()


_BY_NAME = {o.name: o for o in OPTIONS}


def _editor(option: Option, parent: QWidget) -> QWidget:
    if option.type is bool:
        return QCheckBox(parent)  # the row's label names it
    if option.choices is not None:
        combo = QComboBox(parent)
        for choice in option.choices:
            combo.addItem(option.choice_label(choice), choice)
        return combo
    if option.type is int:
        spin = QSpinBox(parent)
        spin.setRange(option.minimum if option.minimum is not None else -(1 << 30),
                      option.maximum if option.maximum is not None else 1 << 30)
        spin.setGroupSeparatorShown(True)
        return spin
    return QLineEdit(parent)


def _set(editor: QWidget, option: Option, value: Any) -> None:
    if isinstance(editor, QCheckBox):
        editor.setChecked(bool(value))
    elif isinstance(editor, QComboBox):
        editor.setCurrentIndex(max(0, editor.findData(value)))
    elif isinstance(editor, QSpinBox):
        editor.setValue(int(value))
    else:
        editor.setText(str(value))


def _get(editor: QWidget, option: Option) -> Any:
    if isinstance(editor, QCheckBox):
        return editor.isChecked()
    if isinstance(editor, QComboBox):
        return editor.currentData()
    if isinstance(editor, QSpinBox):
        return editor.value()
    return option.type(editor.text())


def _kept_text(option: Option, value: Any) -> str:
    if not value:
        return "nothing yet"
    if option.name.startswith("window_"):
        return "remembered (restored when ClipDesk starts)"
    return str(value)


def follow_settings(settings: Settings, effects: dict[str, Callable[[Any], None]]) -> None:
    """Make each setting take effect when it changes (from Preferences or
    anywhere else): ``effects[name](value)`` after every change of ``name``."""
    settings.on_change(lambda name, value: name in effects and effects[name](value))

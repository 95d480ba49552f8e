"""Light and dark colours that follow the system, or the user's choice.

Qt 6.5+ reports the system's scheme (``QStyleHints.colorScheme``) and tells
when it changes. The Fusion style is used everywhere so both palettes look the
same on every platform; the dark palette is spelled out here because not every
platform theme (or the offscreen platform of the tests) provides one.

Colours the palette has no role for (an error's red) are *tints*: one per
theme, each readable on that theme's window colour (WCAG AA, 4.5:1), given to
a widget with :func:`set_tint` and given again whenever the theme changes. A
style sheet is not used for this: it fixes a widget's palette when it is
applied, so text set up in the light theme stayed dark in the dark one.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QWidget

ACCENT = QColor(0x2F, 0x7F, 0xE0)

#: Text colours for what the palette has no role for: (light theme, dark theme).
TINTS = {
    "error": (QColor(0xB0, 0x1E, 0x1E), QColor(0xFF, 0x8A, 0x80)),
    "warning": (QColor(0x80, 0x55, 0x00), QColor(0xF0, 0xC0, 0x60)),
    # Quieter text that is still to be read (a setting's description, and as
    # the palette's PlaceholderText what the views paint quietly: a month's
    # count, "Select a photo…"): not the disabled colour, which contrasts
    # 1.6:1 in the light theme, nor Qt's half-transparent text (3.9:1).
    "secondary": (QColor(0x5C, 0x5C, 0x5C), QColor(0xA8, 0xA8, 0xAC)),
}
_TINT = "clipdesk_tint"


def system_is_dark(app: QGuiApplication) -> bool:
    return app.styleHints().colorScheme() == Qt.ColorScheme.Dark


def wants_dark(app: QGuiApplication, choice: str) -> bool:
    if choice == "dark":
        return True
    if choice == "light":
        return False
    return system_is_dark(app)


def dark_palette() -> QPalette:
    p = QPalette()
    window, base, text = QColor(0x2B, 0x2B, 0x2E), QColor(0x1F, 0x1F, 0x22), QColor(0xE6, 0xE6, 0xE6)
    disabled = QColor(0x80, 0x80, 0x80)
    for role, color in (
        (QPalette.ColorRole.Window, window),
        (QPalette.ColorRole.WindowText, text),
        (QPalette.ColorRole.Base, base),
        (QPalette.ColorRole.AlternateBase, QColor(0x26, 0x26, 0x2A)),
        (QPalette.ColorRole.ToolTipBase, QColor(0x3A, 0x3A, 0x3E)),
        (QPalette.ColorRole.ToolTipText, text),
        (QPalette.ColorRole.PlaceholderText, TINTS["secondary"][1]),
        (QPalette.ColorRole.Text, text),
        (QPalette.ColorRole.Button, QColor(0x35, 0x35, 0x39)),
        (QPalette.ColorRole.ButtonText, text),
        (QPalette.ColorRole.BrightText, QColor(0xFF, 0x60, 0x60)),
        (QPalette.ColorRole.Light, QColor(0x45, 0x45, 0x4A)),
        (QPalette.ColorRole.Midlight, QColor(0x3A, 0x3A, 0x3F)),
        (QPalette.ColorRole.Mid, QColor(0x30, 0x30, 0x34)),
        (QPalette.ColorRole.Dark, QColor(0x18, 0x18, 0x1A)),
        (QPalette.ColorRole.Shadow, QColor(0x0C, 0x0C, 0x0D)),
        (QPalette.ColorRole.Highlight, ACCENT),
        (QPalette.ColorRole.HighlightedText, QColor(0xFF, 0xFF, 0xFF)),
        (QPalette.ColorRole.Link, QColor(0x6C, 0xAE, 0xFF)),
        (QPalette.ColorRole.LinkVisited, QColor(0xB0, 0x8C, 0xFF)),
    ):
        p.setColor(role, color)
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText, QPalette.ColorRole.WindowText):
        p.setColor(QPalette.ColorGroup.Disabled, role, disabled)
    return p


def light_palette(app: QApplication) -> QPalette:
    p = app.style().standardPalette()
    p.setColor(QPalette.ColorRole.Highlight, ACCENT)
    p.setColor(QPalette.ColorRole.HighlightedText, QColor(0xFF, 0xFF, 0xFF))
    p.setColor(QPalette.ColorRole.PlaceholderText, TINTS["secondary"][0])
    return p


def apply(app: QApplication, choice: str) -> None:
    """Set the palette for ``choice`` ("system", "light", "dark")."""
    if app.style().name().lower() != "fusion":
        app.setStyle("Fusion")
    dark = wants_dark(app, choice)
    app.setPalette(dark_palette() if dark else light_palette(app))
    app.setProperty("clipdesk_dark", dark)
    for widget in QApplication.allWidgets():
        if widget.property(_TINT) is not None:
            _apply_tint(widget)


def is_dark(app: QApplication | None = None) -> bool:
    app = app or QApplication.instance()
    return bool(app and app.property("clipdesk_dark"))


def tint(name: str) -> QColor:
    """The colour of the tint ``name`` in the current theme."""
    light, dark = TINTS[name]
    return QColor(dark if is_dark() else light)


def set_tint(widget: QWidget, name: str | None) -> None:
    """Draw ``widget``'s text in the tint ``name`` (None: the palette's own
    colour), now and after every change of theme."""
    widget.setProperty(_TINT, name or "")
    _apply_tint(widget)


def _apply_tint(widget: QWidget) -> None:
    name = widget.property(_TINT)
    if not name:
        widget.setPalette(QPalette())  # inherit everything again
        return
    palette = QPalette(QApplication.palette(widget))
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
        palette.setColor(role, tint(name))
    widget.setPalette(palette)

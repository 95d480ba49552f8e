"""Every panel and dialog at three window sizes, in the light and the dark theme.

For each size and theme the window is set up as a person would see it (a
search with results, a photo selected, tags in the sidebar, suggestions in the
auto-tag panel with decisions made, a query with a problem, the demo banner)
and every dialog is opened over it (the models, preferences, export and
duplicates windows, the questions and folder chooser of moving photos), then
the photo is looked at in the preview and the full-screen viewer. Each view
fails the test when (:mod:`layoutkit`):

* a label's or button's text is elided or clipped (its size hint, or the
  height its wrapped text needs, does not fit its geometry);
* a dock grows a horizontal scroll bar;
* a photo grid's columns do not fill its width, or its last row is out of reach;
* text contrasts less than 4.5:1 with what is around it (WCAG 2 AA, measured
  on the rendered pixels);
* a dialog does not fit inside the window.

The theme is switched while the window is open (the way a person does it,
View > Colours), which is where a style sheet kept dark text on a dark panel.

Screenshots of every view are kept: under the folder named by the environment
variable ``CLIPDESK_SCREENSHOTS`` when it is set (CI keeps it as an artifact),
else in pytest's temporary folder for this test. Their names say the size,
the theme and the view: ``1280x800-dark-dialog-models.png``.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from bundlekit import write_bundle
from layoutkit import MIN_CONTRAST, clipped_text, grid_problems, horizontal_scrollbars, low_contrast, text_contrast
from PySide6.QtCore import QRect, Qt, QTimer
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QApplication, QDialog, QMessageBox
from uikit import drop, ids_mime, photo_named, select

from clipdesk.core.models import ModelStatus
from clipdesk.ui import theme
from clipdesk.ui.grid.thumbs import PAD
from clipdesk.ui.grid.view import MARGIN, month_label
from clipdesk.ui.search.bar import DateRangeDialog

#: The smallest supported window, the one ClipDesk opens at first (1280x820), a laptop's and a desktop's.
SIZES = [(800, 600), (1280, 800), (1280, 820), (1920, 1080)]
THEMES = ["light", "dark"]


@pytest.fixture
def shots(request, tmp_path_factory) -> Path:
    folder = os.environ.get("CLIPDESK_SCREENSHOTS")
    root = Path(folder) if folder else tmp_path_factory.mktemp("screenshots")
    root.mkdir(parents=True, exist_ok=True)
    return root


@pytest.fixture
def with_copies(indexed, photos_root):
    """The indexed colour library and a backup copy of two of its photos, so
    that the duplicates window has groups to show."""
    from clipdesk.core.library import Library

    backup = photos_root / "backup"
    backup.mkdir()
    for name in ("red0.jpg", "blue0.jpg"):
        shutil.copy2(next(photos_root.rglob(name)), backup / name)
    with Library(indexed) as lib:
        assert lib.folders.index().indexed == 2
    return indexed


@pytest.fixture
def restore_theme():
    app = QApplication.instance()
    palette, dark = app.palette(), app.property("clipdesk_dark")
    yield
    app.setPalette(palette)
    app.setProperty("clipdesk_dark", dark)


def settle(qtbot, window) -> None:
    for _ in range(3):
        QApplication.processEvents()
    window.grid.doItemsLayout()
    window.autotag.teach_grid.doItemsLayout()
    QApplication.processEvents()


class Findings:
    """Problems of every view, reported together at the end."""

    def __init__(self, shots: Path, prefix: str):
        self.shots = shots
        self.prefix = prefix
        self.problems: list[str] = []

    def check(self, name: str, top, *, docks=(), grids=()) -> None:
        image = top.grab().toImage()
        image.save(str(self.shots / f"{self.prefix}-{name}.png"))
        found = clipped_text(top) + low_contrast(top, image)
        for dock in docks:
            if dock.isVisible() and not dock.visibleRegion().isEmpty():
                found += horizontal_scrollbars(dock)
        for grid in grids:
            found += grid_problems(grid)
        self.problems += [f"{self.prefix} {name}: {p}" for p in found]

    def check_dialog(self, name: str, dialog, window) -> None:
        dialog.show()
        QApplication.processEvents()
        if dialog.width() > window.width() or dialog.height() > window.height():
            self.problems.append(f"{self.prefix} {name}: {dialog.width()}x{dialog.height()} does not fit the window")
        self.check(f"dialog-{name}", dialog)
        dialog.close()

    def check_modal(self, name: str, opens, window) -> None:
        """Check the modal dialog that ``opens()`` runs (a question, a folder
        chooser) while it waits for the user, then cancel it."""
        seen = []

        def look() -> None:
            dialog = QApplication.activeModalWidget()
            if dialog is None:
                QTimer.singleShot(20, look)
                return
            seen.append(dialog.objectName() or type(dialog).__name__)
            QApplication.processEvents()
            self.check_dialog(name, dialog, window)
            dialog.reject() if isinstance(dialog, QDialog) else dialog.close()

        QTimer.singleShot(0, look)
        opens()
        assert seen, f"{name}: no dialog opened"


@pytest.mark.parametrize("colours", THEMES)
@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_every_panel_and_dialog_fits_and_reads_well(open_window, with_copies, qtbot, shots, restore_theme, size, colours):
    window = open_window(with_copies)
    window.set_theme("dark" if colours == "light" else "light")
    QApplication.processEvents()
    window.set_theme(colours)
    window.resize(*size)
    qtbot.waitUntil(lambda: (window.width(), window.height()) == size, timeout=5000)
    findings = Findings(shots, f"{size[0]}x{size[1]}-{colours}")
    docks = [window.sidebar_dock, window.details_dock, window.autotag_dock]
    grids = [window.grid, window.autotag.teach_grid]

    # The library as it is used: tags, a saved search, a search with results, a photo selected.
    red = [photo_named(window, f"red{i}.jpg") for i in range(3)]
    window.photo_actions.tag(red, "poppies")
    window.library_ctl.save_search("Reds in the garden", "red")
    qtbot.keyClicks(window.bar, "red")
    window.more_bar.scores.setChecked(True)
    select(window, "red1.jpg")
    qtbot.waitUntil(lambda: window.details.fields["file"].text() == "red1.jpg", timeout=5000)
    settle(qtbot, window)
    findings.check("search", window, docks=docks, grids=grids)

    # The demo banner over the search bar.
    window.banner._show(ModelStatus("clipdesk-mini", True, "Demo model: it only knows clothing items, colours, "
                                    "counts and a few backgrounds.", "ViT-B-32__openai"))
    settle(qtbot, window)
    findings.check("banner", window, docks=docks, grids=grids)
    window.banner._show(ModelStatus("colour-test", False, None, "ViT-B-32__openai"))

    # A query the model does not know: its closest matches held back, offered under the grid.
    answer = window.grid_ctl.answer
    window.more_bar.show_answer(replace(answer, ids=[], scores=[], withheld=24))
    window.message.show_notice("This model does not seem to know what “dog on a beach” looks like.", warning=True)
    settle(qtbot, window)
    findings.check("unknown-query", window, docks=docks, grids=grids)
    window.more_bar.show_answer(answer)

    # A query with a problem, once typing pauses.
    qtbot.keyClicks(window.bar, " after:someday")
    qtbot.waitUntil(window.message.isVisible, timeout=5000)
    settle(qtbot, window)
    findings.check("query-problem", window, docks=docks, grids=grids)
    window.bar.clear()

    # Suggestions in the auto-tag panel, one accepted and one rejected; examples taught.
    window.autotag_dock.raise_()
    panel = window.autotag
    assert drop(panel.drop, ids_mime(*[photo_named(window, n).id for n in ("red1.jpg", "blue1.jpg", "misc03.jpg")]))
    rows = list(panel.rows.values())
    qtbot.mouseClick(rows[0].accept_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(rows[-1].reject_button, Qt.MouseButton.LeftButton)
    panel.start_teaching("sky", [photo_named(window, f"blue{i}.jpg").id for i in (0, 1)])
    settle(qtbot, window)
    findings.check("auto-tag", window, docks=docks, grids=grids)

    # Every dialog, over the window at this size.
    window.open_models()
    window.models_dialog.rows["ViT-B-32__openai"].show_error(
        "The download failed: the hub answered with a web page instead of the model's files (a captive portal?)")
    findings.check_dialog("models", window.models_dialog, window)
    shown = []
    panel.applyPreviewShown.connect(shown.append)
    panel.preview_apply()
    findings.check_dialog("tag-the-library", shown[0], window)
    window.library_ctl.show_failures()
    findings.check_dialog("failures", window.library_ctl.failures_dialog, window)
    findings.check_dialog("date-range", DateRangeDialog(window), window)
    window.show_error("Could not remove the folder: permission denied")
    findings.check_dialog("error", window.findChild(QMessageBox, "errorBox"), window)
    findings.check_dialog("preferences", window.open_preferences(), window)
    selected = [photo_named(window, f"red{i}.jpg") for i in range(3)]
    findings.check_dialog("export", window.open_export(selected), window)
    findings.check_dialog("duplicates", window.open_duplicates(), window)
    findings.check_modal("move-to-folder", lambda: window.files.move(selected), window)
    findings.check_modal("move-to-trash", lambda: window.files.trash(selected), window)

    # The photo looked at: the preview (Space) and the full-screen viewer (F).
    select(window, "red1.jpg")
    window.grid.setFocus()
    qtbot.keyClick(window.grid, Qt.Key.Key_Space)
    preview = window.previews.window
    qtbot.waitUntil(lambda: preview is not None and preview.isVisible() and preview.view.has_image(), timeout=5000)
    findings.check_dialog("preview", preview, window)
    window.grid.setFocus()
    qtbot.keyClick(window.grid, Qt.Key.Key_F)
    viewer = window.previews.viewer
    qtbot.waitUntil(lambda: viewer is not None and viewer.isVisible() and viewer.view.has_image(), timeout=5000)
    settle(qtbot, window)
    findings.check("viewer", viewer)
    qtbot.keyClick(viewer, Qt.Key.Key_Escape)

    assert findings.problems == [], "\n".join(findings.problems)
    assert theme.is_dark() == (colours == "dark")


@pytest.mark.parametrize("colours", THEMES)
@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_a_first_start_fits_and_reads_well(open_window, paths, tmp_path, monkeypatch, qtbot, shots, restore_theme,
                                            size, colours):
    """An empty library with only the demo model: the welcome panel over the
    grid, the demo banner, and the line shown beside a program that holds the
    catalog."""
    shipped = tmp_path / "shipped"
    write_bundle(shipped / "clipdesk-mini")
    monkeypatch.setenv("CLIPDESK_MODELS_DIR", str(shipped))
    window = open_window(paths)
    window.set_theme(colours)
    window.resize(*size)
    qtbot.waitUntil(lambda: (window.width(), window.height()) == size, timeout=5000)
    window.beside.show()
    settle(qtbot, window)
    assert window.welcome.isVisible() and window.banner.isVisible()
    findings = Findings(shots, f"{size[0]}x{size[1]}-{colours}")
    findings.check("first-start", window, docks=[window.sidebar_dock, window.details_dock, window.autotag_dock])
    assert findings.problems == [], "\n".join(findings.problems)


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_filter_chips_show_their_whole_text(open_window, indexed, qtbot, shots, size):
    """Every chip says what it filters by, typed one key at a time: whole (no
    ellipsis that reads as cut off, nothing clipped), the row wrapping when
    the window is narrow."""
    window = open_window(indexed)
    window.resize(*size)
    qtbot.waitUntil(lambda: (window.width(), window.height()) == size, timeout=5000)
    window.photo_actions.tag([photo_named(window, "red1.jpg")], "poppies")
    findings = Findings(shots, f"{size[0]}x{size[1]}-chips")
    chips = [*window.chips.chips.values(), *window.search.mark_chips.chips.values()]
    window.bar.setFocus()
    for typed in ("after:2024", " before:2025-07 tag:poppies type:jpeg rating:>=3 -flag:reject label:red"):
        qtbot.keyClicks(window.bar, typed)
        qtbot.waitUntil(lambda: window.chips.chips["date"].property("active"), timeout=5000)
        settle(qtbot, window)
        findings.check(f"chips-{len(window.bar.text())}", window, docks=[window.sidebar_dock, window.details_dock])
        findings.problems += [f"{size} chip {c.objectName()} is shortened: {c.text()!r}"
                              for c in chips if "…" in c.text()]
        findings.problems += [f"{size} chip {c.objectName()} is out of sight" for c in chips
                              if not c.isVisible() or c.visibleRegion().boundingRect().size() != c.size()]
    assert findings.problems == [], "\n".join(findings.problems)
    assert window.chips.chips["date"].text() == "Date: 2024-01 – 2025-06"


def test_a_dialog_kept_for_next_time_fits_a_window_made_smaller(open_window, with_copies, qtbot):
    """Preferences and Duplicates are kept once opened: opened again over a
    window made smaller since, they shrink to fit it."""
    window = open_window(with_copies)
    window.resize(1920, 1080)
    qtbot.waitUntil(lambda: window.width() == 1920, timeout=5000)
    opened = [window.open_preferences(), window.open_duplicates()]
    assert [d.height() for d in opened] == [640, 640]
    for dialog in opened:
        dialog.close()
    window.resize(800, 600)
    qtbot.waitUntil(lambda: window.height() == 600, timeout=5000)
    again = [window.open_preferences(), window.open_duplicates()]
    assert again == opened
    assert all(d.width() <= window.width() and d.height() <= window.height() for d in again), \
        [(d.objectName(), d.size()) for d in again]


@pytest.mark.parametrize("colours", THEMES)
def test_quiet_text_painted_by_the_views_reads_well(open_window, indexed, qtbot, restore_theme, colours):
    """Text the views paint themselves in the palette's quieter colour (the
    details pane's "Select a photo…", a month's count in the grid) meets
    4.5:1 too; the layout checks above read only labels and buttons."""
    window = open_window(indexed)
    window.set_theme(colours)
    window.resize(1280, 820)
    settle(qtbot, window)
    preview = window.details.preview
    assert not window.details.photos
    found = {"details pane": text_contrast(preview.grab().toImage(), preview.rect())}
    grid = window.grid
    assert window.grid_ctl.answer.kind == "list"  # the library by month: a header with its count
    section = grid.sections()[0]
    label = QFontMetrics(grid._header_font()).horizontalAdvance(month_label(section.key))
    left = MARGIN + PAD + label + 12  # where the view writes the month's count
    count = QRect(left, section.top - grid.verticalScrollBar().value(), 60, grid.header_height())
    found["month count"] = text_contrast(grid.viewport().grab().toImage(), count)
    assert all(r is not None for r in found.values()), found
    assert {k: r for k, r in found.items() if r < MIN_CONTRAST} == {}

"""The auto-tag panel: drops from the file manager and the grid, accepting, teaching, the whole library."""

from __future__ import annotations

from pathlib import Path

from colourkit import colour_photo
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel
from layoutkit import clipped_text, horizontal_scrollbars
from uikit import drop, file_mime, ids_mime, names, photo_named

from clipdesk.core.sidecar import read_tags


def test_dropped_files_get_suggestions_and_a_tag_is_accepted(open_window, indexed, qtbot, photos_root, tmp_path):
    window = open_window(indexed)
    panel = window.autotag
    outside = tmp_path / "downloads" / "scarlet.jpg"
    colour_photo(outside, "red", noise=10)
    in_library = photos_root / "warm" / "red3.jpg"
    assert drop(panel.drop, file_mime(in_library, outside))
    assert list(panel.rows)[0] == "red"
    row = panel.rows["red"]
    assert row.count.text() == "2/2"
    assert row.bar.value() >= 50
    assert not any(t in panel.rows for t in ("blue", "green"))

    qtbot.mouseClick(row.accept_button, Qt.MouseButton.LeftButton)
    assert row.group.decision == "accepted" and not row.accept_button.isEnabled()
    assert "outside the library" in row.state.toolTip()
    lib = window.library
    red3 = lib.catalog.photo_by_path(in_library)
    assert ("red", "user", "accepted", None) in lib.catalog.photo_tags(red3.id)
    assert [i.text(0) for i in window.sidebar.items("tag")] == ["red"]
    assert window.sidebar.items("tag")[0].text(1) == "1"


def test_accepting_writes_sidecars_when_asked_also_for_files_outside(open_window, indexed, qtbot, photos_root, tmp_path):
    window = open_window(indexed)
    panel = window.autotag
    panel.sidecars.setChecked(True)
    assert window.settings.write_sidecars
    outside = tmp_path / "downloads" / "sky.jpg"
    colour_photo(outside, "blue", noise=10)
    assert drop(panel.drop, file_mime(outside, photos_root / "cold" / "blue1.jpg"))
    panel.decide("blue", "accepted")
    assert read_tags(outside).tags == ("blue",)
    assert read_tags(photos_root / "cold" / "blue1.jpg").tags == ("blue",)


def test_reject_all_hides_the_tags_next_time(open_window, indexed, qtbot):
    window = open_window(indexed)
    panel = window.autotag
    green = photo_named(window, "green0.jpg")
    assert drop(panel.drop, ids_mime(green.id))
    assert "green" in panel.rows
    qtbot.mouseClick(panel.reject_all, Qt.MouseButton.LeftButton)
    assert all(r.group.decision == "rejected" for r in panel.rows.values())
    panel.suggest([green.id], [])
    assert "green" not in panel.rows


def test_teach_a_tag_from_examples_and_accept_what_it_finds(open_window, indexed, qtbot):
    window = open_window(indexed)
    panel = window.autotag
    examples = [photo_named(window, f"red{i}.jpg").id for i in (0, 1)]
    panel.teach_tag.setEditText("poppies")
    assert drop(panel.teach_drop, ids_mime(*examples))
    found = names(panel.teach_model)
    assert {"red2.jpg", "red3.jpg", "red4.jpg"} <= set(found[:4])
    assert not any(n.startswith(("blue", "green")) for n in found)
    # The examples themselves are accepted as they are taught.
    assert sorted(window.library.catalog.tagged_ids("poppies")) == sorted(examples)

    panel.teach_grid.selectAll()
    keep = {panel.teach_model.photo(r).id for r in panel.teach_grid.selected_rows()}
    qtbot.mouseClick(panel.teach_accept, Qt.MouseButton.LeftButton)
    assert panel.teach_model.rowCount() == 0
    assert set(window.library.catalog.tagged_ids("poppies")) == keep | set(examples)


def test_dropping_photos_on_a_sidebar_tag_teaches_it(open_window, indexed, qtbot):
    window = open_window(indexed)
    blue = [photo_named(window, f"blue{i}.jpg").id for i in (0, 1)]
    window.photo_actions.tag([photo_named(window, "blue2.jpg")], "sea")
    assert [i.text(0) for i in window.sidebar.items("tag")] == ["sea"]
    item = window.sidebar.items("tag")[0]
    tree = window.sidebar.tags
    pos = tree.visualItemRect(item).center()
    assert drop(tree.viewport(), ids_mime(*blue), pos)
    assert window.autotag.teach_tag.currentText() == "sea"
    found = names(window.autotag.teach_model)
    assert {"blue3.jpg", "blue4.jpg"} <= set(found)
    assert "blue2.jpg" not in found  # already has the tag


def test_apply_to_the_whole_library_previews_counts_and_adds_only_what_is_ticked(open_window, indexed, qtbot):
    """Issue 16: every tag was ticked by default, and the dialog said the tags
    "can be reviewed and rejected later" but saved them as accepted."""
    window = open_window(indexed)
    panel = window.autotag
    shown = []
    panel.applyPreviewShown.connect(shown.append)
    qtbot.mouseClick(panel.apply_button, Qt.MouseButton.LeftButton)
    dialog = shown[0]
    tree = dialog.tree
    items = {tree.topLevelItem(i).text(0): tree.topLevelItem(i) for i in range(tree.topLevelItemCount())}
    counts = {tag: int(item.text(1).replace(",", "")) for tag, item in items.items()}
    assert counts.get("red", 0) >= 5 and counts.get("green", 0) >= 5
    assert dialog.chosen() == [] and not dialog.apply_button.isEnabled()
    words = " ".join(w.text() for w in dialog.findChildren(QLabel))
    assert "added" in words and "suggest" not in words and "reject" not in words and "rough" not in words
    tree.setFocus()
    tree.setCurrentItem(items["green"])
    qtbot.keyClick(tree, Qt.Key.Key_Space)
    assert dialog.chosen() == ["green"] and dialog.apply_button.isEnabled()
    qtbot.mouseClick(dialog.apply_button, Qt.MouseButton.LeftButton)
    lib = window.library
    tagged = lib.catalog.tagged_ids("green")
    assert len(tagged) == counts["green"]
    greens = {lib.catalog.photo_by_path(p).id for p in Path(lib.catalog.roots()[0].path).glob("cold/green*.jpg")}
    assert greens <= set(tagged)
    assert all(t.state == "accepted" for i in tagged for t in lib.catalog.photo_tags(i) if t.tag == "green")
    assert lib.catalog.tagged_ids("red") == []
    assert window.notice.text() == f"Added green ({counts['green']})"


def test_rejecting_a_suggestion_adds_no_tag_to_the_lists(open_window, indexed, qtbot):
    """Issue 16: rejecting "pullover" put a tag "pullover" (0 photos) in the
    sidebar and the Tag menu."""
    window = open_window(indexed)
    panel = window.autotag
    green = photo_named(window, "green1.jpg")
    assert drop(panel.drop, ids_mime(green.id))
    qtbot.mouseClick(panel.rows["green"].reject_button, Qt.MouseButton.LeftButton)
    assert panel.rows["green"].group.decision == "rejected"
    assert window.library.catalog.tagged_ids("green", "rejected") == [green.id]
    assert [i.text(0) for i in window.sidebar.items("tag")] == []
    menu = window.photo_actions.menu([green])
    tag_menu = next(a.menu() for a in menu.actions() if a.text() == "Tag")
    assert [a.text() for a in tag_menu.actions() if a.text()] == ["New tag…"]


def test_the_panel_fits_its_dock_and_its_rows_line_up_after_decisions(open_window, indexed, qtbot):
    """Issue 16: at 1280x820 the panel was clipped (reject buttons and the drop
    zone's text cut off, a horizontal scroll bar), and after accepting or
    rejecting a tag its row no longer lined up with the others."""
    window = open_window(indexed)
    window.resize(1280, 820)
    window.autotag_dock.raise_()
    panel = window.autotag
    ids = [photo_named(window, n).id for n in ("red1.jpg", "blue1.jpg", "green1.jpg", "misc03.jpg")]
    assert drop(panel.drop, ids_mime(*ids))
    rows = list(panel.rows.values())
    assert len(rows) >= 3
    qtbot.mouseClick(rows[0].accept_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(rows[-1].reject_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: rows[0].state.isVisible() and rows[-1].state.isVisible())
    assert len({(r.name.x(), r.bar.x(), r.count.geometry().right()) for r in rows}) == 1
    open_row = rows[1]
    assert rows[0].state.x() == rows[-1].state.x() == open_row.accept_button.x()
    assert rows[0].state.geometry().right() == open_row.reject_button.geometry().right()
    assert horizontal_scrollbars(window.autotag_dock) == []
    assert clipped_text(window.autotag_dock) == []


def test_in_a_small_library_the_panel_says_its_tags_are_rough_guesses(open_window, colour_model, tmp_path, qtbot):
    from clipdesk.core.library import Library
    root = tmp_path / "few"
    for colour in ("red", "yellow", "blue", "green"):
        for i in range(3):
            colour_photo(root / "warm" / f"{colour}{i}.jpg", colour, noise=25, seed=i)
    lib = Library(colour_model)
    lib.folders.add(root)
    assert lib.folders.index().indexed == 12
    lib.close()
    window = open_window(colour_model)
    panel = window.autotag
    assert drop(panel.drop, file_mime(root / "warm" / "red0.jpg"))
    assert "Rough guesses" in panel.status.text() and "fewer than 50 photos" in panel.status.text()
    with qtbot.waitSignal(panel.applyPreviewShown) as shown:
        qtbot.mouseClick(panel.apply_button, Qt.MouseButton.LeftButton)
    dialog = shown.args[0]
    assert any("rough guesses" in label.text() for label in dialog.findChildren(QLabel))
    dialog.reject()

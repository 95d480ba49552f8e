"""The details panel: the selected photo's facts and preview, and its tags to edit."""

from __future__ import annotations

from PySide6.QtCore import Qt
from uikit import select

from clipdesk.core.sidecar import read_tags


def test_details_show_the_photo_and_edit_its_tags(open_window, indexed, qtbot, photos_root):
    window = open_window(indexed)
    select(window, "red4.jpg")
    details = window.details
    # The panel follows once the selection settles (a short timer).
    qtbot.waitUntil(lambda: details.fields["file"].text() == "red4.jpg", timeout=5000)
    assert details.preview.has_image()
    assert details.fields["folder"].text() == str(photos_root / "warm")
    assert "96 × 72" in details.fields["size"].text()
    assert details.fields["status"].text() == "indexed"
    qtbot.keyClicks(details.add_tag, "sunset")
    qtbot.keyClick(details.add_tag, Qt.Key.Key_Return)
    assert "sunset" in details.tag_label.text()
    photo_id = window.library.catalog.photo_by_path(photos_root / "warm" / "red4.jpg").id
    assert [t[0] for t in window.library.catalog.photo_tags(photo_id)] == ["sunset"]
    assert [i.text(0) for i in window.sidebar.items("tag")] == ["sunset"]
    details.tag_label.linkActivated.emit("rm:sunset")
    assert "sunset" not in details.tag_label.text()
    assert window.library.catalog.photo_tags(photo_id) == []


def test_details_follow_tags_changed_elsewhere(open_window, indexed, qtbot):
    window = open_window(indexed)
    select(window, "blue1.jpg")
    details = window.details
    qtbot.waitUntil(lambda: details.fields["file"].text() == "blue1.jpg", timeout=5000)
    window.photo_actions.tag([details.photos[0]], "sky")
    assert "sky" in details.tag_label.text()


def test_tags_edited_in_the_details_follow_the_sidecar_setting(open_window, indexed, qtbot, photos_root):
    """Issue 14: adding or removing a tag in the details panel ignored the
    "write sidecars" setting."""
    window = open_window(indexed)
    photo = photos_root / "warm" / "red4.jpg"
    qtbot.mouseClick(window.autotag.sidecars, Qt.MouseButton.LeftButton)  # the setting, as a person turns it on
    assert window.settings.write_sidecars
    select(window, "red4.jpg")
    details = window.details
    qtbot.waitUntil(lambda: details.fields["file"].text() == "red4.jpg", timeout=5000)
    for tag in ("sunset", "Places|Beach"):
        qtbot.keyClicks(details.add_tag, tag)
        qtbot.keyClick(details.add_tag, Qt.Key.Key_Return)
    assert set(read_tags(photo).tags) == {"sunset", "Places|Beach"}
    details.tag_label.linkActivated.emit("rm:sunset")
    assert set(read_tags(photo).tags) == {"Places|Beach"}
    qtbot.mouseClick(window.autotag.sidecars, Qt.MouseButton.LeftButton)
    assert not window.settings.write_sidecars
    qtbot.keyClicks(details.add_tag, "dusk")
    qtbot.keyClick(details.add_tag, Qt.Key.Key_Return)
    assert "dusk" in details.tag_label.text()
    assert set(read_tags(photo).tags) == {"Places|Beach"}

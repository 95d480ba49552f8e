"""The details panel: the selected photo's facts and preview, and its tags to edit."""

from __future__ import annotations

import shutil

import pytest
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtGui import QDesktopServices
from support import photo_array
from uikit import UrlCatcher, index_folder, select

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


@pytest.fixture
def camera_shot(colour_model, tmp_path, corpus):
    """A phone photo from the corpus (lens, exposure, GPS) and a camera JPEG whose
    date states its time-zone offset, with a sidecar."""
    root = tmp_path / "camera"
    root.mkdir()
    shutil.copyfile(corpus.path("opencv/examples/data/leuvenA.jpg"), root / "leuven.jpg")
    img = Image.fromarray(photo_array(120, 80, seed=3))
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = "FUJIFILM", "X-T5"
    sub = exif.get_ifd(0x8769)
    sub[0x9003], sub[0x9011] = "2024:05:01 19:45:00", "+09:00"
    sub[0x829A], sub[0x829D], sub[0x8827], sub[0x920A] = 1 / 250, 5.6, 200, 23.0
    img.save(root / "tokyo.jpg", exif=exif.tobytes())
    (root / "tokyo.jpg.xmp").write_text('<x:xmpmeta xmlns:x="adobe:ns:meta/"/>')
    index_folder(colour_model, root)
    return colour_model, root


# The offscreen platform opens no URL and says so: here, like a desktop with no map app for geo:.
@pytest.mark.qt_log_ignore(r"does not support QPlatformServices::openUrl\(\) for 'geo:",
                           r"This plugin does not support (propagateSizeHints|raise)\(\)")
def test_details_show_how_and_where_a_photo_was_taken(open_window, camera_shot, qtbot):
    paths, root = camera_shot
    window = open_window(paths)
    select(window, "leuven.jpg")
    details = window.details
    qtbot.waitUntil(lambda: details.fields["lens"].text() != "", timeout=5000)
    f = {k: v.text() for k, v in details.fields.items()}
    assert f["camera"] == "Apple iPhone 6" and f["lens"] == "iPhone 6 back camera 4.15mm f/2.2"
    assert f["exposure"] == "1/1,799 s · f/2.2 · ISO 32"
    assert f["focal"] == "4.15 mm (29 mm in 35 mm terms)"
    assert f["size"].startswith("751 × 563") and "jpeg" in f["size"]
    assert "50.87153° N, 4.69698° E" in f["place"] and "Open in map" in f["place"]
    assert f["sidecar"] == "none"
    # Open in map: the system's geo: handler when there is one, else the map in the browser.
    web, geo = UrlCatcher(), UrlCatcher()
    QDesktopServices.setUrlHandler("https", web, "open")
    try:
        details.fields["place"].linkActivated.emit("map:")
        osm = "https://www.openstreetmap.org/?mlat=50.871528&mlon=4.696983"
        assert web.opened and web.opened[-1].toString().startswith(osm)
        QDesktopServices.setUrlHandler("geo", geo, "open")
        details.fields["place"].linkActivated.emit("map:")
        assert [u.toString() for u in geo.opened] == ["geo:50.871528,4.696983"]
    finally:
        QDesktopServices.unsetUrlHandler("https")
        QDesktopServices.unsetUrlHandler("geo")
    select(window, "tokyo.jpg")
    qtbot.waitUntil(lambda: details.fields["sidecar"].text() != "none" and details.fields["sidecar"].text() != "",
                    timeout=5000)
    assert details.fields["date"].text() == "01 May 2024, 19:45 (UTC+09:00)"
    assert details.fields["sidecar"].text() == str(root / "tokyo.jpg.xmp")
    assert details.fields["exposure"].text() == "1/250 s · f/5.6 · ISO 200"
    assert details.fields["focal"].text() == "23 mm" and not details.fields["place"].isVisible()


def test_details_show_the_rating_flag_and_label_and_follow_them(open_window, camera_shot, qtbot):
    paths, root = camera_shot
    window = open_window(paths)
    select(window, "tokyo.jpg")
    details = window.details
    qtbot.waitUntil(lambda: details.fields["file"].text() == "tokyo.jpg", timeout=5000)
    ids = [details.photos[0].id]
    marks = window.library.marks
    window.hub.write(lambda: marks.rate(ids, 3))
    window.hub.write(lambda: marks.flag(ids, "pick"))
    window.hub.write(lambda: marks.label(ids, "red"))
    assert (details.marks.rating, details.marks.flag, details.marks.label) == (3, "pick", "red")


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


def test_with_no_photo_selected_the_marks_give_way_to_a_hint(open_window, indexed, qtbot):
    """Stars, flag and colour label to click only while there is a photo to
    mark: before that (and after the selection is cleared) the line says so."""
    window = open_window(indexed)
    marks = window.details.marks
    buttons = [*marks.stars, marks.pick, marks.reject, *marks.labels.values()]
    assert not window.grid.selectionModel().hasSelection()
    assert not any(b.isVisible() for b in buttons)
    assert marks.note.isVisible() and marks.note.text() == "Select a photo to rate, flag or label it"

    grid = window.grid
    at = grid.visualRect(window.model.index(2)).center()
    qtbot.mouseClick(grid.viewport(), Qt.MouseButton.LeftButton, pos=at)
    qtbot.waitUntil(lambda: bool(window.details.photos) and all(b.isVisible() for b in buttons), timeout=5000)
    assert marks.note.text() == ""
    qtbot.mouseClick(marks.stars[3], Qt.MouseButton.LeftButton)
    photo_id = window.model.photo(2).id
    qtbot.waitUntil(lambda: window.library.marks.of([photo_id])[photo_id][0] == 4, timeout=5000)

    qtbot.mouseClick(grid.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ControlModifier, pos=at)
    qtbot.waitUntil(lambda: not window.details.photos, timeout=5000)
    assert not any(b.isVisible() for b in buttons)
    assert marks.note.text() == "Select a photo to rate, flag or label it"

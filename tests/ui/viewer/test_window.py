"""The full-screen viewer and the preview (issue 19), on real files: F or a
double click opens it, the arrow keys step through the grid, photos are
upright, HEIC and RAW show through indexing's decode path, a file that
cannot be shown and an offline photo say why in words (with the cached
thumbnail when there is one)."""

from __future__ import annotations

import os
import shutil

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import Qt
from rawkit import write_dng
from support import make_photo, photo_array
from uikit import index_folder, names, select

from clipdesk.core.library import Library


@pytest.fixture
def shots(colour_model, tmp_path, corpus):
    """A library with an upright-by-EXIF photo, a large one, a phone's HEIC, a
    camera RAW (a DNG) and a RAW file with no picture LibRaw can develop."""
    root = tmp_path / "shots"
    root.mkdir()
    upright = np.zeros((320, 240, 3), np.uint8)
    upright[:40] = (220, 30, 30)  # red along the top as it is meant to be seen
    upright[40:] = (30, 30, 200)
    stored = Image.fromarray(upright).transpose(Image.Transpose.ROTATE_90)  # orientation 6 turns it back
    make_photo(root / "a_turned.jpg", array=np.asarray(stored), orientation=6, make="Canon", model="EOS R6")
    make_photo(root / "b_large.jpg", (2400, 1600), seed=2, make="Canon", model="EOS R6")
    heic = next(e for e in corpus.select("format:heic", "decodes", "camera") if 0 < e.width * e.height < 4_000_000)
    shutil.copyfile(corpus.path(heic), root / "c_phone.heic")
    write_dng(root / "d_camera.dng", Image.fromarray(photo_array(640, 480, seed=4)))
    raw = next(e for e in corpus.select("raw") if e.id.endswith(".cr2"))  # its metadata, no sensor data
    shutil.copyfile(corpus.path(raw), root / "e_broken.cr2")
    index_folder(colour_model, root)
    return colour_model, root


def _by_name(window):
    window.settings.sort_browse = "name"
    return names(window)


def test_f_opens_the_full_screen_viewer_and_the_arrow_keys_step(open_window, shots, qtbot):
    paths, _root = shots
    window = open_window(paths)
    assert _by_name(window) == ["a_turned.jpg", "b_large.jpg", "c_phone.heic", "d_camera.dng", "e_broken.cr2"]
    select(window, "a_turned.jpg")
    window.grid.setFocus()
    qtbot.keyClick(window.grid, Qt.Key.Key_F)
    viewer = window.previews.viewer
    assert viewer.isVisible() and viewer.isFullScreen()
    assert viewer.caption.text() == "a_turned.jpg"
    view = viewer.view
    assert view.has_image() and view.image_size().width() == 240 and view.image_size().height() == 320
    image = view.grab().toImage()
    top = image.pixelColor(view.photo_rect().center().toPoint().x(), int(view.photo_rect().top()) + 5)
    assert top.red() > 150 and top.blue() < 100  # upright: the red band on top
    qtbot.keyClick(viewer, Qt.Key.Key_Right)
    assert viewer.caption.text() == "b_large.jpg" and window.grid.current_row() == 1
    assert view.image_size().width() <= 2400 and not viewer.stage.note.isVisible()
    qtbot.keyClick(view, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)  # 100 %: the photo at its own size arrives
    assert view.image_size().width() == 2400 and view.zoom_percent() == 100
    qtbot.keyClick(view, Qt.Key.Key_3)  # Lightroom's rating keys rate the photo on screen
    assert window.library.marks.of([viewer.photo_id])[viewer.photo_id][0] == 3
    qtbot.keyClick(viewer, Qt.Key.Key_Right)
    assert viewer.caption.text() == "c_phone.heic" and view.has_image()
    qtbot.keyClick(viewer, Qt.Key.Key_Right)
    assert viewer.caption.text() == "d_camera.dng" and view.has_image()
    assert view.image_size().width() == 640 and not viewer.stage.note.isVisible()
    qtbot.keyClick(viewer, Qt.Key.Key_Right)
    assert viewer.caption.text() == "e_broken.cr2" and not view.has_image()  # no thumbnail either
    assert view.text().startswith("ClipDesk cannot show this file:") and "LibRaw" in view.text()
    qtbot.keyClick(viewer, Qt.Key.Key_Left)
    assert viewer.caption.text() == "d_camera.dng"
    qtbot.keyClick(viewer, Qt.Key.Key_Escape)
    assert not viewer.isVisible()


def test_a_double_click_opens_the_viewer(open_window, shots, qtbot):
    paths, _root = shots
    window = open_window(paths)
    _by_name(window)
    rect = window.grid.visualRect(window.model.index(1))
    qtbot.mouseDClick(window.grid.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert window.previews.viewer.isVisible() and window.previews.viewer.caption.text() == "b_large.jpg"


def test_an_offline_photo_shows_its_thumbnail_and_says_why(open_window, shots, qtbot, tmp_path):
    paths, root = shots
    os.rename(root, tmp_path / "unplugged")  # the drive is gone
    with Library(paths) as lib:
        lib.folders.index()
        assert lib.search.photos(lib.search.listing().ids)[0].status == "offline"
    window = open_window(paths)
    _by_name(window)
    select(window, "b_large.jpg")
    window.grid.setFocus()
    qtbot.keyClick(window.grid, Qt.Key.Key_Return)  # the preview, the same way
    preview = window.previews.window
    assert preview.view.has_image() and preview.view.image_size().width() <= 320  # the thumbnail
    assert preview.view.zoom_percent() <= 100
    note = preview.stage.note
    assert note.isVisible() and "offline" in note.text() and "small copy" in note.text()
    qtbot.waitUntil(lambda: window.details.fields["file"].text() == "b_large.jpg", timeout=5000)
    assert "offline" in window.details.note.text() and window.details.preview.has_image()

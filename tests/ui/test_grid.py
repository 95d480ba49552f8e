"""The thumbnail grid: lazy cells, 100,000 rows, keyboard, preview, context menu, drag out, details."""

from __future__ import annotations

import math
import os

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QGuiApplication, QWheelEvent
from PySide6.QtWidgets import QApplication
from support import make_photo
from uikit import names

from clipdesk.core.catalog import Photo
from clipdesk.core.imaging import ThumbnailCache, decode
from clipdesk.core.search import Hit
from clipdesk.ui.dnd import PHOTO_IDS_MIME, decode_ids
from clipdesk.ui.grid.model import PhotoListModel
from clipdesk.ui.grid.thumbs import ThumbnailLoader
from clipdesk.ui.grid.view import PhotoGrid
from clipdesk.ui.workers import Pools


def _select(window, name):
    row = names(window).index(name)
    window.grid.setCurrentIndex(window.model.index(row))
    return row


def test_a_hundred_thousand_rows_load_cells_only_for_what_is_on_screen(qtbot, tmp_path):
    photo_file = tmp_path / "one.jpg"
    make_photo(photo_file, (320, 240), seed=4)
    cache = ThumbnailCache(tmp_path / "thumbs")
    d = decode(photo_file)
    cache.put(d.hash, d.thumbnail)
    hits = [Hit(Photo(i, 1, str(photo_file), d.size, d.mtime_ns, d.hash, "jpeg", 320, 240, None, None, None,
                      "indexed", None), math.nan) for i in range(1, 100_001)]
    pools = Pools()
    loader = ThumbnailLoader(cache, pools.thumbs, size=128)
    model = PhotoListModel(loader)
    grid = PhotoGrid(model, size=128)
    qtbot.addWidget(grid)
    grid.resize(900, 600)
    grid.show()
    model.set_hits(hits)
    qtbot.waitUntil(lambda: loader.requests > 0 and loader.idle, timeout=10000)
    on_screen = len(grid.visible_rows())
    assert 0 < on_screen < 100
    assert loader.requests <= on_screen + 12
    first = loader.requests
    # The layout is made in batches; wait until it reaches the last row.
    qtbot.waitUntil(lambda: not grid.visualRect(model.index(99_999)).isEmpty(), timeout=20000)
    grid.verticalScrollBar().setValue(grid.verticalScrollBar().maximum() // 2)
    qtbot.waitUntil(lambda: loader.requests > first and loader.idle, timeout=10000)
    middle = grid.visible_rows()
    assert 40_000 < middle.start < 60_000
    assert loader.requests - first <= len(middle) + 12
    # Tiles reach the GUI thread by a queued signal, after the worker is done.
    row = model.photo(middle[len(middle) // 2])
    qtbot.waitUntil(lambda: loader.tile(row, grid.delegate.last_spec) is not None, timeout=10000)
    assert not loader.tile(row, grid.delegate.last_spec).isNull()
    loader.close()
    pools.shutdown()


def test_a_missing_thumbnail_is_made_again_from_the_original(open_window, indexed, qtbot):
    cache = ThumbnailCache(indexed.thumbnails_dir)
    for f in indexed.thumbnails_dir.rglob("*.jpg"):
        f.unlink()
    window = open_window(indexed)
    shown = [window.model.photo(r) for r in window.grid.visible_rows()]
    assert len(shown) > 10
    qtbot.waitUntil(lambda: all(cache.has(p.hash) for p in shown), timeout=10000)


def test_keyboard_enter_opens_the_preview_and_space_toggles_it(open_window, indexed, qtbot):
    window = open_window(indexed)
    row = _select(window, "blue3.jpg")
    window.grid.setFocus()
    qtbot.keyClick(window.grid, Qt.Key.Key_Return)
    preview = window.previews.window
    assert preview is not None and preview.isVisible()
    qtbot.waitUntil(preview.view.has_image, timeout=5000)
    assert preview.caption.text() == "blue3.jpg"
    qtbot.keyClick(preview, Qt.Key.Key_Right)
    assert window.grid.current_row() == row + 1
    qtbot.waitUntil(lambda: preview.caption.text() == names(window)[row + 1], timeout=5000)
    qtbot.keyClick(preview, Qt.Key.Key_Space)
    assert not preview.isVisible()
    window.grid.setFocus()
    qtbot.keyClick(window.grid, Qt.Key.Key_Space)
    assert preview.isVisible()
    qtbot.keyClick(window.grid, Qt.Key.Key_Space)
    assert not preview.isVisible()


def test_arrow_keys_and_shift_select_several(open_window, indexed, qtbot):
    window = open_window(indexed)
    window.grid.setFocus()
    window.grid.setCurrentIndex(window.model.index(0))
    qtbot.keyClick(window.grid, Qt.Key.Key_Right, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClick(window.grid, Qt.Key.Key_Right, Qt.KeyboardModifier.ShiftModifier)
    assert window.grid.selected_rows() == [0, 1, 2]
    qtbot.waitUntil(lambda: window.details.fields["file"].text() == "3 photos selected", timeout=5000)


def test_ctrl_wheel_changes_the_thumbnail_size_and_it_is_remembered(open_window, indexed, qtbot, settings):
    window = open_window(indexed)
    before = window.settings.thumb_size
    event = QWheelEvent(QPointF(50, 50), QPointF(window.grid.mapToGlobal(QPoint(50, 50))), QPoint(0, 0),
                        QPoint(0, 120), Qt.MouseButton.NoButton, Qt.KeyboardModifier.ControlModifier,
                        Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(window.grid.viewport(), event)
    assert window.settings.thumb_size > before
    assert window.grid.delegate.size == window.settings.thumb_size == window.size_slider.value()
    assert window.grid.gridSize().width() > before
    window.shutdown()
    assert f'"thumb_size": {window.settings.thumb_size}' in settings.path.read_text()


def test_context_menu_copy_path_find_similar_and_tag(open_window, indexed, qtbot):
    window = open_window(indexed)
    row = _select(window, "green1.jpg")
    photo = window.model.photo(row)
    menu = window.photo_actions.menu([photo])
    texts = [a.text() for a in menu.actions() if a.text()]
    for expected in ("Find similar", "Show in file manager", "Open with the system viewer", "Copy path",
                     "Tag", "Remove from library…"):
        assert expected in texts
    next(a for a in menu.actions() if a.text() == "Copy path").trigger()
    assert QGuiApplication.clipboard().text() == photo.path
    next(a for a in menu.actions() if a.text() == "Find similar").trigger()
    qtbot.waitUntil(lambda: window.grid_ctl.answer.kind == "similar", timeout=10000)
    assert set(names(window)[:4]) == {f"green{i}.jpg" for i in (0, 2, 3, 4)}
    window.photo_actions.tag([photo], "lawn")
    qtbot.waitUntil(lambda: [i.text(0) for i in window.sidebar.items("tag")] == ["lawn"], timeout=5000)
    assert window.library.catalog.tagged_ids("lawn") == [photo.id]


def test_remove_from_library_keeps_the_file(open_window, indexed, qtbot, photos_root):
    window = open_window(indexed)
    row = _select(window, "yellow2.jpg")
    photo = window.model.photo(row)
    window.photo_actions.remove([photo], confirm=False)
    qtbot.waitUntil(lambda: "yellow2.jpg" not in names(window), timeout=5000)
    assert window.library.catalog.photo_by_path(photo.path) is None
    assert os.path.exists(photo.path)
    qtbot.waitUntil(lambda: [i.text(1) for i in window.sidebar.items("folder")] == ["59"], timeout=5000)


def test_dragging_photos_out_carries_file_urls_and_ids(open_window, indexed):
    window = open_window(indexed)
    rows = [names(window).index("red0.jpg"), names(window).index("blue0.jpg")]
    mime = window.model.mimeData([window.model.index(r) for r in rows])
    paths = sorted(u.toLocalFile() for u in mime.urls())
    assert [os.path.basename(p) for p in paths] == ["blue0.jpg", "red0.jpg"]
    assert all(os.path.isabs(p) and os.path.exists(p) for p in paths)
    assert mime.hasFormat(PHOTO_IDS_MIME)
    assert sorted(decode_ids(mime)) == sorted(window.model.photo(r).id for r in rows)
    assert window.grid.dragEnabled()


def test_details_show_the_photo_and_edit_its_tags(open_window, indexed, qtbot, photos_root):
    window = open_window(indexed)
    _select(window, "red4.jpg")
    details = window.details
    qtbot.waitUntil(lambda: details.fields["file"].text() == "red4.jpg", timeout=5000)
    qtbot.waitUntil(details.preview.has_image, timeout=5000)
    assert details.fields["folder"].text() == str(photos_root / "warm")
    assert "96 × 72" in details.fields["size"].text()
    assert details.fields["status"].text() == "indexed"
    with qtbot.waitSignal(details.tagsChanged, timeout=5000):
        qtbot.keyClicks(details.add_tag, "sunset")
        qtbot.keyClick(details.add_tag, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "sunset" in details.tag_label.text(), timeout=5000)
    photo_id = window.library.catalog.photo_by_path(photos_root / "warm" / "red4.jpg").id
    assert [t[0] for t in window.library.catalog.photo_tags(photo_id)] == ["sunset"]
    with qtbot.waitSignal(details.tagsChanged, timeout=5000):
        details.tag_label.linkActivated.emit("rm:sunset")
    qtbot.waitUntil(lambda: "sunset" not in details.tag_label.text(), timeout=5000)
    assert window.library.catalog.photo_tags(photo_id) == []


def test_a_listing_fetches_its_photos_page_by_page_as_rows_are_shown(qtbot, tmp_path):
    photo_file = tmp_path / "one.jpg"
    make_photo(photo_file, (160, 120), seed=2)
    d = decode(photo_file)
    catalog = {i: Photo(i, 1, str(photo_file), d.size, d.mtime_ns, d.hash, "jpeg", 160, 120, None, None, None,
                        "indexed", None) for i in range(1, 20_001)}
    model = PhotoListModel(None)
    asked: list[list[int]] = []
    model.photosWanted.connect(lambda ids: (asked.append(ids), model.add_photos(catalog[i] for i in ids)))
    grid = PhotoGrid(model, size=96)
    qtbot.addWidget(grid)
    grid.resize(700, 500)
    grid.show()
    ids = list(catalog)
    model.set_rows(ids, None, {i: catalog[i] for i in ids[:50]})
    qtbot.waitUntil(lambda: not grid.visualRect(model.index(len(ids) - 1)).isEmpty(), timeout=20000)
    assert asked == []  # the rows on screen came with the listing
    grid.verticalScrollBar().setValue(grid.verticalScrollBar().maximum())
    qtbot.waitUntil(lambda: bool(asked), timeout=5000)
    last_page = ids[(len(ids) - 1) // PhotoListModel.PAGE * PhotoListModel.PAGE:]
    assert asked[-1] == last_page
    assert sum(len(a) for a in asked) <= 3 * PhotoListModel.PAGE
    shown = grid.visible_rows()
    assert all(model.photo(r) is not None for r in shown)
    assert len(model.hits()) < 1000

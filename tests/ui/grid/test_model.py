"""The grid's list model: a listing fetched page by page, photos dragged out."""

from __future__ import annotations

import os

from support import make_photo
from uikit import names

from clipdesk.core.catalog import Photo
from clipdesk.core.imaging import decode
from clipdesk.ui.dnd import PHOTO_IDS_MIME, decode_ids
from clipdesk.ui.grid.model import PhotoListModel
from clipdesk.ui.grid.view import PhotoGrid


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

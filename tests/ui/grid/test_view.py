"""The thumbnail grid view: cells only for what is on screen, keyboard selection."""

from __future__ import annotations

import math

from PySide6.QtCore import Qt
from layoutkit import grid_problems
from support import make_photo

from clipdesk.core.catalog import Photo
from clipdesk.core.imaging import ThumbnailCache, decode
from clipdesk.core.search import Hit
from clipdesk.ui.grid.model import PhotoListModel
from clipdesk.ui.grid.thumbs import ThumbnailLoader
from clipdesk.ui.grid.view import PhotoGrid
from clipdesk.ui.workers import Pools


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


def test_arrow_keys_and_shift_select_several(open_window, indexed, qtbot):
    window = open_window(indexed)
    window.grid.setFocus()
    window.grid.setCurrentIndex(window.model.index(0))
    qtbot.keyClick(window.grid, Qt.Key.Key_Right, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClick(window.grid, Qt.Key.Key_Right, Qt.KeyboardModifier.ShiftModifier)
    assert window.grid.selected_rows() == [0, 1, 2]
    # The details panel follows once the selection settles (a short timer).
    qtbot.waitUntil(lambda: window.details.fields["file"].text() == "3 photos selected", timeout=5000)


def test_the_columns_fill_the_width_at_every_window_size(open_window, indexed, qtbot):
    """Issue 16: after a search with few results the grid showed 2 columns where 3
    fit, with no scroll bar: columns were sized to the visible viewport, and
    QListView lays cells out as if its scroll bar were there."""
    window = open_window(indexed)
    qtbot.keyClicks(window.bar, "red")
    assert 0 < window.model.rowCount() < 12
    for width in range(960, 1440, 11):
        window.resize(width, 760)
        qtbot.waitUntil(lambda: window.width() == width, timeout=5000)
        window.grid.doItemsLayout()
        assert grid_problems(window.grid) == [], width

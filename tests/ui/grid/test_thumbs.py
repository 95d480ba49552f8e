"""Grid cells made off the GUI thread from the thumbnail cache."""

from __future__ import annotations

from clipdesk.core.imaging import ThumbnailCache


def test_a_missing_thumbnail_is_made_again_from_the_original(open_window, indexed, qtbot):
    cache = ThumbnailCache(indexed.thumbnails_dir)
    for f in indexed.thumbnails_dir.rglob("*.jpg"):
        f.unlink()
    window = open_window(indexed)
    shown = [window.model.photo(r) for r in window.grid.visible_rows()]
    assert len(shown) > 10
    # Tiles are made by the loader's own worker threads.
    qtbot.waitUntil(lambda: all(cache.has(p.hash) for p in shown), timeout=10000)

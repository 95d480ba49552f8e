"""The sidebar: clicking tags and folders as in Lightroom's keyword list; what is
highlighted is what the query on screen filters by."""

from __future__ import annotations

from PySide6.QtCore import Qt
from uikit import photo_named


def _click(qtbot, window, kind: str, text: str, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    tree = window.sidebar.tags if kind == "tag" else window.sidebar.tree
    item = next(i for i in window.sidebar.items(kind) if i.text(0) == text)
    qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, modifier, tree.visualItemRect(item).center())


def _highlighted(window) -> list[str]:
    return [i.text(0) for kind in ("folder", "tag", "saved") for i in window.sidebar.items(kind) if i.isSelected()]


def test_a_click_on_a_tag_replaces_the_tag_filter_and_ctrl_adds_it(open_window, indexed, qtbot):
    window = open_window(indexed)
    window.photo_actions.tag([photo_named(window, f"red{i}.jpg") for i in range(3)], "poppies")
    window.photo_actions.tag([photo_named(window, "red1.jpg"), photo_named(window, "blue1.jpg")], "sky")
    _click(qtbot, window, "tag", "poppies")
    assert window.bar.text() == "tag:poppies"
    assert window.model.rowCount() == 3
    assert _highlighted(window) == ["poppies"]
    _click(qtbot, window, "tag", "sky", Qt.KeyboardModifier.ControlModifier)
    assert window.bar.text() == "tag:poppies tag:sky"
    assert [h.photo.name for h in window.model.hits()] == ["red1.jpg"]
    assert _highlighted(window) == ["poppies", "sky"]
    _click(qtbot, window, "tag", "sky")
    assert window.bar.text() == "tag:sky"
    assert window.model.rowCount() == 2
    assert _highlighted(window) == ["sky"]


def test_nothing_stays_highlighted_once_its_filter_is_gone(open_window, indexed, qtbot, photos_root):
    """Issue 16: the sidebar kept a folder highlighted after its filter was gone."""
    window = open_window(indexed)
    window.library_ctl.add_folders([str(photos_root / "warm")])  # inside the library: moves its photos
    qtbot.waitUntil(lambda: len(window.sidebar.items("folder")) == 2, timeout=10000)
    _click(qtbot, window, "folder", "warm")
    assert window.bar.text() == f"folder:{photos_root / 'warm'}"
    assert _highlighted(window) == ["warm"]
    window.bar.setFocus()
    window.bar.selectAll()
    qtbot.keyClicks(window.bar, "red")
    assert _highlighted(window) == []
    window.library_ctl.save_search("Reds", "red")
    assert _highlighted(window) == ["Reds"]
    qtbot.keyClick(window.bar, Qt.Key.Key_Escape)
    assert _highlighted(window) == []

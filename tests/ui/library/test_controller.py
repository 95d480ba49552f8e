"""The library controller: the sidebar's folders, tags and saved searches kept current."""

from __future__ import annotations

import os

from colourkit import colour_photo
from support import age
from uikit import names


def test_a_saved_search_stays_live_as_photos_arrive(open_window, indexed, qtbot, photos_root):
    window = open_window(indexed)
    window.library_ctl.save_search("Reds", "red")
    assert [i.text(0) for i in window.sidebar.items("saved")] == ["Reds"]
    item = window.sidebar.items("saved")[0]
    window.sidebar._clicked(item)
    assert window.bar.text() == "red"
    assert window.grid_ctl.answer.text == "red"
    reds = [n for n in names(window) if n.startswith("red")]
    assert len(reds) == 5
    assert window.sidebar.items("saved")[0].text(1) == "5"
    for i in range(5, 8):
        colour_photo(photos_root / "warm" / f"red{i}.jpg", "red", noise=25, seed=i)
        age(photos_root / "warm" / f"red{i}.jpg")
    with qtbot.waitSignal(window.index.finished, timeout=20000):
        window.index.start()
    # The run's end was announced: the search ran again, and so did the saved search's count.
    assert len([n for n in names(window) if n.startswith("red")]) == 8
    assert int(window.sidebar.items("saved")[0].text(1)) >= 8
    window.library_ctl.delete_saved("Reds")
    assert window.sidebar.items("saved") == []


def test_removing_a_folder_forgets_its_photos_and_keeps_the_files(open_window, indexed, photos_root):
    window = open_window(indexed)
    assert [i.text(1) for i in window.sidebar.items("folder")] == ["60"]
    window.library_ctl.remove_folder(str(photos_root), confirm=False)
    assert window.notice.text() == "Removed photos (60 photos left the library)"
    assert window.model.rowCount() == 0
    assert window.sidebar.items("folder") == []
    assert window.grid.empty.isVisible() and "Add a folder" in window.grid.empty.text()
    assert os.path.exists(photos_root / "warm" / "red0.jpg")

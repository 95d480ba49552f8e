"""The library controller: the sidebar's folders, tags and saved searches kept current."""

from __future__ import annotations

import os
import subprocess
import sys

from colourkit import colour_photo
from support import REPO, age
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


def test_an_offline_folder_comes_back_by_itself_while_the_app_runs(open_window, indexed, qtbot, photos_root):
    """Issue 14: only the online folders were watched, so nobody noticed an
    offline one come back."""
    away = photos_root.with_name("photos-unplugged")
    photos_root.rename(away)  # the drive is unplugged before the app starts
    window = open_window(indexed, watch=True, start=False, threads=True)
    window.library_ctl.watcher_options = {"offline_poll_s": 0.2, "debounce_s": 0.1}
    window.start()
    state = lambda: [r.state for r in window.library_ctl.state.folders] if window.library_ctl.state else []  # noqa: E731
    qtbot.waitUntil(lambda: state() == ["offline"] and not window.index.running
                    and window.library_ctl.watcher is not None, timeout=30000)  # started on a worker
    assert window.library_ctl.watcher.roots == [str(photos_root)]
    assert window.model.rowCount() == 60  # offline photos are kept, with their tags
    away.rename(photos_root)  # plugged in again
    qtbot.waitUntil(lambda: state() == ["online"] and not window.index.running, timeout=30000)
    assert window.library.catalog.counts().get("offline", 0) == 0


def test_edits_from_the_command_line_reach_the_window(open_window, indexed, qtbot, tmp_path, monkeypatch):
    """Issue 14: `clipdesk tags add` and `clipdesk folders add` work beside a
    running app; the window shows their edits and indexes the folder added."""
    monkeypatch.setenv("CLIPDESK_DATA_DIR", str(indexed.data_dir))
    monkeypatch.setenv("CLIPDESK_CACHE_DIR", str(indexed.cache_dir))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    window = open_window(indexed, threads=True)
    extra = tmp_path / "more photos"
    for i in range(3):
        colour_photo(extra / f"teal{i}.jpg", "green", noise=25, seed=40 + i)
        age(extra / f"teal{i}.jpg")

    def cli(*args: str) -> None:
        done = subprocess.run([sys.executable, "-m", "clipdesk", *args], capture_output=True, text=True,
                              cwd=REPO, env=env, timeout=120)
        assert done.returncode == 0, done.stderr

    cli("tags", "add", "sky", str(indexed_photo(window, "blue2.jpg")))
    qtbot.waitUntil(lambda: [i.text(0) for i in window.sidebar.items("tag")] == ["sky"], timeout=20000)
    cli("folders", "add", str(extra))
    qtbot.waitUntil(lambda: len(window.sidebar.items("folder")) == 2, timeout=20000)
    qtbot.waitUntil(lambda: window.model.rowCount() == 63 and not window.index.running, timeout=60000)
    assert window.library.catalog.counts()["indexed"] == 63


def indexed_photo(window, name: str):
    return next(h.photo.path for h in window.model.hits() if h.photo.name == name)

"""The search controller: a newer query overtakes an older one; changes run the search again."""

from __future__ import annotations

import threading
import time

from PySide6.QtCore import Qt
from uikit import names

from clipdesk.core.library import Library
from clipdesk.core.search import SearchService


class SlowSearch(SearchService):
    """A search service whose search for "slow" takes a real second."""

    def __init__(self, *args):
        super().__init__(*args)
        self.slow_started = threading.Event()
        self.slow_finished = threading.Event()

    def query(self, query, **kwargs):
        if "slow" in str(query):
            self.slow_started.set()
            time.sleep(1.0)
            result = super().query("red", **kwargs)  # a real answer, with hits
            self.slow_finished.set()
            return result
        return super().query(query, **kwargs)


class SlowLibrary(Library):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.search = SlowSearch(self.catalog, self.models)
        self.slow_started = self.search.slow_started
        self.slow_finished = self.search.slow_finished


def test_a_slow_query_is_overtaken_and_never_shown(open_window, indexed, qtbot):
    library = SlowLibrary(indexed)
    window = open_window(indexed, library=library, threads=True)
    shown, resets = [], []
    window.resultsShown.connect(lambda a: shown.append(a.text))
    window.model.modelReset.connect(lambda: resets.append(names(window)))
    window.bar.setText("slow")
    qtbot.waitUntil(library.slow_started.is_set, timeout=5000)
    window.bar.setText("blue")  # typed while the slow search runs
    qtbot.waitUntil(lambda: window.grid_ctl.answer.text == "blue", timeout=10000)
    qtbot.waitUntil(library.slow_finished.is_set, timeout=5000)
    qtbot.wait(100)  # let the slow result reach the GUI thread, where it must be dropped
    assert "slow" not in shown
    assert window.grid_ctl.answer.text == "blue"
    assert sorted(names(window)[:6]) == sorted([f"blue{i}.jpg" for i in range(5)] + names(window)[5:6])
    assert all(n.startswith("blue") for n in names(window)[:5])
    assert not any(r and r[0].startswith("red") for r in resets)


def test_a_search_by_tag_follows_the_tags(open_window, indexed):
    window = open_window(indexed)
    green = next(h.photo for h in window.model.hits() if h.photo.name == "green1.jpg")
    window.bar.setText("tag:lawn")
    assert window.model.rowCount() == 0
    window.photo_actions.tag([green], "lawn")
    assert names(window) == ["green1.jpg"]


def test_a_search_without_tags_is_not_run_again_when_tags_change(open_window, indexed):
    window = open_window(indexed)
    window.bar.setText("red")
    red = window.model.hits()[0].photo
    runs = window.search_ctl.generation
    window.photo_actions.tag([red], "poppy")
    assert window.search_ctl.generation == runs


def test_the_query_text_is_parsed_once_per_search(open_window, indexed, qtbot, monkeypatch):
    """Issue 15: the search controller parses; the chips, the library and the
    index get the parsed Query, so nobody parses the same text again."""
    from clipdesk.core import query as querylang

    window = open_window(indexed)
    lexed: list[str] = []
    real = querylang.lex
    monkeypatch.setattr(querylang, "lex", lambda text: lexed.append(text) or real(text))
    qtbot.keyClicks(window.bar, "red folder:warm")
    qtbot.waitUntil(lambda: window.grid_ctl.answer.text == "red folder:warm", timeout=10000)
    assert sorted(lexed) == sorted(["r", "re", "red", "red ", *(f"red {'folder:warm'[:i]}" for i in range(1, 12))])
    assert len(lexed) == len(set(lexed))  # each text once


def test_typing_fast_runs_the_model_on_the_text_searched_and_then_on_the_newest(open_window, indexed, qtbot,
                                                                                   monkeypatch):
    """Issue 17: at most one request waits for the search that runs, and a newer
    keystroke replaces it; a text searched again is not encoded again (the
    encoder's calls are counted, nothing is timed)."""
    window = open_window(indexed, threads=True)
    encoder = window.library.models.active().text
    encoded: list[str] = []
    started, release = threading.Event(), threading.Event()
    embed = encoder.embed_texts

    def held(texts):
        encoded.extend(texts)
        if texts == ["g"]:
            started.set()
            release.wait(10)
        return embed(texts)

    monkeypatch.setattr(encoder, "embed_texts", held)
    qtbot.waitUntil(lambda: not window.search_ctl.busy, timeout=10000)  # (the refresh after indexing)
    qtbot.keyClicks(window.bar, "g")
    assert started.wait(10)
    qtbot.keyClicks(window.bar, "reen")  # typed while "g" is being encoded
    release.set()
    qtbot.waitUntil(lambda: window.grid_ctl.answer.text == "green" and not window.search_ctl.busy, timeout=10000)
    assert encoded == ["g", "green"]
    assert all(h.photo.name.startswith("green") for h in window.model.hits()[:5])
    qtbot.keyClick(window.bar, "e")
    qtbot.waitUntil(lambda: window.search_ctl.text == "greene" and not window.search_ctl.busy, timeout=10000)
    qtbot.keyClick(window.bar, Qt.Key.Key_Backspace)  # "green" again: from the cache
    qtbot.waitUntil(lambda: window.grid_ctl.answer.text == "green" and not window.search_ctl.busy, timeout=10000)
    assert encoded == ["g", "green", "greene"]

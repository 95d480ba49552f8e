"""The window on a real X server (Xvfb), driven by xdotool: the mouse moves and
clicks, keys arrive one at a time at a person's pace while the app's event
loop runs (tests/ui/realx.py). The offscreen tests drive the same widgets
through Qt's own events; this is the check that real input agrees."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support import REPO

from clipdesk.core.library import Library

pytestmark = pytest.mark.skipif(not (shutil.which("Xvfb") and shutil.which("xdotool")),
                                reason="needs Xvfb and xdotool (./dev.sh test installs them)")


@pytest.fixture
def display():
    """A fresh Xvfb (the display number is the one it finds free)."""
    xvfb = subprocess.Popen(["Xvfb", "-displayfd", "1", "-screen", "0", "1280x1024x24", "-nolisten", "tcp"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        yield f":{xvfb.stdout.readline().strip()}"
    finally:
        xvfb.terminate()
        xvfb.wait(timeout=30)
        xvfb.stdout.close()


def test_typing_esc_and_tag_clicks_on_a_real_x_server(indexed, photos_root, display, tmp_path):
    """Issue 16: typed at normal speed, `tag:family` became `amilyftag:` (and
    `dress after:2024` became `dress 2024after:`; the test model knows colours,
    not dresses, so it types `red after:2024`); Esc
    clears the box; a click on a tag shows its photos and Ctrl+click adds it."""
    with Library(indexed) as lib:
        red = [lib.search.find_photo(photos_root / "warm" / f"red{i}.jpg").id for i in range(3)]
        lib.tags.accept(red, "family")
        lib.tags.accept(red[:1], "sky")
    out = tmp_path / "seen.json"
    env = {**os.environ, "DISPLAY": display, "CLIPDESK_DATA_DIR": str(indexed.data_dir),
           "CLIPDESK_CACHE_DIR": str(indexed.cache_dir),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    env.pop("QT_QPA_PLATFORM", None)
    driver = subprocess.run([sys.executable, str(Path(__file__).with_name("realx.py")), str(out)],
                            capture_output=True, text=True, env=env, cwd=REPO, timeout=300)
    assert driver.returncode == 0, driver.stderr
    seen = json.loads(out.read_text())
    assert seen["typed tag:family"] == {"text": "tag:family", "caret": 10, "answered": "tag:family",
                                        "highlighted": ["family"]}
    assert seen["Esc"]["text"] == "" and seen["Esc"]["answered"] == ""
    assert seen["typed red after:2024"] == {"text": "red after:2024", "caret": 14,
                                              "answered": "red after:2024", "highlighted": []}
    assert seen["clicked family"]["text"] == "tag:family"
    assert seen["clicked family"]["highlighted"] == ["family"]
    assert seen["ctrl-clicked sky"]["text"] == "tag:family tag:sky"
    assert seen["ctrl-clicked sky"]["highlighted"] == ["family", "sky"]

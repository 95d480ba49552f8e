"""Fixtures for the desktop app: real widgets (offscreen), real files, a real catalog.

Searches and tags use the "colour CLIP" bundle (tests/colourkit.py): a real
ONNX model whose meaning is known, so "red" really finds the red photos.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from bundlekit import image_model, text_model, write_bundle
from colourkit import colour_photo, write_colour_bundle
from hubserver import HubServer
from PIL import Image
from support import age
from syncpools import SyncPools

from clipdesk.core import modelhub


def pytest_collection_modifyitems(items):
    # The offscreen platform warns that it cannot pass size hints to a window
    # manager (it has none); that is not a problem of ours.
    for item in items:
        if "tests/ui/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.qt_log_ignore(r"This plugin does not support (propagateSizeHints|raise)\(\)"))


def write_colour_library(root: Path, per_colour: int = 5, others: int = 40) -> Path:
    """Photos of four colours (five each) in two folders, plus photos of other colours."""
    for colour, folder in (("red", "warm"), ("yellow", "warm"), ("blue", "cold"), ("green", "cold")):
        for i in range(per_colour):
            colour_photo(root / folder / f"{colour}{i}.jpg", colour, noise=25, seed=i)
    rng = np.random.default_rng(5)
    palette = [(130, 70, 170), (60, 180, 200), (235, 235, 240), (25, 25, 30), (90, 100, 150)]
    (root / "misc").mkdir(parents=True, exist_ok=True)
    for i in range(others):
        rgb = np.array(palette[i % len(palette)])
        arr = np.clip(rgb + rng.integers(-20, 21, size=(60, 80, 3)), 0, 255).astype(np.uint8)
        Image.fromarray(arr).save(root / "misc" / f"misc{i:02d}.jpg", quality=90)
    for f in root.rglob("*.*"):
        age(f)
    return root


@pytest.fixture
def colour_model(paths, tmp_path, monkeypatch):
    """The colour bundle installed as the only model, with a colour vocabulary."""
    write_colour_bundle(paths.models_dir / "colour-test")
    resources = tmp_path / "resources"
    (resources / "vocab").mkdir(parents=True)
    (resources / "vocab" / "colour-test.txt").write_text(
        "# colours\nred\nblue\tblue|a photo of blue\ngreen\nyellow\nwhite\nblack\n")
    monkeypatch.setenv("CLIPDESK_RESOURCES_DIR", str(resources))
    shipped = tmp_path / "shipped-models"
    shipped.mkdir()
    monkeypatch.setenv("CLIPDESK_MODELS_DIR", str(shipped))
    return paths


@pytest.fixture
def photos_root(tmp_path):
    return write_colour_library(tmp_path / "photos")


@pytest.fixture
def indexed(colour_model, photos_root):
    """A library with the colour photos added and indexed (before any window opens)."""
    from clipdesk.core.library import Library

    lib = Library(colour_model)
    lib.folders.add(photos_root)
    result = lib.folders.index()
    assert result.indexed == 60 and result.failed == 0
    lib.close()
    return colour_model


@pytest.fixture
def settings(paths):
    from clipdesk.ui.settings import Settings

    return Settings.load(paths.settings)


@pytest.fixture
def open_window(qtbot, settings):
    """Open a MainWindow on a catalog; closed (and its threads stopped) at the end.

    Its background work runs synchronously (:class:`SyncPools`) unless the
    test is about threads and asks for the real pools (``threads=True``).
    Indexing has a thread of its own either way.
    """
    from clipdesk.core.library import Library
    from clipdesk.ui.mainwindow import MainWindow

    opened = []

    def factory(paths, *, library=None, start=True, wait_loaded=True, threads=False, **kwargs):
        kwargs.setdefault("watch", False)
        if not threads:
            kwargs.setdefault("pools", SyncPools())
        lib = library if library is not None else Library(paths)
        window = MainWindow(lib, settings, paths=paths, **kwargs)
        qtbot.addWidget(window)
        opened.append((window, lib))
        window.show()
        if start:
            with qtbot.waitSignal(window.library_ctl.loaded, timeout=10000):
                window.start()
            if wait_loaded:
                qtbot.waitUntil(lambda: window.grid_ctl.answer is not None and not window.index.running
                                and window.search_ctl.warm, timeout=20000)
        return window

    yield factory
    for window, lib in opened:
        window.close()
        window.shutdown()
        lib.close()


@pytest.fixture
def model_hub(tmp_path):
    """A model hub on 127.0.0.1 that serves the recommended model (a small real bundle)."""
    folder = write_bundle(tmp_path / "upstream", dim=16, manifest=False,
                          image_onnx=image_model(32, 16), text_onnx=text_model(12, 16))
    server = HubServer(page_size=3)
    server.add_repo(f"immich-app/{modelhub.DEFAULT_MODEL}", folder, extra={"README.md": b"# model\n"})
    server.start()
    yield server
    server.stop()


@pytest.fixture
def demo(paths):
    """The demo library (300 scenes with their ground truth) indexed with the
    shipped demo model, as the first run sets it up."""
    from support import REPO

    from clipdesk.core.library import Library
    from clipdesk.demo import setup_demo

    if not (REPO / "models" / "clipdesk-mini" / "manifest.json").is_file():
        pytest.skip("the shipped demo model is not in this checkout")
    with Library(paths) as lib:
        folder = setup_demo(lib)
        assert lib.folders.index().indexed == 300
    return paths, {r["file"]: r for r in json.loads((folder / "ground_truth.json").read_text())}

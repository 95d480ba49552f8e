"""Fixtures of the core's service tests: a real library of real JPEGs, indexed
with the real engine on the "colour CLIP" bundle."""

import numpy as np
import pytest
from PIL import Image

from clipdesk.core.library import Library
from colourkit import colour_photo, write_colour_bundle
from support import age


@pytest.fixture
def colour_library(paths, tmp_path, monkeypatch):
    write_colour_bundle(paths.models_dir / "colour-test")
    resources = tmp_path / "resources"
    (resources / "vocab").mkdir(parents=True)
    (resources / "vocab" / "colour-test.txt").write_text(
        "# colours\nred\nblue\tblue|a photo of blue\ngreen\nyellow\n")
    monkeypatch.setenv("CLIPDESK_RESOURCES_DIR", str(resources))
    root = tmp_path / "photos"
    for colour, folder in (("red", "warm"), ("yellow", "warm"), ("blue", "cold"), ("green", "cold")):
        for i in range(5):
            colour_photo(root / folder / f"{colour}{i}.jpg", colour, noise=25, seed=i)
    colour_photo(root / "cold" / "blue-png.png", "blue", noise=25, seed=99)
    # The rest of a library: photos of other colours (purples, cyans, greys, black, white).
    rng = np.random.default_rng(5)
    palette = [(130, 70, 170), (60, 180, 200), (235, 235, 240), (25, 25, 30), (90, 100, 150)]
    for i in range(40):
        rgb = np.array(palette[i % len(palette)])
        arr = np.clip(rgb + rng.integers(-20, 21, size=(60, 80, 3)), 0, 255).astype(np.uint8)
        (root / "misc").mkdir(parents=True, exist_ok=True)
        Image.fromarray(arr).save(root / "misc" / f"misc{i:02d}.jpg", quality=90)
    for f in root.rglob("*.*"):
        age(f)
    lib = Library(paths)
    lib.folders.add(root)
    result = lib.folders.index()
    assert result.indexed == 61 and result.failed == 0
    yield lib, root
    lib.close()

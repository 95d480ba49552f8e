"""The duplicates view (issue 19): groups side by side with the suggested copy
to keep and why, "Keep this one", "Move the others to the trash"."""

from __future__ import annotations

import os
import shutil

import pytest
from colourkit import colour_photo
from PIL import Image
from support import make_photo
from uikit import index_folder


@pytest.fixture
def copies(colour_model, tmp_path):
    """A camera original, a byte-for-byte backup of it and a web re-encode of
    it, beside photos of other colours."""
    root = tmp_path / "copies"
    make_photo(root / "camera" / "IMG_0001.jpg", (640, 480), seed=7, make="Canon", model="Canon EOS R6",
               taken="2022:05:01 10:00:00")
    (root / "backup").mkdir()
    shutil.copyfile(root / "camera" / "IMG_0001.jpg", root / "backup" / "IMG_0001.jpg")
    (root / "web").mkdir()
    with Image.open(root / "camera" / "IMG_0001.jpg") as im:
        im.save(root / "web" / "shared.webp", quality=60)
    for i, colour in enumerate(("red", "blue")):
        colour_photo(root / "others" / f"{colour}.jpg", colour, noise=25, seed=i)
    for folder in ("camera", "backup", "web", "others"):
        index_folder(colour_model, root / folder)
    return colour_model, root


def test_groups_show_the_copy_to_keep_and_why(open_window, copies, qtbot):
    paths, root = copies
    window = open_window(paths)
    dup = window.open_duplicates()
    assert dup.isVisible() and not dup.loading
    group = next(g for g in dup.groups if any(p.name == "shared.webp" for p in g.group.photos))
    names = [c.photo.name for c in group.cards]
    assert sorted(names) == ["IMG_0001.jpg", "IMG_0001.jpg", "shared.webp"]
    keeper = next(c for c in group.cards if c.badge.isVisible())
    assert keeper.photo.name == "IMG_0001.jpg" and "camera" in keeper.badge.text()  # the original, with why
    assert not keeper.keep.isVisible() and all(c.keep.isVisible() for c in group.cards if c is not keeper)
    assert "2 groups" not in dup.summary.text() and "could go" in dup.summary.text()
    assert group.trash_button.text() == "Move the other 2 copies to the trash"
    # Keep the web copy instead: it is marked, the others are the ones to go.
    web = next(c for c in group.cards if c.photo.name == "shared.webp")
    web.keep.click()
    assert web.badge.isVisible() and "your choice" in web.badge.text() and not keeper.badge.isVisible()
    assert sorted(p.name for p in group.others()) == ["IMG_0001.jpg", "IMG_0001.jpg"]
    web.keep.click()  # back to the suggestion
    next(c for c in group.cards if c is keeper).keep.click()
    group.trash_others(confirm=False)
    assert os.path.exists(keeper.photo.path)
    assert len([p for p in (root / "camera", root / "backup", root / "web") if any(p.iterdir())]) == 1
    assert not any(any(p.id == keeper.photo.id for p in g.group.photos) for g in dup.groups)  # a group of one is done
    assert window.undo_action.text() == "&Undo move 2 photos to the trash"

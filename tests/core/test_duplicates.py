"""Which copy to keep (issue 19): originals and their detail, not the most
pixels. Real photos from the corpus, copies made the way tools make them."""

from __future__ import annotations

import os
import shutil

from PIL import Image

import pytest

from clipdesk.core.catalog import Photo
from clipdesk.core.duplicates import looks_like_a_copy, real_pixels
from support import age


def _copy(i: int, path) -> Photo:
    with Image.open(path) as image:
        w, h = image.size
    return Photo(i, 1, str(path), os.path.getsize(path), 0, None, "jpeg", w, h, None, None, None, "indexed", None)


@pytest.mark.parametrize("entry", ["opencv/examples/data/baboon.jpg", "opencv/examples/data/butterfly.jpg",
                                   "opencv/examples/data/apple.jpg", "opencv/examples/data/squirrel_cls.jpg",
                                   "opencv/examples/text/scenetext02.jpg"])
def test_an_enlargement_counts_at_the_size_it_was_made_from(corpus, tmp_path, entry):
    with Image.open(corpus.path(entry)) as source:
        image = source.convert("RGB")
    w, h = image.size
    image.save(tmp_path / "o.jpg", quality=92)
    image.resize((2 * w, 2 * h), Image.Resampling.BICUBIC).save(tmp_path / "up.jpg", quality=92)
    image.resize((w // 2, h // 2), Image.Resampling.LANCZOS).save(tmp_path / "half.jpg", quality=92)
    photos = [_copy(i, tmp_path / n) for i, n in enumerate(("o.jpg", "up.jpg", "half.jpg"))]
    real = real_pixels(photos)
    assert real[0] == w * h  # the original keeps all it has over its half-size copy
    assert real[1] == w * h  # the enlargement is worth its source
    assert real[2] == (w // 2) * (h // 2)


def test_the_original_is_kept_over_an_enlargement_and_a_webp_copy(corpus, library, tmp_path):
    """The old rule (most pixels, then the largest file) suggested keeping the
    upscaled copy and deleting the camera's original."""
    original = corpus.path("opencv/examples/text/scenetext02.jpg")  # a camera JPEG with its EXIF
    root = tmp_path / "lib"
    root.mkdir()
    shutil.copyfile(original, root / "IMG_2041.jpg")
    with Image.open(original) as image:
        image.load()
    w, h = image.size
    image.convert("RGB").resize((w * 2, h * 2), Image.Resampling.BICUBIC).save(
        root / "IMG_2041_upscaled.jpg", quality=95, exif=image.info["exif"])  # it keeps the camera's data
    image.convert("RGB").save(root / "IMG_2041.webp", quality=60)
    age(root / "IMG_2041.jpg", 3 * 86400)
    for name in ("IMG_2041_upscaled.jpg", "IMG_2041.webp"):
        age(root / name, 3600)
    library.folders.add(root)
    library.folders.index()
    (group,) = library.search.duplicates(threshold=0.9)
    assert os.path.basename(group.photos[0].path) == "IMG_2041.jpg"
    assert "original" in group.why
    assert len(group.photos) == 3


@pytest.mark.parametrize("copies", [("beach-copy.jpg", "beach (1).jpg"), ("Copy of beach.jpg", "beach - Copy.jpg"),
                                    ("beach copy 2.jpg", "beach_kopie.jpg")])
def test_byte_identical_copies_keep_the_one_not_named_as_a_copy(corpus, library, tmp_path, copies):
    """A file manager's copy keeps the original's modification time and its
    name sorts first ("beach-copy" < "beach."): the tie went to the copy."""
    root = tmp_path / "lib"
    root.mkdir()
    original = root / "beach.jpg"
    shutil.copyfile(corpus.path("opencv/examples/data/baboon.jpg"), original)
    for name in copies:
        shutil.copy2(original, root / name)  # same bytes, same modification time
    library.folders.add(root)
    library.folders.index()
    (group,) = library.search.duplicates()
    assert group.reason == "identical content"
    assert os.path.basename(group.photos[0].path) == "beach.jpg"
    assert group.why == "the original's name: the others are named as copies"
    assert group.scores == [1.0, 1.0, 1.0]


@pytest.mark.parametrize("name, copy", [("beach.jpg", "beach copy.jpg"), ("beach.jpg", "beach - Copy (3).jpg"),
                                        ("beach.jpg", "beach(2).JPG"), ("beach.jpg", "Copy (2) of beach.jpg"),
                                        ("beach.jpg", "Kopie von beach.jpg"), ("photocopy.jpg", None),
                                        ("copyright.jpg", None), ("IMG_1234.jpg", None), ("DSC-1.jpg", None),
                                        ("2024 (family).jpg", None)])
def test_names_tools_give_to_copies(name, copy):
    assert not looks_like_a_copy(f"/photos/{name}")
    if copy:
        assert looks_like_a_copy(f"/photos/{copy}")


def test_with_nothing_else_to_tell_them_apart_the_older_file_is_kept(corpus, library, tmp_path):
    root = tmp_path / "lib"
    root.mkdir()
    shutil.copyfile(corpus.path("opencv/examples/data/baboon.jpg"), root / "b.jpg")
    shutil.copyfile(root / "b.jpg", root / "a.jpg")
    age(root / "b.jpg", 86400)
    library.folders.add(root)
    library.folders.index()
    (group,) = library.search.duplicates()
    assert [os.path.basename(p.path) for p in group.photos] == ["b.jpg", "a.jpg"]
    assert group.why == "the oldest copy"

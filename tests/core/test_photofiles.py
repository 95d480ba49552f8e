"""What is a photo, decided once (issue 14, part 6): scanner, watcher and drops
ask the same predicate; RAW is recognised and never shown as its small preview."""

from __future__ import annotations

import shutil

import pytest

from clipdesk.core.errors import DecodeError
from clipdesk.core.imaging import decode
from clipdesk.core.photofiles import Kind, classify, raw_format
from clipdesk.core.watch import _relevant
from support import make_photo


@pytest.mark.parametrize("name", [
    "._IMG_1.jpg", "IMG_1.jpg~", "IMG_1.jpg.bak", "IMG_1.jpg_original", "IMG_1.jpg.orig",
    "Thumbs.db", ".DS_Store", "IMG_1.jpg.part", "IMG_1.jpg.crdownload", "IMG_1.xmp",
])
def test_leftovers_beside_photos_are_not_photos(tmp_path, name):
    path = tmp_path / name
    make_photo(path, fmt="JPEG")  # JPEG bytes inside: the name decides
    assert classify(name, path) is Kind.NOT_PHOTO
    assert classify(name) is Kind.NOT_PHOTO
    assert not _relevant(str(path), is_dir=False)


def test_names_that_say_nothing_are_decided_by_content(tmp_path):
    jpeg = tmp_path / "DSC00001"
    make_photo(jpeg)
    text = tmp_path / "notes"
    text.write_text("not a photo")
    assert classify("DSC00001", jpeg) is Kind.PHOTO
    assert classify("notes", text) is Kind.NOT_PHOTO
    assert classify("notes") is Kind.PHOTO  # the watcher: a change there may matter
    assert _relevant(str(jpeg), is_dir=False)


def test_real_raw_files_are_recognised_by_name_and_by_content(corpus, tmp_path):
    raws = corpus.select("raw")
    assert len(raws) >= 10
    for entry in raws:
        path = corpus.path(entry.id)
        data = path.read_bytes()
        assert classify(path.name, path) is Kind.RAW, entry.id
        assert raw_format(path.name, data) is not None, entry.id
        renamed = tmp_path / (path.stem + ".bin")
        shutil.copyfile(path, renamed)
        kind = classify(renamed.name, renamed)
        # Renamed, the ones with their own container still read as RAW; TIFF-based
        # ones read as images, and decode then recognises the maker's layout and
        # hands them to LibRaw (these have no pixels: it says so).
        if kind is Kind.PHOTO:
            with pytest.raises(DecodeError, match="LibRaw|sensor data"):
                decode(renamed)
        else:
            assert kind is Kind.RAW or entry.id.endswith((".crw", ".iiq", ".raw", ".x3f")), entry.id



"""Ratings, flags and colour labels (issue 18): set, filtered, undone, and
written where Lightroom and digiKam read them (ExifTool checks the sidecars)."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from clipdesk.core.scan import Scanner
from clipdesk.core.sidecar import Marks, read_marks
from support import age, make_photo


@pytest.fixture
def culled(library, tmp_path):
    root = tmp_path / "shoot"
    for i in range(5):
        make_photo(root / f"DSC_{i:04d}.jpg", seed=i)
        age(root / f"DSC_{i:04d}.jpg")
    library.folders.add(root)
    Scanner(library.catalog).reconcile()
    ids = [library.search.find_photo(root / f"DSC_{i:04d}.jpg").id for i in range(5)]
    return library, root, ids


def count(lib, text) -> int:
    return len(lib.search.query(text).hits)


def test_marks_are_filters_that_combine(culled):
    lib, _, ids = culled
    lib.marks.rate(ids[:3], 4)
    lib.marks.rate(ids[3:4], 2)
    lib.marks.flag(ids[:1], "pick")
    lib.marks.flag(ids[4:], "reject")
    lib.marks.label(ids[1:3], "red")
    assert count(lib, "rating:>=3") == 3 and count(lib, "rating:0") == 1 and count(lib, "rating:<3") == 2
    assert count(lib, "flag:pick") == 1 and count(lib, "flag:reject") == 1 and count(lib, "flag:none") == 3
    assert count(lib, "-flag:reject") == 4
    assert count(lib, "label:red rating:>=4") == 2 and count(lib, "label:none") == 3
    with pytest.raises(Exception, match="0 to 5"):
        lib.marks.rate(ids, 6)


def test_every_mark_is_undone_and_redone(culled):
    lib, _, ids = culled
    lib.marks.rate(ids[:2], 3)
    before = lib.marks.of(ids)
    for change in (lambda: lib.marks.rate(ids, 5), lambda: lib.marks.flag(ids[1:], "reject"),
                   lambda: lib.marks.label(ids, "purple")):
        done = change()
        after = lib.marks.of(ids)
        redo = done.undo.run()
        assert lib.marks.of(ids) == before
        redo.undo.run()
        assert lib.marks.of(ids) == after
        done.undo.run()


@pytest.mark.skipif(shutil.which("exiftool") is None, reason="ExifTool (libimage-exiftool-perl) is not installed")
def test_marks_reach_the_sidecar_as_lightroom_and_digikam_read_them(culled):
    lib, root, ids = culled
    lib.tags.write_sidecars = True
    lib.marks.rate(ids[:1], 4)
    lib.marks.label(ids[:1], "green")
    lib.marks.flag(ids[1:2], "reject")
    lib.marks.rate(ids[1:2], 3)
    out = subprocess.run(["exiftool", "-json", "-XMP:Rating", "-XMP:Label",
                          str(root / "DSC_0000.jpg.xmp"), str(root / "DSC_0001.jpg.xmp")],
                         capture_output=True, text=True, check=True)
    first, second = json.loads(out.stdout)
    assert first["Rating"] == 4 and first["Label"] == "Green"
    assert second["Rating"] == -1  # rejected, as Adobe Bridge writes it
    assert read_marks(root / "DSC_0001.jpg") == Marks(0, True, None)  # the file says rejected, not 3 stars
    lib.marks.flag(ids[1:2], None)  # not rejected any more: its stars come back
    assert read_marks(root / "DSC_0001.jpg") == Marks(3, False, None)


def _sidecar(root, name) -> dict:
    """The sidecar as ExifTool (what Lightroom and digiKam read) reads it."""
    out = subprocess.run(["exiftool", "-json", "-XMP:Rating", "-XMP:Label", "-XMP:Subject", "-XMP:HierarchicalSubject",
                          str(root / f"{name}.xmp")], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)[0]


@pytest.mark.skipif(shutil.which("exiftool") is None, reason="ExifTool (libimage-exiftool-perl) is not installed")
@pytest.mark.parametrize("first", ["tag", "mark"])
def test_a_new_sidecar_holds_everything_the_catalog_knows_of_the_photo(culled, first):
    """Tags and marks made while sidecar writing was off were missing from the
    sidecar the first later change created: only that change was written."""
    lib, root, ids = culled
    lib.tags.accept(ids[:1], "Places|Beach")
    lib.marks.rate(ids[:1], 4)
    lib.marks.label(ids[:1], "red")
    assert not (root / "DSC_0000.jpg.xmp").exists()
    lib.tags.write_sidecars = True
    if first == "tag":
        lib.tags.accept(ids[:1], "sunset")
    else:
        lib.marks.flag(ids[:1], "pick")
    got = _sidecar(root, "DSC_0000.jpg")
    assert got["Rating"] == 4 and got["Label"] == "Red"
    subjects = got["Subject"] if isinstance(got["Subject"], list) else [got["Subject"]]
    assert sorted(subjects) == (["Beach", "sunset"] if first == "tag" else ["Beach"])
    assert "Places|Beach" in (got["HierarchicalSubject"] if isinstance(got["HierarchicalSubject"], list)
                              else [got["HierarchicalSubject"]])
    assert not (root / "DSC_0001.jpg.xmp").exists()  # photos nobody touched get no sidecar


@pytest.mark.skipif(shutil.which("exiftool") is None, reason="ExifTool (libimage-exiftool-perl) is not installed")
def test_an_existing_sidecar_gets_only_the_change(culled):
    """What another tool wrote since the last scan stays: the catalog's older
    view of the photo is not written over it."""
    lib, root, ids = culled
    lib.marks.rate(ids[:1], 2)
    xmp = root / "DSC_0000.jpg.xmp"
    subprocess.run(["exiftool", "-q", "-o", str(xmp), "-XMP:Rating=5", "-XMP:Subject=family", str(root / "DSC_0000.jpg")],
                   check=True)
    lib.tags.write_sidecars = True
    lib.tags.accept(ids[:1], "sunset")
    got = _sidecar(root, "DSC_0000.jpg")
    assert got["Rating"] == 5  # another tool's rating, not the catalog's 2
    assert sorted(got["Subject"]) == ["family", "sunset"]

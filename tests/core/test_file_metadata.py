"""What a photographer already did, imported on the first scan (issue 18):
keywords, ratings and labels in the photos' own XMP/IPTC and in their
sidecars, written by ExifTool the way Lightroom and digiKam write them."""

from __future__ import annotations

import os
import shutil
import subprocess
import time

import pytest

from clipdesk.core.scan import Scanner
from support import age, make_photo

pytestmark = pytest.mark.skipif(shutil.which("exiftool") is None,
                                reason="ExifTool (libimage-exiftool-perl) is not installed")


def exiftool(*args):
    subprocess.run(["exiftool", "-q", "-overwrite_original", *map(str, args)], check=True)


def tags(lib, path) -> dict[str, tuple[str, str]]:
    photo = lib.search.find_photo(path)
    return {t.tag: (t.source, t.state) for t in lib.tags.of_photo(photo.id)}


@pytest.fixture
def shoot(library, tmp_path):
    root = tmp_path / "shoot"
    lightroom = root / "lr.jpg"
    make_photo(lightroom, seed=1)
    exiftool("-XMP-dc:Subject=beach", "-XMP-lr:HierarchicalSubject=Places|Beach", "-XMP-lr:HierarchicalSubject=AC/DC",
             "-XMP-dc:Subject=AC/DC", "-XMP-xmp:Rating=4", "-XMP-xmp:Label=Red", lightroom)
    iptc = root / "iptc.jpg"
    make_photo(iptc, seed=2)
    exiftool("-IPTC:Keywords=sun", "-IPTC:Keywords=sea", "-IPTC:CodedCharacterSet=UTF8", "-IPTC:Keywords=Café", iptc)
    digikam = root / "dk.jpg"
    make_photo(digikam, seed=3)
    exiftool("-XMP-digiKam:TagsList=People/Anna", "-XMP-xmp:Rating=-1", "-o", root / "dk.jpg.xmp", digikam)
    for f in root.iterdir():
        age(f)
    library.folders.add(root)
    library.folders.index(embed=False)
    return library, root


def test_keywords_and_marks_in_the_files_come_in_on_the_first_scan(shoot):
    lib, root = shoot
    assert tags(lib, root / "lr.jpg") == {"Places|Beach": ("file", "accepted"), "AC/DC": ("file", "accepted")}
    photo = lib.search.find_photo(root / "lr.jpg")
    assert lib.marks.of([photo.id])[photo.id] == (4, None, "red")
    assert set(tags(lib, root / "iptc.jpg")) == {"sun", "sea", "Café"}
    assert tags(lib, root / "dk.jpg") == {"People|Anna": ("file", "accepted")}
    dk = lib.search.find_photo(root / "dk.jpg")
    assert lib.marks.of([dk.id])[dk.id] == (0, "reject", None)  # xmp:Rating -1, as digiKam writes a rejection
    assert len(lib.search.query("tag:places rating:>=4 label:red").hits) == 1
    assert len(lib.search.query("flag:reject").hits) == 1


def test_a_sidecar_changed_by_another_program_is_read_again_and_the_users_edits_stay(shoot):
    lib, root = shoot
    dk = lib.search.find_photo(root / "dk.jpg")
    lib.tags.accept([dk.id], "mine")
    lib.tags.remove([dk.id], "People|Anna")  # the user took the file's tag off
    time.sleep(0.01)
    exiftool("-XMP-digiKam:TagsList+=Places/Park", "-XMP-xmp:Rating=3", root / "dk.jpg.xmp")
    report = Scanner(lib.catalog).reconcile()
    assert report.reread == 1 and report.changed == 0
    assert tags(lib, root / "dk.jpg") == {"Places|Park": ("file", "accepted"), "mine": ("user", "accepted")}
    assert lib.marks.of([dk.id])[dk.id] == (3, None, None)  # the other program rated it later: the last writer wins
    assert Scanner(lib.catalog).reconcile().reread == 0  # nothing changed since
    exiftool("-XMP-digiKam:TagsList-=Places/Park", root / "dk.jpg.xmp")
    Scanner(lib.catalog).reconcile()
    assert tags(lib, root / "dk.jpg") == {"mine": ("user", "accepted")}


def test_a_users_rating_is_not_undone_by_a_file_that_did_not_change(shoot):
    lib, root = shoot
    photo = lib.search.find_photo(root / "lr.jpg")
    lib.marks.rate([photo.id], 1)
    os.utime(root / "lr.jpg", None)  # touched, the same content: read again
    lib.folders.index(embed=False)
    assert lib.marks.of([photo.id])[photo.id][0] == 1


@pytest.mark.parametrize("first", ["tag", "mark"])
def test_what_clipdesk_wrote_to_a_sidecar_is_not_read_back_as_another_programs_edit(shoot, first):
    """A new user: tags add red; tags add glass --sidecars (the new sidecar holds
    red too); tags remove red without --sidecars; scan: red was back, since the
    scan took ClipDesk's own sidecar for an edit made elsewhere."""
    lib, root = shoot
    photo = lib.search.find_photo(root / "iptc.jpg")
    lib.tags.accept([photo.id], "red")
    lib.tags.write_sidecars = True
    if first == "tag":
        lib.tags.accept([photo.id], "glass")
    else:
        lib.marks.rate([photo.id], 5)
    assert (root / "iptc.jpg.xmp").is_file()
    lib.tags.write_sidecars = False
    lib.tags.remove([photo.id], "red")
    lib.marks.rate([photo.id], 2)
    for _ in range(2):
        Scanner(lib.catalog).reconcile()
        assert "red" not in tags(lib, root / "iptc.jpg")
        assert lib.marks.of([photo.id])[photo.id][0] == 2
    # Another program's edit after ClipDesk's still comes in.
    time.sleep(0.01)
    exiftool("-XMP-dc:Subject+=family", root / "iptc.jpg.xmp")
    assert Scanner(lib.catalog).reconcile().reread == 1
    assert tags(lib, root / "iptc.jpg")["family"] == ("file", "accepted")
    assert "red" not in tags(lib, root / "iptc.jpg")


def test_an_edit_made_elsewhere_before_clipdesk_writes_the_sidecar_still_comes_in(shoot):
    lib, root = shoot
    dk = lib.search.find_photo(root / "dk.jpg")
    time.sleep(0.01)
    exiftool("-XMP-digiKam:TagsList+=Places/Park", root / "dk.jpg.xmp")  # not scanned yet
    lib.tags.write_sidecars = True
    lib.tags.accept([dk.id], "mine")
    Scanner(lib.catalog).reconcile()
    assert tags(lib, root / "dk.jpg") == {"People|Anna": ("file", "accepted"), "Places|Park": ("file", "accepted"),
                                          "mine": ("user", "accepted")}

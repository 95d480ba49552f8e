"""The photos' files (issue 19): export, the system trash, move to a folder.
Real files; ExifTool reads what the exports carry."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest
from PIL import Image

from clipdesk.core.errors import UsageError
from clipdesk.core.export import ExportOptions
from clipdesk.core.scan import Scanner
from support import age, make_photo

needs_exiftool = pytest.mark.skipif(shutil.which("exiftool") is None, reason="ExifTool (libimage-exiftool-perl) is not installed")


def exiftool(path) -> dict:
    out = subprocess.run(["exiftool", "-json", "-G1", str(path)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)[0]


@pytest.fixture
def shoot(library, corpus, tmp_path):
    """A library with a real camera photo that has a GPS position and an orientation."""
    root = tmp_path / "lib"
    root.mkdir()
    gps = next(e for e in corpus.select("gps", "format:jpeg", "camera") if (e.width or 0) >= 100)
    shutil.copyfile(corpus.path(gps.id), root / "gps.jpg")
    make_photo(root / "turned.jpg", (320, 240), seed=3, orientation=6, make="Canon", model="Canon EOS R6")
    for f in root.iterdir():
        age(f)
    library.folders.add(root)
    Scanner(library.catalog).reconcile()
    ids = {p.name: p.id for p in library.catalog.photos()}
    return library, root, ids


def test_originals_are_copied_byte_for_byte_with_their_sidecar(shoot, tmp_path):
    lib, root, ids = shoot
    (root / "gps.jpg.xmp").write_text('<x:xmpmeta xmlns:x="adobe:ns:meta/"/>')
    out = tmp_path / "out"
    report = lib.files.export([ids["gps.jpg"]], out)
    assert report.written == [out / "gps.jpg"] and not report.failed
    assert (out / "gps.jpg").read_bytes() == (root / "gps.jpg").read_bytes()
    assert (out / "gps.jpg.xmp").exists()
    again = lib.files.export([ids["gps.jpg"]], out)
    assert again.written == [out / "gps (2).jpg"]  # never overwritten
    assert again.notes == [(str(out / "gps (2).jpg"), "saved as gps (2).jpg: gps.jpg was there already")]


@needs_exiftool
def test_stripping_an_original_keeps_its_pixels_and_removes_what_was_asked(shoot, tmp_path):
    lib, root, ids = shoot
    before = exiftool(root / "gps.jpg")
    assert any(k.startswith("GPS:") for k in before)
    lib.files.export([ids["gps.jpg"]], tmp_path / "nogps", ExportOptions(metadata="no-gps"))
    lib.files.export([ids["gps.jpg"]], tmp_path / "bare", ExportOptions(metadata="strip"))
    nogps, bare = exiftool(tmp_path / "nogps" / "gps.jpg"), exiftool(tmp_path / "bare" / "gps.jpg")
    assert not any(k.startswith("GPS:") or "GPS" in k.split(":")[-1] for k in nogps)
    assert nogps.get("IFD0:Make") == before.get("IFD0:Make")
    assert not any(k.startswith(("IFD0:", "ExifIFD:", "GPS:", "XMP", "IPTC:")) for k in bare)
    with Image.open(root / "gps.jpg") as a, Image.open(tmp_path / "bare" / "gps.jpg") as b:
        assert a.tobytes() == b.tobytes()  # lossless: the same pixels


@needs_exiftool
def test_resized_jpegs_are_upright_no_larger_than_asked_and_keep_the_camera(shoot, tmp_path):
    lib, root, ids = shoot
    report = lib.files.export([ids["turned.jpg"], ids["gps.jpg"]], tmp_path / "small",
                              ExportOptions(resize=100, quality=80, metadata="no-gps"))
    assert not report.failed
    with Image.open(tmp_path / "small" / "turned.jpg") as im:
        assert im.size == (75, 100)  # 320x240 turned by its EXIF orientation 6
    meta = exiftool(tmp_path / "small" / "turned.jpg")
    assert meta["IFD0:Orientation"] == "Horizontal (normal)" and meta["IFD0:Model"] == "Canon EOS R6"
    assert not any(k.startswith("GPS:") for k in exiftool(tmp_path / "small" / "gps.jpg"))


def test_a_photo_that_cannot_be_exported_is_reported_and_the_rest_goes(shoot, tmp_path):
    lib, root, ids = shoot
    os.remove(root / "gps.jpg")
    report = lib.files.export([ids["gps.jpg"], ids["turned.jpg"]], tmp_path / "out")
    assert [p.name for p in report.written] == ["turned.jpg"]
    assert report.failed and report.failed[0][0].endswith("gps.jpg")


def test_moving_to_the_trash_takes_the_file_and_its_sidecar_out(shoot):
    lib, root, ids = shoot
    (root / "turned.jpg.xmp").write_text('<x:xmpmeta xmlns:x="adobe:ns:meta/"/>')
    changes, failed = lib.files.trash([ids["turned.jpg"]])
    assert not failed and changes.removed == {ids["turned.jpg"]}
    assert not (root / "turned.jpg").exists() and not (root / "turned.jpg.xmp").exists()
    # send2trash reads XDG_DATA_HOME once, when first imported (by whichever test trashed first).
    from send2trash.plat_other import HOMETRASH

    assert "turned.jpg" in os.listdir(os.path.join(HOMETRASH, "files"))
    assert lib.search.find_photo(root / "turned.jpg") is None


def test_moving_within_the_library_keeps_the_photo_and_its_tags(shoot, tmp_path):
    lib, root, ids = shoot
    lib.tags.accept([ids["turned.jpg"]], "portrait")
    (root / "best").mkdir()
    changes, failed = lib.files.move([ids["turned.jpg"]], root / "best")
    assert not failed and changes.photos == {ids["turned.jpg"]}
    moved = lib.search.find_photo(root / "best" / "turned.jpg")
    assert moved.id == ids["turned.jpg"] and [t.tag for t in lib.tags.of_photo(moved.id)] == ["portrait"]
    assert Scanner(lib.catalog).reconcile().added == 0
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    changes, _ = lib.files.move([ids["gps.jpg"]], outside)
    assert changes.removed == {ids["gps.jpg"]} and (outside / "gps.jpg").exists()


def test_details_read_the_file_and_name_its_sidecar_or_say_why_not(shoot, corpus, tmp_path):
    lib, root, ids = shoot
    (root / "gps.xmp").write_text('<x:xmpmeta xmlns:x="adobe:ns:meta/"/>')
    gps = lib.files.details(lib.search.photo(ids["gps.jpg"]))
    assert gps.problem is None and gps.metadata.shot.position is not None
    assert gps.sidecar == str(root / "gps.xmp")
    turned = lib.files.details(lib.search.photo(ids["turned.jpg"]))
    assert turned.metadata.camera == "Canon EOS R6" and (turned.metadata.width, turned.metadata.height) == (240, 320)
    assert turned.sidecar is None
    os.remove(root / "turned.jpg")
    assert lib.files.details(lib.search.photo(ids["turned.jpg"])).problem == "the file is not there any more"
    raw = corpus.select("raw")[0]
    shutil.copyfile(corpus.path(raw), root / os.path.basename(raw.id))
    age(root / os.path.basename(raw.id))
    Scanner(lib.catalog).reconcile()
    photo = lib.search.find_photo(root / os.path.basename(raw.id))
    shot = lib.files.details(photo).metadata  # a RAW's own EXIF, read without LibRaw
    assert shot.camera == "Canon EOS 350D DIGITAL" and shot.shot.iso == 400


def test_the_trash_can_be_undone_where_the_system_keeps_a_way_back(shoot):
    """On freedesktop.org systems the trash records where each file came from:
    the undo puts the photo, its sidecar, its id and its tags back; redo
    trashes them again."""
    from clipdesk.core.trashcan import restorable

    lib, root, ids = shoot
    pid = ids["turned.jpg"]
    lib.tags.accept([pid], "portrait")
    (root / "turned.jpg.xmp").write_text('<x:xmpmeta xmlns:x="adobe:ns:meta/"/>')
    before = (root / "turned.jpg").read_bytes()
    trash_info = os.path.join(os.path.dirname(lib_trash_files()), "info")
    records = sorted(os.listdir(trash_info)) if os.path.isdir(trash_info) else []
    changes, failed = lib.files.trash([pid])
    assert not failed and not (root / "turned.jpg").exists()
    if not restorable():
        assert changes.undo is None
        return
    assert changes.undo.label == "Move 1 photo to the trash"
    back = changes.undo.run()
    assert (root / "turned.jpg").read_bytes() == before and (root / "turned.jpg.xmp").exists()
    photo = lib.search.find_photo(root / "turned.jpg")
    assert photo.id == pid and back.photos == {pid} and back.catalog
    assert [t.tag for t in lib.tags.of_photo(pid)] == ["portrait"]
    assert sorted(os.listdir(trash_info)) == records  # the trash forgot them
    again = back.undo.run()
    assert again.removed == {pid} and not (root / "turned.jpg").exists()
    (root / "turned.jpg").write_bytes(b"another file took its place")
    with pytest.raises(UsageError, match="there is a file at"):
        again.undo.run()


def lib_trash_files() -> str:
    """The trash folder send2trash uses in this process (it reads $XDG_DATA_HOME once, on import)."""
    from send2trash import plat_other

    return os.fsdecode(os.path.join(plat_other.HOMETRASH_B, b"files"))


def test_a_move_can_be_undone_inside_and_out_of_the_library(shoot, tmp_path):
    lib, root, ids = shoot
    lib.tags.accept([ids["gps.jpg"]], "travel")
    (root / "best").mkdir()
    changes, _ = lib.files.move([ids["turned.jpg"]], root / "best")
    assert changes.undo.label == "Move 1 photo to best"
    back = changes.undo.run()
    assert (root / "turned.jpg").exists() and not (root / "best" / "turned.jpg").exists()
    assert lib.search.find_photo(root / "turned.jpg").id == ids["turned.jpg"] and back.photos == {ids["turned.jpg"]}
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (root / "gps.jpg.xmp").write_text('<x:xmpmeta xmlns:x="adobe:ns:meta/"/>')
    changes, _ = lib.files.move([ids["gps.jpg"]], outside)
    assert lib.search.find_photo(root / "gps.jpg") is None
    changes.undo.run()
    assert (root / "gps.jpg").exists() and (root / "gps.jpg.xmp").exists() and not (outside / "gps.jpg").exists()
    photo = lib.search.find_photo(root / "gps.jpg")
    assert photo.id == ids["gps.jpg"] and [t.tag for t in lib.tags.of_photo(photo.id)] == ["travel"]

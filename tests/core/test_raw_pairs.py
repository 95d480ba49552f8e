"""RAW+JPEG pairs: one photo with two files, the RAW its master, on real DNG
files written from a real photograph (tests/rawkit.py) and real JPEGs."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest
from PIL import Image
from rawkit import write_dng
from support import age

needs_exiftool = pytest.mark.skipif(shutil.which("exiftool") is None,
                                    reason="ExifTool (libimage-exiftool-perl) is not installed")


@pytest.fixture(scope="module")
def photograph(corpus):
    entry = next(e for e in corpus.select("format:jpeg", "decodes") if e.id.endswith("plant.jpg"))
    img = Image.open(corpus.path(entry)).convert("RGB")
    img.thumbnail((400, 400))
    return img


def shoot(folder, photograph, stem="DSC_0001", *, raw=True, jpeg=True, jpeg_ext=".JPG"):
    """What a camera set to RAW+JPEG writes: NAME.DNG and NAME.JPG."""
    folder.mkdir(parents=True, exist_ok=True)
    made = []
    if raw:
        made.append(write_dng(folder / f"{stem}.DNG", photograph, make="Nikon", model="Z 6"))
    if jpeg:
        photograph.save(folder / f"{stem}{jpeg_ext}", quality=90)
        made.append(folder / f"{stem}{jpeg_ext}")
    for p in made:
        age(p)
    return made


def test_a_raw_and_its_jpeg_are_one_photo_with_the_raw_as_master(library, tmp_path, photograph):
    root = tmp_path / "card"
    raw, jpeg = shoot(root, photograph)
    shoot(root, photograph, "DSC_0002", raw=False)  # a JPEG alone stays a photo of its own
    library.folders.add(root)
    library.folders.index(embed=False)
    pair = library.search.find_photo(raw)
    assert pair.companion == str(jpeg) and pair.files == [str(raw), str(jpeg)]
    assert (pair.status, pair.format, pair.camera) == ("indexed", "dng", "Nikon Z 6")
    assert library.search.find_photo(jpeg).id == pair.id  # the JPEG finds its pair
    assert library.search.find_photo(root / "DSC_0002.JPG").companion is None
    counts = {s: n for s, n in library.folders.counts().items() if n}
    assert counts == {"indexed": 2}


def test_the_jpeg_pairs_whatever_the_case_of_its_name_and_extension(library, tmp_path, photograph):
    root = tmp_path / "card"
    raw, jpeg = shoot(root, photograph, "img_7", jpeg_ext=".jpeg")
    raw = raw.rename(root / "IMG_7.DNG")
    library.folders.add(root)
    library.folders.index(embed=False)
    assert library.search.find_photo(raw).companion == str(jpeg)


def test_a_catalogued_jpeg_whose_raw_appears_becomes_the_pair_and_keeps_its_tags(library, tmp_path, photograph):
    root = tmp_path / "card"
    (jpeg,) = shoot(root, photograph, raw=False)
    library.folders.add(root)
    library.folders.index(embed=False)
    alone = library.search.find_photo(jpeg)
    library.tags.accept([alone.id], "Garden")
    library.marks.rate([alone.id], 4)
    (raw,) = shoot(root, photograph, jpeg=False)  # imported the RAWs later
    library.folders.index(embed=False)
    pair = library.search.find_photo(raw)
    assert pair.id == alone.id and pair.companion == str(jpeg)
    assert (pair.status, pair.format) == ("indexed", "dng")
    assert [t.tag for t in library.tags.of_photo(pair.id)] == ["Garden"]
    assert library.marks.of([pair.id])[pair.id][0] == 4


def test_a_pair_whose_raw_is_deleted_becomes_its_jpeg_and_keeps_its_tags(library, tmp_path, photograph):
    root = tmp_path / "card"
    raw, jpeg = shoot(root, photograph)
    library.folders.add(root)
    library.folders.index(embed=False)
    pair = library.search.find_photo(raw)
    library.tags.accept([pair.id], "Garden")
    raw.unlink()
    library.folders.index(embed=False)
    left = library.search.find_photo(jpeg)
    assert left.id == pair.id and left.path == str(jpeg) and left.companion is None
    assert (left.status, left.format) == ("indexed", "jpeg")
    assert [t.tag for t in library.tags.of_photo(left.id)] == ["Garden"]


def test_a_pair_whose_jpeg_is_deleted_is_the_raw_alone(library, tmp_path, photograph):
    root = tmp_path / "card"
    raw, jpeg = shoot(root, photograph)
    library.folders.add(root)
    library.folders.index(embed=False)
    jpeg.unlink()
    library.folders.index(embed=False)
    assert library.search.find_photo(raw).companion is None


def test_a_pair_moved_to_another_folder_keeps_its_id_and_its_companion(library, tmp_path, photograph):
    root = tmp_path / "lib"
    raw, jpeg = shoot(root / "card", photograph)
    library.folders.add(root)
    library.folders.index(embed=False)
    pair = library.search.find_photo(raw)
    (root / "2024").mkdir()
    for f in (raw, jpeg):
        os.rename(f, root / "2024" / f.name)
    library.folders.index(embed=False)
    moved = library.search.find_photo(root / "2024" / raw.name)
    assert moved.id == pair.id and moved.companion == str(root / "2024" / jpeg.name)


@needs_exiftool
def test_the_pair_has_one_sidecar_named_as_lightroom_names_it(library, tmp_path, photograph):
    root = tmp_path / "card"
    raw, jpeg = shoot(root, photograph)
    library.folders.add(root)
    library.folders.index(embed=False)
    pair = library.search.find_photo(raw)
    library.tags.write_sidecars = True
    changes = library.tags.accept([pair.id], "Places|Garden")
    assert not changes.sidecar_failures
    assert sorted(p.name for p in root.glob("*.xmp")) == ["DSC_0001.xmp"]
    out = subprocess.run(["exiftool", "-json", "-XMP:Subject", "-XMP:HierarchicalSubject", str(root / "DSC_0001.xmp")],
                         capture_output=True, text=True, check=True)
    tags = json.loads(out.stdout)[0]
    assert tags["Subject"] == "Garden" and tags["HierarchicalSubject"] == "Places|Garden"


@needs_exiftool
def test_keywords_digikam_wrote_beside_the_jpeg_of_a_pair_are_imported(library, tmp_path, photograph):
    root = tmp_path / "card"
    raw, jpeg = shoot(root, photograph)
    sidecar = root / "DSC_0001.JPG.xmp"  # digiKam's name for the JPEG's own sidecar
    subprocess.run(["exiftool", "-q", "-o", str(sidecar), "-XMP-digiKam:TagsList=People/Ann",
                    "-XMP-dc:Subject=Ann", "-XMP-xmp:Rating=3"], check=True, capture_output=True)
    age(sidecar)
    library.folders.add(root)
    library.folders.index(embed=False)
    pair = library.search.find_photo(raw)
    assert [t.tag for t in library.tags.of_photo(pair.id)] == ["People|Ann"]
    assert library.marks.of([pair.id])[pair.id][0] == 3


def test_a_raw_is_the_copy_to_keep_of_its_exported_jpeg(library, tmp_path, photograph):
    root = tmp_path / "lib"
    (raw,) = shoot(root / "originals", photograph, jpeg=False)
    (export,) = shoot(root / "exports", photograph, "holiday-1", raw=False)
    library.folders.add(root)
    library.folders.index()
    groups = library.search.duplicates()
    assert len(groups) == 1
    assert [p.path for p in groups[0].photos] == [str(raw), str(export)]
    assert "RAW" in groups[0].why


def test_type_raw_finds_every_raw_format_and_type_dng_one(library, tmp_path, photograph):
    root = tmp_path / "card"
    (dng,) = shoot(root, photograph, jpeg=False)
    shoot(root, photograph, "other", raw=False)
    library.folders.add(root)
    library.folders.index(embed=False)
    assert [h.photo.path for h in library.search.query("type:raw").hits] == [str(dng)]
    assert [h.photo.path for h in library.search.query("type:dng").hits] == [str(dng)]
    assert [h.photo.name for h in library.search.query("-type:raw").hits] == ["other.JPG"]


def test_a_removed_pair_stays_out_and_comes_back_whole_on_undo(library, tmp_path, photograph):
    root = tmp_path / "card"
    raw, jpeg = shoot(root, photograph)
    library.folders.add(root)
    library.folders.index(embed=False)
    pair = library.search.find_photo(raw)
    library.tags.accept([pair.id], "Garden")
    library.marks.rate([pair.id], 5)
    library.marks.flag([pair.id], "pick")
    removed = library.folders.remove_photos([pair.id])
    library.folders.index(embed=False)
    assert library.search.find_photo(raw) is None and library.search.find_photo(jpeg) is None  # neither file returns
    removed.undo.run()
    back = library.search.find_photo(raw)
    assert back.companion == str(jpeg)
    assert library.marks.of([back.id])[back.id] == (5, "pick", None)
    assert [t.tag for t in library.tags.of_photo(back.id)] == ["Garden"]


def _pair_library(library, tmp_path, photograph):
    root = tmp_path / "lib"
    raw, jpeg = shoot(root / "card", photograph)
    (root / "card" / "DSC_0001.xmp").write_text(
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:Rating="2"/></rdf:RDF></x:xmpmeta>')
    age(root / "card" / "DSC_0001.xmp")
    library.folders.add(root)
    library.folders.index(embed=False)
    return root, raw, jpeg, library.search.find_photo(raw)


def test_moving_a_pair_takes_both_files_and_their_sidecar_and_undo_brings_them_back(library, tmp_path, photograph):
    root, raw, jpeg, pair = _pair_library(library, tmp_path, photograph)
    (root / "best").mkdir()
    changes, failed = library.files.move([pair.id], root / "best")
    assert not failed
    assert sorted(p.name for p in (root / "best").iterdir()) == ["DSC_0001.DNG", "DSC_0001.JPG", "DSC_0001.xmp"]
    moved = library.search.find_photo(root / "best" / "DSC_0001.DNG")
    assert moved.id == pair.id and moved.companion == str(root / "best" / "DSC_0001.JPG")
    changes.undo.run()
    assert sorted(p.name for p in (root / "card").iterdir()) == ["DSC_0001.DNG", "DSC_0001.JPG", "DSC_0001.xmp"]
    assert library.search.find_photo(raw).companion == str(jpeg)


def test_trashing_a_pair_trashes_both_files_and_their_sidecar(library, tmp_path, photograph):
    root, raw, jpeg, pair = _pair_library(library, tmp_path, photograph)
    changes, failed = library.files.trash([pair.id])
    assert not failed and list((root / "card").iterdir()) == []
    if changes.undo is not None:
        changes.undo.run()
        assert sorted(p.name for p in (root / "card").iterdir()) == ["DSC_0001.DNG", "DSC_0001.JPG", "DSC_0001.xmp"]
        assert library.search.find_photo(jpeg).id == library.search.find_photo(raw).id


def test_exporting_a_pair(library, tmp_path, photograph):
    from clipdesk.core.export import ExportOptions

    root, raw, jpeg, pair = _pair_library(library, tmp_path, photograph)
    originals = library.files.export([pair.id], tmp_path / "out")
    assert not originals.failed
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["DSC_0001.DNG", "DSC_0001.JPG", "DSC_0001.xmp"]
    assert originals.photos == 1 and len(originals.written) == 2  # one photo, two files
    private = library.files.export([pair.id], tmp_path / "private", ExportOptions(metadata="strip"))
    # The JPEG went only when metadata was kept; now it goes stripped, and the RAW says it could not be.
    assert sorted(p.name for p in (tmp_path / "private").iterdir()) == ["DSC_0001.DNG", "DSC_0001.JPG"]
    assert private.photos == 1 and [os.path.basename(p) for p, _ in private.notes] == ["DSC_0001.DNG"]
    resized = library.files.export([pair.id], tmp_path / "small", ExportOptions(resize=200))
    assert not resized.failed and resized.photos == 1
    (small,) = (tmp_path / "small").iterdir()
    with Image.open(small) as img:
        assert max(img.size) == 200 and img.format == "JPEG"

"""Camera RAW files: real DNGs written from real photographs (tests/rawkit.py)
and the RAW files of ExifTool's own test suite (many cameras, pixels stripped),
decoded through LibRaw and read against ExifTool."""

from __future__ import annotations

import json
import shutil
import subprocess

import numpy as np
import pytest
from PIL import Image
from rawkit import write_dng

from clipdesk.core import imaging, metadata
from clipdesk.core import raw as rawfiles
from clipdesk.core.errors import DecodeError

# Pillow warns about cameras' odd EXIF entries (Nikon's IPTC as LONGs); the app
# reads on, as here.
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

needs_exiftool = pytest.mark.skipif(shutil.which("exiftool") is None,
                                    reason="ExifTool (libimage-exiftool-perl) is not installed")


@pytest.fixture(scope="module")
def photograph(corpus):
    """A real photograph, landscape, 600 px wide."""
    entry = next(e for e in corpus.select("format:jpeg", "decodes")
                 if "orientation" not in e.kinds and e.id.endswith("plant.jpg"))
    img = Image.open(corpus.path(entry)).convert("RGB")
    img.thumbnail((600, 600))
    return img


def _similarity(a: Image.Image, b: Image.Image) -> float:
    """Pearson correlation of two pictures' 32x32 grey versions."""
    x = np.asarray(a.convert("L").resize((32, 32), Image.Resampling.BOX), dtype=float).ravel()
    y = np.asarray(b.convert("L").resize((32, 32), Image.Resampling.BOX), dtype=float).ravel()
    return float(np.corrcoef(x, y)[0, 1])


def _thumb(decoded) -> Image.Image:
    import io

    return Image.open(io.BytesIO(decoded.thumbnail))


@needs_exiftool
def test_a_full_size_preview_is_used_and_the_metadata_comes_from_the_raw(tmp_path, photograph):
    path = write_dng(tmp_path / "IMG_0001.DNG", photograph, taken="2021:07:04 10:11:12",
                     make="Nikon", model="Z 6")
    developed = rawfiles.develop(path.read_bytes(), "DNG", max_pixels=imaging.MAX_PIXELS)
    assert developed.source == "preview"
    d = imaging.decode(path)
    w, h = photograph.size
    assert (d.format, d.width, d.height) == ("dng", w - w % 2, h - h % 2)
    assert (d.taken_at, d.date_field, d.camera) == ("2021-07-04T10:11:12", "EXIF:DateTimeOriginal", "Nikon Z 6")
    assert _similarity(_thumb(d), photograph) > 0.95


def test_without_a_large_preview_the_sensor_data_is_demosaiced_at_half_size(tmp_path, photograph):
    path = write_dng(tmp_path / "IMG_0002.DNG", photograph, preview_long_side=160)
    developed = rawfiles.develop(path.read_bytes(), "DNG", max_pixels=imaging.MAX_PIXELS)
    assert developed.source == "demosaic"
    d = imaging.decode(path)
    w, h = photograph.size
    assert (d.width, d.height) == (w - w % 2, h - h % 2)  # the photo's size, not the half-size decode
    assert d.decoded_size == ((w - w % 2) // 2, (h - h % 2) // 2)
    # The 160 px preview is never what gets indexed: the thumbnail is larger than it.
    assert max(_thumb(d).size) > 160
    assert _similarity(_thumb(d), photograph) > 0.95
    # Colours survive LibRaw's development (camera white balance, sRGB curve).
    got = np.asarray(_thumb(d).resize((8, 8), Image.Resampling.BOX), dtype=float)
    want = np.asarray(photograph.resize((8, 8), Image.Resampling.BOX), dtype=float)
    assert np.abs(got - want).mean() < 25


@pytest.mark.parametrize("preview", [None, 160], ids=["preview", "demosaic"])
def test_the_camera_orientation_turns_both_paths_upright(tmp_path, photograph, preview):
    path = write_dng(tmp_path / "turned.dng", photograph, preview_long_side=preview, orientation=6)
    d = imaging.decode(path)
    w, h = photograph.size
    assert (d.width, d.height) == (h - h % 2, w - w % 2)
    thumb = _thumb(d)
    assert thumb.height > thumb.width
    assert _similarity(thumb, photograph.transpose(Image.Transpose.ROTATE_270)) > 0.9


def test_a_truncated_raw_gets_a_clear_reason(tmp_path, photograph):
    path = write_dng(tmp_path / "cut.dng", photograph, preview_long_side=160)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])
    with pytest.raises(DecodeError, match="DNG"):
        imaging.decode(path)


def test_a_raw_file_with_its_sensor_data_stripped_is_refused_not_indexed_as_black(corpus):
    # ExifTool's DNG.dng keeps the metadata of a 3474x2314 image in 13 kB.
    with pytest.raises(DecodeError, match="sensor data is missing"):
        imaging.decode(corpus.path("exiftool/DNG.dng"))


def test_every_raw_of_exiftools_suite_decodes_or_says_why(corpus):
    """None of these files has its pixels (ExifTool's suite strips them): each
    gets a reason naming its format, and none is indexed as its tiny thumbnail."""
    reasons = {}
    for entry in corpus.select("raw"):
        with pytest.raises(DecodeError) as caught:
            imaging.decode(corpus.path(entry))
        reasons[entry.id] = str(caught.value)
    assert len(reasons) >= 12
    for fid, reason in reasons.items():
        assert fid.rsplit(".", 1)[-1].upper() in reason or "RAW" in reason, (fid, reason)
        assert "not supported yet" not in reason


#: Formats whose metadata ClipDesk reads from the RAW container itself.
READ = {"cr2", "cr3", "crw", "dng", "raf", "mrw", "nef", "rw2", "iiq"}


@needs_exiftool
def test_we_read_the_date_camera_and_orientation_exiftool_reads_in_raw_files(corpus):
    entries = corpus.select("raw")
    paths = {str(corpus.path(e)): e for e in entries}
    out = subprocess.run(["exiftool", "-json", "-n", "-q", "-q", "-DateTimeOriginal", "-Make", "-Model",
                          "-Orientation", "-@", "-"], input="\n".join(paths), capture_output=True, text=True,
                         check=True)
    checked = []
    for tags in json.loads(out.stdout):
        entry = paths[tags["SourceFile"]]
        got = metadata.read_raw(corpus.path(entry).read_bytes())
        ext = entry.id.rsplit(".", 1)[-1].lower()
        if ext not in READ:  # X3F, Kyocera RAW: nothing read is better than something wrong
            assert got.capture is None and got.camera is None, entry.id
            continue
        want_date = str(tags["DateTimeOriginal"]).replace(":", "-", 2).replace(" ", "T")
        assert got.capture is not None and got.capture.taken_at.split(".")[0] == want_date, entry.id
        make, model = str(tags["Make"]).split()[0].lower(), str(tags["Model"])
        assert got.camera and model in got.camera, (entry.id, got.camera, tags)
        assert got.camera.lower().startswith(make) or model.lower().startswith(make), (entry.id, got.camera)
        assert got.orientation == int(tags.get("Orientation", 1)), entry.id
        checked.append(ext)
    assert set(checked) == READ, set(checked)


@needs_exiftool
def test_read_file_reads_a_raw_without_decoding_it(tmp_path, photograph):
    path = write_dng(tmp_path / "x.dng", photograph, taken="2019:01:02 03:04:05", orientation=8)
    meta = metadata.read_file(path)
    assert (meta.capture.taken_at, meta.orientation) == ("2019-01-02T03:04:05", 8)


def test_libraw_flip_maps_to_every_exif_orientation(tmp_path, photograph):
    small = photograph.resize((64, 40))
    for orientation in range(1, 9):
        path = write_dng(tmp_path / f"o{orientation}.dng", small, orientation=orientation)
        assert rawfiles.develop(path.read_bytes(), "DNG", max_pixels=10**6).orientation == orientation

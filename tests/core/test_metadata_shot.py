"""How a photo was taken (issue 19's details): lens, exposure, focal length and
position, read by the one metadata reader that scanning uses, and checked
against ExifTool on real cameras' files from the corpus."""

from __future__ import annotations

import json
import math
import shutil
import subprocess

import pytest
from PIL import Image

from clipdesk.core import metadata
from clipdesk.core.imaging import FORMATS, decode
from support import photo_array

EXIF_IFD, GPS_IFD = 0x8769, 0x8825


def test_a_camera_photo_says_how_it_was_taken(tmp_path):
    img = Image.fromarray(photo_array(60, 40))
    exif = Image.Exif()
    exif[0x010F], exif[0x0110], exif[0x0112] = "Canon", "Canon EOS R6", 6
    sub = exif.get_ifd(EXIF_IFD)
    sub[0xA434] = "RF24-105mm F4 L IS USM"
    sub[0x829A], sub[0x829D], sub[0x8827] = 1 / 250, 4.0, 400
    sub[0x920A], sub[0xA405] = 50.0, 50
    gps = exif.get_ifd(GPS_IFD)
    gps[1], gps[2], gps[3], gps[4] = "S", (33.0, 51.0, 54.0), "E", (151.0, 12.0, 36.0)
    gps[5], gps[6] = b"\x01", 12.5
    path = tmp_path / "shot.jpg"
    img.save(path, exif=exif.tobytes())
    m = metadata.read_file(path)
    assert (m.width, m.height, m.format, m.orientation) == (40, 60, "JPEG", 6)  # upright
    shot = m.shot
    assert shot.lens == "RF24-105mm F4 L IS USM" and shot.iso == 400
    assert shot.exposure_time == pytest.approx(1 / 250) and shot.f_number == 4.0
    assert (shot.focal_length, shot.focal_length_35mm) == (50.0, 50.0)
    assert shot.position.latitude == pytest.approx(-(33 + 51 / 60 + 54 / 3600))
    assert shot.position.longitude == pytest.approx(151 + 12 / 60 + 36 / 3600)
    assert shot.position.altitude == -12.5  # GPSAltitudeRef 1: below sea level


def test_garbage_values_read_as_absent_and_never_fail_a_decode(tmp_path):
    img = Image.fromarray(photo_array(60, 40))
    exif = Image.Exif()
    exif[0x010F] = "Make"
    sub = exif.get_ifd(EXIF_IFD)
    sub[0x829D], sub[0x920A], sub[0x8827] = 0.0, -3.0, 0
    sub[0x829A] = float("nan")
    gps = exif.get_ifd(GPS_IFD)
    gps[2], gps[4] = (91.0, 0.0, 0.0), (10.0, 0.0, 0.0)  # no latitude is above 90
    path = tmp_path / "garbage.jpg"
    img.save(path, exif=exif.tobytes())
    shot = metadata.read_file(path).shot
    assert shot == metadata.Shot()
    assert decode(path).width == 60


def _exiftool_number(value) -> float | None:
    if isinstance(value, str):  # a list of values ("100 100") or text ExifTool could not make a number
        first = value.split()[0] if value.split() else ""
        try:
            value = float(first)
        except ValueError:
            return None
    if not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        return None
    return float(value)


def _same(ours, theirs) -> bool:
    if ours is None or theirs is None:
        return ours is theirs
    return math.isclose(ours, theirs, rel_tol=1e-6, abs_tol=1e-6)


@pytest.mark.filterwarnings("ignore::UserWarning")  # Pillow's "corrupt EXIF", "malformed MPO": read as the app does
def test_we_read_what_exiftool_reads_on_real_cameras_files(corpus):
    """Lens, exposure time, aperture, ISO, focal length (and its 35 mm
    equivalent) and the GPS position, on every camera file of the corpus
    that ClipDesk opens."""
    if shutil.which("exiftool") is None:
        pytest.skip("ExifTool is not installed (dev.sh installs libimage-exiftool-perl)")
    paths = {}
    for entry in corpus.select("camera"):
        path = corpus.path(entry)
        try:
            with Image.open(path, formats=FORMATS):
                paths[str(path)] = entry.id
        except Exception:  # noqa: BLE001, S112 - not a file ClipDesk opens (RAW, bombs)
            continue
    fields = ["-ExifIFD:LensModel", "-ExifIFD:ExposureTime", "-ExifIFD:FNumber", "-ExifIFD:ISO",
              "-ExifIFD:FocalLength", "-ExifIFD:FocalLengthIn35mmFormat", "-Composite:GPSLatitude",
              "-Composite:GPSLongitude", "-Composite:GPSAltitude"]
    out = subprocess.run(["exiftool", "-json", "-G1", "-n", "-q", "-q", *fields, "-@", "-"],
                         input="\n".join(paths), capture_output=True, text=True, check=False)
    disagree, compared, positions = {}, 0, 0
    for tags in json.loads(out.stdout):
        fid = paths[tags["SourceFile"]]
        shot = metadata.read_file(corpus.path(fid)).shot
        lens = " ".join(str(tags.get("ExifIFD:LensModel", "")).split()) or None
        pairs = {
            "lens": (shot.lens, lens),
            "exposure": (shot.exposure_time, _exiftool_number(tags.get("ExifIFD:ExposureTime"))),
            "aperture": (shot.f_number, _exiftool_number(tags.get("ExifIFD:FNumber"))),
            "iso": (shot.iso, _exiftool_number(tags.get("ExifIFD:ISO"))),
            "focal": (shot.focal_length, _exiftool_number(tags.get("ExifIFD:FocalLength"))),
            "focal35": (shot.focal_length_35mm, _exiftool_number(tags.get("ExifIFD:FocalLengthIn35mmFormat"))),
        }
        lat, lon = tags.get("Composite:GPSLatitude"), tags.get("Composite:GPSLongitude")
        where = shot.position
        pairs["latitude"] = (where.latitude if where else None, lat if isinstance(lat, (int, float)) else None)
        pairs["longitude"] = (where.longitude if where else None, lon if isinstance(lon, (int, float)) else None)
        if where is not None and isinstance(tags.get("Composite:GPSAltitude"), (int, float)):
            pairs["altitude"] = (where.altitude, float(tags["Composite:GPSAltitude"]))
        positions += where is not None
        for name, (ours, theirs) in pairs.items():
            ok = ours == theirs if name == "lens" else _same(ours, theirs)
            compared += theirs is not None
            if not ok:
                disagree[f"{fid} {name}"] = (ours, theirs)
    assert not disagree, disagree
    assert len(paths) >= 50 and compared >= 200 and positions >= 12, (len(paths), compared, positions)
    print(f"ExifTool agrees on {compared} values of {len(paths)} camera files ({positions} with a position)")

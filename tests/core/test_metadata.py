"""Capture dates as other photo tools read them (issue 14, part 2).

Every file here is a real image written by the test: Pillow writes the EXIF,
the XMP packets and IPTC blocks are built byte by byte as Lightroom, Photo
Mechanic and cameras lay them out. The last test reads real cameras' files
from the corpus and checks that ExifTool reads the same date we do.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import struct
import subprocess
import zlib
from datetime import datetime

import pytest
from PIL import Image

from clipdesk.core import metadata
from clipdesk.core.errors import DecodeError
from clipdesk.core.imaging import FORMATS, decode
from support import age, photo_array

XMP_NS = {
    "xmp": "http://ns.adobe.com/xap/1.0/",
    "photoshop": "http://ns.adobe.com/photoshop/1.0/",
    "exif": "http://ns.adobe.com/exif/1.0/",
    "tiff": "http://ns.adobe.com/tiff/1.0/",
}

# EXIF 2.32 tags (CIPA DC-008-2019): IFD0 DateTime; Exif IFD DateTimeOriginal,
# DateTimeDigitized, OffsetTime*, SubSecTime*.
DATETIME, EXIF_IFD = 0x0132, 0x8769
ORIGINAL, DIGITIZED = 0x9003, 0x9004
OFFSET, OFFSET_ORIGINAL, OFFSET_DIGITIZED = 0x9010, 0x9011, 0x9012
SUBSEC, SUBSEC_ORIGINAL, SUBSEC_DIGITIZED = 0x9290, 0x9291, 0x9292


# --------------------------------------------------------------------------- writers


def exif_block(ifd0: dict | None = None, exif_ifd: dict | None = None) -> bytes:
    exif = Image.Exif()
    for tag, value in (ifd0 or {}).items():
        exif[tag] = value
    if exif_ifd:
        sub = exif.get_ifd(EXIF_IFD)
        for tag, value in exif_ifd.items():
            sub[tag] = value
    return exif.tobytes()


def xmp_packet(attributes: dict[str, str] | None = None, elements: dict[str, str] | None = None) -> bytes:
    """An XMP packet as Adobe's XMP toolkit writes it (Lightroom writes simple
    properties as attributes of rdf:Description; other tools as elements)."""
    names = {k.split(":")[0] for k in {**(attributes or {}), **(elements or {})}}
    decls = "".join(f'\n    xmlns:{p}="{XMP_NS[p]}"' for p in sorted(names))
    attrs = "".join(f'\n    {k}="{v}"' for k, v in (attributes or {}).items())
    body = "".join(f"\n   <{k}>{v}</{k}>" for k, v in (elements or {}).items())
    text = (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="Adobe XMP Core 7.0-c000 1.000000">\n'
        ' <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n'
        f'  <rdf:Description rdf:about=""{decls}{attrs}>{body}\n'
        "  </rdf:Description>\n"
        " </rdf:RDF>\n"
        "</x:xmpmeta>\n" + " " * 200 + '\n<?xpacket end="w"?>'
    )
    return text.encode("utf-8")


def iim(*datasets: tuple[int, int, bytes]) -> bytes:
    """IPTC IIM 4.2 datasets: tag marker 0x1C, record, dataset, 2-byte length, data."""
    return b"".join(b"\x1c" + bytes([rec, num]) + struct.pack(">H", len(v)) + v for rec, num, v in datasets)


def photoshop_irb(iptc: bytes) -> bytes:
    """The Photoshop image resource block that carries IPTC (resource 0x0404)."""
    pad = b"\x00" if len(iptc) % 2 else b""
    return b"8BIM" + struct.pack(">H", 0x0404) + b"\x00\x00" + struct.pack(">I", len(iptc)) + iptc + pad


def with_app13(jpeg: bytes, iptc: bytes) -> bytes:
    """A JPEG with an APP13 "Photoshop 3.0" segment holding IPTC, after SOI."""
    payload = b"Photoshop 3.0\x00" + photoshop_irb(iptc)
    return jpeg[:2] + b"\xff\xed" + struct.pack(">H", len(payload) + 2) + payload + jpeg[2:]


def jpeg(path, *, exif: bytes | None = None, xmp: bytes | None = None, iptc: bytes | None = None,
         size=(96, 64)) -> bytes:
    kwargs = {"quality": 90}
    if exif:
        kwargs["exif"] = exif
    if xmp:
        kwargs["xmp"] = xmp
    buf = io.BytesIO()
    Image.fromarray(photo_array(*size)).save(buf, "JPEG", **kwargs)
    data = buf.getvalue()
    if iptc is not None:
        data = with_app13(data, iptc)
    path.write_bytes(data)
    age(path)
    return data


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(path, *, before_idat: list[bytes] = (), after_idat: list[bytes] = (), idat: bytes | None = None) -> None:
    """An 8-bit RGB PNG with chunks placed before or after the image data."""
    a = photo_array(32, 24)
    raw = b"".join(b"\x00" + row.tobytes() for row in a)
    ihdr = struct.pack(">IIBBBBB", 32, 24, 8, 2, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + b"".join(before_idat)
        + png_chunk(b"IDAT", zlib.compress(raw) if idat is None else idat)
        + b"".join(after_idat) + png_chunk(b"IEND", b""))
    age(path)


def itxt_xmp(packet: bytes, compressed: bool = False) -> bytes:
    text = zlib.compress(packet) if compressed else packet
    return png_chunk(b"iTXt", b"XML:com.adobe.xmp\x00" + bytes([int(compressed), 0]) + b"\x00\x00" + text)


def read(path) -> metadata.CaptureDate:
    return metadata.read_file(path).capture_date(os.stat(path).st_mtime)


def file_time(path) -> tuple[str, str]:
    local = datetime.fromtimestamp(os.stat(path).st_mtime).astimezone()
    off = local.strftime("%z")
    return local.replace(microsecond=0, tzinfo=None).isoformat(), f"{off[:3]}:{off[3:]}"


# --------------------------------------------------------------------------- the examples


def test_a_zero_date_original_falls_through_to_the_valid_modify_date(tmp_path):
    path = tmp_path / "zero.jpg"
    jpeg(path, exif=exif_block({DATETIME: "2019:05:04 10:11:12"}, {ORIGINAL: "0000:00:00 00:00:00"}))
    d = decode(path)
    assert (d.taken_at, d.date_source, d.date_field, d.taken_offset) == (
        "2019-05-04T10:11:12", "exif", "EXIF:ModifyDate", None)


def test_a_lightroom_export_with_its_date_only_in_xmp_gets_that_date(tmp_path):
    path = tmp_path / "lr.jpg"
    # Lightroom Classic writes both as attributes, with sub-seconds and the offset.
    jpeg(path, xmp=xmp_packet({"xmp:CreateDate": "2018-03-04T05:06:07.25+01:00",
                               "photoshop:DateCreated": "2018-03-04T05:06:07.25+01:00"}))
    d = decode(path)
    assert (d.taken_at, d.date_source, d.date_field, d.taken_offset) == (
        "2018-03-04T05:06:07.25", "exif", "XMP:photoshop:DateCreated", "+01:00")


def test_xmp_create_date_alone_is_read(tmp_path):
    path = tmp_path / "create.jpg"
    jpeg(path, xmp=xmp_packet(elements={"xmp:CreateDate": "2012-11-30T23:59:58-08:00"}))
    got = read(path)
    assert (got.taken_at, got.offset, got.field) == ("2012-11-30T23:59:58", "-08:00", "XMP:xmp:CreateDate")


def test_a_date_only_in_iptc_is_read_with_its_time_and_offset(tmp_path):
    path = tmp_path / "iptc.jpg"
    # IIM 4.2: 2:55 Date Created CCYYMMDD, 2:60 Time Created HHMMSS+HHMM.
    jpeg(path, iptc=iim((1, 90, b"\x1b%G"), (2, 0, b"\x00\x04"), (2, 55, b"20170809"), (2, 60, b"101112+0530")))
    d = decode(path)
    assert (d.taken_at, d.date_source, d.date_field, d.taken_offset) == (
        "2017-08-09T10:11:12", "exif", "IPTC:DateCreated", "+05:30")


def test_exif_modify_date_gives_way_to_the_original_date_in_xmp(tmp_path):
    path = tmp_path / "edited.jpg"
    jpeg(path, exif=exif_block({DATETIME: "2024:01:02 03:04:05"}),
         xmp=xmp_packet(elements={"exif:DateTimeOriginal": "2015-06-07T08:09:10.5+02:00",
                                  "xmp:ModifyDate": "2024-01-02T03:04:05+01:00"}))
    d = decode(path)
    assert (d.taken_at, d.date_field, d.taken_offset) == ("2015-06-07T08:09:10.5", "XMP:exif:DateTimeOriginal", "+02:00")


# --------------------------------------------------------------------------- the precedence


def test_exif_original_keeps_its_sub_seconds_and_offset(tmp_path):
    path = tmp_path / "phone.jpg"
    jpeg(path, exif=exif_block(
        {DATETIME: "2023:09:01 12:00:00"},
        {ORIGINAL: "2023:08:31 21:15:30", SUBSEC_ORIGINAL: "045", OFFSET_ORIGINAL: "-03:30",
         DIGITIZED: "2023:08:31 21:15:31", OFFSET: "+00:00"}))
    got = read(path)
    assert (got.taken_at, got.offset, got.field, got.source) == (
        "2023-08-31T21:15:30.045", "-03:30", "EXIF:DateTimeOriginal", "exif")


def test_the_offset_of_another_field_is_not_borrowed(tmp_path):
    path = tmp_path / "digitized.jpg"
    jpeg(path, exif=exif_block({}, {DIGITIZED: "2001:02:03 04:05:06", SUBSEC_DIGITIZED: "7 ",
                                    OFFSET_DIGITIZED: "+09:00", OFFSET_ORIGINAL: "-05:00"}))
    got = read(path)
    assert (got.taken_at, got.offset, got.field) == ("2001-02-03T04:05:06.7", "+09:00", "EXIF:CreateDate")


def test_exif_original_beats_xmp_and_iptc(tmp_path):
    path = tmp_path / "all.jpg"
    jpeg(path, exif=exif_block({}, {ORIGINAL: "2010:10:10 10:10:10"}),
         xmp=xmp_packet({"photoshop:DateCreated": "2011-11-11T11:11:11"}),
         iptc=iim((2, 55, b"20121212")))
    assert read(path).field == "EXIF:DateTimeOriginal"


def test_original_capture_beats_digitized_beats_modified(tmp_path):
    a, b, c = tmp_path / "a.jpg", tmp_path / "b.jpg", tmp_path / "c.jpg"
    jpeg(a, xmp=xmp_packet({"xmp:ModifyDate": "2020-01-01T00:00:00", "xmp:CreateDate": "2019-01-01T00:00:00"}),
         iptc=iim((2, 55, b"20180101"), (2, 60, b"000000+0000")))
    jpeg(b, xmp=xmp_packet({"xmp:ModifyDate": "2020-01-01T00:00:00", "xmp:CreateDate": "2019-01-01T00:00:00"}))
    jpeg(c, xmp=xmp_packet({"xmp:ModifyDate": "2020-01-01T00:00:00"}))
    assert [read(p).field for p in (a, b, c)] == ["IPTC:DateCreated", "XMP:xmp:CreateDate", "XMP:xmp:ModifyDate"]
    assert read(a).offset == "+00:00"


def test_a_date_with_a_time_beats_a_date_alone_of_the_same_meaning(tmp_path):
    # Photo Mechanic writes photoshop:DateCreated as a day and keeps the time in IPTC.
    path = tmp_path / "pm.jpg"
    jpeg(path, xmp=xmp_packet({"photoshop:DateCreated": "2006-10-29"}),
         iptc=iim((2, 55, b"20061029"), (2, 60, b"062751-0500")))
    got = read(path)
    assert (got.taken_at, got.offset, got.field) == ("2006-10-29T06:27:51", "-05:00", "IPTC:DateCreated")
    day_only = tmp_path / "day.jpg"
    jpeg(day_only, xmp=xmp_packet({"photoshop:DateCreated": "1965-06"}))
    got = read(day_only)
    assert (got.taken_at, got.field, got.has_time) == ("1965-06-01T00:00:00", "XMP:photoshop:DateCreated", False)


def test_the_file_time_only_when_nothing_else_parses(tmp_path):
    path = tmp_path / "garbage.jpg"
    jpeg(path, exif=exif_block({DATETIME: "    :  :     :  :  "}, {ORIGINAL: "2019:02:30 10:00:00",
                                                                    DIGITIZED: "2019:01:01 25:00:00"}),
         xmp=xmp_packet({"xmp:CreateDate": "yesterday", "photoshop:DateCreated": "0000-00-00"}),
         iptc=iim((2, 55, b"2019"), (2, 62, b"20190231")))
    d = decode(path)
    taken, offset = file_time(path)
    assert (d.taken_at, d.date_source, d.date_field, d.taken_offset) == (taken, "file", "File:ModifyDate", offset)


@pytest.mark.parametrize("value,taken,offset", [
    ("2016-10-06T12:34+02:00", "2016-10-06T12:34:00", "+02:00"),  # XMP allows no seconds
    ("2016-10-06T12:34:56Z", "2016-10-06T12:34:56", "+00:00"),
    ("2016:10:06 12:34:56", "2016-10-06T12:34:56", None),  # darktable writes EXIF's form in XMP
    ("2024-04-22T14:38:09.526GMT+02:00", "2024-04-22T14:38:09.526", "+02:00"),  # Apple's spatial photos
    ("2016-10-06T12:34:56.123456789-0330", "2016-10-06T12:34:56.123456", "-03:30"),
    ("2016", "2016-01-01T00:00:00", None),
])
def test_xmp_date_forms(tmp_path, value, taken, offset):
    path = tmp_path / "x.jpg"
    jpeg(path, xmp=xmp_packet(elements={"exif:DateTimeOriginal": value}))
    got = read(path)
    assert (got.taken_at, got.offset, got.field) == (taken, offset, "XMP:exif:DateTimeOriginal")


# --------------------------------------------------------------------------- every container


def test_png_xmp_exif_and_time_chunks_after_the_pixels_are_read_without_decoding_them(tmp_path):
    exif = exif_block({DATETIME: "2001:01:01 00:00:00"}, {ORIGINAL: "2002:02:02 02:02:02", OFFSET_ORIGINAL: "+01:00"})
    xmp = xmp_packet({"xmp:CreateDate": "2003-03-03T03:03:03"})
    t = png_chunk(b"tIME", struct.pack(">HBBBBB", 2004, 4, 4, 4, 4, 4))
    exif_png, xmp_png, time_png = tmp_path / "exif.png", tmp_path / "xmp.png", tmp_path / "time.png"
    # The pixel data is damaged: only a reader that never decodes it gets the dates.
    damaged = zlib.compress(b"\x00" * 10)[:-4] + b"XXXX"
    png(exif_png, after_idat=[png_chunk(b"eXIf", exif), itxt_xmp(xmp, compressed=True), t], idat=damaged)
    png(xmp_png, after_idat=[itxt_xmp(xmp), t])
    png(time_png, before_idat=[t])
    got = read(exif_png)
    assert (got.taken_at, got.offset, got.field) == ("2002-02-02T02:02:02", "+01:00", "EXIF:DateTimeOriginal")
    with pytest.raises(DecodeError):
        decode(exif_png)
    assert (read(xmp_png).taken_at, read(xmp_png).field) == ("2003-03-03T03:03:03", "XMP:xmp:CreateDate")
    # PNG 1.2, 11.3.6.1: tIME is the last modification, in UTC.
    got = decode(time_png)
    assert (got.taken_at, got.date_field, got.taken_offset) == ("2004-04-04T04:04:04", "PNG:ModifyDate", "+00:00")


def test_tiff_xmp_and_iptc_tags(tmp_path):
    path = tmp_path / "scan.tif"
    info = {700: xmp_packet({"tiff:DateTime": "2008-08-08T08:08:08"}),
            33723: iim((2, 55, b"19650601"))}
    Image.fromarray(photo_array(40, 30)).save(path, tiffinfo=info)
    got = read(path)
    assert (got.taken_at, got.field, got.has_time) == ("1965-06-01T00:00:00", "IPTC:DateCreated", False)


def test_webp_xmp(tmp_path):
    path = tmp_path / "x.webp"
    Image.fromarray(photo_array(40, 30)).save(path, "WEBP", xmp=xmp_packet({"xmp:CreateDate": "2014-05-06T07:08:09"}))
    assert read(path).field == "XMP:xmp:CreateDate"


def test_heic_exif_and_xmp(tmp_path):
    pytest.importorskip("pillow_heif")
    path = tmp_path / "phone.heic"
    exif = exif_block({DATETIME: "2022:02:02 02:02:02"}, {ORIGINAL: "2022:02:01 01:01:01", SUBSEC_ORIGINAL: "250",
                                                           OFFSET_ORIGINAL: "+09:00"})
    Image.fromarray(photo_array(64, 48)).save(path, "HEIF", quality=80, exif=exif,
                                              xmp=xmp_packet({"xmp:CreateDate": "2022-02-01T01:01:02"}))
    d = decode(path)
    assert (d.taken_at, d.date_field, d.taken_offset) == ("2022-02-01T01:01:01.250", "EXIF:DateTimeOriginal", "+09:00")


def test_heif_sequence_container_date(corpus):
    """Nokia's HEIF burst has its date only in the container's movie header
    (ISO 14496-12 mvhd, seconds since 1904); like ExifTool, the clock is read
    as written."""
    path = corpus.path("pillow-heif/heif_other/nokia/bird_burst.heic")
    got = metadata.read_file(path).capture
    assert (got.taken_at, got.offset, got.field) == ("2018-03-09T14:16:50", None, "QuickTime:CreateDate")


# --------------------------------------------------------------------------- bad input stays normal


@pytest.mark.parametrize("xmp", [
    b"<x:xmpmeta xmlns:x='adobe:ns:meta/'><rdf:RDF",  # truncated
    b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]><x>&b;</x>',
    b"\xff\xfe\x00garbage",
    b"not xml at all",
    b"<a>" * 10 + b"</a>" * 10,
])
def test_malformed_xmp_never_fails_a_decode(tmp_path, xmp):
    path = tmp_path / "bad.jpg"
    jpeg(path, exif=exif_block({DATETIME: "2019:05:04 10:11:12"}), xmp=xmp)
    d = decode(path)
    assert (d.taken_at, d.date_field) == ("2019-05-04T10:11:12", "EXIF:ModifyDate")


@pytest.mark.parametrize("iptc", [
    b"\x1c\x02\x37\xff\xff2017",  # a length running past the end
    b"\x1c\x02\x37\x00\x08\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8",  # not a date
    b"garbage",
    iim((2, 55, b"20170809"), (2, 60, b"99:99:99")),  # a bad time: the day is still read
])
def test_malformed_iptc_never_fails_a_decode(tmp_path, iptc):
    path = tmp_path / "bad.jpg"
    jpeg(path, iptc=iptc)
    d = decode(path)
    assert d.date_field in ("IPTC:DateCreated", "File:ModifyDate")
    if d.date_field == "IPTC:DateCreated":
        assert d.taken_at == "2017-08-09T00:00:00"


def test_malformed_exif_values_fall_through(tmp_path):
    path = tmp_path / "odd.jpg"
    exif = Image.Exif()
    exif[DATETIME] = "2020:02:02 02:02:02"
    sub = exif.get_ifd(EXIF_IFD)
    sub[ORIGINAL] = b"\x00\x01\x02"
    sub[SUBSEC_ORIGINAL] = "x1"
    sub[OFFSET] = "+99:99"
    jpeg(path, exif=exif.tobytes())
    got = read(path)
    assert (got.taken_at, got.offset, got.field) == ("2020-02-02T02:02:02", None, "EXIF:ModifyDate")


def test_a_damaged_png_chunk_ends_the_walk_quietly(tmp_path):
    path = tmp_path / "chunks.png"
    # A chunk whose length runs past the end of the file, then nothing.
    png(path, after_idat=[struct.pack(">I", 1 << 30) + b"tIME" + b"\x00" * 3])
    assert read(path).field == "File:ModifyDate"
    assert metadata.read_file(path).capture is None


def test_a_damaged_heif_movie_header_is_skipped(tmp_path):
    pytest.importorskip("pillow_heif")
    path = tmp_path / "odd.heic"
    buf = io.BytesIO()
    Image.fromarray(photo_array(64, 48)).save(buf, "HEIF", quality=80)
    # A movie box whose header is cut short, then a box claiming more bytes than the file has.
    moov = struct.pack(">I4s", 8 + 12, b"moov") + struct.pack(">I4s", 12, b"mvhd") + b"\x00\x00\x00\x00"
    path.write_bytes(buf.getvalue() + moov + struct.pack(">I4s", 1 << 20, b"free"))
    age(path)
    assert metadata.read_file(path).capture is None
    assert decode(path).date_field == "File:ModifyDate"


# --------------------------------------------------------------------------- what is stored


def test_the_catalog_stores_the_field_and_offset(library, tmp_path):
    root = tmp_path / "photos"
    root.mkdir()
    jpeg(root / "a.jpg", exif=exif_block({}, {ORIGINAL: "2023:08:31 21:15:30", SUBSEC_ORIGINAL: "5",
                                              OFFSET_ORIGINAL: "+02:00"}))
    jpeg(root / "b.jpg")
    library.folders.add(root)
    assert library.folders.pipeline().run().indexed == 2
    a, b = library.catalog.photos(order="path")
    assert (a.taken_at, a.date_source, a.date_field, a.taken_offset) == (
        "2023-08-31T21:15:30.5", "exif", "EXIF:DateTimeOriginal", "+02:00")
    taken, offset = file_time(root / "b.jpg")
    assert (b.taken_at, b.date_source, b.date_field, b.taken_offset) == (taken, "file", "File:ModifyDate", offset)


# --------------------------------------------------------------------------- ExifTool agreement

#: Our precedence in ExifTool's words (``exiftool -G1`` names): the field we
#: store, ExifTool's tags for it (first present wins), and the tags of its
#: sub-seconds / time of day and offset. IPTC2/IPTC3 (further IPTC blocks, such
#: as an AFCP trailer's) are not where IIM puts a photo's record, and not read.
EXIFTOOL_FIELDS = [
    ("EXIF:DateTimeOriginal", ["ExifIFD:DateTimeOriginal", "IFD0:DateTimeOriginal"],
     "ExifIFD:SubSecTimeOriginal", "ExifIFD:OffsetTimeOriginal"),
    ("XMP:exif:DateTimeOriginal", ["XMP-exif:DateTimeOriginal"], None, None),
    ("XMP:photoshop:DateCreated", ["XMP-photoshop:DateCreated"], None, None),
    ("IPTC:DateCreated", ["IPTC:DateCreated"], "IPTC:TimeCreated", None),
    ("EXIF:CreateDate", ["ExifIFD:CreateDate", "IFD0:CreateDate"], "ExifIFD:SubSecTimeDigitized",
     "ExifIFD:OffsetTimeDigitized"),
    ("XMP:xmp:CreateDate", ["XMP-xmp:CreateDate"], None, None),
    ("XMP:exif:DateTimeDigitized", ["XMP-exif:DateTimeDigitized"], None, None),
    ("IPTC:DigitalCreationDate", ["IPTC:DigitalCreationDate"], "IPTC:DigitalCreationTime", None),
    ("QuickTime:CreateDate", ["QuickTime:CreateDate"], None, None),
    ("EXIF:ModifyDate", ["IFD0:ModifyDate", "ExifIFD:ModifyDate"], "ExifIFD:SubSecTime", "ExifIFD:OffsetTime"),
    ("XMP:xmp:ModifyDate", ["XMP-xmp:ModifyDate"], None, None),
    ("XMP:tiff:DateTime", ["XMP-tiff:DateTime"], None, None),
    ("PNG:ModifyDate", ["PNG:ModifyDate"], None, None),
    ("QuickTime:ModifyDate", ["QuickTime:ModifyDate"], None, None),
]
TIERS = [4, 9, 14]  # original capture, digitized/created, modified: ends of the three groups

# ExifTool prints every date as "YYYY:MM:DD HH:MM:SS[.ss][+HH:MM]" (XMP and IPTC converted).
_ET_DATE = re.compile(
    r"(\d{4})(?:[:-](\d\d)(?:[:-](\d\d)(?:[ T](\d\d):(\d\d)(?::(\d\d)(?:[.,](\d+))?)?)?)?)?"
    r"\s*(?:GMT|UTC)?\s*(Z|[+-]\d{1,2}(?::?\d\d)?)?$")
_ET_TIME = re.compile(r"(\d\d):(\d\d)(?::(\d\d)(?:\.(\d+))?)?\s*([+-]\d\d:?\d\d)?$")


def _et_offset(text: str | None) -> str | None:
    if not text:
        return None
    if text == "Z":
        return "+00:00"
    m = re.fullmatch(r"([+-])(\d{1,2}):?(\d\d)?", text.strip())
    if not m or int(m[2]) > 18 or int(m[3] or 0) > 59:
        return None
    if int(m[2]) == int(m[3] or 0) == 0:
        return "+00:00"
    return f"{m[1]}{int(m[2]):02d}:{m[3] or '00'}"


def exiftool_reading(tags: dict) -> tuple[str, str | None, str] | None:
    """(ISO local time, offset, field) by our precedence over ExifTool's
    reading of one file; a value that is no valid date falls through."""
    found = []
    for i, (field, names, extra, offset_tag) in enumerate(EXIFTOOL_FIELDS):
        raw = next((str(tags[n]) for n in names if n in tags), None)
        m = _ET_DATE.match(raw.strip()) if raw else None
        if not m:
            continue
        y, mo, d, h, mi, s, frac, tz = m.groups()
        mo, d = int(mo or 1), int(d or 1)
        has_time = h is not None and mo != 0 and d != 0  # a month or day of 00 is unknown: no time
        try:
            when = datetime(int(y), mo or 1, d or 1, *((int(h), int(mi), int(s or 0)) if has_time else ()))
        except ValueError:
            continue
        if not 1800 <= when.year < 2200:
            continue
        offset = _et_offset(tz) if has_time else None
        if extra and extra in tags and field.startswith("IPTC") and mo != 0 and d != 0:
            t = _ET_TIME.match(str(tags[extra]).strip())
            if t:
                try:
                    when = when.replace(hour=int(t[1]), minute=int(t[2]), second=int(t[3] or 0))
                    has_time, offset = True, _et_offset(t[5])
                except ValueError:
                    pass
        elif extra and extra in tags and not frac and str(tags[extra]).strip().isdigit():
            frac = str(tags[extra]).strip()
        if has_time and offset_tag and _et_offset(str(tags.get(offset_tag, ""))):
            offset = _et_offset(str(tags[offset_tag]))
        if field == "PNG:ModifyDate":
            offset = "+00:00"  # PNG 1.2 11.3.6.1: tIME is UTC (ExifTool shows it without a zone)
        iso = when.isoformat() + (f".{frac[:6]}" if frac and has_time else "")
        tier = next(t for t, end in enumerate(TIERS) if i < end)
        found.append((tier, not has_time, i, iso, offset, field))
    if not found:
        return None
    _, _, _, iso, offset, field = min(found)
    return iso, offset, field


@pytest.mark.filterwarnings("ignore::UserWarning")  # Pillow's "malformed MPO", "corrupt EXIF": read as in the app
def test_we_read_the_date_exiftool_reads_on_real_cameras_files(corpus):
    if shutil.which("exiftool") is None:
        pytest.skip("ExifTool is not installed (dev.sh installs libimage-exiftool-perl)")
    candidates = [e for e in corpus.entries.values()
                  if e.kinds & {"exif", "xmp", "iptc", "quicktime-date", "format:png"}]
    paths = {}
    for e in candidates:
        path = corpus.path(e)
        try:
            with Image.open(path, formats=FORMATS):
                paths[str(path)] = e.id
        except Exception:  # noqa: BLE001, S112 - not an image decode() accepts
            continue
    out = subprocess.run(
        ["exiftool", "-json", "-G1", "-a", "-n", "-q", "-q", "-time:all", "-IPTC:all", "-@", "-"],
        input="\n".join(paths), capture_output=True, text=True, check=False)
    readings = {paths[d["SourceFile"]]: exiftool_reading(d) for d in json.loads(out.stdout)}
    assert len(readings) == len(paths)
    disagree = {}
    for fid, want in readings.items():
        got = metadata.read_file(corpus.path(fid)).capture
        mine = (got.taken_at, got.offset, got.field) if got else None
        same = mine == want or (mine and want and mine[1:] == want[1:]
                                and datetime.fromisoformat(mine[0]) == datetime.fromisoformat(want[0]))
        if not same:
            disagree[fid] = (mine, want)
    dated = [fid for fid, r in readings.items() if r is not None]
    cameras = [fid for fid in dated if "camera" in corpus.entry(fid).kinds]
    assert not disagree, f"{len(disagree)} of {len(readings)} files read differently from ExifTool: {disagree}"
    assert len(dated) >= 100 and len(cameras) >= 70, (len(dated), len(cameras))
    print(f"ExifTool agrees on all {len(readings)} files: {len(dated)} with a date "
          f"({len(cameras)} from cameras), {len(readings) - len(dated)} without")

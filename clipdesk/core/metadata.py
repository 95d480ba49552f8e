"""A photo's metadata as other photo tools read it: capture date, orientation,
camera and how the photo was taken (lens, exposure, focal length, position).

One reader for every door: :func:`imaging.decode <clipdesk.core.imaging.decode>`
calls :func:`read_image` on the image it is about to decode, and
:func:`read_file` reads a file on its own (the details panel). Neither decodes
pixels: EXIF comes from Pillow, embedded XMP packets (JPEG APP1, PNG iTXt,
TIFF tag 700, WebP, HEIF) are parsed by the sidecar module's XMP parser, IPTC
from Pillow's ``IptcImagePlugin.getiptcinfo`` (JPEG APP13, TIFF tag 33723),
and two containers are walked here without touching their image data: PNG
chunks (``eXIf``, XMP in ``iTXt``/``zTXt``/``tEXt``, ``tIME``) and the
ISO BMFF boxes of HEIF/AVIF (``moov/mvhd``). Camera RAW files are read by
:func:`read_raw` from their own containers (TIFF-based RAW, CR3, RAF, MRW,
CRW), by the same precedence.

Capture date: one precedence
----------------------------
The capture date is the first field below that parses, in three groups; the
grouping and its order within a group follow the Metadata Working Group's
*Guidelines for Handling Image Metadata* 2.0 (2010), section 5.7, which pairs
each EXIF date with its XMP and IPTC equivalents and reads EXIF first, then
XMP, then IPTC. Original capture comes first, modification last, and the
file's own time only when nothing else parses.

Original capture ("when the photo was taken")
    1. ``EXIF:DateTimeOriginal`` (EXIF 2.32 tag 0x9003) with
       SubSecTimeOriginal (0x9291) and OffsetTimeOriginal (0x9011)
       (``CanonRaw:DateTimeOriginal``, the TimeStamp record 0x180E of a
       Canon CRW's CIFF directory, is its equivalent in those files)
    2. ``XMP:exif:DateTimeOriginal`` (the XMP copy of 1, as Lightroom,
       darktable and DNG converters write it)
    3. ``XMP:photoshop:DateCreated``
    4. ``IPTC:DateCreated`` (IIM 4.2 dataset 2:55) with TimeCreated (2:60)
Digitized or created
    5. ``EXIF:CreateDate`` (DateTimeDigitized, 0x9004) with
       SubSecTimeDigitized (0x9292) and OffsetTimeDigitized (0x9012)
    6. ``XMP:xmp:CreateDate``
    7. ``XMP:exif:DateTimeDigitized``
    8. ``IPTC:DigitalCreationDate`` (2:62) with DigitalCreationTime (2:63)
    9. ``QuickTime:CreateDate``: the ISO/IEC 14496-12 movie header of a HEIF
       image sequence
Modified
    10. ``EXIF:ModifyDate`` (DateTime, 0x0132) with SubSecTime (0x9290) and
        OffsetTime (0x9010)
    11. ``XMP:xmp:ModifyDate``
    12. ``XMP:tiff:DateTime``
    13. ``PNG:ModifyDate`` (the ``tIME`` chunk)
    14. ``QuickTime:ModifyDate``
The file
    15. ``File:ModifyDate``: the file's modification time, in this machine's
        time zone.

Within a group a date with a time of day beats a date alone (Photo Mechanic
writes ``photoshop:DateCreated`` as a day and keeps the time in IPTC).
EXIF's DateTimeOriginal and CreateDate are read from the Exif IFD, then IFD0
(some RAW writers put them there); ModifyDate from IFD0, then the Exif IFD.

What "parses" means
    A value is a date from year 1800 to 2199 with a real calendar day and
    time: ``0000:00:00 00:00:00``, blanks, ``2019:02:30`` or ``15:08:70``
    fall through to the next field. Accepted forms: EXIF's
    ``YYYY:MM:DD HH:MM:SS``; ISO 8601 as XMP writes it (``YYYY``,
    ``YYYY-MM``, ``YYYY-MM-DD``, then ``Thh:mm[:ss[.s...]]``, then ``Z`` or
    ``±hh:mm``), with ``-`` or ``:`` between date parts, ``T`` or a space
    before the time, and ``GMT``/``UTC`` before an offset (as Apple writes
    it); IPTC's ``CCYYMMDD`` and ``HHMMSS±HHMM``. A missing month or day
    (or IPTC's ``00``) reads as the first, with no time of day.
Offsets and sub-seconds are kept
    ``taken_at`` is the local time the field states, ISO 8601
    (``2021-07-14T18:30:05.123``; the sub-second digits as written, at most
    six). ``offset`` is its UTC offset (``+02:00``) when the field states one:
    EXIF's OffsetTime* tag of that same date (never another date's), the
    offset inside an XMP date or IPTC time. PNG ``tIME`` is UTC by its
    specification (PNG 2nd edition, 11.3.6.1), so its offset is ``+00:00``.
    QuickTime dates are read as written, with no offset: the specification
    says UTC but cameras write local time (ExifTool reads them the same way
    unless told otherwise). Sorting and date filters use ``taken_at``, the
    local time at the place the photo was taken, so a holiday abroad sorts
    by its own clock.

How the photo was taken
-----------------------
EXIF 2.32 tags of the Exif IFD, read from the same parse as the date (the
details panel shows them; indexing gets them for free): ``LensModel``
(0xA434), ``ExposureTime`` (0x829A, seconds), ``FNumber`` (0x829D), ``ISO``
(PhotographicSensitivity, 0x8827; the first value when there are several),
``FocalLength`` (0x920A, mm) and ``FocalLengthIn35mmFilm`` (0xA405, mm: the
35 mm equivalent as the camera states it; ClipDesk does not guess a crop
factor), and the GPS IFD (0x8825): latitude and longitude in signed decimal
degrees (south and west negative, from GPSLatitudeRef/GPSLongitudeRef) and
the altitude in metres (negative below sea level, GPSAltitudeRef 1). A zero,
infinite or garbage value reads as absent; ExifTool reads the same values on
real cameras' files (tests/core/test_metadata.py).

Bad input is normal: a field, packet or chunk that does not parse is
skipped (and the next field tried); nothing here raises for a malformed file.
"""

from __future__ import annotations

import io
import logging
import os
import re
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import BinaryIO

from PIL import Image, IptcImagePlugin

from clipdesk.core.names import HIERARCHY_SEPARATOR, InvalidTag, tag_name
from clipdesk.core.photofiles import raw_format
from clipdesk.core.sidecar import Marks, marks_in, parse_xmp, tags_in

log = logging.getLogger(__name__)

try:  # HEIC/HEIF from phones; AVIF where libheif has it. Registered here, where
    # every reader of image files starts (imaging imports this module).
    import pillow_heif

    pillow_heif.register_heif_opener()
except ImportError:  # pragma: no cover - it is a hard dependency, but keep reading others
    pass

#: Every field that can give the capture date, first to last (see above).
PRECEDENCE = (
    "EXIF:DateTimeOriginal", "CanonRaw:DateTimeOriginal", "XMP:exif:DateTimeOriginal", "XMP:photoshop:DateCreated", "IPTC:DateCreated",
    "EXIF:CreateDate", "XMP:xmp:CreateDate", "XMP:exif:DateTimeDigitized", "IPTC:DigitalCreationDate",
    "QuickTime:CreateDate",
    "EXIF:ModifyDate", "XMP:xmp:ModifyDate", "XMP:tiff:DateTime", "PNG:ModifyDate", "QuickTime:ModifyDate",
    "File:ModifyDate",
)
_GROUP_ENDS = (5, 10, 15, 16)  # original capture, digitized/created, modified, the file
_RANK = {f: i for i, f in enumerate(PRECEDENCE)}
_GROUP = {f: next(g for g, end in enumerate(_GROUP_ENDS) if i < end) for f, i in _RANK.items()}

#: Years outside [MIN_YEAR, MAX_YEAR) are garbage (0000, 1601, 9999), not dates.
MIN_YEAR, MAX_YEAR = 1800, 2200

_EXIF_IFD, _GPS_IFD = 0x8769, 0x8825
_ORIENTATION, _MAKE, _MODEL = 0x0112, 0x010F, 0x0110
_LENS_MODEL, _EXPOSURE_TIME, _F_NUMBER, _ISO = 0xA434, 0x829A, 0x829D, 0x8827
_FOCAL_LENGTH, _FOCAL_35MM = 0x920A, 0xA405
#: (field, date tag, sub-second tag, offset tag, IFDs to look in) - EXIF 2.32, CIPA DC-008-2019.
_EXIF_DATES = (
    ("EXIF:DateTimeOriginal", 0x9003, 0x9291, 0x9011, ("exif", "ifd0")),
    ("EXIF:CreateDate", 0x9004, 0x9292, 0x9012, ("exif", "ifd0")),
    ("EXIF:ModifyDate", 0x0132, 0x9290, 0x9010, ("ifd0", "exif")),
)

_NS_XMP = "http://ns.adobe.com/xap/1.0/"
_NS_PHOTOSHOP = "http://ns.adobe.com/photoshop/1.0/"
_NS_EXIF = "http://ns.adobe.com/exif/1.0/"
_NS_TIFF = "http://ns.adobe.com/tiff/1.0/"
_NS_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
#: XMP properties (XMP Specification Part 2, 2016: xmp, photoshop, exif, tiff namespaces) -> field.
_XMP_DATES = {
    f"{{{_NS_EXIF}}}DateTimeOriginal": "XMP:exif:DateTimeOriginal",
    f"{{{_NS_PHOTOSHOP}}}DateCreated": "XMP:photoshop:DateCreated",
    f"{{{_NS_XMP}}}CreateDate": "XMP:xmp:CreateDate",
    f"{{{_NS_EXIF}}}DateTimeDigitized": "XMP:exif:DateTimeDigitized",
    f"{{{_NS_XMP}}}ModifyDate": "XMP:xmp:ModifyDate",
    f"{{{_NS_TIFF}}}DateTime": "XMP:tiff:DateTime",
}
#: IPTC IIM 4.2 application record: (date dataset, time dataset) -> field.
_IPTC_DATES = (((2, 55), (2, 60), "IPTC:DateCreated"), ((2, 62), (2, 63), "IPTC:DigitalCreationDate"))

_MAX_TEXT = 16 << 20  # the most a PNG text chunk may inflate to (as sidecar.MAX_SIDECAR_BYTES)
_MAX_CHUNKS = 10_000
_QT_EPOCH = datetime(1904, 1, 1)  # ISO/IEC 14496-12: seconds since midnight, 1 Jan 1904

_DATE = re.compile(
    r"(?P<y>\d{4})"
    r"(?:[-:](?P<mo>\d{2})"
    r"(?:[-:](?P<d>\d{2})"
    r"(?:(?:T|\s+)(?P<h>\d{2}):(?P<mi>\d{2})"
    r"(?::(?P<s>\d{2})(?:[.,](?P<f>\d+))?)?)?)?)?"
    r"\s*(?P<tz>Z|(?:GMT|UTC)?\s*[+-]\d{1,2}(?::?\d{2})?|GMT|UTC)?",
    re.IGNORECASE,
)
_OFFSET = re.compile(r"([+-])(\d{1,2})(?::?(\d{2}))?")
_IPTC_TIME = re.compile(r"(\d{2}):?(\d{2}):?(\d{2})\s*([+-]\d{2}:?\d{2})?")


@dataclass(frozen=True)
class CaptureDate:
    """When a photo was taken, as one field of its metadata (or its file) says.

    ``taken_at``: ISO 8601 local time, ``YYYY-MM-DDTHH:MM:SS`` plus the
    sub-second digits the field had (``.123``); midnight when the field has
    no time of day (``has_time`` False). ``offset``: ``±HH:MM`` from UTC, or
    None when the field does not say. ``field``: which field, in ExifTool's
    words (:data:`PRECEDENCE`).
    """

    taken_at: str
    offset: str | None
    field: str
    has_time: bool = True

    @property
    def source(self) -> str:
        """The catalog's ``date_source``: "exif" for any metadata field, "file" for the file's time."""
        return "file" if self.field.startswith("File:") else "exif"


@dataclass(frozen=True)
class Position:
    """Where a photo was taken (EXIF GPS): WGS 84 decimal degrees, north and
    east positive; ``altitude`` in metres above sea level, or None."""

    latitude: float
    longitude: float
    altitude: float | None = None


@dataclass(frozen=True)
class Shot:
    """How a photo was taken (see "How the photo was taken" above); every
    field None when the file does not say. ``exposure_time`` in seconds,
    ``focal_length`` and ``focal_length_35mm`` in millimetres."""

    lens: str | None = None
    exposure_time: float | None = None
    f_number: float | None = None
    iso: int | None = None
    focal_length: float | None = None
    focal_length_35mm: float | None = None
    position: Position | None = None


@dataclass(frozen=True)
class Metadata:
    """What :func:`read_image` and :func:`read_file` find.

    ``orientation``: EXIF orientation 1-8 (1 when absent or garbage).
    ``camera``: make and model, printable, at most 100 characters.
    ``dates``: every date field that parsed, in :data:`PRECEDENCE` order.
    ``shot``: lens, exposure, focal length and GPS position.
    ``width``/``height``: the picture's size in pixels as it is shown
    (orientation applied); ``format``: Pillow's name for the file's type
    ("JPEG", "HEIF"...).
    """

    orientation: int = 1
    camera: str | None = None
    dates: tuple[CaptureDate, ...] = ()
    shot: Shot = Shot()
    width: int = 0
    height: int = 0
    format: str = ""
    #: Keywords of the embedded XMP (dc:subject, lr:hierarchicalSubject,
    #: digiKam:TagsList) and IPTC (2:25 Keywords), as ClipDesk tag names.
    keywords: tuple[str, ...] = ()
    #: xmp:Rating / xmp:Label of the embedded XMP, None when it has neither.
    marks: "Marks | None" = None

    @property
    def capture(self) -> CaptureDate | None:
        """The capture date by the precedence; None when no field parses."""
        best = None
        for d in self.dates:
            key = (_GROUP[d.field], not d.has_time, _RANK[d.field])
            if best is None or key < best[0]:
                best = (key, d)
        return best[1] if best else None

    def capture_date(self, mtime: float) -> CaptureDate:
        """The capture date, or the file's (``mtime``, seconds since the epoch) when no field parses."""
        return self.capture or file_date(mtime)


def file_date(mtime: float) -> CaptureDate:
    """``File:ModifyDate``: a file's modification time in this machine's time
    zone, to the second, with that zone's offset at that time."""
    local = datetime.fromtimestamp(mtime).astimezone()
    return CaptureDate(local.replace(microsecond=0, tzinfo=None).isoformat(), _format_offset(local.utcoffset()),
                       "File:ModifyDate")


# --------------------------------------------------------------------------- reading


def read_file(path: str | bytes | os.PathLike) -> Metadata:
    """Metadata of one image file (camera RAW included: :func:`read_raw`),
    without decoding its pixels.

    Raises OSError when the file cannot be read or Pillow cannot identify it
    (``PIL.UnidentifiedImageError``), and Pillow's DecompressionBombError for
    a header that claims too many pixels; malformed metadata is skipped.
    """
    with open(path, "rb") as f:
        head = f.read(1 << 16)
        if raw_format(os.path.basename(os.fsencode(path)), head) is not None:
            return read_raw(head + f.read())
        f.seek(0)
        with Image.open(f) as image:
            return read_image(image, f)


def read_image(image: Image.Image, container: BinaryIO | None = None) -> Metadata:
    """Metadata of an image Pillow has opened but not necessarily loaded.

    ``container``: the file's bytes as a seekable binary stream, for what
    Pillow does not read without decoding pixels (PNG chunks after the image
    data) or at all (the HEIF movie header). Without it those are skipped.
    Never decodes pixels, never raises for malformed metadata.
    """
    fmt = image.format or ""
    png: dict = {}
    extra: list[CaptureDate] = []
    if fmt == "PNG" and container is not None:
        png = _guard(_png_metadata, container) or {}
    exif = _guard(_exif_of, image, png)
    packet = png.get("xmp") or image.info.get("xmp") or image.info.get("XML:com.adobe.xmp")
    if not packet and fmt in ("JPEG", "MPO"):
        packet = _guard(_nonstandard_jpeg_xmp, image)
    if "time" in png:
        extra.append(png["time"])
    if fmt in ("HEIF", "AVIF") and container is not None:
        extra += _guard(_isobmff_dates, container) or []
    iptc = _guard(IptcImagePlugin.getiptcinfo, image) if fmt in ("JPEG", "MPO", "TIFF") else None
    return _assemble(exif, packet, iptc, extra, image.size, fmt)


def read_raw(data: bytes) -> Metadata:
    """Metadata of a camera RAW file from its bytes, without LibRaw.

    Where each container keeps its EXIF: TIFF-based RAW (CR2, NEF, ARW, DNG,
    PEF, SRW, IIQ, and ORF and RW2, whose TIFF headers carry their own magic
    number) in IFD0 and its Exif IFD, with XMP in tag 700 and IPTC in tag
    33723; CR3 in the CMT1 (IFD0), CMT2 (Exif IFD) and CMT4 (GPS) boxes of
    Canon's ``uuid`` box, XMP in its XMP ``uuid`` box; RAF in the JPEG preview
    its header points at (bytes 84-91); MRW in its TTW block. Other formats
    (CRW, X3F) read as empty. Never raises for malformed metadata.
    """
    head = data[:16]
    if head.startswith(b"FUJIFILMCCD-RAW"):
        return _guard(_raf, data) or Metadata()
    if head[:2] == b"II" and head[6:14] == b"HEAPCCDR":
        return _guard(_crw, data) or Metadata()
    found = _guard(_raw_exif, data, head)
    if not found:
        return Metadata()
    exif, packet, tiff = found
    return _assemble(exif, packet, _guard(_tiff_iptc, tiff) if tiff else None, [])


def _assemble(exif: Image.Exif | None, packet, iptc: dict | None, extra: list[CaptureDate],
              size: tuple[int, int] = (0, 0), fmt: str = "") -> Metadata:
    """One Metadata from what a container holds: its EXIF, XMP packet, IPTC
    datasets ({(record, dataset): value}) and any other dates; ``size`` is
    the picture's stored size (0, 0 when unknown), ``fmt`` Pillow's name of
    the type."""
    dates: list[CaptureDate] = list(extra)
    if exif is not None:
        dates += _guard(_exif_dates, exif) or []
    keywords: list[str] = []
    marks = None
    if packet:
        rdf = _guard(_xmp_rdf, packet)
        if rdf is not None:
            dates += _guard(_xmp_dates, rdf) or []
            keywords += _guard(tags_in, rdf, "the photo's embedded XMP") or []
            marks = _guard(marks_in, rdf)
    if iptc:
        dates += _guard(_iptc_dates, iptc) or []
        keywords += _guard(_iptc_keywords, iptc) or []
    dates.sort(key=lambda d: _RANK[d.field])
    orientation = (_guard(_orientation, exif) or 1) if exif is not None else 1
    w, h = size
    return Metadata(
        orientation=orientation,
        camera=_guard(_camera, exif) if exif is not None else None,
        dates=tuple(dates),
        shot=(_guard(_shot, exif) or Shot()) if exif is not None else Shot(),
        width=h if orientation in (5, 6, 7, 8) else w,
        height=w if orientation in (5, 6, 7, 8) else h,
        format=fmt,
        keywords=tuple(dict.fromkeys(keywords)),
        marks=marks,
    )


def _guard(fn, *args):
    """Run one reader; malformed metadata of any kind yields None, never an error."""
    try:
        return fn(*args)
    except Exception as exc:  # noqa: BLE001 - malformed metadata must never fail a decode
        log.debug("skipping unreadable metadata (%s): %s", fn.__name__, exc)
        return None


# --------------------------------------------------------------------------- EXIF


def _exif_of(image: Image.Image, png: dict) -> Image.Exif | None:
    if image.format == "PNG":
        # Pillow's PNG getexif() decodes the pixels to reach chunks after them.
        raw = png.get("exif") or image.info.get("exif")
        if not raw:
            return None
        exif = Image.Exif()
        exif.load(raw)
        return exif
    return image.getexif()


def _exif_dates(exif: Image.Exif) -> list[CaptureDate]:
    try:
        sub = exif.get_ifd(_EXIF_IFD)
    except Exception:  # noqa: BLE001 - a broken Exif IFD pointer
        sub = {}
    ifds = {"ifd0": exif, "exif": sub}
    out = []
    for field, tag, subsec_tag, offset_tag, places in _EXIF_DATES:
        subsec = _digits(_safe_get(sub, subsec_tag))
        offset = _safe_get(sub, offset_tag)
        for place in places:
            found = _parse_date(_safe_get(ifds[place], tag), field, subsec=subsec, offset=offset)
            if found:
                out.append(found)
                break
    return out


def _safe_get(ifd, tag):
    try:
        return ifd.get(tag)
    except Exception:  # noqa: BLE001
        return None


def _orientation(exif: Image.Exif) -> int:
    o = exif.get(_ORIENTATION)
    return o if isinstance(o, int) and 1 <= o <= 8 else 1


def _camera(exif: Image.Exif) -> str | None:
    make = _clean_text(exif.get(_MAKE))
    model = _clean_text(exif.get(_MODEL))
    if model and make and model.lower().startswith(make.split()[0].lower()):
        camera = model
    else:
        camera = " ".join(p for p in (make, model) if p)
    return camera[:100] or None


def _shot(exif: Image.Exif) -> Shot:
    sub = _ifd(exif, _EXIF_IFD)
    iso = _safe_get(sub, _ISO)
    if isinstance(iso, (tuple, list)):
        iso = iso[0] if iso else None
    iso_value = _positive(iso)
    return Shot(
        lens=_clean_text(_safe_get(sub, _LENS_MODEL))[:100] or None,
        exposure_time=_positive(_safe_get(sub, _EXPOSURE_TIME)),
        f_number=_positive(_safe_get(sub, _F_NUMBER)),
        iso=int(iso_value) if iso_value is not None else None,
        focal_length=_positive(_safe_get(sub, _FOCAL_LENGTH)),
        focal_length_35mm=_positive(_safe_get(sub, _FOCAL_35MM)),
        position=_guard(_position, _ifd(exif, _GPS_IFD)),
    )


def _ifd(exif: Image.Exif, tag: int):
    try:
        return exif.get_ifd(tag)
    except Exception:  # noqa: BLE001 - a broken IFD pointer
        return {}


def _positive(value) -> float | None:
    """A rational or number as a float, None unless finite and above zero."""
    try:
        number = float(value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    return number if number > 0 and number == number and number != float("inf") else None


def _degrees(value) -> float | None:
    """EXIF GPS degrees, minutes, seconds (three rationals) as decimal degrees."""
    if not isinstance(value, (tuple, list)) or not 1 <= len(value) <= 3:
        return None
    parts = [float(v) for v in value]
    if any(p != p or p < 0 for p in parts):  # NaN (a 0/0 rational) or negative
        return None
    parts += [0.0] * (3 - len(parts))
    return parts[0] + parts[1] / 60 + parts[2] / 3600


def _position(gps) -> Position | None:
    lat, lon = _degrees(gps.get(2)), _degrees(gps.get(4))
    if lat is None or lon is None or lat > 90 or lon > 180:
        return None
    if _clean_text(gps.get(1)).upper().startswith("S"):
        lat = -lat
    if _clean_text(gps.get(3)).upper().startswith("W"):
        lon = -lon
    altitude = None
    try:
        raw = float(gps.get(6)) if gps.get(6) is not None else None
    except (TypeError, ValueError, ZeroDivisionError):
        raw = None
    if raw is not None and raw == raw and abs(raw) != float("inf"):
        below = gps.get(5)
        below = below[0] if isinstance(below, (bytes, tuple)) and below else below
        altitude = -raw if below == 1 else raw
    return Position(lat, lon, altitude)


# --------------------------------------------------------------------------- XMP


def _xmp_rdf(packet: bytes | str | tuple):
    """The rdf:RDF element of an embedded XMP packet (None when it has none)."""
    if isinstance(packet, tuple):  # a TIFF tag Pillow could not unwrap
        packet = packet[0] if packet else b""
    data = packet.encode("utf-8") if isinstance(packet, str) else bytes(packet)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # XMP allows UTF-16; our parser reads UTF-8
        data = data.decode("utf-16").encode("utf-8")
    return parse_xmp(data.rstrip(b"\x00 \t\r\n"), "the photo's embedded XMP")


def _xmp_dates(rdf) -> list[CaptureDate]:
    values: dict[str, str] = {}
    for desc in rdf.findall(f"{{{_NS_RDF}}}Description"):
        for name, value in desc.attrib.items():  # Adobe's toolkit writes simple properties as attributes
            if name in _XMP_DATES:
                values.setdefault(_XMP_DATES[name], value)
        for child in desc:
            if child.tag in _XMP_DATES:
                text = child.text or ""
                if not text.strip():  # a date wrapped in rdf:Alt/Seq: its first item
                    li = child.find(f".//{{{_NS_RDF}}}li")
                    text = li.text if li is not None and li.text else ""
                values.setdefault(_XMP_DATES[child.tag], text)
    return [d for field, text in values.items() if (d := _parse_date(text, field))]


def _nonstandard_jpeg_xmp(image: Image.Image) -> bytes | None:
    """An APP1 XMP packet under a header other than XMP's
    ``http://ns.adobe.com/xap/1.0/\\0`` (Pillow reads only that one): some
    Adobe software wrote ``XMP\\0://ns.adobe.com/xap/1.0/\\0``. ExifTool reads
    such segments too, from their first ``<``."""
    for marker, data in getattr(image, "applist", ()):
        if marker != "APP1" or data.startswith((b"Exif\x00", b"http://ns.adobe.com/xmp/extension/")):
            continue
        if data.startswith(b"XMP\x00") or b"<?xpacket" in data[:256] or b"<x:xmpmeta" in data[:256]:
            start = data.find(b"<")
            if start >= 0:
                return data[start:]
    return None


# --------------------------------------------------------------------------- IPTC


def _iptc_dates(info: dict) -> list[CaptureDate]:
    out = []
    for date_key, time_key, field in _IPTC_DATES:
        found = _parse_iptc(_first(info.get(date_key)), _first(info.get(time_key)), field)
        if found:
            out.append(found)
    return out


def _iptc_keywords(info: dict) -> list[str]:
    """IPTC IIM 2:25 Keywords, decoded as UTF-8 when the record says so
    (1:90 CodedCharacterSet ESC % G), else as Latin-1 (IPTC IIM 4.2, 1.6)."""
    raw = info.get((2, 25))
    if raw is None:
        return []
    values = raw if isinstance(raw, list) else [raw]
    utf8 = info.get((1, 90)) == b"\x1b%G"
    out = []
    for value in values:
        text = value.decode("utf-8" if utf8 else "latin-1", errors="replace") if isinstance(value, bytes) else str(value)
        try:
            out.append(tag_name(text.replace(HIERARCHY_SEPARATOR, "/")))
        except InvalidTag:
            continue
    return out


def _iim(data: bytes) -> dict:
    """IPTC IIM datasets ({(record, dataset): bytes, or a list when repeated})
    from the raw stream (IPTC IIM 4.2, 1.5: tag marker 0x1C, record, dataset,
    a two-byte length or an extended one), as Pillow's getiptcinfo gives them."""
    out: dict = {}
    pos = 0
    while pos + 5 <= len(data) and data[pos] == 0x1C:
        key = (data[pos + 1], data[pos + 2])
        size = int.from_bytes(data[pos + 3 : pos + 5], "big")
        pos += 5
        if size & 0x8000:  # extended dataset: the next (size & 0x7FFF) bytes hold the length
            width = size & 0x7FFF
            size = int.from_bytes(data[pos : pos + width], "big")
            pos += width
        value = data[pos : pos + size]
        pos += size
        if key in out:
            out[key] = (out[key] if isinstance(out[key], list) else [out[key]]) + [value]
        else:
            out[key] = value
    return out


def _first(value):
    return value[0] if isinstance(value, list) and value else value


def _parse_iptc(date_raw, time_raw, field: str) -> CaptureDate | None:
    text = _clean_text(date_raw)
    if not re.fullmatch(r"\d{8}", text):
        return None
    y, mo, d = int(text[:4]), int(text[4:6]), int(text[6:8])
    known_day = mo != 0 and d != 0
    try:
        day = datetime(y, mo or 1, d or 1)
    except ValueError:
        return None
    if not MIN_YEAR <= y < MAX_YEAR:
        return None
    t = _IPTC_TIME.fullmatch(_clean_text(time_raw)) if known_day and time_raw is not None else None
    if t:
        try:
            when = day.replace(hour=int(t[1]), minute=int(t[2]), second=int(t[3]))
        except ValueError:
            t = None
        else:
            return CaptureDate(when.isoformat(), _parse_offset(t[4]) if t[4] else None, field)
    return CaptureDate(day.isoformat(), None, field, has_time=False)


# --------------------------------------------------------------------------- containers


def _png_metadata(fp: BinaryIO) -> dict:
    """EXIF, XMP and tIME from a PNG's chunks, skipping the image data."""
    fp.seek(0)
    if fp.read(8) != b"\x89PNG\r\n\x1a\n":
        return {}
    out: dict = {}
    for _ in range(_MAX_CHUNKS):
        head = fp.read(8)
        if len(head) < 8:
            break
        length, kind = struct.unpack(">I4s", head)
        if kind == b"IEND":
            break
        if kind not in (b"eXIf", b"tIME", b"iTXt", b"tEXt", b"zTXt") or length > _MAX_TEXT:
            fp.seek(length + 4, io.SEEK_CUR)  # past the end: the next read is short and the walk stops
            continue
        data = fp.read(length)
        if len(data) < length:
            break
        fp.seek(4, io.SEEK_CUR)  # CRC
        if kind == b"eXIf":
            out.setdefault("exif", data)
        elif kind == b"tIME" and len(data) == 7:
            y, mo, d, h, mi, s = struct.unpack(">HBBBBB", data)
            found = _valid(y, mo, d, h, mi, s)
            if found:
                out.setdefault("time", CaptureDate(found.isoformat(), "+00:00", "PNG:ModifyDate"))
        elif kind != b"tIME":
            keyword, text = _png_text(kind, data)
            if keyword == b"XML:com.adobe.xmp" or keyword == b"Raw profile type xmp":
                out.setdefault("xmp", text if keyword.startswith(b"XML") else _raw_profile(text))
            elif keyword in (b"Raw profile type exif", b"Raw profile type APP1"):
                out.setdefault("exif", _raw_profile(text))
    return out


def _png_text(kind: bytes, data: bytes) -> tuple[bytes, bytes]:
    """(keyword, text bytes) of a tEXt, zTXt or iTXt chunk (PNG 2nd edition, 11.3.4)."""
    keyword, _, rest = data.partition(b"\x00")
    if kind == b"tEXt":
        return keyword, rest
    if kind == b"zTXt":
        return keyword, _inflate(rest[1:])
    compressed = rest[:1] == b"\x01"
    rest = rest[2:]
    _lang, _, rest = rest.partition(b"\x00")
    _translated, _, text = rest.partition(b"\x00")
    return keyword, _inflate(text) if compressed else text


def _inflate(data: bytes) -> bytes:
    try:
        return zlib.decompressobj().decompress(data, _MAX_TEXT)
    except zlib.error:
        return b""


def _raw_profile(text: bytes) -> bytes:
    """ImageMagick's "Raw profile type ..." text: a name line, a length line, then hex."""
    lines = text.split(b"\n")
    return bytes.fromhex(b"".join(lines[3:]).decode("ascii", "replace"))


def _boxes(fp: BinaryIO, start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    """(type, payload start, box end) of the ISO BMFF boxes in [start, end)."""
    pos = start
    for _ in range(4096):
        if pos + 8 > end:
            return
        fp.seek(pos)
        head = fp.read(8)
        if len(head) < 8:
            return
        size, kind = struct.unpack(">I4s", head)
        header = 8
        if size == 1:
            big = fp.read(8)
            if len(big) < 8:
                return
            size, header = struct.unpack(">Q", big)[0], 16
        elif size == 0:
            size = end - pos
        if size < header or pos + size > end:
            return
        yield kind, pos + header, pos + size
        pos += size


def _isobmff_dates(fp: BinaryIO) -> list[CaptureDate]:
    """Creation and modification times of the movie header (``moov/mvhd``,
    ISO/IEC 14496-12 8.2.2) that HEIF image sequences carry."""
    end = fp.seek(0, io.SEEK_END)
    for kind, start, stop in _boxes(fp, 0, end):
        if kind != b"moov":
            continue
        for sub, s_start, s_stop in _boxes(fp, start, stop):
            if sub != b"mvhd":
                continue
            fp.seek(s_start)
            version = fp.read(4)[:1]  # version, then 3 bytes of flags
            size = 16 if version == b"\x01" else 8
            if s_stop - s_start < 4 + size:
                return []
            raw = fp.read(size)
            if len(raw) != size:
                return []
            created, modified = struct.unpack(">QQ" if len(raw) == 16 else ">II", raw)
            out = []
            for seconds, field in ((created, "QuickTime:CreateDate"), (modified, "QuickTime:ModifyDate")):
                if seconds and seconds < 1 << 40:
                    when = _QT_EPOCH + timedelta(seconds=seconds)
                    if MIN_YEAR <= when.year < MAX_YEAR:
                        out.append(CaptureDate(when.isoformat(), None, field))
            return out
        return []
    return []


# --------------------------------------------------------------------------- RAW containers

_IPTC_NAA, _XMP_TAG = 33723, 700
#: Canon's CR3 metadata box and Adobe's XMP box (ISO BMFF ``uuid`` boxes).
_CANON_UUID = bytes.fromhex("85c0b687820f11e08111f4ce462b6a48")
_XMP_UUID = bytes.fromhex("be7acfcb97a942e89c71999491e3afac")


class _JoinedExif(Image.Exif):
    """IFD0 from one TIFF stream and the Exif and GPS IFDs from others (CR3
    keeps each in its own box)."""

    def __init__(self, ifd0: bytes, sub_ifds: dict[int, bytes]):
        super().__init__()
        self.load(b"Exif\x00\x00" + ifd0)
        self._joined = {}
        for tag, stream in sub_ifds.items():
            sub = Image.Exif()
            sub.load(b"Exif\x00\x00" + stream)
            self._joined[tag] = dict(sub)

    def get_ifd(self, tag):
        if tag in self._joined:
            return self._joined[tag]
        return super().get_ifd(tag)


def _raw_exif(data: bytes, head: bytes) -> tuple[Image.Exif, bytes | None, bytes | None] | None:
    """(EXIF, XMP packet, TIFF stream) of a TIFF-based, CR3 or MRW file; None for others."""
    tiff = None
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        tiff = data
    elif head[:4] in (b"IIRO", b"IIRS", b"IIU\x00"):  # ORF, RW2: TIFF with another magic number
        tiff = b"II*\x00" + data[4:]
    elif head[:4] == b"MMOR":
        tiff = b"MM\x00*" + data[4:]
    elif head.startswith(b"\x00MRM"):
        tiff = _mrw_tiff(data)
    elif head[4:8] == b"ftyp" and head[8:12] == b"crx ":
        return _cr3(data)
    if tiff is None:
        return None
    exif = Image.Exif()
    exif.load(b"Exif\x00\x00" + tiff)
    packet = exif.get(_XMP_TAG)
    return exif, packet if isinstance(packet, (bytes, str)) else None, tiff


_TIFF_TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8}


def _tiff_iptc(tiff: bytes) -> dict | None:
    """The IPTC datasets of IFD0's tag 33723 (IPTC-NAA), as its bytes: writers
    store them as UNDEFINED or, as Nikon does, as LONGs, which Pillow's EXIF
    reader cuts to their first value (TIFF 6.0, section 2: a value over 4
    bytes lies at the offset the entry gives)."""
    endian = {b"II": "little", b"MM": "big"}.get(tiff[:2])
    if endian is None:
        return None
    ifd = int.from_bytes(tiff[4:8], endian)
    count = int.from_bytes(tiff[ifd : ifd + 2], endian)
    for i in range(min(count, 1024)):
        entry = tiff[ifd + 2 + 12 * i : ifd + 14 + 12 * i]
        if len(entry) < 12 or int.from_bytes(entry[:2], endian) != _IPTC_NAA:
            continue
        size = _TIFF_TYPE_SIZES.get(int.from_bytes(entry[2:4], endian), 1) * int.from_bytes(entry[4:8], endian)
        if size <= 4:
            return _iim(entry[8 : 8 + size])
        start = int.from_bytes(entry[8:12], endian)
        return _iim(tiff[start : start + size])
    return None


def _mrw_tiff(data: bytes) -> bytes | None:
    """The TIFF stream of a Minolta MRW's TTW block (blocks: 4-byte name,
    4-byte big-endian length, after an 8-byte MRM header)."""
    end = 8 + int.from_bytes(data[4:8], "big")
    pos = 8
    while pos + 8 <= min(end, len(data)):
        name, size = data[pos : pos + 4], int.from_bytes(data[pos + 4 : pos + 8], "big")
        if name == b"\x00TTW":
            return data[pos + 8 : pos + 8 + size]
        pos += 8 + size
    return None


def _cr3(data: bytes) -> tuple[Image.Exif, bytes | None, None] | None:
    fp = io.BytesIO(data)
    streams: dict[bytes, bytes] = {}
    packet = None
    for kind, start, stop in _boxes(fp, 0, len(data)):
        if kind == b"uuid" and data[start : start + 16] == _XMP_UUID:
            packet = data[start + 16 : stop]
        if kind != b"moov":
            continue
        for sub, s_start, s_stop in _boxes(fp, start, stop):
            if sub == b"uuid" and data[s_start : s_start + 16] == _CANON_UUID:
                for box, b_start, b_stop in _boxes(fp, s_start + 16, s_stop):
                    if box in (b"CMT1", b"CMT2", b"CMT4"):
                        streams[box] = data[b_start:b_stop]
    if b"CMT1" not in streams:
        return None
    subs = {tag: streams[box] for tag, box in ((_EXIF_IFD, b"CMT2"), (0x8825, b"CMT4")) if box in streams}
    return _JoinedExif(streams[b"CMT1"], subs), packet, None


def _crw(data: bytes) -> Metadata:
    """A Canon CRW's date, camera and rotation from its CIFF heaps (Canon's
    CIFF 1.0r4 specification: a heap ends with the offset of its directory;
    entries are (type, size, offset), the type's bits 0x3800 the data format,
    0xC000 == 0x4000 meaning the value is in the entry itself, formats
    0x2800 and 0x3000 a sub-heap). TimeStamp (0x180E) counts seconds since
    1970 on the camera's clock, which is local time; MakeModel (0x080A) is
    two NUL-ended strings; ImageInfo (0x1810) has the rotation in degrees."""
    found: dict[int, bytes] = {}

    def heap(start: int, end: int, depth: int) -> None:
        if depth > 8 or end - start < 4:
            return
        directory = start + int.from_bytes(data[end - 4 : end], "little")
        count = int.from_bytes(data[directory : directory + 2], "little")
        for i in range(min(count, 512)):
            entry = data[directory + 2 + 10 * i : directory + 12 + 10 * i]
            if len(entry) < 10:
                return
            kind = int.from_bytes(entry[:2], "little")
            if kind & 0xC000 == 0x4000:
                value = entry[2:10]
            else:
                size, offset = int.from_bytes(entry[2:6], "little"), int.from_bytes(entry[6:10], "little")
                value = data[start + offset : start + offset + size]
                if kind & 0x3800 in (0x2800, 0x3000):
                    heap(start + offset, start + offset + size, depth + 1)
                    continue
            found.setdefault(kind & 0x3FFF, value)

    heap(int.from_bytes(data[2:6], "little"), len(data), 0)
    dates = []
    stamp = found.get(0x180E)
    if stamp and len(stamp) >= 4:
        when = datetime(1970, 1, 1) + timedelta(seconds=int.from_bytes(stamp[:4], "little"))
        found_date = _parse_date(when.strftime("%Y:%m:%d %H:%M:%S"), "CanonRaw:DateTimeOriginal")
        dates = [found_date] if found_date else []
    make, _, model = (found.get(0x080A) or b"").partition(b"\x00")
    camera = _camera({_MAKE: make.decode("latin-1"), _MODEL: model.split(b"\x00")[0].decode("latin-1")})
    info = found.get(0x1810) or b""
    rotation = int.from_bytes(info[12:16], "little", signed=True) if len(info) >= 16 else 0
    return Metadata(orientation={90: 6, 180: 3, 270: 8, -90: 8}.get(rotation, 1), camera=camera, dates=tuple(dates))


def _raf(data: bytes) -> Metadata:
    """A Fujifilm RAF's metadata: that of the JPEG preview whose offset and
    length are big-endian at bytes 84 and 88 of the header."""
    offset, length = int.from_bytes(data[84:88], "big"), int.from_bytes(data[88:92], "big")
    jpeg = data[offset : offset + length]
    with Image.open(io.BytesIO(jpeg), formats=["JPEG", "MPO"]) as image:
        return read_image(image, io.BytesIO(jpeg))


# --------------------------------------------------------------------------- values


def _clean_text(value) -> str:
    """Printable text of a metadata value (str or bytes), whitespace collapsed."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    if not isinstance(value, str):
        return ""
    return " ".join("".join(c for c in value if c.isprintable()).split())


def _digits(value) -> str | None:
    text = _clean_text(value)
    return text if text.isdigit() and text.isascii() else None


def _valid(y, mo, d, h=0, mi=0, s=0) -> datetime | None:
    try:
        when = datetime(y, mo, d, h, mi, s)
    except ValueError:
        return None
    return when if MIN_YEAR <= y < MAX_YEAR else None


def _parse_offset(text: str | None) -> str | None:
    """``±HH:MM`` of an offset written ``Z``, ``±H``, ``±HH``, ``±HHMM``,
    ``±HH:MM``, optionally after ``GMT``/``UTC``; None if it is none of those."""
    t = _clean_text(text).upper()
    if t.startswith(("GMT", "UTC")):
        t = t[3:].strip()
        if not t:
            return "+00:00"
    if t == "Z":
        return "+00:00"
    m = _OFFSET.fullmatch(t)
    if not m:
        return None
    h, mi = int(m[2]), int(m[3] or 0)
    if h > 18 or mi > 59:
        return None
    if h == mi == 0:
        return "+00:00"
    return f"{m[1]}{h:02d}:{mi:02d}"


def _format_offset(delta: timedelta | None) -> str | None:
    if delta is None:
        return None
    minutes = round(delta.total_seconds() / 60)
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _parse_date(raw, field: str, *, subsec: str | None = None, offset=None) -> CaptureDate | None:
    """One date field's value as a CaptureDate, or None when it does not parse.
    ``subsec`` and ``offset``: EXIF's separate sub-second and offset tags."""
    m = _DATE.fullmatch(_clean_text(raw))
    if not m:
        return None
    mo, d = int(m["mo"] or 1), int(m["d"] or 1)
    has_time = m["h"] is not None and mo != 0 and d != 0
    if has_time:
        when = _valid(int(m["y"]), mo, d, int(m["h"]), int(m["mi"]), int(m["s"] or 0))
    else:
        when = _valid(int(m["y"]), mo or 1, d or 1)
    if when is None:
        return None
    if not has_time:
        return CaptureDate(when.isoformat(), None, field, has_time=False)
    frac = (m["f"] or subsec or "")[:6]
    tz = _parse_offset(offset) if offset is not None else None
    if tz is None and m["tz"]:
        tz = _parse_offset(m["tz"])
    return CaptureDate(when.isoformat() + (f".{frac}" if frac else ""), tz, field)

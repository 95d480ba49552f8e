"""Export: copies of photos in a folder, as originals or as resized JPEGs.

What to send a friend or a print shop, without touching the library:

* **originals** are copied byte for byte (with their XMP sidecar when metadata
  is kept). Stripping metadata from an original is done losslessly where the
  format allows it (JPEG: the APP1 EXIF/XMP and APP13 IPTC segments are left
  out, or only the GPS block of the EXIF; PNG: the eXIf and XMP chunks);
  other formats keep their metadata and the report says so.
* **resized JPEGs** are decoded, turned upright (EXIF orientation), scaled so
  that their long edge is at most ``long_edge`` pixels (never enlarged) and
  saved at ``quality``; the EXIF goes along (with orientation 1, since the
  pixels are upright now) unless stripped.

``metadata``: "keep", "no-gps" (everything but the position: the choice
people make before sharing) or "strip". A file name that exists in the
destination gets " (2)", " (3)"... A photo that cannot be exported is
recorded with its reason and the others go on.
"""

from __future__ import annotations

import io
import os
import shutil
import struct
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from clipdesk.core.catalog import Photo
from clipdesk.core.errors import DecodeError, UsageError
from clipdesk.core.fsutil import atomic_write
from clipdesk.core.names import display_path

__all__ = ["ExportOptions", "ExportReport", "export_photos"]

METADATA_CHOICES = ("keep", "no-gps", "strip")
_GPS_IFD = 0x8825
_ORIENTATION = 0x0112


@dataclass(frozen=True)
class ExportOptions:
    """How to export. ``resize``: None for originals, else the long edge in
    pixels of the JPEGs written; ``quality``: JPEG quality 1-100."""

    resize: int | None = None
    quality: int = 90
    metadata: str = "keep"

    def __post_init__(self):
        if self.metadata not in METADATA_CHOICES:
            raise UsageError(f"metadata must be one of {', '.join(METADATA_CHOICES)}")
        if self.resize is not None and self.resize < 16:
            raise UsageError("the long edge must be at least 16 pixels")
        if not 1 <= self.quality <= 100:
            raise UsageError("JPEG quality goes from 1 to 100")


@dataclass
class ExportReport:
    """Files written, and photos that could not be, with why. ``photos``
    counts photos: a RAW+JPEG pair is one photo with two files in ``written``."""

    photos: int = 0
    written: list[Path] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    #: Photos whose metadata could not be stripped losslessly (kept as they were).
    notes: list[tuple[str, str]] = field(default_factory=list)
    cancelled: bool = False


def export_photos(
    photos: Sequence[Photo],
    dest: str | os.PathLike,
    options: ExportOptions = ExportOptions(),
    *,
    on_progress: Callable[[int, int], None] | None = None,
    cancel: threading.Event | None = None,
) -> ExportReport:
    """Export ``photos`` into the folder ``dest`` (made if missing).
    ``on_progress(done, total)`` after each photo; ``cancel`` stops between
    photos. Raises UsageError when ``dest`` cannot be made."""
    folder = Path(dest).expanduser()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot make the folder {display_path(folder)}: {exc.strerror or exc}") from exc
    report = ExportReport()
    for done, photo in enumerate(photos, 1):
        if cancel is not None and cancel.is_set():
            report.cancelled = True
            break
        try:
            if options.resize is None:
                _export_original(photo, folder, options, report)
            else:
                _export_jpeg(photo, folder, options, report)
        except (OSError, ValueError, SyntaxError, DecodeError) as exc:
            report.failed.append((display_path(photo.path), getattr(exc, "strerror", None) or str(exc)))
        else:
            report.photos += 1
        if on_progress is not None:
            on_progress(done, len(photos))
    return report


def _free_name(folder: Path, name: str, report: ExportReport | None = None) -> Path:
    """``folder/name``, or "name (2)", "name (3)"... when that is taken (an
    export never overwrites); a renamed copy is noted in ``report``."""
    stem, ext = os.path.splitext(name)
    candidate, n = folder / name, 1
    while candidate.exists():
        n += 1
        candidate = folder / f"{stem} ({n}){ext}"
    if n > 1 and report is not None:
        report.notes.append((display_path(candidate), f"saved as {candidate.name}: {name} was there already"))
    return candidate


def _export_original(photo: Photo, folder: Path, options: ExportOptions, report: ExportReport) -> None:
    """The photo's file, and a RAW's JPEG under the same name beside it, each
    as it is or with its metadata removed; the sidecar only when metadata is
    kept (it is metadata)."""
    target = _free_name(folder, photo.name, report)
    _copy_file(Path(photo.path), target, options, report)
    if options.metadata == "keep":
        from clipdesk.core.sidecar import sidecar_candidates, sidecar_for

        for sidecar in sidecar_candidates(Path(photo.path)):
            if sidecar.is_file():  # named as the copy's sidecar is named (a RAW's is NAME.xmp)
                shutil.copy2(sidecar, sidecar_for(target))
                break
    if photo.companion and os.path.isfile(photo.companion):  # a RAW's JPEG goes with it, under its name
        twin = target.with_suffix(Path(photo.companion).suffix)
        twin = twin if not twin.exists() else _free_name(folder, twin.name, report)
        _copy_file(Path(photo.companion), twin, options, report)


def _copy_file(source: Path, target: Path, options: ExportOptions, report: ExportReport) -> None:
    if options.metadata == "keep":
        shutil.copy2(source, target)
        report.written.append(target)
        return
    data = source.read_bytes()
    if data[:2] == b"\xff\xd8":
        stripped = _strip_jpeg(data, gps_only=options.metadata == "no-gps")
    elif data[:8] == b"\x89PNG\r\n\x1a\n":
        stripped = _strip_png(data, gps_only=options.metadata == "no-gps")
    else:
        stripped = None
    if stripped is None:
        report.notes.append((display_path(source), "metadata kept: it is only removed from JPEG and PNG originals"))
        stripped = data
    atomic_write(target, stripped)
    report.written.append(target)


def _strip_jpeg(data: bytes, gps_only: bool) -> bytes:
    """The JPEG without its EXIF/XMP (APP1) and IPTC (APP13) segments, or (for
    ``gps_only``) without the GPS block of its EXIF and an XMP packet that
    holds a position; the pixels are untouched. ICC profiles (APP2) and
    everything else stay."""
    out = bytearray(data[:2])
    i = 2
    while i + 4 <= len(data) and data[i] == 0xFF:
        marker = data[i + 1]
        if marker in (0xD9, 0xDA):  # end of image, start of scan: the rest is image data
            break
        length = struct.unpack(">H", data[i + 2 : i + 4])[0]
        segment = data[i : i + 2 + length]
        body = segment[4:]
        if marker == 0xE1 and body.startswith(b"Exif\x00\x00"):
            if gps_only:
                out += _jpeg_segment(0xE1, b"Exif\x00\x00" + _exif_without_gps(body[6:]))
        elif marker in (0xE1, 0xED) and (not gps_only or b"exif:GPS" in body):
            pass  # XMP and IPTC go; for no-gps only an XMP packet that holds a position
        else:
            out += segment
        i += 2 + length
    out += data[i:]
    return bytes(out)


def _jpeg_segment(marker: int, body: bytes) -> bytes:
    return bytes([0xFF, marker]) + struct.pack(">H", len(body) + 2) + body


def _exif_without_gps(tiff: bytes) -> bytes:
    from PIL import Image

    exif = Image.Exif()
    exif.load(tiff)
    exif.pop(_GPS_IFD, None)
    raw = exif.tobytes()
    return raw[6:] if raw.startswith(b"Exif\x00\x00") else raw  # the TIFF structure alone


def _strip_png(data: bytes, gps_only: bool) -> bytes:
    """The PNG without its eXIf chunk and XMP (iTXt "XML:com.adobe.xmp"), or
    with only the EXIF's GPS block removed."""
    import zlib

    out = bytearray(data[:8])
    i = 8
    while i + 8 <= len(data):
        length = struct.unpack(">I", data[i : i + 4])[0]
        kind = data[i + 4 : i + 8]
        chunk = data[i : i + 12 + length]
        body = chunk[8:-4]
        if kind == b"eXIf":
            if gps_only:
                fresh = _exif_without_gps(body)
                out += struct.pack(">I", len(fresh)) + kind + fresh
                out += struct.pack(">I", zlib.crc32(kind + fresh) & 0xFFFFFFFF)
        elif kind == b"iTXt" and body.startswith(b"XML:com.adobe.xmp\x00") and (
                not gps_only or b"exif:GPS" in body):
            pass
        else:
            out += chunk
        i += 12 + length
    return bytes(out)


def _export_jpeg(photo: Photo, folder: Path, options: ExportOptions, report: ExportReport) -> None:
    from PIL import Image

    from clipdesk.core.imaging import picture
    from clipdesk.core.photofiles import raw_format

    # Upright sRGB by the steps indexing takes (a RAW developed through LibRaw).
    try:
        rgb = picture(photo.path, max_side=options.resize).image
    except DecodeError:
        if not photo.companion:
            raise
        rgb = picture(photo.companion, max_side=options.resize).image  # a RAW LibRaw cannot read: its JPEG
    exif = Image.Exif()
    if raw_format(photo.name, b"") is None and not photo.companion:
        with Image.open(photo.path) as image:
            exif = image.getexif()
    elif photo.companion:  # a RAW's camera JPEG carries the same EXIF in a form a JPEG takes
        with Image.open(photo.companion) as image:
            exif = image.getexif()
    kwargs = {"quality": options.quality, "optimize": True}
    if options.metadata != "strip" and len(exif):
        exif[_ORIENTATION] = 1
        if options.metadata == "no-gps":
            exif.pop(_GPS_IFD, None)
        kwargs["exif"] = exif.tobytes()
    buf = io.BytesIO()
    rgb.save(buf, "JPEG", **kwargs)
    target = _free_name(folder, os.path.splitext(photo.name)[0] + ".jpg", report)
    atomic_write(target, buf.getvalue())
    report.written.append(target)

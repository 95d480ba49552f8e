"""Camera RAW files: their picture through LibRaw (the ``rawpy`` binding).

:func:`develop` gives the picture :mod:`clipdesk.core.imaging` then treats
like any other photo's (sRGB, thumbnail, model input):

* the **embedded preview** when the camera stored one at least half as large
  as the sensor image (most cameras store a full-size JPEG): the camera's own
  rendering, decoded in a few milliseconds, and what Lightroom and digiKam
  show before they develop a RAW;
* else a **half-size demosaic** (LibRaw's ``half_size``: each 2x2 Bayer block
  becomes one pixel, no interpolation), with the camera's white balance and
  an sRGB tone curve (gamma 2.4, toe slope 12.92, IEC 61966-2-1) - never the
  160x120 thumbnail many RAW files carry, which is too small to search by.

The orientation is LibRaw's reading of the RAW's (its ``flip``), mapped to
the EXIF value 1-8, so preview and demosaic come out upright alike. A file
LibRaw cannot open or unpack raises :class:`DecodeError` with LibRaw's reason
in words, and the catalog records it.

LibRaw is LGPL-2.1 or CDDL-1.0 (the wheel links it as a shared library, so
the MIT app stays MIT); rawpy is MIT.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

from clipdesk.core.errors import DecodeError

__all__ = ["MIN_BITS_PER_PIXEL", "PREVIEW_FRACTION", "Developed", "develop"]

#: The embedded preview is used when its long side is at least this fraction
#: of the sensor image's: as detailed as a half-size demosaic.
PREVIEW_FRACTION = 0.5

#: A RAW file smaller than this many bits per sensor pixel has no sensor data
#: to develop: lossless RAW takes 8-14 bits a pixel and the lossiest
#: compressed RAW (Sony's ARW 2, Canon's C-RAW, Nikon's lossy NEF) about 3-6.
MIN_BITS_PER_PIXEL = 0.5

#: LibRaw's flip (libraw_image_sizes_t::flip) -> EXIF orientation. LibRaw
#: derives flip from the EXIF value with "50132467"[orientation & 7]
#: (dcraw's parse_tiff_ifd), so this is that table inverted.
_FLIP_TO_EXIF = {0: 1, 1: 2, 3: 3, 2: 4, 4: 5, 6: 6, 7: 7, 5: 8}


@dataclass
class Developed:
    """A RAW file's picture, ready for :mod:`imaging`.

    ``image``: a Pillow image (an unloaded JPEG for an embedded preview, so
    imaging can decode it at a reduced scale). ``orientation``: the EXIF
    orientation still to apply to ``image`` (1 for a demosaic, which LibRaw
    turns upright itself). ``width``/``height``: the photo's size in pixels as
    shown (the sensor's visible area, orientation applied). ``source``:
    "preview" or "demosaic".
    """

    image: Image.Image
    orientation: int
    width: int
    height: int
    source: str


def develop(data: bytes, fmt: str, *, max_pixels: int) -> Developed:
    """The picture of the RAW file whose bytes are ``data`` (``fmt``: its
    format name, for messages).

    Raises DecodeError when rawpy is missing, LibRaw cannot read the file, the
    sensor image has more than ``max_pixels`` pixels, or its data is missing
    or damaged.
    """
    try:
        import rawpy
    except ImportError:  # pragma: no cover - a hard dependency
        raise DecodeError(f"{fmt} RAW files need rawpy (LibRaw), which is not installed") from None
    try:
        raw = rawpy.imread(io.BytesIO(data))
    except rawpy.LibRawError as exc:
        raise DecodeError(_why(exc, fmt)) from None
    with raw:
        try:
            sizes = raw.sizes
            width, height = sizes.width, sizes.height
            if width <= 0 or height <= 0:
                raise DecodeError(f"LibRaw found no image in this {fmt} file")
            if width * height > max_pixels:
                raise DecodeError(
                    f"refused as a possible decompression bomb: {width}x{height} pixels "
                    f"is more than the {max_pixels:,} allowed"
                )
            orientation = _FLIP_TO_EXIF.get(sizes.flip, 1)
            shown = (height, width) if orientation in (5, 6, 7, 8) else (width, height)
            preview = _preview(raw, rawpy, max(width, height))
            if preview is not None:
                return Developed(preview, orientation, *shown, source="preview")
            if len(data) * 8 < MIN_BITS_PER_PIXEL * width * height:
                raise DecodeError(
                    f"the {fmt} file's sensor data is missing: {len(data):,} bytes cannot hold "
                    f"{width}x{height} pixels (a file with the metadata only?)"
                )
            visible = raw.raw_image_visible
            if visible.size and visible.min() == visible.max():
                raise DecodeError(f"the {fmt} file's sensor data is empty (every pixel is {int(visible.min())})")
            rgb = raw.postprocess(half_size=True, use_camera_wb=True, output_bps=8, gamma=(2.4, 12.92))
        except rawpy.LibRawError as exc:
            raise DecodeError(_why(exc, fmt)) from None
    return Developed(Image.fromarray(rgb, "RGB"), 1, *shown, source="demosaic")


def _preview(raw, rawpy, sensor_long: int) -> Image.Image | None:
    """The embedded preview when it is large enough (:data:`PREVIEW_FRACTION`), else None."""
    try:
        thumb = raw.extract_thumb()
    except (rawpy.LibRawNoThumbnailError, rawpy.LibRawUnsupportedThumbnailError):
        return None
    except rawpy.LibRawError:
        return None  # a broken preview: the sensor data may still be good
    try:
        if thumb.format == rawpy.ThumbFormat.JPEG:
            image = Image.open(io.BytesIO(bytes(thumb.data)), formats=["JPEG", "MPO"])
        else:
            image = Image.fromarray(thumb.data).convert("RGB")
    except (UnidentifiedImageError, OSError, ValueError, TypeError):
        return None
    if max(image.size) < PREVIEW_FRACTION * sensor_long:
        return None
    return image


_REASONS = {
    "LibRawFileUnsupportedError": "LibRaw does not support this {fmt} file (not a RAW file it knows, "
                                  "or a camera newer than LibRaw)",
    "LibRawIOError": "the {fmt} file's image data is missing or cut short",
    "LibRawDataError": "the {fmt} file's image data is damaged",
    "LibRawTooBigError": "the {fmt} file's image is larger than LibRaw allows",
    "LibRawUnsufficientMemoryError": "not enough memory to decode this {fmt} file",
    "LibRawMemPoolOverflowError": "not enough memory to decode this {fmt} file",
    "LibRawRequestForNonexistentImageError": "LibRaw found no image in this {fmt} file",
}


def _why(exc: BaseException, fmt: str) -> str:
    """A LibRaw error as the reason the catalog records."""
    detail = exc.args[0] if exc.args else ""
    if isinstance(detail, bytes):
        detail = detail.decode("utf-8", "replace")
    reason = _REASONS.get(type(exc).__name__)
    if reason is None:
        return f"could not decode the {fmt} file (LibRaw: {detail or type(exc).__name__})"
    return reason.format(fmt=fmt) + (f" (LibRaw: {detail})" if detail else "")

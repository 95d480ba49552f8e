"""Decode a photo once: metadata, grid thumbnail and model input from one read.

* The file is read into memory once; its content hash is taken from those same
  bytes, and the stat before and after the read tells whether it was still
  being written (:class:`FileChanging`, try again later).
* The real type comes from the content (Pillow sniffs it) and only the formats
  in :data:`FORMATS` are ever handed to a decoder.
* Decompression bombs are refused before any pixel is decoded. JPEGs are
  decoded with draft mode (DCT scaling), so a 12-MP photo is decoded at 1/2,
  1/4 or 1/8 size, never larger than the thumbnail and the model input need;
  that is also why a JPEG may be larger than the limit for other formats.
* Metadata (orientation, camera, capture date) comes from
  :mod:`clipdesk.core.metadata`, read from the same bytes without decoding.
  EXIF orientation (all 8 values) is applied; garbage values are ignored.
* Every pixel mode Pillow opens becomes 8-bit sRGB the way a viewer shows it,
  by one function, :func:`to_srgb`, for both the thumbnail and the model input.
* Every failure is a :class:`DecodeError` whose message is the reason the
  catalog records and the user reads.
"""

from __future__ import annotations

import errno
import hashlib
import io
import logging
import math
import os
import warnings
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageCms, UnidentifiedImageError

from clipdesk.core import metadata
from clipdesk.core import raw as rawfiles
from clipdesk.core.embedding import ImageEmbedder
from clipdesk.core.errors import DecodeError
from clipdesk.core.fsutil import atomic_write, unlink_quietly
from clipdesk.core.photofiles import IMAGE_EXTENSIONS, raw_format  # noqa: F401 - IMAGE_EXTENSIONS re-exported

log = logging.getLogger(__name__)

Image.init()  # register every plugin, so the whitelist below can be checked
#: Pillow format names we accept. MPO is how Pillow names many camera JPEGs.
FORMATS = [
    f for f in ("JPEG", "MPO", "PNG", "WEBP", "GIF", "BMP", "TIFF", "HEIF", "AVIF")
    if f in Image.OPEN
]

#: What users call each format (the catalog's ``format`` column, ``type:`` filter).
FORMAT_NAMES = {
    "JPEG": "jpeg", "MPO": "jpeg", "PNG": "png", "WEBP": "webp", "GIF": "gif",
    "BMP": "bmp", "TIFF": "tiff", "HEIF": "heic", "AVIF": "avif",
}

#: Pixel limits. Formats decoded at full size get Pillow's own default limit;
#: JPEGs are decoded at 1/8 scale or less when they are that large.
MAX_PIXELS = 89_478_485
MAX_PIXELS_JPEG = 4 * MAX_PIXELS
MAX_FILE_BYTES = 1 << 30

# Pillow's own guard stays in force above our limits (it raises at 2x), and
# its warning between 1x and 2x becomes an error as a second line of defence.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS_JPEG
warnings.simplefilter("error", Image.DecompressionBombWarning)

THUMB_SIZE = 320
THUMB_QUALITY = 85

_TRANSPOSE = {
    2: (Image.Transpose.FLIP_LEFT_RIGHT,),
    3: (Image.Transpose.ROTATE_180,),
    4: (Image.Transpose.FLIP_TOP_BOTTOM,),
    5: (Image.Transpose.TRANSPOSE,),
    6: (Image.Transpose.ROTATE_270,),
    7: (Image.Transpose.TRANSVERSE,),
    8: (Image.Transpose.ROTATE_90,),
}

class FileChanging(DecodeError):
    """The file changed while it was read (still being copied or written)."""


@dataclass
class Decoded:
    """What one decode of a photo yields."""

    hash: str
    size: int
    mtime_ns: int
    format: str
    width: int
    height: int
    taken_at: str | None  # ISO 8601 local time (metadata.CaptureDate.taken_at)
    date_source: str  # "exif" (any metadata field) | "file"
    camera: str | None
    thumbnail: bytes
    model_input: np.ndarray | None
    decoded_size: tuple[int, int]
    date_field: str = "File:ModifyDate"  # which field gave taken_at (metadata.PRECEDENCE)
    taken_offset: str | None = None  # "+02:00" when that field states its UTC offset
    #: Keywords and culling marks the file itself carries (embedded XMP/IPTC).
    keywords: tuple[str, ...] = ()
    marks: object = None  # sidecar.Marks | None


def content_hash(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def hash_file(path: str | bytes | os.PathLike) -> str:
    h = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def read_stable(path: str | bytes | os.PathLike) -> tuple[bytes, os.stat_result]:
    """Read a whole file, refusing one that changes under us."""
    try:
        with open(path, "rb") as f:
            before = os.fstat(f.fileno())
            if not _is_regular(before):
                raise DecodeError("not a regular file")
            if before.st_size == 0:
                raise DecodeError("empty file (0 bytes)")
            if before.st_size > MAX_FILE_BYTES:
                raise DecodeError(f"file too large to be a photo ({before.st_size} bytes)")
            data = f.read(MAX_FILE_BYTES + 1)
            after = os.fstat(f.fileno())
    except FileNotFoundError:
        raise DecodeError("the file vanished before it could be read") from None
    except IsADirectoryError:
        raise DecodeError("not a regular file") from None
    except PermissionError:
        raise DecodeError("permission denied") from None
    except OSError as exc:
        raise DecodeError(f"could not read the file: {exc.strerror or exc}") from exc
    if (
        len(data) != after.st_size
        or after.st_size != before.st_size
        or after.st_mtime_ns != before.st_mtime_ns
    ):
        raise FileChanging("the file changed while it was read; it will be read again")
    return data, after


def _is_regular(st: os.stat_result) -> bool:
    import stat

    return stat.S_ISREG(st.st_mode)


def decode(
    path: str | bytes | os.PathLike,
    *,
    embedder: ImageEmbedder | None = None,
    thumb_size: int = THUMB_SIZE,
    full_decode: bool = False,
) -> Decoded:
    """Decode one photo. ``full_decode`` turns JPEG draft mode off (for parity checks)."""
    data, st = read_stable(path)
    raw = raw_format(os.path.basename(os.fsencode(path)), data)
    digest = content_hash(data)
    if raw is not None:
        return _guarded(lambda: _decode_raw(data, raw, st, digest, embedder, thumb_size, full_decode))
    return _guarded(lambda: _decode_bytes(data, st, digest, embedder, thumb_size, full_decode))


@dataclass
class Picture:
    """A photo as a viewer shows it (:func:`picture`): ``image`` is 8-bit sRGB
    ("RGB"), upright, at most the size asked; ``size`` is the photo's own
    size in pixels, upright (what 100 % means); ``metadata`` what the file says."""

    image: Image.Image
    size: tuple[int, int]
    metadata: metadata.Metadata


def picture(path: str | bytes | os.PathLike, max_side: int | None = None) -> Picture:
    """The photo at ``path`` for a viewer, by the same steps as indexing: the
    file read once and checked, the type sniffed from the content (a camera
    RAW developed by :mod:`clipdesk.core.raw`), decompression bombs refused,
    EXIF orientation applied, every mode made the sRGB a viewer shows
    (:func:`to_srgb`). ``max_side``: the largest width or height wanted
    (JPEGs are decoded at a reduced scale when that is enough); None for the
    full size, at most :data:`MAX_PIXELS` large. Raises DecodeError with the
    plain-language reason (the file is gone, damaged, not an image...)."""
    data, _st = read_stable(path)
    raw = raw_format(os.path.basename(os.fsencode(path)), data)

    def run() -> Picture:
        if raw is not None:
            developed = rawfiles.develop(data, raw, max_pixels=MAX_PIXELS)
            img, orientation, meta = developed.image, developed.orientation, metadata.read_raw(data)
            size = (developed.width, developed.height)
        else:
            img, meta = _open(data, MAX_PIXELS_JPEG)  # a JPEG is decoded at most MAX_PIXELS large (below)
            orientation = meta.orientation
            w, h = img.size
            size = (h, w) if orientation in (5, 6, 7, 8) else (w, h)
            if img.format not in ("JPEG", "MPO") and w * h > MAX_PIXELS:
                raise DecodeError(f"refused as a possible decompression bomb: {w}x{h} pixels is more than the "
                                  f"{MAX_PIXELS:,} allowed for {FORMAT_NAMES.get(img.format or '?', img.format)}")
        w, h = img.size
        if img.format in ("JPEG", "MPO"):
            if max_side is not None and max(w, h) > max_side:
                img.draft("RGB", (max_side, max_side))
            elif w * h > MAX_PIXELS:  # the full size, as far as a safe decode goes: 1/2, 1/4 or 1/8
                scale = next(f for f in (0.5, 0.25, 0.125) if w * h * f * f <= MAX_PIXELS)
                img.draft("RGB", (math.ceil(w * scale), math.ceil(h * scale)))
        img = _upright(img, orientation)
        if max_side is not None and max(img.size) > max_side:
            img.thumbnail((max_side, max_side), Image.Resampling.BICUBIC)
        return Picture(img, size, meta)

    return _guarded(run)


def _guarded(run):
    """``run()``, with every way Pillow fails turned into a DecodeError that says why."""
    try:
        return run()
    except DecodeError:
        raise
    except Image.DecompressionBombError as exc:
        raise DecodeError(f"refused: {exc}") from None
    except Image.DecompressionBombWarning as exc:
        raise DecodeError(f"refused as a possible decompression bomb: {exc}") from None
    except MemoryError:
        raise DecodeError("not enough memory to decode this image") from None
    except (OSError, ValueError, SyntaxError, TypeError, IndexError, KeyError, EOFError) as exc:
        raise DecodeError(_describe(exc)) from None


def _describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    if "truncated" in text:
        return f"damaged or truncated image data: {text}"
    return f"could not decode the image: {text}"


def _open(data: bytes, limit: int) -> tuple[Image.Image, metadata.Metadata]:
    """The image Pillow opens from ``data`` (not decoded yet) and its metadata.
    Only :data:`FORMATS`; more than ``limit`` pixels is refused."""
    try:
        img = Image.open(io.BytesIO(data), formats=FORMATS)
    except UnidentifiedImageError:
        raise DecodeError(
            "not a supported image: the content is not " + ", ".join(sorted(set(FORMAT_NAMES[f] for f in FORMATS)))
        ) from None
    fmt = img.format or "?"
    w, h = img.size
    if w <= 0 or h <= 0:
        raise DecodeError(f"invalid image size {w}x{h}")
    if w * h > limit:
        raise DecodeError(
            f"refused as a possible decompression bomb: {w}x{h} pixels "
            f"is more than the {limit:,} allowed for {FORMAT_NAMES.get(fmt, fmt)}"
        )
    meta = metadata.read_image(img, io.BytesIO(data))
    if fmt == "GIF":
        img.seek(0)
    return img, meta


def _upright(img: Image.Image, orientation: int) -> Image.Image:
    """Decode, make sRGB (:func:`to_srgb`) and turn by the EXIF orientation."""
    img.load()
    img = to_srgb(img)
    for op in _TRANSPOSE.get(orientation, ()):
        img = img.transpose(op)
    return img


def _decode_bytes(
    data: bytes,
    st: os.stat_result,
    digest: str,
    embedder: ImageEmbedder | None,
    thumb_size: int,
    full_decode: bool,
) -> Decoded:
    is_jpeg = data[:3] == b"\xff\xd8\xff"  # JPEG and MPO: how Pillow recognises them
    img, meta = _open(data, MAX_PIXELS_JPEG if is_jpeg and not full_decode else MAX_PIXELS)
    fmt = img.format or "?"
    w, h = img.size
    full = (h, w) if meta.orientation in (5, 6, 7, 8) else (w, h)
    return _finish(img, FORMAT_NAMES.get(fmt, fmt.lower()), full, meta.orientation, meta, st, digest, embedder,
                   thumb_size, full_decode)


def _decode_raw(
    data: bytes,
    fmt: str,
    st: os.stat_result,
    digest: str,
    embedder: ImageEmbedder | None,
    thumb_size: int,
    full_decode: bool,
) -> Decoded:
    """A camera RAW file: its picture from :func:`raw.develop`, its metadata
    from :func:`metadata.read_raw`."""
    developed = rawfiles.develop(data, fmt, max_pixels=MAX_PIXELS)
    meta = metadata.read_raw(data)
    return _finish(developed.image, fmt.lower(), (developed.width, developed.height), developed.orientation,
                   meta, st, digest, embedder, thumb_size, full_decode)


def _finish(
    img: Image.Image,
    format_name: str,
    full: tuple[int, int],
    orientation: int,
    meta: metadata.Metadata,
    st: os.stat_result,
    digest: str,
    embedder: ImageEmbedder | None,
    thumb_size: int,
    full_decode: bool,
) -> Decoded:
    """Thumbnail and model input from an opened image (a JPEG is decoded at the
    smallest DCT scale that is still large enough), upright and in sRGB."""
    fmt = img.format or ""
    w, h = img.size
    need_short = embedder.min_input_side if embedder is not None else 0
    short, long_ = min(w, h), max(w, h)
    need_short = max(need_short, math.ceil(thumb_size * short / long_))
    if fmt in ("JPEG", "MPO") and not full_decode and need_short < short:
        scale = need_short / short
        img.draft("RGB", (max(1, math.ceil(w * scale)), max(1, math.ceil(h * scale))))
    img = _upright(img, orientation)
    full_w, full_h = full

    model_input = embedder.preprocess(img) if embedder is not None else None
    thumb = img.copy()
    thumb.thumbnail((thumb_size, thumb_size), Image.Resampling.BICUBIC, reducing_gap=2.0)
    buf = io.BytesIO()
    thumb.save(buf, "JPEG", quality=THUMB_QUALITY, optimize=False)

    taken = meta.capture_date(st.st_mtime)
    return Decoded(
        hash=digest,
        size=st.st_size,
        mtime_ns=st.st_mtime_ns,
        format=format_name,
        width=full_w,
        height=full_h,
        taken_at=taken.taken_at,
        date_source=taken.source,
        camera=meta.camera,
        thumbnail=buf.getvalue(),
        model_input=model_input,
        decoded_size=img.size,
        date_field=taken.field,
        taken_offset=taken.offset,
        keywords=meta.keywords,
        marks=meta.marks,
    )


# --------------------------------------------------------------------------- pixels to sRGB

#: Modes whose samples are wider than 8 bits: scaled down from their nominal range.
_WIDE_INT_MODES = ("I;16", "I;16L", "I;16B", "I;16N", "I")
#: What an embedded ICC profile's colour space (ICC.1 header, bytes 16-19) needs the image to be.
_PROFILE_MODES = {b"GRAY": "L", b"RGB ": "RGB", b"CMYK": "CMYK"}
#: Modes that can be shown through a profile of another colour space without losing anything.
_PROMOTE = {("1", "L"), ("1", "RGB"), ("L", "RGB"), ("YCbCr", "RGB"), ("HSV", "RGB"), ("RGBX", "RGB")}
_ROWS_PER_CHUNK = 1024  # wide samples are scaled in bands, so memory stays near one 8-bit copy


def to_srgb(img: Image.Image) -> Image.Image:
    """The 8-bit sRGB ("RGB") image a viewer shows for ``img``, in any mode
    Pillow opens. This one function makes what both the thumbnail and the
    model see.

    * Samples wider than 8 bits are scaled from their nominal range, not
      clipped: 16-bit (``I;16*``, and ``I`` from 16-bit files) by 65535, or
      by 2**BitsPerSample - 1 when a TIFF says fewer bits (12-bit scans);
      32-bit integer TIFF by 2**32 - 1 (signed samples: 2**(bits-1) - 1,
      negative values black). Float (``F``) samples are display values with
      1.0 white, as libtiff-based viewers, GIMP (without a linear profile) and
      ImageMagick read IEEE-float TIFF; HDR values above 1.0 clip to white,
      NaN is black.
    * An embedded ICC profile (``info["icc_profile"]``: Adobe RGB, Display
      P3, a grey or a CMYK press profile...) is applied with LittleCMS
      (Pillow's ImageCms) to sRGB IEC 61966-2-1, perceptual intent (ICC.1's
      default, what browsers and ColorSync use for display). A grey or
      1-bit image under an RGB profile is shown as RGB; a profile that does
      not fit the pixels (a CMYK profile on RGB) or that LittleCMS refuses is
      ignored. Without a profile, pixels are taken as sRGB; CMYK without one
      gets the naive conversion every viewer falls back to,
      R = (255 - C)(255 - K) / 255 (Pillow's). CIELAB (``LAB``, D50) goes
      through LittleCMS's Lab profile.
    * Transparency (an alpha channel, a palette's alpha, a tRNS colour, a
      transparent 16-bit grey value) is composited on white, as viewers show
      a page: out = colour * a + 255 * (1 - a), in sRGB values.
    """
    icc = img.info.get("icc_profile") or None
    colour, alpha = _split_alpha(_to_8_bit(img))
    out = _colour_to_srgb(colour, icc)
    if alpha is not None and alpha.getextrema()[0] < 255:
        out = Image.composite(out, Image.new("RGB", out.size, (255, 255, 255)), alpha)
    return out


def _to_8_bit(img: Image.Image) -> Image.Image:
    """Modes I;16*, I and F as 8-bit "L" (or "LA" when a grey value is
    transparent); every other mode as it is."""
    if img.mode not in _WIDE_INT_MODES and img.mode != "F":
        return img
    a = np.asarray(img)
    grey = np.empty(a.shape, np.uint8)
    if img.mode == "F":
        for y in range(0, a.shape[0], _ROWS_PER_CHUNK):
            band = np.nan_to_num(a[y : y + _ROWS_PER_CHUNK].astype(np.float32), nan=0.0, posinf=1.0, neginf=0.0)
            grey[y : y + _ROWS_PER_CHUNK] = np.rint(np.clip(band, 0.0, 1.0) * 255)
    else:
        top = _nominal_max(img)
        for y in range(0, a.shape[0], _ROWS_PER_CHUNK):
            band = a[y : y + _ROWS_PER_CHUNK].astype(np.float64)
            grey[y : y + _ROWS_PER_CHUNK] = np.rint(np.clip(band * (255.0 / top), 0, 255))
    out = Image.fromarray(grey, "L")
    trns = img.info.get("transparency")
    if img.mode != "F" and isinstance(trns, int):
        out = Image.merge("LA", (out, Image.fromarray(np.where(a == trns, 0, 255).astype(np.uint8), "L")))
    if "icc_profile" in img.info:
        out.info["icc_profile"] = img.info["icc_profile"]
    return out


def _nominal_max(img: Image.Image) -> int:
    """The value that is white for an integer image: from the TIFF's
    BitsPerSample (258) and SampleFormat (339, 2 = signed), else 16 bits."""
    bits, signed = 16, False
    tags = getattr(img, "tag_v2", None)
    if tags is not None:
        try:
            bps = tags.get(258)
            bits = int(bps[0] if isinstance(bps, tuple) else bps or 16)
            fmt = tags.get(339)
            signed = (fmt[0] if isinstance(fmt, tuple) else fmt) == 2
        except (TypeError, ValueError, IndexError):
            bits, signed = 16, False
    if img.mode != "I":
        bits = min(bits, 16)
    bits = max(1, min(bits, 32))
    return (1 << (bits - 1)) - 1 if signed else (1 << bits) - 1


def _split_alpha(img: Image.Image) -> tuple[Image.Image, Image.Image | None]:
    """(colour, alpha or None): Pillow's own reading of alpha channels,
    palette alpha and tRNS colours."""
    mode, has_trns = img.mode, "transparency" in img.info
    if mode in ("P", "PA"):
        if mode == "PA" or has_trns or (img.palette is not None and img.palette.mode == "RGBA"):
            rgba = img.convert("RGBA")
            return rgba.convert("RGB"), rgba.getchannel("A")
        return img.convert("RGB"), None
    if mode in ("RGBA", "RGBa", "LA", "La"):
        straight = img.convert({"RGBa": "RGBA", "La": "LA"}.get(mode, mode))
        return straight.convert("RGB" if mode.startswith("RGB") else "L"), straight.getchannel("A")
    if has_trns and mode in ("1", "L", "RGB"):
        with_alpha = img.convert("LA" if mode in ("1", "L") else "RGBA")
        return with_alpha.convert("L" if mode in ("1", "L") else "RGB"), with_alpha.getchannel("A")
    return img, None


def _colour_to_srgb(img: Image.Image, icc: bytes | None) -> Image.Image:
    if img.mode == "LAB":
        return ImageCms.applyTransform(img, _lab_transform())
    if icc and len(icc) >= 128:
        want = _PROFILE_MODES.get(bytes(icc[16:20]))
        if want is not None and (img.mode == want or (img.mode, want) in _PROMOTE):
            src = img if img.mode == want else img.convert(want)
            try:
                transform = _profile_transform(bytes(icc), want)
                if transform is not None:
                    return ImageCms.applyTransform(src, transform)
            except (ImageCms.PyCMSError, OSError, ValueError, TypeError) as exc:
                log.debug("ignoring an embedded ICC profile LittleCMS refuses: %s", exc)
    return img.convert("RGB")


_SRGB_PROFILE = ImageCms.createProfile("sRGB")


_PROBE_STEPS = np.linspace(0, 255, 17).round().astype(np.uint8)
#: Every colour of a 17-step grid: what a profile does to it tells whether it is sRGB in all but name.
_PROBE = np.stack(np.meshgrid(_PROBE_STEPS, _PROBE_STEPS, _PROBE_STEPS, indexing="ij"), -1).reshape(1, -1, 3)


@lru_cache(maxsize=16)
def _profile_transform(icc: bytes, mode: str) -> ImageCms.ImageCmsTransform | None:
    """A transform from an embedded profile to sRGB, built once per profile;
    None for an RGB profile that maps every colour of a 17-step grid to
    itself within one level (the sRGB profiles most cameras and phones
    embed): applying it would change nothing and cost ~5 ms a photo.
    NOCACHE: the decode pool's threads share the transform (LittleCMS's
    one-pixel cache is per transform)."""
    transform = ImageCms.buildTransform(ImageCms.ImageCmsProfile(io.BytesIO(icc)), _SRGB_PROFILE, mode, "RGB",
                                        flags=ImageCms.Flags.NOCACHE)
    if mode == "RGB":
        probe = ImageCms.applyTransform(Image.fromarray(_PROBE), transform)
        if np.abs(np.asarray(probe, np.int16) - _PROBE).max() <= 1:
            return None
    return transform


@lru_cache(maxsize=1)
def _lab_transform() -> ImageCms.ImageCmsTransform:
    return ImageCms.buildTransform(ImageCms.createProfile("LAB"), _SRGB_PROFILE, "LAB", "RGB",
                                   flags=ImageCms.Flags.NOCACHE)

class ThumbnailCache:
    """Grid thumbnails on disk, keyed by the photo's content hash: a cache, regenerable.

    Each file is the JPEG followed by a 28-byte trailer: ``CDT1``, 16 bytes
    naming the key it was written for and an 8-byte BLAKE2b checksum of the
    JPEG (JPEG readers stop at the end-of-image marker, so the file still
    opens as a picture). A file that is truncated, bit-flipped or belongs to
    another photo (swapped) fails the check, is deleted and reads as missing,
    so it is made again from the original.
    """

    _MAGIC = b"CDT1"
    _TRAILER = 4 + 16 + 8

    def __init__(self, directory: Path):
        self.dir = Path(directory)

    def path_for(self, digest: str) -> Path:
        return self.dir / digest[:2] / f"{digest}.jpg"

    @staticmethod
    def _key(digest: str) -> bytes:
        return hashlib.blake2b(digest.encode("utf-8"), digest_size=16).digest()

    @staticmethod
    def _checksum(data: bytes) -> bytes:
        return hashlib.blake2b(data, digest_size=8).digest()

    def get(self, digest: str) -> bytes | None:
        """The thumbnail's JPEG bytes, or None when missing or damaged."""
        path = self.path_for(digest)
        try:
            data = path.read_bytes()
        except OSError:
            return None
        n = self._TRAILER
        jpeg, trailer = data[:-n], data[-n:]
        if (
            len(data) <= n
            or trailer[:4] != self._MAGIC
            or trailer[4:20] != self._key(digest)
            or trailer[20:] != self._checksum(jpeg)
        ):
            log.info("thumbnail %s is damaged or not this photo's; it will be made again", path.name)
            unlink_quietly(path)
            return None
        return jpeg

    def has(self, digest: str) -> bool:
        """True when a good thumbnail for ``digest`` is on disk."""
        return self.get(digest) is not None

    def put(self, digest: str, data: bytes) -> Path:
        """Write atomically; raises OSError (e.g. ENOSPC) for the caller to report.
        Not fsynced: a thumbnail lost to a power cut is regenerated."""
        dest = self.path_for(digest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(dest, data + self._MAGIC + self._key(digest) + self._checksum(data), durable=False)
        return dest


def is_disk_full(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)

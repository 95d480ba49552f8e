"""Real DNG files for the RAW tests, written from real photographs.

:func:`write_dng` turns an RGB photograph into what a camera's sensor would
have recorded behind a Bayer filter (RGGB, 12-bit linear light) and writes it
as an Adobe DNG 1.4 file, the way cameras and Adobe's converter
lay it out (Adobe DNG Specification 1.6, chapter 3): IFD0 is the preview
(NewSubfileType 1) and the raw CFA image is in a SubIFD (NewSubfileType 0).
The preview is a baseline JPEG (compression 7) at the size asked for, so the
tests can have a full-size preview (what ClipDesk uses, fast) or a small one
(ClipDesk must demosaic). The EXIF capture date and orientation are written
by ExifTool afterwards, into a real EXIF IFD, as a camera's would be.

LibRaw develops the file with the colour matrix given here: ColorMatrix1 maps
CIE XYZ (D65) to the "camera" space, which is linear sRGB, so the developed
picture looks like the photograph it came from.
"""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import numpy as np
from PIL import Image

#: XYZ (D65) -> linear sRGB, IEC 61966-2-1 (the inverse of its sRGB -> XYZ matrix).
XYZ_TO_LINEAR_SRGB = (
    (3.2404542, -1.5371385, -0.4985314),
    (-0.9692660, 1.8760108, 0.0415560),
    (0.0556434, -0.2040259, 1.0572252),
)
WHITE = 4095  # 12-bit sensor


def mosaic(rgb: Image.Image) -> np.ndarray:
    """The RGGB Bayer samples (uint16, 12-bit linear) a sensor would record of ``rgb``.

    Width and height must be even."""
    a = np.asarray(rgb.convert("RGB"), dtype=np.float64) / 255.0
    linear = np.where(a <= 0.04045, a / 12.92, ((a + 0.055) / 1.055) ** 2.4)
    values = np.clip(np.round(linear * WHITE), 0, WHITE).astype(np.uint16)
    h, w = values.shape[:2]
    cfa = np.empty((h, w), np.uint16)
    cfa[0::2, 0::2] = values[0::2, 0::2, 0]  # R
    cfa[0::2, 1::2] = values[0::2, 1::2, 1]  # G
    cfa[1::2, 0::2] = values[1::2, 0::2, 1]  # G
    cfa[1::2, 1::2] = values[1::2, 1::2, 2]  # B
    return cfa


def write_dng(
    path: str | Path,
    photo: Image.Image,
    *,
    preview_long_side: int | None = None,
    make: str = "ClipDesk Test",
    model: str = "Sensor One",
    taken: str | None = None,
    orientation: int = 1,
) -> Path:
    """Write ``photo`` as a CFA DNG at ``path`` and return the path.

    ``preview_long_side``: the JPEG preview's long side in pixels (None: as
    large as the raw image, a full-size preview). ``taken``: EXIF
    DateTimeOriginal as ``YYYY:MM:DD HH:MM:SS`` (written by ExifTool, which
    must be installed). ``orientation``: EXIF orientation 1-8 of the camera.
    """
    path = Path(path)
    photo = photo.convert("RGB")
    w, h = photo.size
    photo = photo.crop((0, 0, w - w % 2, h - h % 2))
    w, h = photo.size
    cfa = mosaic(photo)
    long_side = preview_long_side or max(w, h)
    preview = photo.copy()
    preview.thumbnail((long_side, long_side), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    preview.save(buf, "JPEG", quality=90)
    jpeg = buf.getvalue()

    ifd0 = [  # the preview, in IFD0 as cameras write it
        (254, LONG, [1]),  # NewSubfileType: reduced-resolution
        (256, LONG, [preview.width]), (257, LONG, [preview.height]),
        (258, SHORT, [8, 8, 8]), (259, SHORT, [7]),  # BitsPerSample, Compression: JPEG
        (262, SHORT, [6]),  # PhotometricInterpretation: YCbCr
        (271, ASCII, make), (272, ASCII, model),
        (273, LONG, "preview"),  # StripOffsets
        (274, SHORT, [orientation]),
        (277, SHORT, [3]), (278, LONG, [preview.height]), (279, LONG, [len(jpeg)]),
        (330, LONG, "subifd"),  # SubIFDs
        (50706, BYTE, [1, 4, 0, 0]), (50707, BYTE, [1, 1, 0, 0]),  # DNGVersion, DNGBackwardVersion
        (50708, ASCII, f"{make} {model}"),  # UniqueCameraModel
        (50721, SRATIONAL, [v for row in XYZ_TO_LINEAR_SRGB for v in row]),  # ColorMatrix1
        (50728, RATIONAL, [1.0, 1.0, 1.0]),  # AsShotNeutral
        (50778, SHORT, [21]),  # CalibrationIlluminant1: D65
    ]
    raw = [
        (254, LONG, [0]), (256, LONG, [w]), (257, LONG, [h]), (258, SHORT, [16]), (259, SHORT, [1]),
        (262, SHORT, [32803]),  # PhotometricInterpretation: CFA
        (273, LONG, "raw"), (277, SHORT, [1]), (278, LONG, [h]), (279, LONG, [cfa.nbytes]),
        (33421, SHORT, [2, 2]), (33422, BYTE, [0, 1, 1, 2]),  # CFARepeatPatternDim, CFAPattern: RGGB
        (50710, BYTE, [0, 1, 2]), (50711, SHORT, [1]),  # CFAPlaneColor, CFALayout
        (50714, SHORT, [0]), (50717, SHORT, [WHITE]),  # BlackLevel, WhiteLevel
    ]
    path.write_bytes(_tiff([ifd0, raw], {"preview": jpeg, "raw": cfa.astype("<u2").tobytes()}))
    if taken is not None:
        subprocess.run(
            ["exiftool", "-q", "-overwrite_original", f"-EXIF:DateTimeOriginal={taken}", str(path)],
            check=True, capture_output=True,
        )
    return path


BYTE, ASCII, SHORT, LONG, RATIONAL, SRATIONAL = 1, 2, 3, 4, 5, 10
_SIZES = {BYTE: 1, ASCII: 1, SHORT: 2, LONG: 4, RATIONAL: 8, SRATIONAL: 8}


def _pack(kind: int, values) -> tuple[int, bytes]:
    if kind == ASCII:
        data = values.encode("ascii") + b"\0"
        return len(data), data
    if kind in (RATIONAL, SRATIONAL):
        signed = kind == SRATIONAL
        out = b""
        for v in values:
            out += int(round(v * 1_000_000)).to_bytes(4, "little", signed=signed)
            out += (1_000_000).to_bytes(4, "little")
        return len(values), out
    return len(values), b"".join(int(v).to_bytes(_SIZES[kind], "little") for v in values)


def _tiff(ifds: list[list], blobs: dict[str, bytes]) -> bytes:
    """A little-endian TIFF (TIFF 6.0, section 2): the blobs, then the IFDs
    last to first, each followed by its values over 4 bytes. The first IFD is
    IFD0; a LONG entry whose value is "subifd" points at the second, one named
    after a blob at that blob."""
    out = bytearray(b"II*\0\0\0\0\0")
    where = {}
    for name, blob in blobs.items():
        where[name] = len(out)
        out += blob + b"\0" * (len(blob) % 2)
    for n in range(len(ifds) - 1, -1, -1):
        entries = sorted(ifds[n], key=lambda e: e[0])
        start = len(out)
        body = bytearray(len(entries).to_bytes(2, "little"))
        tail = bytearray()
        tail_at = start + 2 + 12 * len(entries) + 4
        for tag, kind, value in entries:
            if isinstance(value, str) and kind != ASCII:
                value = [where[value]]
            count, data = _pack(kind, value)
            body += tag.to_bytes(2, "little") + kind.to_bytes(2, "little") + count.to_bytes(4, "little")
            if len(data) <= 4:
                body += data.ljust(4, b"\0")
            else:
                body += (tail_at + len(tail)).to_bytes(4, "little")
                tail += data + b"\0" * (len(data) % 2)
        body += (0).to_bytes(4, "little")  # no next IFD: the raw image hangs off IFD0's SubIFDs
        out += body + tail
        where["subifd" if n == 1 else f"ifd{n}"] = start
    out[4:8] = where["ifd0"].to_bytes(4, "little")
    return bytes(out)

"""Convert an X window dump (``xwd -root``) to PNG with Pillow.

    python xwd2png.py screen.xwd screen.png

Only what Xvfb produces at depth 24 is handled (ZPixmap, 24-bit TrueColor
pixels in 3- or 4-byte units); that is all packaging/linux/verify.sh needs, and it
avoids installing ImageMagick into the test root.
"""

from __future__ import annotations

import struct
import sys

import numpy as np
from PIL import Image

_FIELDS = 25  # CARD32 fields of the XWD header (file format version 7)


def convert(src: str, dest: str) -> tuple[int, int]:
    data = open(src, "rb").read()
    header = struct.unpack(">25I", data[: 4 * _FIELDS])
    (header_size, version, pixmap_format, depth, width, height, _xoff, byte_order, _unit, _bit_order,
     _pad, bits_per_pixel, bytes_per_line, _visual, red_mask, green_mask, blue_mask, _bits_rgb,
     _cmap_entries, ncolors, *_rest) = header
    if version != 7 or pixmap_format != 2 or depth not in (24, 32) or bits_per_pixel not in (24, 32):
        raise ValueError(f"unsupported XWD: version {version}, format {pixmap_format}, "
                         f"depth {depth}, {bits_per_pixel} bits per pixel")
    step = bits_per_pixel // 8  # rows may be padded beyond width * step: bytes_per_line says
    offset = header_size + 12 * ncolors
    rows = np.frombuffer(data, dtype=np.uint8, count=bytes_per_line * height, offset=offset)
    raw = rows.reshape(height, bytes_per_line)[:, : width * step].reshape(height, width, step).astype(np.uint32)
    if byte_order:  # MSBFirst
        raw = raw[..., ::-1]
    pixels = sum(raw[..., i] << (8 * i) for i in range(step))

    def channel(mask: int) -> np.ndarray:
        shift = (mask & -mask).bit_length() - 1
        return ((pixels & mask) >> shift).astype(np.uint8)

    rgb = np.dstack([channel(red_mask), channel(green_mask), channel(blue_mask)])
    Image.fromarray(rgb, "RGB").save(dest)
    return width, height


if __name__ == "__main__":
    w, h = convert(sys.argv[1], sys.argv[2])
    print(f"{sys.argv[2]}: {w}x{h}")

"""Draw ClipDesk's icon with Pillow and write every size the installers use.

    python packaging/make_icon.py            # writes packaging/icons/

The drawing: a rounded tile in a blue-to-teal gradient, a white photo print
with hills and a sun, and a magnifier over its corner - "find your photos".
It is drawn once at 1024 px (4x supersampled) and scaled down, so every size
comes from the same picture. The outputs are committed; run this again only
when the drawing changes.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

OUT = Path(__file__).resolve().parent / "icons"
PNG_SIZES = [16, 24, 32, 48, 64, 128, 256, 512]
ICO_SIZES = [16, 24, 32, 48, 64, 128, 256]
MASTER = 1024
SS = 4  # supersampling factor


def _gradient(size: int, top: tuple[int, int, int], bottom: tuple[int, int, int]) -> Image.Image:
    column = Image.new("RGB", (1, size))
    for y in range(size):
        t = y / (size - 1)
        column.putpixel((0, y), tuple(round(a + (b - a) * t) for a, b in zip(top, bottom)))
    return column.resize((size, size))


def draw(size: int = MASTER) -> Image.Image:
    s = size * SS

    def px(v: float) -> int:
        return round(v * s)

    icon = Image.new("RGBA", (s, s), (0, 0, 0, 0))

    # Tile: rounded square with a soft shadow.
    shadow = Image.new("L", (s, s), 0)
    ImageDraw.Draw(shadow).rounded_rectangle(
        [px(0.07), px(0.09), px(0.93), px(0.95)], radius=px(0.2), fill=110
    )
    shadow = shadow.filter(ImageFilter.GaussianBlur(px(0.02)))
    icon.paste((0, 0, 0, 255), (0, 0), shadow)
    tile_mask = Image.new("L", (s, s), 0)
    ImageDraw.Draw(tile_mask).rounded_rectangle([px(0.06), px(0.06), px(0.94), px(0.94)], radius=px(0.2), fill=255)
    icon.paste(_gradient(s, (37, 99, 235), (13, 148, 136)), (0, 0), tile_mask)

    d = ImageDraw.Draw(icon)
    # Photo print, slightly rotated feel by offsetting a second card behind it.
    d.rounded_rectangle([px(0.20), px(0.22), px(0.74), px(0.66)], radius=px(0.03), fill=(255, 255, 255, 90))
    d.rounded_rectangle([px(0.16), px(0.18), px(0.70), px(0.62)], radius=px(0.03), fill=(255, 255, 255, 255))
    # The picture inside the print: sky, sun, two hills.
    sky = [px(0.20), px(0.22), px(0.66), px(0.52)]
    d.rectangle(sky, fill=(191, 219, 254, 255))
    d.ellipse([px(0.52), px(0.26), px(0.60), px(0.34)], fill=(251, 191, 36, 255))
    d.polygon([(px(0.20), px(0.52)), (px(0.33), px(0.36)), (px(0.47), px(0.52))], fill=(22, 163, 74, 255))
    d.polygon([(px(0.36), px(0.52)), (px(0.50), px(0.40)), (px(0.66), px(0.52))], fill=(21, 128, 61, 255))

    # Magnifier over the lower right corner.
    cx, cy, r = px(0.64), px(0.64), px(0.15)
    ring = px(0.045)
    d.line([(cx + r * 0.62, cy + r * 0.62), (px(0.86), px(0.86))], fill=(255, 255, 255, 255), width=px(0.075))
    d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=(255, 255, 255, 255))
    inner = r - ring
    d.ellipse([cx - inner, cy - inner, cx + inner, cy + inner], fill=(15, 118, 110, 255))
    glint = inner * 0.55
    d.arc([cx - glint, cy - glint, cx + glint, cy + glint], start=200, end=260, fill=(255, 255, 255, 200),
          width=max(1, px(0.012)))

    return icon.resize((size, size), Image.Resampling.LANCZOS)


def main(out: Path = OUT) -> int:
    out.mkdir(parents=True, exist_ok=True)
    master = draw(MASTER)
    for size in PNG_SIZES:
        master.resize((size, size), Image.Resampling.LANCZOS).save(out / f"clipdesk-{size}.png", optimize=True)
    master.save(out / "clipdesk.ico", sizes=[(n, n) for n in ICO_SIZES])
    # Pillow's ICNS writer takes the 1024 px master and stores the standard
    # sizes (16 to 512, with @2x variants) scaled from it.
    master.save(out / "clipdesk.icns")
    print(f"wrote {len(PNG_SIZES)} PNGs, clipdesk.ico and clipdesk.icns to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT))

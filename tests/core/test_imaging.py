import io
import os
import struct
import subprocess
import sys
import textwrap
import zlib

import numpy as np
import pytest
from PIL import Image, ImageCms, ImageOps

from clipdesk.core.errors import DecodeError
from clipdesk.core.imaging import ThumbnailCache, content_hash, decode
from support import make_photo, photo_array


def quadrants(w=64, h=48):
    """Four flat colours, one per quadrant, so orientation is easy to read."""
    a = np.zeros((h, w, 3), np.uint8)
    a[: h // 2, : w // 2] = (255, 0, 0)
    a[: h // 2, w // 2 :] = (0, 255, 0)
    a[h // 2 :, : w // 2] = (0, 0, 255)
    a[h // 2 :, w // 2 :] = (255, 255, 0)
    return a


def thumb(decoded):
    return np.asarray(Image.open(io.BytesIO(decoded.thumbnail)).convert("RGB")).astype(int)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_matches_pillows_reading_of_the_spec(tmp_path, orientation):
    path = tmp_path / f"o{orientation}.jpg"
    make_photo(path, array=quadrants(), orientation=orientation, quality=95)
    d = decode(path)
    expected = ImageOps.exif_transpose(Image.open(path)).convert("RGB")
    assert (d.width, d.height) == expected.size
    got = thumb(d)
    want = np.asarray(expected.resize((got.shape[1], got.shape[0]))).astype(int)
    assert np.abs(got - want).mean() < 12


def test_orientation_6_turns_landscape_into_portrait(tmp_path):
    path = tmp_path / "o6.jpg"
    make_photo(path, array=quadrants(64, 48), orientation=6, quality=95)
    d = decode(path)
    assert (d.width, d.height) == (48, 64)
    t = thumb(d)
    # Rotated 90 degrees clockwise: the stored top-left (red) ends top-right.
    assert tuple(t[2, -3]) == pytest.approx((255, 0, 0), abs=40)


@pytest.mark.parametrize("garbage", [0, 9, 255, 65535])
def test_garbage_orientation_is_ignored(tmp_path, garbage):
    path = tmp_path / "g.jpg"
    make_photo(path, array=quadrants(64, 48), orientation=garbage, quality=95)
    d = decode(path)
    assert (d.width, d.height) == (64, 48)


def test_jpeg_draft_mode_decodes_a_12mp_photo_at_reduced_size(tmp_path):
    path = tmp_path / "big.jpg"
    make_photo(path, (4000, 3000), seed=3)
    d = decode(path)
    assert (d.width, d.height) == (4000, 3000)
    # 320 px thumbnails need a 240 px short side: DCT scaling to 1/8 gives 500x375.
    assert d.decoded_size == (500, 375)
    full = decode(path, full_decode=True)
    assert full.decoded_size == (4000, 3000)
    assert max(Image.open(io.BytesIO(d.thumbnail)).size) == 320


def test_draft_mode_keeps_what_the_model_needs(tmp_path):
    class Needs448:
        model_id, dim, min_input_side = "t", 3, 448

        def preprocess(self, image):
            assert min(image.size) >= 448
            return np.asarray(image.resize((8, 8)), np.float32).transpose(2, 0, 1)

        def embed(self, batch):  # pragma: no cover - not called here
            raise AssertionError

    path = tmp_path / "big.jpg"
    make_photo(path, (4000, 3000), seed=4)
    d = decode(path, embedder=Needs448())
    assert d.decoded_size == (1000, 750)
    assert d.model_input.shape == (3, 8, 8)


def png_claiming(w, h):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def test_decompression_bomb_header_is_refused_before_decoding(tmp_path):
    path = tmp_path / "bomb.png"
    path.write_bytes(png_claiming(10000, 10000))
    with pytest.raises(DecodeError, match="decompression bomb"):
        decode(path)


def test_truncated_jpeg_passes_open_and_verify_but_fails_with_a_reason(tmp_path):
    data = make_photo(tmp_path / "whole.jpg", (800, 600), seed=1)
    path = tmp_path / "cut.jpg"
    path.write_bytes(data[: len(data) // 2])
    with Image.open(path) as img:
        img.verify()  # the header is fine: only a full load can tell
    with pytest.raises(DecodeError, match="truncated"):
        decode(path, full_decode=True)
    with pytest.raises(DecodeError, match="truncated"):
        decode(path)


def test_empty_file(tmp_path):
    path = tmp_path / "empty.jpg"
    path.write_bytes(b"")
    with pytest.raises(DecodeError, match="empty file"):
        decode(path)


def test_random_bytes_named_jpg(tmp_path):
    path = tmp_path / "noise.jpg"
    path.write_bytes(np.random.default_rng(0).bytes(5000))
    with pytest.raises(DecodeError, match="not a supported image"):
        decode(path)


def test_type_comes_from_content_not_extension(tmp_path):
    path = tmp_path / "really-a-png.jpg"
    make_photo(path, (50, 40), fmt="PNG")
    assert decode(path).format == "png"


def test_vanished_file(tmp_path):
    with pytest.raises(DecodeError, match="vanished"):
        decode(tmp_path / "gone.jpg")


@pytest.mark.parametrize("fmt,name", [("PNG", "png"), ("WEBP", "webp"), ("BMP", "bmp"), ("TIFF", "tiff")])
def test_other_formats(tmp_path, fmt, name):
    path = tmp_path / f"x.{name}"
    make_photo(path, (120, 80), fmt=fmt)
    d = decode(path)
    assert (d.format, d.width, d.height) == (name, 120, 80)


def test_gif_first_frame(tmp_path):
    frames = [Image.new("RGB", (40, 30), c) for c in ((255, 0, 0), (0, 0, 255))]
    path = tmp_path / "anim.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100, loop=0)
    d = decode(path)
    assert d.format == "gif"
    r, g, b = thumb(d)[15, 20]
    assert r > 200 and b < 60


def test_heic(tmp_path):
    pillow_heif = pytest.importorskip("pillow_heif")
    path = tmp_path / "phone.heic"
    try:
        Image.fromarray(photo_array(96, 64)).save(path, "HEIF", quality=90)
    except (KeyError, OSError, ValueError) as exc:  # pragma: no cover - depends on libheif build
        pytest.skip(f"this libheif cannot encode HEIC: {exc}")
    assert pillow_heif is not None
    d = decode(path)
    assert (d.format, d.width, d.height) == ("heic", 96, 64)


def test_exif_date_and_camera(tmp_path):
    path = tmp_path / "cam.jpg"
    make_photo(path, taken="2021:07:14 18:30:05", make="Canon", model="Canon EOS R6")
    d = decode(path)
    assert (d.taken_at, d.date_source, d.camera) == ("2021-07-14T18:30:05", "exif", "Canon EOS R6")
    bad = tmp_path / "bad-date.jpg"
    make_photo(bad, taken="0000:00:00 00:00:00", make="  \x00\x01", model="X100V")
    d = decode(bad)
    assert d.date_source == "file" and d.camera == "X100V"


def test_panorama_decodes_in_bounded_memory(tmp_path):
    path = tmp_path / "pano.jpg"
    make_photo(path, (12000, 4000), seed=5, quality=80)
    code = textwrap.dedent(f"""
        import resource
        from clipdesk.core.imaging import decode
        data = open({str(path)!r}, "rb").read()
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        d = decode({str(path)!r})
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(d.width, d.height, d.decoded_size[0], d.decoded_size[1], (after - before) // 1024)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    w, h, dw, dh, grew_mb = map(int, out.split())
    assert (w, h) == (12000, 4000)
    assert dw <= 1500 and dh <= 500
    # A full decode needs 144 MB for the pixels alone.
    assert grew_mb < 40, f"decode grew the process by {grew_mb} MB"


def test_thumbnail_cache_is_keyed_by_content(tmp_path):
    cache = ThumbnailCache(tmp_path / "thumbs")
    digest = content_hash(b"abc")
    assert cache.get(digest) is None
    p = cache.put(digest, b"jpegbytes")
    assert p.parent.name == digest[:2] and cache.get(digest) == b"jpegbytes"
    assert not [f for f in os.listdir(p.parent) if f.endswith(".tmp")]


@pytest.mark.parametrize("damage", ["truncated", "bit flipped", "swapped", "old format"])
def test_a_damaged_thumbnail_is_never_shown_and_is_made_again(tmp_path, damage):
    """Issue 14, part 7: every cache file is checked before use."""
    cache = ThumbnailCache(tmp_path / "thumbs")
    a, b = content_hash(b"photo a"), content_hash(b"photo b")
    jpeg_a, jpeg_b = make_photo(tmp_path / "a.jpg", (64, 48), seed=1), make_photo(tmp_path / "b.jpg", (64, 48), seed=2)
    path_a = cache.put(a, jpeg_a)
    path_b = cache.put(b, jpeg_b)
    data = path_a.read_bytes()
    if damage == "truncated":
        path_a.write_bytes(data[: len(data) // 2])
    elif damage == "bit flipped":
        path_a.write_bytes(data[:100] + bytes([data[100] ^ 0x10]) + data[101:])
    elif damage == "swapped":
        path_a.write_bytes(path_b.read_bytes())
    else:  # a thumbnail written before the trailer existed
        path_a.write_bytes(jpeg_a)
    assert cache.get(a) is None and not cache.has(a)
    assert not path_a.exists()  # gone, so it is made again
    assert cache.get(b) == jpeg_b
    cache.put(a, jpeg_a)
    assert cache.get(a) == jpeg_a


# --------------------------------------------------------------------------- pixels as other tools see them
#
# Each mode is written from a known reference by the test, and what decode()
# hands the model (the full-size sRGB image, through an embedder that echoes
# it) and the thumbnail are compared with the sRGB a viewer shows: the mean
# absolute error, in 8-bit levels over every channel, stays under a bound.
# Bounds: 0.6 for exact integer conversions (rounding only), 1.5 where an ICC
# profile is applied (LittleCMS's 16-bit pipeline against float math), 3.0
# for a lossy JPEG. The thumbnail is compared with the expected image put
# through the same resize and JPEG encoding, with 1.5 levels more.

EXACT, ICC, LOSSY, THUMB_EXTRA = 0.6, 1.5, 3.0, 1.5
D50 = (0.9642, 1.0, 0.8249)


class Echo:
    """An embedder whose model input is the decoded sRGB image itself."""

    model_id, dim, min_input_side = "echo", 3, 1

    def preprocess(self, image):
        assert image.mode == "RGB"
        return np.asarray(image).copy()

    def embed(self, batch):  # pragma: no cover - not called here
        raise AssertionError


def mae(a, b) -> float:
    return float(np.abs(np.asarray(a, float) - np.asarray(b, float)).mean())


def srgb_encode(lin):
    """IEC 61966-2-1 transfer function: linear light [0, 1] -> 8-bit sRGB."""
    lin = np.clip(lin, 0, 1)
    v = np.where(lin <= 0.0031308, 12.92 * lin, 1.055 * np.power(lin, 1 / 2.4) - 0.055)
    return np.rint(v * 255)


def srgb_decode(v8):
    v = np.asarray(v8, float) / 255
    return np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)


def rgb_to_xyz(primaries, white=(0.3127, 0.3290)):
    """The RGB -> XYZ matrix of an RGB space from its primaries' and white's xy."""
    xyz = np.array([[x / y, 1.0, (1 - x - y) / y] for x, y in primaries]).T
    wx, wy = white
    scale = np.linalg.solve(xyz, [wx / wy, 1.0, (1 - wx - wy) / wy])
    return xyz * scale


SRGB_PRIMARIES = [(0.64, 0.33), (0.30, 0.60), (0.15, 0.06)]  # IEC 61966-2-1
ADOBE_PRIMARIES = [(0.64, 0.33), (0.21, 0.71), (0.15, 0.06)]  # Adobe RGB (1998), 4.3.1.1
P3_PRIMARIES = [(0.680, 0.320), (0.265, 0.690), (0.150, 0.060)]  # Display P3 (SMPTE EG 432-1 primaries, D65)


def png_bytes(array, bit_depth, colour_type, chunks=()) -> bytes:
    """A PNG written by hand, for the bit depths Pillow does not write."""
    a = np.asarray(array)
    h, w = a.shape[:2]
    rows = a.astype(">u2" if bit_depth == 16 else np.uint8).reshape(h, -1)
    raw = b"".join(b"\x00" + r.tobytes() for r in rows)

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, bit_depth, colour_type, 0, 0, 0))
            + b"".join(chunk(k, d) for k, d in chunks) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


# A small ICC v2 profile writer (ICC.1:2001-04): enough for a grey and a CMYK profile.
def _s15(v):
    return struct.pack(">i", round(v * 65536))


def _xyz_tag(xyz):
    return b"XYZ \0\0\0\0" + b"".join(_s15(v) for v in xyz)


def _desc_tag(text):
    t = text.encode("ascii") + b"\0"
    return b"desc\0\0\0\0" + struct.pack(">I", len(t)) + t + b"\0" * 8 + b"\0\0\0" + b"\0" * 67


def icc_profile(device_class: bytes, space: bytes, tags: dict[bytes, bytes]) -> bytes:
    tags = {b"desc": _desc_tag("ClipDesk test profile"), b"wtpt": _xyz_tag(D50), **tags}
    offset = 128 + 4 + 12 * len(tags)
    table, body = [], b""
    for sig, data in tags.items():
        data += b"\0" * (-len(data) % 4)
        table.append(sig + struct.pack(">II", offset + len(body), len(data)))
        body += data
    size = offset + len(body)
    header = (struct.pack(">I", size) + b"\0" * 4 + struct.pack(">I", 0x02100000) + device_class + space
              + b"XYZ " + struct.pack(">6H", 2026, 1, 1, 0, 0, 0) + b"acsp" + b"\0" * 24
              + struct.pack(">I", 0) + b"".join(_s15(v) for v in D50) + b"\0" * 48)
    assert len(header) == 128
    return header + struct.pack(">I", len(tags)) + b"".join(table) + body


def grey_profile(gamma: float) -> bytes:
    curv = b"curv\0\0\0\0" + struct.pack(">IH", 1, round(gamma * 256))
    return icc_profile(b"mntr", b"GRAY", {b"kTRC": curv})


# A made-up press: paper and four inks as linear-light transmittances, inks
# multiply (a subtractive model). Far from Pillow's naive CMYK -> RGB.
PAPER = np.array([0.96, 0.93, 0.85])
INKS = np.array([[0.08, 0.52, 0.90], [0.88, 0.10, 0.48], [0.96, 0.86, 0.06], [0.05, 0.05, 0.06]])


def press_linear(cmyk01):
    """Linear sRGB of CMYK coverage in [0, 1] on the made-up press."""
    out = np.broadcast_to(PAPER, cmyk01.shape[:-1] + (3,)).copy()
    for i in range(4):
        out *= 1 - cmyk01[..., i : i + 1] * (1 - INKS[i])
    return out


def lcms_srgb_to_xyz():
    """Linear sRGB -> PCS XYZ (D50) with LittleCMS's own sRGB colorants."""
    p = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).profile
    return np.array([p.red_colorant[0], p.green_colorant[0], p.blue_colorant[0]]).T


def cmyk_profile(grid: int = 9) -> bytes:
    """An output (printer) profile of the made-up press: a lut16 A2B0 from
    CMYK to PCS XYZ, sampled on a grid, XYZ from LittleCMS's own sRGB colorants
    (D50-adapted) so that only the press model stands between CMYK and sRGB."""
    to_xyz = lcms_srgb_to_xyz()
    axis = np.linspace(0, 1, grid)
    cmyk = np.stack(np.meshgrid(axis, axis, axis, axis, indexing="ij"), -1).reshape(-1, 4)
    xyz = press_linear(cmyk) @ to_xyz.T
    clut = np.clip(np.rint(xyz * 32768), 0, 65535).astype(">u2")  # ICC v2 16-bit XYZ: 1.0 = 0x8000
    identity = np.array([0, 65535], ">u2")
    lut = (b"mft2\0\0\0\0" + bytes([4, 3, grid, 0]) + b"".join(_s15(v) for v in (1, 0, 0, 0, 1, 0, 0, 0, 1))
           + struct.pack(">HH", 2, 2) + np.tile(identity, 4).tobytes() + clut.tobytes() + np.tile(identity, 3).tobytes())
    return icc_profile(b"prtr", b"CMYK", {b"A2B0": lut})


def corpus_profile(corpus, file_id):
    with Image.open(corpus.path(file_id)) as im:
        return im.info["icc_profile"]


def _reference(h=48, w=64, seed=7):
    return photo_array(w, h, seed=seed)


def _alpha(h=48, w=64):
    x = np.mgrid[0:h, 0:w][1]
    a = (x * 255 // (w - 1)).astype(np.uint8)
    a[: h // 4] = 255
    a[-h // 4 :] = 0
    return a


def _over_white(rgb, alpha):
    a = np.asarray(alpha, float)[..., None] / 255
    return np.rint(np.asarray(rgb, float) * a + 255 * (1 - a))


def _grey(h=48, w=64):
    return np.asarray(Image.fromarray(_reference(h, w)).convert("L"))


def rgb3(grey):
    return np.repeat(np.asarray(grey)[..., None], 3, axis=2)


def make_mode(kind, tmp_path, corpus):
    """Write a file in one pixel mode from a known reference; return its
    path, the sRGB a viewer shows (uint8 HxWx3) and the bound."""
    ref, grey, alpha = _reference(), _grey(), _alpha()
    path = tmp_path / kind.replace(" ", "_")
    if kind == "16-bit grey png":
        path.write_bytes(png_bytes(grey.astype(np.uint32) * 257, 16, 0))
        return path, rgb3(grey), EXACT
    if kind == "16-bit grey png, transparent value":
        g16 = grey.astype(np.uint32) * 257
        g16[alpha == 0] = 4242
        path.write_bytes(png_bytes(g16, 16, 0, [(b"tRNS", struct.pack(">H", 4242))]))
        return path, _over_white(rgb3(grey), np.where(alpha == 0, 0, 255)), EXACT
    if kind == "16-bit grey+alpha png":
        path.write_bytes(png_bytes(np.stack([grey, alpha], -1).astype(np.uint32) * 257, 16, 4))
        return path, _over_white(rgb3(grey), alpha), EXACT
    if kind == "16-bit rgb png":
        path.write_bytes(png_bytes(ref.astype(np.uint32) * 257 + 100, 16, 2))
        # Pillow keeps the high byte of 16-bit RGB samples (as libpng's strip-16 does):
        # up to one level below exact rounding.
        return path, ref, 1.0
    if kind == "16-bit rgba png":
        path.write_bytes(png_bytes(np.dstack([ref, alpha]).astype(np.uint32) * 257, 16, 6))
        return path, _over_white(ref, alpha), EXACT
    if kind == "16-bit grey tiff, big-endian":
        Image.fromarray((grey.astype(np.uint16) * 257).astype(">u2")).save(path, "TIFF")  # mode I;16B
        return path, rgb3(grey), EXACT
    if kind == "16-bit grey tiff":
        Image.fromarray(grey.astype(np.uint16) * 257).save(path, "TIFF")  # mode I;16
        return path, rgb3(grey), EXACT
    if kind == "32-bit integer tiff":
        Image.fromarray((grey.astype(np.int64) * (2**31 - 1) // 255).astype(np.int32), "I").save(path, "TIFF")
        return path, rgb3(grey), EXACT
    if kind == "float tiff":
        f = grey.astype(np.float32) / 255
        f[:4] = 3.5  # HDR highlights above 1.0 are white
        Image.fromarray(f, "F").save(path, "TIFF")
        want = rgb3(grey).copy()
        want[:4] = 255
        return path, want, EXACT
    if kind == "1-bit png":
        bits = grey > 128
        Image.fromarray(bits).save(path, "PNG")
        return path, rgb3(np.where(bits, 255, 0)), EXACT
    if kind == "grey png, transparent value":
        g = grey.copy()
        g[alpha == 0] = 7
        g[(alpha != 0) & (g == 7)] = 8
        Image.fromarray(g, "L").save(path, "PNG", transparency=7)
        return path, _over_white(rgb3(g), np.where(g == 7, 0, 255)), EXACT
    if kind == "grey+alpha png":
        Image.fromarray(np.dstack([grey, alpha]), "LA").save(path, "PNG")
        return path, _over_white(rgb3(grey), alpha), EXACT
    if kind == "rgba png":
        Image.fromarray(np.dstack([ref, alpha]), "RGBA").save(path, "PNG")
        return path, _over_white(ref, alpha), EXACT
    if kind in ("palette png, transparent index", "palette gif, transparent index"):
        p = Image.fromarray(ref).quantize(64)
        idx = np.asarray(p).copy()
        idx[alpha == 0] = 64
        pal = p.getpalette()[: 64 * 3] + [0, 0, 255]
        q = Image.fromarray(idx.astype(np.uint8), "P")
        q.putpalette(pal)
        q.save(path, "PNG" if "png" in kind else "GIF", transparency=64)
        colours = np.array(pal, np.uint8).reshape(-1, 3)[idx]
        return path, _over_white(colours, np.where(idx == 64, 0, 255)), EXACT
    if kind == "palette png, alpha palette":
        p = Image.fromarray(ref).quantize(16)
        idx = np.asarray(p)
        trns = bytes(range(0, 256, 16))
        p.save(path, "PNG", transparency=trns)
        colours = np.array(p.getpalette()[:48], np.uint8).reshape(-1, 3)[idx]
        return path, _over_white(colours, np.frombuffer(trns, np.uint8)[idx]), EXACT
    if kind in ("cmyk tiff", "cmyk jpeg"):
        cmyk = np.dstack([255 - ref, (grey // 3)]).astype(np.uint8)
        if kind == "cmyk tiff":
            Image.fromarray(cmyk, "CMYK").save(path, "TIFF")
        else:
            Image.fromarray(cmyk, "CMYK").save(path, "JPEG", quality=95)
        # No profile: the naive conversion every viewer falls back to, C' = (255 - C)(255 - K) / 255.
        c = cmyk.astype(float)
        return path, np.rint((255 - c[..., :3]) * (255 - c[..., 3:]) / 255), EXACT if "tiff" in kind else LOSSY
    if kind in ("cmyk tiff with icc", "cmyk jpeg with icc"):
        cmyk = np.dstack([255 - ref, (grey // 3)]).astype(np.uint8)
        im = Image.fromarray(cmyk, "CMYK")
        if "tiff" in kind:
            im.save(path, "TIFF", icc_profile=cmyk_profile())
        else:
            im.save(path, "JPEG", quality=95, icc_profile=cmyk_profile())
        return path, srgb_encode(press_linear(cmyk / 255)), ICC if "tiff" in kind else LOSSY
    if kind == "grey png with a linear grey icc":
        Image.fromarray(grey, "L").save(path, "PNG", icc_profile=grey_profile(1.0))
        return path, rgb3(srgb_encode(grey / 255)), ICC
    if kind in ("adobe rgb png", "display p3 png", "adobe rgb png with alpha"):
        if "adobe" in kind:
            icc = corpus_profile(corpus, "pillow/xmp_test.jpg")  # "Adobe RGB (1998)"
            lin = (ref / 255) ** (563 / 256)
            m = rgb_to_xyz(ADOBE_PRIMARIES)
        else:
            icc = corpus_profile(corpus, "pillow/frame_size.mpo")  # "Display P3"
            lin = srgb_decode(ref)
            m = rgb_to_xyz(P3_PRIMARIES)
        want = srgb_encode(lin @ (np.linalg.inv(rgb_to_xyz(SRGB_PRIMARIES)) @ m).T)
        if "alpha" in kind:
            Image.fromarray(np.dstack([ref, alpha]), "RGBA").save(path, "PNG", icc_profile=icc)
            return path, _over_white(want, alpha), ICC
        Image.fromarray(ref).save(path, "PNG", icc_profile=icc)
        return path, want, ICC
    if kind == "lab tiff":
        # CIELAB (D50) of the reference as a CIELab TIFF stores it and Pillow's LAB mode holds it:
        # L* 0..100 -> 0..255, a* and b* as signed bytes (TIFF 6.0, section 23).
        xyz = srgb_decode(ref) @ lcms_srgb_to_xyz().T / np.array(D50)
        f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
        lab = np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], -1)
        stored = np.dstack([np.clip(np.rint(lab[..., 0] * 255 / 100), 0, 255).astype(np.uint8),
                            np.clip(np.rint(lab[..., 1:]), -128, 127).astype(np.int8).view(np.uint8)])
        Image.fromarray(stored, "LAB").save(path, "TIFF")
        return path, ref, ICC
    raise AssertionError(kind)


MODES = [
    "16-bit grey png", "16-bit grey png, transparent value", "16-bit grey+alpha png", "16-bit rgb png",
    "16-bit rgba png", "16-bit grey tiff", "16-bit grey tiff, big-endian", "32-bit integer tiff", "float tiff",
    "1-bit png", "grey png, transparent value", "grey+alpha png", "rgba png", "palette png, transparent index",
    "palette gif, transparent index", "palette png, alpha palette", "cmyk tiff", "cmyk jpeg",
    "cmyk tiff with icc", "cmyk jpeg with icc", "grey png with a linear grey icc", "adobe rgb png",
    "adobe rgb png with alpha", "display p3 png", "lab tiff",
]


@pytest.mark.parametrize("kind", MODES)
def test_every_mode_becomes_the_srgb_a_viewer_shows(tmp_path, corpus, kind):
    path, want, bound = make_mode(kind, tmp_path, corpus)
    d = decode(path, embedder=Echo())
    assert d.model_input.shape == want.shape
    assert mae(d.model_input, want) < bound, f"{kind}: model input off by {mae(d.model_input, want):.2f} levels"
    small = Image.fromarray(np.asarray(want, np.uint8))
    small.thumbnail((320, 320), Image.Resampling.BICUBIC, reducing_gap=2.0)
    buf = io.BytesIO()
    small.save(buf, "JPEG", quality=85)
    assert mae(thumb(d), np.asarray(Image.open(buf))) < bound + THUMB_EXTRA


def test_the_16_bit_mid_grey_png_is_mid_grey_for_the_model_and_the_thumbnail(tmp_path):
    """Issue 14, part 3: it used to become pure white (and get the tag "snow")."""
    path = tmp_path / "grey16.png"
    Image.fromarray(np.full((40, 60), 32768, np.uint16)).save(path, "PNG")  # mode I;16
    d = decode(path, embedder=Echo())
    assert np.abs(d.model_input.astype(int) - 128).max() <= 1
    assert np.abs(thumb(d) - 128).max() <= 2


@pytest.mark.parametrize("kind", ["cmyk tiff with icc", "adobe rgb png", "display p3 png",
                                  "grey png with a linear grey icc"])
def test_the_icc_profile_matters_in_those_tests(tmp_path, corpus, kind):
    """The references above are far from what ignoring the profile gives."""
    path, want, _ = make_mode(kind, tmp_path, corpus)
    with Image.open(path) as im:
        naive = np.asarray(im.convert("RGB"))
    assert mae(naive, want) > 4


# Real files in odd modes, against the same picture in plain 8-bit sRGB.
SIBLINGS = [
    ("pillow/16bit.MM.deflate.tif", "pillow/16bit.cropped.tif", 0.0),  # big- and little-endian 16-bit
    ("pillow/hopper.Lab.tif", "pillow/hopper.tif", 3.0),
    ("pillow/hopper.gif", "pillow/hopper.png", 6.0),  # a 256-colour palette
    ("pillow/pil_sample_cmyk.jpg", "pillow/pil_sample_rgb.jpg", 12.0),  # no profile: the naive conversion
    ("pillow-heif/non_heif/RGB_16__128x128.png", "pillow-heif/heif/RGB_10__128x128.heif", 3.0),
]


@pytest.mark.parametrize("odd,plain,bound", SIBLINGS, ids=[s[0] for s in SIBLINGS])
def test_real_odd_mode_files_look_like_their_plain_siblings(corpus, odd, plain, bound):
    a = decode(corpus.path(odd), embedder=Echo()).model_input
    b = decode(corpus.path(plain), embedder=Echo()).model_input
    assert a.shape == b.shape
    assert mae(a, b) <= bound


@pytest.mark.parametrize("file_id,white", [
    ("pillow-heif/non_heif/L_16__128x128.png", 65535),  # 16-bit PNG: a grey ramp
    ("pillow/16bit.cropped.tif", 65535),
    ("pillow/12bit.cropped.tif", 4095),  # BitsPerSample 12
    ("pillow/ifd_tag_type.tiff", 65535),
])
def test_real_wide_greys_keep_their_levels(corpus, file_id, white):
    path = corpus.path(file_id)
    with Image.open(path) as im:
        raw = np.asarray(im).astype(float)
    want = np.rint(np.clip(raw * 255 / white, 0, 255))
    got = decode(path, embedder=Echo()).model_input
    assert mae(got[..., 0], want) < EXACT and (got[..., 0] == got[..., 2]).all()


def test_every_real_odd_mode_file_decodes_to_srgb(corpus):
    odd = [e for e in corpus.select("decodes") if any(
        k.startswith("mode:") and k not in ("mode:RGB", "mode:L") for k in e.kinds) or "16-bit" in e.kinds]
    assert len(odd) >= 40
    failed = {}
    for e in odd:
        try:
            d = decode(corpus.path(e), embedder=Echo())
        except DecodeError as exc:
            if e.format.upper() in ("JPEG", "MPO", "PNG", "WEBP", "GIF", "BMP", "TIFF", "HEIC", "HEIF", "AVIF"):
                failed[e.id] = str(exc)
            continue
        assert d.model_input.dtype == np.uint8 and d.model_input.shape[2] == 3
    assert not failed


def test_a_viewer_gets_the_picture_by_the_same_steps_as_indexing(tmp_path, corpus):
    """Issue 19's viewer: upright, sRGB, at the size asked or in full; HEIC
    through the same path; a RAW LibRaw cannot develop refused with the
    reason the catalog records (tests/core/test_raw.py: the RAW it can)."""
    from clipdesk.core.imaging import picture

    turned = tmp_path / "turned.jpg"
    make_photo(turned, (320, 240), seed=2, orientation=6, make="Canon", model="Canon EOS R6")
    full = picture(turned)
    assert full.size == (240, 320) and full.image.size == (240, 320) and full.image.mode == "RGB"
    small = picture(turned, max_side=100)
    assert small.size == (240, 320) and max(small.image.size) == 100 and small.image.size[1] == 100
    assert np.abs(np.asarray(small.image.resize((24, 32)), np.int16)
                  - np.asarray(full.image.resize((24, 32)), np.int16)).mean() < 6
    heic = next(e for e in corpus.select("format:heic", "decodes", "camera") if 0 < e.width * e.height < 20_000_000)
    shown = picture(corpus.path(heic), max_side=512)
    assert shown.size == (decode(corpus.path(heic)).width, decode(corpus.path(heic)).height)
    assert max(shown.image.size) <= 512 and shown.metadata.camera
    raw = next(e for e in corpus.select("raw") if e.id.endswith(".cr2"))  # metadata, no sensor data
    with pytest.raises(DecodeError, match="LibRaw"):
        picture(corpus.path(raw))
    with pytest.raises(DecodeError, match="vanished"):
        picture(tmp_path / "gone.jpg")

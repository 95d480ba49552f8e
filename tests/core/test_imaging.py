import io
import os
import struct
import subprocess
import sys
import textwrap
import zlib

import numpy as np
import pytest
from PIL import Image, ImageOps

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

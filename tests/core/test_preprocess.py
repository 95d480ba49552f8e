"""Preprocessing is data from preprocess_cfg.json and follows open_clip's arithmetic step by step.

These tests pin the arithmetic by hand (sizes truncated, crop offsets rounded
half to even, float32 normalisation); tests/parity compares with open_clip itself.
"""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from clipdesk.core.errors import ModelError
from clipdesk.core.preprocess import PreprocessConfig, Preprocessor, preprocessor_for
from support import photo_array

MEAN = (0.48145466, 0.4578275, 0.40821073)
STD = (0.26862954, 0.26130258, 0.27577711)


def _pp(**cfg) -> Preprocessor:
    return preprocessor_for({"size": 224, "mean": MEAN, "std": STD, **cfg})


def _normalise(img: Image.Image) -> np.ndarray:
    x = np.asarray(img, dtype=np.float32).transpose(2, 0, 1) / np.float32(255)
    return (x - np.asarray(MEAN, np.float32)[:, None, None]) / np.asarray(STD, np.float32)[:, None, None]


def _photo(w, h, seed=0) -> Image.Image:
    return Image.fromarray(photo_array(w, h, seed=seed))


def test_shortest_side_resize_truncates_then_crops_the_centre():
    img = _photo(640, 481)
    out = _pp()(img)
    # torchvision: long side int(224 * 640 / 481) = 298; crop left round(74 / 2) = 37.
    expected = _normalise(img.resize((298, 224), Image.Resampling.BICUBIC).crop((37, 0, 261, 224)))
    assert out.shape == (3, 224, 224) and out.dtype == np.float32 and out.flags.c_contiguous
    np.testing.assert_array_equal(out, expected)


def test_portrait_photos_crop_vertically():
    img = _photo(300, 500, seed=1)
    expected = _normalise(img.resize((224, 373), Image.Resampling.BICUBIC).crop((0, 74, 224, 298)))
    np.testing.assert_array_equal(_pp()(img), expected)


@pytest.mark.parametrize("width, left", [(225, 0), (227, 2), (229, 2), (231, 4)])
def test_crop_offsets_round_half_to_even_like_torchvision(width, left):
    # A 224-high image is not resized; (width - 224) / 2 is x.5 and Python rounds it to even.
    img = _photo(width, 224, seed=2)
    crop = _pp().resize_and_crop(img)
    np.testing.assert_array_equal(np.asarray(crop), np.asarray(img)[:, left : left + 224])


def test_an_image_of_the_right_size_is_not_resampled():
    img = _photo(224, 224, seed=3)
    np.testing.assert_array_equal(_pp()(img), _normalise(img))


def test_bilinear_is_honoured():
    img = _photo(400, 300, seed=4)
    expected = _normalise(img.resize((298, 224), Image.Resampling.BILINEAR).crop((37, 0, 261, 224)))
    np.testing.assert_array_equal(_pp(interpolation="bilinear")(img), expected)


def test_squash_resizes_straight_to_the_target():
    img = _photo(640, 360, seed=5)
    expected = _normalise(img.resize((224, 224), Image.Resampling.BICUBIC))
    np.testing.assert_array_equal(_pp(resize_mode="squash")(img), expected)


def test_longest_side_fits_and_pads_with_the_fill_colour():
    img = _photo(640, 480, seed=6)
    out = _pp(resize_mode="longest", fill_color=255)(img)
    # ratio = 640 / 224: the image becomes 224 x 168, padded by 28 rows above and below.
    inner = _normalise(img.resize((224, 168), Image.Resampling.BICUBIC))
    np.testing.assert_array_equal(out[:, 28:196], inner)
    white = _normalise(Image.new("RGB", (1, 1), (255, 255, 255)))[:, 0, 0]
    np.testing.assert_array_equal(out[:, 0, 0], white)
    np.testing.assert_array_equal(out[:, 223, 223], white)


def test_non_square_targets_keep_the_ratio_then_crop():
    pp = preprocessor_for({"size": [224, 320], "interpolation": "bilinear"})
    img = _photo(1000, 500, seed=7)
    # ratio = min(500/224, 1000/320) = 2.232..; size = round(1000/r), round(500/r) = 448 x 224;
    # open_clip's ResizeKeepRatio is always bicubic here.
    expected = img.resize((448, 224), Image.Resampling.BICUBIC).crop((64, 0, 384, 224))
    assert pp(img).shape == (3, 224, 320)
    np.testing.assert_array_equal(pp.resize_and_crop(img), expected)


def test_normalisation_is_float32_mean_std():
    img = Image.new("RGB", (300, 300), (10, 128, 250))
    out = _pp()(img)
    for c, v in enumerate((10, 128, 250)):
        want = (np.float32(v) / np.float32(255) - np.float32(MEAN[c])) / np.float32(STD[c])
        assert np.all(out[c] == want)


@pytest.mark.parametrize("mode", ["L", "RGBA", "P", "CMYK"])
def test_other_modes_become_rgb_first(mode):
    img = _photo(300, 260, seed=8).convert(mode)
    out = _pp()(img)
    np.testing.assert_array_equal(out, _pp()(img.convert("RGB")))


def test_min_input_side_is_the_larger_target_side():
    assert _pp().min_input_side == 224
    assert preprocessor_for({"size": [256, 384]}).min_input_side == 384


def test_defaults_are_open_clips():
    cfg = PreprocessConfig.from_dict({"size": 224})
    assert (cfg.mean, cfg.std, cfg.interpolation, cfg.resize_mode) == (MEAN, STD, "bicubic", "shortest")
    assert PreprocessConfig.from_dict({}, default_size=336).size == (336, 336)


@pytest.mark.parametrize(
    "cfg, why",
    [
        ({}, "no usable size"),
        ({"size": [1, 2, 3]}, "no usable size"),
        ({"size": 224, "interpolation": "lanczos"}, "unknown interpolation"),
        ({"size": 224, "resize_mode": "crop"}, "unknown resize_mode"),
        ({"size": 224, "std": [0.2, 0, 0.2]}, "not positive"),
        ({"size": 224, "mean": [0.5, 0.5]}, "malformed mean"),
        ({"size": 0}, "implausible size"),
    ],
)
def test_configs_we_cannot_honour_are_model_errors(cfg, why):
    with pytest.raises(ModelError, match=why):
        PreprocessConfig.from_dict(cfg, model_id="m")

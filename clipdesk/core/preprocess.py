"""Image preprocessing driven by a bundle's ``visual/preprocess_cfg.json``.

It reproduces open_clip's inference transform (``open_clip.image_transform``
with ``is_train=False``) step by step, because torchvision on a PIL image is
Pillow underneath:

* ``shortest`` with a square size: resize so the shorter side is S and the
  longer one ``int(S * long / short)`` (truncated, as torchvision computes
  it), with Pillow's bicubic or bilinear filter (Pillow always antialiases),
  then a center crop whose offsets are ``int(round((H - S) / 2))``: Python's
  round, half to even.
* ``shortest`` with a non-square size: scale by ``min(h/th, w/tw)`` with each
  side rounded, always bicubic (open_clip's ``ResizeKeepRatio`` is built
  without the configured filter), then the same center crop.
* ``squash``: resize straight to the target size.
* ``longest``: scale so the image fits, pad with ``fill_color`` where it is
  smaller, center crop.
* to tensor (uint8 / 255 in float32), then ``(x - mean) / std`` in float32.

A resize to the size the image already has is skipped, as torchvision skips it.
One deliberate difference: the image is converted to RGB before resizing
(open_clip converts after), so palette images are filtered in colour instead
of with Pillow's nearest-neighbour fallback for mode "P". The decode step hands
RGB images anyway.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np
from PIL import Image

from clipdesk.core.errors import ModelError

_FILTERS = {
    "bicubic": Image.Resampling.BICUBIC,
    "bilinear": Image.Resampling.BILINEAR,
    # open_clip accepts "random" and treats it as bicubic at inference time.
    "random": Image.Resampling.BICUBIC,
}
_MODES = ("shortest", "squash", "longest")

#: open_clip's defaults (OpenAI CLIP's statistics), used for keys a config leaves out.
OPENAI_MEAN = (0.48145466, 0.4578275, 0.40821073)
OPENAI_STD = (0.26862954, 0.26130258, 0.27577711)


@dataclass(frozen=True)
class PreprocessConfig:
    #: Target (height, width).
    size: tuple[int, int]
    mean: tuple[float, float, float] = OPENAI_MEAN
    std: tuple[float, float, float] = OPENAI_STD
    interpolation: str = "bicubic"
    resize_mode: str = "shortest"
    fill_color: int = 0

    @classmethod
    def from_dict(cls, cfg: Mapping[str, Any], *, default_size: int | None = None, model_id: str = "?") -> "PreprocessConfig":
        """Read a ``preprocess_cfg.json`` dict; raise ModelError for anything we cannot honour."""

        def bad(why: str) -> ModelError:
            return ModelError(f"model {model_id} is corrupt: visual/preprocess_cfg.json {why}")

        size = cfg.get("size", default_size)
        if isinstance(size, (int, float)) and not isinstance(size, bool):
            hw = (int(size), int(size))
        elif isinstance(size, (list, tuple)) and len(size) == 1:
            hw = (int(size[0]), int(size[0]))
        elif isinstance(size, (list, tuple)) and len(size) == 2:
            hw = (int(size[0]), int(size[1]))
        else:
            raise bad(f"has no usable size ({size!r})")
        if min(hw) <= 0 or max(hw) > 4096:
            raise bad(f"has an implausible size {hw}")

        def triple(key: str, default: tuple[float, float, float]) -> tuple[float, float, float]:
            value = cfg.get(key)
            if value is None:
                return default
            if isinstance(value, (int, float)):
                value = (value,) * 3
            if not isinstance(value, (list, tuple)) or len(value) != 3:
                raise bad(f"has a malformed {key} ({value!r})")
            out = tuple(float(v) for v in value)
            if not all(np.isfinite(out)):
                raise bad(f"has a non-finite {key}")
            return out  # type: ignore[return-value]

        mean = triple("mean", OPENAI_MEAN)
        std = triple("std", OPENAI_STD)
        if any(s <= 0 for s in std):
            raise bad("has a std that is not positive")
        interpolation = str(cfg.get("interpolation") or "bicubic").lower()
        if interpolation not in _FILTERS:
            raise bad(f"asks for an unknown interpolation {interpolation!r}")
        mode = str(cfg.get("resize_mode") or "shortest").lower()
        if mode not in _MODES:
            raise bad(f"asks for an unknown resize_mode {mode!r}")
        fill = cfg.get("fill_color", 0)
        if not isinstance(fill, int):
            raise bad(f"has a malformed fill_color ({fill!r})")
        return cls(hw, mean, std, interpolation, mode, fill)

    @property
    def min_input_side(self) -> int:
        """How long the decoded image's shorter side must stay (JPEG draft mode).

        Below this the resize would enlarge the image, so a DCT-scaled decode
        must not go smaller. ``longest`` only needs the longer side at full
        size, but a square bound keeps the rule the same for every mode.
        """
        return max(self.size)


class Preprocessor:
    """PIL image -> float32 [3, H, W] model input, exactly as open_clip builds it."""

    def __init__(self, config: PreprocessConfig):
        self.config = config
        self._filter = _FILTERS[config.interpolation]
        self._mean = np.asarray(config.mean, dtype=np.float32).reshape(3, 1, 1)
        self._std = np.asarray(config.std, dtype=np.float32).reshape(3, 1, 1)

    @property
    def min_input_side(self) -> int:
        return self.config.min_input_side

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return (3, *self.config.size)

    def resize_and_crop(self, image: Image.Image) -> Image.Image:
        """The geometric part of the transform (RGB in, RGB of the target size out)."""
        if image.mode != "RGB":
            image = image.convert("RGB")
        th, tw = self.config.size
        mode = self.config.resize_mode
        if mode == "squash":
            return self._resize(image, tw, th, self._filter)
        if mode == "longest":
            w, h = image.size
            ratio = max(h / th, w / tw)
            image = self._resize(image, round(w / ratio), round(h / ratio), self._filter)
            return _center_crop_or_pad(image, th, tw, self.config.fill_color)
        # shortest
        w, h = image.size
        if th == tw:
            short, long_ = (w, h) if w <= h else (h, w)
            new_short, new_long = th, int(th * long_ / short)
            new_w, new_h = (new_short, new_long) if w <= h else (new_long, new_short)
            image = self._resize(image, new_w, new_h, self._filter)
        else:
            ratio = min(h / th, w / tw)
            image = self._resize(image, round(w / ratio), round(h / ratio), Image.Resampling.BICUBIC)
        return _center_crop_or_pad(image, th, tw, 0)

    def __call__(self, image: Image.Image) -> np.ndarray:
        return self.to_input(self.resize_and_crop(image))

    def to_input(self, image: Image.Image) -> np.ndarray:
        """RGB image of the target size -> normalised float32 [3, H, W]."""
        arr = np.asarray(image, dtype=np.uint8)
        chw = arr.transpose(2, 0, 1).astype(np.float32)
        chw /= np.float32(255.0)
        chw -= self._mean
        chw /= self._std
        return np.ascontiguousarray(chw)

    @staticmethod
    def _resize(image: Image.Image, w: int, h: int, resample: Image.Resampling) -> Image.Image:
        w, h = max(1, int(w)), max(1, int(h))
        if image.size == (w, h):
            return image
        return image.resize((w, h), resample)


def _center_crop_or_pad(image: Image.Image, th: int, tw: int, fill: int) -> Image.Image:
    w, h = image.size
    if tw > w or th > h:
        pad_left = (tw - w) // 2 if tw > w else 0
        pad_top = (th - h) // 2 if th > h else 0
        pad_right = (tw - w + 1) // 2 if tw > w else 0
        pad_bottom = (th - h + 1) // 2 if th > h else 0
        canvas = Image.new("RGB", (w + pad_left + pad_right, h + pad_top + pad_bottom), (fill,) * 3)
        canvas.paste(image, (pad_left, pad_top))
        image = canvas
        w, h = image.size
        if (w, h) == (tw, th):
            return image
    top = int(round((h - th) / 2.0))
    left = int(round((w - tw) / 2.0))
    if (left, top, w, h) == (0, 0, tw, th):
        return image
    return image.crop((left, top, left + tw, top + th))


def preprocessor_for(cfg: Mapping[str, Any], *, default_size: int | None = None, model_id: str = "?") -> Preprocessor:
    return Preprocessor(PreprocessConfig.from_dict(cfg, default_size=default_size, model_id=model_id))

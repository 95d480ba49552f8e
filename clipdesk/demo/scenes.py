"""Photo-like scenes composed from Fashion-MNIST: the world of ClipDesk's own small CLIP.

Each scene is one to three clothing items over a background. An item is a
Fashion-MNIST image used as a mask and filled with a named colour, shaded by
the item's own grey levels, at a random size and position. Backgrounds are
plain colours or procedural textures (sky, grass, sand, water, snow, wood,
night). Captions are written the way people type queries, with synonyms.

The same module serves three users, so that they all see the same world:

* ``models/train_mini`` trains the model on scenes from the *train* split and
  evaluates it on scenes from the *test* split;
* ``clipdesk demo`` writes a demo photo folder from the held-out test items
  shipped under ``resources/demo/`` (:func:`write_demo_library`);
* the evaluation through the app (files on disk -> index -> search) uses
  :func:`write_scenes` and the protocol helpers at the end of this module.

Everything is deterministic given a seed. numpy and Pillow only.
"""

from __future__ import annotations

import functools
import gzip
import io
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
from PIL import Image

log = logging.getLogger(__name__)

#: Side of every scene, in pixels (the model's input size: no resize needed).
SCENE_SIZE = 96
#: JPEG quality of scenes written to disk; the model's evaluation round-trips
#: scenes through exactly this encoding.
JPEG_QUALITY = 90
#: Default seed of the demo library.
DEMO_SEED = 2024
#: Where Debian's ``dataset-fashion-mnist`` package installs the data set.
FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")
#: The held-out items shipped for the demo library, relative to resources/.
DEMO_ITEMS = Path("demo") / "fashion_mnist_test_items.npz"


# -- the vocabulary of the world ------------------------------------------------


@dataclass(frozen=True)
class ItemKind:
    """One Fashion-MNIST class and the words people use for it."""

    label: int
    name: str
    #: (singular, plural) pairs; the first is the canonical name.
    words: tuple[tuple[str, str], ...]
    #: Worn in pairs: "red trainers" may describe one item, counts say "pairs of".
    pair: bool = False


ITEMS: tuple[ItemKind, ...] = (
    ItemKind(0, "t-shirt", (("t-shirt", "t-shirts"), ("top", "tops"), ("tee", "tees"))),
    ItemKind(1, "trousers", (("trousers", "trousers"), ("pants", "pants"), ("jeans", "jeans")), pair=True),
    ItemKind(2, "pullover", (("pullover", "pullovers"), ("sweater", "sweaters"), ("jumper", "jumpers"))),
    ItemKind(3, "dress", (("dress", "dresses"),)),
    ItemKind(4, "coat", (("coat", "coats"), ("jacket", "jackets"))),
    ItemKind(5, "sandal", (("sandal", "sandals"),), pair=True),
    ItemKind(6, "shirt", (("shirt", "shirts"),)),
    ItemKind(7, "sneaker", (("sneaker", "sneakers"), ("trainer", "trainers"), ("shoe", "shoes")), pair=True),
    ItemKind(8, "bag", (("bag", "bags"), ("handbag", "handbags"), ("purse", "purses"))),
    ItemKind(9, "ankle boot", (("ankle boot", "ankle boots"), ("boot", "boots")), pair=True),
)
ITEM_NAMES: tuple[str, ...] = tuple(k.name for k in ITEMS)
#: Nouns that are plural even for one item ("trousers", "jeans").
_ALWAYS_PLURAL = {"trousers", "pants", "jeans"}

#: Colour name -> (shadow RGB, highlight RGB); an item's grey level picks a
#: shade between the two.
COLOURS: dict[str, tuple[tuple[int, int, int], tuple[int, int, int]]] = {
    "red": ((120, 8, 12), (245, 60, 50)),
    "orange": ((160, 70, 5), (255, 165, 40)),
    "yellow": ((170, 150, 10), (255, 240, 70)),
    "green": ((15, 95, 25), (80, 200, 70)),
    "blue": ((10, 30, 130), (60, 120, 250)),
    "purple": ((70, 15, 110), (170, 80, 220)),
    "pink": ((200, 80, 140), (255, 180, 215)),
    "brown": ((70, 38, 14), (150, 95, 50)),
    "black": ((8, 8, 10), (62, 62, 66)),
    "white": ((200, 200, 196), (255, 255, 255)),
    "gray": ((95, 95, 98), (165, 165, 168)),
}
COLOUR_NAMES: tuple[str, ...] = tuple(COLOURS)
_COLOUR_WORDS = {"gray": ("gray", "grey")}

BACKGROUNDS: tuple[str, ...] = ("plain", "sky", "grass", "sand", "water", "snow", "wood", "night")
#: How captions mention each background ("" = not at all).
_BACKGROUND_PHRASES: dict[str, tuple[str, ...]] = {
    "plain": ("", "", "", "on a plain background", "on a studio background"),
    "sky": ("against the sky", "under the sky", "in front of the sky", "with sky behind"),
    "grass": ("on grass", "on the grass", "on a lawn", "in the grass"),
    "sand": ("on sand", "on the sand", "on the beach", "on a sandy beach"),
    "water": ("on water", "in the water", "on the sea", "over water"),
    "snow": ("in the snow", "on snow", "on the snow", "in snow"),
    "wood": ("on wood", "on a wooden table", "on a wooden floor", "on wooden boards"),
    "night": ("at night", "in the dark", "at night time", "under a night sky"),
}
#: Plain backdrop colours (studio paper).
_PLAIN_COLOURS = (
    (236, 236, 234), (246, 240, 226), (205, 205, 208), (225, 230, 240),
    (242, 226, 226), (70, 72, 76), (226, 238, 226), (180, 178, 172),
)
_NUMBERS = {2: ("two", "2"), 3: ("three", "3")}
_PREFIXES = ("", "", "", "a photo of ", "a picture of ", "photo of ", "an image of ", "a shot of ")


# -- data ----------------------------------------------------------------------


def _read_idx(path: Path) -> np.ndarray:
    """An idx file (gzip or plain) -> uint8 array of the shape its header declares."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as fh:
        data = fh.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte idx file")
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    body = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if body.size != int(np.prod(dims)):
        raise ValueError(f"{path}: expected {dims}, found {body.size} bytes")
    return body.reshape(dims)


def load_fashion_mnist(split: str, root: Path = FASHION_MNIST_DIR) -> tuple[np.ndarray, np.ndarray]:
    """``split`` "train" or "test" -> (images uint8 [N,28,28], labels uint8 [N])."""
    prefix = {"train": "train", "test": "t10k"}[split]
    images = _read_idx(Path(root) / f"{prefix}-images-idx3-ubyte.gz")
    labels = _read_idx(Path(root) / f"{prefix}-labels-idx1-ubyte.gz")
    if images.shape[0] != labels.shape[0]:
        raise ValueError(f"{root}: {images.shape[0]} images but {labels.shape[0]} labels")
    return images, labels


def load_demo_items(resources_dir: Path | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The held-out test items shipped with the app -> (images, labels)."""
    if resources_dir is None:
        from clipdesk.core.paths import Paths

        resources_dir = Paths.from_env().resources_dir
    with np.load(Path(resources_dir) / DEMO_ITEMS) as data:
        return data["images"], data["labels"]


# -- scenes --------------------------------------------------------------------


@dataclass(frozen=True)
class PlacedItem:
    index: int  # into the item images
    label: int
    colour: str
    x: int
    y: int
    size: int
    flip: bool
    tint: tuple[float, float, float]  # small per-item colour variation

    @property
    def kind(self) -> ItemKind:
        return ITEMS[self.label]


@dataclass(frozen=True)
class Scene:
    items: tuple[PlacedItem, ...]
    background: str
    texture_seed: int
    plain_rgb: tuple[int, int, int]

    @property
    def same_kind(self) -> bool:
        """All items share class and colour ("two blue bags")."""
        return len({(it.label, it.colour) for it in self.items}) == 1


_SIZES = {1: (44, 84), 2: (34, 56), 3: (30, 46)}
_AVOID = {  # colours that would vanish into a background
    "sky": {"blue"}, "water": {"blue"}, "grass": {"green"}, "sand": {"yellow"},
    "snow": {"white"}, "wood": {"brown", "orange"}, "night": {"black"},
}


@functools.lru_cache(maxsize=None)
def _plain_avoids(rgb: tuple[int, int, int]) -> frozenset[str]:
    out = set()
    for name, (dark, light) in COLOURS.items():
        mid = (np.asarray(dark) + np.asarray(light)) / 2
        if np.linalg.norm(mid - np.asarray(rgb)) < 80:
            out.add(name)
    return frozenset(out)


def _by_label(labels: np.ndarray) -> list[np.ndarray]:
    return [np.flatnonzero(labels == k) for k in range(len(ITEMS))]


def sample_scene(
    rng: np.random.Generator,
    labels: np.ndarray,
    n_items: int | None = None,
    size: int = SCENE_SIZE,
    *,
    _pools: list[np.ndarray] | None = None,
) -> Scene:
    """A random scene whose items are drawn from images with these ``labels``."""
    pools = _pools if _pools is not None else _by_label(labels)
    if n_items is None:
        n_items = int(rng.choice([1, 2, 3], p=[0.4, 0.35, 0.25]))
    background = BACKGROUNDS[int(rng.integers(len(BACKGROUNDS)))]
    plain_rgb = _PLAIN_COLOURS[int(rng.integers(len(_PLAIN_COLOURS)))]
    avoid = _AVOID.get(background, set()) | (_plain_avoids(plain_rgb) if background == "plain" else set())
    allowed = [c for c in COLOUR_NAMES if c not in avoid]
    same = n_items > 1 and rng.random() < 0.4

    def pick_kind() -> tuple[int, str]:
        return int(rng.integers(len(ITEMS))), allowed[int(rng.integers(len(allowed)))]

    kinds = [pick_kind()] * n_items if same else [pick_kind() for _ in range(n_items)]
    lo, hi = _SIZES[n_items]
    # Items go into separate cells of a shuffled grid, with jitter, so they rarely hide each other.
    cells = [(0, 0)] if n_items == 1 else [(i, j) for i in range(2) for j in range(2)]
    order = rng.permutation(len(cells))
    items = []
    for slot, (label, colour) in enumerate(kinds):
        s = int(rng.integers(lo, hi + 1))
        if n_items == 1:
            x = int(rng.integers(0, size - s + 1))
            y = int(rng.integers(0, size - s + 1))
        else:
            ci, cj = cells[order[slot]]
            half = size // 2
            cx = half * cj + half // 2 + int(rng.integers(-6, 7))
            cy = half * ci + half // 2 + int(rng.integers(-6, 7))
            x = int(np.clip(cx - s // 2, 0, size - s))
            y = int(np.clip(cy - s // 2, 0, size - s))
        pool = pools[label]
        index = int(pool[int(rng.integers(len(pool)))])
        tint = tuple(float(v) for v in rng.uniform(0.9, 1.1, 3))
        items.append(PlacedItem(index, label, colour, x, y, s, bool(rng.random() < 0.5), tint))
    return Scene(tuple(items), background, int(rng.integers(2**31)), plain_rgb)


def _value_noise(rng: np.random.Generator, size: int, cells: int) -> np.ndarray:
    """Smooth noise in [0, 1], float32 [size, size]."""
    small = (rng.random((cells, cells)) * 255).astype(np.uint8)
    img = Image.fromarray(small, "L").resize((size, size), Image.Resampling.BICUBIC)
    return np.asarray(img, dtype=np.float32) / 255.0


#: Procedural textures come in this many variants per background (cached), each
#: seen in four orientations: rendering stays cheap enough to make scenes on the fly.
TEXTURE_VARIANTS = 48


def render_background(scene: Scene, size: int = SCENE_SIZE) -> np.ndarray:
    """uint8 [size, size, 3]."""
    variant = scene.texture_seed % TEXTURE_VARIANTS
    plain = scene.plain_rgb if scene.background == "plain" else None
    img = _texture(scene.background, variant, plain, size)
    turn = (scene.texture_seed // TEXTURE_VARIANTS) % 4
    if turn & 1:
        img = img[:, ::-1]
    if turn & 2 and scene.background in ("grass", "wood", "plain", "snow"):
        img = img[::-1]  # sky and night keep their up
    return np.ascontiguousarray(img)


@functools.lru_cache(maxsize=1024)
def _texture(bg: str, variant: int, plain_rgb: tuple[int, int, int] | None, size: int) -> np.ndarray:
    rng = np.random.default_rng([BACKGROUNDS.index(bg), variant, size])
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size

    def mix(a, b, t):
        t = t[..., None]
        return np.asarray(a, np.float32) * (1 - t) + np.asarray(b, np.float32) * t

    if bg == "plain":
        base = np.asarray(plain_rgb, np.float32)
        img = base * (1.0 - 0.08 * ((xx - 0.5) ** 2 + (yy - 0.5) ** 2))[..., None]
        img = np.broadcast_to(img, (size, size, 3)).copy()
    elif bg == "sky":
        img = mix((70, 130, 220), (175, 210, 245), yy + 0.1 * rng.standard_normal())
        clouds = np.clip((_value_noise(rng, size, 5) - 0.55) * 3.0, 0, 1)
        img = mix(img, (250, 250, 252), clouds * 0.9)
    elif bg == "grass":
        n = _value_noise(rng, size, 12) * 0.6 + _value_noise(rng, size, 40) * 0.4
        blades = np.sin(xx * size * rng.uniform(2.0, 3.0) + 3 * _value_noise(rng, size, 6)) * 0.5 + 0.5
        img = mix((35, 95, 25), (110, 175, 60), np.clip(0.7 * n + 0.3 * blades, 0, 1))
    elif bg == "sand":
        n = _value_noise(rng, size, 30)
        ripples = np.sin((yy + 0.15 * _value_noise(rng, size, 4)) * rng.uniform(20, 35)) * 0.5 + 0.5
        img = mix((200, 170, 115), (238, 216, 165), np.clip(0.6 * n + 0.4 * ripples, 0, 1))
    elif bg == "water":
        warp = _value_noise(rng, size, 5)
        waves = np.sin((yy * rng.uniform(25, 40)) + 6 * warp + xx * 3) * 0.5 + 0.5
        img = mix((15, 60, 120), (60, 130, 190), waves * 0.7 + 0.3 * _value_noise(rng, size, 16))
        crest = np.clip((waves - 0.9) * 8, 0, 1)
        img = mix(img, (200, 225, 240), crest * 0.6)
    elif bg == "snow":
        n = _value_noise(rng, size, 8)
        img = mix((205, 215, 230), (250, 251, 255), 0.6 + 0.4 * n)
        flakes = rng.random((size, size)) > 0.985
        img[flakes] = 255
    elif bg == "wood":
        grain = _value_noise(rng, size, 6)
        rings = np.sin((xx * rng.uniform(30, 50)) + 8 * grain) * 0.5 + 0.5
        img = mix((110, 65, 30), (185, 130, 80), 0.65 * rings + 0.35 * _value_noise(rng, size, 24))
        planks = (np.floor(yy * rng.integers(3, 6)) % 2).astype(np.float32)
        img *= (0.92 + 0.08 * planks)[..., None]
        seams = (np.abs((yy * 4) % 1 - 0.0) < 0.015)
        img[seams] *= 0.6
    elif bg == "night":
        img = mix((5, 8, 30), (25, 30, 70), yy * 0.8 + 0.2 * _value_noise(rng, size, 4))
        stars = rng.random((size, size)) > 0.99
        img[stars] = rng.uniform(180, 255, (int(stars.sum()), 1))
    else:
        raise ValueError(f"unknown background {bg!r}")
    out = np.clip(img + 0.5, 0, 255).astype(np.uint8)
    out.flags.writeable = False
    return out


_RAMP = np.linspace(0.0, 1.0, 256, dtype=np.float32)
#: Grey level -> opacity: the item's own pixels are its mask.
_ALPHA_LUT = (np.clip((_RAMP - 0.02) / 0.12, 0.0, 1.0) * 255 + 0.5).astype(np.uint8)


def render_scene(scene: Scene, images: np.ndarray, size: int = SCENE_SIZE) -> np.ndarray:
    """A scene -> RGB uint8 [size, size, 3]."""
    canvas = Image.fromarray(render_background(scene, size), "RGB")
    for it in scene.items:
        grey = Image.fromarray(images[it.index], "L")
        if it.flip:
            grey = grey.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        g = np.asarray(grey.resize((it.size, it.size), Image.Resampling.BICUBIC))
        # Shade from the colour's shadow to its highlight by grey level, relative to the item's brightest pixel.
        peak = max(int(g.max()), 1)
        shade = np.clip(_RAMP * (255.0 / peak), 0.0, 1.0)[:, None]
        dark, light = (np.asarray(c, np.float32) for c in COLOURS[it.colour])
        lut = np.clip((dark + (light - dark) * shade) * np.asarray(it.tint, np.float32) + 0.5, 0, 255).astype(np.uint8)
        canvas.paste(Image.fromarray(lut[g], "RGB"), (it.x, it.y), Image.fromarray(_ALPHA_LUT[g], "L"))
    return np.asarray(canvas)


# -- captions ------------------------------------------------------------------


def _noun(kind: ItemKind, rng: np.random.Generator | None, plural: bool) -> str:
    pair = kind.words[0] if rng is None else kind.words[int(rng.integers(len(kind.words)))]
    return pair[1] if plural else pair[0]


def _colour_word(colour: str, rng: np.random.Generator | None) -> str:
    words = _COLOUR_WORDS.get(colour, (colour,))
    return words[0] if rng is None else words[int(rng.integers(len(words)))]


def _group_phrase(
    kind: ItemKind, colour: str | None, count: int, rng: np.random.Generator | None, article: bool
) -> str:
    """ "a red sneaker", "two blue bags", "red trainers", "2 pairs of black jeans"."""
    bare_plural = count == 1 and kind.pair and rng is not None and rng.random() < 0.35
    noun = _noun(kind, rng, plural=count > 1 or bare_plural)
    col = f"{_colour_word(colour, rng)} " if colour else ""
    if count > 1:
        num = _NUMBERS[count][0] if rng is None else _NUMBERS[count][int(rng.random() < 0.15)]
        if noun in _ALWAYS_PLURAL:
            return f"{num} pairs of {col}{noun}"
        return f"{num} {col}{noun}"
    if noun in _ALWAYS_PLURAL:
        return f"a pair of {col}{noun}" if article and (rng is None or rng.random() < 0.4) else f"{col}{noun}"
    if bare_plural or not article:
        return f"{col}{noun}"
    first = (col or noun)[0]
    return f"{'an' if first in 'aeiou' else 'a'} {col}{noun}"


def _groups(scene: Scene) -> list[tuple[ItemKind, str, int]]:
    out: list[tuple[ItemKind, str, int]] = []
    for it in scene.items:
        for i, (kind, colour, n) in enumerate(out):
            if kind.label == it.label and colour == it.colour:
                out[i] = (kind, colour, n + 1)
                break
        else:
            out.append((it.kind, it.colour, 1))
    return out


def _join(parts: list[str], rng: np.random.Generator | None) -> str:
    if len(parts) == 1:
        return parts[0]
    conj = " and " if rng is None else (" and ", " and ", " & ", ", ", " with ")[int(rng.integers(5))]
    if conj == ", " or len(parts) == 2:
        return conj.join(parts) if conj == ", " else ", ".join(parts[:-1]) + conj + parts[-1]
    return ", ".join(parts[:-1]) + conj + parts[-1]


def describe(scene: Scene) -> str:
    """The canonical caption: every item, its colour and count, and the background."""
    parts = [_group_phrase(k, c, n, None, article=True) for k, c, n in _groups(scene)]
    bg = _BACKGROUND_PHRASES[scene.background][0]
    text = _join(parts, None)
    return f"{text} {bg}".strip()


def caption(
    scene: Scene, rng: np.random.Generator, *, colour_only: float = 0.06, item_only: float = 0.06,
    one_group: float = 0.2,
) -> str:
    """A random caption, the way a person might type it.

    ``colour_only`` and ``item_only`` are the shares of captions that name only
    the colours ("something red") or only the items ("a coat"); ``one_group`` is
    the share of the other captions of multi-item scenes that mention one item
    group only. The defaults are the mix the demo and tests use; the training
    script picks its own."""
    groups = _groups(scene)
    r = rng.random()
    article = rng.random() < 0.6
    if r < colour_only:  # colour only: "something red", "red and blue things"
        cols = list(dict.fromkeys(_colour_word(c, rng) for _, c, _ in groups))
        text = (f"something {cols[0]}" if rng.random() < 0.5 else f"{cols[0]} clothes") if len(cols) == 1 else (
            " and ".join(cols) + " things")
    elif r < colour_only + item_only:  # item only
        text = _join([_group_phrase(k, None, n, rng, article) for k, _, n in groups], rng)
    else:
        if len(groups) > 1 and rng.random() < one_group:  # mention one group only
            groups = [groups[int(rng.integers(len(groups)))]]
        else:
            groups = [groups[i] for i in rng.permutation(len(groups))]
        text = _join([_group_phrase(k, c, n, rng, article) for k, c, n in groups], rng)
    bg_phrases = _BACKGROUND_PHRASES[scene.background]
    bg = bg_phrases[int(rng.integers(len(bg_phrases)))] if rng.random() < 0.75 else ""
    prefix = _PREFIXES[int(rng.integers(len(_PREFIXES)))] if article else ""
    return f"{prefix}{text} {bg}".strip()


# -- writing scenes to disk ----------------------------------------------------


def make_scenes(
    labels: np.ndarray, count: int, seed: int, n_items: int | None = None, size: int = SCENE_SIZE
) -> list[Scene]:
    """``count`` scenes; scene ``i`` depends only on (seed, i)."""
    pools = _by_label(labels)
    return [
        sample_scene(np.random.default_rng([seed, i]), labels, n_items, size, _pools=pools)
        for i in range(count)
    ]


def encode_jpeg(pixels: np.ndarray, quality: int = JPEG_QUALITY) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(pixels, "RGB").save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def ground_truth(scene: Scene, file: str) -> dict:
    return {
        "file": file,
        "caption": describe(scene),
        "background": scene.background,
        "items": [
            {"item": it.kind.name, "label": it.label, "colour": it.colour,
             "box": [it.x, it.y, it.size, it.size]}
            for it in scene.items
        ],
    }


def scene_file_name(number: int, total: int) -> str:
    """``0001.jpg``: numbered from 1, at least four digits."""
    return f"{number:0{max(4, len(str(total)))}d}.jpg"


def write_scenes(dest: Path, scenes: Sequence[Scene], images: np.ndarray) -> list[dict]:
    """Write scenes as ``0001.jpg``... plus ``ground_truth.json``; returns its records.

    File names say nothing about the content, so that a search can only find
    a scene by what it shows.
    """
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    records = []
    for i, scene in enumerate(scenes, start=1):
        name = scene_file_name(i, len(scenes))
        (dest / name).write_bytes(encode_jpeg(render_scene(scene, images)))
        records.append(ground_truth(scene, name))
    (dest / "ground_truth.json").write_text(json.dumps(records, indent=1) + "\n", encoding="utf-8")
    log.info("wrote %d scenes to %s", len(records), dest)
    return records


def write_demo_library(
    dest: Path, count: int = 300, seed: int = DEMO_SEED, resources_dir: Path | None = None
) -> list[dict]:
    """The demo photo folder: ``count`` scenes made only of the shipped held-out items."""
    images, labels = load_demo_items(resources_dir)
    return write_scenes(dest, make_scenes(labels, count, seed), images)


# -- the evaluation protocol (model card numbers; the app's own evaluation) ----

#: Templates of the item prompt ensemble; each is filled with every synonym.
ITEM_TEMPLATES: tuple[str, ...] = ("a photo of a {}", "a {}", "{}", "a picture of a {}", "a photo of the {}")
#: Templates of the colour prompt ensemble.
COLOUR_TEMPLATES: tuple[str, ...] = ("something {}", "{} clothes", "a photo of something {}", "{}")
#: Seeds of the held-out evaluation sets (test split only).
EVAL_SINGLE_SEED = 7001
EVAL_LIBRARY_SEED = 7002


def evaluation_scenes(labels: np.ndarray, count: int = 2000) -> dict[str, list[Scene]]:
    """The model card's two held-out sets, given the *test* split's labels:
    "single" (one item each: item and colour accuracy) and "library" (one to
    three items: retrieval)."""
    return {
        "single": make_scenes(labels, count, EVAL_SINGLE_SEED, n_items=1),
        "library": make_scenes(labels, count, EVAL_LIBRARY_SEED),
    }


def write_evaluation_sets(dest: Path, count: int = 2000, root: Path = FASHION_MNIST_DIR) -> dict[str, list[dict]]:
    """Write the model card's evaluation scenes to ``dest/single`` and ``dest/library``
    (JPEG + ground_truth.json), so that the app's own pipeline can be scored on exactly
    the images the training script scored the model on."""
    images, labels = load_fashion_mnist("test", root)
    return {name: write_scenes(Path(dest) / name, scenes, images)
            for name, scenes in evaluation_scenes(labels, count).items()}


def item_prompts(label: int) -> list[str]:
    words = [singular for singular, _ in ITEMS[label].words]
    out = []
    for t in ITEM_TEMPLATES:
        for w in words:
            text = t.format(w)
            if w in _ALWAYS_PLURAL:
                text = text.replace(f"a {w}", f"a pair of {w}")
            elif w[0] in "aeiou":
                text = text.replace(f"a {w}", f"an {w}")
            out.append(text)
    return out


def colour_prompts(colour: str) -> list[str]:
    return [t.format(w) for t in COLOUR_TEMPLATES for w in _COLOUR_WORDS.get(colour, (colour,))]


def retrieval_queries(records: Sequence[dict]) -> list[tuple[str, set[str]]]:
    """Every "<colour> <item>" pair present in ``records`` -> (query, files showing one)."""
    out = []
    for colour in COLOUR_NAMES:
        for kind in ITEMS:
            files = {r["file"] for r in records
                     if any(i["colour"] == colour and i["label"] == kind.label for i in r["items"])}
            if files:
                out.append((f"{colour} {kind.name}", files))
    return out


def recall_at_k(ranked: Iterable[str], relevant: set[str], k: int = 10) -> float:
    """Share of the first ``k`` results that are relevant, out of at most ``k`` relevant.

    With many relevant scenes per query (every red sneaker in the library),
    this is ``|top-k ∩ relevant| / min(k, |relevant|)``: 1.0 when the first k
    results are all right or all the relevant scenes are among them.
    """
    top = list(ranked)[:k]
    return sum(f in relevant for f in top) / min(k, len(relevant))

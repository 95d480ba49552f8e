"""A tiny "colour CLIP" bundle with known meaning, for search and tagging tests.

Image tower: the mean of the normalised input per channel (a 3-d embedding
pointing the way of the photo's average colour). Text tower: each word has a
fixed 3-d vector (``red`` = (1, -1, -1), ...), averaged over the tokens. So
"red" really finds red photos and "-red" really pushes them away, through the
real engine, index and query code, with no trained weights.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from bundlekit import FLOAT, INT32, attr_int, attr_ints, graph, model, node, tensor, value_info

COLOURS = {
    "red": (255, 20, 20),
    "green": (20, 200, 20),
    "blue": (20, 20, 255),
    "yellow": (240, 230, 20),
    "white": (245, 245, 245),
    "black": (10, 10, 10),
}
WORDS = ["<pad>", "<unk>", "<start>", "<end>", *COLOURS, "photo", "a", "of"]


def _word_vector(word: str) -> np.ndarray:
    if word in COLOURS:
        rgb = np.array(COLOURS[word], np.float32) / 255.0
        return (rgb - 0.5) / 0.25  # what the image tower sees for that colour
    return np.zeros(3, np.float32)


def image_onnx(size: int) -> bytes:
    nodes = [node("ReduceMean", ["image"], ["embedding"], attr_ints("axes", [2, 3]), attr_int("keepdims", 0))]
    return model(graph(nodes, [value_info("image", FLOAT, ["batch", 3, size, size])],
                       [value_info("embedding", FLOAT, ["batch", 3])], []))


def text_onnx(ctx: int) -> bytes:
    table = np.stack([_word_vector(w) for w in WORDS]).astype(np.float32)
    nodes = [
        node("Gather", ["E", "text"], ["vectors"], attr_int("axis", 0)),
        node("ReduceSum", ["vectors", "axes"], ["embedding"], attr_int("keepdims", 0)),
    ]
    return model(graph(
        nodes,
        [value_info("text", INT32, ["batch", ctx])],
        [value_info("embedding", FLOAT, ["batch", 3])],
        [tensor("E", table), tensor("axes", np.array([1], np.int64), data_type=7)],
    ))


def tokenizer_json() -> str:
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors

    vocab = {w: i for i, w in enumerate(WORDS)}
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    tok.normalizer = normalizers.Lowercase()
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.add_special_tokens(["<pad>", "<start>", "<end>"])
    tok.post_processor = processors.TemplateProcessing(
        single="<start> $A <end>", special_tokens=[("<start>", 2), ("<end>", 3)]
    )
    return tok.to_str()


def write_colour_bundle(folder: Path, *, size: int = 16, ctx: int = 8, vocab: bool = True) -> Path:
    """A complete bundle (manifest included) at ``folder``; its id is the folder name."""
    from clipdesk.core.bundle import write_manifest

    folder = Path(folder)
    (folder / "visual").mkdir(parents=True, exist_ok=True)
    (folder / "textual").mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps(
        {"embed_dim": 3, "vision_cfg": {"image_size": size}, "text_cfg": {"context_length": ctx}}))
    (folder / "visual" / "preprocess_cfg.json").write_text(json.dumps(
        {"size": [size, size], "mean": [0.5, 0.5, 0.5], "std": [0.25, 0.25, 0.25],
         "interpolation": "bicubic", "resize_mode": "shortest", "fill_color": 0}))
    (folder / "visual" / "model.onnx").write_bytes(image_onnx(size))
    (folder / "textual" / "model.onnx").write_bytes(text_onnx(ctx))
    (folder / "textual" / "tokenizer.json").write_text(tokenizer_json())
    (folder / "textual" / "tokenizer_config.json").write_text(json.dumps({"model_max_length": ctx}))
    (folder / "textual" / "special_tokens_map.json").write_text(
        json.dumps({"bos_token": "<start>", "eos_token": "<end>", "pad_token": "<pad>"}))
    write_manifest(folder, folder.name)
    return folder


def colour_photo(path, colour: str, *, size=(96, 72), noise: int = 0, seed: int = 0) -> None:
    """A real JPEG that is (mostly) one colour."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    arr = np.empty((size[1], size[0], 3), np.int16)
    arr[:] = COLOURS[colour]
    if noise:
        arr += rng.integers(-noise, noise + 1, size=arr.shape, dtype=np.int16)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8)).save(path, quality=92)

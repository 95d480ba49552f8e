"""Tiny but real model bundles for the engine, bundle and download tests.

The ONNX files are written with a small protobuf encoder so that these tests
need neither torch nor the onnx package: ONNX Runtime loads and runs them.

* image tower: float32 [N,3,S,S] -> mean over H,W -> [N,3] @ W[3,D] + b -> [N,D]
* text tower:  int32 [N,ctx] -> float -> [N,ctx] @ W[ctx,D] -> [N,D]
* tokenizer:   a word-level ``tokenizers`` file with start/end tokens.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np

FLOAT, INT32, INT64 = 1, 6, 7
_ATTR_INT, _ATTR_INTS = 2, 7


# -- protobuf encoding -------------------------------------------------------


def _varint(n: int) -> bytes:
    if n < 0:
        n += 1 << 64
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _key(field: int, wire: int) -> bytes:
    return _varint(field << 3 | wire)


def _int(field: int, value: int) -> bytes:
    return _key(field, 0) + _varint(value)


def _bytes(field: int, payload: bytes | str) -> bytes:
    if isinstance(payload, str):
        payload = payload.encode("utf-8")
    return _key(field, 2) + _varint(len(payload)) + payload


def tensor(name: str, array: np.ndarray | None = None, *, dims=None, data_type=FLOAT, external: dict | None = None) -> bytes:
    """TensorProto: inline raw data, or a reference to external data."""
    if array is not None:
        array = np.ascontiguousarray(array)
        dims = array.shape
        data_type = {np.dtype(np.float32): FLOAT, np.dtype(np.int32): INT32, np.dtype(np.int64): INT64}[array.dtype]
    out = b"".join(_int(1, d) for d in dims) + _int(2, data_type) + _bytes(8, name)
    if external is None:
        out += _bytes(9, array.astype(array.dtype.newbyteorder("<")).tobytes())
    else:
        for k, v in external.items():
            out += _bytes(13, _bytes(1, k) + _bytes(2, str(v)))
        out += _int(14, 1)
    return out


def value_info(name: str, elem_type: int, dims) -> bytes:
    shape = b"".join(
        _bytes(1, _int(1, d) if isinstance(d, int) else _bytes(2, d)) for d in dims
    )
    tensor_type = _int(1, elem_type) + _bytes(2, shape)
    return _bytes(1, name) + _bytes(2, _bytes(1, tensor_type))


def attr_int(name: str, value: int) -> bytes:
    return _bytes(1, name) + _int(3, value) + _int(20, _ATTR_INT)


def attr_ints(name: str, values) -> bytes:
    return _bytes(1, name) + b"".join(_int(8, v) for v in values) + _int(20, _ATTR_INTS)


def node(op: str, inputs, outputs, *attrs: bytes, name: str = "") -> bytes:
    out = b"".join(_bytes(1, i) for i in inputs) + b"".join(_bytes(2, o) for o in outputs)
    out += _bytes(3, name or f"{op}_{outputs[0]}") + _bytes(4, op)
    return out + b"".join(_bytes(5, a) for a in attrs)


def graph(nodes, inputs, outputs, initializers, name: str = "g") -> bytes:
    return (
        b"".join(_bytes(1, n) for n in nodes)
        + _bytes(2, name)
        + b"".join(_bytes(5, t) for t in initializers)
        + b"".join(_bytes(11, i) for i in inputs)
        + b"".join(_bytes(12, o) for o in outputs)
    )


def model(graph_bytes: bytes, opset: int = 17, ir_version: int = 8) -> bytes:
    return (
        _int(1, ir_version)
        + _bytes(2, "clipdesk-tests")
        + _bytes(7, graph_bytes)
        + _bytes(8, _bytes(1, "") + _int(2, opset))
    )


# -- the two towers -------------------------------------------------------------


def image_model(
    size: int,
    dim: int,
    *,
    seed: int = 0,
    weight: np.ndarray | None = None,
    bias: np.ndarray | None = None,
    external: dict | None = None,
    batch: int | str = "batch",
    op: str = "MatMul",
) -> bytes:
    """``op`` other than MatMul makes a model ONNX Runtime refuses to load."""
    rng = np.random.default_rng(seed)
    w = rng.standard_normal((3, dim)).astype(np.float32) if weight is None else weight.astype(np.float32)
    b = (rng.standard_normal(dim) * 0.1).astype(np.float32) if bias is None else bias.astype(np.float32)
    nodes = [
        node("ReduceMean", ["image"], ["pooled"], attr_ints("axes", [2, 3]), attr_int("keepdims", 0)),
        node(op, ["pooled", "W"], ["projected"]),
        node("Add", ["projected", "b"], ["embedding"]),
    ]
    w_tensor = tensor("W", w) if external is None else tensor("W", dims=w.shape, external=external)
    g = graph(
        nodes,
        [value_info("image", FLOAT, [batch, 3, size, size])],
        [value_info("embedding", FLOAT, [batch, dim])],
        [w_tensor, tensor("b", b)],
    )
    return model(g)


def image_weight(seed: int = 0, dim: int = 8) -> np.ndarray:
    """The W that image_model(seed=seed) uses (for external-data copies of it)."""
    return np.random.default_rng(seed).standard_normal((3, dim)).astype(np.float32)


def text_model(ctx: int, dim: int, *, seed: int = 1, input_type: int = INT32) -> bytes:
    rng = np.random.default_rng(seed)
    w = (rng.standard_normal((ctx, dim)) / 100).astype(np.float32)
    nodes = [
        node("Cast", ["text"], ["as_float"], attr_int("to", FLOAT)),
        node("MatMul", ["as_float", "W"], ["embedding"]),
    ]
    g = graph(
        nodes,
        [value_info("text", input_type, ["batch", ctx])],
        [value_info("embedding", FLOAT, ["batch", dim])],
        [tensor("W", w)],
    )
    return model(g)


WORDS = "a dog cat on the beach at sunset red car night photo of receipts mountain snow".split()


def tokenizer_json(words=WORDS) -> str:
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors

    vocab = {"<pad>": 0, "<unk>": 1, "<start>": 2, "<end>": 3}
    for w in words:
        vocab.setdefault(w, len(vocab))
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    tok.normalizer = normalizers.Lowercase()
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.add_special_tokens(["<pad>", "<start>", "<end>"])
    tok.post_processor = processors.TemplateProcessing(
        single="<start> $A <end>", special_tokens=[("<start>", 2), ("<end>", 3)]
    )
    return tok.to_str()


def write_bundle(
    folder: Path,
    *,
    size: int = 32,
    dim: int = 8,
    ctx: int = 12,
    manifest: bool = True,
    preprocess: dict | None = None,
    image_onnx: bytes | None = None,
    text_onnx: bytes | None = None,
    extra_files: dict[str, bytes] | None = None,
    model_id: str | None = None,
) -> Path:
    """Write a complete bundle folder (with manifest.json unless told not to)."""
    from clipdesk.core.bundle import write_manifest

    folder = Path(folder)
    (folder / "visual").mkdir(parents=True, exist_ok=True)
    (folder / "textual").mkdir(parents=True, exist_ok=True)
    config = {"embed_dim": dim, "vision_cfg": {"image_size": size}, "text_cfg": {"context_length": ctx}}
    (folder / "config.json").write_text(json.dumps(config))
    pp = {"size": [size, size], "mean": [0.5, 0.5, 0.5], "std": [0.25, 0.25, 0.25],
          "interpolation": "bicubic", "resize_mode": "shortest", "fill_color": 0}
    pp.update(preprocess or {})
    (folder / "visual" / "preprocess_cfg.json").write_text(json.dumps(pp))
    (folder / "visual" / "model.onnx").write_bytes(image_onnx if image_onnx is not None else image_model(size, dim))
    (folder / "textual" / "model.onnx").write_bytes(text_onnx if text_onnx is not None else text_model(ctx, dim))
    (folder / "textual" / "tokenizer.json").write_text(tokenizer_json())
    (folder / "textual" / "tokenizer_config.json").write_text(json.dumps({"model_max_length": ctx, "clean": "lower"}))
    (folder / "textual" / "special_tokens_map.json").write_text(
        json.dumps({"bos_token": "<start>", "eos_token": "<end>", "pad_token": "<pad>"})
    )
    for name, data in (extra_files or {}).items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    if manifest:
        write_manifest(folder, model_id or folder.name)
    return folder


def float_le(values) -> bytes:
    return struct.pack(f"<{len(values)}f", *values)

"""Tiny but real model bundles for the engine, bundle and download tests.

The ONNX files are written with a small protobuf encoder so that these tests
need neither torch nor the onnx package: ONNX Runtime loads and runs them.

* image tower: float32 [N,3,S,S] -> mean over H,W -> [N,3] @ W[3,D] + b -> [N,D]
* text tower:  int32 [N,ctx] -> float -> [N,ctx] @ W[ctx,D] -> [N,D]
  (or :func:`transformer_text_model`: a causal attention block laid out the
  way Immich's fixed-length exports of open_clip are, and its variants)
* tokenizer:   a word-level ``tokenizers`` file with start/end tokens.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np

from clipdesk.core.onnxproto import int_field, key, len_field, varint

FLOAT, INT32, INT64 = 1, 6, 7
_ATTR_INT, _ATTR_INTS = 2, 7


# -- protobuf encoding -------------------------------------------------------


# The protobuf encoding is the app's own (clipdesk.core.onnxproto), so the
# models these tests write are read by the same code that reads real ones.
_varint, _key, _int, _bytes = varint, key, int_field, len_field


def tensor(name: str, array: np.ndarray | None = None, *, dims=None, data_type=FLOAT, external: dict | None = None) -> bytes:
    """TensorProto: inline raw data, or a reference to external data."""
    if array is not None:
        array = np.asarray(array)  # keeps 0-d arrays scalars (ascontiguousarray makes them 1-d)
        if not array.flags.c_contiguous:
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
    text_cfg: dict | None = None,
) -> Path:
    """Write a complete bundle folder (with manifest.json unless told not to).

    ``text_cfg`` adds open_clip text settings to config.json (``no_causal_mask``, ``pool_type``).
    """
    from clipdesk.core.bundle import write_manifest

    folder = Path(folder)
    (folder / "visual").mkdir(parents=True, exist_ok=True)
    (folder / "textual").mkdir(parents=True, exist_ok=True)
    config = {"embed_dim": dim, "vision_cfg": {"image_size": size}, "text_cfg": {"context_length": ctx, **(text_cfg or {})}}
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


# -- a causal text transformer, as Immich's exports of open_clip look -------------------

_ATTR_TENSOR = 4


def attr_tensor(name: str, array: np.ndarray) -> bytes:
    return _bytes(1, name) + _bytes(5, tensor("", array)) + _int(20, _ATTR_TENSOR)


def constant(name: str, array) -> bytes:
    """A Constant node (torch.onnx writes the masks and shape vectors of a traced model this way)."""
    return node("Constant", [], [name], attr_tensor("value", np.asarray(array)), name=f"Constant_{name}")


def causal_mask(ctx: int) -> np.ndarray:
    """open_clip's additive mask, [1, 1, ctx, ctx]: -inf above the diagonal."""
    return np.triu(np.full((ctx, ctx), -np.inf, np.float32), 1)[None, None]


def transformer_text_model(
    ctx: int,
    dim: int,
    *,
    vocab: int = 64,
    width: int = 8,
    heads: int = 2,
    seed: int = 3,
    batch: int | str = 1,
    causal: bool = True,
    pooling: str = "argmax",
    positional: bool = True,
    folded_product: bool = False,
    input_type: int = INT32,
) -> bytes:
    """One attention block of a CLIP text tower, exported the way Immich's textual/model.onnx is.

    int32 [batch, ctx] -> token embedding + positional table [ctx, W] -> LayerNorm
    -> multi-head attention with the causal mask as a [1,1,ctx,ctx] Constant ->
    residual -> LayerNorm -> the row at the argmax token (a Flatten/Gather with
    the row stride ``ctx`` folded into a constant, as onnxsim leaves it) ->
    projection [W, dim]. The length sits in the graph the way tracing leaves
    it: as the table's rows, the mask's size, and constants of reshape shapes.

    Variants: ``batch`` an int (Immich's current exports take one text) or a
    name; ``causal=False`` drops the mask (bidirectional attention);
    ``pooling="last"`` reads the last position instead of the end token (the
    embedding then depends on the padding); ``positional=False`` leaves the
    positional table out; ``folded_product`` reshapes the heads through a shape
    constant holding ctx * heads (a length the rewrite cannot see).
    """
    rng = np.random.default_rng(seed)
    dh = width // heads

    def w(*shape, scale=0.5):
        return (rng.standard_normal(shape) * scale).astype(np.float32)

    inits = [
        tensor("token_embedding", w(vocab, width)),
        tensor("ln1_scale", 1 + w(width, scale=0.1)), tensor("ln1_bias", w(width, scale=0.1)),
        tensor("wq", w(width, width)), tensor("wk", w(width, width)), tensor("wv", w(width, width)),
        tensor("wo", w(width, width)),
        tensor("ln2_scale", 1 + w(width, scale=0.1)), tensor("ln2_bias", w(width, scale=0.1)),
        tensor("projection", w(width, dim)),
    ]
    nodes = [
        node("Cast", ["text"], ["ids"], attr_int("to", INT64)),
        node("Gather", ["token_embedding", "ids"], ["tokens"]),
    ]
    if positional:
        inits.append(tensor("positional_embedding", w(ctx, width, scale=0.3)))
        nodes.append(node("Add", ["tokens", "positional_embedding"], ["x"]))
    else:
        nodes.append(node("Identity", ["tokens"], ["x"]))
    nodes.append(node("LayerNormalization", ["x", "ln1_scale", "ln1_bias"], ["h"], attr_int("axis", -1)))

    if isinstance(batch, int):
        def shape_of(name, rest):
            nodes.append(constant(name, np.array([batch, *rest], np.int64)))
    else:
        nodes += [
            node("Shape", ["x"], ["x_shape"]),
            constant("zero_index", np.array([0], np.int64)),
            node("Gather", ["x_shape", "zero_index"], ["batch_1d"], attr_int("axis", 0)),
        ]

        def shape_of(name, rest):
            nodes.append(constant(name + "_rest", np.array(rest, np.int64)))
            nodes.append(node("Concat", ["batch_1d", name + "_rest"], [name], attr_int("axis", 0)))

    if folded_product:
        shape_of("heads_shape", [ctx * heads, dh])
    else:
        shape_of("heads_shape", [ctx, heads, dh])
    for n in "qkv":
        nodes.append(node("MatMul", ["h", "w" + n], [n]))
        nodes.append(node("Reshape", [n, "heads_shape"], [n + "_heads"]))
    if folded_product:
        shape_of("unfold_shape", [ctx, heads, dh])
        for n in "qkv":
            nodes.append(node("Reshape", [n + "_heads", "unfold_shape"], [n + "_heads4"]))
    else:
        for n in "qkv":
            nodes.append(node("Identity", [n + "_heads"], [n + "_heads4"]))
    nodes += [
        node("Transpose", ["q_heads4"], ["qt"], attr_ints("perm", [0, 2, 1, 3])),
        node("Transpose", ["k_heads4"], ["kt"], attr_ints("perm", [0, 2, 3, 1])),
        node("Transpose", ["v_heads4"], ["vt"], attr_ints("perm", [0, 2, 1, 3])),
        node("MatMul", ["qt", "kt"], ["scores"]),
        constant("scale", np.array(1 / np.sqrt(dh), np.float32)),
        node("Mul", ["scores", "scale"], ["scaled"]),
    ]
    if causal:
        nodes += [constant("attn_mask", causal_mask(ctx)), node("Add", ["scaled", "attn_mask"], ["masked"])]
    else:
        nodes.append(node("Identity", ["scaled"], ["masked"]))
    nodes += [
        node("Softmax", ["masked"], ["weights"], attr_int("axis", -1)),
        node("MatMul", ["weights", "vt"], ["attended"]),
        node("Transpose", ["attended"], ["merged4"], attr_ints("perm", [0, 2, 1, 3])),
    ]
    shape_of("merge_shape", [ctx, width])
    nodes += [
        node("Reshape", ["merged4", "merge_shape"], ["merged"]),
        node("MatMul", ["merged", "wo"], ["attn_out"]),
        node("Add", ["x", "attn_out"], ["y"]),
        node("LayerNormalization", ["y", "ln2_scale", "ln2_bias"], ["z"], attr_int("axis", -1)),
    ]
    if pooling == "argmax":
        # x[arange(B), text.argmax(-1)] as a traced graph computes it: rows of a [B*ctx, W] view.
        nodes += [
            node("ArgMax", ["ids"], ["eot"], attr_int("axis", -1), attr_int("keepdims", 0)),
            node("Flatten", ["z"], ["rows"], attr_int("axis", 2)),
            node("Shape", ["ids"], ["ids_shape"]),
            constant("zero", np.array(0, np.int64)),
            node("Gather", ["ids_shape", "zero"], ["n_rows"], attr_int("axis", 0)),
            constant("one", np.array(1, np.int64)),
            node("Range", ["zero", "n_rows", "one"], ["row_index"]),
            constant("stride", np.array(ctx, np.int64)),
            node("Mul", ["row_index", "stride"], ["row_start"]),
            node("Add", ["eot", "row_start"], ["flat_index"]),
            node("Gather", ["rows", "flat_index"], ["pooled"], attr_int("axis", 0)),
        ]
    elif pooling == "last":
        nodes += [
            constant("last", np.array(-1, np.int64)),
            node("Gather", ["z", "last"], ["pooled"], attr_int("axis", 1)),
        ]
    else:
        raise ValueError(pooling)
    nodes.append(node("MatMul", ["pooled", "projection"], ["embedding"]))
    g = graph(
        nodes,
        [value_info("text", input_type, [batch, ctx])],
        [value_info("embedding", FLOAT, [batch, dim])],
        inits,
    )
    return model(g, opset=17)


def width_probe_model(dim: int, *, input_type: int = INT32) -> bytes:
    """int32 [N, S] (any S) -> [N, dim] rows of (S, 1, 0, ...): after normalising, row[0] / row[1] is
    the number of tokens the engine fed."""
    nodes = [
        node("Equal", ["text", "text"], ["same"]),
        node("Cast", ["same"], ["ones"], attr_int("to", FLOAT)),
        node("ReduceSum", ["ones", "axis1"], ["width"], attr_int("keepdims", 1)),
        node("ReduceMax", ["ones"], ["one"], attr_ints("axes", [1]), attr_int("keepdims", 1)),
        node("Mul", ["width", "zeros"], ["rest"]),
        node("Concat", ["width", "one", "rest"], ["embedding"], attr_int("axis", 1)),
    ]
    g = graph(
        nodes,
        [value_info("text", input_type, ["batch", "sequence"])],
        [value_info("embedding", FLOAT, ["batch", dim])],
        [tensor("axis1", np.array([1], np.int64)), tensor("zeros", np.zeros((1, dim - 2), np.float32))],
    )
    return model(g, opset=17)

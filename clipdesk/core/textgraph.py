"""Text towers that run on a query's own tokens instead of the whole context.

CLIP's text transformer is causal (each token attends to the tokens before it)
and its embedding is read at the end-of-text token (open_clip's ``argmax`` or
``eos`` pooling), so the embedding of a query of L tokens, start and end
included, depends on those L tokens only: the padding after them changes
nothing. Running the tower on L tokens instead of the context length (77)
gives the same embedding for a fraction of the work; issue 17 measured
2-5x less time on 2 cores for L = 4..14 with a ViT-B-32 text tower.

A text model exported with a fixed length (Immich's ``textual/model.onnx``
takes [N, 77]) cannot be fed L tokens: its positional-embedding table and
causal mask are [77, W] and [77, 77] constants, and the exporter baked the
length into reshape shapes. :func:`free_sequence_axis` rewrites such a graph:

* the text input's second axis becomes the symbolic ``sequence``;
* L is read from the input's shape at run time;
* every constant tensor with an axis of the context length (the positional
  table, the causal masks, position ids) is sliced to L along that axis;
* every small integer constant holding the context length (reshape shapes,
  the row stride of the end-token gather) gets L in its place;
* stored shape annotations of intermediate values are dropped (ONNX Runtime
  infers them again).

Nothing is assumed to be right: :func:`check_query_length` runs the rewritten
model on :data:`CHECK_TEXTS` and compares every embedding with the original
model's (cosine >= :data:`MIN_COSINE`), and :func:`prepare_query_length`
switches a bundle to the rewritten model only when that check passes. Towers
with bidirectional attention (SigLIP's, the Hugging Face text encoders) are
never rewritten: their embedding depends on the padding.

The graph is read and written with :mod:`clipdesk.core.onnxproto` (``onnx`` is
not a runtime dependency); weights are copied through unchanged.
"""

from __future__ import annotations

import logging
import mmap
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np

from clipdesk.core import bundle as B
from clipdesk.core import onnxproto as P
from clipdesk.core.engine import EngineOptions, TextEncoder
from clipdesk.core.errors import ModelError
from clipdesk.core.fsutil import atomic_write

log = logging.getLogger(__name__)

#: Every embedding of the rewritten model must match the original's this closely.
MIN_COSINE = 0.99999
#: The inserted nodes are written for this ai.onnx opset or later (Slice with tensor inputs, Reshape, Cast).
MIN_OPSET = 13
#: Name of the freed input axis.
SEQUENCE_AXIS = "sequence"
#: Prefix of every tensor and node the rewrite adds.
PREFIX = "clipdesk.query_length"
#: A small integer constant is a candidate shape/stride holding the length only up to this many values.
_SMALL = 64
#: Additive masks use -inf or a large negative number for the positions a token may not see.
_MASKED = -1e4


class GraphNotSupported(ValueError):
    """The rewrite does not know how to free this graph's sequence axis; the message says why."""


@dataclass
class RewriteReport:
    """What :func:`free_sequence_axis` changed."""

    #: Constants sliced to the query length: (name, shape).
    sliced: list[tuple[str, tuple[int, ...]]] = field(default_factory=list)
    #: Small integer constants that had the context length replaced: (name, values).
    lengths: list[tuple[str, list[int]]] = field(default_factory=list)
    #: How many of the sliced constants are causal attention masks.
    causal_masks: int = 0
    #: Shape annotations of intermediate values dropped.
    dropped_value_info: int = 0

    def summary(self) -> str:
        return (
            f"{len(self.sliced)} tables sliced ({self.causal_masks} causal masks), "
            f"{len(self.lengths)} shape constants given the query length"
        )


# -- which towers qualify ----------------------------------------------------------


def causal_from_config(config: Mapping[str, Any]) -> str | None:
    """Why a bundle's text tower cannot run on query-length input, judged from config.json; None if it may.

    open_clip's ``text_cfg``: a Hugging Face text encoder (``hf_model_name``),
    ``no_causal_mask`` (SigLIP), an appended class token (``embed_cls``, CoCa)
    or pooling that does not read the end token (``last``, ``none``) all make
    the embedding depend on the padding.
    """
    text_cfg = config.get("text_cfg") or {}
    if not isinstance(text_cfg, Mapping):
        return "config.json has no usable text_cfg"
    if text_cfg.get("hf_model_name"):
        return f"the text tower is the Hugging Face model {text_cfg['hf_model_name']}, with bidirectional attention"
    if text_cfg.get("no_causal_mask"):
        return "the text tower has bidirectional attention (no_causal_mask), so its embedding depends on the padding"
    if text_cfg.get("embed_cls"):
        return "the text tower appends a class token after the padding (embed_cls)"
    pool = text_cfg.get("pool_type", "argmax")
    if pool not in ("argmax", "eos", "first"):
        return f"the text tower pools with {pool!r}, which reads past the end token"
    return None


# -- the rewrite ---------------------------------------------------------------------


@dataclass
class _Node:
    span: tuple[int, int]  # the whole field in the graph (key included)
    body: tuple[int, int]
    inputs: list[str]
    outputs: list[str]
    op: str
    domain: str
    subgraphs: bool
    constant: Any = None  # (Tensor or ndarray) for Constant nodes whose value is read


def _parse_node(buf: Any, span: tuple[int, int], body: tuple[int, int]) -> _Node:
    inputs, outputs, op, domain, attrs = [], [], "", "", []
    for number, wire, value in P.fields(buf, *body):
        if wire != P.WIRE_LEN:
            continue
        if number == P.NODE_INPUT:
            inputs.append(P.text(buf, value))
        elif number == P.NODE_OUTPUT:
            outputs.append(P.text(buf, value))
        elif number == P.NODE_OP_TYPE:
            op = P.text(buf, value)
        elif number == P.NODE_DOMAIN:
            domain = P.text(buf, value)
        elif number == P.NODE_ATTRIBUTE:
            attrs.append(value)
    node = _Node(span, body, inputs, outputs, op, domain, False)
    for attr in attrs:
        name, ints, tensor, i_value = "", [], None, None
        for n, w, v in P.fields(buf, *attr):
            if n == P.ATTR_NAME and w == P.WIRE_LEN:
                name = P.text(buf, v)
            elif n in (P.ATTR_G, P.ATTR_GRAPHS):
                node.subgraphs = True
            elif n == P.ATTR_T and w == P.WIRE_LEN:
                tensor = P.read_tensor(buf, v)
            elif n == P.ATTR_I and w == P.WIRE_VARINT:
                i_value = P.signed(v)
            elif n == P.ATTR_INTS:
                ints += P.repeated_ints(buf, n, w, v)
        if op == "Constant" and domain in ("", "ai.onnx"):
            if name == "value" and tensor is not None:
                node.constant = tensor
            elif name == "value_int" and i_value is not None:
                node.constant = np.array(i_value, dtype=np.int64)
            elif name == "value_ints":
                node.constant = np.array(ints, dtype=np.int64)
    return node


def _is_causal_mask(values: np.ndarray) -> bool:
    """An additive (0 / large negative) or boolean mask whose last two axes let token i see tokens 0..i only."""
    n = values.shape[-1]
    upper = np.triu(np.ones((n, n), dtype=bool), 1)
    v = values.reshape(-1, n, n)
    if values.dtype == np.bool_:
        return bool((v == upper).all() or (v == ~upper).all())
    v = v.astype(np.float64)
    return bool((v[:, upper] <= _MASKED).all() and (v[:, ~upper] == 0).all())


class _Builder:
    """New nodes, named so they cannot collide with the graph's own names."""

    def __init__(self, taken: set[str]):
        self.taken = taken
        self.count = 0

    def name(self, hint: str) -> str:
        while True:
            self.count += 1
            name = f"{PREFIX}/{hint}_{self.count}"
            if name not in self.taken:
                self.taken.add(name)
                return name

    def node(self, op: str, inputs: Sequence[str], hint: str, **attrs: Any) -> tuple[bytes, str]:
        out = self.name(hint)
        return P.len_field(P.GRAPH_NODE, P.node_proto(op, inputs, [out], out, **attrs)), out

    def constant(self, array: np.ndarray, hint: str) -> tuple[bytes, str]:
        return self.node("Constant", [], hint, value=np.asarray(array))


def free_sequence_axis(
    src: Path,
    dest: Path,
    context_length: int,
    *,
    read_external: Callable[[str, int, int], bytes] | None = None,
) -> RewriteReport:
    """Write ``dest``: the text model at ``src`` with its input's sequence axis made symbolic.

    ``src`` takes int32/int64 [N, context_length] (N fixed or symbolic); the
    rewritten model takes [N, L] for any 1 <= L <= context_length. External
    data stays where it is: ``dest`` refers to the same files, so it must be
    written in the same folder. ``read_external(location, offset, length)``
    reads external data (needed only when masks or shape constants are stored
    outside the model file).

    Raises GraphNotSupported (with the reason) for graphs it does not know how
    to rewrite, ValueError for a file that is not an ONNX model, OSError for
    file errors. Whether the result computes the same embeddings is not
    checked here: see :func:`check_query_length`.
    """
    with open(src, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        buf = memoryview(mm)
        try:
            parts, report = _rewrite(buf, int(context_length), read_external)

            def write(out) -> None:
                for part in parts:
                    if isinstance(part, tuple):
                        with buf[part[0]:part[1]] as view:
                            out.write(view)
                    else:
                        out.write(part)

            atomic_write(dest, write)
        finally:
            parts = None
            buf.release()
    return report


def _rewrite(buf: Any, n: int, read_external) -> tuple[list[Any], RewriteReport]:
    model_fields = list(P.walk(buf, 0, len(buf)))
    graphs = [f for f in model_fields if f[0] == P.MODEL_GRAPH and f[1] == P.WIRE_LEN]
    if len(graphs) != 1:
        raise ValueError("not an ONNX model (no graph)")
    opset = None
    for number, wire, value, _, _ in model_fields:
        if number == P.MODEL_OPSET_IMPORT and wire == P.WIRE_LEN:
            domain, version = "", None
            for n2, w2, v2 in P.fields(buf, *value):
                if n2 == P.OPSET_DOMAIN and w2 == P.WIRE_LEN:
                    domain = P.text(buf, v2)
                elif n2 == P.OPSET_VERSION and w2 == P.WIRE_VARINT:
                    version = v2
            if domain in ("", "ai.onnx"):
                opset = version
    if opset is None or opset < MIN_OPSET:
        raise GraphNotSupported(f"the text model uses ONNX opset {opset}; the rewrite needs {MIN_OPSET} or later")

    graph_span = graphs[0][2]
    graph_fields = list(P.walk(buf, *graph_span))
    initializers: dict[str, P.Tensor] = {}
    nodes: list[_Node] = []
    inputs: list[tuple[str, int | None, list, tuple[int, int]]] = []
    output_dims: list[tuple[str, list]] = []
    for number, wire, value, start, end in graph_fields:
        if wire != P.WIRE_LEN:
            continue
        if number == P.GRAPH_INITIALIZER:
            t = P.read_tensor(buf, value)
            initializers[t.name] = t
        elif number == P.GRAPH_NODE:
            nodes.append(_parse_node(buf, (start, end), value))
        elif number == P.GRAPH_INPUT:
            name, elem, dims = P.value_info_dims(buf, value)
            inputs.append((name, elem, dims, (start, end)))
        elif number == P.GRAPH_OUTPUT:
            name, _, dims = P.value_info_dims(buf, value)
            output_dims.append((name, dims))
        elif number == P.GRAPH_SPARSE_INITIALIZER:
            raise GraphNotSupported("the text model has sparse initializers")
    data_inputs = [i for i in inputs if i[0] not in initializers]
    if len(data_inputs) != 1:
        raise GraphNotSupported(f"the text model has {len(data_inputs)} inputs, expected 1")
    text_name, text_elem, text_dims, text_span = data_inputs[0]
    if text_elem not in (P.INT32, P.INT64) or len(text_dims) != 2:
        raise GraphNotSupported("the text model's input is not int32/int64 [N, length]")
    if isinstance(text_dims[1], int) and text_dims[1] != n:
        raise GraphNotSupported(f"the text model takes {text_dims[1]} tokens, not the context length {n}")
    for name, dims in output_dims:
        if n in dims[1:]:
            raise GraphNotSupported(f"the output {name} has an axis of the context length")
    if any(node.subgraphs for node in nodes):
        raise GraphNotSupported("the text model has control flow (If/Loop/Scan), which the rewrite does not enter")

    # Constants: initializers and Constant nodes, by the name their consumers use.
    constants: dict[str, tuple[Any, int | None]] = {name: (t, None) for name, t in initializers.items()}
    for index, node in enumerate(nodes):
        if node.constant is not None and len(node.outputs) == 1:
            constants[node.outputs[0]] = (node.constant, index)

    def values(c: Any) -> np.ndarray:
        return c if isinstance(c, np.ndarray) else P.tensor_array(buf, c, read_external)

    report = RewriteReport()
    tables: list[tuple[str, tuple[int, ...], int | None]] = []
    lengths: list[tuple[str, np.ndarray, int | None]] = []
    positional = False
    for name, (c, where) in constants.items():
        dims = tuple(c.shape) if isinstance(c, np.ndarray) else c.dims
        dtype = c.dtype if isinstance(c, np.ndarray) else P.DTYPES.get(c.data_type)
        if n in dims:
            if len(dims) >= 2 and dims[-1] == n and dims[-2] == n:
                if not _is_causal_mask(values(c)):
                    raise GraphNotSupported(
                        f"the attention mask {name} is not causal: the tower attends in both directions"
                    )
                report.causal_masks += 1
            elif dtype is not None and dtype.kind == "f" and sum(d != 1 for d in dims) == 2:
                positional = True
            tables.append((name, dims, where))
        elif dtype is not None and dtype.kind in "iu" and int(np.prod(dims)) <= _SMALL:
            arr = values(c)
            if (arr == n).any():
                lengths.append((name, arr, where))
    if not report.causal_masks:
        raise GraphNotSupported(
            f"no causal attention mask of {n}x{n} in the text model: a tower without one attends in both directions"
        )
    if not positional:
        raise GraphNotSupported(f"no positional-embedding table of {n} rows in the text model")

    taken = set(constants) | {o for node in nodes for o in node.outputs} | {i[0] for i in inputs}
    b = _Builder(taken)
    top: list[bytes] = []
    after: dict[int, list[bytes]] = {}
    rename: dict[str, str] = {}

    part, shape = b.node("Shape", [text_name], "shape")
    top.append(part)
    part, axis1 = b.constant(np.array([1], np.int64), "axis1")
    top.append(part)
    part, length = b.node("Gather", [shape, axis1], "length", axis=0)  # int64 [1]
    top.append(part)
    ends_by_count: dict[int, str] = {1: length}

    def ends(count: int) -> str:
        if count not in ends_by_count:
            part, name = b.node("Concat", [length] * count, f"ends{count}", axis=0)
            top.append(part)
            ends_by_count[count] = name
        return ends_by_count[count]

    for name, dims, where in tables:
        axes = [i for i, d in enumerate(dims) if d == n]
        made = []
        part, starts = b.constant(np.zeros(len(axes), np.int64), "starts")
        made.append(part)
        part, axes_name = b.constant(np.array(axes, np.int64), "axes")
        made.append(part)
        end_name = ends(len(axes))
        part, sliced = b.node("Slice", [name, starts, end_name, axes_name], "sliced")
        made.append(part)
        (top if where is None else after.setdefault(where, [])).extend(made)
        rename[name] = sliced
        report.sliced.append((name, dims))

    if lengths:
        part, empty = b.constant(np.zeros(0, np.int64), "scalar_shape")
        top.append(part)
        part, scalar = b.node("Reshape", [length, empty], "length_scalar")
        top.append(part)
        part, n_name = b.constant(np.array(n, np.int64), "context_length")
        top.append(part)
        part, delta = b.node("Sub", [scalar, n_name], "delta")  # L - n, int64 scalar
        top.append(part)
        deltas = {np.dtype(np.int64): delta}
        for name, arr, where in lengths:
            dt = arr.dtype.newbyteorder("=")
            if dt not in deltas:
                code = P.DATA_TYPES.get(dt)
                if code is None:
                    raise GraphNotSupported(f"the shape constant {name} has type {arr.dtype}")
                part, deltas[dt] = b.node("Cast", [delta], "delta", to=code)
                top.append(part)
            made = []
            part, mask = b.constant((arr == n).astype(dt), "where_length")
            made.append(part)
            part, step = b.node("Mul", [mask, deltas[dt]], "step")
            made.append(part)
            part, fixed = b.node("Add", [name, step], "with_length")
            made.append(part)
            (top if where is None else after.setdefault(where, [])).extend(made)
            rename[name] = fixed
            report.lengths.append((name, arr.ravel().tolist()))

    # The graph again: inserted nodes first, rewired consumers, no stale shapes.
    graph_parts: list[Any] = []
    index = 0
    for number, wire, value, start, end in graph_fields:
        if number == P.GRAPH_NODE and wire == P.WIRE_LEN:
            if index == 0:
                graph_parts += top
            graph_parts += _node_parts(buf, nodes[index], rename)
            graph_parts += after.get(index, [])
            index += 1
        elif number == P.GRAPH_VALUE_INFO:
            report.dropped_value_info += 1
        elif number == P.GRAPH_INPUT and (start, end) == text_span:
            dims = [text_dims[0] if text_dims[0] is not None else "batch", SEQUENCE_AXIS]
            graph_parts.append(P.len_field(P.GRAPH_INPUT, P.value_info_proto(text_name, text_elem, dims)))
        else:
            graph_parts.append((start, end))
    if index == 0:
        raise GraphNotSupported("the text model has no nodes")

    graph_len = sum(p[1] - p[0] if isinstance(p, tuple) else len(p) for p in graph_parts)
    parts: list[Any] = []
    for number, wire, value, start, end in model_fields:
        if number == P.MODEL_GRAPH and wire == P.WIRE_LEN:
            parts.append(P.len_prefix(P.MODEL_GRAPH, graph_len))
            parts += graph_parts
        else:
            parts.append((start, end))
    note = f"sequence axis freed by clipdesk.core.textgraph: {report.summary()}"
    parts.append(P.len_field(P.MODEL_METADATA_PROPS, P.string_entry(PREFIX, note)))
    return parts, report


def _node_parts(buf: Any, node: _Node, rename: Mapping[str, str]) -> list[Any]:
    """The node's field as it was, or re-encoded with renamed inputs (every other field copied)."""
    if not any(i in rename for i in node.inputs):
        return [node.span]
    body = b"".join(P.len_field(P.NODE_INPUT, rename.get(i, i)) for i in node.inputs)
    rest = [
        bytes(buf[start:end])
        for number, wire, _, start, end in P.walk(buf, *node.body)
        if not (number == P.NODE_INPUT and wire == P.WIRE_LEN)
    ]
    body += b"".join(rest)
    return [P.len_field(P.GRAPH_NODE, body)]


# -- the check ---------------------------------------------------------------------

_QUERIES = [
    "dog", "a dog on the beach", "red car at night", "receipts", "sunset over the mountains",
    "birthday cake with candles", "my cat sleeping on the sofa", "snow", "a person riding a bicycle",
    "screenshot of a spreadsheet", "passport photo", "two children playing in the garden",
    "boats in a harbour at dawn", "city skyline in the rain", "a plate of spaghetti", "whiteboard notes",
    "wedding", "Christmas tree", "the Eiffel Tower", "blurry photo of a bird", "old black and white photograph",
    "a cup of coffee on a wooden table", "hiking trail in the forest", "fireworks", "a man in a blue suit",
    "DOG ON A BEACH", "Red Car -Night", "cat OR dog", "photo_2019_07", "IMG 4032",
    "", " ", "a", "!!!", "?", "&amp;", "fish &amp; chips", "<3", "C++", "3.14159",
    "don't", "it's a dog's life", "e-mail: someone@example.com", "#sunset @friend", "50% off",
    "2024-06-01 12:30", "www.example.org/path?q=1", "\"quoted\"", "(brackets) [and] {braces}", "a\tb\nc",
]
_NON_ASCII = [
    "café au lait", "crème brûlée", "Zürich", "São Paulo", "Dvořák", "Łódź", "İstanbul", "straße",
    "Καλημέρα", "Привет мир", "Київ", "Tiếng Việt", "Đà Nẵng", "piñata", "El Niño", "Ærø", "Þingvellir",
    "ﬁsh ﬂy", "\u201ccurly quotes\u201d", "em\u2014dash", "non\u00a0breaking", "zero\u200bwidth",
    "עברית", "العربية", "हिन्दी", "ภาษาไทย", "海滩上的狗", "東京の夜景", "서울 야경", "ｈｅｌｌｏ　ｗｏｒｌｄ",
    "日本語。「引用」、句読点", "猫と犬", "ラーメン", "富士山の写真", "①②③", "〒100-0001",
    "🐶", "🐱 cute", "🏖️ beach", "👍🏽", "👨‍👩‍👧", "🇯🇵", "❤️", "🎉🎂", "🌅 sunset", "🍕🍕🍕", "🏳️‍🌈",
    "une photo de la plage", "ein Hund im Schnee", "un coche rojo de noche",
]
_SENTENCE = (
    "a small brown dog runs along the wet sand of a quiet beach at sunset while two children in red "
    "jackets fly a kite above the dunes and an old fishing boat rests on its side near the rocks where "
    "seagulls gather to watch the waves roll in under a sky of orange and purple clouds that fade slowly "
    "into the dark blue of the evening as the first stars appear over the distant lighthouse"
)
_SENTENCE_NON_ASCII = (
    "ein kleiner Hund läuft über den nassen Strand, während die Sonne über dem Meer untergeht; "
    "un petit chien court sur la plage mouillée pendant que le soleil se couche sur la mer; "
    "маленькая собака бежит по мокрому песку; 小さな犬が夕暮れの浜辺を走っている 🐕🌅"
)


def check_texts() -> list[str]:
    """The fixed texts a query-length model is checked on: 256 of them, ASCII and not.

    Short queries, punctuation and markup, empty and one-letter strings,
    accented Latin, Greek, Cyrillic, Hebrew, Arabic, Devanagari, Thai and CJK
    scripts, emoji sequences, and every word prefix of a long English and a
    long mixed-script sentence, so that with a CLIP tokenizer every length
    from 2 tokens (start and end only) to the whole context, and texts cut at
    the context length, are among them.
    """
    words = _SENTENCE.split()
    foreign = _SENTENCE_NON_ASCII.split()
    texts = list(_QUERIES) + list(_NON_ASCII)
    texts += [" ".join(words[:k]) for k in range(1, len(words) + 1)]
    texts += [" ".join(foreign[:k]) for k in range(1, len(foreign) + 1)]
    texts += [f"{a} {b}" for a, b in zip(_NON_ASCII, _QUERIES[::-1])]
    texts += [f"{a}, {b}" for a, b in zip(_QUERIES, _NON_ASCII[::-1])]
    return texts[:256]


@dataclass(frozen=True)
class CheckResult:
    """Embeddings of a query-length model against the original's over :func:`check_texts`."""

    strings: int
    #: The lowest cosine over every text, run alone at its own length and in mixed-length batches.
    min_cosine: float
    #: The text with that cosine.
    worst: str
    #: Shortest and longest text in tokens (start and end tokens included).
    tokens: tuple[int, int]
    seconds: float

    @property
    def passed(self) -> bool:
        return self.min_cosine >= MIN_COSINE

    def to_json(self) -> dict[str, Any]:
        return {
            "strings": self.strings, "min_cosine": round(float(self.min_cosine), 8), "threshold": MIN_COSINE,
            "tokens": list(self.tokens), "seconds": round(self.seconds, 2),
        }


def check_query_length(
    bundle: B.Bundle,
    candidate: str,
    *,
    original: str = B.TEXTUAL_MODEL,
    texts: Sequence[str] | None = None,
    options: EngineOptions | None = None,
) -> CheckResult:
    """Compare ``candidate`` run at each text's own length with ``original`` run at the context length.

    Each text goes through the candidate alone (the search box's case) and,
    unless the model takes one row at a time, in batches of mixed lengths cut
    to their longest row (tag vocabularies); both must match the original.
    ``original`` may be ``candidate`` itself (a model exported with a free
    axis, run at both lengths). Raises ModelError when either model fails to
    load or run.
    """
    texts = list(check_texts() if texts is None else texts)
    opts = replace(options or EngineOptions(), ort_log_level=4)  # failures are reported, not printed
    t0 = time.perf_counter()
    ref = TextEncoder(bundle, opts, form=B.TextModelForm(file=original))
    cand = TextEncoder(bundle, opts, form=B.TextModelForm(file=candidate, input_length=B.QUERY_LENGTH))
    ids, lengths = ref.tokenizer.encode_with_lengths(texts)
    want = ref.embed_tokens(ids)
    if not cand.query_length:
        raise ModelError(f"model {bundle.model_id}: {candidate} takes a fixed number of tokens")
    alone = np.concatenate([cand.embed_tokens(ids[i : i + 1, : max(1, lengths[i])]) for i in range(len(ids))])
    cos = (want * alone).sum(axis=1)
    step = cand.load().fixed_batch or cand.batch_size
    if step > 1:
        mixed = np.concatenate([
            cand.embed_tokens(ids[i : i + step, : max(1, int(lengths[i : i + step].max()))])
            for i in range(0, len(ids), step)
        ])
        cos = np.minimum(cos, (want * mixed).sum(axis=1))
    worst = int(np.argmin(cos))
    return CheckResult(
        len(texts), float(cos[worst]), texts[worst], (int(lengths.min()), int(lengths.max())),
        time.perf_counter() - t0,
    )


# -- a bundle, end to end -------------------------------------------------------------


def prepare_query_length(
    folder: Path, model_id: str | None = None, *, options: EngineOptions | None = None
) -> B.TextModelForm:
    """Give a bundle a query-length text model if its text tower allows it; returns what the manifest now says.

    For a causal tower, ``textual/model.query.onnx`` is written beside
    ``textual/model.onnx`` (which is kept as it is), joins the manifest with
    its SHA-256, and is checked with :func:`check_query_length`; the manifest's
    ``text_model`` record switches to it only when every embedding matches.
    Otherwise the rewritten file is removed and the record keeps the original
    with the reason (a bidirectional tower, a graph the rewrite does not know,
    a model that fails to run or embeds differently). At every step the
    manifest describes the files that are there, so the bundle always verifies.

    Raises ModelError when the bundle itself cannot be opened or its original
    text model does not match its checksum; OSError when the folder cannot be
    written.
    """
    folder = Path(folder)
    model_id = model_id or folder.name
    bundle = B.open_bundle(folder, model_id=model_id)
    dest_name = B.QUERY_TEXTUAL_MODEL
    if dest_name in bundle.files or (folder / dest_name).exists():
        # Back to the original first: the file is about to be replaced.
        B.update_manifest(folder, model_id, remove=[dest_name], text_model=B.TextModelForm(reason="being prepared"))
        (folder / dest_name).unlink(missing_ok=True)

    def keep_original(reason: str) -> B.TextModelForm:
        form = B.TextModelForm(reason=reason)
        B.update_manifest(folder, model_id, remove=[dest_name], text_model=form)
        (folder / dest_name).unlink(missing_ok=True)
        log.info("model %s keeps its fixed-length text model: %s", model_id, reason)
        return form

    reason = causal_from_config(bundle.config)
    if reason is not None:
        return keep_original(reason)
    original = bundle.read_model(B.TEXTUAL_MODEL)
    textual = PurePosixPath(B.TEXTUAL_MODEL).parent

    def read_external(location: str, offset: int, length: int) -> bytes:
        path = B.resolve_inside(folder, textual / B.safe_relpath(location))
        with open(path, "rb") as fh:
            fh.seek(offset)
            return fh.read(length)

    try:
        report = free_sequence_axis(original.path, folder / dest_name, bundle.context_length, read_external=read_external)
    except GraphNotSupported as exc:
        return keep_original(f"its text graph was not rewritten: {exc}")
    except ValueError as exc:
        return keep_original(f"its text graph could not be read ({exc})")
    log.info("model %s: text graph rewritten for query-length input (%s); checking it", model_id, report.summary())
    pending = B.TextModelForm(reason="the query-length text model is being checked")
    B.update_manifest(folder, model_id, add=[dest_name], text_model=pending)
    try:
        result = check_query_length(B.open_bundle(folder, model_id=model_id), dest_name, options=options)
    except ModelError as exc:
        return keep_original(f"the rewritten text model failed its check ({exc})")
    if not result.passed:
        return keep_original(
            f"the rewritten text model embeds differently: cosine {result.min_cosine:.6f} < {MIN_COSINE} "
            f"with the original on {result.worst!r}"
        )
    form = B.TextModelForm(
        file=dest_name, input_length=B.QUERY_LENGTH, original=B.TEXTUAL_MODEL,
        check={**result.to_json(), "rewrite": report.summary()},
    )
    B.update_manifest(folder, model_id, text_model=form)
    log.info(
        "model %s now encodes texts at their own length (%d texts checked, min cosine %.7f, %.1f s)",
        model_id, result.strings, result.min_cosine, result.seconds,
    )
    return form

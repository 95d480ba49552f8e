"""Query-length text models: the graph rewrite, its check, and a bundle switched only when they agree.

Every model here is a real ONNX file run by ONNX Runtime: one causal attention
block laid out the way Immich's fixed-length exports of open_clip are
(bundlekit.transformer_text_model), and variants that must not be switched.
"""

from __future__ import annotations

import json

import numpy as np
import onnxruntime as ort
import pytest
from bundlekit import transformer_text_model, write_bundle

from clipdesk.core import bundle as B
from clipdesk.core import textgraph as T
from clipdesk.core.engine import TextEncoder
from clipdesk.core.errors import ModelError

CTX = 16


def _session(path):
    so = ort.SessionOptions()
    so.log_severity_level = 4
    return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])


def _ids(rows, length, ctx=CTX, seed=0):
    """Rows of ``length`` tokens (start 2, words, end 3) padded with 0 to ``ctx``."""
    ids = np.zeros((rows, ctx), np.int32)
    ids[:, 0] = 2
    ids[:, 1 : length - 1] = np.random.default_rng(seed).integers(4, 60, (rows, max(0, length - 2)))
    ids[:, length - 1] = 3
    return ids


def _cos(a, b):
    return (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)


def _bundle(tmp_path, name="immich", text_cfg=None, **kw):
    kw.setdefault("batch", 1)
    return write_bundle(tmp_path / name, ctx=CTX, text_onnx=transformer_text_model(CTX, 8, **kw), text_cfg=text_cfg)


def _manifest(folder):
    return json.loads((folder / B.MANIFEST).read_text())


# -- the rewrite -------------------------------------------------------------------


@pytest.mark.parametrize("batch", [1, "batch"])
def test_the_rewritten_graph_takes_any_length_and_embeds_as_the_original(tmp_path, batch):
    src = tmp_path / "model.onnx"
    src.write_bytes(transformer_text_model(CTX, 8, batch=batch))
    report = T.free_sequence_axis(src, tmp_path / "model.query.onnx", CTX)
    assert report.causal_masks == 1
    assert [name for name, _ in report.sliced] == ["positional_embedding", "attn_mask"]
    assert len(report.lengths) == 3  # two reshape shapes and the end-token row stride

    original, rewritten = _session(src), _session(tmp_path / "model.query.onnx")
    assert original.get_inputs()[0].shape == [batch, CTX]
    assert rewritten.get_inputs()[0].shape == [batch, T.SEQUENCE_AXIS]
    rows = 1 if batch == 1 else 3
    for length in range(2, CTX + 1):
        ids = _ids(rows, length, seed=length)
        want = original.run(None, {"text": ids})[0]
        got = rewritten.run(None, {"text": ids[:, :length]})[0]
        assert got.shape == want.shape
        assert _cos(want, got).min() >= 0.99999, length


def test_the_rewritten_file_is_a_valid_onnx_model(tmp_path):
    onnx = pytest.importorskip("onnx")  # the export extra; ClipDesk itself never imports it
    src = tmp_path / "model.onnx"
    src.write_bytes(transformer_text_model(CTX, 8, batch="batch"))
    T.free_sequence_axis(src, tmp_path / "q.onnx", CTX)
    model = onnx.load(str(tmp_path / "q.onnx"))
    onnx.checker.check_model(model, full_check=True)
    dims = model.graph.input[0].type.tensor_type.shape.dim
    assert (dims[0].dim_param, dims[1].dim_param) == ("batch", "sequence")
    assert [p.key for p in model.metadata_props] == [T.PREFIX]
    # Every weight came through unchanged.
    before = {t.name: t.raw_data for t in onnx.load(str(src)).graph.initializer}
    assert {t.name: t.raw_data for t in model.graph.initializer} == before


@pytest.mark.parametrize(
    ("kw", "why"),
    [
        ({"causal": False}, f"no causal attention mask of {CTX}x{CTX}"),
        ({"positional": False}, f"no positional-embedding table of {CTX} rows"),
    ],
)
def test_graphs_the_rewrite_does_not_know_are_refused_with_the_reason(tmp_path, kw, why):
    src = tmp_path / "model.onnx"
    src.write_bytes(transformer_text_model(CTX, 8, **kw))
    with pytest.raises(T.GraphNotSupported, match=why):
        T.free_sequence_axis(src, tmp_path / "q.onnx", CTX)
    assert not (tmp_path / "q.onnx").exists()


def test_a_mask_that_lets_tokens_see_ahead_is_refused(tmp_path):
    src = tmp_path / "model.onnx"
    data = transformer_text_model(CTX, 8)
    mask = np.triu(np.full((CTX, CTX), -np.inf, np.float32), 1).tobytes()
    assert data.count(mask) == 1
    src.write_bytes(data.replace(mask, np.zeros((CTX, CTX), np.float32).tobytes()))
    with pytest.raises(T.GraphNotSupported, match="attention mask attn_mask is not causal"):
        T.free_sequence_axis(src, tmp_path / "q.onnx", CTX)


def test_not_a_model(tmp_path):
    (tmp_path / "x.onnx").write_bytes(b"\x08\x07garbage")
    with pytest.raises(ValueError):
        T.free_sequence_axis(tmp_path / "x.onnx", tmp_path / "q.onnx", CTX)


def test_causality_from_the_config():
    assert T.causal_from_config({"text_cfg": {"context_length": 77}}) is None
    assert T.causal_from_config({"text_cfg": {"pool_type": "eos"}}) is None
    assert "bidirectional" in T.causal_from_config({"text_cfg": {"no_causal_mask": True, "pool_type": "last"}})
    assert "Hugging Face" in T.causal_from_config({"text_cfg": {"hf_model_name": "xlm-roberta-large"}})
    assert "class token" in T.causal_from_config({"text_cfg": {"embed_cls": True}})
    assert "'last'" in T.causal_from_config({"text_cfg": {"pool_type": "last"}})


def test_the_check_texts_are_fixed_and_cover_both_kinds():
    texts = T.check_texts()
    assert texts == T.check_texts() and len(texts) >= 200
    assert sum(t.isascii() for t in texts) >= 100 and sum(not t.isascii() for t in texts) >= 100
    assert "" in texts and len(set(texts)) > 250


# -- a bundle, end to end -------------------------------------------------------------


def test_an_immich_style_bundle_switches_to_the_query_length_model(tmp_path):
    folder = _bundle(tmp_path)
    original_bytes = (folder / B.TEXTUAL_MODEL).read_bytes()
    form = T.prepare_query_length(folder)

    assert form.query_length and form.file == B.QUERY_TEXTUAL_MODEL and form.original == B.TEXTUAL_MODEL
    assert form.check["strings"] == len(T.check_texts()) and form.check["min_cosine"] >= T.MIN_COSINE
    assert form.check["tokens"] == [2, CTX]
    assert (folder / B.TEXTUAL_MODEL).read_bytes() == original_bytes  # the original is kept as it was
    manifest = _manifest(folder)
    assert B.QUERY_TEXTUAL_MODEL in manifest["files"] and manifest["text_model"]["input_length"] == "query"
    bundle = B.verify_bundle(folder)  # both text models hash right
    assert bundle.text_form == form

    fast = TextEncoder(bundle)
    full = TextEncoder(bundle, form=B.TextModelForm())
    assert fast.query_length and not full.query_length
    texts = ["a dog", "the red car at night on the beach", "", "dog dog dog dog dog dog dog dog dog dog dog dog dog dog"]
    assert _cos(fast.embed_texts(texts), full.embed_texts(texts)).min() >= 0.99999


def test_a_tampered_rewritten_model_is_caught_like_any_other_file(tmp_path):
    folder = _bundle(tmp_path)
    T.prepare_query_length(folder)
    path = folder / B.QUERY_TEXTUAL_MODEL
    data = bytearray(path.read_bytes())
    data[-1] ^= 1
    path.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="textual/model.query.onnx does not match its checksum"):
        TextEncoder.from_path(folder).embed_texts(["a dog"])


def _kept(folder, form):
    assert not form.query_length and form.file == B.TEXTUAL_MODEL
    assert not (folder / B.QUERY_TEXTUAL_MODEL).exists()
    manifest = _manifest(folder)
    assert B.QUERY_TEXTUAL_MODEL not in manifest["files"]
    assert manifest["text_model"] == {"file": B.TEXTUAL_MODEL, "input_length": "fixed", "reason": form.reason}
    B.verify_bundle(folder)
    enc = TextEncoder.from_path(folder)
    assert not enc.query_length and enc.embed_texts(["a dog"]).shape == (1, 8)
    return form.reason


def test_a_model_whose_embedding_reads_the_padding_keeps_its_original(tmp_path):
    """Causal mask and positional table are there, so the rewrite runs; the check sees the difference."""
    folder = _bundle(tmp_path, pooling="last")
    reason = _kept(folder, T.prepare_query_length(folder))
    assert reason.startswith("the rewritten text model embeds differently: cosine ")
    assert f"< {T.MIN_COSINE} with the original on " in reason


def test_a_rewrite_that_cannot_run_keeps_the_original(tmp_path):
    folder = _bundle(tmp_path, folded_product=True)
    reason = _kept(folder, T.prepare_query_length(folder))
    assert reason.startswith("the rewritten text model failed its check (")
    assert "Reshape" in reason


def test_a_graph_the_rewriter_cannot_handle_keeps_the_original(tmp_path):
    folder = _bundle(tmp_path, positional=False)
    reason = _kept(folder, T.prepare_query_length(folder))
    assert reason == f"its text graph was not rewritten: no positional-embedding table of {CTX} rows in the text model"


def test_a_non_causal_tower_is_left_alone(tmp_path):
    folder = _bundle(tmp_path, causal=False, text_cfg={"no_causal_mask": True, "pool_type": "last"}, pooling="last")
    before = (folder / B.TEXTUAL_MODEL).read_bytes()
    reason = _kept(folder, T.prepare_query_length(folder))
    assert "bidirectional attention (no_causal_mask)" in reason
    assert (folder / B.TEXTUAL_MODEL).read_bytes() == before


def test_a_non_causal_graph_is_left_alone_when_the_config_does_not_say(tmp_path):
    folder = _bundle(tmp_path, causal=False)
    reason = _kept(folder, T.prepare_query_length(folder))
    assert "no causal attention mask" in reason


def test_preparing_twice_gives_the_same_bundle(tmp_path):
    folder = _bundle(tmp_path)
    first = T.prepare_query_length(folder)
    data = (folder / B.QUERY_TEXTUAL_MODEL).read_bytes()
    second = T.prepare_query_length(folder)
    assert (folder / B.QUERY_TEXTUAL_MODEL).read_bytes() == data
    assert second.file == first.file and second.query_length
    B.verify_bundle(folder)


def test_a_text_model_with_external_data_shares_it_with_the_rewritten_one(tmp_path):
    onnx = pytest.importorskip("onnx")  # only to write the external-data layout large towers use
    folder = _bundle(tmp_path)
    model = onnx.load(str(folder / B.TEXTUAL_MODEL))
    onnx.save_model(model, str(folder / B.TEXTUAL_MODEL), save_as_external_data=True,
                    all_tensors_to_one_file=True, location="model.onnx_data", size_threshold=0)
    assert (folder / "textual" / "model.onnx_data").stat().st_size > 0
    B.write_manifest(folder, folder.name)
    data_before = (folder / "textual" / "model.onnx_data").read_bytes()

    form = T.prepare_query_length(folder)
    assert form.query_length, form.reason
    bundle = B.verify_bundle(folder)
    assert bundle.read_model(B.QUERY_TEXTUAL_MODEL).external_files == ("textual/model.onnx_data",)
    assert (folder / "textual" / "model.onnx_data").read_bytes() == data_before
    query = (folder / B.QUERY_TEXTUAL_MODEL).read_bytes()
    assert data_before[:64] not in query and data_before[-64:] not in query  # weights not copied

"""The ONNX Runtime encoders on tiny real bundles: providers, laziness, batching, bad outputs."""

from __future__ import annotations

import logging
import threading

import numpy as np
import pytest
from bundlekit import INT64, image_model, text_model, width_probe_model, write_bundle
from PIL import Image

from clipdesk.core import bundle as B
from clipdesk.core.embedding import ImageEmbedder, TextEmbedder
from clipdesk.core.engine import (
    CPU,
    EngineOptions,
    ImageEncoder,
    InvalidEmbedding,
    TextEncoder,
    available_providers,
    load_encoders,
    plan_providers,
)
from clipdesk.core.errors import ModelError
from support import photo_array

CUDA = "CUDAExecutionProvider"


@pytest.fixture
def tiny(tmp_path):
    return write_bundle(tmp_path / "tiny")


def _images(n, size=32, seed=0):
    return np.random.default_rng(seed).standard_normal((n, 3, size, size)).astype(np.float32)


# -- providers -------------------------------------------------------------------


def test_plan_follows_the_users_order_and_always_ends_with_cpu():
    assert plan_providers(["cuda", "cpu"], [CUDA, CPU]) == ([CUDA, CPU], [])
    assert plan_providers(["coreml"], [CPU]) == ([CPU], ["coreml: not available in this ONNX Runtime build"])
    # CPU first means CPU only: the rest would never be tried anyway.
    assert plan_providers(["cpu", "cuda"], [CUDA, CPU]) == ([CPU], [])
    assert plan_providers(["DmlExecutionProvider", "dml"], ["DmlExecutionProvider", CPU])[0] == [
        "DmlExecutionProvider", CPU,
    ]


def test_options_from_the_environment():
    opts = EngineOptions.from_env({"CLIPDESK_PROVIDERS": "DirectML, cpu", "CLIPDESK_THREADS": "2"})
    assert opts.providers == ("directml", "cpu") and opts.threads == 2
    with pytest.raises(ModelError, match="unknown execution provider 'tpu'"):
        EngineOptions.from_env({"CLIPDESK_PROVIDERS": "tpu"})
    with pytest.raises(ModelError, match="CLIPDESK_THREADS"):
        EngineOptions.from_env({"CLIPDESK_THREADS": "many"})


@pytest.mark.skipif(CUDA in available_providers(), reason="this ONNX Runtime has CUDA")
def test_asking_for_a_gpu_that_is_not_there_falls_back_to_cpu_and_says_why(tiny, caplog):
    enc = ImageEncoder.from_path(tiny, EngineOptions(providers=("cuda",), threads=1))
    with caplog.at_level(logging.WARNING, logger="clipdesk.core.engine"):
        assert enc.providers == [CPU]
    assert "cuda: not available in this ONNX Runtime build" in caplog.text


def test_the_default_order_on_a_cpu_build_is_quiet(tiny, caplog):
    with caplog.at_level(logging.WARNING, logger="clipdesk.core.engine"):
        ImageEncoder.from_path(tiny).load()
    assert caplog.text == ""


# -- image encoder -------------------------------------------------------------------


def test_encoders_satisfy_the_pipeline_contracts(tiny):
    image, text = load_encoders(tiny)
    assert isinstance(image, ImageEmbedder) and isinstance(text, TextEmbedder)
    assert (image.model_id, image.dim, image.min_input_side) == ("tiny", 8, 32)
    assert (text.model_id, text.dim) == ("tiny", 8)


def test_sessions_load_lazily(tiny):
    image, text = load_encoders(tiny)
    assert not image.loaded and not text.loaded
    image.embed(_images(1))
    assert image.loaded and not text.loaded
    text.embed_texts(["a dog"])
    assert text.loaded


def test_embeddings_are_unit_float32_and_batching_changes_nothing(tiny):
    x = _images(37)
    batched = ImageEncoder.from_path(tiny, EngineOptions(image_batch_size=8)).embed(x)
    single = np.concatenate([ImageEncoder.from_path(tiny).embed(x[i]) for i in range(len(x))])
    assert batched.dtype == np.float32 and batched.shape == (37, 8)
    np.testing.assert_allclose(np.linalg.norm(batched, axis=1), 1.0, atol=1e-6)
    np.testing.assert_allclose(batched, single, atol=1e-6)
    assert np.abs(batched[0] - batched[1]).max() > 0.01


def test_preprocess_then_embed_real_images(tiny):
    enc = ImageEncoder.from_path(tiny)
    photos = [Image.fromarray(photo_array(120, 90, seed=s)) for s in range(3)]
    out = enc.embed_images(photos)
    np.testing.assert_allclose(out, enc.embed(np.stack([enc.preprocess(p) for p in photos])), atol=1e-7)
    assert enc.embed_images([]).shape == (0, 8)


def test_a_batch_of_the_wrong_shape_is_refused(tiny):
    with pytest.raises(ModelError, match=r"image batch has shape \(2, 3, 64, 64\), expected \(N, 3, 32, 32\)"):
        ImageEncoder.from_path(tiny).embed(_images(2, size=64))


def test_zero_norm_outputs_are_refused_with_the_rows(tmp_path):
    onnx = image_model(32, 8, weight=np.zeros((3, 8)), bias=np.zeros(8))
    enc = ImageEncoder.from_path(write_bundle(tmp_path / "zero", image_onnx=onnx))
    with pytest.raises(InvalidEmbedding, match="invalid \\(non-finite or zero\\) embedding for inputs 0, 1") as err:
        enc.embed(_images(2))
    assert err.value.rows == [0, 1]


def test_non_finite_outputs_are_refused(tmp_path):
    w = np.ones((3, 8), np.float32)
    w[1, 3] = 3e38
    enc = ImageEncoder.from_path(write_bundle(tmp_path / "inf", image_onnx=image_model(32, 8, weight=w)))
    x = np.zeros((3, 3, 32, 32), np.float32)
    x[1, 1] = 10.0  # only this row overflows to infinity
    with pytest.raises(InvalidEmbedding) as err:
        enc.embed(x)
    assert err.value.rows == [1]


def test_a_model_onnx_runtime_cannot_load_is_reported_not_a_crash(tmp_path):
    folder = write_bundle(tmp_path / "broken", image_onnx=image_model(32, 8, op="NoSuchOperator"))
    image, text = load_encoders(folder)
    with pytest.raises(ModelError) as err:
        image.embed(_images(1))
    assert str(err.value).startswith("model broken is corrupt: visual/model.onnx cannot be loaded by ONNX Runtime (")
    assert "clipdesk models download broken" in str(err.value)
    assert text.embed_texts(["a dog"]).shape == (1, 8)  # the other tower still works


def test_a_model_that_disagrees_with_its_preprocess_config(tmp_path):
    folder = write_bundle(tmp_path / "mismatch", image_onnx=image_model(64, 8))
    with pytest.raises(ModelError, match=r"inconsistent: the image model takes \[3, 64, 64\]"):
        ImageEncoder.from_path(folder).load()


def test_a_fixed_batch_model_is_fed_one_image_at_a_time(tmp_path):
    folder = write_bundle(tmp_path / "fixed", image_onnx=image_model(32, 8, batch=1))
    x = _images(3)
    np.testing.assert_allclose(
        ImageEncoder.from_path(folder).embed(x), ImageEncoder.from_path(write_bundle(tmp_path / "dyn")).embed(x), atol=1e-6
    )


def test_concurrent_calls_share_one_session(tiny):
    enc = ImageEncoder.from_path(tiny, EngineOptions(threads=1))
    x = _images(8)
    want = enc.embed(x)
    results, errors = [], []

    def work():
        try:
            results.append(enc.embed(x))
        except Exception as exc:  # noqa: BLE001 - collected for the assert
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(results) == 4
    for r in results:
        np.testing.assert_array_equal(r, want)


# -- text encoder ----------------------------------------------------------------


def test_text_embeddings(tiny):
    enc = TextEncoder.from_path(tiny)
    out = enc.embed_texts(["a dog on the beach", "red car at night", "a dog on the beach"])
    assert out.dtype == np.float32 and out.shape == (3, 8)
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-6)
    np.testing.assert_array_equal(out[0], out[2])
    assert np.abs(out[0] - out[1]).max() > 0.01
    assert enc.embed_texts([]).shape == (0, 8)
    assert enc.embed_texts("a dog").shape == (1, 8)


def test_a_text_model_taking_int64_gets_int64(tmp_path):
    folder = write_bundle(tmp_path / "i64", text_onnx=text_model(12, 8, input_type=INT64))
    np.testing.assert_allclose(
        TextEncoder.from_path(folder).embed_texts(["a dog"]),
        TextEncoder.from_path(write_bundle(tmp_path / "i32")).embed_texts(["a dog"]),
        atol=1e-6,
    )


def test_a_text_model_with_another_context_length(tmp_path):
    folder = write_bundle(tmp_path / "ctx", text_onnx=text_model(16, 8))
    with pytest.raises(ModelError, match="takes 16 tokens but config.json says 12"):
        TextEncoder.from_path(folder).embed_texts(["a dog"])


# -- query-length text models ------------------------------------------------------------


def _probe_bundle(tmp_path, input_length="query", name="probe"):
    """A text model that reports how many tokens it was given (see bundlekit.width_probe_model)."""
    folder = write_bundle(tmp_path / name, text_onnx=width_probe_model(8))
    B.update_manifest(folder, name, text_model=B.TextModelForm(input_length=input_length))
    return folder


def _widths(out):
    return np.round(out[:, 0] / out[:, 1]).astype(int).tolist()


TEXTS = ["a dog", "a dog on the beach at sunset", "red", "", "dog " * 40]  # 4, 9, 3, 2 and 12 (cut) tokens


def test_a_query_length_model_gets_each_batch_cut_to_its_longest_text(tmp_path):
    enc = TextEncoder.from_path(_probe_bundle(tmp_path))
    assert enc.query_length
    assert _widths(enc.embed_texts(TEXTS)) == [12] * 5
    assert _widths(enc.embed_texts(TEXTS[:4])) == [9] * 4
    enc.batch_size = 1  # the search box's case: one query, its own length
    assert _widths(enc.embed_texts(TEXTS)) == [4, 9, 3, 2, 12]
    enc.batch_size = 2  # sorted by length, so short texts share batches
    assert _widths(enc.embed_texts(TEXTS)) == [9, 9, 3, 3, 12]


def test_a_fixed_length_model_gets_the_whole_context(tmp_path):
    enc = TextEncoder.from_path(_probe_bundle(tmp_path, input_length="fixed"))
    assert not enc.query_length
    assert _widths(enc.embed_texts(TEXTS)) == [12] * 5
    assert _widths(enc.embed_tokens(np.array([[2, 4, 3]]))) == [12]  # short rows are padded


def test_a_record_that_says_query_length_for_a_fixed_model_is_not_believed(tmp_path, caplog):
    folder = write_bundle(tmp_path / "liar")
    B.update_manifest(folder, "liar", text_model=B.TextModelForm(input_length="query"))
    enc = TextEncoder.from_path(folder)
    with caplog.at_level(logging.WARNING, logger="clipdesk.core.engine"):
        assert not enc.query_length
    assert "takes 12 tokens; using 12" in caplog.text
    np.testing.assert_array_equal(enc.embed_texts(["a dog"]), TextEncoder.from_path(write_bundle(tmp_path / "t")).embed_texts(["a dog"]))


def test_token_ids_of_the_wrong_shape_are_refused(tiny):
    enc = TextEncoder.from_path(tiny)
    with pytest.raises(ModelError, match=r"token ids of shape \(1, 13\), expected \(N, T\) with T <= 12"):
        enc.embed_tokens(np.zeros((1, 13), np.int32))


def test_only_real_accelerators_count_as_a_gpu():
    """Issue 16: the models dialog said "GPU available: Azure" on a CPU-only
    machine; ONNX Runtime's Azure provider calls a cloud endpoint."""
    from clipdesk.core.engine import available_providers, gpu_providers

    assert gpu_providers(["AzureExecutionProvider", "CPUExecutionProvider"]) == []
    assert gpu_providers(["CUDAExecutionProvider", "CPUExecutionProvider"]) == ["NVIDIA CUDA"]
    assert "Azure" not in " ".join(gpu_providers(available_providers()))

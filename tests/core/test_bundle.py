"""Bundles are checked before ONNX Runtime parses anything: hashes, names, links, external data."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
from bundlekit import image_model, image_weight, write_bundle

from clipdesk.core import bundle as B
from clipdesk.core.engine import ImageEncoder
from clipdesk.core.errors import ModelError


@pytest.fixture
def tiny(tmp_path):
    return write_bundle(tmp_path / "tiny-model")


def _flip_byte(path, offset=-20):
    data = bytearray(path.read_bytes())
    data[offset] ^= 0xFF
    path.write_bytes(bytes(data))


def _rewrite_manifest(folder, edit):
    m = json.loads((folder / B.MANIFEST).read_text())
    edit(m)
    (folder / B.MANIFEST).write_text(json.dumps(m))


def test_a_good_bundle_opens_and_says_what_it_is(tiny):
    b = B.open_bundle(tiny)
    assert b.model_id == "tiny-model"
    assert (b.embed_dim, b.image_size, b.context_length) == (8, 32, 12)
    assert set(B.REQUIRED_FILES) <= set(b.files)
    assert b.preprocess_cfg["resize_mode"] == "shortest"
    verified = b.read_model(B.VISUAL_MODEL)
    assert verified.path == tiny / B.VISUAL_MODEL and verified.external_files == ()
    assert B.verify_bundle(tiny).model_id == "tiny-model"


def test_manifest_lists_every_file_but_itself_and_hidden_ones(tiny):
    (tiny / ".partial.tmp").write_bytes(b"x")
    m = B.build_manifest(tiny, "tiny-model")
    assert B.MANIFEST not in m["files"] and ".partial.tmp" not in m["files"]
    assert m["files"]["config.json"]["size"] == (tiny / "config.json").stat().st_size


def test_no_manifest_is_refused_with_the_way_out(tmp_path):
    folder = write_bundle(tmp_path / "raw", manifest=False)
    with pytest.raises(ModelError, match=r"no manifest\.json.*clipdesk models download raw"):
        B.open_bundle(folder)


def test_missing_folder_is_not_installed(tmp_path):
    with pytest.raises(ModelError, match="not installed"):
        B.open_bundle(tmp_path / "nothing")


def test_a_tampered_model_is_caught_before_onnx_runtime_sees_it(tiny):
    _flip_byte(tiny / B.VISUAL_MODEL)
    b = B.open_bundle(tiny)  # same size: only the hash can tell
    with pytest.raises(ModelError) as err:
        b.read_model(B.VISUAL_MODEL)
    assert str(err.value) == (
        "model tiny-model is corrupt: visual/model.onnx does not match its checksum; "
        "run `clipdesk models download tiny-model` to fetch it again"
    )
    encoder = ImageEncoder(b)
    with pytest.raises(ModelError, match="does not match its checksum"):
        encoder.embed(np.zeros((1, 3, 32, 32), np.float32))


def test_a_tampered_config_is_caught_when_opening(tiny):
    (tiny / "config.json").write_text(json.dumps({"embed_dim": 9, "vision_cfg": {"image_size": 32}, "text_cfg": {"context_length": 12}})[:-1] + " }")
    with pytest.raises(ModelError, match="config.json"):
        B.open_bundle(tiny)


def test_a_truncated_file_reports_its_size(tiny):
    data = (tiny / B.TEXTUAL_MODEL).read_bytes()
    (tiny / B.TEXTUAL_MODEL).write_bytes(data[:100])
    with pytest.raises(ModelError, match=rf"textual/model.onnx has 100 bytes instead of {len(data)}"):
        B.open_bundle(tiny)


def test_verify_hashes_files_that_opening_does_not_read(tiny):
    readme = tiny / "README.md"
    readme.write_text("card\n")
    B.write_manifest(tiny, "tiny-model")
    readme.write_text("CARD\n")
    B.open_bundle(tiny)
    with pytest.raises(ModelError, match="README.md does not match its checksum"):
        B.verify_bundle(tiny)


def test_a_required_file_missing_from_the_manifest(tiny):
    _rewrite_manifest(tiny, lambda m: m["files"].pop(B.TOKENIZER))
    with pytest.raises(ModelError, match="incomplete: textual/tokenizer.json is not in its manifest"):
        B.open_bundle(tiny)


def test_a_listed_file_that_is_gone(tiny):
    (tiny / B.SPECIAL_TOKENS_MAP).unlink()
    with pytest.raises(ModelError, match="special_tokens_map.json is missing"):
        B.open_bundle(tiny)


def test_unknown_manifest_format(tiny):
    _rewrite_manifest(tiny, lambda m: m.update(format=99))
    with pytest.raises(ModelError, match="format 99"):
        B.open_bundle(tiny)


@pytest.mark.parametrize(
    "name", ["../outside.onnx", "/etc/passwd", "visual/../../x", "C:/x/model.onnx", "visual\\model.onnx", "./config.json", "visual//m", ""]
)
def test_names_that_could_escape_are_refused(tiny, name):
    with pytest.raises(ValueError):
        B.safe_relpath(name)
    _rewrite_manifest(tiny, lambda m: m["files"].update({name: {"sha256": "0" * 64, "size": 1}}))
    with pytest.raises(ModelError, match="unsafe file"):
        B.open_bundle(tiny)


def test_a_symlink_out_of_the_folder_is_refused_even_with_the_right_hash(tiny, tmp_path):
    outside = tmp_path / "elsewhere.onnx"
    os.replace(tiny / B.VISUAL_MODEL, outside)
    os.symlink(outside, tiny / B.VISUAL_MODEL)
    with pytest.raises(ModelError, match="visual/model.onnx is a link that points outside"):
        B.open_bundle(tiny)


def test_a_symlink_within_the_folder_is_fine(tiny):
    os.replace(tiny / B.PREPROCESS_CFG, tiny / "visual" / "pp.json")
    os.symlink("pp.json", tiny / B.PREPROCESS_CFG)
    B.write_manifest(tiny, "tiny-model")
    assert B.open_bundle(tiny).preprocess_cfg["size"] == [32, 32]


# -- external data ---------------------------------------------------------------


def _external_bundle(tmp_path, location, *, data_at=None, listed=True):
    w = image_weight(seed=0)
    onnx_bytes = image_model(32, 8, seed=0, external={"location": location, "offset": 0, "length": w.nbytes})
    folder = write_bundle(tmp_path / "ext", image_onnx=onnx_bytes, manifest=False)
    target = data_at if data_at is not None else folder / "visual" / location
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(w.astype("<f4").tobytes())
    names = [n for n in B.iter_bundle_files(folder) if listed or n != f"visual/{location}"]
    B.write_manifest(folder, "ext", names=names)
    return folder


def test_external_data_inside_the_folder_is_hashed_and_loads(tmp_path):
    folder = _external_bundle(tmp_path, "weights.bin")
    b = B.open_bundle(folder)
    verified = b.read_model(B.VISUAL_MODEL)
    assert verified.external_files == ("visual/weights.bin",)
    inline = write_bundle(tmp_path / "inline")
    x = np.random.default_rng(3).random((2, 3, 32, 32), dtype=np.float32)
    np.testing.assert_allclose(ImageEncoder(b).embed(x), ImageEncoder.from_path(inline).embed(x), atol=1e-6)

    _flip_byte(folder / "visual" / "weights.bin", 0)
    with pytest.raises(ModelError, match="visual/weights.bin does not match its checksum"):
        B.open_bundle(folder).read_model(B.VISUAL_MODEL)


def test_external_data_outside_the_folder_is_refused(tmp_path):
    folder = _external_bundle(tmp_path, "../../secret.bin", data_at=tmp_path / "secret.bin")
    with pytest.raises(ModelError, match="refers to external data outside its folder"):
        B.open_bundle(folder).read_model(B.VISUAL_MODEL)


def test_external_data_with_an_absolute_path_is_refused(tmp_path):
    folder = _external_bundle(tmp_path, str(tmp_path / "abs.bin"), data_at=tmp_path / "abs.bin")
    with pytest.raises(ModelError, match="outside its folder"):
        B.open_bundle(folder).read_model(B.VISUAL_MODEL)


def test_external_data_not_in_the_manifest_is_refused(tmp_path):
    folder = _external_bundle(tmp_path, "weights.bin", listed=False)
    with pytest.raises(ModelError, match="visual/weights.bin that is not in the manifest"):
        B.open_bundle(folder).read_model(B.VISUAL_MODEL)


def test_external_data_reader_agrees_with_onnx(tmp_path):
    onnx = pytest.importorskip("onnx")
    from onnx.external_data_helper import _get_all_tensors, uses_external_data

    blob = image_model(32, 8, external={"location": "w.bin", "offset": 0, "length": 96})
    m = onnx.load_model_from_string(blob)
    theirs = {
        {e.key: e.value for e in t.external_data}["location"] for t in _get_all_tensors(m) if uses_external_data(t)
    }
    assert B.external_data_locations(blob) == theirs == {"w.bin"}
    assert B.external_data_locations(image_model(32, 8)) == set()


def test_garbage_that_hashes_right_is_still_not_a_model(tmp_path):
    folder = write_bundle(tmp_path / "junk", image_onnx=b"\xff" * 64)
    with pytest.raises(ModelError, match="visual/model.onnx is not a valid ONNX file"):
        B.open_bundle(folder).read_model(B.VISUAL_MODEL)


# -- the text model record -----------------------------------------------------------


def test_without_a_record_the_text_model_is_the_fixed_length_original(tiny):
    form = B.open_bundle(tiny).text_form
    assert form == B.TextModelForm() and form.file == B.TEXTUAL_MODEL and not form.query_length


def test_the_record_round_trips_through_the_manifest(tiny):
    (tiny / B.QUERY_TEXTUAL_MODEL).write_bytes((tiny / B.TEXTUAL_MODEL).read_bytes())
    form = B.TextModelForm(B.QUERY_TEXTUAL_MODEL, B.QUERY_LENGTH, original=B.TEXTUAL_MODEL, check={"strings": 3})
    m = B.update_manifest(tiny, "tiny-model", add=[B.QUERY_TEXTUAL_MODEL], text_model=form)
    assert m["text_model"] == {"file": B.QUERY_TEXTUAL_MODEL, "input_length": "query",
                               "original": B.TEXTUAL_MODEL, "check": {"strings": 3}}
    assert B.verify_bundle(tiny).text_form == form


def test_updating_the_manifest_keeps_what_it_does_not_touch(tiny):
    _rewrite_manifest(tiny, lambda m: m.update(source={"repo": "immich-app/x"}))
    before = json.loads((tiny / B.MANIFEST).read_text())
    (tiny / "textual" / "extra.onnx").write_bytes(b"x")
    after = B.update_manifest(tiny, "tiny-model", add=["textual/extra.onnx"])
    assert after["source"] == {"repo": "immich-app/x"}
    assert {k: v for k, v in after["files"].items() if k != "textual/extra.onnx"} == before["files"]
    assert after["files"]["textual/extra.onnx"]["size"] == 1
    after = B.update_manifest(tiny, "tiny-model", remove=["textual/extra.onnx"])
    assert after["files"] == before["files"]


def test_verify_hashes_every_onnx_file_the_manifest_lists(tiny):
    (tiny / B.QUERY_TEXTUAL_MODEL).write_bytes((tiny / B.TEXTUAL_MODEL).read_bytes())
    B.update_manifest(tiny, "tiny-model", add=[B.QUERY_TEXTUAL_MODEL])
    _flip_byte(tiny / B.QUERY_TEXTUAL_MODEL)
    with pytest.raises(ModelError, match="textual/model.query.onnx does not match its checksum"):
        B.verify_bundle(tiny)


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ({"file": B.QUERY_TEXTUAL_MODEL, "input_length": "query"}, "names textual/model.query.onnx, which the manifest does not list"),
        ({"file": B.TEXTUAL_MODEL, "input_length": "sometimes"}, "unknown input_length 'sometimes'"),
        ("query", "record is malformed"),
    ],
)
def test_a_bad_record_is_a_corrupt_bundle(tiny, record, message):
    _rewrite_manifest(tiny, lambda m: m.update(text_model=record))
    with pytest.raises(ModelError, match=message):
        B.open_bundle(tiny)

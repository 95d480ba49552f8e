"""Tokenization: open_clip's text cleaning redone in Python, then tokenizers on tokenizer.json."""

from __future__ import annotations

import importlib.util
import json
import logging
import sys

import numpy as np
import pytest
from bundlekit import tokenizer_json

from clipdesk.core.errors import ModelError
from clipdesk.core.tokenize import Tokenizer, clean_mode_for, clean_text, fix_text
from support import REPO


@pytest.mark.parametrize(
    "raw, fixed",
    [
        ("\u201cquoted\u201d and \u2018single\u2019", "\"quoted\" and 'single'"),
        ("\ufb01sh \ufb02y", "fish fly"),
        ("\uff26\uff55\uff4c\uff4c\u3000\uff37\uff49\uff44\uff54\uff48", "Full Width"),
        ("cafe\u0301", "caf\u00e9"),
        ("fish &amp; chips &eacute;", "fish & chips \u00e9"),
        ("<b> &amp; </b>", "<b> &amp; </b>"),  # a literal '<': ftfy leaves entities alone
        ("a\x00b\x7fc\ufeffd", "abcd"),
        ("\x1b[31mred\x1b[0m", "red"),
        ("one\r\ntwo\u2028three", "one\ntwo\nthree"),
        ("&notanentity; & x", "&notanentity; & x"),
    ],
)
def test_fix_text_does_what_ftfy_does_for_queries(raw, fixed):
    assert fix_text(raw) == fixed


def test_fix_text_agrees_with_ftfy_where_installed():
    ftfy = pytest.importorskip("ftfy")
    samples = [
        "\u201cHello\u201d \u2014 it\u2019s &amp;amp; \ufb01ne", "\uff34\uff4f\uff4b\uff59\uff4f\u3000\u6771\u4eac",
        "e\u0301te\u0301 \u00e0 Paris", "tab\tand\x0bvertical", "emoji \U0001f436\ufe0f\u200d", "&lt;tag&gt;",
    ]
    for s in samples:
        assert fix_text(s) == ftfy.fix_text(s), s


def test_clean_modes():
    text = "  A  Dog&amp;Cat \u2019s_toy!\t"
    assert clean_text(text, "lower") == "a dog&cat 's_toy!"
    assert clean_text(text, "whitespace") == "A Dog&Cat 's_toy!"
    assert clean_text(text, "canonicalize") == "a dogcat s toy"
    assert clean_text(text, "none") == "A  Dog&Cat 's_toy!"


def test_clean_mode_comes_from_the_bundle_as_open_clip_decides_it():
    assert clean_mode_for({}, {}) == "lower"
    assert clean_mode_for({"text_cfg": {"hf_tokenizer_name": "x"}}, {}) == "whitespace"
    assert clean_mode_for({"text_cfg": {"tokenizer_kwargs": {"clean": "canonicalize"}}}, {}) == "canonicalize"
    assert clean_mode_for({"text_cfg": {"hf_tokenizer_name": "x"}}, {"clean": "lower"}) == "lower"
    with pytest.raises(ModelError, match="unknown text cleaning mode"):
        clean_mode_for({}, {"clean": "shout"})


def _tok(ctx=8, **kw) -> Tokenizer:
    return Tokenizer(tokenizer_json(), context_length=ctx, pad_token="<pad>", **kw)


def test_ids_are_int32_padded_with_the_pad_id():
    out = _tok()(["a dog", "Red CAR at night"])
    assert out.dtype == np.int32 and out.shape == (2, 8)
    assert out[0].tolist() == [2, 4, 5, 3, 0, 0, 0, 0]
    assert out[1][:6].tolist() == [2, 12, 13, 10, 14, 3]  # lowercased first


def test_truncation_keeps_the_end_token():
    out = _tok()(["dog " * 50])
    assert out[0].tolist() == [2, 5, 5, 5, 5, 5, 5, 3]


def test_pad_token_resolution():
    tj = tokenizer_json()
    by_map = Tokenizer.from_files(tj, {}, {}, {"pad_token": {"content": "<end>"}}, context_length=6)
    assert by_map(["a"])[0].tolist() == [2, 4, 3, 3, 3, 3]
    by_id = Tokenizer.from_files(tj, {}, {"pad_token_id": 7, "pad_token": "<end>"}, {}, context_length=6)
    assert by_id(["a"])[0].tolist() == [2, 4, 3, 7, 7, 7]


def test_an_unknown_pad_token_pads_with_zero_and_says_so(caplog):
    with caplog.at_level(logging.WARNING):
        tok = Tokenizer(tokenizer_json(), context_length=5, pad_token="<nope>", model_id="m")
    assert tok(["a"])[0].tolist() == [2, 4, 3, 0, 0]
    assert "not in the vocabulary" in caplog.text


def test_empty_input_and_a_single_string():
    tok = _tok()
    assert tok([]).shape == (0, 8)
    assert tok("a dog").shape == (1, 8)


def test_a_broken_tokenizer_file_is_a_model_error():
    with pytest.raises(ModelError, match="tokenizer.json cannot be read"):
        Tokenizer(b"{not json", context_length=8, model_id="m")


@pytest.mark.skipif(importlib.util.find_spec("open_clip") is None, reason="needs open_clip's BPE vocabulary file")
def test_the_exported_clip_tokenizer_gives_clips_well_known_ids():
    sys.path.insert(0, str(REPO / "models"))
    try:
        from export.tokenizer import tokenizer_files
    finally:
        sys.path.remove(str(REPO / "models"))
    files = tokenizer_files(77)
    tok = Tokenizer.from_files(
        files["tokenizer.json"], {}, json.loads(files["tokenizer_config.json"]),
        json.loads(files["special_tokens_map.json"]), context_length=77,
    )
    ids = tok(["A dog on a beach at sunset", "x" * 400])
    assert ids[0][:10].tolist() == [49406, 320, 1929, 525, 320, 2117, 536, 3424, 49407, 0]
    assert ids[1][0] == 49406 and ids[1][-1] == 49407 and 0 not in ids[1]


def test_lengths_count_the_start_and_end_tokens_and_stop_at_the_context():
    ids, lengths = _tok().encode_with_lengths(["a dog", "", "dog " * 50])
    assert lengths.dtype == np.int32 and lengths.tolist() == [4, 2, 8]
    assert ids[0].tolist() == [2, 4, 5, 3, 0, 0, 0, 0]
    assert _tok().encode_with_lengths([])[1].shape == (0,)


def test_padding_to_the_longest_text_only():
    tok = _tok()
    short = tok.encode(["a dog", "red car at night"], pad_to_longest=True)
    assert short.shape == (2, 6) and short.dtype == np.int32
    np.testing.assert_array_equal(short, tok.encode(["a dog", "red car at night"])[:, :6])
    assert tok.encode(["dog " * 50], pad_to_longest=True).shape == (1, 8)
    assert tok.encode([], pad_to_longest=True).shape == (0, 1)

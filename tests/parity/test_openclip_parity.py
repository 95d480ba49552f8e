"""ClipDesk against open_clip itself, on a randomly initialised ViT-B-32 exported by models/export_openclip.py.

A random model gives similar embeddings to many inputs, so the model *inputs*
are compared directly (token ids; preprocessed tensors), and image cosines are
printed beside the cosines between different photos, so a reader can see the
comparison can tell photos apart. Run with ``-s`` to see the tables.
"""

from __future__ import annotations

import shutil
import sys

import numpy as np
import pytest
from PIL import Image, ImageOps
from samples import sample_photos
from texts import generate

from clipdesk.core import bundle as B
from clipdesk.core.engine import EngineOptions, TextEncoder, load_encoders
from clipdesk.core.imaging import decode, to_srgb
from clipdesk.core.textgraph import MIN_COSINE, prepare_query_length
from support import REPO

ARCH = "ViT-B-32"
EOT = 49407

pytestmark = [pytest.mark.parity, pytest.mark.slow]


@pytest.fixture(scope="module")
def encoders(reference):
    return load_encoders(reference.bundle, EngineOptions(threads=2))


@pytest.fixture(scope="module")
def photos():
    found = sample_photos()
    if len(found) < 20:
        pytest.skip(f"only {len(found)} sample photos found; scikit-image, scikit-learn and matplotlib provide them")
    return found


def _reference_input(reference, path) -> np.ndarray:
    """open_clip's transform on the photo as ClipDesk decodes it (orientation
    applied, the sRGB a viewer shows: ICC profile applied, transparency on
    white; imaging.to_srgb). What is compared is preprocessing and the model."""
    with Image.open(path) as img:
        rgb = to_srgb(ImageOps.exif_transpose(img))
    return reference.preprocess(rgb).numpy()


def _torch_image_embeddings(reference, batch: np.ndarray) -> np.ndarray:
    torch = reference.torch
    with torch.no_grad():
        out = reference.model.encode_image(torch.from_numpy(batch)).numpy()
    return out / np.linalg.norm(out, axis=1, keepdims=True)


def _off_diagonal(sim: np.ndarray) -> np.ndarray:
    return sim[~np.eye(len(sim), dtype=bool)]


# -- open_clip's text embeddings of 1,000 strings, computed once ------------------------


def _torch_text_embeddings(reference, ids: np.ndarray, batch: int = 100) -> np.ndarray:
    """open_clip's own encode_text on context-length token ids, unit rows."""
    torch = reference.torch
    parts = []
    with torch.no_grad():
        for i in range(0, len(ids), batch):
            parts.append(reference.model.encode_text(torch.from_numpy(ids[i : i + batch]).long()).numpy())
    out = np.concatenate(parts)
    return out / np.linalg.norm(out, axis=1, keepdims=True)


@pytest.fixture(scope="module")
def thousand(reference):
    """1,000 strings, open_clip's token ids for them, and open_clip's embeddings."""
    texts = generate(1000)
    ids = reference.tokenizer(texts).numpy()
    return texts, ids, _torch_text_embeddings(reference, ids)


def test_the_exported_bundle_is_complete_and_verified(reference):
    b = B.verify_bundle(reference.bundle)
    assert (b.embed_dim, b.image_size, b.context_length) == (512, 224, 77)
    assert b.tokenizer_config["pad_token_id"] == 0
    # A causal tower: exported with a free sequence axis, checked at export.
    assert b.text_form.query_length and b.text_form.file == B.TEXTUAL_MODEL
    assert b.text_form.check["min_cosine"] >= MIN_COSINE and b.text_form.check["tokens"] == [2, 77]
    print(f"\nexport of ViT-B-32 (both towers) took {reference.export_seconds:.1f} s; "
          f"query-length check at export: {b.text_form.check}")


def test_token_ids_match_open_clip(reference, encoders):
    _, text = encoders
    texts = generate(1000)
    ours = text.tokenize(texts)
    theirs = reference.tokenizer(texts).numpy()
    assert ours.shape == theirs.shape == (1000, 77) and ours.dtype == np.int32
    same = (ours == theirs).all(axis=1)
    ascii_rows = np.array([t.isascii() for t in texts])
    long_rows = (theirs[:, -1] == 49407)  # truncated to the context length
    rate_other = same[~ascii_rows].mean()
    print(
        f"\ntoken ids: ASCII {same[ascii_rows].sum()}/{ascii_rows.sum()} identical, "
        f"non-ASCII {same[~ascii_rows].sum()}/{(~ascii_rows).sum()} ({100 * rate_other:.2f}%); "
        f"{long_rows.sum()} strings past 77 tokens"
    )
    for i in np.flatnonzero(~same):
        print(f"  differs: {texts[i]!r}: ours {ours[i][:12].tolist()} open_clip {theirs[i][:12].tolist()}")
    assert same[ascii_rows].all()
    assert rate_other >= 0.995
    assert long_rows.sum() >= 100


def test_text_embeddings_match_open_clip(reference, encoders, thousand):
    _, text = encoders
    all_texts, _, all_theirs = thousand
    first = {t: i for i, t in reversed(list(enumerate(all_texts)))}
    rows = list(first.values())[::9]  # distinct strings, all kinds
    texts, theirs = [all_texts[i] for i in rows], all_theirs[rows]
    ours = text.embed_texts(texts)
    cos = (ours * theirs).sum(axis=1)
    between = _off_diagonal(ours @ ours.T)
    print(
        f"\ntext cosine ClipDesk vs open_clip over {len(texts)} strings: min {cos.min():.6f}; "
        f"between different strings: median {np.median(between):.4f}, max {between.max():.4f}"
    )
    assert cos.min() >= 0.9999


# -- the query-length text path ---------------------------------------------------------


def test_short_path_token_ids_match_open_clip(reference, encoders, thousand):
    _, text = encoders
    texts, theirs, _ = thousand
    assert text.query_length
    ours, lengths = text.tokenizer.encode_with_lengths(texts)
    their_lengths = (theirs == EOT).argmax(axis=1) + 1
    same = (ours == theirs).all(axis=1)
    # Where the ids agree, the short path's L tokens end at open_clip's end token and
    # everything open_clip has after it is padding: cutting there drops nothing.
    assert (lengths[same] == their_lengths[same]).all()
    assert all((theirs[i, lengths[i]:] == 0).all() for i in np.flatnonzero(same))
    for i in range(len(texts)):
        short = text.tokenizer.encode([texts[i]], pad_to_longest=True)[0]
        assert short.shape == (lengths[i],)
        np.testing.assert_array_equal(short, ours[i, : lengths[i]])
    ascii_rows = np.array([t.isascii() for t in texts])
    print(
        f"\nshort-path token ids: {same[ascii_rows].sum()}/{ascii_rows.sum()} ASCII and "
        f"{same[~ascii_rows].sum()}/{(~ascii_rows).sum()} non-ASCII strings identical to open_clip's up to "
        f"and including the end token; lengths {lengths.min()}-{lengths.max()} tokens, median {np.median(lengths):.0f}"
    )
    assert same[ascii_rows].all() and same[~ascii_rows].mean() >= 0.995


def test_short_path_embeddings_match_open_clip(reference, encoders, thousand):
    """open_clip's torch encode_text on 77 tokens vs ClipDesk's ONNX text model on each string's own tokens."""
    _, text = encoders
    texts, ids, theirs = thousand
    lengths = (ids == EOT).argmax(axis=1) + 1
    batched = text.embed_tokens(ids, lengths)  # sorted by length, each batch cut to its longest
    cos = (batched * theirs).sum(axis=1)
    alone_rows = np.arange(0, 1000, 10)  # the search box: one string at its own length
    alone = np.concatenate([text.embed_tokens(ids[i : i + 1, : lengths[i]]) for i in alone_rows])
    cos_alone = (alone * theirs[alone_rows]).sum(axis=1)
    distinct = np.unique(ids, axis=0, return_index=True)[1][:200]  # different token ids
    between = _off_diagonal(theirs[distinct] @ theirs[distinct].T)
    print(
        f"\nshort path vs open_clip over {len(texts)} strings ({lengths.min()}-{lengths.max()} tokens, "
        f"median {np.median(lengths):.0f}): cosine min {cos.min():.7f}, median {np.median(cos):.7f}; "
        f"one at a time ({len(alone_rows)} strings): min {cos_alone.min():.7f}; "
        f"between different strings: median {np.median(between):.4f}, max {between.max():.4f}"
    )
    assert cos.min() >= MIN_COSINE and cos_alone.min() >= MIN_COSINE


def _export_like_immich(reference, dest):
    """The text tower as Immich's exporter writes it today: encode_text(normalize=True), one text of 77 tokens."""
    import warnings

    torch = reference.torch
    model = reference.model

    class Immich(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.m = model

        def forward(self, text):
            return self.m.encode_text(text, normalize=True)

    fastpath = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(False)
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                Immich(), (torch.ones(1, 77, dtype=torch.int32),), str(dest), input_names=["text"],
                output_names=["embedding"], opset_version=17, dynamo=False,
            )
    finally:
        torch.backends.mha.set_fastpath_enabled(fastpath)


def test_an_immich_style_text_model_is_rewritten_and_matches_open_clip(reference, thousand, tmp_path):
    folder = shutil.copytree(reference.bundle, tmp_path / "immich-style")
    _export_like_immich(reference, folder / B.TEXTUAL_MODEL)
    B.write_manifest(folder, folder.name)  # as a download: no text_model record yet
    assert TextEncoder.from_path(folder).load().input_shape == [1, 77]

    form = prepare_query_length(folder, options=EngineOptions(threads=2))
    assert form.query_length and form.file == B.QUERY_TEXTUAL_MODEL, form.reason
    B.verify_bundle(folder)
    text = TextEncoder.from_path(folder, EngineOptions(threads=2))
    texts, ids, theirs = thousand
    rows = np.arange(0, 1000, 10)
    ours = text.embed_texts([texts[i] for i in rows])
    same = (text.tokenize([texts[i] for i in rows]) == ids[rows]).all(axis=1)
    cos = (ours * theirs[rows]).sum(axis=1)[same]
    print(
        f"\nImmich-style text model ([1, 77], normalised in the graph) rewritten: {form.check['rewrite']}; "
        f"its check: {form.check['strings']} texts, min cosine {form.check['min_cosine']}; "
        f"vs open_clip over {same.sum()} strings: min cosine {cos.min():.7f}"
    )
    assert cos.min() >= MIN_COSINE


def test_a_bidirectional_text_tower_is_exported_at_its_fixed_length(reference, tmp_path):
    """A SigLIP-style tower (no causal mask, last-position pooling): its embedding depends on the padding."""
    from open_clip.model import CLIP, set_model_preprocess_cfg

    sys.path.insert(0, str(REPO / "models"))
    try:
        import export_openclip
    finally:
        sys.path.remove(str(REPO / "models"))
    reference.torch.manual_seed(0)
    tiny = CLIP(
        512,
        {"image_size": 224, "layers": 1, "width": 64, "patch_size": 32, "head_width": 32},
        {"context_length": 77, "vocab_size": 49408, "width": 64, "heads": 2, "layers": 1,
         "no_causal_mask": True, "pool_type": "last"},
    ).eval()
    set_model_preprocess_cfg(tiny, reference.model.visual.preprocess_cfg)
    assert export_openclip.query_length_reason(reference.model, 77) is None
    assert "bidirectional" in export_openclip.query_length_reason(tiny, 77)

    out = export_openclip.export_model(tiny, ARCH, tmp_path / "bidirectional", card={"test": "bidirectional"})
    b = B.verify_bundle(out)
    assert not b.text_form.query_length and "bidirectional attention" in b.text_form.reason
    text = TextEncoder(b)
    assert text.load().input_shape == ["batch", 77] and not text.query_length
    print(f"\nbidirectional text tower kept at 77 tokens: {b.text_form.reason}")


def test_full_decode_inputs_and_embeddings_match_open_clip(reference, encoders, photos):
    image, _ = encoders
    ours = np.stack([decode(p, embedder=image, full_decode=True).model_input for p in photos])
    theirs = np.stack([_reference_input(reference, p) for p in photos])
    diff = np.abs(ours - theirs).reshape(len(photos), -1).max(axis=1)

    ours_emb = image.embed(ours)
    theirs_emb = _torch_image_embeddings(reference, theirs)
    cos = (ours_emb * theirs_emb).sum(axis=1)
    between = _off_diagonal(ours_emb @ ours_emb.T)
    input_between = np.abs(theirs[:, None] - theirs[None]).reshape(len(photos), len(photos), -1).max(axis=2)

    print(f"\n{len(photos)} photos, full decode: max |input diff| {diff.max():.2e}, image cosine min {cos.min():.6f}")
    print(
        f"  for scale: cosine between different photos: median {np.median(between):.4f}, "
        f"max {between.max():.4f}; max |input diff| between different photos: min "
        f"{_off_diagonal(input_between).min():.3f}"
    )
    for p, d, c in zip(photos, diff, cos):
        print(f"  {p.name:<34} max|diff| {d:.2e}  cosine {c:.6f}")
    assert diff.max() <= 1e-4
    assert cos.min() >= 0.9999
    assert between.max() < cos.min()


def _big_jpeg(src, dest, size=(4000, 3000)):
    with Image.open(src) as img:
        img.convert("RGB").resize(size, Image.Resampling.BICUBIC).save(dest, "JPEG", quality=92)
    return dest


def test_draft_mode_fast_path_figures(reference, encoders, photos, tmp_path):
    """The JPEG draft path is not bit-exact by design; its figures are reported and bounded loosely."""
    image, _ = encoders
    jpegs = [p for p in photos if p.suffix == ".jpg"]
    jpegs += [_big_jpeg(p, tmp_path / f"{p.stem}-12mp.jpg") for p in jpegs[:4]]
    rows = []
    for p in jpegs:
        fast = decode(p, embedder=image)
        full = decode(p, embedder=image, full_decode=True)
        rows.append((p.name, fast.decoded_size, full.decoded_size, fast.model_input, full.model_input))
    fast_in = np.stack([r[3] for r in rows])
    full_in = np.stack([r[4] for r in rows])
    theirs = _torch_image_embeddings(reference, np.stack([_reference_input(reference, p) for p in jpegs]))
    fast_emb, full_emb = image.embed(fast_in), image.embed(full_in)
    cos_fast = (fast_emb * theirs).sum(axis=1)
    cos_full = (full_emb * theirs).sum(axis=1)
    between = _off_diagonal(theirs @ theirs.T)
    print(f"\ndraft-mode fast path on {len(jpegs)} JPEGs (cosine vs open_clip on the full decode):")
    for (name, fsize, size, fi, ui), cf, cu in zip(rows, cos_fast, cos_full):
        print(
            f"  {name:<24} decoded {fsize[0]}x{fsize[1]} of {size[0]}x{size[1]}: "
            f"max|input diff| {np.abs(fi - ui).max():.3f}, mean {np.abs(fi - ui).mean():.4f}; "
            f"cosine draft {cf:.6f}, full {cu:.6f}"
        )
    print(f"  cosine between different photos: median {np.median(between):.4f}, max {between.max():.4f}")
    assert cos_full.min() >= 0.9999
    assert any(r[1] != r[2] for r in rows)  # draft mode did engage
    assert cos_fast.min() > between.max()


def test_batches_of_any_size_run(reference, encoders):
    image, text = encoders
    x = np.random.default_rng(0).standard_normal((5, 3, 224, 224)).astype(np.float32)
    five = image.embed(x)
    np.testing.assert_allclose(image.embed(x[:1]), five[:1], atol=1e-5)
    assert text.embed_texts(["one"]).shape == (1, 512) and text.embed_texts(["a"] * 7).shape == (7, 512)


def test_int8_quantised_image_tower(reference, encoders, photos, tmp_path):
    sys.path.insert(0, str(REPO / "models"))
    try:
        from export_openclip import quantize_tower
    finally:
        sys.path.remove(str(REPO / "models"))
    q = shutil.copytree(reference.bundle, tmp_path / "vit-b-32-int8")
    quantize_tower(q / B.VISUAL_MODEL)
    B.write_manifest(q, q.name)
    image, _ = encoders
    image_q, _ = load_encoders(q, EngineOptions(threads=2))
    x = np.stack([image.preprocess(Image.open(p).convert("RGB")) for p in photos[:8]])
    cos = (image.embed(x) * image_q.embed(x)).sum(axis=1)
    size_ratio = (q / B.VISUAL_MODEL).stat().st_size / (reference.bundle / B.VISUAL_MODEL).stat().st_size
    print(f"\nint8 image tower: {size_ratio:.2f}x the size; cosine fp32 vs int8 min {cos.min():.4f} (random weights)")
    assert size_ratio < 0.35
    assert cos.min() > 0.9

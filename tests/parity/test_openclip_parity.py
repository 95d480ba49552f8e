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
from clipdesk.core.engine import EngineOptions, load_encoders
from clipdesk.core.imaging import decode
from support import REPO

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
    """open_clip's transform on the photo as ClipDesk decodes it (orientation applied, RGB)."""
    with Image.open(path) as img:
        rgb = ImageOps.exif_transpose(img).convert("RGB")
    return reference.preprocess(rgb).numpy()


def _torch_image_embeddings(reference, batch: np.ndarray) -> np.ndarray:
    torch = reference.torch
    with torch.no_grad():
        out = reference.model.encode_image(torch.from_numpy(batch)).numpy()
    return out / np.linalg.norm(out, axis=1, keepdims=True)


def _off_diagonal(sim: np.ndarray) -> np.ndarray:
    return sim[~np.eye(len(sim), dtype=bool)]


def test_the_exported_bundle_is_complete_and_verified(reference):
    b = B.verify_bundle(reference.bundle)
    assert (b.embed_dim, b.image_size, b.context_length) == (512, 224, 77)
    assert b.tokenizer_config["pad_token_id"] == 0
    print(f"\nexport of ViT-B-32 (both towers) took {reference.export_seconds:.1f} s")


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


def test_text_embeddings_match_open_clip(reference, encoders):
    _, text = encoders
    texts = list(dict.fromkeys(generate(1000)))[::9]  # distinct strings, all kinds
    ours = text.embed_texts(texts)
    torch = reference.torch
    with torch.no_grad():
        theirs = reference.model.encode_text(reference.tokenizer(texts)).numpy()
    theirs /= np.linalg.norm(theirs, axis=1, keepdims=True)
    cos = (ours * theirs).sum(axis=1)
    between = _off_diagonal(ours @ ours.T)
    print(
        f"\ntext cosine ClipDesk vs open_clip over {len(texts)} strings: min {cos.min():.6f}; "
        f"between different strings: median {np.median(between):.4f}, max {between.max():.4f}"
    )
    assert cos.min() >= 0.9999


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

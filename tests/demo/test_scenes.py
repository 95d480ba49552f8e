"""The scene composer: the synthetic world of ClipDesk's own small model and its demo library."""

from __future__ import annotations

import gzip
import io
import json
import re

import numpy as np
import pytest
from PIL import Image

from clipdesk.demo import scenes as S


@pytest.fixture(scope="module")
def items():
    return S.load_demo_items()


def test_shipped_demo_items_are_all_ten_classes(items):
    images, labels = items
    assert images.dtype == np.uint8 and images.shape[1:] == (28, 28)
    assert len(images) == len(labels) <= 1000
    assert set(np.unique(labels)) == set(range(10))


def test_idx_reader_round_trip_and_rejects_garbage(tmp_path):
    data = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    header = bytes([0, 0, 8, 3]) + b"".join(d.to_bytes(4, "big") for d in data.shape)
    good = tmp_path / "x-idx3-ubyte.gz"
    good.write_bytes(gzip.compress(header + data.tobytes()))
    assert np.array_equal(S._read_idx(good), data)
    short = tmp_path / "short.gz"
    short.write_bytes(gzip.compress(header + data.tobytes()[:-1]))
    with pytest.raises(ValueError):
        S._read_idx(short)
    bad = tmp_path / "bad"
    bad.write_bytes(b"\x89PNG....")
    with pytest.raises(ValueError):
        S._read_idx(bad)


def test_scenes_are_deterministic_given_the_seed(items):
    images, labels = items
    a = S.make_scenes(labels, 20, seed=5)
    b = S.make_scenes(labels, 20, seed=5)
    c = S.make_scenes(labels, 20, seed=6)
    assert a == b and a != c
    for x, y in zip(a, b):
        assert np.array_equal(S.render_scene(x, images), S.render_scene(y, images))
    # Scene i depends on (seed, i) only: a longer run starts with the same scenes.
    assert S.make_scenes(labels, 5, seed=5) == a[:5]


def test_scene_layout_counts_sizes_and_colours(items):
    images, labels = items
    scenes = S.make_scenes(labels, 300, seed=11)
    assert {len(s.items) for s in scenes} == {1, 2, 3}
    assert {s.background for s in scenes} == set(S.BACKGROUNDS)
    assert {it.colour for s in scenes for it in s.items} == set(S.COLOUR_NAMES)
    for s in scenes:
        for it in s.items:
            assert 0 <= it.x <= S.SCENE_SIZE - it.size and 0 <= it.y <= S.SCENE_SIZE - it.size
            assert labels[it.index] == it.label
    single = S.make_scenes(labels, 10, seed=3, n_items=1)
    assert all(len(s.items) == 1 for s in single)


def test_an_item_is_painted_in_its_colour(items):
    images, labels = items
    for colour in ("red", "green", "blue", "yellow"):
        dark, light = (np.array(c, float) for c in S.COLOURS[colour])
        scene = S.Scene(
            (S.PlacedItem(int(np.flatnonzero(labels == 8)[0]), 8, colour, 16, 16, 64, False, (1.0, 1.0, 1.0)),),
            "plain", 0, (236, 236, 234),
        )
        px = S.render_scene(scene, images).astype(float)
        grey = np.asarray(Image.fromarray(images[scene.items[0].index]).resize((64, 64), Image.Resampling.BICUBIC))
        inside = px[16:80, 16:80][grey > 60]
        # Inside the item, pixels lie between the colour's shadow and highlight, not on the backdrop.
        mean = inside.mean(axis=0)
        assert np.linalg.norm(mean - (dark + light) / 2) < np.linalg.norm(mean - np.array((236, 236, 234)))
        assert np.argmax(mean) == np.argmax(light)


def test_render_shape_and_backgrounds_differ(items):
    images, labels = items
    scenes = S.make_scenes(labels, 80, seed=2)
    means = {}
    for s in scenes:
        px = S.render_scene(s, images)
        assert px.shape == (S.SCENE_SIZE, S.SCENE_SIZE, 3) and px.dtype == np.uint8
        means.setdefault(s.background, []).append(S.render_background(s).reshape(-1, 3).mean(0))
    sky, grass, night = (np.mean(means[k], axis=0) for k in ("sky", "grass", "night"))
    assert sky[2] > sky[0] and grass[1] > grass[2] and night.sum() < 150


def test_captions_use_synonyms_counts_and_backgrounds(items):
    _, labels = items
    rng = np.random.default_rng(0)
    scenes = S.make_scenes(labels, 1500, seed=9)
    captions = [S.caption(s, rng) for s in scenes]
    words = " ".join(captions)
    for kind in S.ITEMS:
        for singular, _plural in kind.words:
            assert re.search(rf"\b{re.escape(singular)}s?\b", words), singular
    for w in ("grey", "gray", "two", "three", "pairs of", "trainers", "at night", "on the beach", "a photo of"):
        assert w in words, w
    assert len(set(captions)) > len(captions) // 2
    # A caption never names a colour that is not in the scene.
    for s, c in zip(scenes, captions):
        present = {it.colour for it in s.items} | ({"grey"} if any(it.colour == "gray" for it in s.items) else set())
        named = {w for w in re.findall(r"[a-z]+", c) if w in S.COLOURS or w == "grey"}
        assert named <= present, (c, present)


def test_describe_names_every_item_colour_and_count(items):
    _, labels = items
    for s in S.make_scenes(labels, 100, seed=4):
        text = S.describe(s)
        for it in s.items:
            assert it.colour in text and it.kind.name.split()[-1] in text
        if len(s.items) > 1 and s.same_kind:
            assert text.startswith(("two", "three"))


def test_demo_writer_writes_real_jpegs_and_ground_truth(tmp_path):
    records = S.write_demo_library(tmp_path / "demo", count=12, seed=1)
    files = sorted(p.name for p in (tmp_path / "demo").glob("*.jpg"))
    assert files == [f"{i:04d}.jpg" for i in range(1, 13)]
    truth = json.loads((tmp_path / "demo" / "ground_truth.json").read_text())
    assert truth == records and [r["file"] for r in truth] == files
    for r in truth:
        with Image.open(tmp_path / "demo" / r["file"]) as im:
            assert im.format == "JPEG" and im.size == (S.SCENE_SIZE, S.SCENE_SIZE) and im.mode == "RGB"
        assert r["background"] in S.BACKGROUNDS and 1 <= len(r["items"]) <= 3
        for item in r["items"]:
            assert item["item"] == S.ITEM_NAMES[item["label"]] and item["colour"] in S.COLOURS
            assert item["colour"] in r["caption"]
    again = S.write_demo_library(tmp_path / "again", count=12, seed=1)
    assert again == records
    assert (tmp_path / "demo" / "0007.jpg").read_bytes() == (tmp_path / "again" / "0007.jpg").read_bytes()


def test_evaluation_protocol_helpers():
    assert "a photo of a pair of jeans" in S.item_prompts(1)
    assert "an ankle boot" in S.item_prompts(9)
    assert {"something grey", "something gray"} <= set(S.colour_prompts("gray"))
    records = [
        {"file": "0001.jpg", "items": [{"label": 7, "colour": "red"}]},
        {"file": "0002.jpg", "items": [{"label": 7, "colour": "red"}, {"label": 8, "colour": "blue"}]},
        {"file": "0003.jpg", "items": [{"label": 8, "colour": "red"}]},
    ]
    queries = dict((q, rel) for q, rel in S.retrieval_queries(records))
    assert queries == {"red sneaker": {"0001.jpg", "0002.jpg"}, "red bag": {"0003.jpg"}, "blue bag": {"0002.jpg"}}
    assert S.recall_at_k(["0003.jpg", "0001.jpg", "0002.jpg"], {"0001.jpg", "0002.jpg"}, k=2) == 0.5
    assert S.recall_at_k(["0002.jpg", "0003.jpg"], {"0002.jpg"}, k=10) == 1.0


def _write_idx(path, array):
    header = bytes([0, 0, 8, array.ndim]) + b"".join(d.to_bytes(4, "big") for d in array.shape)
    path.write_bytes(gzip.compress(header + array.astype(np.uint8).tobytes()))


def test_evaluation_sets_are_written_as_the_training_script_scores_them(tmp_path, items):
    images, labels = items
    root = tmp_path / "fashion-mnist"
    root.mkdir()
    _write_idx(root / "t10k-images-idx3-ubyte.gz", images)
    _write_idx(root / "t10k-labels-idx1-ubyte.gz", labels)
    written = S.write_evaluation_sets(tmp_path / "eval", count=5, root=root)
    expected = S.evaluation_scenes(labels, 5)
    assert set(written) == {"single", "library"}
    assert all(len(r["items"]) == 1 for r in written["single"])
    for name, records in written.items():
        assert records == [S.ground_truth(sc, S.scene_file_name(i, 5)) for i, sc in enumerate(expected[name], 1)]
        first = np.asarray(Image.open(tmp_path / "eval" / name / "0001.jpg"))
        again = np.asarray(Image.open(io.BytesIO(S.encode_jpeg(S.render_scene(expected[name][0], images)))))
        assert np.array_equal(first, again)

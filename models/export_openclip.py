#!/usr/bin/env python3
"""Export any open_clip model to a ClipDesk model bundle (see BUNDLE.md).

    python models/export_openclip.py ViT-B-32 --pretrained openai --out ~/models/ViT-B-32__openai
    python models/export_openclip.py ViT-B-32 --random-init --seed 0 --out /tmp/vitb32-random
    python models/export_openclip.py ViT-B-32 --pretrained openai --quantize visual --out ...

What it writes, all taken from open_clip itself rather than from tables here:

* ``visual/model.onnx`` and ``textual/model.onnx``: ``encode_image`` and
  ``encode_text`` (unnormalised; the engine normalises), inputs ``image``
  float32 [N,3,S,S] and ``text`` int32 [N,ctx], dynamic batch. The text
  tower of a causal model (CLIP's: causal mask, embedding read at the end
  token) takes [N,L] for any L up to ctx instead: open_clip's own
  ``encode_text`` with the positional table and the causal mask cut to L, so
  a query runs at its own length (clipdesk.core.textgraph). The manifest
  records it after checking, on 256 texts, that the file gives the same
  embeddings at L tokens as at ctx tokens; otherwise, and for bidirectional
  towers (SigLIP-style), the text tower keeps its fixed length and the
  manifest says why;
* ``config.json``: open_clip's model config for the architecture;
* ``visual/preprocess_cfg.json``: the model's ``preprocess_cfg`` (what
  ``create_model_and_transforms`` builds its transform from);
* ``textual/tokenizer.json`` (+ config, special tokens map): open_clip's own
  BPE vocabulary as a ``tokenizers`` file, padding with id 0 as open_clip does.
  Architectures that use a Hugging Face tokenizer (``hf_tokenizer_name``) are
  refused: their tokenizer.json should come from that tokenizer's repository;
* ``manifest.json``: SHA-256 and size of every file.

``--quantize visual|textual|both`` replaces a tower by its int8 dynamic
quantisation (onnxruntime.quantization.quantize_dynamic), MatMul and Gemm
only: quantising convolutions makes convolutional towers many times slower on
CPU, and the one patch-embedding convolution of a ViT gains nothing.

Needs the ``export`` extra (torch, open_clip_torch, onnx); never imported by
ClipDesk itself.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import sys
import tempfile
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))
if str(HERE.parent) not in sys.path:
    sys.path.insert(0, str(HERE.parent))

from export.tokenizer import tokenizer_files  # noqa: E402
from export.torchcompat import import_open_clip  # noqa: E402

from clipdesk.core import bundle as bundle_format  # noqa: E402
from clipdesk.core import textgraph  # noqa: E402

log = logging.getLogger("export_openclip")

OPSET = 17
#: Above this a tower is saved with one external data file beside it (protobuf's 2 GB limit).
EXTERNAL_DATA_THRESHOLD = 1_800_000_000


def create_model(arch: str, pretrained: str | None, *, seed: int = 0):
    """open_clip model in eval mode, and its config dict; random weights when ``pretrained`` is None."""
    open_clip = import_open_clip()
    import torch

    torch.manual_seed(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model, _, _ = open_clip.create_model_and_transforms(arch, pretrained=pretrained)
    model.eval()
    return model


def _towers(model):
    import torch

    class Visual(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, image):
            return self.m.encode_image(image)

    class Textual(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, text):
            return self.m.encode_text(text.to(torch.long))

    return Visual(model), Textual(model)


def _text_tower(model):
    """The module that holds the text tower's positional table and causal mask (CLIP, or CustomTextCLIP's ``text``)."""
    import torch

    text = getattr(model, "text", None)
    if isinstance(text, torch.nn.Module) and "positional_embedding" in text._parameters:
        return text
    return model


def query_length_reason(model, context_length: int) -> str | None:
    """Why the text tower must keep a fixed input length; None when it may take the query's own length.

    The embedding depends only on the tokens up to the end token when the
    attention is causal, the pooling reads the end token (or the first one),
    and no class token or padding mask is added after the text.
    """
    tower = _text_tower(model)
    if "positional_embedding" not in tower._parameters:
        return "the text tower has no positional table open_clip's way (a Hugging Face text encoder?)"
    if tower._buffers.get("attn_mask") is None:
        return "the text tower has bidirectional attention (no causal mask)"
    if getattr(tower, "cls_emb", None) is not None:
        return "the text tower appends a class token after the text"
    if getattr(tower, "use_pad_mask", False):
        return "the text tower masks padding, so its input must be padded"
    pool = getattr(tower, "text_pool_type", None) or getattr(tower, "pool_type", "argmax")
    if pool not in ("argmax", "eos", "first"):
        return f"the text tower pools with {pool!r}, which reads past the end token"
    if tower.positional_embedding.shape[0] != context_length:
        return f"the positional table has {tower.positional_embedding.shape[0]} rows, not {context_length}"
    return None


def _query_length_textual(model):
    """``encode_text`` on [N, L] token ids: open_clip's own forward with the positional table and mask cut to L."""
    import torch

    class QueryLengthTextual(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m
            self.tower = _text_tower(m)

        def forward(self, text):
            n = text.shape[1]
            params, buffers = self.tower._parameters, self.tower._buffers
            table, mask = params["positional_embedding"], buffers["attn_mask"]
            # Swapped for the one traced call, so the slices are in the graph.
            params["positional_embedding"], buffers["attn_mask"] = table[:n], mask[:n, :n]
            try:
                return self.m.encode_text(text.to(torch.long))
            finally:
                params["positional_embedding"], buffers["attn_mask"] = table, mask

    return QueryLengthTextual(model)


def _export_query_length_text(model, dest: Path, context_length: int, opset: int) -> textgraph.RewriteReport:
    """The text tower with a free sequence axis.

    torch.onnx's TorchScript exporter still folds the traced length into the
    key/value reshapes of nn.MultiheadAttention (it reads ``k.shape[0]`` as a
    constant), so ClipDesk's graph pass frees those too. Raises
    textgraph.GraphNotSupported when it cannot.
    """
    import torch

    _export_tower(
        _query_length_textual(model), torch.zeros(2, context_length, dtype=torch.int32), "text", dest, opset,
        sequence_axis=True,
    )
    freed = dest.with_name(dest.name + ".free")
    try:
        report = textgraph.free_sequence_axis(dest, freed, context_length)
        os.replace(freed, dest)
    finally:
        freed.unlink(missing_ok=True)
    return report


def _export_tower(
    module, example, input_name: str, dest: Path, opset: int, *, sequence_axis: bool = False
) -> None:
    """TorchScript ONNX export (the dynamo exporter needs onnxscript), then one-file or one-data-file layout."""
    import onnx
    import torch

    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=dest.parent) as tmp:
        raw = Path(tmp) / "model.onnx"
        fastpath = torch.backends.mha.get_fastpath_enabled()
        # nn.MultiheadAttention's inference fast path is an op ONNX cannot express.
        torch.backends.mha.set_fastpath_enabled(False)
        try:
            with torch.no_grad(), warnings.catch_warnings():
                # Tracer and exporter chatter about shapes taken as constants;
                # the parity tests check the exported graph against torch.
                warnings.simplefilter("ignore")
                torch.onnx.export(
                    module,
                    (example,),
                    str(raw),
                    input_names=[input_name],
                    output_names=["embedding"],
                    dynamic_axes={
                        input_name: {0: "batch", 1: textgraph.SEQUENCE_AXIS} if sequence_axis else {0: "batch"},
                        "embedding": {0: "batch"},
                    },
                    opset_version=opset,
                    do_constant_folding=True,
                    dynamo=False,
                )
        finally:
            torch.backends.mha.set_fastpath_enabled(fastpath)
        model = onnx.load(str(raw), load_external_data=True)
        size = sum(t.ByteSize() for t in model.graph.initializer)
        for stale in dest.parent.glob(dest.name + "*"):
            stale.unlink()
        if size > EXTERNAL_DATA_THRESHOLD:
            onnx.save_model(
                model, str(dest), save_as_external_data=True, all_tensors_to_one_file=True,
                location=dest.name + "_data", size_threshold=1024,
            )
        else:
            onnx.save_model(model, str(dest))
        onnx.checker.check_model(str(dest))


def quantize_tower(path: Path) -> None:
    """Replace an ONNX tower by its int8 dynamic quantisation (MatMul/Gemm weights only)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    tmp = path.with_name(path.stem + ".int8.onnx")
    # The quantiser logs a line per MatMul it skips (those without constant weights).
    logging.disable(logging.INFO)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            quantize_dynamic(
                str(path), str(tmp), weight_type=QuantType.QInt8, op_types_to_quantize=["MatMul", "Gemm"],
                use_external_data_format=path.stat().st_size > EXTERNAL_DATA_THRESHOLD,
            )
    finally:
        logging.disable(logging.NOTSET)
    os.replace(tmp, path)


def export_model(
    model,
    arch: str,
    out: Path,
    *,
    model_id: str | None = None,
    quantize: tuple[str, ...] = (),
    opset: int = OPSET,
    card: dict | None = None,
    force: bool = False,
) -> Path:
    """Write a bundle for an open_clip model object; returns the bundle folder.

    The bundle is assembled in a temporary folder beside ``out`` and renamed
    into place only when complete.
    """
    open_clip = import_open_clip()
    import torch

    out = Path(out).absolute()
    model_id = model_id or out.name
    if out.exists():
        if not force:
            raise FileExistsError(f"{out} exists (use --force to replace it)")
    config = open_clip.get_model_config(arch)
    if config is None:
        raise ValueError(f"open_clip has no architecture named {arch!r}")
    text_cfg = config.get("text_cfg") or {}
    if text_cfg.get("hf_tokenizer_name"):
        raise ValueError(
            f"{arch} uses the Hugging Face tokenizer {text_cfg['hf_tokenizer_name']!r}; "
            "this tool only builds open_clip's own BPE tokenizer"
        )
    pp = dict(model.visual.preprocess_cfg)
    size = pp.get("size")
    pp["size"] = list(size) if isinstance(size, (tuple, list)) else [int(size), int(size)]
    pp["mean"], pp["std"] = list(pp["mean"]), list(pp["std"])
    pp.pop("mode", None)
    image_size = tuple(pp["size"])
    context_length = int(text_cfg.get("context_length") or 77)

    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    text_path = staging / bundle_format.TEXTUAL_MODEL

    def fixed_text_tower() -> None:
        _export_tower(textual, torch.zeros(2, context_length, dtype=torch.int32), "text", text_path, opset)
        if "textual" in quantize:
            quantize_tower(text_path)

    try:
        visual, textual = _towers(model)
        log.info("exporting the image tower of %s", arch)
        _export_tower(visual, torch.zeros(2, 3, *image_size), "image", staging / bundle_format.VISUAL_MODEL, opset)
        if "visual" in quantize:
            log.info("quantising the visual tower to int8")
            quantize_tower(staging / bundle_format.VISUAL_MODEL)
        fixed_reason = query_length_reason(model, context_length)
        if fixed_reason is None and "textual" in quantize:
            # Measured on a random ViT-B-32: min cosine 0.999 between its L-token and 77-token runs.
            fixed_reason = (
                "int8 dynamic quantisation scales activations over the whole input, padding included, "
                "so a shorter input is a different computation"
            )
        if fixed_reason is None:
            log.info("exporting the text tower of %s, any input length up to %d", arch, context_length)
            try:
                report = _export_query_length_text(model, text_path, context_length, opset)
                log.info("text graph: %s", report.summary())
            except textgraph.GraphNotSupported as exc:
                fixed_reason = f"its text graph could not take a shorter input: {exc}"
        if fixed_reason is not None:
            log.info("exporting the text tower of %s, fixed at %d tokens: %s", arch, context_length, fixed_reason)
            fixed_text_tower()

        (staging / bundle_format.CONFIG).write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
        (staging / bundle_format.PREPROCESS_CFG).write_text(json.dumps(pp, indent=2) + "\n", encoding="utf-8")
        for name, text in tokenizer_files(context_length).items():
            (staging / "textual" / name).write_text(text, encoding="utf-8")
        card = dict(card or {})
        source = {"tool": "export_openclip", "arch": arch, **card}
        if fixed_reason is None:
            # Written first without the claim, so the check runs on a bundle that verifies.
            bundle_format.write_manifest(staging, model_id, source=source)
            check = textgraph.check_query_length(
                bundle_format.open_bundle(staging, model_id=model_id), bundle_format.TEXTUAL_MODEL,
            )
            log.info(
                "query-length text model checked on %d texts: min cosine %.7f (%.1f s)",
                check.strings, check.min_cosine, check.seconds,
            )
            if check.passed:
                form = bundle_format.TextModelForm(input_length=bundle_format.QUERY_LENGTH, check=check.to_json())
            else:
                fixed_reason = (
                    f"at the query's own length its text tower embeds differently: cosine {check.min_cosine:.6f} "
                    f"< {textgraph.MIN_COSINE} on {check.worst!r}"
                )
                log.warning("%s; exporting it fixed at %d tokens", fixed_reason, context_length)
                fixed_text_tower()
        if fixed_reason is not None:
            form = bundle_format.TextModelForm(reason=fixed_reason)
        lines = [f"# {model_id}", "", f"open_clip architecture `{arch}`, exported by models/export_openclip.py."]
        lines += [f"- {k}: {v}" for k, v in card.items()]
        if quantize:
            lines.append(f"- int8 dynamic quantisation (MatMul/Gemm): {', '.join(quantize)}")
        if form.query_length:
            lines.append(
                f"- text model: takes the query's own length (same embeddings as at {context_length} tokens: "
                f"min cosine {form.check['min_cosine']:.7f} over {form.check['strings']} texts)"
            )
        else:
            lines.append(f"- text model: fixed at {context_length} tokens ({fixed_reason})")
        (staging / "README.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
        bundle_format.write_manifest(staging, model_id, source=source, text_model=form)
        bundle_format.verify_bundle(staging, model_id=model_id)
        if out.exists():
            shutil.rmtree(out)
        os.replace(staging, out)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(out, 0o777 & ~umask)  # mkdtemp made it private
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out


def export(
    arch: str,
    out: Path,
    *,
    pretrained: str | None = None,
    seed: int = 0,
    model_id: str | None = None,
    quantize: tuple[str, ...] = (),
    opset: int = OPSET,
    force: bool = False,
) -> Path:
    model = create_model(arch, pretrained, seed=seed)
    card = {"pretrained": pretrained} if pretrained else {"pretrained": "none (random init)", "seed": seed}
    return export_model(model, arch, out, model_id=model_id, quantize=quantize, opset=opset, card=card, force=force)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("arch", help="open_clip architecture, e.g. ViT-B-32 (see open_clip.list_models())")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--pretrained", help="open_clip pretrained tag (e.g. openai) or a checkpoint file")
    src.add_argument("--random-init", action="store_true", help="random weights (benchmarks, parity tests)")
    p.add_argument("--seed", type=int, default=0, help="seed for --random-init (default 0)")
    p.add_argument("--out", type=Path, required=True, help="bundle folder to create")
    p.add_argument("--model-id", help="model id recorded in the manifest (default: the folder name)")
    p.add_argument("--quantize", choices=["visual", "textual", "both"], help="int8 dynamic quantisation")
    p.add_argument("--opset", type=int, default=OPSET)
    p.add_argument("--force", action="store_true", help="replace --out if it exists")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    quantize = {"visual": ("visual",), "textual": ("textual",), "both": ("visual", "textual")}.get(args.quantize or "", ())
    try:
        path = export(
            args.arch, args.out, pretrained=None if args.random_init else args.pretrained, seed=args.seed,
            model_id=args.model_id, quantize=quantize, opset=args.opset, force=args.force,
        )
    except (FileExistsError, ValueError, RuntimeError) as exc:
        print(f"export_openclip: {exc}", file=sys.stderr)
        return 2
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())

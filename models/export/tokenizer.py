"""Build a ``tokenizers`` tokenizer.json from open_clip's own BPE vocabulary.

open_clip's ``SimpleTokenizer`` (OpenAI's CLIP tokenizer) is a byte-level BPE:

* the base alphabet is the 256 byte symbols of the GPT-2 byte-to-unicode
  table, each also in an end-of-word form with the ``</w>`` suffix;
* the merges are lines 1 .. 48894 of ``bpe_simple_vocab_16e6.txt.gz`` (line 0
  is a header); each merge adds its concatenation to the vocabulary, in order;
* ``<start_of_text>`` and ``<end_of_text>`` come last (ids 49406 and 49407);
* words are cut by the regex ``'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+``
  on cleaned, lowercased text, and each word's last symbol carries ``</w>``.

The same pieces expressed with the ``tokenizers`` API give identical ids; the
Python-side cleaning (ftfy, html.unescape, lowercasing) stays in
clipdesk.core.tokenize, driven by tokenizer_config.json's ``"clean"``.
"""

from __future__ import annotations

import gzip
import importlib.util
from pathlib import Path

#: open_clip's word pattern, without its special-token alternatives (those are
#: added tokens here, matched before the pre-tokenizer runs).
WORD_PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+"""
START, END = "<start_of_text>", "<end_of_text>"
#: open_clip pads with id 0, which is the byte symbol "!".
PAD_ID = 0
N_MERGES = 49152 - 256 - 2


def open_clip_bpe_path() -> Path:
    """The vocabulary file shipped inside the open_clip package (found without importing torch)."""
    spec = importlib.util.find_spec("open_clip")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("open_clip is not installed (pip install open_clip_torch)")
    path = Path(list(spec.submodule_search_locations)[0]) / "bpe_simple_vocab_16e6.txt.gz"
    if not path.is_file():
        raise RuntimeError(f"open_clip's BPE vocabulary is missing: {path}")
    return path


def byte_symbols() -> list[str]:
    """GPT-2's reversible byte -> printable character table, in byte order of its construction."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("\xa1"), ord("\xac") + 1), *range(ord("\xae"), ord("\xff") + 1)]
    symbols = {b: chr(b) for b in printable}
    extra = 0
    for b in range(256):
        if b not in symbols:
            symbols[b] = chr(256 + extra)
            extra += 1
    # Vocabulary order is: the printable bytes first, then the remapped ones.
    order = printable + [b for b in range(256) if b not in printable]
    return [symbols[b] for b in order]


def read_merges(bpe_path: Path) -> list[tuple[str, str]]:
    lines = gzip.open(bpe_path).read().decode("utf-8").split("\n")
    merges = []
    for line in lines[1 : N_MERGES + 1]:
        a, b = line.split()
        merges.append((a, b))
    return merges


def build_tokenizer(bpe_path: Path | None = None):
    """The tokenizers.Tokenizer equivalent of open_clip's SimpleTokenizer."""
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    bpe_path = bpe_path or open_clip_bpe_path()
    merges = read_merges(bpe_path)
    base = byte_symbols()
    vocab_list = base + [s + "</w>" for s in base] + ["".join(m) for m in merges] + [START, END]
    vocab = {tok: i for i, tok in enumerate(vocab_list)}
    if len(vocab) != len(vocab_list):
        raise RuntimeError("duplicate entries in the BPE vocabulary")

    tok = Tokenizer(models.BPE(vocab=vocab, merges=merges, end_of_word_suffix="</w>", continuing_subword_prefix=""))
    # Cleaning happens in Python first; these keep the file usable on its own.
    tok.normalizer = normalizers.Sequence(
        [normalizers.NFC(), normalizers.Replace(Regex(r"\s+"), " "), normalizers.Lowercase()]
    )
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(WORD_PATTERN), behavior="removed", invert=True),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    tok.add_special_tokens([START, END])
    tok.post_processor = processors.TemplateProcessing(
        single=f"{START} $A {END}",
        pair=f"{START} $A {END} $B {END}",
        special_tokens=[(START, vocab[START]), (END, vocab[END])],
    )
    tok.decoder = decoders.Sequence([decoders.ByteLevel(), decoders.Replace("</w>", " "), decoders.Strip(" ", 0, 1)])
    return tok


def tokenizer_files(context_length: int, bpe_path: Path | None = None) -> dict[str, str]:
    """The three textual/ files: tokenizer.json, tokenizer_config.json, special_tokens_map.json."""
    import json

    tok = build_tokenizer(bpe_path)
    pad = tok.id_to_token(PAD_ID)
    special = {"bos_token": START, "eos_token": END, "pad_token": pad, "unk_token": END}
    config = {
        **special,
        "pad_token_id": PAD_ID,
        "model_max_length": context_length,
        "clean": "lower",
        "do_lower_case": True,
        "tokenizer_class": "CLIPTokenizer",
    }
    return {
        "tokenizer.json": tok.to_str(pretty=False),
        "tokenizer_config.json": json.dumps(config, indent=2, ensure_ascii=False) + "\n",
        "special_tokens_map.json": json.dumps(special, indent=2, ensure_ascii=False) + "\n",
    }

"""Text -> token ids for a bundle's text tower, as open_clip tokenizes.

The BPE itself is the ``tokenizers`` library on ``textual/tokenizer.json``.
What open_clip does *before* its BPE is reproduced here in Python, because a
``tokenizers`` normalizer cannot express it:

1. ``ftfy.fix_text`` (open_clip's ``basic_clean``). ftfy is not a dependency;
   the fixes that change real queries are redone here: HTML entities (only
   when the text has no '<', as ftfy decides), Latin ligatures, fullwidth
   ASCII and the ideographic space, curly quotes, line breaks, terminal
   escapes, invisible control characters, lone surrogates, and NFC
   normalisation. Not redone: ftfy's mojibake repair ("cafÃ©" -> "café"),
   which guesses at text decoded with the wrong codec.
2. ``html.unescape`` twice, strip.
3. The cleaning mode: ``lower`` (whitespace collapsed, lowercased; open_clip's
   own BPE tokenizer), ``whitespace`` (Hugging Face tokenizers in open_clip),
   ``canonicalize`` (punctuation removed, lowercased; SigLIP) or ``none``.
   It comes from ``tokenizer_config.json`` ``"clean"``, else from
   ``config.json`` ``text_cfg.tokenizer_kwargs.clean``, else it is ``lower``
   unless the config names a Hugging Face tokenizer (``hf_tokenizer_name``),
   which is open_clip's own rule.

Then the tokenizer adds the start and end tokens, truncates to the context
length keeping the end token, and pads with the pad token's id: to the
context length, or only to the longest text of the batch for text models that
take the query's own length (clipdesk.core.textgraph).
"""

from __future__ import annotations

import html
import logging
import re
import string
import unicodedata
from typing import Any, Mapping, Sequence

import numpy as np

from clipdesk.core.errors import ModelError

log = logging.getLogger(__name__)

CLEAN_MODES = ("lower", "whitespace", "canonicalize", "none")

# -- the ftfy fixes that matter ------------------------------------------------

_ENTITY = re.compile(r"&#?[0-9A-Za-z]{1,24};")
_TERMINAL_ESCAPE = re.compile("\x1b\\[((?:\\d|;)*)([a-zA-Z])")
_SINGLE_QUOTES = re.compile("[\u02bc\u2018-\u201b]")
_DOUBLE_QUOTES = re.compile("[\u201c-\u201f]")
_SURROGATE_PAIR = re.compile("[\ud800-\udbff][\udc00-\udfff]")
_SURROGATE = re.compile("[\ud800-\udfff]")

_LIGATURES = str.maketrans(
    {
        "\u0132": "IJ", "\u0133": "ij", "\u0149": "\u02bcn",
        "\u01f1": "DZ", "\u01f2": "Dz", "\u01f3": "dz",
        "\u01c4": "D\u017d", "\u01c5": "D\u017e", "\u01c6": "d\u017e",
        "\u01c7": "LJ", "\u01c8": "Lj", "\u01c9": "lj",
        "\u01ca": "NJ", "\u01cb": "Nj", "\u01cc": "nj",
        "\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi",
        "\ufb04": "ffl", "\ufb05": "\u017ft", "\ufb06": "st",
    }
)


def _width_table() -> dict[int, str]:
    """Halfwidth/fullwidth forms (U+FF01..U+FFEF) to their usual width, and U+3000 to a space."""
    table = {0x3000: " "}
    for cp in range(0xFF01, 0xFFF0):
        norm = unicodedata.normalize("NFKC", chr(cp))
        if norm != chr(cp):
            table[cp] = norm
    return table


_WIDTH = _width_table()
_CONTROL = dict.fromkeys(
    [*range(0x00, 0x09), 0x0B, *range(0x0E, 0x20), 0x7F, *range(0x206A, 0x2070), 0xFEFF, *range(0xFFF9, 0xFFFD)]
)
_LINE_BREAKS = str.maketrans({"\r": "\n", "\u2028": "\n", "\u2029": "\n", "\u0085": "\n"})


def _unescape_entity(m: re.Match[str]) -> str:
    text = m.group(0)
    out = html.unescape(text)
    # Only entities that decode whole (the ';' consumed) are replaced.
    return text if ";" in out else out


def _join_surrogates(m: re.Match[str]) -> str:
    hi, lo = m.group(0)
    return chr(0x10000 + (ord(hi) - 0xD800) * 0x400 + (ord(lo) - 0xDC00))


def fix_text(text: str) -> str:
    """The parts of ``ftfy.fix_text`` (default settings) that matter for queries."""
    unescape = "<" not in text
    for _ in range(8):  # ftfy repeats its fixes until nothing changes
        before = text
        if unescape:
            text = _ENTITY.sub(_unescape_entity, text)
        text = text.translate(_LIGATURES).translate(_WIDTH)
        text = _DOUBLE_QUOTES.sub('"', _SINGLE_QUOTES.sub("'", text))
        text = text.replace("\r\n", "\n").translate(_LINE_BREAKS)
        if _SURROGATE.search(text):
            text = _SURROGATE.sub("\ufffd", _SURROGATE_PAIR.sub(_join_surrogates, text))
        text = _TERMINAL_ESCAPE.sub("", text).translate(_CONTROL)
        text = unicodedata.normalize("NFC", text)
        if text == before:
            break
    return text


_PUNCTUATION = str.maketrans("", "", string.punctuation)


def clean_text(text: str, mode: str = "lower") -> str:
    """open_clip's ``basic_clean`` followed by the given cleaning mode."""
    text = html.unescape(html.unescape(fix_text(text))).strip()
    if mode == "lower":
        return " ".join(text.split()).lower()
    if mode == "whitespace":
        return " ".join(text.split())
    if mode == "canonicalize":
        text = text.replace("_", " ").translate(_PUNCTUATION).lower()
        return " ".join(text.split())
    return text


def clean_mode_for(config: Mapping[str, Any], tokenizer_config: Mapping[str, Any]) -> str:
    mode = tokenizer_config.get("clean")
    if mode is None:
        text_cfg = config.get("text_cfg") or {}
        mode = (text_cfg.get("tokenizer_kwargs") or {}).get("clean")
        if mode is None:
            mode = "whitespace" if text_cfg.get("hf_tokenizer_name") else "lower"
    mode = str(mode).lower()
    if mode not in CLEAN_MODES:
        raise ModelError(f"unknown text cleaning mode {mode!r} in the tokenizer configuration")
    return mode


def _token_name(value: Any) -> str | None:
    """special_tokens_map values are strings or {"content": ...} objects."""
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping) and isinstance(value.get("content"), str):
        return value["content"]
    return None


class Tokenizer:
    """Texts -> int32 [N, context_length] token ids (or [N, L], padded to the longest text only)."""

    def __init__(
        self,
        tokenizer_json: bytes | str,
        *,
        context_length: int,
        clean: str = "lower",
        pad_token: str | None = None,
        pad_id: int | None = None,
        model_id: str = "?",
    ):
        try:
            from tokenizers import Tokenizer as HFTokenizer
        except ImportError as exc:  # pragma: no cover - a hard dependency
            raise ModelError(f"the tokenizers library is missing ({exc})") from exc
        if isinstance(tokenizer_json, bytes):
            try:
                tokenizer_json = tokenizer_json.decode("utf-8")
            except UnicodeDecodeError:
                raise ModelError(f"model {model_id} is corrupt: textual/tokenizer.json is not UTF-8") from None
        try:
            tok = HFTokenizer.from_str(tokenizer_json)
        except Exception as exc:  # noqa: BLE001 - the library raises plain Exception
            raise ModelError(f"model {model_id} is corrupt: textual/tokenizer.json cannot be read ({exc})") from None
        if context_length < 2:
            raise ModelError(f"model {model_id} has an unusable context length {context_length}")
        if pad_id is None:
            pad_id = tok.token_to_id(pad_token) if pad_token is not None else None
            if pad_id is None:
                if pad_token is not None:
                    log.warning("model %s: pad token %r is not in the vocabulary; padding with 0", model_id, pad_token)
                pad_id = 0
        self.model_id = model_id
        self.context_length = int(context_length)
        self.clean = clean
        self.pad_id = int(pad_id)
        tok.no_padding()
        tok.enable_truncation(max_length=self.context_length)
        self._tok = tok

    @classmethod
    def from_files(
        cls,
        tokenizer_json: bytes | str,
        config: Mapping[str, Any],
        tokenizer_config: Mapping[str, Any],
        special_tokens: Mapping[str, Any],
        *,
        context_length: int,
        model_id: str = "?",
    ) -> "Tokenizer":
        pad_id = tokenizer_config.get("pad_token_id")
        pad_token = _token_name(special_tokens.get("pad_token")) or _token_name(tokenizer_config.get("pad_token"))
        return cls(
            tokenizer_json,
            context_length=context_length,
            clean=clean_mode_for(config, tokenizer_config),
            pad_token=pad_token,
            pad_id=int(pad_id) if isinstance(pad_id, int) else None,
            model_id=model_id,
        )

    def clean_text(self, text: str) -> str:
        return clean_text(text, self.clean)

    def encode_with_lengths(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Token ids int32 [N, context_length] (padded with the pad id) and each text's length int32 [N].

        A length counts the start and end tokens, so it is at least 2 for a
        tokenizer that adds them, and at most the context length (a longer
        text is cut, keeping its end token).
        """
        if isinstance(texts, str):
            texts = [texts]
        cleaned = [self.clean_text(t) for t in texts]
        out = np.full((len(cleaned), self.context_length), self.pad_id, dtype=np.int32)
        lengths = np.zeros(len(cleaned), dtype=np.int32)
        if not cleaned:
            return out, lengths
        encodings = self._tok.encode_batch(cleaned)
        for i, (row, enc) in enumerate(zip(out, encodings)):
            ids = enc.ids[: self.context_length]
            row[: len(ids)] = ids
            lengths[i] = len(ids)
        return out, lengths

    def encode(self, texts: Sequence[str], *, pad_to_longest: bool = False) -> np.ndarray:
        """Token ids int32 [N, context_length]; with ``pad_to_longest``, [N, L] where L is the longest text's length.

        The short form is for text models that take any length up to the
        context length (see clipdesk.core.textgraph); its rows are the first L
        ids of the full form. L is at least 1.
        """
        ids, lengths = self.encode_with_lengths(texts)
        if pad_to_longest:
            ids = ids[:, : max(1, int(lengths.max(initial=0)))]
        return ids

    __call__ = encode

    #: A vocabulary this small was learned from the model's own captions (the
    #: small models that ship with ClipDesk), not from the web (CLIP's 49,408).
    SMALL_VOCABULARY = 10_000

    @property
    def vocab_size(self) -> int:
        return self._tok.get_vocab_size()

    @property
    def small_vocabulary(self) -> bool:
        """True for a vocabulary learned from the model's own captions."""
        return self.vocab_size < self.SMALL_VOCABULARY

    def unknown_words(self, text: str) -> list[str]:
        """Words of ``text`` that a small-vocabulary model never learned: its
        tokenizer cannot spell them as one word token (a model trained on
        clothing captions spells "dog" as "d", "o", "g"). Always empty for a
        web-scale vocabulary, where a rare word is legitimately split."""
        if not self.small_vocabulary:
            return []
        out = []
        for word in re.findall(r"[^\W\d_]+", self.clean_text(text)):
            pieces = [t for t in self._tok.encode(word).tokens if not (t.startswith("<") and t.endswith(">"))]
            if len(pieces) > 1:
                out.append(word)
        return out

"""Auto-tagging: zero-shot tags from a vocabulary, and tags learned from examples.

**Zero-shot.** A vocabulary file (``resources/vocab/<model-id>.txt``, else
``default.txt``) lists tags, each with a prompt ensemble; each tag's text
embedding is the normalised mean of its prompts' embeddings, cached on disk per
model and vocabulary. A photo's cosine score against a tag means little on its
own (models differ in scale, and some tags score high on everything), so the
acceptance rule is calibrated per tag against the library itself:

* each tag's scores over a sample of the library go through the same adaptive
  relevance cut as a typed search (:func:`clipdesk.core.relevance.relevance_cut`):
  where the photos that show the tag separate from those that do not is that
  tag's bar (half way across the gap). When the group above splits again, the
  bar goes up to that split, under the library's clearest photos of the tag: a
  label goes on a photo on clear evidence (:func:`_bars`; the people guard's
  evidence keeps the widest group, see ``evidence``). When no
  group stands out, the bar is :data:`Z_TAG` robust standard deviations above
  the library's median (most photos do not show any one tag);
* such a bar often sits under a tag's few clearest photos rather than at its
  edge: two aerial views score far above a library's landscapes, which still
  score far above unrelated photos. So a tag that stands out in the photo, one
  of its :data:`TOP_STANDOUT` best-fitting tags by cosine (as CLIP's zero-shot
  classification ranks them, Radford et al. 2021) and ``z_photo >=
  Z_STANDOUT`` above the photo's other tags (vocabularies of eight tags or
  more), passes at the cut's tail threshold: the score unrelated photos reach
  only by chance in a library of this size;
* confidence = sigmoid(SLOPE * (score - bar) / height), height being how far
  the tag's library bar sits above the library's median (at least one robust
  standard deviation): 0.5 at the bar that applies, 0.95 one height above it.
  The margin is read relative to the tag's own height, not in standard
  deviations, so that tags of different spread compare fairly: a rare tag
  whose library scores are nearly all zero (an ImageNet class few photos show)
  has a tiny deviation, and measured in it any trace of the class outranked a
  broad tag that fits the photo (tents and zebras before "landscape"), at 100%;
* a tag is suggested at confidence >= 0.5 and, for vocabularies of eight tags
  or more, only if it also stands out a little among the photo's own tag
  scores (``z_photo >= Z_PHOTO``). Best first, by confidence.

Without a library to compare with (fewer than :data:`MIN_BACKGROUND` embedded
photos), the photo's own scores are the only evidence: only the tags that stand
out in it (above) are suggested, and none shows more than
:data:`UNCALIBRATED_TOP`. Measured on 20 libraries of 28 real photos
with clipdesk-imagenet: a right tag for 85% of photos, 3.0 tags a photo, 31% of
them right; the rule before (z_photo >= 2.5 alone) gave 87%, 4.9 and 24%.

**Learned.** A user's own tag is learned from the photos they gave or accepted
(positives) and rejected (negatives), plus a sample of the library as weak
negatives (most photos are not any given tag): an L2-regularised logistic
regression on the embeddings, fitted with a few Newton steps. The library
photos most like the examples (:data:`UNLABELLED_SHARE`) are left out of the
negatives: they are unlabelled, and many show the tag. Its probability is the
confidence; it is refitted whenever the decisions change.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from clipdesk.core.embedding import TextEmbedder
from clipdesk.core.errors import UsageError
from clipdesk.core.fsutil import atomic_write
from clipdesk.core.vectors import unit

log = logging.getLogger(__name__)

#: Prompt templates for vocabulary lines that give none.
DEFAULT_TEMPLATES = ("a photo of {}.", "a photo of the {}.", "{}", "a picture showing {}.")
#: The bar without a group: robust deviations above the library's median.
Z_TAG = 3.0
#: A suggested tag stands out at least this much among the photo's own tag scores.
Z_PHOTO = 1.0
#: A tag this many robust deviations above the photo's median tag score, and
#: among its TOP_STANDOUT best, may pass at the library's tail threshold (see
#: the module's docstring).
Z_STANDOUT = 3.0
TOP_STANDOUT = 3
#: Confidence slope per height (0.95 one height above the bar). For a CLIP
#: model the bar sits about three deviations above the library's median, so
#: this is about 1 per deviation (1.5 before heights). Only the numbers shown
#: change with it, not which tags are suggested or their order.
SLOPE = 3.0
#: Without a library: the confidence slope per deviation of the photo's own tag scores
#: (vocabularies of fewer than eight tags).
PHOTO_SLOPE = 1.5
#: Without a library nothing measures how sure a tag is: the photo's best fit shows this
#: confidence, the other tags that stand out less in proportion to their score.
UNCALIBRATED_TOP = 0.75
#: ``evidence=True``: the slope per robust deviation of the library's scores.
EVIDENCE_SLOPE = 1.5
#: Fewer embedded photos than this and the per-tag statistics are not trusted.
MIN_BACKGROUND = 50
BACKGROUND_SAMPLE = 4000
#: The share of the library most like a learned tag's examples that counts as
#: unlabelled rather than as negatives. Measured on the demo library, 3
#: examples per item class (benchmarks/eval_search_quality.py): leaving out
#: 2% found 3% of the class at precision 0.90; 30% finds 72% at 0.69; 20%
#: 56% at 0.72; 50% 86% at 0.55.
UNLABELLED_SHARE = 0.3


@dataclass(frozen=True)
class VocabEntry:
    tag: str
    prompts: tuple[str, ...]


def parse_vocabulary(text: str) -> list[VocabEntry]:
    """``tag`` or ``tag<TAB>prompt|prompt|...`` per line; ``#`` starts a comment.

    A prompt may contain ``{}``, replaced by the tag. Duplicate tags are merged.
    """
    entries: dict[str, list[str]] = {}
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].rstrip()
        if not line.strip():
            continue
        tag, _, prompts = line.partition("\t")
        tag = " ".join(tag.split())
        if not tag:
            continue
        plist = [p.strip().replace("{}", tag) for p in prompts.split("|") if p.strip()]
        if not plist:
            plist = [t.format(tag) for t in DEFAULT_TEMPLATES]
        entries.setdefault(tag, [])
        entries[tag] += [p for p in plist if p not in entries[tag]]
    return [VocabEntry(t, tuple(p)) for t, p in entries.items()]


def vocabulary_file(resources_dir: Path, model_id: str) -> Path:
    vocab = Path(resources_dir) / "vocab"
    own = vocab / f"{model_id}.txt"
    return own if own.is_file() else vocab / "default.txt"


class Vocabulary:
    """Tags and their text embeddings for one model."""

    def __init__(self, entries: list[VocabEntry], embeddings: np.ndarray, source: str = ""):
        if len(entries) != len(embeddings):
            raise ValueError("one embedding per tag")
        self.entries = entries
        self.tags = [e.tag for e in entries]
        self.embeddings = embeddings.astype(np.float32)
        self.source = source

    @classmethod
    def load(
        cls, path: Path, encoder: TextEmbedder, cache_dir: Path | None = None, *, denied=None
    ) -> "Vocabulary":
        """``denied`` (:class:`clipdesk.core.people.DeniedWords`): refuse a line
        that would put a denied word on people (VocabularyRefused)."""
        text = Path(path).read_text(encoding="utf-8")
        if denied is not None:
            denied.check_vocabulary(text, str(path))
        entries = parse_vocabulary(text)
        if not entries:
            raise UsageError(f"the vocabulary {path} has no tags")
        key = hashlib.sha256(f"{encoder.model_id}\n{text}".encode()).hexdigest()[:20]
        cache = Path(cache_dir) / encoder.model_id / f"vocab-{key}.npy" if cache_dir else None
        if cache is not None:
            try:
                emb = np.load(cache, allow_pickle=False)
                if emb.shape == (len(entries), encoder.dim) and np.isfinite(emb).all():
                    return cls(entries, emb, str(path))
            except (OSError, ValueError):
                pass
        emb = cls.embed_entries(entries, encoder)
        if cache is not None:
            try:
                cache.parent.mkdir(parents=True, exist_ok=True)
                atomic_write(cache, lambda f: np.save(f, emb, allow_pickle=False), durable=False)
            except OSError as exc:  # a cache: log and go on
                log.warning("could not cache tag embeddings: %s", exc)
        return cls(entries, emb, str(path))

    @staticmethod
    def embed_entries(entries: list[VocabEntry], encoder: TextEmbedder) -> np.ndarray:
        prompts = [p for e in entries for p in e.prompts]
        vecs = encoder.embed_texts(prompts)
        out = np.empty((len(entries), vecs.shape[1]), np.float32)
        i = 0
        for j, e in enumerate(entries):
            m = vecs[i : i + len(e.prompts)].mean(axis=0)
            out[j] = unit(m)
            i += len(e.prompts)
        return out


def library_sample(index, n: int = BACKGROUND_SAMPLE) -> np.ndarray:
    """Embeddings of up to ``n`` photos of a vector index, the same seeded
    sample every time: the library that tags and person prompts are calibrated on."""
    ids = index.ids()
    if len(ids) > n:
        ids = np.random.default_rng(0).choice(ids, n, replace=False)
    return index.vectors(ids)[1]


def _robust(x: np.ndarray, axis: int) -> tuple[np.ndarray, np.ndarray]:
    med = np.median(x, axis=axis, keepdims=True)
    mad = 1.4826 * np.median(np.abs(x - med), axis=axis, keepdims=True)
    sd = np.maximum(mad, np.std(x, axis=axis, keepdims=True) * 0.25)
    return med, np.maximum(sd, 1e-6)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -30, 30)))


def _bars(col: np.ndarray, fallback: float, strict: bool = True) -> tuple[float, float]:
    """(bar, standout bar) of one tag from its library scores ``col`` (best first).

    The relevance cut (:func:`clipdesk.core.relevance.relevance_cut`) finds
    where a group of photos separates from the rest (half way across is the
    bar). ``strict``: when the group it keeps splits again, read against its own
    spread, the bar goes up to that split, under the library's clearest photos
    of the tag (a colour model's "yellow" keeps the yellow photos, not the red
    ones that share its red channel).
    The standout bar is the lowest the library supports: the cut's own
    boundary, never above its tail threshold. Without any group, both start
    from ``fallback``.
    """
    from clipdesk.core.relevance import relevance_cut

    cut = relevance_cut(col, min_keep=0)
    tail = cut.mean + cut.z_tail * cut.sd
    if not 0 < cut.keep < len(col):
        return fallback, min(fallback, tail)
    high = cut.keep
    if strict and high > 1:
        inner = relevance_cut(col[:high], min_keep=0)  # the group read against itself
        if inner.reason in ("gap", "split") and 0 < inner.keep < high:
            high = inner.keep
    mid = lambda k: 0.5 * (float(col[k - 1]) + float(col[k]))  # noqa: E731
    return mid(high), min(mid(cut.keep), tail)


class ZeroShotTagger:
    """Calibrated zero-shot tags. ``background``: embeddings of library photos.

    ``evidence``: the calibration the people guard's thresholds were measured
    with (:mod:`clipdesk.core.people`, issue 21), for its person prompts: each
    bar at the widest group the library supports, no standout bars, margins in
    robust standard deviations (:data:`EVIDENCE_SLOPE`). Evidence that protects
    people must not miss one; labels that go on photos need clear evidence."""

    def __init__(self, vocab: Vocabulary, background: np.ndarray | None = None, *, evidence: bool = False):
        self.vocab = vocab
        self.evidence = evidence
        self.calibrated = background is not None and len(background) >= MIN_BACKGROUND
        #: Per tag [T]: the library's bar, the lower bar for tags that stand out in a
        #: photo (the tail threshold), the library's median and robust deviation.
        self.threshold = self.standout_threshold = self.median = self.sd = None
        if self.calibrated:
            bg = background @ vocab.embeddings.T  # [B, T]
            mu, sd = _robust(bg, axis=0)
            self.median, self.sd = mu[0], sd[0]
            thr = mu[0] + Z_TAG * self.sd
            low = thr.copy()
            for t in range(bg.shape[1]):
                thr[t], low[t] = _bars(np.sort(bg[:, t])[::-1], thr[t], strict=not evidence)
            self.threshold = thr
            self.standout_threshold = low

    def confidences(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(confidence [M, T], accepted mask [M, T]) for photo embeddings x [M, D]."""
        s = np.atleast_2d(x) @ self.vocab.embeddings.T
        pm, psd = _robust(s, axis=1)
        z_photo = (s - pm) / psd
        many = len(self.vocab.tags) >= 8  # enough tags for a photo's own spread to mean something
        # A tag stands out in a photo when it is among the photo's best-fitting few (by cosine,
        # as CLIP's zero-shot classification ranks) and well above the photo's other tags.
        best = np.argsort(np.argsort(-s, axis=1, kind="stable"), axis=1) < TOP_STANDOUT
        standout = many & best & (z_photo >= Z_STANDOUT)
        if self.calibrated and self.evidence:
            conf = _sigmoid(EVIDENCE_SLOPE * (s - self.threshold) / self.sd)
        elif self.calibrated:
            bar = np.where(standout, self.standout_threshold, self.threshold)
            # Margins are read against the tag's own height (its bar above the library's
            # median), whichever bar applies: a trace let in as a standout stays modest.
            height = np.maximum(self.threshold - self.median, self.sd)
            conf = _sigmoid(SLOPE * (s - bar) / height)
        elif many:  # no library: only a tag that stands out in the photo has any evidence
            fit = np.clip(s / np.maximum(s.max(axis=1, keepdims=True), 1e-9), 0.0, 1.0)
            conf = np.where(standout, 0.5 + (UNCALIBRATED_TOP - 0.5) * fit, 0.0)
        else:
            conf = _sigmoid(PHOTO_SLOPE * (z_photo - 2.5))
        accepted = conf >= 0.5
        if many:  # the tag must also stand out among this photo's tags
            accepted &= z_photo >= Z_PHOTO
        return conf, accepted

    def suggest(self, x: np.ndarray, top: int = 8) -> list[list[tuple[str, float]]]:
        conf, ok = self.confidences(x)
        out = []
        for c, a in zip(conf, ok):
            idx = np.flatnonzero(a)
            idx = idx[np.argsort(-c[idx])][:top]
            out.append([(self.vocab.tags[i], float(c[i])) for i in idx])
        return out


class LearnedTag:
    """A tag learned from examples: logistic regression on embeddings."""

    def __init__(self, tag: str, weights: np.ndarray, bias: float, positives: int, negatives: int):
        self.tag = tag
        self.w = weights.astype(np.float32)
        self.b = float(bias)
        self.positives = positives
        self.negatives = negatives

    @property
    def direction(self) -> np.ndarray:
        """A unit query vector that ranks photos like this tag's score does."""
        return unit(self.w)

    def probability(self, x: np.ndarray) -> np.ndarray:
        return _sigmoid(np.atleast_2d(x) @ self.w + self.b)

    @classmethod
    def fit(
        cls,
        tag: str,
        positives: np.ndarray,
        negatives: np.ndarray | None = None,
        background: np.ndarray | None = None,
        *,
        l2: float = 1.0,
        scale: float = 20.0,
    ) -> "LearnedTag":
        """Fit on unit embeddings. Each group (positives, the user's negatives,
        background) carries the same total weight, so three examples count as
        much as a thousand background photos. ``scale`` stretches the cosine
        features so a well-separated tag reaches confident probabilities."""
        pos = np.atleast_2d(np.asarray(positives, np.float64))
        if len(pos) == 0:
            raise UsageError(f"teaching {tag!r} needs at least one example photo")
        groups = [(pos, 1.0)]
        neg = np.zeros((0, pos.shape[1])) if negatives is None else np.atleast_2d(np.asarray(negatives, np.float64))
        if len(neg):
            groups.append((neg, 0.0))
        if background is not None and len(background):
            bg = np.asarray(background, np.float64)
            # Background photos that look like the examples are unlabelled, not
            # negatives: many of them are untagged positives.
            sim = bg @ unit(pos.mean(0))
            bg = bg[sim < np.quantile(sim, 1 - UNLABELLED_SHARE)] if len(bg) > 50 else bg
            groups.append((bg, 0.0))
        if len(groups) == 1:
            # Nothing negative at all: contrast with the opposite of the examples.
            groups.append((-pos, 0.0))
        X = np.concatenate([g for g, _ in groups]) * scale
        y = np.concatenate([np.full(len(g), t) for g, t in groups])
        sw = np.concatenate([np.full(len(g), 1.0 / len(g)) for g, _ in groups])
        sw = sw / sw.sum() * len(groups)
        d = X.shape[1]
        Xb = np.hstack([X, np.ones((len(X), 1))])
        w = np.zeros(d + 1)
        reg = np.full(d + 1, l2 / max(len(X), 1) * len(groups))
        reg[-1] = 0.0
        for _ in range(25):
            p = _sigmoid(Xb @ w)
            grad = Xb.T @ (sw * (p - y)) + reg * w
            h = (Xb * (sw * p * (1 - p))[:, None]).T @ Xb + np.diag(reg + 1e-6)
            step = np.linalg.solve(h, grad)
            w -= step
            if float(np.abs(step).max()) < 1e-6:
                break
        return cls(tag, w[:-1] * scale, float(w[-1]), len(pos), len(neg))

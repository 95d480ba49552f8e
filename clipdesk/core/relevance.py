"""How a query's parts become one ranking, and how many results are relevant.

:func:`query_vector` turns embeddings of the positive and negative parts of a
query (:mod:`clipdesk.core.query`) into one unit query vector, and
:func:`relevance_cut` decides how many of the ranked results are relevant,
from the query's own score distribution against the library.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from clipdesk.core.vectors import BadRows, unit, unit_rows


#: Weight of the negatives in :func:`query_vector`. Ranking by
#: ``x . (p - w n)`` is ranking by ``score(x, p) - w * score(x, n)``: a photo
#: that matches a negative as well as it matches the positive ends up about
#: where an unrelated photo is with w = 0.5, without falling below every
#: unrelated photo (w = 1 does that; CLIP scores of unrelated text-image pairs
#: differ by only ~0.1, so larger weights make the negative dominate).
NEGATIVE_WEIGHT = 0.5


def query_vector(
    positives: np.ndarray | None,
    negatives: np.ndarray | None = None,
    *,
    negative_weight: float = NEGATIVE_WEIGHT,
) -> np.ndarray | None:
    """One unit query vector from the embeddings of the query's parts.

    * positives [P, D] (the "+"-separated concepts, and images from
      ``similar:``): the normalised mean of the unit rows. The score of a
      photo is then proportional to the *sum* of its scores against each
      concept, so "beach + sunset" favours photos that show both.
    * negatives [N, D]: their normalised mean ``n`` is subtracted with
      ``negative_weight``: q = normalise(p - w n). Linear in the scores, so
      predictable (see :data:`NEGATIVE_WEIGHT`).
    * negatives only: q = -n (rank by how little a photo looks like them).

    Image and text embeddings live at different distances from photos (the
    modality gap); pass them together only when that weighting is wanted.
    Returns None when there is nothing to rank by.
    """
    has_pos = positives is not None and np.size(positives) > 0
    has_neg = negatives is not None and np.size(negatives) > 0
    if not has_pos and not has_neg:
        return None
    if negative_weight < 0 or not math.isfinite(negative_weight):
        raise ValueError("negative_weight must be a finite number >= 0")
    neg = None
    if has_neg:
        neg = _mean_direction(negatives, "negatives", optional=True)
    if not has_pos:
        if neg is None:
            return None
        return (-neg).astype(np.float32)
    q = _mean_direction(positives, "positives")
    if neg is not None and negative_weight > 0:
        try:
            q = unit(q - negative_weight * neg)
        except BadRows:
            raise ValueError("the negatives cancel the positives out") from None
    return q.astype(np.float32)


def _mean_direction(x: np.ndarray, what: str, optional: bool = False) -> np.ndarray | None:
    """The unit mean of the unit rows of ``x``; when they cancel out, None
    (``optional``) or ValueError."""
    try:
        rows = unit_rows(x)
    except BadRows as exc:
        problem = "contain NaN, infinite or zero vectors" if exc.rows else "must be a [N, D] array"
        raise ValueError(f"{what} {problem}") from None
    try:
        return unit(rows.mean(axis=0))
    except BadRows:
        if optional:
            return None
        raise ValueError(f"the {what} cancel each other out") from None


@dataclass(frozen=True)
class RelevanceCut:
    """How many of the best-first results to show."""

    #: Results to keep (of the scores passed in, best first).
    keep: int
    #: Lowest kept score (-inf when keep is 0).
    threshold: float
    #: False when nothing stood out from the library: the kept results are
    #: only the closest matches (the UI can say so).
    confident: bool
    #: "gap", "mixture", "tail", "min_keep" or "empty": which rule decided.
    reason: str


#: A cluster must be separated from what follows by at least this many
#: background standard deviations...
GAP_SIGMA = 1.0
#: ...and by this many times the typical spacing of the next scores.
GAP_RATIO = 4.0
#: Floor of the tail threshold, in background standard deviations.
MIN_TAIL_Z = 2.5
#: Expected number of unrelated photos above the tail threshold in a library
#: of Gaussian scores: 0.1, so pure noise is kept (and called confident) in
#: about one query in ten, and then as one or two photos.
TAIL_FALSE_POSITIVES = 0.1
#: Two-Gaussian fits of the background count as "a relevant group exists"
#: only when clearly bimodal (Ashman's D) and the upper group is not tiny.
MIN_ASHMAN_D = 2.0
MIN_MIXTURE_WEIGHT = 0.01


def relevance_cut(
    scores: np.ndarray,
    background: np.ndarray | None = None,
    *,
    library_size: int | None = None,
    min_keep: int = 1,
) -> RelevanceCut:
    """Decide how many of the ranked ``scores`` are relevant to the query.

    ``scores``: the candidates' scores (any order; the cut applies to them
    sorted best first). ``background``: the query's scores against a random
    sample of the library (:meth:`VectorIndex.sample_scores`); without it the
    candidates themselves are the background (right for small libraries, where
    the candidates are every photo). ``library_size``: photos searched.

    The rules, in order:

    1. *Null model.* Most photos are unrelated to a query, so the background's
       median gives the unrelated photos' centre, and the larger of its MAD
       and its upper tail's width (97.5th percentile, capped at 1.5x the MAD)
       their spread - scores are often right-skewed and only the upper tail
       matters here. If the
       background is clearly two groups (a two-Gaussian fit with Ashman's
       D >= 2, a valley between its two modes, and an upper group of at least
       1%) - a concept that many photos
       show - the lower group is the null and the cut is where a score becomes
       more likely to belong to the upper group ("mixture").
    2. *Gap.* A group of results separated from everything below by a clear
       gap (>= 1 background sigma and >= 4x the spacing of the scores after
       it), sitting above the tail threshold, is kept whole and the noise
       below it dropped ("gap"). The lowest such gap wins, so two relevant
       tiers are both kept.
    3. *Tail.* Otherwise keep what lies above the score that unrelated
       photos reach by chance in a library of ``library_size`` (the normal
       quantile 1 - 0.1/N, at least 2.5 sigma) ("tail").
    4. *Split.* For small libraries (no background of 200 scores to fit), the
       best two-group split of the scores is kept when the groups are clearly
       apart (Ashman's D >= 3, the upper group at most half the photos).
    5. Never fewer than ``min_keep`` (then ``confident`` is False).
    """
    s = np.asarray(scores, dtype=np.float64).ravel()
    s = np.sort(s[np.isfinite(s)])[::-1]
    if len(s) == 0:
        return RelevanceCut(0, float("-inf"), False, "empty")
    bg = s if background is None else np.asarray(background, dtype=np.float64).ravel()
    bg = bg[np.isfinite(bg)]
    if len(bg) < 8:
        bg = s
    n_lib = max(int(library_size or 0), len(bg), len(s), 2)
    floor = min(max(int(min_keep), 0), len(s))

    mu = float(np.median(bg))
    # Spread: the larger of the MAD and the upper tail's width, because score
    # distributions are often right-skewed and only the upper tail matters here.
    # The tail's width counts at most 1.5x the MAD: in a small library a group
    # of relevant photos can make up the whole upper 2.5%.
    mad_sigma = 1.4826 * float(np.median(np.abs(bg - mu)))
    tail_sigma = (float(np.quantile(bg, 0.975)) - mu) / 1.959964
    sigma = max(mad_sigma, min(tail_sigma, 1.5 * mad_sigma))
    if sigma <= 0:
        sigma = float(np.std(bg))
    scale = max(abs(mu), float(np.max(np.abs(s))), 1e-12)
    sigma = max(sigma, scale * 1e-6)

    mixture_threshold = None
    if len(bg) >= 200:
        fit = _two_gaussians(bg)
        if fit is not None:
            (w1, m1, s1), (w2, m2, s2) = fit
            d = math.sqrt(2.0) * abs(m2 - m1) / math.sqrt(s1 * s1 + s2 * s2)
            if d >= MIN_ASHMAN_D and w2 >= MIN_MIXTURE_WEIGHT and _has_dip(w1, m1, s1, w2, m2, s2):
                mu, sigma = m1, max(s1, scale * 1e-6)
                mixture_threshold = _posterior_crossing(w1, m1, s1, w2, m2, s2)

    z = (s - mu) / sigma
    z_tail = max(MIN_TAIL_Z, NormalDist().inv_cdf(1.0 - TAIL_FALSE_POSITIVES / n_lib))
    z_floor = z_tail if mixture_threshold is None else min(z_tail, (mixture_threshold - mu) / sigma)

    keep, reason = 0, "tail"
    gaps = z[:-1] - z[1:]
    for i in range(len(gaps) - 1, -1, -1):
        if z[i] < z_floor or gaps[i] < GAP_SIGMA:
            continue
        after = gaps[i + 1 : i + 11]
        if len(after) >= 3 and gaps[i] < GAP_RATIO * max(float(np.median(after)), 1e-12):
            continue
        keep, reason = i + 1, "gap"
        break
    if reason != "gap":
        split = _clear_split(s) if len(bg) < 200 or background is None else None
        if mixture_threshold is not None:
            keep, reason = int((s >= mixture_threshold).sum()), "mixture"
        elif split is not None:
            keep, reason = split, "split"
        else:
            keep = int((z >= z_tail).sum())
    confident = keep > 0
    if keep < floor:
        keep, reason, confident = floor, "min_keep", False
    threshold = float(s[keep - 1]) if keep else float("-inf")
    return RelevanceCut(keep, threshold, confident, reason)


#: A small library splits into "shows it" and "does not" when the two groups
#: are at least this far apart (Ashman's D)...
MIN_SPLIT_D = 3.0
#: ...and the upper group is at most this share of the photos.
MAX_SPLIT_SHARE = 0.5


def _clear_split(s: np.ndarray) -> int | None:
    """For libraries too small for a background fit: the two-group split of the
    sorted (best first) scores with the widest separation (Ashman's D), kept
    when the groups are clearly apart. A concept can cover a large share of a
    small library (a fifth of the demo library is red), which hides it from
    the tail rule."""
    n = len(s)
    if n < 8:
        return None
    k = np.arange(1, int(n * MAX_SPLIT_SHARE) + 1)
    csum, csq = np.cumsum(s), np.cumsum(s * s)
    m1 = csum[k - 1] / k
    m2 = (csum[-1] - csum[k - 1]) / (n - k)
    v1 = np.maximum(csq[k - 1] / k - m1 * m1, 0.0)
    v2 = np.maximum((csq[-1] - csq[k - 1]) / (n - k) - m2 * m2, 0.0)
    floor = (max(float(np.max(np.abs(s))), 1e-12) * 1e-3) ** 2
    d = math.sqrt(2.0) * (m1 - m2) / np.sqrt(v1 + v2 + floor)
    best = int(np.argmax(d))
    return int(k[best]) if d[best] >= MIN_SPLIT_D else None


def _two_gaussians(x: np.ndarray, iterations: int = 50) -> tuple[tuple[float, float, float], tuple[float, float, float]] | None:
    """EM fit of two 1-D Gaussians: ((weight, mean, sd) low, (weight, mean, sd) high)."""
    total_var = float(np.var(x))
    var_floor = max(total_var * 1e-3, 1e-18)
    lo, hi = (float(v) for v in np.quantile(x, [0.4, 0.98]))
    if hi <= lo:
        return None
    m1, m2 = lo, hi
    v1 = v2 = total_var / 4 + var_floor
    w1, w2 = 0.9, 0.1
    n = len(x)
    for _ in range(iterations):
        # Responsibility of the upper component, computed as a logistic of the log-odds.
        log_odds = (
            math.log(w2 / w1)
            - 0.5 * math.log(v2 / v1)
            - 0.5 * (x - m2) ** 2 / v2
            + 0.5 * (x - m1) ** 2 / v1
        )
        r2 = 1.0 / (1.0 + np.exp(-np.clip(log_odds, -500, 500)))
        n2 = float(r2.sum())
        n1 = n - n2
        if n1 < 2 or n2 < 2:
            return None
        new_m1 = float(((1 - r2) * x).sum()) / n1
        new_m2 = float((r2 * x).sum()) / n2
        v1 = float(((1 - r2) * (x - new_m1) ** 2).sum()) / n1 + var_floor
        v2 = float((r2 * (x - new_m2) ** 2).sum()) / n2 + var_floor
        moved = abs(new_m1 - m1) + abs(new_m2 - m2)
        m1, m2, w1, w2 = new_m1, new_m2, n1 / n, n2 / n
        if moved < 1e-7 * math.sqrt(total_var + 1e-300):
            break
    if m1 > m2:
        (w1, m1, v1), (w2, m2, v2) = (w2, m2, v2), (w1, m1, v1)
    return (w1, m1, math.sqrt(v1)), (w2, m2, math.sqrt(v2))


def _has_dip(w1: float, m1: float, s1: float, w2: float, m2: float, s2: float) -> bool:
    """True when the fitted mixture has two modes with a clear valley between.

    A skewed but unimodal score distribution also fits two Gaussians with
    Ashman's D near 2; only a real valley means a separate group of photos.
    """
    grid = np.linspace(m1, m2 + s2, 801)
    pdf = w1 / s1 * np.exp(-0.5 * ((grid - m1) / s1) ** 2) + w2 / s2 * np.exp(-0.5 * ((grid - m2) / s2) ** 2)
    valley = int(np.argmin(pdf[: int(np.searchsorted(grid, m2)) + 1]))
    upper_peak = float(pdf[valley:].max())
    return valley > 0 and pdf[valley] < 0.8 * upper_peak


def _posterior_crossing(w1: float, m1: float, s1: float, w2: float, m2: float, s2: float) -> float:
    """Lowest score between the means where the upper group becomes the likelier one."""
    grid = np.linspace(m1, m2, 2001)

    def logpdf(x, w, m, s):
        return math.log(w) - math.log(s) - 0.5 * ((x - m) / s) ** 2

    upper_wins = logpdf(grid, w2, m2, s2) >= logpdf(grid, w1, m1, s1)
    idx = int(np.argmax(upper_wins)) if upper_wins.any() else len(grid) - 1
    return float(grid[idx])


__all__ = [
    "NEGATIVE_WEIGHT",
    "RelevanceCut",
    "query_vector",
    "relevance_cut",
]

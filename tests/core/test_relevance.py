"""The query vector and the adaptive relevance cut."""

from __future__ import annotations

import numpy as np
import pytest

from clipdesk.core.relevance import query_vector, relevance_cut

# --------------------------------------------------------------------------- query vector


def _basis(dim: int = 8) -> np.ndarray:
    return np.eye(dim, dtype=np.float32)


def test_positives_are_averaged_so_photos_with_both_concepts_rank_first():
    e = _basis()
    q = query_vector(np.stack([e[0] * 3, e[1]]))  # scale does not matter
    np.testing.assert_allclose(q, (e[0] + e[1]) / np.sqrt(2), atol=1e-6)
    both = (e[0] + e[1]) / np.sqrt(2)
    one = e[0]
    assert both @ q > one @ q


def test_negatives_subtract_with_their_weight():
    e = _basis()
    q = query_vector(e[0][None], e[1][None], negative_weight=0.5)
    expected = (e[0] - 0.5 * e[1]) / np.linalg.norm(e[0] - 0.5 * e[1])
    np.testing.assert_allclose(q, expected, atol=1e-6)
    plain = (e[0] + e[2]) / np.sqrt(2)
    with_negative = (e[0] + e[1]) / np.sqrt(2)
    assert plain @ q > with_negative @ q
    np.testing.assert_allclose(query_vector(e[0][None], e[1][None], negative_weight=0), e[0], atol=1e-6)


def test_only_negatives_point_away_and_nothing_gives_none():
    e = _basis()
    np.testing.assert_allclose(query_vector(None, e[2][None]), -e[2], atol=1e-6)
    assert query_vector(None, None) is None
    assert query_vector(np.zeros((0, 8)), np.zeros((0, 8))) is None


@pytest.mark.parametrize(
    "positives, negatives",
    [
        (np.full((1, 8), np.nan), None),
        (np.zeros((1, 8)), None),
        (np.stack([np.eye(8)[0], -np.eye(8)[0]]), None),  # cancel out
        (np.eye(8)[:1], np.full((1, 8), np.inf)),
    ],
)
def test_degenerate_embeddings_are_refused(positives, negatives):
    with pytest.raises(ValueError):
        query_vector(positives, negatives)


def test_query_vector_is_unit_float32():
    rng = np.random.default_rng(0)
    q = query_vector(rng.normal(size=(3, 64)), rng.normal(size=(2, 64)))
    assert q.dtype == np.float32 and q.shape == (64,)
    assert np.linalg.norm(q) == pytest.approx(1.0, abs=1e-5)


# --------------------------------------------------------------------------- relevance cut

N = 100_000


def _cut(library: np.ndarray, seed: int, k: int = 1000, **kw):
    """Like the search does: top-k candidates, a 2048-photo background sample."""
    rng = np.random.default_rng(seed + 1000)
    top = np.sort(library)[::-1][:k]
    background = rng.choice(library, size=2048, replace=False)
    return relevance_cut(top, background, library_size=len(library), **kw)


def _noise(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(0.2, 0.02, N)


SEEDS = range(8)


@pytest.mark.parametrize("seed", SEEDS)
def test_a_clear_cluster_is_kept_whole_and_the_noise_dropped(seed):
    rng = np.random.default_rng(seed)
    lib = _noise(seed)
    lib[:30] = 0.2 + 0.02 * rng.normal(8, 0.5, 30)
    cut = _cut(lib, seed)
    assert (cut.keep, cut.reason, cut.confident) == (30, "gap", True)
    assert cut.threshold == pytest.approx(np.sort(lib[:30])[0])


@pytest.mark.parametrize("seed", SEEDS)
def test_pure_noise_keeps_almost_nothing_and_says_so(seed):
    cut = _cut(_noise(seed), seed)
    assert 1 <= cut.keep <= 2
    if cut.reason == "min_keep":
        assert not cut.confident


def test_pure_noise_is_rarely_called_confident():
    confident = sum(_cut(_noise(seed), seed).confident for seed in range(20))
    assert confident <= 5


@pytest.mark.parametrize("seed", SEEDS)
def test_a_common_concept_keeps_all_candidates(seed):
    rng = np.random.default_rng(seed)
    lib = _noise(seed)
    lib[rng.random(N) < 0.3] += 0.08  # 30% of the library shows it
    cut = _cut(lib, seed)
    assert cut.keep == 1000 and cut.reason == "mixture" and cut.confident


@pytest.mark.parametrize("seed", SEEDS)
def test_a_gradual_concept_keeps_what_stands_above_the_noise(seed):
    """1% of the library scores 3 to 7 sigma above the rest. In a library of
    100k the noise itself reaches ~4.4 sigma, so only the upper part can be
    told apart: the cut keeps it, with almost no noise."""
    rng = np.random.default_rng(seed)
    lib = _noise(seed)
    relevant = rng.random(N) < 0.01
    lib[relevant] += 0.02 * rng.uniform(3, 7, relevant.sum())
    cut = _cut(lib, seed)
    assert cut.confident
    top = np.argsort(-lib)[: cut.keep]
    assert cut.keep >= 250 and relevant[top].mean() >= 0.9


@pytest.mark.parametrize(
    "make",
    [
        lambda rng: rng.gamma(4.0, 0.01, N),
        lambda rng: rng.lognormal(-1.6, 0.15, N),
        lambda rng: 0.2 + 0.02 * rng.standard_t(5, N),
        lambda rng: 0.2 + 0.02 * rng.standard_t(3, N),
    ],
    ids=["gamma", "lognormal", "t5", "t3"],
)
@pytest.mark.parametrize("seed", range(4))
def test_skewed_or_heavy_tailed_noise_keeps_a_tiny_fraction(make, seed):
    cut = _cut(make(np.random.default_rng(seed)), seed)
    assert cut.keep <= N * 0.0015


def test_a_small_library_scored_whole():
    rng = np.random.default_rng(0)
    scores = rng.normal(0.2, 0.02, 40)
    scores[:5] += 0.15
    cut = relevance_cut(scores)
    assert cut.keep == 5 and cut.reason == "gap"


def test_never_cuts_everything():
    rng = np.random.default_rng(5)
    for _ in range(120):
        n = int(rng.integers(1, 300))
        scores = rng.normal(rng.uniform(-1, 1), rng.uniform(0, 0.3), n)
        min_keep = int(rng.integers(1, 10))
        cut = relevance_cut(scores, min_keep=min_keep)
        assert cut.keep >= min(min_keep, n)
        assert cut.keep <= n


def test_degenerate_inputs():
    assert relevance_cut(np.array([])).keep == 0
    assert relevance_cut(np.array([np.nan, np.nan])).keep == 0
    flat = relevance_cut(np.full(50, 0.3), min_keep=3)
    assert (flat.keep, flat.confident, flat.reason) == (3, False, "min_keep")
    with_nan = relevance_cut(np.array([0.9, np.nan, 0.2, 0.21, 0.19, 0.2, 0.2, 0.22, 0.18, 0.2]))
    assert with_nan.keep == 1 and with_nan.threshold == pytest.approx(0.9)
    assert relevance_cut(np.array([0.5]), min_keep=0).keep in (0, 1)


def test_the_cut_does_not_depend_on_the_score_scale():
    rng = np.random.default_rng(3)
    lib = _noise(3)
    lib[:40] = 0.2 + 0.02 * rng.normal(7, 0.8, 40)
    top = np.sort(lib)[::-1][:800]
    bg = rng.choice(lib, 2048, replace=False)
    base = relevance_cut(top, bg, library_size=N)
    for a, b in ((10.0, 0.0), (0.01, -3.0), (3.0, 100.0)):
        moved = relevance_cut(top * a + b, bg * a + b, library_size=N)
        assert (moved.keep, moved.reason) == (base.keep, base.reason)


def test_order_of_the_candidates_does_not_matter():
    rng = np.random.default_rng(4)
    lib = _noise(4)
    lib[:25] += 0.2
    top = np.sort(lib)[::-1][:500]
    bg = rng.choice(lib, 2048, replace=False)
    shuffled = rng.permutation(top)
    assert relevance_cut(shuffled, bg, library_size=N) == relevance_cut(top, bg, library_size=N)


@pytest.mark.parametrize("shape", [0.1, 0.15, 0.25])
def test_a_skewed_single_group_is_not_mistaken_for_two(shape):
    for seed in range(12):
        rng = np.random.default_rng(seed)
        lib = rng.lognormal(-1.6, shape, 20_000)
        cut = _cut(lib, seed, k=500)
        assert cut.reason != "mixture" and cut.keep <= 40, (seed, cut)

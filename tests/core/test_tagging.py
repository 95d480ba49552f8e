"""Zero-shot tag calibration (clipdesk.core.tagging.ZeroShotTagger) on libraries whose score
distributions are built to show one fault each: unit embeddings in a space where each tag is
one axis, so a photo's score for a tag is its coordinate on that axis."""

import numpy as np

from clipdesk.core.tagging import Vocabulary, VocabEntry, ZeroShotTagger

TAGS = ["landscape", "tent", "castle", "zebra", "boat", "dog", "cat", "car", "flower", "food"]
DIM = 24


def _vocab() -> Vocabulary:
    return Vocabulary([VocabEntry(t, (t,)) for t in TAGS], np.eye(len(TAGS), DIM, dtype=np.float32))


def _photos(coords: np.ndarray, rng) -> np.ndarray:
    """Unit vectors with the given tag coordinates [n, tags]; the rest of the length lies on
    axes no tag uses."""
    n = len(coords)
    rest = np.abs(rng.normal(size=(n, DIM - len(TAGS))))
    rest /= np.linalg.norm(rest, axis=1, keepdims=True)
    left = np.sqrt(np.clip(1 - (coords ** 2).sum(axis=1, keepdims=True), 0, None))
    return np.hstack([coords, rest * left]).astype(np.float32)


def _library(rng, n=400) -> np.ndarray:
    """Most photos show none of the tags: small, sparse scores (the way an ImageNet model's
    class probabilities are); a few show one clearly."""
    coords = np.abs(rng.normal(0, 0.004, size=(n, len(TAGS))))
    for t in range(1, len(TAGS)):  # each specific tag: a handful of clear photos
        coords[rng.choice(n, 6, replace=False), t] = rng.uniform(0.5, 0.6, 6)
    # "landscape": two aerial views far above, then a long run of landscapes well above
    # the photos that show none.
    coords[:, 0] = np.abs(rng.normal(0.02, 0.006, n))
    coords[:2, 0] = [0.45, 0.44]
    coords[2:30, 0] = np.linspace(0.32, 0.11, 28)
    return _photos(coords, rng)


def _photo(rng, **scores) -> np.ndarray:
    coords = np.abs(rng.normal(0, 0.003, size=(1, len(TAGS))))
    for tag, s in scores.items():
        coords[0, TAGS.index(tag)] = s
    return _photos(coords, rng)


def _suggested(tagger, x) -> list[str]:
    conf, ok = tagger.confidences(x)
    idx = np.flatnonzero(ok[0])
    return [TAGS[i] for i in idx[np.argsort(-conf[0, idx])]]


def test_a_tag_the_photo_shows_is_not_held_to_the_library_s_clearest_photos():
    """The gap in "landscape" sits under two aerial views; a landscape that scores well above
    every unrelated photo, and stands out among its own tags, still gets the tag."""
    rng = np.random.default_rng(1)
    tagger = ZeroShotTagger(_vocab(), _library(rng))
    assert tagger.threshold[0] > 0.3  # the library's bar: under the two aerial views
    assert _suggested(tagger, _photo(rng, landscape=0.16))[:1] == ["landscape"]
    # An unrelated photo at the library's usual level gets nothing.
    assert "landscape" not in _suggested(tagger, _photo(rng, landscape=0.03))


def test_a_trace_of_a_rare_tag_does_not_outrank_a_tag_that_fits():
    """A rare tag's library scores are nearly all zero, so its spread is tiny: read in that
    spread, a trace of it (0.05, a tenth of its clear photos) outranked "landscape" at three
    times its own bar. Read against each bar's height, the landscape comes first."""
    rng = np.random.default_rng(2)
    tagger = ZeroShotTagger(_vocab(), _library(rng))
    got = _suggested(tagger, _photo(rng, landscape=0.3, tent=0.05))
    assert got[0] == "landscape", got


def test_a_tag_clear_in_the_library_keeps_its_bar_for_photos_where_it_does_not_stand_out():
    """Many tags high at once (a busy photo): none stands out, so none is let down to the
    library's tail threshold, and a moderate landscape score stays below the library's bar."""
    rng = np.random.default_rng(3)
    tagger = ZeroShotTagger(_vocab(), _library(rng))
    busy = _photo(rng, landscape=0.16, tent=0.15, castle=0.15, zebra=0.16, boat=0.15, dog=0.16,
                  cat=0.15, car=0.16, flower=0.15, food=0.16)
    assert "landscape" not in _suggested(tagger, busy)


def test_a_trace_let_in_as_a_standout_is_not_shown_as_certain():
    """A rare tag's trace that stands out in a photo passes at the library's tail threshold,
    but its confidence is read against the tag's own height: modest, not 100%."""
    rng = np.random.default_rng(4)
    tagger = ZeroShotTagger(_vocab(), _library(rng))
    conf, ok = tagger.confidences(_photo(rng, tent=0.06))
    tent = TAGS.index("tent")
    assert ok[0, tent] and 0.5 <= conf[0, tent] < 0.9
    conf, ok = tagger.confidences(_photo(rng, tent=0.55))  # like the library's clear tents
    assert ok[0, tent] and conf[0, tent] > 0.99


def test_without_a_library_only_the_tags_that_stand_out_are_suggested():
    """Fewer than MIN_BACKGROUND photos: nothing to calibrate on, so a photo gets at most its
    TOP_STANDOUT best-fitting tags, and only those well above its other tags."""
    from clipdesk.core.tagging import TOP_STANDOUT

    rng = np.random.default_rng(5)
    tagger = ZeroShotTagger(_vocab(), _library(rng, n=30))
    assert not tagger.calibrated
    four = _photo(rng, landscape=0.3, tent=0.25, castle=0.2, zebra=0.18)
    assert _suggested(tagger, four) == ["landscape", "tent", "castle", "zebra"][:TOP_STANDOUT]
    assert _suggested(tagger, _photo(rng)) == []  # nothing stands out in a photo of nothing
    conf, ok = tagger.confidences(four)
    assert conf[ok].max() <= 0.75  # nothing measured how sure: never shown as certain

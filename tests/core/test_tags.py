"""The tag service end to end: zero-shot suggestions, learned tags, tagging the
whole library, sidecars."""

import os

from colourkit import colour_photo
from support import hit_names as names


def test_zero_shot_suggestions_for_library_and_outside_files(colour_library, tmp_path):
    lib, root = colour_library
    outside = tmp_path / "drop" / "x.jpg"
    colour_photo(outside, "green", noise=10)
    red = lib.catalog.photo_by_path(root / "warm" / "red3.jpg").id
    got = lib.tags.suggest([red, outside, tmp_path / "missing.jpg"])
    assert got[0].photo_id == red and got[0].suggestions[0].tag == "red"
    assert got[0].suggestions[0].score >= 0.5 and got[0].suggestions[0].source == "auto"
    assert got[1].photo_id is None and got[1].suggestions[0].tag == "green"
    assert got[2].error and not got[2].suggestions
    lib.tags.reject([red], "red")
    assert "red" not in [s.tag for s in lib.tags.suggest([red])[0].suggestions]

def test_teach_a_tag_from_examples_and_keep_learning(colour_library):
    lib, root = colour_library
    pid = lambda name: lib.catalog.photo_by_path(next(root.rglob(name))).id  # noqa: E731
    hits = lib.tags.teach("sunny", [pid("yellow0.jpg"), pid("yellow1.jpg")])
    found = {os.path.basename(h.photo.path) for h in hits}
    assert {"yellow2.jpg", "yellow3.jpg", "yellow4.jpg"} <= found
    assert not any(n.startswith(("blue", "green")) for n in found)
    assert all(0.5 <= h.score <= 1 for h in hits)
    # Rejections teach too: reds stop being suggested.
    reds = [pid(f"red{i}.jpg") for i in range(5)]
    hits = lib.tags.teach("sunny", [], reds)
    assert not any(os.path.basename(h.photo.path).startswith("red") for h in hits)
    sugg = lib.tags.suggest([pid("yellow4.jpg")])[0].suggestions
    assert any(s.tag == "sunny" and s.source == "learned" for s in sugg)

def test_preview_and_apply_to_the_whole_library(colour_library):
    lib, _ = colour_library
    preview = lib.tags.preview_auto()
    assert preview["red"] == 5 and preview["blue"] >= 6  # the toy model calls bluish greys blue
    applied = lib.tags.apply_auto(["red"])
    assert applied.counts == {"red": preview["red"]}
    assert applied.changes.tags and len(applied.changes.photos) == preview["red"]
    assert {t.name: t.photos for t in lib.tags.list()}["red"] == preview["red"]
    tagged = names(lib.search.query("tag:red"))
    assert {f"red{i}.jpg" for i in range(5)} <= set(tagged)

def test_write_sidecars(colour_library):
    lib, root = colour_library
    p = lib.catalog.photo_by_path(root / "cold" / "green1.jpg")
    lib.tags.accept([p.id], "Garden|Lawn")
    changes = lib.tags.write_all_sidecars([p.id])
    assert not changes.sidecar_failures
    xmp = (root / "cold" / "green1.jpg.xmp").read_text()
    assert "Lawn" in xmp and "Garden|Lawn" in xmp

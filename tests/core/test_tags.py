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


# --------------------------------------------------------------------------- tag tree and undo (issue 18)

import pytest  # noqa: E402

from clipdesk.core.scan import Scanner  # noqa: E402
from clipdesk.core.sidecar import read_tags  # noqa: E402
from support import age, make_photo  # noqa: E402


@pytest.fixture
def tagged(library, tmp_path):
    root = tmp_path / "lib"
    for i in range(4):
        make_photo(root / f"p{i}.jpg", seed=i)
        age(root / f"p{i}.jpg")
    library.folders.add(root)
    Scanner(library.catalog).reconcile()
    ids = [library.search.find_photo(root / f"p{i}.jpg").id for i in range(4)]
    return library, root, ids


def state(lib) -> dict:
    """Every tag and its links, as the user would see them."""
    out = {}
    for t in lib.tags.list():
        out[t.name] = (t.learned, sorted(
            (pid, pt.state) for pid in lib.catalog.tagged_ids(t.name, "accepted") + lib.catalog.tagged_ids(t.name, "rejected")
            for pt in lib.tags.of_photo(pid) if pt.tag == t.name))
    return out


def test_renaming_a_parent_moves_its_children_and_tag_filters_include_them(tagged):
    lib, _, ids = tagged
    lib.tags.accept(ids[:2], "Places|Beach")
    lib.tags.accept(ids[2:3], "Places")
    lib.tags.rename("Places", "Travel")
    assert sorted(t.name for t in lib.tags.list()) == ["Travel", "Travel|Beach"]
    assert len(lib.search.query("tag:Travel").hits) == 3
    assert len(lib.search.query("tag:travel|beach").hits) == 2
    tree = lib.tags.tree()
    assert [(n.name, n.photos, [(c.name, c.photos) for c in n.children]) for n in tree] == [
        ("Travel", 1, [("Beach", 2)])]


def test_a_rename_onto_an_existing_tag_merges_and_keeps_the_users_decisions(tagged):
    lib, _, ids = tagged
    lib.tags.accept(ids[:2], "seaside")
    lib.tags.reject(ids[2:3], "seaside")
    lib.tags.accept(ids[1:3], "Beach")
    lib.catalog.set_learned("seaside")
    lib.tags.rename("seaside", "beach")
    assert [t.name for t in lib.tags.list()] == ["Beach"]
    assert lib.catalog.tagged_ids("Beach", "accepted") == sorted(ids[:3])  # accepted on 2 wins over rejected
    assert lib.tags.list()[0].learned


@pytest.mark.parametrize("edit", ["accept", "reject", "remove", "delete", "rename", "merge", "move"])
def test_every_tag_edit_is_undone_and_redone_exactly(tagged, edit):
    lib, _, ids = tagged
    lib.tags.accept(ids[:3], "Places|Beach")
    lib.tags.reject(ids[3:], "Places|Beach")
    lib.tags.accept(ids[1:], "dog")
    lib.catalog.set_learned("dog")
    before = state(lib)
    changes = {
        "accept": lambda: lib.tags.accept(ids, "dog"),
        "reject": lambda: lib.tags.reject(ids[:2], "dog"),
        "remove": lambda: lib.tags.remove(ids, "Places|Beach"),
        "delete": lambda: lib.tags.delete("Places"),
        "rename": lambda: lib.tags.rename("Places", "Travel"),
        "merge": lambda: lib.tags.rename("dog", "Places|Beach"),
        "move": lambda: lib.tags.move("dog", "Animals"),
    }[edit]()
    after = state(lib)
    assert after != before and changes.undo is not None and changes.undo.label
    redo = changes.undo.run()
    assert state(lib) == before
    again = redo.undo.run()
    assert state(lib) == after
    again.undo.run()
    assert state(lib) == before


def test_sidecars_follow_renames_and_undo(tagged):
    lib, root, ids = tagged
    lib.tags.write_sidecars = True
    lib.tags.accept(ids[:2], "Places|Beach")
    changes = lib.tags.rename("Places", "Travel")
    assert not changes.sidecar_failures
    assert read_tags(root / "p0.jpg").tags == ("Travel|Beach",)
    changes.undo.run()
    assert read_tags(root / "p0.jpg").tags == ("Places|Beach",)


def test_a_rejection_alone_makes_no_tag(tagged):
    """Issue 16: rejecting "pullover" in the auto-tag panel put a "pullover" with 0
    photos in the sidebar and the Tag menu: the rejection is stored as a link to
    the tag, and every tag row was listed."""
    lib, _, ids = tagged
    lib.tags.reject(ids[:2], "pullover")
    lib.tags.accept(ids[:1], "dress")
    assert [t.name for t in lib.tags.list()] == ["dress"]
    lib.tags.accept(ids[2:3], "pullover")
    assert {t.name: t.photos for t in lib.tags.list()} == {"dress": 1, "pullover": 1}
    lib.tags.remove(ids[:1], "dress")  # emptied by the user: still the user's tag
    assert {t.name: t.photos for t in lib.tags.list()} == {"dress": 0, "pullover": 1}

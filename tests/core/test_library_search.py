"""Search, similar, tagging and duplicates through the Library, end to end:
real JPEGs, a real catalog, the real engine on the "colour CLIP" bundle."""

import os
import shutil

import numpy as np
import pytest
from PIL import Image

from clipdesk.core.errors import QueryError
from clipdesk.core.library import Library
from colourkit import colour_photo, write_colour_bundle
from support import age


@pytest.fixture
def colour_library(paths, tmp_path, monkeypatch):
    write_colour_bundle(paths.models_dir / "colour-test")
    resources = tmp_path / "resources"
    (resources / "vocab").mkdir(parents=True)
    (resources / "vocab" / "colour-test.txt").write_text(
        "# colours\nred\nblue\tblue|a photo of blue\ngreen\nyellow\n")
    monkeypatch.setenv("CLIPDESK_RESOURCES_DIR", str(resources))
    root = tmp_path / "photos"
    for colour, folder in (("red", "warm"), ("yellow", "warm"), ("blue", "cold"), ("green", "cold")):
        for i in range(5):
            colour_photo(root / folder / f"{colour}{i}.jpg", colour, noise=25, seed=i)
    colour_photo(root / "cold" / "blue-png.png", "blue", noise=25, seed=99)
    # The rest of a library: photos of other colours (purples, cyans, greys, black, white).
    rng = np.random.default_rng(5)
    palette = [(130, 70, 170), (60, 180, 200), (235, 235, 240), (25, 25, 30), (90, 100, 150)]
    for i in range(40):
        rgb = np.array(palette[i % len(palette)])
        arr = np.clip(rgb + rng.integers(-20, 21, size=(60, 80, 3)), 0, 255).astype(np.uint8)
        (root / "misc").mkdir(parents=True, exist_ok=True)
        Image.fromarray(arr).save(root / "misc" / f"misc{i:02d}.jpg", quality=90)
    for f in root.rglob("*.*"):
        age(f)
    lib = Library(paths)
    lib.folders.add(root)
    result = lib.folders.index()
    assert result.indexed == 61 and result.failed == 0
    yield lib, root
    lib.close()


def names(result):
    return [os.path.basename(h.photo.path) for h in result.hits]


def test_typed_query_finds_the_colour_and_cuts_the_rest(colour_library):
    lib, root = colour_library
    r = lib.search.query("red")
    assert sorted(names(r)[:5]) == [f"red{i}.jpg" for i in range(5)]
    assert not any(n.startswith(("blue", "green")) for n in names(r))
    assert r.model_id == "colour-test" and r.cut is not None
    assert all(a.score >= b.score for a, b in zip(r.hits, r.hits[1:]))


def test_negatives_and_plus(colour_library):
    lib, _ = colour_library
    both = names(lib.search.query("red + yellow"))
    assert {f"red{i}.jpg" for i in range(5)} | {f"yellow{i}.jpg" for i in range(5)} <= set(both)
    assert not any(n.startswith(("blue", "green")) for n in both)
    pushed = names(lib.search.query("yellow -red", limit=5))
    assert all(n.startswith("yellow") for n in pushed)


def test_filters_combine_with_meaning(colour_library):
    lib, root = colour_library
    r = lib.search.query("blue folder:cold type:png")
    assert names(r) == ["blue-png.png"]
    r = lib.search.query(f"folder:{root / 'warm'}")
    assert len(r.hits) == 10 and r.sort == "newest"
    assert names(lib.search.query("red folder:misc")) and all(n.startswith("misc") for n in names(lib.search.query("red folder:misc")))
    lib.tags.accept([lib.catalog.photo_by_path(root / "cold" / "green0.jpg").id], "favourite")
    assert names(lib.search.query("tag:favourite")) == ["green0.jpg"]
    assert "green0.jpg" not in names(lib.search.query("green -tag:favourite"))


def test_parse_errors_are_explained(colour_library):
    lib, _ = colour_library
    with pytest.raises(QueryError) as err:
        lib.search.query("red after:yesterdayish")
    assert "after" in str(err.value)


def test_similar_by_id_and_by_file_outside_the_library(colour_library, tmp_path):
    lib, root = colour_library
    pid = lib.catalog.photo_by_path(root / "cold" / "green2.jpg").id
    r = lib.search.similar(pid)
    assert pid not in [h.photo.id for h in r.hits]
    assert set(names(r)[:4]) == {f"green{i}.jpg" for i in (0, 1, 3, 4)}
    outside = tmp_path / "elsewhere" / "query.jpg"
    colour_photo(outside, "yellow", noise=10)
    assert names(lib.search.similar(outside))[0].startswith("yellow")
    assert names(lib.search.query(f"similar:{outside}"))[0].startswith("yellow")


def test_index_is_saved_and_loaded_not_rebuilt(colour_library, paths):
    lib, _ = colour_library
    lib.close()
    with Library(paths) as again:
        index = again.models.index()
        assert not index.rebuilding and len(index) == 61
        assert sorted(names(again.search.query("blue"))[:6]) == sorted(
            [f"blue{i}.jpg" for i in range(5)] + ["blue-png.png"])


def test_damaged_index_is_rebuilt_from_the_catalog(colour_library, paths):
    lib, _ = colour_library
    lib.close()
    for f in paths.index_dir.iterdir():
        if f.suffix == ".bin" or "hnsw" in f.name:
            f.write_bytes(f.read_bytes()[: f.stat().st_size // 2])
    with Library(paths) as again:
        index = again.models.index()
        for _ in range(200):
            if not index.rebuilding:
                break
            import time
            time.sleep(0.05)
        assert len(index) == 61
        assert sorted(names(again.search.query("red"))[:5]) == [f"red{i}.jpg" for i in range(5)]


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


def test_duplicates_with_the_best_copy_first(colour_library, tmp_path):
    lib, root = colour_library
    original = root / "warm" / "red0.jpg"
    shutil.copy(original, root / "warm" / "red0-copy.jpg")
    Image.open(original).resize((48, 36)).save(root / "warm" / "red0-small.jpg")
    for f in ("red0-copy.jpg", "red0-small.jpg"):
        age(root / "warm" / f)
    lib.folders.index()
    groups = lib.search.duplicates(threshold=0.999)
    by_name = {tuple(sorted(os.path.basename(p.path) for p in g.photos)): g for g in groups}
    identical = [g for g in groups if g.reason == "identical content"]
    assert any({"red0.jpg", "red0-copy.jpg"} <= {os.path.basename(p.path) for p in g.photos} for g in groups)
    group = next(g for g in groups if "red0-small.jpg" in {os.path.basename(p.path) for p in g.photos})
    assert os.path.basename(group.photos[0].path) != "red0-small.jpg"  # more pixels wins
    assert group.scores[0] == 1.0 and by_name and identical is not None


def test_demo_model_status_when_only_the_bundled_model_exists(paths, monkeypatch, tmp_path):
    bundled = tmp_path / "bundled"
    write_colour_bundle(bundled / "tiny-demo")
    monkeypatch.setenv("CLIPDESK_MODELS_DIR", str(bundled))
    with Library(paths) as lib:
        st = lib.models.status()
        assert st.is_demo and st.model_id == "tiny-demo" and "Demo model" in st.message
        assert st.recommended
    empty = tmp_path / "none"
    empty.mkdir()
    monkeypatch.setenv("CLIPDESK_MODELS_DIR", str(empty))
    with Library(paths) as lib:
        st = lib.models.status()
        assert st.model_id is None and "No model" in st.message


def test_no_cut_returns_the_top_limit_by_score(colour_library):
    lib, _ = colour_library
    r = lib.search.query("red", cut=False, limit=20)
    assert len(r.hits) == 20 and r.cut is None
    assert sorted(names(r)[:5]) == [f"red{i}.jpg" for i in range(5)]

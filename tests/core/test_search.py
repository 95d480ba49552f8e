"""The search service end to end: typed queries, filters, find similar,
duplicates, listings, on real JPEGs with the real engine."""

import os
import shutil

import pytest
from PIL import Image

from clipdesk.core import query as querylang
from clipdesk.core.errors import QueryError
from colourkit import colour_photo
from support import hit_names as names
from support import age


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

def test_no_cut_returns_the_top_limit_by_score(colour_library):
    lib, _ = colour_library
    r = lib.search.query("red", cut=False, limit=20)
    assert len(r.hits) == 20 and r.cut is None
    assert sorted(names(r)[:5]) == [f"red{i}.jpg" for i in range(5)]


def test_a_parsed_query_travels_to_the_index_without_being_parsed_again(colour_library, monkeypatch):
    from clipdesk.core import query as querylang

    lib, _ = colour_library
    meaning = querylang.parse_query("red -blue folder:warm")
    filters = querylang.parse_query("folder:warm sort:oldest")
    lexed: list[str] = []
    real = querylang.lex
    monkeypatch.setattr(querylang, "lex", lambda text: lexed.append(text) or real(text))
    assert names(lib.search.query(meaning))[0].startswith("red")
    assert len(lib.search.listing(filters).ids) == 10
    assert lib.search.count(filters) == 10
    assert lexed == []
    lib.search.query("red")  # text from a script is parsed, once
    assert lexed == ["red"]


def test_a_typed_file_name_puts_those_files_first_then_meaning(colour_library):
    """Issue 19: typing IMG_0003, DSC_1234 or holiday-2019 finds the file, as
    Immich's search does; name: is also a filter."""
    lib, root = colour_library
    os.rename(root / "warm" / "red3.jpg", root / "warm" / "holiday-2019_IMG_0003.jpg")
    os.rename(root / "cold" / "blue2.jpg", root / "cold" / "Holiday-2019 sea.jpg")
    lib.folders.index()
    result = lib.search.query("holiday-2019")
    first = names(result)[:2]
    assert sorted(first) == ["Holiday-2019 sea.jpg", "holiday-2019_IMG_0003.jpg"]
    assert len(names(result)) == len(set(names(result)))  # no photo twice
    assert names(lib.search.query("img_0003"))[0] == "holiday-2019_IMG_0003.jpg"
    assert names(lib.search.query("name:holiday")) != []
    assert set(names(lib.search.query("name:holiday -name:sea"))) == {"holiday-2019_IMG_0003.jpg"}
    assert "red" == names(lib.search.query("red"))[0][:3]  # short words are meaning, not names


def test_a_text_searched_again_is_not_run_through_the_model_again(colour_library, monkeypatch):
    """Issue 17: query embeddings are cached per model (call counts, not time)."""
    lib, _ = colour_library
    encoder = lib.models.active().text
    encoded = []
    embed = encoder.embed_texts

    def counted(texts):
        encoded.extend(texts)
        return embed(texts)

    monkeypatch.setattr(encoder, "embed_texts", counted)
    for text in ("red", "red", "blue -red", "red + blue", "red"):
        lib.search.query(text)
    assert sorted(encoded) == ["blue", "red"]


def test_preloading_loads_the_index_and_the_text_encoder(colour_library):
    from clipdesk.core.library import Library

    lib, _ = colour_library
    with Library(lib.paths, lock=False) as fresh:  # (beside the one indexing)
        fresh.search.preload("text")
        model = fresh.models.loaded
        assert model.text.loaded and model.index is None
        fresh.search.preload("index")
        assert model.index is not None and len(model.index) == 61
        with pytest.raises(ValueError):
            fresh.search.preload("everything")


def test_sorts_and_the_timeline_months(library, tmp_path):
    """Issue 19: date taken (newest/oldest), date added, name and rating, the
    same order for a listing and for any set of photos; the month counts of a
    date sort add up to its rows, photos with no date where the sort puts them."""
    from support import make_photo

    from clipdesk.core.scan import Scanner

    root = tmp_path / "timeline"
    shots = {"b.jpg": "2021:03:05 10:00:00", "a.jpg": "2021:03:20 10:00:00", "c.jpg": "2022:11:01 08:00:00",
             "d.jpg": "2019:12:31 23:59:00"}
    for i, (name, taken) in enumerate(shots.items()):
        make_photo(root / name, (64, 48), seed=i, taken=taken)
        age(root / name)
    library.folders.add(root)
    library.folders.index()
    (root / "late").mkdir()
    make_photo(root / "late" / "e.jpg", (64, 48), seed=9)
    age(root / "late" / "e.jpg")
    Scanner(library.catalog).reconcile()  # catalogued, not decoded yet: no date
    ids = {p.name: p.id for p in library.search.photos(library.search.listing().ids)}
    library.marks.rate([ids["c.jpg"]], 2)
    library.marks.rate([ids["d.jpg"], ids["b.jpg"]], 5)

    def order(sort=None, text=None):
        q = querylang.parse_query(text) if text else None
        return [p.name for p in library.search.photos(library.search.listing(q, sort=sort).ids)]

    assert order() == ["c.jpg", "a.jpg", "b.jpg", "d.jpg", "e.jpg"]
    assert order("oldest") == ["e.jpg", "d.jpg", "b.jpg", "a.jpg", "c.jpg"]
    assert order("name") == ["a.jpg", "b.jpg", "c.jpg", "d.jpg", "e.jpg"]
    assert order("added")[0] == "e.jpg"
    assert order("rating") == ["b.jpg", "d.jpg", "c.jpg", "a.jpg", "e.jpg"]
    assert order("name", "sort:oldest") == order("oldest")  # what the user typed wins
    assert order("relevance") == order()  # nothing to rank by: newest
    newest = library.search.listing()
    assert newest.sort == "newest" and newest.months == [("2022-11", 1), ("2021-03", 2), ("2019-12", 1), (None, 1)]
    assert library.search.listing(sort="oldest").months == [(None, 1), ("2019-12", 1), ("2021-03", 2),
                                                           ("2022-11", 1)]
    assert library.search.listing(sort="name").months is None
    assert library.search.month_counts(querylang.parse_query("after:2021")) == [("2022-11", 1), ("2021-03", 2)]
    mixed = [ids[n] for n in ("e.jpg", "a.jpg", "d.jpg")]
    assert library.catalog.ordered_ids(mixed, "name") == [ids["a.jpg"], ids["d.jpg"], ids["e.jpg"]]
    assert library.catalog.ordered_ids(mixed, "relevance") == mixed
    filtered = library.search.query("after:2021 sort:oldest")
    assert [h.photo.name for h in filtered.hits] == ["b.jpg", "a.jpg", "c.jpg"]
    assert filtered.months == [("2021-03", 2), ("2022-11", 1)]
    with pytest.raises(ValueError):
        library.search.listing(sort="size")


def test_a_folder_name_typed_as_text_is_pointed_to_without_reading_every_path_per_keystroke(colour_library, tmp_path):
    """The notice "“red” is a folder's name" matched every photo's path at each
    keystroke: ~230 ms at 100,000 photos (bench_gui). The catalog's folder
    names are read once, and again only when photos come or go."""
    lib, _ = colour_library
    reads = []
    real = lib.catalog.directory_names
    lib.catalog.directory_names = lambda: reads.append(1) or real()
    for text in ("red", "blue", "red blue", "green"):
        lib.search.query(text)
    assert "folder:" not in (lib.search.query("red").notice or "")
    assert len(reads) == 1
    colour_photo(tmp_path / "photos" / "Red" / "r.jpg", "red", noise=25, seed=7)
    age(tmp_path / "photos" / "Red" / "r.jpg")
    lib.folders.index()
    for text in ("red", "RED", "Red"):
        assert f"folder:{text} lists the photos in it" in (lib.search.query(text).notice or ""), text
    assert len(reads) == 2

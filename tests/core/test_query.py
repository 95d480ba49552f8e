"""The query language: lexer, parser, and edits of the query text."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from clipdesk.core.errors import QueryError, UsageError
from clipdesk.core.query import (
    MAX_QUERY_LENGTH,
    Query,
    add_filter,
    lex,
    parse_date_period,
    parse_query,
    set_dates,
    set_filter,
)

# --------------------------------------------------------------------------- parsing


@pytest.mark.parametrize(
    "text, positives, negatives",
    [
        ("dog on a beach", ("dog on a beach",), ()),
        ("  dog   on a\tbeach ", ("dog on a beach",), ()),
        ("beach + sunset", ("beach", "sunset"), ()),
        ("beach +sunset", ("beach", "sunset"), ()),
        ("+ beach + + sunset +", ("beach", "sunset"), ()),
        ("red car -night", ("red car",), ("night",)),
        ('red car -"rainy street" -night', ("red car",), ("rainy street", "night")),
        ('"new york" skyline', ("new york skyline",), ()),
        ("c++ t-shirt", ("c++ t-shirt",), ()),
        ("meeting at 10:30 http://example.org", ("meeting at 10:30 http://example.org",), ()),
        ("a - b", ("a b",), ()),
        ('"tag:not a filter"', ("tag:not a filter",), ()),
        ('"say \\"cheese\\""', ('say "cheese"',), ()),
        ("-night", (), ("night",)),
        ("", (), ()),
        ("dog dog + dog", ("dog dog", "dog"), ()),
    ],
)
def test_text_parts(text, positives, negatives):
    q = parse_query(text)
    assert q.positives == positives
    assert q.negatives == negatives


def test_every_filter():
    q = parse_query(
        'cat folder:"My Photos/2023" -folder:Trash after:2023-07 before:2024 type:heic,JPG -type:png '
        'camera:"Pixel 7" -camera:iphone tag:family tag:"Best of" -tag:"to delete" '
        "similar:~/Pictures/cat.jpg -similar:/tmp/dog.png sort:oldest"
    )
    assert q.positives == ("cat",)
    assert q.folders == ("My Photos/2023",) and q.exclude_folders == ("Trash",)
    assert q.date_from == date(2023, 7, 1) and q.date_to == date(2024, 1, 1)
    assert q.types == ("heic", "jpeg") and q.exclude_types == ("png",)
    assert q.cameras == ("Pixel 7",) and q.exclude_cameras == ("iphone",)
    assert q.tags == ("family", "Best of") and q.exclude_tags == ("to delete",)
    assert q.similar == ("~/Pictures/cat.jpg",) and q.dissimilar == ("/tmp/dog.png",)
    assert q.sort == "oldest" and q.effective_sort == "oldest"
    assert q.has_filters and q.has_meaning
    assert ".jpg" in q.extensions and ".heif" in q.extensions and q.excluded_extensions == (".png",)


def test_filter_names_ignore_case_and_filters_do_not_split_concepts():
    q = parse_query("dog TAG:pets on Folder:x a beach")
    assert q.positives == ("dog on a beach",)
    assert q.tags == ("pets",) and q.folders == ("x",)


@pytest.mark.parametrize(
    "text, start, end",
    [
        ("after:2023", date(2023, 1, 1), None),
        ("before:2023-07", None, date(2023, 7, 1)),
        ("date:2023-02", date(2023, 2, 1), date(2023, 3, 1)),
        ("date:2024-02-29", date(2024, 2, 29), date(2024, 3, 1)),
        ("date:2023-12", date(2023, 12, 1), date(2024, 1, 1)),
        ("date:2023-12-31", date(2023, 12, 31), date(2024, 1, 1)),
        ("after:2023/7/4", date(2023, 7, 4), None),
        ("after:2020 after:2022 before:2024 before:2023-06", date(2022, 1, 1), date(2023, 6, 1)),
        ("date:2023 after:2023-05", date(2023, 5, 1), date(2024, 1, 1)),
    ],
)
def test_dates_are_half_open_periods(text, start, end):
    q = parse_query(text)
    assert (q.date_from, q.date_to) == (start, end)
    assert not q.has_meaning and q.effective_sort == "newest"


def test_parse_date_period_rejects_impossible_dates():
    for bad in ("2023-02-30", "2023-13", "2023-00", "99", "20231", "2023-07-14T10:00", "1700", "yesterday"):
        with pytest.raises(ValueError):
            parse_date_period(bad)


@pytest.mark.parametrize(
    "text, fragment, position",
    [
        ("after:yesterdayish", "after: expects a date like 2023, 2023-07 or 2023-07-14, got 'yesterdayish'", 0),
        ("cats before:2023-02-30", "before: expects a date", 5),
        ('beach "sunset', 'this quote is never closed', 6),
        ("folder:", "folder: needs a value", 0),
        ('dog tag:""', "tag: needs a value", 4),
        ("tags:family", "unknown filter 'tags:'; did you mean tag:?", 0),
        ("x foldr:a", "did you mean folder:?", 2),
        ("type:psd", "type: expects one of jpeg, png, heic", 0),
        ("sort:size", "sort: expects relevance, date, newest, oldest, added, name or rating, got 'size'", 0),
        ("sort:date sort:relevance", "sort: given twice", 10),
        ("-after:2020", "after: cannot be negated; use before: instead", 0),
        ("-sort:date", "sort: cannot be negated", 0),
        ("after:2024 before:2023", "no date is on or after 2024-01-01 and before 2023-01-01", 11),
    ],
)
def test_errors_say_what_and_where(text, fragment, position):
    with pytest.raises(QueryError) as err:
        parse_query(text)
    assert fragment in str(err.value)
    assert err.value.position == position
    assert "character" not in str(err.value)  # the search bar underlines; words say why
    assert isinstance(err.value, UsageError)


def test_overlong_queries_are_refused():
    with pytest.raises(QueryError, match="too long"):
        parse_query("a " * MAX_QUERY_LENGTH)


def test_control_characters_never_reach_the_model():
    q = parse_query("dog\x00on\x1b[31m a\u0085beach -\x07night")
    assert q.positives == ("dog on [31m a beach",)
    assert q.negatives == ("night",)  # the bell character is dropped, the dash still negates
    assert all(ch.isprintable() for text in q.positives for ch in text)


def test_default_sort_follows_the_query():
    assert parse_query("dog").effective_sort == "relevance"
    assert parse_query("tag:x").effective_sort == "newest"
    assert parse_query("dog sort:date").effective_sort == "newest"
    assert [parse_query(f"sort:{s}").sort for s in ("added", "name", "rating", "NAME")] == [
        "added", "name", "rating", "name"]
    assert not Query().has_meaning and not Query().has_filters


@pytest.mark.parametrize(
    "text",
    [
        'red car -night -"rainy street" + "-5 degrees"',
        'x folder:"a \\"b\\" c" -tag:"to delete" similar:"/path with space/a.jpg"',
        'word "tag:x" "foldr:y" camera:"Pixel 7" type:jpg,png date:2023-07',
        "sort:oldest -similar:a.jpg",
    ],
)
def test_str_is_canonical_syntax(text):
    q = parse_query(text)
    assert parse_query(str(q)) == q


def test_random_input_parses_or_explains_and_round_trips():
    """Fuzz: whatever is typed, the parser returns a Query or a QueryError."""
    rng = np.random.default_rng(0)
    alphabet = list('ab -+"\\:tagfolderaftersimilar2023-07') + [
        "tag:", "after:", "-tag:", "folder:", "type:", "sort:", '"', "\t", "\x00", "é", " + ",
    ]
    parsed = 0
    for _ in range(1500):
        text = "".join(rng.choice(alphabet, size=rng.integers(0, 16)))
        try:
            q = parse_query(text)
        except QueryError as err:
            assert 0 <= err.position <= len(text)
            continue
        parsed += 1
        assert parse_query(str(q)) == q, (text, str(q))
    assert parsed > 250


# --------------------------------------------------------------------------- editing the text


@pytest.mark.parametrize("text,key,value,expected", [
    ("red car", "type", "png", "red car type:png"),
    ("red type:jpeg car", "type", "png", "red car type:png"),
    ('dog folder:"Holidays 2023" -folder:x', "folder", None, "dog"),
    ("dog", "folder", "My Photos", 'dog folder:"My Photos"'),
    ("tag:a dog", "tag", "b", "dog tag:b"),
    ('"new  york" tag:x  sky', "tag", None, '"new  york" sky'),
])
def test_filters_are_edited_in_the_query_text(text, key, value, expected):
    assert set_filter(text, key, value) == expected
    parse_query(expected)


def test_tags_add_up_and_dates_replace_each_other():
    assert add_filter("cat tag:a", "tag", "b") == "cat tag:a tag:b"
    assert add_filter("cat tag:a", "tag", "a") == "cat tag:a"
    text = set_dates("cat date:2020", date(2021, 3, 1), None)
    assert text == "cat after:2021-03-01"
    q = parse_query(text)
    assert q.date_from == date(2021, 3, 1) and q.date_to is None


def test_half_typed_text_still_lexes_and_can_be_edited():
    """The chips edit text that does not parse yet (an open quote, ``tag:``)."""
    tokens = lex('dog tag:"fam')
    assert [(t.kind, t.key, t.value, t.closed) for t in tokens] == [
        ("text", None, "dog", True), ("filter", "tag", "fam", False)]
    assert set_filter('dog tag:"fam', "tag", "family") == "dog tag:family"
    assert set_filter("dog tag:", "type", "png") == "dog tag: type:png"


@pytest.mark.parametrize("text, incomplete", [
    ("tag:", True), ('tag:"fam', True), ("dress after:20", True), ("dress after:2024-", True),
    ("type:he", True), ("sort:new", True), ("cat before:", True),
    ("after:2024-13", False), ("type:mp3", False), ("tag: dog", False), ("after:20 dog", False),
    ("foldr:x", False),
])
def test_a_query_cut_short_while_typing_is_incomplete_not_wrong(text, incomplete):
    """The search bar keeps the last results for an incomplete query and shows
    a problem only for one that more typing cannot fix."""
    with pytest.raises(QueryError) as err:
        parse_query(text)
    assert err.value.incomplete is incomplete

"""The rating, flag and label chips: they edit the query text, and the text sets them."""

from __future__ import annotations

from uikit import names, photo_named


def mark(window, ratings=None, flags=None, labels=None):
    """Marks put on photos by name, through the window's mark actions."""
    ids = {name: photo_named(window, name).id for name in {*(ratings or {}), *(flags or {}), *(labels or {})}}
    for name, n in (ratings or {}).items():
        window.mark_actions.rate([ids[name]], n)
    for name, f in (flags or {}).items():
        window.mark_actions.flag([ids[name]], f)
    for name, lb in (labels or {}).items():
        window.mark_actions.label([ids[name]], lb)


def test_rating_chip_writes_the_filter_and_the_grid_follows(open_window, indexed):
    window = open_window(indexed)
    chips = window.search.mark_chips
    mark(window, ratings={"red0.jpg": 3, "red1.jpg": 5, "blue0.jpg": 1, "misc00.jpg": 4})
    chips.action("rating", "★★★ or more").trigger()
    assert window.bar.text() == "rating:>=3"
    assert chips.chips["rating"].text() == "Rating: ★★★ or more"
    assert sorted(names(window)) == ["misc00.jpg", "red0.jpg", "red1.jpg"]
    chips.action("rating", "★★★★★").trigger()
    assert window.bar.text() == "rating:>=5"
    assert names(window) == ["red1.jpg"]
    chips.action("rating", "Unrated").trigger()
    assert window.bar.text() == "rating:0"
    assert chips.chips["rating"].text() == "Rating: unrated"
    assert window.model.rowCount() == 56
    chips.action("rating", "Any rating").trigger()
    assert window.bar.text() == "" and window.model.rowCount() == 60
    assert chips.chips["rating"].text() == "Rating"


def test_chips_combine_with_what_was_typed(open_window, indexed):
    window = open_window(indexed)
    chips = window.search.mark_chips
    mark(window, flags={"red0.jpg": "pick", "red1.jpg": "reject", "blue2.jpg": "pick"},
         labels={"red2.jpg": "green", "red0.jpg": "green"})
    window.bar.setText("red")
    chips.action("flag", "Picked").trigger()
    assert window.bar.text() == "red flag:pick"
    assert window.grid_ctl.answer.kind == "text"
    assert names(window)[0] == "red0.jpg" and set(names(window)) == {"red0.jpg", "blue2.jpg"}
    chips.action("flag", "Not rejected").trigger()
    assert window.bar.text() == "red -flag:reject"
    assert chips.chips["flag"].text() == "Flag: not rejected"
    assert "red1.jpg" not in names(window) and "red0.jpg" in names(window)
    chips.action("label", "Green").trigger()
    assert window.bar.text() == "red -flag:reject label:green"
    assert sorted(names(window)) == ["red0.jpg", "red2.jpg"]
    chips.action("flag", "Any flag").trigger()
    chips.action("label", "No label").trigger()
    assert window.bar.text() == "red label:none"
    assert chips.chips["label"].text() == "Label: no label"
    assert "red0.jpg" not in names(window) and "red3.jpg" in names(window)


def test_typed_filters_set_the_chips(open_window, indexed):
    window = open_window(indexed)
    chips = window.search.mark_chips
    window.bar.setText("rating:>=2 flag:reject label:red label:blue")
    assert chips.chips["rating"].text() == "Rating: ★★ or more"
    assert chips.chips["flag"].text() == "Flag: rejected"
    assert chips.chips["label"].text() == "Label: red, blue"
    assert chips.chips["rating"].font().bold()
    window.bar.setText("rating:<=2")
    assert chips.chips["rating"].text() == "Rating: ★★ or less"
    assert chips.chips["flag"].text() == "Flag" and not chips.chips["flag"].font().bold()


def test_marking_a_photo_in_a_filtered_view_takes_it_out(open_window, indexed):
    window = open_window(indexed)
    mark(window, flags={"green0.jpg": "pick", "green1.jpg": "pick"})
    window.search.mark_chips.action("flag", "Picked").trigger()
    assert sorted(names(window)) == ["green0.jpg", "green1.jpg"]
    searches = []
    window.resultsShown.connect(searches.append)
    window.mark_actions.flag([photo_named(window, "green0.jpg").id], "reject")
    assert names(window) == ["green1.jpg"]
    assert len(searches) == 1  # one search again, for one change

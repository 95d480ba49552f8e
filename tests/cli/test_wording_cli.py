"""What the commands print, read by a new user (issue: wording, STYLE.md):
counts agree in number, no nested parentheses, names as they are kept, the
CLI's own commands named, valid JSON, and no warning for what is normal."""

from __future__ import annotations

import json
import os

from support import age, make_photo, run_cli


def library_of(tmp_path, names=("p0.jpg",)):
    root = tmp_path / "photos"
    for i, name in enumerate(names):
        path = root / name
        make_photo(path, seed=i)
        age(path)
    r = run_cli("folders", "add", str(root))
    assert r.returncode == 0, r.stdout + r.stderr
    return root


def depth(text: str) -> int:
    deepest = level = 0
    for ch in text:
        level += ch == "("
        level -= ch == ")"
        deepest = max(deepest, level)
    return deepest


def test_one_photo_is_one_photo_in_every_count(tmp_path):
    root = library_of(tmp_path)
    out = run_cli("folders", "list").stdout
    assert "[1 photo, online]" in out
    for args in (("folders", "list"), ("status",), ("doctor",), ("scan",)):
        text = run_cli(*args).stdout
        assert "1 photos" not in text and "1 folders" not in text, (args, text)
    assert "trying 0 photos" in run_cli("scan", "--retry-failed").stdout
    assert (root / "p0.jpg").exists()


def test_an_offline_folder_says_why_without_nested_parentheses_and_counts_new_and_total(tmp_path):
    root = library_of(tmp_path, ("a.jpg", "b.jpg", "share/c.jpg"))
    (root / "share" / "c.jpg").rename(tmp_path / "c.jpg")  # an unmounted share leaves its folder empty
    r = run_cli("scan")
    assert r.returncode == 1
    assert "1 photo went offline in this scan, 1 offline in all" in r.stdout
    assert "Its folder is gone, empty or cannot be read" in r.stdout and "clipdesk remove FOLDER" in r.stdout
    again = run_cli("scan")
    assert again.returncode == 0 and "1 photo is still offline" in again.stdout
    os.rename(root, tmp_path / "unplugged")
    for args in (("scan",), ("folders", "list"), ("status",)):
        text = run_cli(*args).stdout
        assert "offline" in text and depth(text) <= 1, (args, text)


def test_tags_add_names_the_tag_as_kept(tmp_path):
    root = library_of(tmp_path, ("a.jpg", "b.jpg"))
    assert "tagged 1 photo 'plants'" in run_cli("tags", "add", "plants", str(root / "a.jpg")).stdout
    r = run_cli("tags", "add", "PLANTS", str(root / "b.jpg"))
    assert r.returncode == 0 and "tagged 1 photo 'plants'" in r.stdout and "PLANTS" not in r.stdout


def test_tags_delete_says_the_nested_tags_go_too(tmp_path):
    root = library_of(tmp_path, ("a.jpg", "b.jpg"))
    run_cli("tags", "add", "Places", str(root / "a.jpg"))
    run_cli("tags", "add", "Places|Beach", str(root / "b.jpg"))
    run_cli("tags", "add", "Places|Hills", str(root / "b.jpg"))
    r = run_cli("tags", "remove", "places")
    assert r.returncode == 0
    assert "deleted the tag 'Places' and 2 tags nested below it, from 2 photos" in r.stdout
    assert "nested below it" in run_cli("tags", "remove", "--help").stdout


def test_tags_tree_counts_the_photos_below_a_parent(tmp_path):
    root = library_of(tmp_path, ("a.jpg", "b.jpg"))
    run_cli("tags", "add", "Places|Beach", str(root / "a.jpg"), str(root / "b.jpg"))
    run_cli("tags", "add", "Places|Hills", str(root / "b.jpg"))
    lines = run_cli("tags", "list", "--tree").stdout.splitlines()
    assert "     2  Places" in lines and "     2    Beach" in lines and "     1    Hills" in lines
    (places,) = json.loads(run_cli("tags", "list", "--tree", "--json").stdout)
    assert (places["photos"], places["total"]) == (0, 2)


def test_a_search_for_a_tag_or_folder_name_points_to_the_filter(tmp_path):
    root = library_of(tmp_path, ("a.jpg", "Holidays/h.jpg"))
    run_cli("tags", "add", "plants", str(root / "a.jpg"))
    r = run_cli("search", "Plants")
    assert r.returncode == 0
    assert "“Plants” is a tag: tag:plants lists its 1 photo" in r.stderr
    assert "Nothing stands out" not in r.stderr and "offline model" not in r.stderr
    r = run_cli("search", "holidays")
    assert "folder:holidays lists the photos in it" in r.stderr
    assert "Nothing stands out" not in r.stderr and "offline model" not in r.stderr


def test_the_cli_names_its_own_command_for_a_model_not_the_apps_dialog(tmp_path):
    library_of(tmp_path)
    r = run_cli("search", "a red car")
    assert "Built-in offline model" in r.stderr
    assert "`clipdesk models download" in r.stderr and "in Models" not in r.stderr
    assert r.stderr.count("Built-in offline model") == 1


def test_json_is_valid_utf8_for_file_names_that_are_not(tmp_path):
    root = tmp_path / "photos"
    raw = os.fsencode(root) + b"/caf\xe9.jpg"  # Latin-1 from an old camera or share
    make_photo(raw, seed=1)
    age(raw)
    run_cli("folders", "add", str(root))
    for args in (("search", "a car", "--json"), ("status", "--json"), ("scan", "--json"), ("tag", os.fsdecode(raw),
                                                                                          "--json")):
        r = run_cli(*args)
        data = json.loads(r.stdout)
        text = json.dumps(data, ensure_ascii=False)
        assert not any(0xD800 <= ord(c) <= 0xDFFF for c in text), (args, text)
        text.encode("utf-8")
    (hit,) = json.loads(run_cli("search", "a car", "--json").stdout)["results"]
    assert hit["path"].endswith("caf\ufffd.jpg")


def test_a_first_run_is_not_a_warning(tmp_path):
    root = tmp_path / "photos"
    make_photo(root / "a.jpg", seed=1)
    age(root / "a.jpg")
    r = run_cli("folders", "add", str(root))
    s = run_cli("search", "a car")
    for out in (r.stderr, s.stderr):
        assert "WARNING" not in out and "no saved index" not in out, out

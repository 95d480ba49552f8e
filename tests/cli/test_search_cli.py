import json
import os

import pytest

from colourkit import colour_photo, write_colour_bundle
from support import age, run_cli


@pytest.fixture
def cli_library(tmp_path, monkeypatch):
    from clipdesk.core.paths import Paths

    paths = Paths.from_env()
    write_colour_bundle(paths.models_dir / "colour-test")
    resources = tmp_path / "resources"
    (resources / "vocab").mkdir(parents=True)
    (resources / "vocab" / "colour-test.txt").write_text("red\nblue\ngreen\nyellow\n")
    monkeypatch.setenv("CLIPDESK_RESOURCES_DIR", str(resources))
    root = tmp_path / "photos"
    palette = {"red": 6, "blue": 6, "green": 6, "yellow": 6, "white": 20, "black": 20}
    for colour, n in palette.items():
        for i in range(n):
            colour_photo(root / f"{colour}{i}.jpg", colour, noise=20, seed=i)
    for f in root.iterdir():
        age(f)
    r = run_cli("folders", "add", str(root))
    assert r.returncode == 0, r.stderr
    return root


def test_search_json_shape(cli_library):
    r = run_cli("search", "red", "--json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["model"] == "colour-test" and data["count"] == len(data["results"])
    top = data["results"][:6]
    assert {os.path.basename(x["path"]) for x in top} == {f"red{i}.jpg" for i in range(6)}
    assert all(set(x) >= {"path", "score", "id"} for x in data["results"])


def test_search_text_output_and_parse_error(cli_library):
    r = run_cli("search", "blue", "--limit", "3")
    assert r.returncode == 0
    lines = r.stdout.strip().splitlines()
    assert len(lines) == 3 and all("blue" in line for line in lines)
    r = run_cli("search", "blue before:someday")
    assert r.returncode == 2 and "before" in r.stderr and "Traceback" not in r.stderr


def test_similar_and_tag_for_an_outside_file(cli_library, tmp_path):
    outside = tmp_path / "drop" / "q.jpg"
    colour_photo(outside, "green", noise=5)
    data = json.loads(run_cli("similar", str(outside), "--json").stdout)
    assert os.path.basename(data["results"][0]["path"]).startswith("green")
    data = json.loads(run_cli("tag", str(outside), "--json").stdout)
    (f,) = data["files"]
    assert not f["in_library"] and f["suggestions"][0]["tag"] == "green"
    assert data["calibrated"] is True  # 64 photos: calibrated against the library


def test_tag_names_a_damaged_file_once_and_counts_must_be_whole_and_positive(cli_library, tmp_path):
    cut = tmp_path / "drop" / "cut.jpg"
    colour_photo(cut, "red", noise=20)
    cut.write_bytes(cut.read_bytes()[:700])
    r = run_cli("tag", str(cut))
    assert r.returncode == 1, r.stderr
    assert "  cannot read: damaged or truncated image data: " in r.stdout, r.stdout
    assert r.stdout.count("cannot") == 1 and "search" not in r.stdout
    # A path that names no file is reported beside the others, which still get their tags.
    r = run_cli("tag", str(tmp_path / "gone.jpg"), str(cli_library / "red0.jpg"), str(tmp_path / "drop"))
    assert r.returncode == 4, r.stderr
    assert "  cannot read: does not exist" in r.stdout and "  cannot read: it is a folder" in r.stdout
    assert "%  red" in r.stdout
    r = run_cli("tag", str(cut), "--top", "0")
    assert r.returncode == 2 and "must be 1 or more, not 0" in r.stderr
    for args in (("search", "red", "--limit", "-1"), ("similar", str(cut), "--limit", "many"),
                 ("tags", "learn", "x", str(cut), "--limit", "0"), ("demo", "--count", "0")):
        r = run_cli(*args)
        assert r.returncode == 2 and "Traceback" not in r.stderr and "--" in r.stderr, (args, r.stderr)


def test_tag_in_a_small_library_says_its_tags_are_not_calibrated(tmp_path, monkeypatch):
    from clipdesk.core.paths import Paths

    write_colour_bundle(Paths.from_env().models_dir / "colour-test")
    (tmp_path / "resources" / "vocab").mkdir(parents=True)
    (tmp_path / "resources" / "vocab" / "colour-test.txt").write_text("red\nblue\ngreen\nyellow\n")
    monkeypatch.setenv("CLIPDESK_RESOURCES_DIR", str(tmp_path / "resources"))
    root = tmp_path / "few"
    for colour in ("red", "blue", "green", "yellow"):
        for i in range(3):
            colour_photo(root / f"{colour}{i}.jpg", colour, noise=20, seed=i)
    for f in root.iterdir():
        age(f)
    assert run_cli("folders", "add", str(root)).returncode == 0
    r = run_cli("tag", str(root / "red0.jpg"))
    assert r.returncode == 0 and "fewer than 50 photos" in r.stderr and "not calibrated" in r.stderr
    data = json.loads(run_cli("tag", str(root / "red0.jpg"), "--json").stdout)
    assert data["calibrated"] is False


def test_tags_add_list_learn_apply(cli_library):
    root = cli_library
    assert run_cli("tags", "add", "Favourite", str(root / "red0.jpg")).returncode == 0
    rows = json.loads(run_cli("tags", "list", "--json").stdout)
    assert rows == [{"tag": "Favourite", "photos": 1, "learned": False}]
    learn = json.loads(run_cli("tags", "learn", "sunny", str(root / "yellow0.jpg"), str(root / "yellow1.jpg"),
                               "--not", str(root / "red1.jpg"), "--json").stdout)
    found = {os.path.basename(x["path"]) for x in learn["results"]}
    assert {f"yellow{i}.jpg" for i in range(2, 6)} <= found
    preview = json.loads(run_cli("tags", "apply", "--json").stdout)
    assert not preview["applied"] and preview["counts"]["red"] == 6
    applied = json.loads(run_cli("tags", "apply", "red", "--yes", "--json").stdout)
    assert applied == {"applied": True, "calibrated": True, "counts": {"red": 6}}
    assert run_cli("tags", "add", "x", "/nope.jpg").returncode == 4


def test_duplicates(cli_library):
    root = cli_library
    (root / "copy.jpg").write_bytes((root / "blue0.jpg").read_bytes())
    age(root / "copy.jpg")
    run_cli("scan")
    data = json.loads(run_cli("duplicates", "--json").stdout)
    names = [{os.path.basename(p["path"]) for p in g["photos"]} for g in data["groups"]]
    assert any({"copy.jpg", "blue0.jpg"} <= n for n in names)


def test_switching_model_re_embeds_and_search_keeps_working(cli_library, tmp_path):
    from clipdesk.core.paths import Paths

    write_colour_bundle(Paths.from_env().models_dir / "colour-two")
    r = run_cli("models", "use", "colour-two")
    assert r.returncode == 0, r.stderr
    status = json.loads(run_cli("status", "--json").stdout)
    assert status["embeddings"] == {"colour-test": 64, "colour-two": 64}
    data = json.loads(run_cli("search", "green", "--json").stdout)
    assert data["model"] == "colour-two"
    assert os.path.basename(data["results"][0]["path"]).startswith("green")
    assert run_cli("models", "use", "nope__nope").returncode == 4


def test_similar_right_after_a_change_that_makes_the_index_stale(cli_library):
    """A new user's report: `folders exclude` then `similar` printed "no matching
    photos" (the index was being rebuilt from the catalog and a search took
    the few vectors read so far as the whole library) and a traceback."""
    root = cli_library
    (root / "sub").mkdir()
    for i in range(3):
        os.replace(root / f"black{i}.jpg", root / "sub" / f"black{i}.jpg")
    assert run_cli("scan").returncode == 0
    assert run_cli("folders", "exclude", str(root / "sub")).returncode == 0
    r = run_cli("similar", str(root / "red0.jpg"), "--json")
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr
    names = [os.path.basename(x["path"]) for x in json.loads(r.stdout)["results"]]
    assert {f"red{i}.jpg" for i in range(1, 6)} <= set(names[:8])


def test_a_query_of_filters_only_lists_dates_not_scores_of_zero(tmp_path):
    from support import make_photo

    root = tmp_path / "photos"
    for i in range(3):
        make_photo(root / f"p{i}.jpg", seed=i)
        age(root / f"p{i}.jpg")
    assert run_cli("folders", "add", str(root)).returncode == 0
    r = run_cli("search", "after:2000")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert len(lines) == 3 and not any(line.startswith(" 0.000") for line in lines), lines

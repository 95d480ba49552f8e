"""Real libraries through the CLI (issue 14, parts 1, 5 and 8): one canonical
form of a path and a name at every door, sidecar failures visible, exit codes
as the README documents them. The real `clipdesk` command in a subprocess,
real files, the model that ships with ClipDesk."""

from __future__ import annotations

import json
import os
import unicodedata

import pytest

from support import age, make_photo, run_cli


def library(tmp_path, folder: str = "lib", n: int = 3):
    root = tmp_path / folder
    for i in range(n):
        make_photo(root / "sub" / f"a{i}.jpg", seed=i)
    for f in (root / "sub").iterdir():
        age(f)
    return root


def paths_of(result) -> list[str]:
    assert result.returncode == 0, result.stderr
    return [r["path"] for r in json.loads(result.stdout)["results"]]


def test_a_folder_written_in_nfd_is_found_by_what_people_type(tmp_path):
    """macOS writes "Café" decomposed (NFD); people type it composed (NFC)."""
    nfd = unicodedata.normalize("NFD", "Café")
    root = library(tmp_path / nfd, folder="Photos")
    assert run_cli("folders", "add", str(root)).returncode == 0
    typed = unicodedata.normalize("NFC", "Café")
    assert typed != nfd
    found = paths_of(run_cli("search", f"folder:{typed}", "--json"))
    assert len(found) == 3
    absolute = str(tmp_path / typed / "Photos")
    assert len(paths_of(run_cli("search", f'folder:"{absolute}"', "--json"))) == 3
    photo = os.path.join(absolute, "sub", "a0.jpg")  # the NFC spelling of an NFD path
    r = run_cli("tags", "add", "Family", photo)
    assert r.returncode == 0, r.stderr
    assert len(paths_of(run_cli("search", "tag:family", "--json"))) == 1


def test_a_library_added_through_a_symbolic_link_is_one_library(tmp_path):
    root = library(tmp_path)
    link = tmp_path / "linkroot"
    link.symlink_to(root)
    assert run_cli("folders", "add", str(link)).returncode == 0
    r = run_cli("tags", "add", "x", str(link / "sub" / "a0.jpg"))
    assert r.returncode == 0, r.stderr
    assert paths_of(run_cli("search", "tag:x", "--json")) == [str(root / "sub" / "a0.jpg")]
    assert len(paths_of(run_cli("search", f"folder:{link / 'sub'}", "--json"))) == 3
    similar = paths_of(run_cli("similar", str(link / "sub" / "a0.jpg"), "--json"))
    assert str(root / "sub" / "a0.jpg") not in similar and similar
    r = run_cli("folders", "exclude", str(link / "sub"))
    assert r.returncode == 0, r.stderr
    assert paths_of(run_cli("search", "sort:newest", "--json")) == []


def test_tag_names_are_compared_the_way_people_read_them(tmp_path):
    root = library(tmp_path)
    assert run_cli("folders", "add", str(root)).returncode == 0
    a0, a1 = root / "sub" / "a0.jpg", root / "sub" / "a1.jpg"
    assert run_cli("tags", "add", "Straße", str(a0)).returncode == 0
    assert run_cli("tags", "add", "STRASSE", str(a1)).returncode == 0
    assert run_cli("tags", "add", unicodedata.normalize("NFD", "Été"), str(a1)).returncode == 0
    rows = json.loads(run_cli("tags", "list", "--json").stdout)
    assert {r["tag"]: r["photos"] for r in rows} == {"Straße": 2, "Été": 1}
    assert len(paths_of(run_cli("search", "tag:strasse", "--json"))) == 2
    assert len(paths_of(run_cli("search", "tag:été", "--json"))) == 1


@pytest.mark.parametrize("args, code, words", [
    (["tag", "/nope.jpg"], 4, "does not exist"),
    (["similar", "/nope.jpg"], 4, "does not exist"),
    (["tags", "add", "   ", "{photo}"], 2, "visible character"),
    (["tags", "add", "x", "/nope.jpg"], 4, "not in the library"),
    (["tags", "remove", "never-made", "{photo}"], 4, "no tag"),
    (["search", "tag:"], 2, "needs a value"),
    (["folders", "exclude", "/"], 2, "not inside a library folder"),
])
def test_exit_codes_as_documented_and_no_traceback(tmp_path, args, code, words):
    root = library(tmp_path)
    assert run_cli("folders", "add", str(root)).returncode == 0
    args = [a.replace("{photo}", str(root / "sub" / "a0.jpg")) for a in args]
    r = run_cli(*args)
    assert r.returncode == code, (r.stdout, r.stderr)
    assert "Traceback" not in r.stderr and words in r.stderr
    assert r.stderr.strip().count("\n") == 0


def test_sidecars_that_cannot_be_written_are_reported_and_the_exit_code_tells(tmp_path):
    """`tags apply --sidecars` printed "tagged 0 photo-tag pairs" and exited 0
    with eight sidecars it could not write."""
    root = library(tmp_path, n=3)
    assert run_cli("folders", "add", str(root)).returncode == 0
    photos = [str(root / "sub" / f"a{i}.jpg") for i in range(3)]
    (root / "sub" / "a1.jpg.xmp").write_text('<x:xmpmeta xmlns:x="adobe:ns:meta/"/>')
    (root / "sub" / "a1.jpg.xmp").chmod(0o444)
    (root / "sub" / "a2.xmp").write_text("<not xml")  # Lightroom's name, damaged
    r = run_cli("tags", "add", "--sidecars", "trip", *photos)
    assert r.returncode == 1
    failed = sorted(ln for ln in r.stderr.splitlines() if ln.startswith("sidecar not written"))
    assert len(failed) == 2 and "read-only" in failed[0] and "a2.jpg" in failed[1]
    assert (root / "sub" / "a0.jpg.xmp").exists()
    assert (root / "sub" / "a2.xmp").read_text() == "<not xml"  # never overwritten
    assert len(paths_of(run_cli("search", "tag:trip", "--json"))) == 3  # the catalog has them all


def test_the_tag_tree_from_the_command_line(tmp_path):
    root = library(tmp_path)
    assert run_cli("folders", "add", str(root)).returncode == 0
    a0, a1 = str(root / "sub" / "a0.jpg"), str(root / "sub" / "a1.jpg")
    assert run_cli("tags", "add", "Places|Beach", a0).returncode == 0
    assert run_cli("tags", "add", "seaside", a1).returncode == 0
    assert run_cli("tags", "merge", "seaside", "Places|Beach").returncode == 0
    assert run_cli("tags", "rename", "Places", "Travel").returncode == 0
    assert run_cli("tags", "move", "Travel|Beach", "--top").returncode == 0
    tree = json.loads(run_cli("tags", "list", "--tree", "--json").stdout)
    assert [(n["tag"], n["photos"]) for n in tree] == [("Beach", 2)]
    r = run_cli("tags", "move", "Beach")
    assert r.returncode == 2 and "--top" in r.stderr
    assert run_cli("tags", "rename", "nothing", "x").returncode == 4


def test_export_from_the_command_line(tmp_path):
    root = library(tmp_path)
    assert run_cli("folders", "add", str(root)).returncode == 0
    r = run_cli("export", "--query", "folder:sub", "--to", str(tmp_path / "out"), "--resize", "64")
    assert r.returncode == 0, r.stderr
    assert sorted(os.listdir(tmp_path / "out")) == ["a0.jpg", "a1.jpg", "a2.jpg"]
    assert run_cli("export", "--to", str(tmp_path / "out")).returncode == 2

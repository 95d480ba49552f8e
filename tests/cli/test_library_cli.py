import json
import os
from pathlib import Path

from support import age, make_photo, run_cli


def photos_dir(tmp_path, n=3, broken=True):
    root = tmp_path / "photos"
    for i in range(n):
        make_photo(root / f"p{i}.jpg", seed=i)
    if broken:
        (root / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really")
    for f in root.iterdir():
        age(f)
    return root


def test_folders_add_scans_and_status_lists_failures(tmp_path):
    root = photos_dir(tmp_path)
    r = run_cli("folders", "add", str(root))
    assert r.returncode == 1, r.stderr  # one photo failed
    assert "3 indexed, 1 failed" in r.stdout
    r = run_cli("status", "--json")
    assert r.returncode == 0
    data = json.loads(r.stdout)
    assert data["counts"]["indexed"] == 3 and data["counts"]["failed"] == 1
    (fail,) = data["failures"]
    assert fail["path"] == str(root / "broken.jpg") and fail["reason"]
    text = run_cli("status").stdout
    assert "broken.jpg" in text and fail["reason"] in text


def test_scan_exit_codes_and_json(tmp_path):
    root = photos_dir(tmp_path, broken=False)
    assert run_cli("folders", "add", "--no-scan", str(root)).returncode == 0
    r = run_cli("scan", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["indexed"] == 3
    r = run_cli("scan", "--json")
    assert json.loads(r.stdout)["unchanged"] == 3


def test_folders_list_and_remove(tmp_path):
    root = photos_dir(tmp_path, broken=False)
    run_cli("folders", "add", str(root))
    rows = json.loads(run_cli("folders", "list", "--json").stdout)
    assert rows == [{"path": str(root), "kind": "root", "state": "online", "photos": 3,
                     "last_scan": rows[0]["last_scan"], "note": None}]
    assert run_cli("folders", "remove", str(root)).returncode == 0
    assert json.loads(run_cli("folders", "list", "--json").stdout) == []
    assert all(f.exists() for f in root.iterdir())  # the files stay


def test_errors_are_one_line_with_documented_exit_codes(tmp_path):
    r = run_cli("folders", "add", str(tmp_path / "nope"))
    assert r.returncode == 4
    assert r.stderr.strip().count("\n") == 0 and "Traceback" not in r.stderr
    assert "is not a folder" in r.stderr
    r = run_cli("folders", "remove", str(tmp_path))
    assert r.returncode == 4 and "not a library folder" in r.stderr
    r = run_cli("scan")
    assert r.returncode == 4


def test_beside_a_running_clipdesk_reads_and_edits_work_and_indexing_waits(tmp_path):
    """Issue 14, part 8: SQLite's WAL serves readers beside a writer. Read-only
    commands and catalog edits work while the app (here: this process, holding
    the catalog's lock) runs; a command that must index is refused, exit 3."""
    from clipdesk.core.library import Library
    from clipdesk.core.paths import Paths

    root = photos_dir(tmp_path, broken=False)
    assert run_cli("folders", "add", str(root)).returncode == 0
    photo = next(root.glob("*.jpg"))
    with Library(Paths.from_env()) as app:
        status = run_cli("status", "--json")
        assert status.returncode == 0, status.stderr
        assert json.loads(status.stdout)["photos"] == 3
        assert run_cli("folders", "list").returncode == 0
        assert run_cli("search", "tag:x").returncode == 0
        tagged = run_cli("tags", "add", "kept", str(photo))
        assert tagged.returncode == 0, tagged.stderr
        assert [t.tag for t in app.tags.of_photo(app.search.find_photo(photo).id)] == ["kept"]
        r = run_cli("scan")
        assert r.returncode == 3
        assert "in use by another ClipDesk" in r.stderr and "Traceback" not in r.stderr


def test_offline_folder_is_reported(tmp_path):
    root = photos_dir(tmp_path, broken=False)
    run_cli("folders", "add", str(root))
    os.rename(root, tmp_path / "unplugged")
    r = run_cli("scan")
    assert r.returncode == 1 and "offline" in r.stdout
    data = json.loads(run_cli("status", "--json").stdout)
    assert data["counts"]["offline"] == 3


def test_version():
    r = run_cli("--version")
    assert r.returncode == 0 and r.stdout.startswith("ClipDesk ")


def test_the_photos_of_a_deleted_subfolder_are_offline_until_remove_forgets_them(tmp_path):
    """A new user deleted a subfolder: its photos stayed "offline" and every
    scan exited 1 with nothing saying how to end it. A folder that is not there
    may be an unmounted drive (DESIGN.md: offline, never forgotten, at any
    depth), so the scan says how to forget them, and `remove FOLDER` does."""
    import shutil

    root = photos_dir(tmp_path, broken=False)
    make_photo(root / "2019" / "a" / "old.jpg", seed=9)
    make_photo(root / "2019" / "new.jpg", seed=8)
    for f in (root / "2019").rglob("*.jpg"):
        age(f)
    assert run_cli("folders", "add", str(root)).returncode == 0
    shutil.rmtree(root / "2019")
    r = run_cli("scan")
    assert r.returncode == 1, r.stdout + r.stderr
    assert "2 photos went offline" in r.stdout and "`clipdesk remove FOLDER`" in r.stdout
    r = run_cli("scan")
    assert r.returncode == 0 and "still offline" in r.stdout and "clipdesk remove FOLDER" in r.stdout  # nothing new
    status = run_cli("status")
    assert f"{root / '2019'} is not there" in status.stdout and "clipdesk remove FOLDER" in status.stdout
    assert sum(o["photos"] for o in json.loads(run_cli("status", "--json").stdout)["offline"]) == 2
    r = run_cli("remove", str(root / "2019"))
    assert r.returncode == 0, r.stderr
    assert "removed 2 photos from the library" in r.stdout
    r = run_cli("scan", "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    data = json.loads(run_cli("status", "--json").stdout)
    assert data["photos"] == 3 and data["counts"]["offline"] == 0


def test_remove_takes_photos_out_of_the_library_not_off_the_disk(tmp_path):
    root = photos_dir(tmp_path, broken=False)
    assert run_cli("folders", "add", str(root)).returncode == 0
    r = run_cli("remove", str(root / "p0.jpg"), str(root / "p1.jpg"))
    assert r.returncode == 0, r.stderr
    assert "removed 2 photos from the library" in r.stdout
    assert (root / "p0.jpg").exists()
    searched = run_cli("search", "photo")  # the saved index is behind the catalog now: rebuilt, no WARNING
    assert searched.returncode == 0 and "WARNING" not in searched.stderr, searched.stderr
    assert run_cli("scan").returncode == 0
    assert json.loads(run_cli("status", "--json").stdout)["photos"] == 1
    r = run_cli("remove", "--restore", str(root / "p0.jpg"))
    assert r.returncode == 0 and "1 photo back" in r.stdout
    assert json.loads(run_cli("status", "--json").stdout)["photos"] == 2
    r = run_cli("remove", str(tmp_path / "elsewhere.jpg"))
    assert r.returncode == 4 and "not in the library" in r.stderr and "no such file" in r.stderr
    r = run_cli("remove", str(root / "p1.jpg"))  # removed already: its folder is in the library
    assert r.returncode == 4 and "removed or excluded" in r.stderr and "add its folder" not in r.stderr
    assert "brings them back" in run_cli("remove", "--help").stdout
    # A folder stands for the photos below it, both ways.
    make_photo(root / "city" / "a.jpg", seed=21)
    make_photo(root / "city" / "b.jpg", seed=22)
    for f in (root / "city").iterdir():
        age(f)
    assert run_cli("scan").returncode == 0
    r = run_cli("remove", str(root / "city"))
    assert r.returncode == 0 and "removed 2 photos" in r.stdout, r.stdout + r.stderr
    r = run_cli("remove", "--restore", str(root / "city"))
    assert r.returncode == 0 and "2 photos back" in r.stdout, r.stdout + r.stderr
    r = run_cli("remove", "--restore", str(root / "city"))
    assert r.returncode == 4 and "nothing to restore" in r.stderr


def _pair_on_a_card(tmp_path, stem: str, colour) -> Path:
    """A camera's RAW+JPEG pair (STEM.DNG and STEM.JPG) in a library folder."""
    from PIL import Image
    from rawkit import write_dng

    card = tmp_path / "card"
    card.mkdir()
    picture = Image.new("RGB", (320, 240), colour)
    write_dng(card / f"{stem}.DNG", picture)
    picture.save(card / f"{stem}.JPG", quality=90)
    for f in card.iterdir():
        age(f)
    assert run_cli("folders", "add", str(card)).returncode == 0
    return card


def test_export_of_a_raw_and_jpeg_pair_counts_one_photo(tmp_path):
    card = _pair_on_a_card(tmp_path, "DSC_0001", (200, 120, 40))
    r = run_cli("export", str(card / "DSC_0001.DNG"), "--to", str(tmp_path / "out"))
    assert r.returncode == 0, r.stderr
    assert "exported 1 photo (2 files) to" in r.stdout
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["DSC_0001.DNG", "DSC_0001.JPG"]


def test_naming_both_files_of_a_pair_counts_one_photo(tmp_path):
    card = _pair_on_a_card(tmp_path, "DSC_0002", (40, 120, 200))
    both = (str(card / "DSC_0002.DNG"), str(card / "DSC_0002.JPG"))
    assert "tagged 1 photo 'sea'" in run_cli("tags", "add", "sea", *both).stdout
    assert "exported 1 photo (2 files)" in run_cli("export", *both, "--to", str(tmp_path / "out")).stdout
    assert "removed 1 photo from" in run_cli("remove", *both).stdout

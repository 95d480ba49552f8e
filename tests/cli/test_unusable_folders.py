"""A catalog folder ClipDesk cannot use is a one-line error with exit code 5,
never a traceback; a catalog on a read-only disk can still be searched."""

from __future__ import annotations

import json

import pytest

from support import make_photo, run_cli, run_with_small_disks


@pytest.mark.parametrize("where", ["a file", "under a file"])
def test_a_data_folder_that_is_a_file_is_exit_5(tmp_path, where):
    (tmp_path / "taken").write_text("not a folder")
    data = tmp_path / "taken" if where == "a file" else tmp_path / "taken" / "ClipDesk"
    for command in (["status"], ["folders", "add", str(tmp_path)], ["search", "dog"], ["tags", "list"]):
        r = run_cli(*command, env={"CLIPDESK_DATA_DIR": str(data)})
        assert r.returncode == 5, (command, r.stderr)
        assert "Traceback" not in r.stderr and r.stderr.strip().count("\n") == 0
        assert str(data) in r.stderr and "CLIPDESK_DATA_DIR" in r.stderr


def test_a_cache_folder_that_is_a_file_is_exit_5_naming_its_variable(tmp_path):
    (tmp_path / "cache").write_text("not a folder")
    r = run_cli("status", env={"CLIPDESK_DATA_DIR": str(tmp_path / "data"), "CLIPDESK_CACHE_DIR": str(tmp_path / "cache")})
    assert r.returncode == 5 and "Traceback" not in r.stderr
    assert "CLIPDESK_CACHE_DIR" in r.stderr and "thumbnails" in r.stderr


def test_a_lock_file_that_cannot_be_made_is_exit_5_and_reads_still_work(tmp_path):
    photos = tmp_path / "photos"
    make_photo(photos / "a.jpg", seed=1)
    env = {"CLIPDESK_DATA_DIR": str(tmp_path / "data")}
    assert run_cli("folders", "add", str(photos), env=env).returncode == 0
    lock = tmp_path / "data" / "catalog.sqlite3.lock"
    lock.unlink(missing_ok=True)
    lock.mkdir()  # what a sync tool or a bad restore leaves
    r = run_cli("tags", "add", "beach", str(photos / "a.jpg"), env=env)
    assert r.returncode == 5 and "Traceback" not in r.stderr and "lock" in r.stderr
    r = run_cli("status", "--json", env=env)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["counts"]["indexed"] == 1


SCRIPT = r"""
import io, json, os, subprocess, sys, contextlib
from clipdesk.cli import main
from support import make_photo

data, empty, cache, photos = {data!r}, {empty!r}, {cache!r}, {photos!r}
os.environ["CLIPDESK_CACHE_DIR"] = cache
make_photo(os.path.join(photos, "a.jpg"), seed=1)

def run(*argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()

os.environ["CLIPDESK_DATA_DIR"] = data
added = run("folders", "add", photos)
subprocess.run(["mount", "-o", "remount,ro", data], check=True)
results = {{"added": added, "search": run("search", "--json", "photo"), "tag": run("tags", "add", "x", os.path.join(photos, "a.jpg"))}}
os.environ["CLIPDESK_DATA_DIR"] = empty
results["fresh"] = run("status")
print(json.dumps(results))
"""


def test_a_catalog_on_a_read_only_disk_is_searched_and_edits_are_exit_5(tmp_path):
    """A real read-only file system (a tmpfs remounted read-only in a private
    mount namespace): root's permission bits would not stop a write."""
    data, empty = tmp_path / "data", tmp_path / "empty"
    data.mkdir()
    empty.mkdir()
    script = SCRIPT.format(data=str(data), empty=str(empty), cache=str(tmp_path / "cache"), photos=str(tmp_path / "photos"))
    done = run_with_small_disks(script, {data: "size=20m", empty: "size=1m,ro"}, tmp_path)
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout.strip().splitlines()[-1])
    assert results["added"][0] == 0, results["added"]
    code, out, err = results["search"]
    assert code == 0, err
    assert [hit["path"].endswith("a.jpg") for hit in json.loads(out)["results"]] == [True]
    for step in ("tag", "fresh"):
        code, out, err = results[step]
        assert code == 5, (step, err)
        assert "read-only" in err and "Traceback" not in err

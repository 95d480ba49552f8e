import os
import shutil
import threading
import time

import pytest

from clipdesk.core.names import encode_path
from clipdesk.core.scan import Scanner
from support import age, make_photo


def settled_photo(path, **kw):
    data = make_photo(path, **kw)
    age(path)
    return data


@pytest.fixture
def lib_root(library, tmp_path):
    root = tmp_path / "photos"
    root.mkdir()
    for i in range(3):
        settled_photo(root / f"img{i}.jpg", seed=i)
    library.folders.add(root)
    return library, root


def scan(lib):
    return Scanner(lib.catalog).reconcile()


def paths_in(lib):
    return sorted(p.path for p in lib.catalog.photos())


def test_first_scan_adds_every_photo(lib_root):
    lib, root = lib_root
    r = scan(lib)
    assert (r.added, r.removed, r.unchanged) == (3, 0, 0)
    assert paths_in(lib) == [str(root / f"img{i}.jpg") for i in range(3)]
    assert lib.catalog.counts()["pending"] == 3


def test_unchanged_files_are_not_opened_again(lib_root):
    lib, root = lib_root
    scan(lib)
    r = scan(lib)
    assert (r.added, r.changed, r.unchanged) == (0, 0, 3)


def test_touched_file_with_same_content_is_not_redone(lib_root):
    lib, root = lib_root
    scan(lib)
    lib.folders.index()
    os.utime(root / "img0.jpg", (time.time() - 100, time.time() - 100))
    r = scan(lib)
    assert r.changed == 0 and r.unchanged == 3
    assert lib.catalog.counts()["indexed"] == 3


def test_changed_content_is_redone_and_keeps_tags(lib_root):
    lib, root = lib_root
    lib.folders.index()
    p = lib.catalog.photo_by_path(root / "img1.jpg")
    lib.catalog.set_photo_tags([p.id], "dog")
    settled_photo(root / "img1.jpg", seed=99, size=(700, 500))
    r = scan(lib)
    assert r.changed == 1
    q = lib.catalog.photo(p.id)
    assert q.status == "pending" and q.hash != p.hash
    assert lib.catalog.photo_tags(p.id)[0][0] == "dog"


def test_deleted_file_leaves_the_catalog(lib_root):
    lib, root = lib_root
    scan(lib)
    (root / "img2.jpg").unlink()
    r = scan(lib)
    assert r.removed == 1 and len(paths_in(lib)) == 2


def test_move_and_rename_keep_id_tags_and_status(lib_root):
    lib, root = lib_root
    lib.folders.index()
    before = lib.catalog.photo_by_path(root / "img0.jpg")
    lib.catalog.set_photo_tags([before.id], "beach")
    (root / "trips" / "2023").mkdir(parents=True)
    os.rename(root / "img0.jpg", root / "trips" / "2023" / "renamed.jpg")
    r = scan(lib)
    assert (r.moved, r.added, r.removed) == (1, 0, 0)
    after = lib.catalog.photo_by_path(root / "trips" / "2023" / "renamed.jpg")
    assert after.id == before.id and after.status == "indexed"
    assert lib.catalog.photo_tags(after.id)[0][0] == "beach"


def test_move_between_library_folders(library, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    settled_photo(a / "x.jpg", seed=7)
    b.mkdir()
    library.folders.add(a)
    library.folders.add(b)
    library.folders.index()
    pid = library.catalog.photo_by_path(a / "x.jpg").id
    shutil.move(a / "x.jpg", b / "x.jpg")
    r = scan(library)
    assert r.moved == 1
    moved = library.catalog.photo(pid)
    assert moved.path == str(b / "x.jpg")
    assert moved.folder_id == library.catalog.folder_by_path(b).id


def test_hidden_and_excluded_folders_are_skipped(lib_root):
    lib, root = lib_root
    settled_photo(root / ".hidden" / "h.jpg")
    settled_photo(root / ".dotfile.jpg")
    settled_photo(root / "private" / "p.jpg")
    settled_photo(root / "@eaDir" / "syno.jpg")
    lib.folders.exclude(root / "private")
    scan(lib)
    assert paths_in(lib) == [str(root / f"img{i}.jpg") for i in range(3)]


def test_excluding_a_folder_later_removes_its_photos(lib_root):
    lib, root = lib_root
    settled_photo(root / "private" / "p.jpg")
    scan(lib)
    assert len(paths_in(lib)) == 4
    lib.folders.exclude(root / "private")
    scan(lib)
    assert len(paths_in(lib)) == 3


def test_content_sniffing_for_odd_extensions(lib_root):
    lib, root = lib_root
    settled_photo(root / "no_extension")
    (root / "notes.txt").write_text("hello")
    age(root / "notes.txt")
    (root / "data.bin").write_bytes(b"\0" * 100)
    age(root / "data.bin")
    scan(lib)
    names = {os.path.basename(p) for p in paths_in(lib)}
    assert "no_extension" in names and "notes.txt" not in names and "data.bin" not in names


def test_symlink_loops_terminate(lib_root):
    lib, root = lib_root
    (root / "sub").mkdir()
    os.symlink(root, root / "sub" / "loop")
    os.symlink(root / "sub", root / "sub" / "self")
    settled_photo(root / "sub" / "deep.jpg")
    r = scan(lib)
    assert r.added == 4
    assert len(paths_in(lib)) == 4


def test_non_utf8_and_255_byte_names(lib_root):
    lib, root = lib_root
    odd = encode_path(root) + b"/caf\xe9-\xff\xfe.jpg"
    long_name = encode_path(root) + b"/" + b"x" * 251 + b".jpg"
    for p in (odd, long_name):
        settled_photo(p)
    lib.folders.index()
    raws = {encode_path(p.path) for p in lib.catalog.photos()}
    assert {odd, long_name} <= raws
    assert lib.catalog.counts()["indexed"] == 5


def test_file_deleted_between_listing_and_reading(lib_root):
    lib, root = lib_root
    scan(lib)  # listed and catalogued as pending
    (root / "img1.jpg").unlink()
    result = lib.folders.pipeline().run(scan=False)
    assert result.failed == 1 and result.indexed == 2
    gone = lib.catalog.failures()[0]
    assert gone.path.endswith("img1.jpg") and "vanished" in gone.reason
    # The next scan notices it is gone for good.
    assert scan(lib).removed == 1


def test_recently_written_file_waits_until_it_settles(lib_root):
    lib, root = lib_root
    make_photo(root / "fresh.jpg", seed=9)  # mtime = now
    r = Scanner(lib.catalog, settle_s=30).reconcile()
    assert [os.path.basename(p) for p in r.deferred] == [b"fresh.jpg"]
    assert lib.catalog.photo_by_path(root / "fresh.jpg") is None
    age(root / "fresh.jpg")
    assert Scanner(lib.catalog, settle_s=30).reconcile().added == 1


def test_file_that_grows_during_the_scan_is_indexed_once_complete(lib_root):
    lib, root = lib_root
    data = make_photo(root.parent / "source.jpg", size=(1600, 1200), seed=11)
    target = root / "copying.jpg"
    stop = threading.Event()

    def copy_slowly():
        with open(target, "wb") as f:
            for i in range(0, len(data), 4096):
                f.write(data[i : i + 4096])
                f.flush()
                time.sleep(0.01)
        stop.set()

    writer = threading.Thread(target=copy_slowly)
    writer.start()
    time.sleep(0.05)
    result = lib.folders.pipeline(settle_s=0.5).run()
    writer.join()
    assert stop.is_set()
    photo = lib.catalog.photo_by_path(target)
    assert photo is not None and photo.status == "indexed", result
    assert photo.size == len(data)


def test_root_renamed_mid_scan_goes_offline_and_loses_nothing(lib_root):
    lib, root = lib_root
    for i in range(3, 30):
        settled_photo(root / f"d{i % 3}" / f"more{i}.jpg", seed=i)
    lib.folders.index()
    n = len(paths_in(lib))
    lib.catalog.set_photo_tags([lib.catalog.photos()[0].id], "precious")
    renamed = root.parent / "photos-renamed"

    def on_file(count, path):
        if count == 5 and root.exists():
            os.rename(root, renamed)

    r = Scanner(lib.catalog).reconcile(on_file=on_file)
    assert r.removed == 0 and r.offline_roots == [str(root)]
    assert len(paths_in(lib)) == n
    assert lib.catalog.counts()["offline"] == n
    assert lib.catalog.tagged_ids("precious")
    # Back under its name: everything returns as it was.
    os.rename(renamed, root)
    r = scan(lib)
    assert r.removed == 0 and lib.catalog.counts()["indexed"] == n


def test_unplugged_root_goes_offline_and_comes_back(lib_root, tmp_path):
    lib, root = lib_root
    lib.folders.index()
    parked = tmp_path / "parked"
    os.rename(root, parked)
    r = scan(lib)
    assert r.offline_roots == [str(root)] and r.removed == 0
    folder = lib.catalog.folder_by_path(root)
    assert folder.state == "offline" and "not there" in folder.note
    os.rename(parked, root)
    scan(lib)
    assert lib.catalog.folder_by_path(root).state == "online"
    assert lib.catalog.counts() == {"pending": 0, "indexed": 3, "failed": 0, "offline": 0}


def test_empty_mount_point_is_treated_as_offline(lib_root, tmp_path):
    lib, root = lib_root
    lib.folders.index()
    parked = tmp_path / "parked"
    os.rename(root, parked)
    root.mkdir()  # what an unmounted drive leaves behind
    r = scan(lib)
    assert r.removed == 0 and r.offline_roots == [str(root)]
    assert "empty" in lib.catalog.folder_by_path(root).note


def test_unreadable_subfolder_is_not_mistaken_for_deleted(lib_root):
    if os.geteuid() == 0:
        pytest.skip("root can read anything; permissions cannot make a folder unreadable")
    lib, root = lib_root
    settled_photo(root / "locked" / "a.jpg")
    scan(lib)
    os.chmod(root / "locked", 0)
    try:
        r = scan(lib)
    finally:
        os.chmod(root / "locked", 0o755)
    assert r.removed == 0 and r.errors

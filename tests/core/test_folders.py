"""The life of a file never costs the user their work (issue 14, part 4 and 7).

Each test replays a situation from public bug reports of other photo tools
with real files, a real catalog and real scans: nothing the user made (ids,
tags) is lost to nested library folders, unmounted shares, removal,
exclusion, moves of photos not indexed yet, or copy + delete.
"""

from __future__ import annotations

import os
import shutil

from clipdesk.core.scan import Scanner
from support import age, make_photo


def settled(path, **kw):
    data = make_photo(path, **kw)
    age(path)
    return data


def scan(lib, settle_s=2.0):
    return Scanner(lib.catalog, settle_s=settle_s).reconcile()


def scanned_folder(lib, lib_dir, photos: dict[str, int]) -> None:
    """Settled photos (name -> seed) in ``lib_dir``, added as a library folder and scanned."""
    for name, seed in photos.items():
        settled(lib_dir / name, seed=seed)
    lib.folders.add(lib_dir)
    scan(lib)


def tagged(lib, path, tag: str):
    """The catalogued photo at ``path``, after accepting ``tag`` on it."""
    photo = lib.search.find_photo(path)
    lib.tags.accept([photo.id], tag)
    return photo


def tag_of(lib, path) -> list[str]:
    photo = lib.search.find_photo(path)
    return [t.tag for t in lib.tags.of_photo(photo.id) if t.state == "accepted"] if photo else []


def test_removing_a_nested_library_folder_keeps_what_the_outer_one_covers(library, tmp_path):
    lib_dir = tmp_path / "lib"
    settled(lib_dir / "2023" / "a.jpg", seed=1)
    settled(lib_dir / "b.jpg", seed=2)
    library.folders.add(lib_dir)
    scan(library)
    a = library.search.find_photo(lib_dir / "2023" / "a.jpg")
    library.tags.accept([a.id], "holiday")

    library.folders.add(lib_dir / "2023")
    scan(library)
    assert library.search.find_photo(lib_dir / "2023" / "a.jpg").id == a.id
    changes = library.folders.remove(lib_dir / "2023")
    assert not changes.removed
    scan(library)
    again = library.search.find_photo(lib_dir / "2023" / "a.jpg")
    assert again.id == a.id and tag_of(library, again.path) == ["holiday"]


def test_an_unmounted_share_inside_a_library_folder_goes_offline_not_away(library, tmp_path):
    lib_dir = tmp_path / "lib"
    settled(lib_dir / "local.jpg", seed=1)
    share = lib_dir / "nas"
    for i in range(3):
        settled(share / f"n{i}.jpg", seed=10 + i)
    library.folders.add(lib_dir)
    scan(library)
    ids = {p.name: p.id for p in library.catalog.photos()}
    library.tags.accept([ids["n0.jpg"]], "family")
    # Unmounting leaves the mount point behind, empty.
    parked = tmp_path / "parked"
    shutil.move(str(share), str(parked))
    share.mkdir()
    r = scan(library)
    assert r.removed == 0 and r.offline == 3
    statuses = {p.name: p.status for p in library.catalog.photos()}
    assert statuses == {"local.jpg": "pending", "n0.jpg": "offline", "n1.jpg": "offline", "n2.jpg": "offline"}
    assert "empty" in library.search.photo(ids["n0.jpg"]).reason
    # The share is mounted again: the same photos, with their tags.
    share.rmdir()
    shutil.move(str(parked), str(share))
    r = scan(library)
    assert r.added == 0 and r.removed == 0
    assert {p.name: p.id for p in library.catalog.photos()} == ids
    assert {p.status for p in library.catalog.photos()} == {"pending"}
    assert tag_of(library, share / "n0.jpg") == ["family"]


def test_a_vanished_subfolder_goes_offline_and_a_deleted_file_goes(library, tmp_path):
    """DESIGN.md and issue 14: a folder that is not there (a card reader's, a
    share's mount point removed on unmount) makes its photos offline at any
    depth; only a file gone from a folder that is there was deleted."""
    lib_dir = tmp_path / "lib"
    settled(lib_dir / "keep.jpg", seed=1)
    settled(lib_dir / "gone.jpg", seed=2)
    settled(lib_dir / "card" / "c.jpg", seed=3)
    library.folders.add(lib_dir)
    scan(library)
    os.remove(lib_dir / "gone.jpg")  # deleted from a folder that is really there
    shutil.rmtree(lib_dir / "card")  # a card reader's folder that is not there
    r = scan(library)
    assert r.removed == 1 and r.offline == 1
    assert library.search.find_photo(lib_dir / "gone.jpg") is None
    assert library.search.find_photo(lib_dir / "card" / "c.jpg").status == "offline"


def test_a_deleted_file_that_comes_back_to_its_place_comes_back_with_its_tags_and_marks(library, tmp_path):
    """A file deleted outside ClipDesk leaves the catalog, but its tags and
    marks are kept aside: an undone delete brings the photo back whole."""
    lib_dir = tmp_path / "lib"
    scanned_folder(library, lib_dir, {"keep.jpg": 1, "c.jpg": 3})
    c = tagged(library, lib_dir / "c.jpg", "trip")
    library.marks.rate([c.id], 4)
    parked = tmp_path / "parked.jpg"
    shutil.move(str(lib_dir / "c.jpg"), str(parked))  # deleted (to a trash outside the library)
    r = scan(library)
    assert r.removed == 1 and r.offline == 0 and not r.offline_roots
    assert library.search.find_photo(lib_dir / "c.jpg") is None
    again = scan(library)
    assert again.removed == 0 and again.offline == 0
    assert library.folders.removed() == []  # not "removed by the user": not skipped by scans
    shutil.move(str(parked), str(lib_dir / "c.jpg"))
    assert scan(library).added == 1
    back = library.search.find_photo(lib_dir / "c.jpg")
    assert back.id == c.id and tag_of(library, back.path) == ["trip"]
    assert library.marks.of([back.id])[back.id][0] == 4


def test_a_different_file_where_a_deleted_one_was_is_a_new_photo(library, tmp_path):
    lib_dir = tmp_path / "lib"
    scanned_folder(library, lib_dir, {"IMG_1.jpg": 1, "other.jpg": 3})
    tagged(library, lib_dir / "IMG_1.jpg", "old")
    os.remove(lib_dir / "IMG_1.jpg")
    assert scan(library).removed == 1
    settled(lib_dir / "IMG_1.jpg", seed=2, size=(64, 48))  # the camera reuses the name
    assert scan(library).added == 1
    assert tag_of(library, lib_dir / "IMG_1.jpg") == []


def test_a_subfolder_moved_within_the_library_is_matched_not_dropped(library, tmp_path):
    lib_dir = tmp_path / "lib"
    scanned_folder(library, lib_dir, {"a/x.jpg": 1})
    x = tagged(library, lib_dir / "a" / "x.jpg", "kept")
    shutil.move(str(lib_dir / "a"), str(lib_dir / "b"))
    r = scan(library)
    assert r.moved == 1 and r.removed == 0
    moved = library.search.find_photo(lib_dir / "b" / "x.jpg")
    assert moved.id == x.id and tag_of(library, moved.path) == ["kept"]


def test_remove_from_library_lasts_and_can_be_undone(library, tmp_path):
    lib_dir = tmp_path / "lib"
    for i in range(3):
        settled(lib_dir / f"p{i}.jpg", seed=i)
    library.folders.add(lib_dir)
    scan(library)
    p0 = library.search.find_photo(lib_dir / "p0.jpg")
    library.tags.accept([p0.id], "best")
    changes = library.folders.remove_photos([p0.id])
    assert changes.removed == {p0.id}
    scan(library)
    scan(library)
    assert library.search.find_photo(lib_dir / "p0.jpg") is None
    assert library.folders.removed() == [str(lib_dir / "p0.jpg")]
    library.folders.restore_photos([lib_dir / "p0.jpg"])
    back = library.search.find_photo(lib_dir / "p0.jpg")
    assert back is not None and tag_of(library, back.path) == ["best"]
    assert library.folders.removed() == []
    assert scan(library).added == 0


def test_excluding_and_including_a_folder_again_keeps_tags(library, tmp_path):
    lib_dir = tmp_path / "lib"
    settled(lib_dir / "a.jpg", seed=1)
    settled(lib_dir / "private" / "p.jpg", seed=2)
    library.folders.add(lib_dir)
    scan(library)
    p = library.search.find_photo(lib_dir / "private" / "p.jpg")
    library.tags.accept([p.id], "secret")
    assert library.folders.exclude(lib_dir / "private").removed == {p.id}
    scan(library)
    assert library.search.find_photo(lib_dir / "private" / "p.jpg") is None
    library.folders.remove(lib_dir / "private")  # the exclusion, not the photos
    back = library.search.find_photo(lib_dir / "private" / "p.jpg")
    assert back is not None and tag_of(library, back.path) == ["secret"]
    assert scan(library).added == 0


def test_a_tag_on_a_photo_not_indexed_yet_survives_a_move(library, tmp_path):
    lib_dir = tmp_path / "lib"
    settled(lib_dir / "inbox" / "x.jpg", seed=5)
    library.folders.add(lib_dir)
    scan(library)
    x = library.search.find_photo(lib_dir / "inbox" / "x.jpg")
    assert x.hash is None  # scanned, not indexed
    library.tags.accept([x.id], "receipt")
    (lib_dir / "done").mkdir()
    os.rename(lib_dir / "inbox" / "x.jpg", lib_dir / "done" / "x.jpg")
    r = scan(library)
    assert (r.moved, r.added, r.removed) == (1, 0, 0)
    moved = library.search.find_photo(lib_dir / "done" / "x.jpg")
    assert moved.id == x.id and tag_of(library, moved.path) == ["receipt"]


def test_a_move_done_as_copy_then_delete_keeps_the_tags(library, tmp_path):
    """Watch mode sees the copy while it is still recent; the delete must not
    win the race."""
    lib_dir = tmp_path / "lib"
    settled(lib_dir / "a" / "y.jpg", seed=7)
    library.folders.add(lib_dir)
    scan(library)
    library.folders.index(embed=False)  # indexed: it has a content hash
    y = library.search.find_photo(lib_dir / "a" / "y.jpg")
    library.tags.accept([y.id], "keeper")
    (lib_dir / "b").mkdir()
    shutil.copyfile(lib_dir / "a" / "y.jpg", lib_dir / "b" / "y.jpg")  # new mtime: too recent
    os.remove(lib_dir / "a" / "y.jpg")
    r = scan(library, settle_s=3600)
    assert r.removed == 0 and len(r.deferred) == 1
    assert library.search.find_photo(lib_dir / "a" / "y.jpg").id == y.id
    age(lib_dir / "b" / "y.jpg")
    r = scan(library)
    assert (r.moved, r.added, r.removed) == (1, 0, 0)
    assert tag_of(library, lib_dir / "b" / "y.jpg") == ["keeper"]


def test_a_failed_file_is_tried_again_when_it_is_fixed_in_place(library, tmp_path):
    """A fix that keeps size and modification time (a permission, a repair
    that restores the timestamp) still changes the file's ctime."""
    lib_dir = tmp_path / "lib"
    good = settled(lib_dir / "f.jpg", seed=3)
    st = os.stat(lib_dir / "f.jpg")
    (lib_dir / "f.jpg").write_bytes(b"\0" * len(good))  # damaged, same size
    os.utime(lib_dir / "f.jpg", ns=(st.st_atime_ns, st.st_mtime_ns))
    library.folders.add(lib_dir)
    library.folders.index(embed=False)
    assert library.folders.counts()["failed"] == 1
    (lib_dir / "f.jpg").write_bytes(good)
    os.utime(lib_dir / "f.jpg", ns=(st.st_atime_ns, st.st_mtime_ns))
    result = library.folders.index(embed=False)
    assert result.scan.retried == 1
    assert library.folders.counts() == {"pending": 0, "indexed": 1, "failed": 0, "offline": 0}


def test_removing_photos_and_excluding_a_folder_are_undone_and_redone(library, tmp_path):
    lib_dir = tmp_path / "lib"
    for i in range(2):
        settled(lib_dir / f"p{i}.jpg", seed=i)
    settled(lib_dir / "private" / "x.jpg", seed=9)
    library.folders.add(lib_dir)
    scan(library)
    p0 = library.search.find_photo(lib_dir / "p0.jpg")
    library.tags.accept([p0.id], "best")
    removal = library.folders.remove_photos([p0.id])
    assert removal.undo.label == "Remove 1 photo from the library"
    redo = removal.undo.run()
    assert tag_of(library, lib_dir / "p0.jpg") == ["best"]
    redo.undo.run()
    assert library.search.find_photo(lib_dir / "p0.jpg") is None
    exclusion = library.folders.exclude(lib_dir / "private")
    assert library.search.find_photo(lib_dir / "private" / "x.jpg") is None
    redo = exclusion.undo.run()
    assert library.search.find_photo(lib_dir / "private" / "x.jpg") is not None
    redo.undo.run()
    assert library.search.find_photo(lib_dir / "private" / "x.jpg") is None
    assert scan(library).added == 0


def test_edits_by_another_program_are_noticed(paths, tmp_path):
    """The app polls this to pick up `clipdesk tags add` or `folders add` run beside it."""
    from clipdesk.core.library import Library

    for name in ("a", "b"):
        settled(tmp_path / name / "p.jpg")
    with Library(paths) as app, Library(paths, lock=False) as cli:
        assert not app.folders.edited_elsewhere()  # the first call takes the reference
        assert not app.folders.edited_elsewhere()
        cli.folders.add(tmp_path / "a")
        assert app.folders.edited_elsewhere()
        assert not app.folders.edited_elsewhere()  # said once
        app.folders.add(tmp_path / "b")
        assert not app.folders.edited_elsewhere()  # its own edit (the app announced it already)
        cli.folders.remove(tmp_path / "a")
        app.folders.remove(tmp_path / "b")  # an edit of its own right after another program's
        assert app.folders.edited_elsewhere()
        assert not app.folders.edited_elsewhere()

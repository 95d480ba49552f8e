"""A catalog made by the previous release (ClipDesk 0.1, schema 1) opens in
this one and keeps everything its user made.

tests/data/catalog-0.1.sqlite3 was written by 0.1 itself
(tests/data/make_catalog_0_1.py says how); its library lived in
/tmp/clipdesk-0.1-fixture. The test rebuilds those files in its own folder
and moves the catalog's paths there, as a user whose drive got a new mount
point would.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import time
from pathlib import Path

import pytest
from PIL import Image

from clipdesk.core.catalog import schema

FIXTURE = Path(__file__).resolve().parents[1] / "data" / "catalog-0.1.sqlite3"
OLD_ROOT = b"/tmp/clipdesk-0.1-fixture"


@pytest.fixture
def old_library(tmp_path, paths, corpus):
    """The 0.1 user's files under tmp_path and their catalog in ``paths``."""
    root = tmp_path / "lib"
    shoot = root / "Shoot"
    (shoot / "private").mkdir(parents=True)
    for name, colour in [("DSC_0001.JPG", (200, 120, 40)), ("beach.jpg", (40, 120, 200)),
                         ("private/secret.jpg", (10, 10, 10))]:
        Image.new("RGB", (64, 48), colour).save(shoot / name, quality=90)
    shutil.copyfile(corpus.path("exiftool/Nikon.nef"), shoot / "DSC_0001.NEF")
    old = time.time() - 3600
    for p in shoot.rglob("*"):
        os.utime(p, (old, old))
    shutil.copyfile(FIXTURE, paths.catalog)
    con = sqlite3.connect(paths.catalog)
    assert con.execute("PRAGMA user_version").fetchone()[0] == 1
    new_root = os.fsencode(root)
    for table in ("photos", "folders"):
        rows = con.execute(f"SELECT id, path FROM {table}").fetchall()  # noqa: S608 - two fixed names
        for rid, path in rows:
            moved = bytes(path).replace(OLD_ROOT, new_root, 1)
            # 0.1 stored each file's size and mtime: give the rebuilt files the same.
            con.execute(f"UPDATE {table} SET path = ? WHERE id = ?", (moved, rid))  # noqa: S608
            if table == "photos":
                st = os.stat(moved)
                con.execute("UPDATE photos SET size = ?, mtime_ns = ? WHERE id = ?", (st.st_size, st.st_mtime_ns, rid))
    con.commit()
    con.close()
    return shoot


def test_a_catalog_from_0_1_upgrades_in_place_and_keeps_the_users_work(old_library, library):
    shoot = old_library
    assert library.catalog.schema_version == schema.SCHEMA_VERSION
    backups = list(Path(library.paths.catalog).parent.glob("*.bak-v1"))
    assert backups, "the old catalog is backed up before it is migrated"
    # Tags 0.1 kept apart but people read as one were merged (schema 2).
    names = library.tags.names()
    assert sum(n.casefold() in ("straße", "strasse") for n in names) == 1
    assert library.search.saved() == [("warm ones", "holiday")]

    library.folders.index(embed=False)
    # The NEF and its JPEG, two photos in 0.1, are one photo now: the RAW is
    # the master and the JPEG's tags (accepted and rejected) are on it.
    nef = library.search.find_photo(shoot / "DSC_0001.NEF")
    assert nef.companion == str(shoot / "DSC_0001.JPG")
    assert library.search.find_photo(shoot / "DSC_0001.JPG").id == nef.id
    decided = {(t.tag, t.state) for t in library.tags.of_photo(nef.id)}
    assert {("Holiday", "accepted"), ("Cat", "rejected")} <= decided
    assert any(tag.casefold() in ("straße", "strasse") and state == "accepted" for tag, state in decided)
    # ExifTool's NEF has no pixels: LibRaw says so, and the photo is shown
    # and found by the JPEG the camera wrote with it.
    assert nef.status == "indexed" and nef.format == "jpeg"
    counts = {status: n for status, n in library.folders.counts().items() if n}
    assert counts == {"indexed": 2}  # the pair and beach.jpg; private/ stays excluded
    assert library.search.find_photo(shoot / "private" / "secret.jpg") is None

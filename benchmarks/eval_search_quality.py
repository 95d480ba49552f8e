"""What the demo library shows a user, measured against its ground truth.

Issue 16 asks that the adaptive relevance cut, learned tags and the "unknown
query" notice be measured, not guessed. On the demo library (300 scenes the
app writes on first run, indexed with the shipped clipdesk-mini model through
the real pipeline) this prints:

* the cut: for every "<colour> <item>" query of the ground truth, precision
  and recall of what the cut keeps, next to plain top-N (N = 10 and 24), how
  often it keeps a single photo, and where each "Show more" step takes it;
* learned tags: for every item class, 3 examples taught, the suggestions'
  precision and recall against the other photos of that class;
* unknown queries: the query-versus-reference-phrases statistic for queries
  the model knows and for ones it cannot know ("dog on a beach").

    .venv/bin/python benchmarks/eval_search_quality.py [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

UNKNOWN = ["dog on a beach", "birthday cake", "mountain lake at sunset", "a car", "kids playing football",
           "wedding", "receipt", "whiteboard", "cat", "new york skyline"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--json", type=Path, help="write the figures here too")
    args = ap.parse_args()

    from clipdesk.core.library import Library
    from clipdesk.core.paths import Paths
    from clipdesk.demo import setup_demo
    from clipdesk.demo import scenes as S

    out: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["CLIPDESK_DATA_DIR"] = str(Path(tmp) / "data")
        os.environ["CLIPDESK_CACHE_DIR"] = str(Path(tmp) / "cache")
        t0 = time.perf_counter()
        with Library(Paths.from_env()) as lib:
            dest = setup_demo(lib)
            run = lib.folders.index()
            print(f"demo library: {run.indexed} photos indexed in {time.perf_counter() - t0:.1f} s "
                  f"with {lib.models.active().model_id}")
            records = json.loads((dest / "ground_truth.json").read_text())
            by_name = {p.name: p for p in lib.catalog.photos()}
            out["cut"] = _cut(lib, S.retrieval_queries(records))
            out["learned"] = _learned(lib, records, by_name)
            out["unknown"] = _unknown(lib, S.retrieval_queries(records))
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))
    return 0


def _pr(kept: list[str], relevant: set[str]) -> tuple[float, float]:
    hits = len([k for k in kept if k in relevant])
    return (hits / len(kept) if kept else 1.0), hits / len(relevant)


def _cut(lib, queries) -> dict:
    rows = {"cut": [], "top10": [], "top24": []}
    singles = 0
    steps: list[list[tuple[float, float]]] = []
    for text, relevant in queries:
        result = lib.search.query(text)
        kept = [h.photo.name for h in result.hits]
        singles += len(kept) == 1
        rows["cut"].append(_pr(kept, relevant))
        plain = [h.photo.name for h in lib.search.query(text, cut=False, limit=24).hits]
        rows["top10"].append(_pr(plain[:10], relevant))
        rows["top24"].append(_pr(plain[:24], relevant))
        widened = []
        for step in range(1, 4):
            more = lib.search.query(text, widen=step)
            widened.append(_pr([h.photo.name for h in more.hits], relevant))
        steps.append(widened)
    summary = {}
    print(f"\nThe adaptive cut over {len(queries)} '<colour> <item>' queries (demo library):")
    for name, pr in rows.items():
        p, r = (float(np.mean([x[i] for x in pr])) for i in (0, 1))
        summary[name] = {"precision": round(p, 3), "recall": round(r, 3)}
        print(f"  {name:6s} precision {p:.3f}  recall {r:.3f}")
    for step in range(3):
        p = float(np.mean([s[step][0] for s in steps]))
        r = float(np.mean([s[step][1] for s in steps]))
        summary[f"show_more_{step + 1}"] = {"precision": round(p, 3), "recall": round(r, 3)}
        print(f"  'Show more' x{step + 1}: precision {p:.3f}  recall {r:.3f}")
    summary["kept_one"] = singles
    print(f"  the cut keeps a single photo for {singles} of {len(queries)} queries")
    return summary


def _learned(lib, records, by_name) -> dict:
    from clipdesk.demo.scenes import ITEMS

    print("\nLearned tags (3 examples each, the rest of the class as ground truth):")
    ps, rs = [], []
    for kind in ITEMS:
        files = sorted(r["file"] for r in records if any(i["label"] == kind.label for i in r["items"]))
        if len(files) < 6:
            continue
        examples = [by_name[f].id for f in files[:3]]
        hits = lib.tags.teach(f"learned {kind.name}", examples, limit=300)
        found = {h.photo.name for h in hits}
        truth = set(files[3:])
        p = len(found & truth) / len(found) if found else 1.0
        r = len(found & truth) / len(truth)
        ps.append(p)
        rs.append(r)
        print(f"  {kind.name:12s} {len(truth):3d} to find: suggested {len(found):3d}, precision {p:.2f}, recall {r:.2f}")
    p, r = float(np.mean(ps)), float(np.mean(rs))
    print(f"  mean: precision {p:.3f}, recall {r:.3f}")
    return {"precision": round(p, 3), "recall": round(r, 3)}


def _unknown(lib, queries) -> dict:
    print("\nDoes the model know the query? (the share of reference phrases the query's best scores beat)")
    known = [lib.search.query(text) for text, _ in queries[:20]]
    unknown = [lib.search.query(text) for text in UNKNOWN]
    for label, results in (("known", known), ("unknown", unknown)):
        flagged = sum(1 for r in results if r.unknown)
        print(f"  {label:8s}: {flagged} of {len(results)} said to be unknown; "
              f"photos shown {np.mean([len(r.hits) for r in results]):.1f} on average")
    return {"known_flagged": sum(r.unknown for r in known), "unknown_flagged": sum(r.unknown for r in unknown),
            "known": len(known), "unknown": len(unknown)}


if __name__ == "__main__":
    sys.exit(main())

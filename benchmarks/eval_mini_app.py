"""The small model's quality measured through ClipDesk itself, not the model alone.

Issue 4 asks that the model card's numbers (computed by models/train_mini/train.py
straight from the ONNX files) hold when the same held-out scenes go through the
app: JPEG files on disk -> scan -> decode -> engine -> catalog -> vector index ->
search. This script builds exactly the training script's evaluation sets
(Fashion-MNIST test split, the same seeds), writes them as files, indexes them
with a Library, and measures:

* zero-shot item and colour accuracy of single-item scenes, from the embeddings
  the pipeline stored in the catalog and the app's text encoder (prompt ensembles
  from clipdesk.demo.scenes);
* recall@10 of "<colour> <item>" queries over a 2,000-scene library, through
  ``Library.search(..., cut=False)`` (the ranking `clipdesk search --no-cut`
  prints; a sample of queries is also run through the real `clipdesk` command
  to show it gives the same top 10);
* what a user sees: recall of the first 10 results after the adaptive cut.

    .venv/bin/python benchmarks/eval_mini_app.py [--bundle models/clipdesk-mini]

Needs the Debian package dataset-fashion-mnist (the test split).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bundle", type=Path, default=ROOT / "models" / "clipdesk-mini")
    ap.add_argument("--singles", type=int, default=2000)
    ap.add_argument("--library", type=int, default=2000)
    ap.add_argument("--cli-sample", type=int, default=5, help="queries also run through the real CLI")
    ap.add_argument("--json", type=Path, help="write the figures here too")
    args = ap.parse_args()

    from clipdesk.demo import scenes as S
    from clipdesk.core.library import Library
    from clipdesk.core.paths import Paths

    metrics_file = args.bundle / "metrics.json"
    card = json.loads(metrics_file.read_text()) if metrics_file.exists() else {}
    card_eval = card.get("evaluation", card)

    test_images, test_labels = S.load_fashion_mnist("test")
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        env = {"CLIPDESK_DATA_DIR": str(tmp / "data"), "CLIPDESK_CACHE_DIR": str(tmp / "cache"),
               "CLIPDESK_MODELS_DIR": str(args.bundle.parent)}
        os.environ.update(env)
        singles = S.make_scenes(test_labels, args.singles, S.EVAL_SINGLE_SEED, n_items=1)
        single_records = S.write_scenes(tmp / "photos" / "singles", singles, test_images)
        library = S.make_scenes(test_labels, args.library, S.EVAL_LIBRARY_SEED)
        lib_records = S.write_scenes(tmp / "photos" / "library", library, test_images)
        for f in (tmp / "photos").rglob("*.jpg"):  # written long enough ago to be settled
            os.utime(f, (time.time() - 60, time.time() - 60))

        paths = Paths.from_env()
        with Library(paths, model=args.bundle.name) as lib:
            lib.folders.add(tmp / "photos")
            t_index = time.perf_counter()
            run = lib.folders.index()
            t_index = time.perf_counter() - t_index
            assert run.failed == 0, run
            model = lib.models.active()
            assert model.model_id == args.bundle.name, model.model_id

            # Zero-shot, from what the pipeline stored in the catalog.
            by_path = {p.path: p.id for p in lib.catalog.photos()}
            single_dir = tmp / "photos" / "singles"
            ids = [by_path[str(single_dir / r["file"])] for r in single_records]
            emb_by_id = {}
            for chunk_ids, vecs in lib.catalog.iter_embeddings(model.model_id, ids=ids):
                emb_by_id.update(zip(chunk_ids.tolist(), vecs))
            emb = np.stack([emb_by_id[i] for i in ids])

            def ensemble(prompt_sets):
                out = np.stack([model.text.embed_texts(p).mean(axis=0) for p in prompt_sets])
                return out / np.linalg.norm(out, axis=1, keepdims=True)

            item_text = ensemble([S.item_prompts(k) for k in range(len(S.ITEMS))])
            colour_text = ensemble([S.colour_prompts(c) for c in S.COLOUR_NAMES])
            true_item = np.array([sc.items[0].label for sc in singles])
            true_colour = np.array([S.COLOUR_NAMES.index(sc.items[0].colour) for sc in singles])
            item_acc = float(((emb @ item_text.T).argmax(1) == true_item).mean())
            colour_acc = float(((emb @ colour_text.T).argmax(1) == true_colour).mean())

            # Retrieval through search, restricted to the 2,000-scene library folder.
            lib_dir = tmp / "photos" / "library"
            queries = S.retrieval_queries(lib_records)
            recalls, seen_recalls, kept = [], [], []
            t_search = time.perf_counter()
            for query, relevant in queries:
                text = f'{query} folder:"{lib_dir}"'
                ranked = lib.search.query(text, limit=10, cut=False)
                recalls.append(S.recall_at_k([os.path.basename(h.photo.path) for h in ranked.hits], relevant, 10))
                seen = lib.search.query(text, limit=10)
                kept.append(len(seen.hits))
                seen_recalls.append(S.recall_at_k([os.path.basename(h.photo.path) for h in seen.hits], relevant, 10))
            t_search = (time.perf_counter() - t_search) / (2 * len(queries))
        # The real command line gives the same top 10.
        cli_same = 0
        for query, _relevant in queries[: args.cli_sample]:
            text = f'{query} folder:"{lib_dir}"'
            out = subprocess.run(
                [sys.executable, "-m", "clipdesk", "search", text, "--no-cut", "--limit", "10", "--json"],
                capture_output=True, text=True, env={**os.environ, **env}, check=True,
            )
            cli = [os.path.basename(r["path"]) for r in json.loads(out.stdout)["results"]]
            with Library(paths, model=args.bundle.name) as lib:
                api = [os.path.basename(h.photo.path) for h in lib.search.query(text, limit=10, cut=False).hits]
            cli_same += cli == api

    figures = {
        "zero_shot_item_accuracy": item_acc,
        "colour_accuracy": colour_acc,
        "retrieval_recall_at_10": float(np.mean(recalls)),
        "retrieval_recall_at_10_after_cut": float(np.mean(seen_recalls)),
        "results_kept_by_cut_median": float(np.median(kept)),
        "queries": len(queries),
        "cli_matches_api": f"{cli_same}/{min(args.cli_sample, len(queries))}",
        "index_seconds": round(t_index, 1),
        "search_ms": round(t_search * 1e3, 1),
        "total_seconds": round(time.perf_counter() - t0, 1),
    }
    print(f"{'metric':34} {'app':>8} {'card':>8} {'diff (points)':>14}")
    for key in ("zero_shot_item_accuracy", "colour_accuracy", "retrieval_recall_at_10"):
        ref = card_eval.get(key)
        diff = f"{(figures[key] - ref) * 100:+.2f}" if ref is not None else "n/a"
        print(f"{key:34} {figures[key]:8.4f} {ref if ref is not None else float('nan'):8.4f} {diff:>14}")
    for key in ("retrieval_recall_at_10_after_cut", "results_kept_by_cut_median", "queries",
                "cli_matches_api", "index_seconds", "search_ms", "total_seconds"):
        print(f"{key:34} {figures[key]}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    worst = max(
        (abs(figures[k] - card_eval[k]) for k in ("zero_shot_item_accuracy", "colour_accuracy",
                                                  "retrieval_recall_at_10") if k in card_eval),
        default=0.0,
    )
    return 0 if worst <= 0.01 else 1


if __name__ == "__main__":
    raise SystemExit(main())

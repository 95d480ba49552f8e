"""Speed benchmark of the vector index (issue 5). Not part of the test run.

For each size (default 10k, 100k, 1M) of clustered 512-d vectors it prints:
build time, index size on disk and in RAM, load time (manifest checks and
SHA-256 included), k=100 query latency (median, p95) for HNSW and for exact
numpy search, the same with a filter keeping 1% of photos, and recall@100
against exact search. Then the sweeps behind the switch-over constants in
``clipdesk/core/index/vectorindex.py``: exact latency against collection size, and
exact-subset against HNSW+filter latency against the filter's size.

Issue 17 adds the text-query sweep: recall@100 and latency of text queries
by graph degree M and breadth ef, each graph built on the same data, next to
the setting before that issue (M=16, ef=800) from the same run, and a
query-side correction (the query shifted by the mean image-text offset for
the graph search, then re-scored exactly with the true query).

The data is a mixture of Gaussians, not uniform noise (on which HNSW recall
collapses and which no real embedding set looks like): a shared direction
(CLIP embeddings of unrelated photos still have cosine ~0.4-0.5), cluster
centres around it, and inside each cluster a random 24-d subspace plus a
little isotropic noise. Two query sets: "image" queries are fresh samples of
the mixture (find-similar); "text" queries are a cluster centre plus
isotropic noise 2.6 times its length, so that the best match scores ~0.36
like a CLIP text query (modality gap), which is the harder case for a graph
search.

How realistic the text queries are: the best score is, but the noise is
drawn afresh for every query, in every direction. So two text queries are
nearly unrelated (cosine ~0.07), where real CLIP texts share most of their
offset from the images (the modality gap is largely one shared vector:
Liang et al., "Mind the Gap", NeurIPS 2022); and when a query's own cluster
holds fewer than k photos, the rest of its top k comes from whichever
clusters the noise happens to favour, scattered over the collection with
nothing in common, where a real caption's next-best photos are related
ones, near each other in the graph. The benchmark prints how spread the
exact answers are: at 1M the median text query's top 100 lies in 2
clusters, one in ten spreads over 19 or more, and almost everything a graph
search misses lies in clusters it never reached. That makes these queries
a pessimistic case for a graph; they are kept as they are so that figures
stay comparable from issue to issue.

Built graphs can be kept with ``--cache DIR`` (one folder per size and
graph parameters) so that a sweep can be rerun without building again: a
1M graph takes 7-17 minutes on 2 threads (longer at larger M).

Usage::

    python benchmarks/bench_index.py [--sizes 10000,100000,1000000] [--queries 200]
        [--cache /var/tmp/clipdesk-bench-index] [--degrees 32,16] [--text-ef 800,1200,1600]
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from clipdesk.core.index import (  # noqa: E402
    EXACT_SEARCH_MAX,
    FILTER_EXACT_MAX,
    POSTFILTER_MIN_SHARE,
    TEXT_QUERY_EF,
    text_query_ef,
    HnswParams,
    IndexStale,
    VectorIndex,
    read_manifest,
)
from clipdesk.core.index.store import VectorStore  # noqa: E402
from clipdesk.core.index.vectorindex import TEXT_QUERY_EF_SMALL, TEXT_QUERY_SMALL_MAX  # noqa: E402

DIM = 512
K = 100
SUBSPACE = 24
MODEL = "bench/clip-512"
#: Vectors generated and added per step of a build (id i is row i - 1 of chunk after chunk).
BUILD_CHUNK = 20000
#: Bump when Mixture or its query sets change, so that cached indexes of the old data are not reused.
DATA_VERSION = 1
#: The text-query setting before issue 17 (graph degree M, ef), shown next to the current one.
PREVIOUS_TEXT_SETTING = (16, 800)


class Mixture:
    """Deterministic clustered unit vectors, generated chunk by chunk."""

    def __init__(self, n: int, dim: int = DIM, seed: int = 7) -> None:
        rng = np.random.default_rng(seed)
        self.n_clusters = max(20, n // 200)
        self.dim = dim
        shared = _unit(rng.normal(size=dim))
        dirs = _unit(rng.normal(size=(self.n_clusters, dim)))
        self.centres = _unit(0.75 * shared + 0.66 * dirs).astype(np.float32)
        weights = rng.lognormal(0.0, 1.0, size=self.n_clusters)
        self.weights = weights / weights.sum()
        # Per-cluster subspace seeds; bases are drawn on demand to save memory.
        self.basis_seeds = rng.integers(0, 2**31, size=self.n_clusters)
        self.scales = rng.uniform(0.06, 0.12, size=self.n_clusters).astype(np.float32)
        self._bases: dict[int, np.ndarray] = {}

    def _basis(self, j: int) -> np.ndarray:
        b = self._bases.get(j)
        if b is None:
            b = np.random.default_rng(int(self.basis_seeds[j])).normal(size=(SUBSPACE, self.dim)).astype(np.float32)
            b /= np.linalg.norm(b, axis=1, keepdims=True)
            if len(self._bases) < 20000:
                self._bases[j] = b
        return b

    def sample(self, count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
        rng = np.random.default_rng(seed)
        labels = rng.choice(self.n_clusters, size=count, p=self.weights)
        out = np.empty((count, self.dim), dtype=np.float32)
        for j in np.unique(labels):
            rows = np.flatnonzero(labels == j)
            z = rng.normal(size=(len(rows), SUBSPACE)).astype(np.float32) * self.scales[j]
            out[rows] = self.centres[j] + z @ self._basis(j)
        out += rng.normal(scale=0.012, size=out.shape).astype(np.float32)
        return _unit(out), labels

    def build_labels(self, n: int) -> np.ndarray:
        """Cluster of every id 1..n as built by :func:`build_or_load` (index 0 unused):
        the same draws as :meth:`sample` makes first for each chunk."""
        labels = np.full(n + 1, -1, dtype=np.int64)
        for start in range(0, n, BUILD_CHUNK):
            count = min(BUILD_CHUNK, n - start)
            rng = np.random.default_rng(1000 + start)
            labels[start + 1 : start + count + 1] = rng.choice(self.n_clusters, size=count, p=self.weights)
        return labels

    def text_queries(self, count: int, seed: int) -> np.ndarray:
        rng = np.random.default_rng(seed)
        labels = rng.choice(self.n_clusters, size=count, p=self.weights)
        noise = _unit(rng.normal(size=(count, self.dim))) * 2.6
        return _unit(self.centres[labels] + noise).astype(np.float32)


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(fn, queries, **kw) -> tuple[np.ndarray, list]:
    lat = []
    out = []
    for q in queries:
        t = time.perf_counter()
        out.append(fn(q, **kw))
        lat.append(time.perf_counter() - t)
    return np.array(lat) * 1000.0, out


def recall(results, truth) -> float:
    """Share of the true top-k found; a result is SearchHits or an id array."""
    hits = sum(len(np.intersect1d(getattr(r, "ids", r), t.ids)) for r, t in zip(results, truth))
    total = sum(len(t.ids) for t in truth)
    return hits / total if total else 1.0


def pct(lat: np.ndarray) -> str:
    return f"{np.median(lat):6.2f} / {np.percentile(lat, 95):6.2f}"


def cache_folder(root: Path, n: int, params: HnswParams) -> Path:
    """Where the graph of ``n`` vectors built with ``params`` is kept: the key
    names everything the built graph depends on."""
    return root / f"n{n}-d{DIM}-M{params.M}-efc{params.ef_construction}-seed{params.seed}-data{DATA_VERSION}"


def build_or_load(n: int, mix: Mixture, params: HnswParams, root: Path) -> tuple[VectorIndex, Path, float, float, float]:
    """(index, its folder, build s, save s, load s): the graph saved under
    :func:`cache_folder` by an earlier run when there is one (build and save
    are then NaN), else built from ``mix`` and saved there."""
    d = cache_folder(root, n, params)
    build_s = save_s = float("nan")
    try:
        t0 = time.perf_counter()
        index = VectorIndex.load(d, MODEL, DIM, generation=1, params=params)
        print(f"  loaded the graph cached in {d}", flush=True)
        return index, d, build_s, save_s, time.perf_counter() - t0
    except IndexStale as exc:
        print(f"  building M={params.M} into {d} ({exc.reason})", flush=True)
    index = VectorIndex(MODEL, DIM, params, capacity=n)
    t0 = time.perf_counter()
    for start in range(0, n, BUILD_CHUNK):
        count = min(BUILD_CHUNK, n - start)
        vecs, _ = mix.sample(count, seed=1000 + start)
        index.add(np.arange(start + 1, start + count + 1), vecs)
        if n >= 200_000 and (start // BUILD_CHUNK) % 10 == 0:
            el = time.perf_counter() - t0
            print(f"  built {start + count:,} in {el:.0f} s (load {os.getloadavg()[0]:.1f})", flush=True)
    build_s = time.perf_counter() - t0
    print(f"  build {build_s:.1f} s", flush=True)
    t0 = time.perf_counter()
    index.save(d, generation=1)
    save_s = time.perf_counter() - t0
    del index
    gc.collect()
    t0 = time.perf_counter()
    index = VectorIndex.load(d, MODEL, DIM, generation=1, params=params)
    return index, d, build_s, save_s, time.perf_counter() - t0


def bench_size(n: int, n_queries: int, root: Path, params: HnswParams, ef_sweep: list[int], text_efs: list[int]) -> dict:
    print(f"\n=== {n:,} vectors ===", flush=True)
    mix = Mixture(n)
    gc.collect()
    rss0 = rss_mb()
    index, d, build_s, save_s, load_s = build_or_load(n, mix, params, root)
    manifest = read_manifest(d, MODEL)
    disk_mb = manifest.index_size / 2**20
    hnsw_ram_mb = manifest.index_size / 2**20
    store_ram_mb = index._store.vecs.nbytes / 2**20 + index._store.ids.nbytes / 2**20
    rss_loaded = rss_mb()
    sample = index._store.vecs[:2000]
    s = sample @ sample.T
    pair_cos = float(np.mean(s[np.triu_indices(len(s), 1)]))
    print(f"  save {save_s:.1f} s, load {load_s:.1f} s, disk {disk_mb:.0f} MiB, "
          f"mean cosine of random pairs {pair_cos:.2f}", flush=True)
    img_q, _ = mix.sample(n_queries, seed=99)
    txt_q = mix.text_queries(n_queries, seed=98)
    res: dict = {"n": n, "build_s": build_s, "save_s": save_s, "load_s": load_s, "disk_mb": disk_mb,
                 "hnsw_ram_mb": hnsw_ram_mb, "store_ram_mb": store_ram_mb,
                 "rss_loaded_mb": rss_loaded - rss0}

    # Exact search: the ground truth and the numpy latency column.
    for name, qs in (("image", img_q), ("text", txt_q)):
        lat, truth = timed(index.search, qs, k=K, method="exact")
        res[f"exact_{name}"] = lat
        res[f"truth_{name}"] = truth
    res["best_text_score"] = float(np.median([t.scores[0] for t in res["truth_text"]]))
    res["text_spread"] = text_spread(mix.build_labels(n), index, txt_q, res["truth_text"])
    res["best_image_score"] = float(np.median([t.scores[1] for t in res["truth_image"]]))

    # ef sweep on HNSW. The breadth is max(ef, ef_search, k): a value below
    # ef_search measures ef_search again.
    for ef in ef_sweep:
        for name, qs in (("image", img_q), ("text", txt_q)):
            lat, out = timed(index.search, qs, k=K, method="hnsw", ef=ef)
            res[f"hnsw_{name}_ef{ef}"] = (lat, recall(out, res[f"truth_{name}"]))
    for name, qs in (("image", img_q), ("text", txt_q)):
        lat, out = timed(index.search, qs, k=K, method="hnsw")
        res[f"hnsw_{name}"] = (lat, recall(out, res[f"truth_{name}"]))
    lat, out = timed(index.search, txt_q, k=K, method="hnsw", ef=text_query_ef(n))
    res["hnsw_text_wide"] = (lat, recall(out, res["truth_text"]))

    # Filter keeping 1% of photos (a random subset, as a tag or date range might).
    rng = np.random.default_rng(5)
    ids = index.ids()
    allowed = rng.choice(ids, size=max(K, n // 100), replace=False)
    truth_f = [index.search(q, K, allowed=allowed, method="exact") for q in txt_q]
    lat_auto, out_auto = timed(index.search, txt_q, k=K, allowed=allowed)
    res["filter_auto"] = (lat_auto, recall(out_auto, truth_f), out_auto[0].method)
    lat_h, out_h = timed(index.search, txt_q, k=K, allowed=allowed, method="hnsw")
    res["filter_hnsw"] = (lat_h, recall(out_h, truth_f))
    lat_e, _ = timed(index.search, txt_q, k=K, allowed=allowed, method="exact")
    res["filter_exact"] = lat_e
    res["index"] = index
    res["mix"] = mix
    res["txt_q"] = txt_q
    res["img_q"] = img_q
    res["text_sweep"] = text_sweep(index, res, text_efs)
    return res


def text_spread(labels: np.ndarray, index: VectorIndex, txt_q: np.ndarray, truth: list) -> tuple[float, float, float]:
    """How scattered the text queries' exact answers are: (median and 90th
    percentile of the clusters one top-k spans, share of what the graph
    misses at the app's text breadth, text_query_ef(n), that lies in clusters
    it returned nothing of)."""
    spans = [len(np.unique(labels[t.ids])) for t in truth]
    missed = unreached = 0
    for q, t in zip(txt_q, truth):
        got = index.search(q, K, method="hnsw", ef=text_query_ef(len(index))).ids
        miss = np.setdiff1d(t.ids, got)
        missed += len(miss)
        unreached += int(np.sum(~np.isin(labels[miss], labels[got])))
    return float(np.median(spans)), float(np.percentile(spans, 90)), unreached / missed if missed else float("nan")


def text_sweep(index: VectorIndex, res: dict, text_efs: list[int]) -> list[tuple]:
    """Rows (M, setting, latency ms [q], recall@100) for one graph: image
    queries at the default breadth, text queries at each ef in ``text_efs``,
    and text queries shifted by the mean image-text offset for the graph
    search, then re-scored exactly with the true query."""
    m = index.params.M
    rows = []
    lat, out = timed(index.search, res["img_q"], k=K, method="hnsw")
    rows.append((m, f"image, ef={index.params.ef_search}", lat, recall(out, res["truth_image"])))
    for ef in text_efs:
        lat, out = timed(index.search, res["txt_q"], k=K, method="hnsw", ef=ef)
        rows.append((m, f"text, ef={ef}", lat, recall(out, res["truth_text"])))
    # The offset is measured on other queries than the ones it is tried on.
    offset = index._store.vecs[:: max(1, res["n"] // 20000)].mean(axis=0) - res["mix"].text_queries(500, seed=97).mean(axis=0)

    def shifted(q: np.ndarray, ef: int):
        found, vecs = index.vectors(index.search(q + offset, ef, method="hnsw", ef=ef).ids)
        return found[np.argsort(-(vecs @ q), kind="stable")[:K]]

    ef_text = text_query_ef(res["n"])
    lat, out = timed(shifted, res["txt_q"], ef=ef_text)
    rows.append((m, f"text shifted by the mean offset, ef={ef_text}, re-scored", lat,
                 recall(out, res["truth_text"])))
    return rows


def filter_sweep(res: dict, n_queries: int) -> list[tuple]:
    """Filtered search by the share of photos the filter keeps (random subsets):
    exact over the subset, hnswlib's filter callable, the unfiltered graph
    search post-filtered, and what "auto" picks; for text queries also "auto"
    at text_query_ef(n), as the app searches them."""
    index: VectorIndex = res["index"]
    n = res["n"]
    qs = res["txt_q"][: max(50, n_queries // 2)]
    img = res["img_q"][: max(50, n_queries // 2)]
    ids = index.ids()
    rng = np.random.default_rng(11)
    rows = []
    for frac in (0.002, 0.01, 0.03, 0.1, 0.3, 0.6):
        m = int(n * frac)
        if m < K:
            continue
        allowed = rng.choice(ids, size=m, replace=False)
        row = [frac, m]
        lat_e, _ = timed(index.search, qs, k=K, allowed=allowed, method="exact")
        row.append(pct(lat_e))
        for name, queries in (("image", img), ("text", qs)):
            truth = [index.search(q, K, allowed=allowed, method="exact") for q in queries]
            lat_h, out_h = timed(index.search, queries, k=K, allowed=allowed, method="hnsw")
            row.append(f"{pct(lat_h)} ({out_h[0].method}, recall {recall(out_h, truth):.3f})")
            lat_a, out_a = timed(index.search, queries, k=K, allowed=allowed)
            row.append(f"{pct(lat_a)} ({out_a[0].method}, recall {recall(out_a, truth):.3f})")
        # ``truth`` is the text queries' now, the last of the loop.
        lat_w, out_w = timed(index.search, qs, k=K, allowed=allowed, ef=text_query_ef(n))
        row.append(f"{pct(lat_w)} ({out_w[0].method}, recall {recall(out_w, truth):.3f})")
        rows.append(tuple(row))
        print(f"  filter {frac:.1%} done", flush=True)
    return rows


def exact_sweep(n_queries: int) -> list[tuple]:
    """Exact top-100 latency against collection size (numpy only)."""
    rng = np.random.default_rng(3)
    out = []
    for m in (1000, 2000, 5000, 10000, 20000, 50000):
        store = VectorStore(DIM, capacity=m)
        v = _unit(rng.normal(size=(m, DIM))).astype(np.float32)
        store.upsert(np.arange(m, dtype=np.int64), v)
        qs = _unit(rng.normal(size=(n_queries, DIM))).astype(np.float32)
        lat = []
        for q in qs:
            t = time.perf_counter()
            store.top_k(q, K)
            lat.append(time.perf_counter() - t)
        out.append((m, np.array(lat) * 1000))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--ef-sweep", default="160,200,256,400", help="ef values for both query sets (floor: ef_search)")
    ap.add_argument("--text-ef", default="800,1000,1200,1600,2000,2400,3200", help="ef values of the text-query sweep")
    ap.add_argument("--degrees", default=None, help="graph degrees M of the text-query sweep (default: the "
                    f"current one and the one before issue 17, {PREVIOUS_TEXT_SETTING[0]})")
    ap.add_argument("--threads", type=int, default=None, help="hnswlib build threads (default: all cores)")
    ap.add_argument("--cache", type=Path, default=None, help="keep the built graphs here, one folder per size and "
                    "graph parameters, and load them on later runs instead of building them again (build and "
                    "save times are then not printed); default: a temp dir, removed at the end")
    args = ap.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    ef_sweep = [int(s) for s in args.ef_sweep.split(",") if s]
    text_efs = [int(s) for s in args.text_ef.split(",") if s]
    params = HnswParams(num_threads=args.threads)
    degrees = [int(s) for s in args.degrees.split(",") if s] if args.degrees else [params.M, PREVIOUS_TEXT_SETTING[0]]
    other_degrees = [m for m in dict.fromkeys(degrees) if m != params.M]
    root = args.cache or Path(tempfile.mkdtemp(prefix="clipdesk-bench-"))
    print(f"cores {os.cpu_count()}, load average at start {os.getloadavg()}, params {params}")
    print(f"switch-over constants: EXACT_SEARCH_MAX={EXACT_SEARCH_MAX}, FILTER_EXACT_MAX={FILTER_EXACT_MAX}, "
          f"POSTFILTER_MIN_SHARE={POSTFILTER_MIN_SHARE}, TEXT_QUERY_EF={TEXT_QUERY_EF} (above "
          f"{TEXT_QUERY_SMALL_MAX:,} photos; {TEXT_QUERY_EF_SMALL} up to it)")

    results = []
    sweeps = []
    try:
        for i, n in enumerate(sizes):
            res = bench_size(n, args.queries, root, params, ef_sweep, text_efs)
            if i == len(sizes) - 1:
                sweeps = filter_sweep(res, args.queries)
            del res["index"]
            gc.collect()
            for m in other_degrees:  # same data, queries and exact answers; another graph
                other, _, _, _, _ = build_or_load(n, res["mix"], dataclasses.replace(params, M=m), root)
                res["text_sweep"] += text_sweep(other, res, text_efs)
                del other
                gc.collect()
            for key in ("mix", "txt_q", "img_q", "truth_image", "truth_text"):
                res.pop(key)
            results.append(res)
            if args.cache is None:
                for path in root.iterdir():
                    shutil.rmtree(path, ignore_errors=True)
        exact_rows = exact_sweep(args.queries)
    finally:
        if args.cache is None:
            shutil.rmtree(root, ignore_errors=True)

    print(f"\nload average at end {os.getloadavg()}")
    print("\n## Build, size, load")
    print("| n | build s | save s | load s | disk MiB | RAM hnsw MiB | RAM exact matrix MiB | RSS after load MiB |")
    print("|---|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['n']:,} | {r['build_s']:.1f} | {r['save_s']:.1f} | {r['load_s']:.1f} | {r['disk_mb']:.0f} | "
              f"{r['hnsw_ram_mb']:.0f} | {r['store_ram_mb']:.0f} | {r['rss_loaded_mb']:.0f} |")

    print(f"\n## Queries, k={K}, latency ms median / p95, ef={params.ef_search} unless said")
    print("| n | queries | HNSW | recall@100 | exact numpy | 1% filter, auto path | recall | 1% filter, HNSW+callable | recall |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in results:
        for name in ("image", "text", "text_wide"):
            lat, rec = r[f"hnsw_{name}"]
            label = f"text, ef={text_query_ef(r['n'])}" if name == "text_wide" else name
            exact_cell = pct(r[f"exact_{name}"]) if name != "text_wide" else ""
            row = f"| {r['n']:,} | {label} | {pct(lat)} | {rec:.3f} | {exact_cell} |"
            if name == "text":
                fa, fr, fm = r["filter_auto"]
                fh, fhr = r["filter_hnsw"]
                row += f" {pct(fa)} ({fm}) | {fr:.3f} | {pct(fh)} | {fhr:.3f} |"
            else:
                row += " | | | |"
            print(row)
    for r in results:
        print(f"n={r['n']:,}: median best score, text queries {r['best_text_score']:.2f}; "
              f"image queries' nearest other photo {r['best_image_score']:.2f}")
        med, p90, unreached = r["text_spread"]
        print(f"n={r['n']:,}: a text query's exact top {K} spans {med:.0f} clusters (median), {p90:.0f} (p90); "
              f"{unreached:.1%} of what the graph misses at ef={text_query_ef(r['n'])} lies in clusters it never "
              "reached")

    print("\n## ef sweep (recall@100 / p95 ms)")
    print("| n | ef | image recall | image p95 | text recall | text p95 |")
    print("|---|---|---|---|---|---|")
    for r in results:
        for ef in ef_sweep:
            li, ri = r[f"hnsw_image_ef{ef}"]
            lt, rt = r[f"hnsw_text_ef{ef}"]
            print(f"| {r['n']:,} | {ef} | {ri:.3f} | {np.percentile(li, 95):.2f} | {rt:.3f} | {np.percentile(lt, 95):.2f} |")

    print(f"\n## Text-query recall by graph degree M and breadth ef, k={K} (ms median / p95)")
    print(f"current: M={params.M}, text ef={TEXT_QUERY_EF_SMALL} up to {TEXT_QUERY_SMALL_MAX:,} photos, "
          f"{TEXT_QUERY_EF} above; before issue 17: M={PREVIOUS_TEXT_SETTING[0]}, ef={PREVIOUS_TEXT_SETTING[1]}")
    print("| n | M | queries | recall@100 | latency | |")
    print("|---|---|---|---|---|---|")
    for r in results:
        for m, label, lat, rec in sorted(r["text_sweep"], key=lambda row: row[0]):
            note = ""
            if label == f"text, ef={text_query_ef(r['n'])}" and m == params.M:
                note = "current"
            elif label == f"text, ef={PREVIOUS_TEXT_SETTING[1]}" and m == PREVIOUS_TEXT_SETTING[0]:
                note = "before"
            print(f"| {r['n']:,} | {m} | {label} | {rec:.3f} | {pct(lat)} | {note} |")

    print("\n## Exact top-100 latency against size (numpy, ms median / p95)")
    print("| n | exact |")
    print("|---|---|")
    for m, lat in exact_rows:
        print(f"| {m:,} | {pct(lat)} |")

    if sweeps:
        print(f"\n## Filtered search at n={results[-1]['n']:,} by the share the filter keeps (ms median / p95)")
        print("| keeps | ids | exact over subset | image: forced HNSW | image: auto | text: forced HNSW | text: auto "
              f"| text: auto, ef={text_query_ef(results[-1]['n'])} |")
        print("|---|---|---|---|---|---|---|---|")
        for row in sweeps:
            print(f"| {row[0]:.1%} | {row[1]:,} | " + " | ".join(row[2:]) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

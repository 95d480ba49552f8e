"""The desktop app at 100,000 photos: keystroke to grid, cold start, first search, the GUI thread, timeline.

Prints, from one run on one machine:

* the timeline (issue 19): regrouping the grid by month (the sort control
  from name to date taken: listing, month counts, layout, paint) next to a
  re-sort that needs no months (date added to name) as the baseline; and a
  jump to a year with the scrubber, to the photos on screen painted, next to
  one page down in the same grid (what any new screenful costs) as the
  baseline; plus the month layout alone and the catalog's two statements;
* keystroke-to-grid-updated latency (median, p95) while typing real queries
  one character at a time, with the small model shipped with ClipDesk and with
  a randomly initialised ViT-B-32 bundle (the same cost as the real one);
  measured from the key event to the grid's repaint with that query's results;
* cold start with ViT-B-32 active, in fresh processes: launch to the window
  painted, next to a baseline process on the same machine that imports
  PySide6.QtWidgets and paints an empty QMainWindow of the same size (started
  alternately with the app, ``--cold-runs`` times each; medians and their
  ratio), and which heavy modules were already imported at the first paint
  (none should be); then launch to the first search answered, for a query
  typed into the search bar as soon as the window is painted; and the idle
  RSS once the process has settled;
* the GUI thread while ``--index-photos`` new photos are indexed into the
  library (small model, the window showing everything by date): the longest
  gap between two beats of a 5 ms timer in the GUI thread's own CPU time
  (clipdesk.ui.stalls) and in wall time.

The library is generated once and reused (benchmarks/out/gui-<count>/):
<count> catalog rows inserted through the catalog API, each with a clustered
random unit embedding per model (uniform random vectors are the worst case
for HNSW; real photos cluster), and files that are hard links to a few dozen
real JPEGs, so the startup scan finds every photo unchanged and thumbnails
are shared. The ViT-B-32 bundle is built once with models/export_openclip.py.

    .venv/bin/python benchmarks/bench_gui.py [--count 100000] [--keystrokes 120] [--cold-runs 3]
        [--index-photos 1000] [--timeline-only]

``--timeline-only`` measures the timeline alone (no model is exported: no torch needed).

Not part of the test run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "out"
sys.path.insert(0, str(ROOT))

MINI = "clipdesk-mini"
VIT = "ViT-B-32__random"
QUERIES = ("dog on a beach", "red car -night", "sunset over the sea", "birthday cake", "receipts",
           "two people hiking in the mountains", "snow", "a cat on a sofa")
DISTINCT_FILES = 48
#: Typed at the first paint of a cold start. (Not an animal: a search for one
#: also wakes the people guard, issue 21, which has a first use of its own.)
COLD_QUERY = "sunset over the sea"


# -- the generated library -------------------------------------------------------------


def vit_bundle() -> Path:
    dest = OUT / VIT
    if not (dest / "manifest.json").is_file():
        print(f"building {VIT} with models/export_openclip.py (once)...", flush=True)
        subprocess.run([sys.executable, str(ROOT / "models" / "export_openclip.py"), "ViT-B-32", "--random-init",
                        "--seed", "0", "--out", str(dest)], check=True, cwd=ROOT)
    return dest


def clustered_units(n: int, dim: int, seed: int, clusters: int = 400):
    import numpy as np

    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((clusters, dim)).astype(np.float32)
    x = centres[rng.integers(0, clusters, n)] + 0.6 * rng.standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def build_library(count: int):
    """(paths, photo root) of a library with ``count`` photos, made once."""
    import numpy as np
    from PIL import Image

    from clipdesk.core.catalog import Catalog
    from clipdesk.core.imaging import decode
    from clipdesk.core.paths import Paths
    from clipdesk.core.imaging import ThumbnailCache

    base = OUT / f"gui-{count}"
    paths = Paths.under(base / "app")
    root = base / "photos"
    marker = base / "complete.json"
    if marker.is_file():
        return paths, root
    if base.exists():
        shutil.rmtree(base)
    paths.ensure()
    print(f"generating a library of {count:,} photos (once)...", flush=True)
    originals = base / "originals"
    originals.mkdir(parents=True)
    rng = np.random.default_rng(1)
    sources = []
    for i in range(DISTINCT_FILES):
        blocks = rng.integers(0, 256, size=(12, 16, 3), dtype=np.uint8)
        p = originals / f"src{i:02d}.jpg"
        Image.fromarray(blocks).resize((640, 480), Image.Resampling.BICUBIC).save(p, quality=85)
        old = time.time() - 86400 * 30
        os.utime(p, (old, old))
        sources.append((p, decode(p)))
    thumbs = ThumbnailCache(paths.thumbnails_dir)
    for _p, d in sources:
        thumbs.put(d.hash, d.thumbnail)

    models = {MINI: 128, VIT: 512}
    vectors = {m: clustered_units(count, dim, seed=i) for i, (m, dim) in enumerate(models.items())}
    start = time.perf_counter()
    with Catalog(paths.catalog) as cat:
        folder = cat.add_folder(root)
        batch = 5000
        for lo in range(0, count, batch):
            hi = min(count, lo + batch)
            rows = []
            for i in range(lo, hi):
                sub = root / f"{i // 1000:03d}"
                if i % 1000 == 0:
                    sub.mkdir(parents=True, exist_ok=True)
                src, d = sources[i % DISTINCT_FILES]
                dest = sub / f"IMG_{i:06d}.jpg"
                os.link(src, dest)
                rows.append((i, dest, src, d))
            with cat.transaction():
                ids = []
                for i, dest, _src, d in rows:
                    pid = cat.insert_photo(folder.id, os.fsencode(dest), d.size, d.mtime_ns, d.hash)
                    day = 1 + i % 28
                    cat.record_decoded(pid, hash_=d.hash, format_="jpeg", width=d.width, height=d.height,
                                       taken_at=f"{2010 + i % 15}-{1 + i % 12:02d}-{day:02d}T12:00:00",
                                       date_source="exif", camera=("Canon EOS R6", "Pixel 8", None)[i % 3],
                                       size=d.size, mtime_ns=d.mtime_ns)
                    ids.append(pid)
                for model_id, vecs in vectors.items():
                    cat.store_embeddings(model_id, ids, vecs[lo:hi])
            print(f"  {hi:,} rows", end="\r", flush=True)
        cat.set_meta("model", MINI)
    print(f"  {count:,} rows in {time.perf_counter() - start:.0f} s")
    marker.write_text(json.dumps({"count": count}))
    return paths, root


def install_models(paths) -> None:
    paths.models_dir.mkdir(parents=True, exist_ok=True)
    link = paths.models_dir / VIT
    if not link.exists():
        link.symlink_to(vit_bundle(), target_is_directory=True)


def use_model(paths, model_id: str) -> None:
    """Make ``model_id`` active and its index built and saved (not what is measured)."""
    from clipdesk.core.library import Library

    with Library(paths) as lib:
        lib.models.set_model(model_id)
        index = lib.models.index()
        start = time.perf_counter()
        while index.rebuilding:
            time.sleep(0.2)
        if time.perf_counter() - start > 1:
            print(f"  built the {model_id} index in {time.perf_counter() - start:.0f} s", flush=True)
        lib.models.save_index()


# -- keystroke to grid ------------------------------------------------------------------


def keystrokes(paths, model_id: str, limit: int, gap_s: float = 0.12) -> tuple[list[float], list[float]]:
    """Type the queries one key at a time; per key, ms from the key event to the
    grid repainted with that text's results, and the part of it that
    Library.search took on the worker."""
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    from clipdesk.ui.settings import Settings

    app, lib, window = _open_window(paths, Settings(), 120)
    latencies: list[float] = []
    searches: list[float] = []
    typed = 0
    for query in QUERIES:
        window.bar.clear()
        _spin(app, lambda: window.grid_ctl.answer is not None and window.grid_ctl.answer.text == "", 30)
        for ch in query:
            if typed >= limit:
                break
            t0 = time.perf_counter()
            QTest.keyClick(window.bar, ch if ch != " " else Qt.Key.Key_Space)
            want = window.bar.text()
            _spin(app, lambda: window.grid_ctl.answer is not None and window.grid_ctl.answer.text == want
                  and window.search_ctl.delivered == window.search_ctl.generation, 30)
            window.grid.viewport().repaint()
            latencies.append((time.perf_counter() - t0) * 1000)
            searches.append(window.grid_ctl.answer.result.elapsed_ms)
            typed += 1
            rest = gap_s - (time.perf_counter() - t0)
            if rest > 0:
                _pause(app, rest)
    window.close()
    window.shutdown()
    lib.close()
    return latencies, searches


def _open_window(paths, settings, timeout: float):
    """(app, library, window): the app's window at 1280x820 on the library at
    ``paths``, started, with its first answer on screen and search warm."""
    from PySide6.QtWidgets import QApplication

    from clipdesk.core.library import Library
    from clipdesk.ui.mainwindow import MainWindow

    app = QApplication.instance() or QApplication([])
    lib = Library(paths)
    window = MainWindow(lib, settings, paths=paths, start_indexing=False, watch=False)
    window.resize(1280, 820)
    window.show()
    window.start()
    _spin(app, lambda: window.search_ctl.warm and window.grid_ctl.answer is not None, timeout)
    return app, lib, window


def _spin(app, done, timeout: float) -> None:
    deadline = time.perf_counter() + timeout
    while not done():
        if time.perf_counter() > deadline:
            if timeout > 1:
                raise TimeoutError("the app did not answer in time")
            return
        app.processEvents()
        time.sleep(0.0005)


def _pause(app, seconds: float) -> None:
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        app.processEvents()
        time.sleep(0.0005)


# -- the timeline -----------------------------------------------------------------------


def timeline(paths, repeats: int = 9) -> dict:
    """Regrouping by month and jumping to a year, each next to its baseline (ms)."""

    from clipdesk.ui.settings import Settings

    settings = Settings()
    settings.sort_browse = "name"
    app, lib, window = _open_window(paths, settings, 300)
    grid, model, thumbs = window.grid, window.model, window.thumbs

    def painted() -> bool:
        """Every row on screen has its photo and its tile."""
        spec = grid.delegate.last_spec
        rows = grid.visible_rows()
        if not rows or spec is None:
            return False
        photos = [model.photo(r) for r in rows]
        return all(p is not None and thumbs.tile(p, spec) is not None for p in photos)

    def until_painted() -> None:
        _spin(app, painted, 60)
        grid.viewport().repaint()

    def sort_by(sort: str) -> float:
        t0 = time.perf_counter()
        window.sorting.choose(sort)
        _spin(app, lambda: window.grid_ctl.answer is not None and window.grid_ctl.answer.result.sort == sort
              and window.search_ctl.delivered == window.search_ctl.generation, 60)
        until_painted()
        return (time.perf_counter() - t0) * 1000

    regroup, resort = [], []
    for _ in range(repeats):
        sort_by("added")
        resort.append(sort_by("name"))  # baseline: a new order, no months
        regroup.append(sort_by("newest"))  # months: counts, headers, scrubber
    assert grid.grouped and window.grid_area.scrubber.isVisible(), "the grid did not group by month"
    months = window.grid_ctl.answer.result.months
    rows = model.rowCount()

    scrubber = window.grid_area.scrubber
    years = sorted({y for y, _si in scrubber.years()})
    order = [years[(i * 7) % len(years)] for i in range(repeats * 2)]  # far apart, in a fixed order
    jumps, pages = [], []
    bar = grid.verticalScrollBar()
    for year in order:
        t0 = time.perf_counter()
        scrubber.jump_to_year(year)
        until_painted()
        jumps.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        bar.setValue(min(bar.maximum(), bar.value() + bar.pageStep()))  # baseline: one page down
        until_painted()
        pages.append((time.perf_counter() - t0) * 1000)

    layout = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        grid.set_sections(None)
        grid.set_sections(months)
        layout.append((time.perf_counter() - t0) * 1000)

    from clipdesk.core.query import parse_query

    q = parse_query("sort:newest")
    sql_ids, sql_months = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        lib.search.listing(q)
        sql_ids.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        lib.search.month_counts(q)
        sql_months.append((time.perf_counter() - t0) * 1000)
    window.close()
    window.shutdown()
    lib.close()
    return {
        "rows": rows, "months": len(months), "years": len(years),
        "regroup_median_ms": statistics.median(regroup), "regroup_p95_ms": pct(regroup, 95),
        "resort_median_ms": statistics.median(resort), "resort_p95_ms": pct(resort, 95),
        "jump_median_ms": statistics.median(jumps), "jump_p95_ms": pct(jumps, 95),
        "page_median_ms": statistics.median(pages), "page_p95_ms": pct(pages, 95),
        "layout_median_ms": statistics.median(layout),
        "listing_median_ms": statistics.median(sql_ids), "month_counts_median_ms": statistics.median(sql_months),
    }


def print_timeline(t: dict) -> None:
    print(f"timeline at {t['rows']:,} photos ({t['months']} months, {t['years']} years):")
    print(f"  regroup by month (sort name -> date taken, to the grid painted): median {t['regroup_median_ms']:.0f} ms, "
          f"p95 {t['regroup_p95_ms']:.0f} ms; baseline re-sort without months (date added -> name): "
          f"median {t['resort_median_ms']:.0f} ms, p95 {t['resort_p95_ms']:.0f} ms")
    print(f"  scroll to a year (scrubber, to the photos on screen painted): median {t['jump_median_ms']:.0f} ms, "
          f"p95 {t['jump_p95_ms']:.0f} ms; baseline one page down: median {t['page_median_ms']:.0f} ms, "
          f"p95 {t['page_p95_ms']:.0f} ms")
    print(f"  month layout alone (ungroup + group {t['months']} months): median {t['layout_median_ms']:.2f} ms; "
          f"catalog: listing {t['listing_median_ms']:.0f} ms, month counts {t['month_counts_median_ms']:.0f} ms",
          flush=True)


# -- cold start in a fresh process ------------------------------------------------------


def _fresh_process(paths, mode: str) -> dict:
    env = {**os.environ, "CLIPDESK_DATA_DIR": str(paths.data_dir), "CLIPDESK_CACHE_DIR": str(paths.cache_dir)}
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    launched = time.time()
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "gui_start.py"), mode, repr(launched),
                           COLD_QUERY], capture_output=True, text=True, env=env, cwd=ROOT, timeout=900)
    for line in proc.stdout.splitlines():
        if line.startswith("BENCH "):
            return json.loads(line[6:])
    raise RuntimeError(f"the measured process failed:\n{proc.stderr[-3000:]}")


def cold_start(paths, runs: int) -> tuple[list[dict], list[dict]]:
    """``runs`` starts of the app, each after a start of the baseline (interleaved,
    so that both see the same machine): the app's marks, the baseline's.

    ClipDesk's modules are compiled to bytecode first, as an installed app's
    are (pip and the installers compile them; PySide6's own already are):
    with PYTHONDONTWRITEBYTECODE set, as on the project's machines, every
    start would otherwise compile ours from source (20-30 ms) and the
    baseline's not at all."""
    import compileall

    compileall.compile_dir(ROOT / "clipdesk", quiet=1)
    apps, baselines = [], []
    for _ in range(runs):
        baselines.append(_fresh_process(paths, "baseline"))
        apps.append(_fresh_process(paths, "app"))
    return apps, baselines


# -- the GUI thread while photos are indexed ---------------------------------------------


def indexing_gaps(paths, root: Path, count: int = 1000) -> dict:
    """Index ``count`` new photos into the library with the window open on all
    of it by date (the demo model); the GUI thread's longest gap between two
    beats of a 5 ms timer, in its own CPU time and in wall time. The photos'
    folder is taken out of the library again afterwards."""
    import numpy as np
    from PIL import Image

    from clipdesk.ui.settings import Settings
    from clipdesk.ui.stalls import StallMeter

    folder = root.parent / f"new-{count}"
    if not folder.is_dir():
        folder.mkdir(parents=True)
        rng = np.random.default_rng(7)
        for i in range(count):
            blocks = rng.integers(0, 256, size=(12, 16, 3), dtype=np.uint8)
            Image.fromarray(blocks).resize((640, 480), Image.Resampling.BICUBIC).save(folder / f"new{i:04d}.jpg",
                                                                                      quality=85)
    app, lib, window = _open_window(paths, Settings(), 120)
    meter = StallMeter(window)
    finished: list = []
    window.index.finished.connect(finished.append)
    start = time.perf_counter()
    meter.start()
    try:
        window.library_ctl.add_folders([str(folder)])
        _spin(app, lambda: bool(finished), 900)
        _spin(app, lambda: not window.search_ctl.busy and window.thumbs.idle, 60)
        _pause(app, 2.5)  # the refresh announced after the run
        meter.stop()
        elapsed = time.perf_counter() - start
    finally:
        window.close()
        window.shutdown()
        lib.folders.remove(folder)
        lib.close()
    cpu = sorted(c for _w, c in meter.gaps)
    return {"indexed": finished[0].indexed, "seconds": elapsed, "beats": len(meter.gaps),
            "worst_cpu_ms": cpu[-1] * 1000, "p99_cpu_ms": pct(cpu, 99) * 1000, "worst_wall_ms": meter.worst_wall * 1000}


# -- main -----------------------------------------------------------------------------


def pct(values: list[float], q: float) -> float:
    import numpy as np

    return float(np.percentile(values, q)) if values else float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--keystrokes", type=int, default=120, help="keys typed per model")
    parser.add_argument("--cold-runs", type=int, default=3, help="starts of the app (and of the baseline)")
    parser.add_argument("--index-photos", type=int, default=1000, help="photos indexed while the GUI is watched")
    parser.add_argument("--timeline-only", action="store_true", help="measure the timeline alone (no torch needed)")
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    paths, root = build_library(args.count)
    results: dict = {"count": args.count, "cpus": os.cpu_count(), "load": os.getloadavg()[0]}
    results["timeline"] = timeline(paths)
    print_timeline(results["timeline"])
    if args.timeline_only:
        dest = OUT / "bench_gui_timeline.json"
        dest.write_text(json.dumps(results, indent=2))
        print(f"load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; results in {dest}")
        return 0
    install_models(paths)
    for model_id in (MINI, VIT):
        print(f"{model_id}:", flush=True)
        use_model(paths, model_id)
        lat, work = keystrokes(paths, model_id, args.keystrokes)
        results[model_id] = {
            "keystroke_median_ms": statistics.median(lat), "keystroke_p95_ms": pct(lat, 95),
            "keystroke_max_ms": max(lat), "keys": len(lat),
            "search_median_ms": statistics.median(work), "search_p95_ms": pct(work, 95),
        }
        r = results[model_id]
        print(f"  keystroke to grid: median {r['keystroke_median_ms']:.0f} ms, p95 {r['keystroke_p95_ms']:.0f} ms "
              f"({r['keys']} keys); of which Library.search: median {r['search_median_ms']:.0f} ms, "
              f"p95 {r['search_p95_ms']:.0f} ms", flush=True)

    # Cold start with ViT-B-32 active (the first search needs its text tower and index).
    apps, baselines = cold_start(paths, args.cold_runs)
    painted = statistics.median(a["painted"] for a in apps)
    base = statistics.median(b["painted"] for b in baselines)
    first = statistics.median(a["first_search"] for a in apps)
    results["cold"] = {"runs": apps, "baseline_runs": baselines, "painted_median": painted,
                       "baseline_median": base, "ratio": painted / base, "first_search_median": first}
    print(f"cold start ({args.cold_runs} runs each, {VIT} active, {args.count:,} photos):")
    def each(values) -> str:
        return ", ".join(f"{v:.2f}" for v in values)

    cpu, base_cpu = statistics.median(a["painted_cpu"] for a in apps), statistics.median(b["painted_cpu"]
                                                                                          for b in baselines)
    heavy = apps[0]["loaded_before_paint"]
    print(f"  window painted: median {painted:.2f} s ({each(a['painted'] for a in apps)}); baseline (import "
          f"PySide6.QtWidgets + an empty painted QMainWindow): median {base:.2f} s "
          f"({each(b['painted'] for b in baselines)}); "
          f"ratio {painted / base:.2f}x")
    print(f"  CPU time of the process to the first paint (what a busy machine does not inflate): median "
          f"{cpu:.2f} s, baseline {base_cpu:.2f} s, ratio {cpu / base_cpu:.2f}x")
    print(f"  library open {statistics.median(a['library_open'] for a in apps):.2f} s; first search "
          f"(\u201c{COLD_QUERY}\u201d typed at the first paint) answered: median {first:.2f} s "
          f"({each(a['first_search'] for a in apps)}); idle RSS {statistics.median(a['idle_rss_mb'] for a in apps):.0f} MB")
    print("  imported before the first paint: " + (", ".join(heavy) if heavy else
          "none of numpy, PIL, sqlite3, onnxruntime, hnswlib, tokenizers, clipdesk.core.library"), flush=True)

    use_model(paths, MINI)
    gaps = indexing_gaps(paths, root, args.index_photos)
    results["indexing"] = gaps
    print(f"GUI thread while {gaps['indexed']:,} photos are indexed into the {args.count:,} ({MINI}, "
          f"{gaps['seconds']:.0f} s, {gaps['beats']} beats of a 5 ms timer): worst gap {gaps['worst_cpu_ms']:.0f} ms "
          f"of its own CPU (p99 {gaps['p99_cpu_ms']:.1f} ms), {gaps['worst_wall_ms']:.0f} ms of wall time")
    dest = OUT / "bench_gui.json"
    dest.write_text(json.dumps(results, indent=2))
    print(f"load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; results in {dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

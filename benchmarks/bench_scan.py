"""Scan + thumbnail throughput on a folder of generated 12-MP JPEGs.

Prints, from one run on one machine:
* end-to-end indexing (walk, hash, decode, thumbnail, catalog) in photos/s;
* per-photo decode time of ClipDesk's path (one read, JPEG draft mode, EXIF
  orientation, thumbnail) next to a plain full-decode baseline (Image.open +
  load + exif_transpose + thumbnail) on the same files;
* the peak RSS of the indexing process.

    .venv/bin/python benchmarks/bench_scan.py [--count 1000] [--workers N]

The generated photos are kept in benchmarks/out/photos-12mp-<count> and reused.
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

W, H = 4000, 3000


def _photo(i: int) -> bytes:
    """A photo-like 12-MP JPEG: smooth gradients, shapes, a little sensor noise."""
    rng = np.random.default_rng(i)
    w, h = W // 8, H // 8
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    img = np.empty((h, w, 3), np.float32)
    base = rng.uniform(40, 200, size=3)
    for c in range(3):
        fx, fy = rng.uniform(0.5, 4, size=2)
        img[..., c] = base[c] + 60 * np.sin(x / w * fx * np.pi + c) * np.cos(y / h * fy * np.pi)
    for _ in range(6):
        cx, cy, r = rng.integers(0, w), rng.integers(0, h), rng.integers(10, 120)
        img[(x - cx) ** 2 + (y - cy) ** 2 < r * r] = rng.uniform(0, 255, size=3)
    small = Image.fromarray(np.clip(img, 0, 255).astype(np.uint8))
    big = np.asarray(small.resize((W, H), Image.Resampling.BICUBIC), dtype=np.int16)
    big = big + rng.integers(-6, 7, size=(H, W, 1), dtype=np.int16)
    out = Image.fromarray(np.clip(big, 0, 255).astype(np.uint8))
    exif = Image.Exif()
    exif[0x0112] = int(rng.choice([1, 1, 1, 6, 8, 3]))
    exif[0x010F], exif[0x0110] = "BenchCam", "BenchCam 12"
    exif.get_ifd(0x8769)[0x9003] = f"2024:0{1 + i % 9}:1{i % 10} 12:00:00"
    buf = io.BytesIO()
    out.save(buf, "JPEG", quality=90, exif=exif.tobytes())
    return buf.getvalue()


def _write(args: tuple[int, str]) -> None:
    i, folder = args
    path = Path(folder) / f"IMG_{i:05d}.jpg"
    if not path.exists():
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(_photo(i))
        tmp.rename(path)
        t = time.time() - 3600
        os.utime(path, (t, t))


def make_folder(count: int, workers: int) -> Path:
    folder = ROOT / "benchmarks" / "out" / f"photos-12mp-{count}"
    folder.mkdir(parents=True, exist_ok=True)
    missing = [i for i in range(count) if not (folder / f"IMG_{i:05d}.jpg").exists()]
    if missing:
        print(f"generating {len(missing)} 12-MP JPEGs in {folder} ...", flush=True)
        with ProcessPoolExecutor(workers) as pool:
            list(pool.map(_write, [(i, str(folder)) for i in missing], chunksize=4))
    return folder


def baseline_decode(path: Path) -> None:
    """What a straightforward implementation does: full decode, then shrink."""
    with Image.open(path) as img:
        img.load()
        img = ImageOps.exif_transpose(img).convert("RGB")
        img.thumbnail((320, 320), Image.Resampling.BICUBIC)
        img.save(io.BytesIO(), "JPEG", quality=85)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--sample", type=int, default=40, help="photos timed one by one for the decode comparison")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    args = ap.parse_args()

    folder = make_folder(args.count, args.workers)
    files = sorted(folder.glob("*.jpg"))[: args.count]
    total_bytes = sum(f.stat().st_size for f in files)

    from clipdesk.core.imaging import decode
    from clipdesk.core.library import Library
    from clipdesk.core.paths import Paths

    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with tempfile.TemporaryDirectory() as tmp:
        with Library(Paths.under(Path(tmp))) as lib:
            lib.folders.add(folder)
            t = time.perf_counter()
            result = lib.folders.index(embed=False)
            elapsed = time.perf_counter() - t
            thumbs = sum(1 for _ in Path(tmp, "cache", "thumbnails").rglob("*.jpg"))
            thumb_bytes = sum(p.stat().st_size for p in Path(tmp, "cache", "thumbnails").rglob("*.jpg"))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    sample = files[: args.sample]
    for f in sample:  # warm the page cache for both contenders alike
        f.read_bytes()
    ours, base = [], []
    for f in sample:
        t = time.perf_counter()
        decode(f)
        ours.append(time.perf_counter() - t)
        t = time.perf_counter()
        baseline_decode(f)
        base.append(time.perf_counter() - t)


    med_ours, med_base = statistics.median(ours), statistics.median(base)
    print()
    print(f"photos: {len(files)} generated 12-MP JPEGs ({W}x{H}), {total_bytes / 1e6:.0f} MB")
    print(f"machine: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    print(f"indexing (scan + hash + decode + thumbnail + catalog, no model): {elapsed:.1f} s, "
          f"{len(files) / elapsed:.1f} photos/s, {result.indexed} indexed, {result.failed} failed")
    print(f"thumbnails: {thumbs} files, {thumb_bytes / max(thumbs, 1) / 1e3:.1f} kB each")
    print(f"per-photo decode, median of {len(sample)} (single thread):")
    print(f"  clipdesk (draft mode + thumbnail):   {med_ours * 1e3:7.1f} ms")
    print(f"  baseline (full decode + thumbnail):  {med_base * 1e3:7.1f} ms")
    print(f"  speed-up: {med_base / med_ours:.1f}x")
    print(f"peak RSS while indexing: {peak / 1024:.0f} MB (before: {rss_before / 1024:.0f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Helpers for tests: real photo files, the real CLI in a subprocess."""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]


def photo_array(w: int, h: int, seed: int = 0) -> np.ndarray:
    """A photo-like image: smooth gradients and a few shapes, not noise."""
    if w * h > 1_000_000:  # draw small, scale up: fast, and still photo-like
        small = photo_array(max(1, w // 8), max(1, h // 8), seed)
        return np.asarray(Image.fromarray(small).resize((w, h), Image.Resampling.BILINEAR))
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    base = rng.uniform(40, 200, size=3).astype(np.float32)
    img = np.empty((h, w, 3), np.float32)
    for c in range(3):
        fx, fy = rng.uniform(0.5, 3, size=2)
        img[..., c] = base[c] + 50 * np.sin(x / w * fx * np.pi) * np.cos(y / h * fy * np.pi)
    for _ in range(3):
        cx, cy = rng.integers(0, w), rng.integers(0, h)
        r = rng.integers(min(w, h) // 10 + 1, min(w, h) // 4 + 2)
        mask = (x - cx) ** 2 + (y - cy) ** 2 < r * r
        img[mask] = rng.uniform(0, 255, size=3)
    return np.clip(img, 0, 255).astype(np.uint8)


def make_photo(
    path: Path | str | bytes,
    size: tuple[int, int] = (640, 480),
    *,
    seed: int = 0,
    fmt: str = "JPEG",
    orientation: int | None = None,
    taken: str | None = None,
    make: str | None = None,
    model: str | None = None,
    quality: int = 85,
    array: np.ndarray | None = None,
) -> bytes:
    """Write a real image file and return its bytes."""
    img = Image.fromarray(array if array is not None else photo_array(*size, seed=seed))
    exif = Image.Exif()
    if orientation is not None:
        exif[0x0112] = orientation
    if make:
        exif[0x010F] = make
    if model:
        exif[0x0110] = model
    if taken:
        exif.get_ifd(0x8769)[0x9003] = taken
    buf = io.BytesIO()
    kwargs = {}
    if fmt == "JPEG":
        kwargs["quality"] = quality
    if fmt in ("JPEG", "PNG", "WEBP", "TIFF") and (len(exif) or taken):  # a date alone lives in the Exif IFD
        kwargs["exif"] = exif.tobytes()
    img.save(buf, fmt, **kwargs)
    data = buf.getvalue()
    p = os.fsencode(path)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "wb") as f:
        f.write(data)
    return data


def hit_names(result) -> list[str]:
    """File names of a search result's photos, best first."""
    return [os.path.basename(h.photo.path) for h in result.hits]


def age(path: Path | str | bytes, seconds: float = 3600) -> None:
    """Make a file look settled (not being written right now)."""
    st = os.stat(path)
    t = st.st_mtime - seconds
    os.utime(path, (t, t))


def run_cli(*args: str, env: dict | None = None, timeout: float = 120):
    """Run the real `clipdesk` command in a subprocess."""
    import subprocess

    return subprocess.run(
        [sys.executable, "-m", "clipdesk", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=timeout,
        cwd=REPO,
    )


def run_with_small_disks(script: str, mounts: dict, tmp_path, timeout: float = 120):
    """Run ``script`` (Python source) in a private mount namespace where each
    folder in ``mounts`` is a fresh tmpfs with those mount options (for
    example ``"size=200k"`` for a nearly full disk, ``"size=1m,ro"`` for a
    read-only one): real full and read-only file systems, without root on the
    host. Skips the test where unprivileged namespaces are not available.
    Returns the CompletedProcess."""
    import subprocess

    import pytest

    probe = subprocess.run(["unshare", "-Urm", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"unprivileged mount namespaces are not available: {probe.stderr.decode().strip()}")
    path = Path(tmp_path) / "small-disk-script.py"
    path.write_text(script)
    steps = []
    for folder, options in mounts.items():
        opts = [o for o in options.split(",") if o != "ro"]
        steps.append(f"mount -t tmpfs -o {','.join(opts) or 'size=1m'} tmpfs '{folder}'")
        if "ro" in options.split(","):
            steps.append(f"mount -o remount,ro '{folder}'")
    steps.append(f"exec {sys.executable} '{path}'")
    return subprocess.run(["unshare", "-Urm", "sh", "-c", " && ".join(steps)],
                          capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "tests")])})

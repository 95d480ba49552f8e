"""Live updates: watch the library's roots and ask for a reconcile when they change.

watchdog gives one API over inotify, FSEvents and ReadDirectoryChangesW. Events
are only hints: they mark the library dirty, and after a quiet period
(debounce) the owner runs the normal incremental reconcile, which is cheap for
unchanged files and is the one place that decides what changed. That keeps one
code path for "what is on disk" whether the news came from the OS, from a
periodic rescan or from start-up.

When the OS refuses more watches (Linux ``max_user_watches``), or a root lives
on a file system that does not report changes, the watcher falls back to
periodic rescans and says so in :attr:`Watcher.mode` / :attr:`Watcher.reason`.
Give the watcher every root, offline ones included: roots that are offline
(missing, unreadable, or an empty mount point) are polled, so a drive that
comes back, or one that is unplugged, is noticed and reconciled on its own.
"""

from __future__ import annotations

import errno
import logging
import os
import threading
import time
from typing import Callable

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from clipdesk.core.photofiles import Kind, classify

log = logging.getLogger(__name__)


class _Handler(FileSystemEventHandler):
    def __init__(self, watcher: "Watcher"):
        self.watcher = watcher

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in ("opened", "closed_no_write"):
            return
        if event.is_directory and event.event_type == "modified":
            return  # a file inside changed: that file's own event tells whether it matters
        paths = [event.src_path, getattr(event, "dest_path", "") or ""]
        if any(_relevant(p, event.is_directory) for p in paths if p):
            self.watcher.mark_dirty()


def _relevant(path: str | bytes, is_dir: bool) -> bool:
    name = os.path.basename(os.fsencode(path))
    if is_dir:
        return not name.startswith(b".")
    return classify(name) is not Kind.NOT_PHOTO


def looks_offline(root: str | bytes) -> bool:
    """A root that is not there, cannot be read, or is empty (an unmounted
    drive or share leaves its empty mount point behind) is offline."""
    try:
        with os.scandir(root) as it:
            return next(it, None) is None
    except OSError:
        return True


class Watcher:
    """Calls ``on_change()`` (from its own thread) when the roots need a reconcile.

    ``debounce_s``: quiet time after the last event before reconciling;
    ``max_delay_s``: reconcile at the latest this long after the first event of
    a burst, even if events keep coming (a long copy); ``poll_s``: the period of
    the fallback rescan and of the check for offline roots coming back.
    """

    def __init__(
        self,
        roots: list[str],
        on_change: Callable[[], None],
        *,
        debounce_s: float = 1.0,
        max_delay_s: float = 10.0,
        poll_s: float = 300.0,
        offline_poll_s: float = 15.0,
        is_offline: Callable[[str], bool] | None = None,
    ):
        self.roots = list(roots)
        self.on_change = on_change
        self.debounce_s = debounce_s
        self.max_delay_s = max_delay_s
        self.poll_s = poll_s
        self.offline_poll_s = offline_poll_s
        self.is_offline = is_offline or looks_offline
        self.mode = "stopped"  # watching | polling | stopped
        self.reason: str | None = None
        self._observer = None
        self._dirty_since: float | None = None
        self._last_event = 0.0
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._unwatched: set[str] = set()

    def start(self) -> None:
        self._stop.clear()
        self._start_observer()
        self._thread = threading.Thread(target=self._loop, name="clipdesk-watch", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._observer is not None:
            try:
                self._observer.stop()
                self._observer.join(timeout=5)
            except Exception:  # noqa: BLE001
                log.debug("observer stop failed", exc_info=True)
            self._observer = None
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.mode = "stopped"

    def mark_dirty(self) -> None:
        with self._lock:
            now = time.monotonic()
            self._last_event = now
            if self._dirty_since is None:
                self._dirty_since = now
        self._wake.set()

    def _start_observer(self) -> None:
        observer = Observer()
        handler = _Handler(self)
        before = _inotify_watches()
        #: Roots that could not be watched (not there): a restart watches them.
        self._unwatched = {r for r in self.roots if not os.path.isdir(r)}
        try:
            for root in self.roots:
                if root not in self._unwatched:
                    observer.schedule(handler, root, recursive=True)
            observer.start()
        except OSError as exc:
            self._fallback(observer, exc)
            return
        self._observer = observer
        self.mode = "watching"
        self.reason = None
        # watchdog quietly skips subfolders the kernel refuses to watch, so on
        # Linux count what the kernel actually watches for this process (watchdog
        # shares one inotify descriptor between observers: count the growth).
        if before is not None:
            needed = sum(_count_dirs(r) for r in self.roots if os.path.isdir(r))
            watched, last, stable_since = 0, -1, time.monotonic()
            deadline = time.monotonic() + 3.0
            while time.monotonic() < deadline:  # watches may be added by the emitter thread
                watched = (_inotify_watches() or 0) - before
                if watched >= needed:
                    break
                if watched != last:
                    last, stable_since = watched, time.monotonic()
                elif time.monotonic() - stable_since > 0.5:
                    break
                time.sleep(0.05)
            if watched < needed:
                log.info("kernel watches %d of %d folders", watched, needed)
                self._fallback(observer, OSError(errno.ENOSPC, "inotify watch limit reached"))

    def _fallback(self, observer, exc: OSError) -> None:
        self._observer = None
        try:
            observer.stop()
        except Exception:  # noqa: BLE001
            pass
        if exc.errno in (errno.ENOSPC, errno.EMFILE):
            self.reason = (
                "the system refused more file watches (on Linux raise "
                "fs.inotify.max_user_watches); checking for changes every "
                f"{self.poll_s:.0f} s instead"
            )
        else:
            self.reason = f"file watching is unavailable ({exc.strerror or exc}); checking every {self.poll_s:.0f} s"
        log.warning("%s", self.reason)
        self._observer = None
        self.mode = "polling"

    def _loop(self) -> None:
        last_poll = time.monotonic()
        last_offline_check = time.monotonic()
        offline = {r for r in self.roots if self.is_offline(r)}
        while not self._stop.is_set():
            self._wake.wait(timeout=0.25)
            self._wake.clear()
            if self._stop.is_set():
                return
            now = time.monotonic()
            fire = False
            with self._lock:
                if self._dirty_since is not None and (
                    now - self._last_event >= self.debounce_s
                    or now - self._dirty_since >= self.max_delay_s
                ):
                    self._dirty_since = None
                    fire = True
            if self.mode == "polling" and now - last_poll >= self.poll_s:
                fire = True
            if now - last_offline_check >= self.offline_poll_s:
                last_offline_check = now
                now_offline = {r for r in self.roots if self.is_offline(r)}
                if now_offline != offline:
                    fire = True
                    came_back = offline - now_offline
                    offline = now_offline
                    # A root that was there all along (an emptied mount point)
                    # is still watched; one that was missing must be added.
                    if came_back & self._unwatched and self.mode == "watching":
                        self._restart_observer()
            if fire:
                last_poll = now
                try:
                    self.on_change()
                except Exception:  # noqa: BLE001 - keep watching whatever happened
                    log.exception("reconcile after a change failed")

    def _restart_observer(self) -> None:
        if self._observer is not None:
            try:
                self._observer.stop()
                self._observer.join(timeout=5)
            except Exception:  # noqa: BLE001
                pass
        self._start_observer()


def _inotify_watches() -> int | None:
    """How many inotify watches this process holds (Linux), else None."""
    try:
        names = os.listdir("/proc/self/fd")
    except OSError:
        return None
    total = 0
    for name in names:
        try:
            if os.readlink(f"/proc/self/fd/{name}") != "anon_inode:inotify":
                continue
            with open(f"/proc/self/fdinfo/{name}") as f:
                total += sum(1 for line in f if line.startswith("inotify wd:"))
        except OSError:
            continue
    return total


def _count_dirs(root: str) -> int:
    n = 1
    for _dirpath, dirnames, _files in os.walk(root):
        n += len(dirnames)
    return n

"""Walk library folders and bring the catalog in line with what is on disk.

The walk is incremental: a file whose size and mtime match the catalog is not
opened at all. A changed mtime with the same size is confirmed by hashing
before anything is redone. Files that disappeared and files that appeared are
matched by content hash, so a move or rename keeps the photo's id, tags and
embeddings. Paths stay ``bytes`` from ``os.scandir`` to the catalog, so names
that are not valid UTF-8 are never mangled.

Safety rules, because the catalog holds the user's work:

* a root that is missing or unreadable (an unplugged drive) goes *offline*:
  its photos are kept, marked offline, and come back when the root does;
* a root that is suddenly empty (an unmounted share leaves an empty mount
  point) loses only the photos that turn up elsewhere in the library; if any
  are left unaccounted for, it goes offline instead of forgetting them;
* photos below a directory that could not be listed are never treated as
  deleted;
* a file modified in the last ``settle_s`` seconds is left for a later pass
  (it is probably still being copied).
"""

from __future__ import annotations

import logging
import os
import stat
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Callable, Iterator

from clipdesk.core.catalog import Catalog, Folder
from clipdesk.core.names import display_path, encode_path, is_under
from clipdesk.core.imaging import IMAGE_EXTENSIONS, hash_file, looks_like_image

log = logging.getLogger(__name__)

#: Extensions that are never photos: no need to sniff their content.
NOT_IMAGES = frozenset(
    (".xmp .json .txt .md .pdf .doc .docx .xls .xlsx .zip .7z .rar .gz .tar .mp4 .mov "
     ".avi .mkv .m4v .mts .wav .mp3 .m4a .aac .flac .ogg .db .ini .lnk .exe .dll .so .py "
     ".html .htm .css .js .xml .csv .log .thm .aae .lrcat .lrdata .pp3 .dop .on1").split()
)

#: Folders that hold other tools' caches and trash, never photos to index.
SKIP_DIRS = frozenset(
    {b"@eaDir", b"$RECYCLE.BIN", b"System Volume Information", b"lost+found", b"#recycle",
     b"__pycache__", b"node_modules"}
)

_HIDDEN_ATTR = getattr(stat, "FILE_ATTRIBUTE_HIDDEN", 0x2)


@dataclass
class ScanReport:
    roots: int = 0
    offline_roots: list[str] = field(default_factory=list)
    seen: int = 0
    added: int = 0
    changed: int = 0
    moved: int = 0
    removed: int = 0
    unchanged: int = 0
    deferred: list[bytes] = field(default_factory=list)
    removed_ids: list[int] = field(default_factory=list)
    changed_ids: list[int] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)
    emptied: bool = False

    def merge(self, other: "ScanReport") -> None:
        for name in ("roots", "seen", "added", "changed", "moved", "removed", "unchanged"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for name in ("offline_roots", "deferred", "removed_ids", "changed_ids", "errors"):
            getattr(self, name).extend(getattr(other, name))


def is_candidate(name: bytes, path: bytes) -> bool:
    """Is this file worth opening? Known image extensions are; known other
    formats are not; anything else is decided by its first bytes."""
    ext = os.path.splitext(name)[1].lower().decode("ascii", "replace")
    if ext in IMAGE_EXTENSIONS:
        return True
    if ext in NOT_IMAGES:
        return False
    try:
        with open(path, "rb") as f:
            return looks_like_image(f.read(16))
    except OSError:
        return False


def _hidden(entry: os.DirEntry) -> bool:
    if entry.name.startswith(b"."):
        return True
    if os.name == "nt":
        try:
            return bool(entry.stat(follow_symlinks=False).st_file_attributes & _HIDDEN_ATTR)
        except (OSError, AttributeError):
            return False
    return False


def walk(
    root: bytes,
    excluded: list[bytes],
    on_error: Callable[[bytes, OSError], None],
) -> Iterator[tuple[bytes, os.stat_result]]:
    """Yield (path, stat) of candidate photo files below ``root``.

    Symlinked directories are followed once each: every directory is keyed by
    (device, inode), which also ends symlink loops.
    """
    try:
        st = os.stat(root)
    except OSError as exc:
        on_error(root, exc)
        return
    seen_dirs = {(st.st_dev, st.st_ino)}
    stack = [root]
    while stack:
        directory = stack.pop()
        try:
            it = os.scandir(directory)
        except OSError as exc:
            on_error(directory, exc)
            continue
        with it:
            subdirs = []
            while True:
                try:
                    entry = next(it)
                except StopIteration:
                    break
                except OSError as exc:  # the directory vanished while listed
                    on_error(directory, exc)
                    break
                if _hidden(entry):
                    continue
                path = entry.path
                try:
                    if entry.is_dir(follow_symlinks=True):
                        if entry.name in SKIP_DIRS or any(is_under(path, x) for x in excluded):
                            continue
                        dst = entry.stat(follow_symlinks=True)
                        key = (dst.st_dev, dst.st_ino)
                        if key in seen_dirs:
                            log.info("skipping %s: already walked (symlink loop or alias)",
                                     display_path(path))
                            continue
                        seen_dirs.add(key)
                        subdirs.append(path)
                    elif entry.is_file(follow_symlinks=True):
                        if not is_candidate(entry.name, path):
                            continue
                        yield path, entry.stat(follow_symlinks=True)
                except FileNotFoundError:
                    continue  # vanished between listing and stat; the diff treats it as gone
                except OSError as exc:
                    on_error(path, exc)
            stack.extend(sorted(subdirs, reverse=True))


class Scanner:
    """Reconciles the catalog with the library's roots."""

    def __init__(self, catalog: Catalog, *, settle_s: float = 2.0, batch: int = 500):
        self.catalog = catalog
        self.settle_s = settle_s
        self.batch = batch

    def reconcile(
        self,
        roots: list[Folder] | None = None,
        *,
        on_file: Callable[[int, bytes], None] | None = None,
        should_stop: Callable[[], bool] = lambda: False,
    ) -> ScanReport:
        """Walk every root (all of them by default) and update the catalog.

        Moves are matched across all the roots walked in this call.
        """
        cat = self.catalog
        roots = cat.roots() if roots is None else roots
        excluded = cat.exclusions()
        report = ScanReport()
        new: list[tuple[int, bytes, os.stat_result]] = []
        missing: dict[int, tuple[bytes, int, str | None]] = {}
        emptied: dict[int, Folder] = {}
        for folder in roots:
            if should_stop():
                break
            r, folder_new, folder_missing = self._scan_root(folder, excluded, on_file, should_stop)
            report.merge(r)
            new.extend(folder_new)
            missing.update(folder_missing)
            if r.emptied:
                emptied[folder.id] = folder
        if should_stop():
            return report
        self._apply(new, missing, report, emptied)
        return report

    def _scan_root(self, folder, excluded, on_file, should_stop):
        cat = self.catalog
        report = ScanReport(roots=1)
        root = encode_path(folder.path)
        # A root nested inside this one is walked on its own.
        excluded = excluded + [
            encode_path(f.path) for f in cat.roots()
            if f.id != folder.id and is_under(encode_path(f.path), root)
            and encode_path(f.path) != root
        ]
        unreadable: list[bytes] = []
        root_error: list[str] = []

        def on_error(path: bytes, exc: OSError) -> None:
            reason = exc.strerror or str(exc)
            if path == root:
                root_error.append(reason)
            else:
                unreadable.append(path)
                report.errors.append((display_path(path), reason))
                log.warning("cannot read %s: %s", display_path(path), reason)

        known = cat.known_files(folder.id)
        if not os.path.isdir(root):
            self._offline(folder, "the folder is not there (drive unplugged or share unmounted?)", report)
            return report, [], {}
        try:
            with os.scandir(root) as it:
                empty = next(it, None) is None
        except OSError as exc:
            self._offline(folder, f"the folder cannot be read: {exc.strerror or exc}", report)
            return report, [], {}
        report.emptied = bool(empty and known)
        if folder.state != "online":
            cat.set_folder_state(folder.id, "online")
            known = cat.known_files(folder.id)

        now = time.time()
        seen: set[bytes] = set()
        new: list[tuple[int, bytes, os.stat_result]] = []
        touched: list[tuple[int, int]] = []
        changed: list[tuple[int, int, int, str | None]] = []
        for path, st in walk(root, excluded, on_error):
            if should_stop():
                return report, [], {}
            seen.add(path)
            report.seen += 1
            if on_file:
                on_file(report.seen, path)
            age = now - st.st_mtime
            recent = 0 <= age < self.settle_s
            entry = known.get(path)
            if entry is None:
                if recent:
                    report.deferred.append(path)
                else:
                    new.append((folder.id, path, st))
                continue
            pid, size, mtime_ns, digest, _status = entry
            if size == st.st_size and mtime_ns == st.st_mtime_ns:
                report.unchanged += 1
                continue
            if recent:
                report.deferred.append(path)
                continue
            new_digest = None
            if size == st.st_size and digest:
                try:
                    new_digest = hash_file(path)
                except OSError:
                    continue
                if new_digest == digest:
                    touched.append((st.st_mtime_ns, pid))
                    report.unchanged += 1
                    continue
            changed.append((pid, st.st_size, st.st_mtime_ns, new_digest))

        if root_error or not os.path.isdir(root):
            reason = root_error[0] if root_error else "the folder disappeared during the scan"
            self._offline(folder, f"{reason}; its photos are kept", report)
            return report, [], {}

        missing = {
            pid: (path, size, digest)
            for path, (pid, size, _m, digest, _s) in known.items()
            if path not in seen and not any(is_under(path, d) for d in unreadable)
        }
        with cat.transaction():
            cat.touch_mtimes(touched)
            for pid, size, mtime_ns, digest in changed:
                cat.mark_changed(pid, size, mtime_ns, digest)
                report.changed_ids.append(pid)
        report.changed += len(changed)
        cat.touch_folder_scan(folder.id)
        return report, new, missing

    def _offline(self, folder: Folder, reason: str, report: ScanReport) -> None:
        log.warning("library folder %s is offline: %s", folder.path, reason)
        self.catalog.set_folder_state(folder.id, "offline", reason)
        report.offline_roots.append(folder.path)

    def _apply(self, new, missing, report: ScanReport, emptied: dict[int, Folder]) -> None:
        """Insert new files, recognise moves by content hash, forget deleted files."""
        cat = self.catalog
        by_hash: dict[str, list[int]] = defaultdict(list)
        sizes: set[int] = set()
        folder_of = cat.photo_folders(list(emptied)) if emptied else {}
        for pid, (_path, size, digest) in missing.items():
            if digest:
                by_hash[digest].append(pid)
                sizes.add(size)
        for start in range(0, len(new), self.batch):
            chunk = new[start : start + self.batch]
            with cat.transaction():
                for folder_id, path, st in chunk:
                    digest = None
                    if st.st_size in sizes:
                        try:
                            digest = hash_file(path)
                        except OSError:
                            continue
                        twins = by_hash.get(digest)
                        if twins:
                            pid = twins.pop(0)
                            cat.move_photo(pid, folder_id, path, st.st_mtime_ns)
                            del missing[pid]
                            report.moved += 1
                            continue
                    # None: already catalogued under another root (nested roots).
                    if cat.insert_photo(folder_id, path, st.st_size, st.st_mtime_ns, digest) is not None:
                        report.added += 1
        # An emptied root whose photos did not all turn up elsewhere is more
        # likely an unmounted drive than a deliberate mass delete.
        unaccounted = {folder_of[pid] for pid in missing if pid in folder_of}
        for fid in unaccounted:
            self._offline(
                emptied[fid], "the folder is empty (an unmounted drive?); its photos are kept", report
            )
        gone = [pid for pid in missing if folder_of.get(pid) not in unaccounted]
        for start in range(0, len(gone), self.batch):
            cat.delete_photos(gone[start : start + self.batch])
        report.removed += len(gone)
        report.removed_ids.extend(gone)

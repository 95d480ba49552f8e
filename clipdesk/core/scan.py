"""Walk library folders and bring the catalog in line with what is on disk.

The walk is incremental: a file whose size and mtime match the catalog is not
opened at all. A changed mtime with the same size is confirmed by hashing
before anything is redone. Files that disappeared and files that appeared are
matched by content hash, so a move or rename keeps the photo's id, tags and
embeddings. Paths stay ``bytes`` from ``os.scandir`` to the catalog, so names
that are not valid UTF-8 are never mangled.

Safety rules, because the catalog holds the user's work. The catalog forgets
a photo only when the user says so or its file is really gone from a folder
that is really there:

* a root that is missing or unreadable (an unplugged drive) goes *offline*:
  its photos are kept, marked offline, and come back when the root does;
* a root that is suddenly empty (an unmounted share leaves an empty mount
  point) loses only the photos that turn up elsewhere in the library; if any
  are left unaccounted for, it goes offline instead of forgetting them;
* the same at any depth: a photo whose folder is gone, suddenly empty or
  cannot be read (a share mounted inside a library folder and unmounted, a
  card reader's folder) goes offline, and comes back when its file does; the
  user forgets such photos with ``clipdesk remove FOLDER`` (or Remove from
  library) if the folder was deleted;
* a photo whose file is gone from a folder that is there was deleted outside
  ClipDesk: it leaves the catalog, after every new file was checked for being
  its new home (a move), and a snapshot of it (tags, marks) is kept: when the
  same file comes back to the same place (an undone delete), the photo comes
  back with them;
* photos below a directory that could not be listed are never treated as
  deleted, nor those below a nested library folder or an exclusion (they are
  that folder's business);
* a file modified in the last ``settle_s`` seconds is left for a later pass
  (it is probably still being copied), and a missing photo that such a file
  may be the new home of is kept until it settles (a move done as copy +
  delete);
* a move is recognised by content hash, and for a photo not indexed yet
  (no hash) by its size and modification time, or its size and name (a copy
  that got a new modification time, then a delete);
* photos the user removed from the library stay removed (their paths are
  remembered and skipped);
* a file that failed is tried again when it changes: its content, or its
  status (ctime: a permission fixed).
"""

from __future__ import annotations

import logging
import os
import stat
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, NamedTuple

from clipdesk.core import metadata
from clipdesk.core.catalog import Catalog, Folder
from clipdesk.core.catalog.photos import KnownFile
from clipdesk.core.imaging import hash_file
from clipdesk.core.names import display_path, encode_path, is_under
from clipdesk.core.photofiles import SKIP_DIRS, Kind, classify, companions
from clipdesk.core.sidecar import SidecarError, read_marks, read_tags, sidecar_candidates

log = logging.getLogger(__name__)

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
    #: Photos kept as offline because their folder is gone, empty or cannot be read.
    offline: int = 0
    #: Failed photos queued again because their file changed.
    retried: int = 0
    #: Photos whose sidecar changed: its keywords and marks were read again.
    reread: int = 0
    emptied: bool = False

    def merge(self, other: "ScanReport") -> None:
        for name in ("roots", "seen", "added", "changed", "moved", "removed", "unchanged", "offline", "retried",
                     "reread"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for name in ("offline_roots", "deferred", "removed_ids", "changed_ids", "errors"):
            getattr(self, name).extend(getattr(other, name))


def _hidden(entry: os.DirEntry) -> bool:
    if entry.name.startswith(b"."):
        return True
    if os.name == "nt":
        try:
            return bool(entry.stat(follow_symlinks=False).st_file_attributes & _HIDDEN_ATTR)
        except (OSError, AttributeError):
            return False
    return False


class Found(NamedTuple):
    """A photo file the walk found; ``companion``: the JPEG/HEIF the camera
    wrote beside this RAW (:func:`photofiles.companions`), which is not
    yielded on its own."""

    path: bytes
    stat: os.stat_result
    companion: bytes | None = None


def walk(
    root: bytes,
    excluded: list[bytes],
    on_error: Callable[[bytes, OSError], None],
    sidecars: dict[bytes, int] | None = None,
) -> Iterator[Found]:
    """Yield the photo files below ``root``, folder by folder; the XMP
    sidecars met on the way go into ``sidecars`` (path -> mtime_ns).

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
            files: list[tuple[bytes, bytes, os.stat_result, Kind]] = []
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
                        if sidecars is not None and entry.name.lower().endswith(b".xmp"):
                            sidecars[path] = entry.stat(follow_symlinks=True).st_mtime_ns
                            continue
                        kind = classify(entry.name, path)
                        if kind is Kind.NOT_PHOTO:
                            continue
                        files.append((entry.name, path, entry.stat(follow_symlinks=True), kind))
                except FileNotFoundError:
                    continue  # vanished between listing and stat; the diff treats it as gone
                except OSError as exc:
                    on_error(path, exc)
        pairs = companions([(name, kind) for name, _, _, kind in files])
        taken = set(pairs.values())
        for name, path, st, _ in files:
            if name not in taken:
                partner = pairs.get(name)
                yield Found(path, st, os.path.join(directory, partner) if partner else None)
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
        removed = cat.archived_paths()
        report = ScanReport()
        new: list[tuple[int, bytes, os.stat_result, bytes | None]] = []
        missing: dict[int, _Missing] = {}
        emptied: dict[int, Folder] = {}
        settling: set[int] = set()  # sizes of files too recent to judge yet
        for folder in roots:
            if should_stop():
                break
            r, folder_new, folder_missing = self._scan_root(folder, excluded, removed, on_file, should_stop, settling)
            report.merge(r)
            new.extend(folder_new)
            missing.update(folder_missing)
            if r.emptied:
                emptied[folder.id] = folder
        if should_stop():
            return report
        self._apply(new, missing, report, emptied, settling, cat.vanished_files())
        return report

    def _scan_root(self, folder, excluded, removed, on_file, should_stop, settling):
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
        new: list[tuple[int, bytes, os.stat_result, bytes | None]] = []
        touched: list[tuple[int, int]] = []
        changed: list[tuple[int, int, int, str | None]] = []
        back: list[int] = []
        retry: list[int] = []
        ctimes: list[tuple[int, int]] = []
        sidecars: dict[bytes, int] = {}
        unchanged: list[tuple[bytes, KnownFile]] = []
        paired: dict[bytes, bytes | None] = {}  # RAW -> its companion now (None: it has none)
        for path, st, companion in walk(root, excluded, on_error, sidecars):
            if should_stop():
                return report, [], {}
            if path in removed:
                continue  # the user took it out of the library
            seen.add(path)
            if companion is not None or (path in known and known[path].companion is not None):
                paired[path] = companion
                if companion is not None:
                    seen.add(companion)
            report.seen += 1
            if on_file:
                on_file(report.seen, path)
            age = now - st.st_mtime
            recent = 0 <= age < self.settle_s
            entry = known.get(path)
            if entry is None:
                if recent:
                    report.deferred.append(path)
                    settling.add(st.st_size)
                else:
                    new.append((folder.id, path, st, companion))
                continue
            if entry.status == "offline":
                back.append(entry.id)
            if entry.size == st.st_size and entry.mtime_ns == st.st_mtime_ns:
                report.unchanged += 1
                unchanged.append((path, entry))
                if entry.status == "failed" and entry.ctime_ns != st.st_ctime_ns:
                    ctimes.append((st.st_ctime_ns, entry.id))
                    if entry.ctime_ns is not None:
                        retry.append(entry.id)
                continue
            if recent:
                report.deferred.append(path)
                settling.add(st.st_size)
                continue
            new_digest = None
            if entry.size == st.st_size and entry.hash:
                try:
                    new_digest = hash_file(path)
                except OSError:
                    continue
                if new_digest == entry.hash:
                    touched.append((st.st_mtime_ns, entry.id))
                    report.unchanged += 1
                    continue
            changed.append((entry.id, st.st_size, st.st_mtime_ns, new_digest))

        if root_error or not os.path.isdir(root):
            reason = root_error[0] if root_error else "the folder disappeared during the scan"
            self._offline(folder, f"{reason}; its photos are kept", report)
            return report, [], {}

        new = self._pairs(known, paired, seen, new)
        missing = {
            entry.id: _Missing(path, entry.size, entry.mtime_ns, entry.hash, entry.status)
            for path, entry in known.items()
            if path not in seen
            and not any(is_under(path, d) for d in unreadable)
            and not any(is_under(path, x) for x in excluded)
        }
        reread = [(path, e) for path, e in unchanged
                  if e.status == "indexed" and sidecar_mtime(path, sidecars, e.companion) != e.sidecar_mtime_ns]
        for path, e in reread:  # another program edited the sidecar: its keywords and marks come in
            try:
                embedded = metadata.read_file(path)
            except (OSError, ValueError, SyntaxError):
                continue
            cat.import_file_metadata(e.id, *file_metadata(path, embedded.keywords, embedded.marks, sidecars,
                                                          companion=e.companion))
        report.reread += len(reread)
        with cat.transaction():
            cat.touch_mtimes(touched)
            cat.record_ctimes(ctimes)
            cat.set_photos_online(back)
            cat.retry_failed(retry)
            for pid, size, mtime_ns, digest in changed:
                cat.mark_changed(pid, size, mtime_ns, digest)
                report.changed_ids.append(pid)
        report.changed += len(changed)
        report.retried += len(retry)
        cat.touch_folder_scan(folder.id)
        return report, new, missing

    def _pairs(self, known: dict[bytes, KnownFile], paired: dict[bytes, bytes | None], seen: set[bytes],
               new: list) -> list:
        """Bring RAW+JPEG pairs (:func:`photofiles.companions`) in line; returns
        the new files still to insert.

        A photo is never lost to pairing: a JPEG catalogued on its own whose
        RAW appears becomes the pair (its row is re-pointed at the RAW, or
        merged into the RAW's row when both had one); a pair whose RAW is gone
        becomes its JPEG's photo again."""
        cat = self.catalog
        fresh = {item[1]: item for item in new}
        taken: set[bytes] = set()
        for path, companion in paired.items():
            entry = known.get(path)
            alone = known.get(companion) if companion is not None else None
            if entry is None:
                if alone is not None and path in fresh:
                    st = fresh[path][2]
                    cat.repoint_photo(alone.id, path, st.st_size, st.st_mtime_ns, ctime_ns=st.st_ctime_ns,
                                      companion=companion)
                    taken.add(path)
                continue
            if alone is not None:
                cat.absorb_companion(entry.id, alone.id)
            if entry.companion != companion:
                cat.set_companion(entry.id, companion)
        for path, entry in known.items():  # the RAW went, its JPEG stayed: the photo is the JPEG's now
            if path not in seen and entry.companion in fresh and entry.companion not in known:
                st = fresh[entry.companion][2]
                cat.repoint_photo(entry.id, entry.companion, st.st_size, st.st_mtime_ns, ctime_ns=st.st_ctime_ns)
                taken.add(entry.companion)
                seen.add(path)
        return [item for item in new if item[1] not in taken] if taken else new

    def _offline(self, folder: Folder, reason: str, report: ScanReport) -> None:
        log.warning("library folder %s is offline: %s", folder.path, reason)
        self.catalog.set_folder_state(folder.id, "offline", reason)
        report.offline_roots.append(folder.path)

    def _apply(self, new, missing: dict[int, "_Missing"], report: ScanReport, emptied: dict[int, Folder],
               settling: set[int], vanished: dict[bytes, tuple[int, int, str | None]]) -> None:
        """Insert new files, bring back photos whose files returned, recognise
        moves, keep what may only be out of reach, forget (with a snapshot)
        files that are really gone."""
        cat = self.catalog
        if vanished:
            new = self._returned(new, vanished, report)
        by_hash: dict[str, list[int]] = defaultdict(list)
        by_stat: dict[tuple[int, int], list[int]] = defaultdict(list)
        by_name: dict[tuple[int, bytes], list[int]] = defaultdict(list)
        sizes: set[int] = set()
        folder_of = cat.photo_folders(list(emptied)) if emptied else {}
        for pid, m in missing.items():
            if m.hash:
                by_hash[m.hash].append(pid)
                sizes.add(m.size)
            else:  # not indexed yet: a move keeps size and modification time (a copy, the name)
                by_stat[(m.size, m.mtime_ns)].append(pid)
                by_name[(m.size, os.path.basename(m.path))].append(pid)
        for start in range(0, len(new), self.batch):
            chunk = new[start : start + self.batch]
            with cat.transaction():
                for folder_id, path, st, companion in chunk:
                    digest = None
                    twin = None
                    if st.st_size in sizes:
                        try:
                            digest = hash_file(path)
                        except OSError:
                            continue
                        twins = by_hash.get(digest)
                        twin = twins.pop(0) if twins else None
                    if twin is None:
                        twins = by_stat.get((st.st_size, st.st_mtime_ns))
                        twin = _same_name_first(twins, missing, path) if twins else None
                    if twin is None:  # copied (new mtime), then deleted: same name and size
                        twin = _same_name_first(by_name.get((st.st_size, os.path.basename(path)), []),
                                                missing, path)
                    if twin is not None:
                        cat.move_photo(twin, folder_id, path, st.st_mtime_ns)
                        cat.set_companion(twin, companion)
                        del missing[twin]
                        report.moved += 1
                        continue
                    # None: already catalogued under another root (nested roots).
                    if cat.insert_photo(folder_id, path, st.st_size, st.st_mtime_ns, digest,
                                        ctime_ns=st.st_ctime_ns, companion=companion) is not None:
                        report.added += 1
        # An emptied root whose photos did not all turn up elsewhere is more
        # likely an unmounted drive than a deliberate mass delete.
        unaccounted = {folder_of[pid] for pid in missing if pid in folder_of}
        for fid in unaccounted:
            self._offline(
                emptied[fid], "the folder is empty (an unmounted drive?); its photos are kept", report
            )
        gone, out_of_reach = [], defaultdict(list)
        places: dict[bytes, str | None] = {}
        for pid, m in missing.items():
            if folder_of.get(pid) in unaccounted or m.size in settling:
                continue  # offline with its root, or a file still being copied may be its new home
            folder = os.path.dirname(m.path)
            if folder not in places:
                places[folder] = _unreachable(folder)
            why = places[folder]
            if why is None:
                gone.append(pid)
            elif m.status != "offline":
                out_of_reach[why].append(pid)
        for why, ids in out_of_reach.items():
            cat.set_photos_offline(ids, why)
            report.offline += len(ids)
        for start in range(0, len(gone), self.batch):
            cat.archive_photos(gone[start : start + self.batch], vanished=True)
        report.removed += len(gone)
        report.removed_ids.extend(gone)


    def _returned(self, new, vanished: dict[bytes, tuple[int, int, str | None]], report: ScanReport) -> list:
        """Bring back the photos deleted outside ClipDesk whose file is at its
        place again (same size, and same modification time or content), with
        their tags and marks; a different file at such a place drops the old
        snapshot and is new. Returns the new files still to insert."""
        cat = self.catalog
        back, stale, rest = [], [], []
        for item in new:
            path, st = item[1], item[2]
            facts = vanished.get(path)
            if facts is None:
                rest.append(item)
                continue
            size, mtime_ns, digest = facts
            same = st.st_size == size and (
                st.st_mtime_ns == mtime_ns or (digest is not None and _hash_or_none(path) == digest))
            (back if same else stale).append(path)
            if not same:
                rest.append(item)
        if stale:
            cat.forget_archived(stale)
        if back:
            report.added += len(cat.restore_archived(back))
        return rest


def _hash_or_none(path: bytes) -> str | None:
    try:
        return hash_file(path)
    except OSError:
        return None


@dataclass(frozen=True)
class _Missing:
    path: bytes
    size: int
    mtime_ns: int
    hash: str | None
    status: str


def _unreachable(folder: bytes) -> str | None:
    """Why a folder that held photos cannot be trusted to say they are gone
    (it is gone itself, or empty: an unmounted share or drive leaves an empty
    mount point, or removes it; or it cannot be read), or None when it is
    really there."""
    try:
        with os.scandir(folder) as it:
            if next(it, None) is None:
                return f"its folder {display_path(folder)} is empty (an unmounted share or drive?)"
    except FileNotFoundError:
        return f"its folder {display_path(folder)} is not there (an unmounted share or drive, or deleted?)"
    except OSError as exc:
        return f"its folder {display_path(folder)} cannot be read ({exc.strerror or exc})"
    return None


def _same_name_first(twins: list[int], missing: dict[int, _Missing], path: bytes) -> int | None:
    """Of the missing photos that match a new file, the one with its name,
    else the only one; None when several are equally likely. Each missing
    photo is matched once."""
    twins[:] = [pid for pid in twins if pid in missing]
    name = os.path.basename(path)
    for pid in twins:
        if os.path.basename(missing[pid].path) == name:
            twins.remove(pid)
            return pid
    return twins.pop(0) if len(twins) == 1 else None


def sidecar_mtime(photo: bytes, seen: dict[bytes, int] | None = None, companion: bytes | None = None) -> int | None:
    """The newest mtime of the sidecars of the photo's files (both naming
    conventions), from what the walk saw when ``seen`` is given, else from
    the disk."""
    newest = None
    for candidate in _sidecars(photo, companion):
        raw = os.fsencode(candidate)
        if seen is not None:
            mtime = seen.get(raw)
        else:
            try:
                mtime = os.stat(raw).st_mtime_ns
            except OSError:
                mtime = None
        if mtime is not None and (newest is None or mtime > newest):
            newest = mtime
    return newest


def _sidecars(photo: bytes, companion: bytes | None) -> list[Path]:
    out = sidecar_candidates(Path(os.fsdecode(photo)))
    if companion is not None:
        out += [p for p in sidecar_candidates(Path(os.fsdecode(companion))) if p not in out]
    return out


def file_metadata(photo: bytes, embedded_keywords=(), embedded_marks=None, seen: dict[bytes, int] | None = None,
                  *, companion: bytes | None = None):
    """(keywords, marks, sidecar mtime) the photo's files say: the keywords of
    the file itself and of its sidecars (both naming conventions, merged;
    a RAW's companion JPEG's sidecars too, where digiKam keeps a RAW+JPEG
    pair's second set), and the sidecar's marks before the file's (a sidecar
    is where Lightroom and darktable write). A sidecar that cannot be read is
    skipped (and logged); what the file itself says still counts."""
    keywords = list(embedded_keywords)
    marks = None
    for owner in (photo, companion):
        if owner is None:
            continue
        path = Path(os.fsdecode(owner))
        try:
            keywords += list(read_tags(path).tags)
            marks = marks or read_marks(path)
        except SidecarError as exc:
            log.warning("cannot read the sidecar of %s: %s", display_path(owner), exc)
    return list(dict.fromkeys(keywords)), marks or embedded_marks, sidecar_mtime(photo, seen, companion)

"""``clipdesk folders|scan|status``: the library from the command line."""

from __future__ import annotations

import argparse
import sys
import threading
import time

from clipdesk.cli.output import print_json
from clipdesk.core.errors import CatalogError, CatalogLocked
from clipdesk.core.library import Library
from clipdesk.core.names import display_path
from clipdesk.core.wording import agree, plural
from clipdesk.core.paths import Paths
from clipdesk.core.pipeline import Progress, RunResult


def open_library(access: str = "index") -> Library:
    """The library for one command. ``access``: "index" needs the catalog's lock
    (a run of the pipeline; CatalogLocked, exit 3, while another ClipDesk holds
    it); "write" changes only the catalog (tags, folders) and works beside the
    app or a `scan --watch`, which pick the change up; "read" only reads."""
    paths = Paths.from_env()
    try:
        return Library(paths)
    except CatalogLocked:
        if access == "index":
            raise
        return Library(paths, lock=False, readonly=access == "read")
    except CatalogError:
        # A catalog on a read-only folder or disk can still be searched.
        if access != "read" or not paths.catalog.is_file():
            raise
        return Library(paths, lock=False, readonly=True)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("folders", help="add, remove or list library folders")
    fs = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    a = fs.add_parser("add", help="add folders to the library")
    a.add_argument("paths", nargs="+")
    a.add_argument("--no-scan", action="store_true", help="only add; index later with `clipdesk scan`")
    a.set_defaults(handler=cmd_folders_add)
    r = fs.add_parser("remove", help="remove folders (the files stay on disk)")
    r.add_argument("paths", nargs="+")
    r.set_defaults(handler=cmd_folders_remove)
    x = fs.add_parser("exclude", help="skip a folder inside a library folder")
    x.add_argument("paths", nargs="+")
    x.set_defaults(handler=cmd_folders_exclude)
    ls = fs.add_parser("list", help="list library folders and their state")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(handler=cmd_folders_list)

    rm = sub.add_parser(
        "remove", help="take photos out of the library (the files stay on disk)",
        description="Take photos out of the library: they leave searches and tags, later scans skip "
                    "them, and their files stay on disk untouched. `clipdesk remove --restore PATH...` "
                    "brings them back with their tags. A PATH that is a folder (also one you deleted, whose "
                    "photos are offline) stands for every photo below it. To skip a folder that is there in "
                    "later scans too, `clipdesk folders exclude` does the same for new photos.")
    rm.add_argument("paths", nargs="+", metavar="PATH",
                    help="photo files in the library, or folders (also deleted ones): every photo below")
    rm.add_argument("--restore", action="store_true",
                    help="bring photos removed this way back, with their tags")
    rm.set_defaults(handler=cmd_remove)

    s = sub.add_parser("scan", help="scan the library folders and index new or changed photos")
    s.add_argument("--watch", action="store_true", help="keep running and follow changes")
    s.add_argument("--json", action="store_true", help="print the result as JSON")
    s.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    s.add_argument("--retry-failed", action="store_true",
                   help="try the photos that could not be read again (after fixing them)")
    s.set_defaults(handler=cmd_scan)

    st = sub.add_parser("status", help="counts by status and failures with their reasons")
    st.add_argument("--json", action="store_true")
    st.add_argument("--all", action="store_true", help="list every failure, not the first 50")
    st.set_defaults(handler=cmd_status)


def cmd_folders_add(args) -> int:
    with open_library("write") as lib:
        for path in args.paths:
            f = lib.folders.add(path)
            print(f"added {display_path(f.path)}")
        if args.no_scan:
            return 0
        if not lib.exclusive:
            print("another ClipDesk is running on this library; it indexes the new folder", file=sys.stderr)
            return 0
        return _run_index(lib, quiet=False, as_json=False)


def cmd_folders_remove(args) -> int:
    with open_library("write") as lib:
        for path in args.paths:
            n = len(lib.folders.remove(path).removed)
            print(f"removed {display_path(path)} ({plural(n, 'photo')} left the library; files untouched)")
    return 0


def cmd_folders_exclude(args) -> int:
    with open_library("write") as lib:
        for path in args.paths:
            n = len(lib.folders.exclude(path).removed)
            print(f"excluded {display_path(path)}" + (f" ({plural(n, 'photo')} left the library)" if n else ""))
    return 0


def cmd_remove(args) -> int:
    with open_library("write") as lib:
        if args.restore:
            n = len(lib.folders.restore_photos(args.paths).photos)
            print(f"{plural(n, 'photo')} back in the library (indexed by the next `clipdesk scan`)")
            if n < len(args.paths):
                print(f"{plural(len(args.paths) - n, 'path')} had not been removed; nothing to restore there",
                      file=sys.stderr)
                return 4
            return 0
        ids = lib.search.photo_ids(args.paths, folders=True)
        n = len(lib.folders.remove_photos(ids).removed)
    print(f"removed {plural(n, 'photo')} from the library (files untouched; "
          "`clipdesk remove --restore PATH...` brings them back)")
    return 0


def cmd_folders_list(args) -> int:
    with open_library("read") as lib:
        rows = [
            {"path": f.path, "kind": f.kind, "state": f.state, "photos": f.photos,
             "last_scan": f.last_scan, "note": f.note}
            for f in lib.folders.rows()
        ]
    if args.json:
        print_json(rows)
        return 0
    if not rows:
        print("no library folders yet: add one with `clipdesk folders add PATH`")
    for r in rows:
        label = "excluded" if r["kind"] == "exclude" else f"{plural(r['photos'], 'photo')}, {r['state']}"
        print(f"{display_path(r['path'])}  [{label}]{_why_offline(r['state'], r['note'])}")
    return 0


class _Bar:
    """A rich progress bar fed from the pipeline's callback (any thread)."""

    def __init__(self, enabled: bool):
        self.enabled = enabled and sys.stderr.isatty()
        self.progress = None
        self.task = None
        self.lock = threading.Lock()

    def __enter__(self):
        if self.enabled:
            from rich.progress import (
                BarColumn, MofNCompleteColumn, Progress as RichProgress, TextColumn,
                TimeRemainingColumn,
            )

            self.progress = RichProgress(
                TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                TextColumn("{task.fields[rate]}"), TimeRemainingColumn(), transient=True,
            )
            self.progress.start()
            self.task = self.progress.add_task("scanning", total=None, rate="")
        return self

    def __exit__(self, *exc):
        if self.progress:
            self.progress.stop()

    def __call__(self, p: Progress) -> None:
        if not self.progress:
            return
        with self.lock:
            if p.phase == "scanning":
                self.progress.update(self.task, description="scanning", completed=p.done, total=None)
            else:
                rate = f"{p.rate:.1f}/s" if p.rate else ""
                self.progress.update(
                    self.task, description=p.phase, completed=p.done, total=p.total or None, rate=rate
                )


def _why_offline(state: str, note: str | None) -> str:
    """The reason a folder is offline, after its line: after a colon, since
    the reason has parentheses of its own."""
    return f": {note}" if note and state == "offline" else ""


def _summary(result: RunResult, offline_total: int = 0) -> dict:
    s = result.scan
    return {
        "added": s.added,
        "changed": s.changed,
        "moved": s.moved,
        "removed": s.removed,
        "unchanged": s.unchanged,
        "indexed": result.indexed,
        "failed": result.failed,
        "waiting": result.deferred + len(s.deferred),
        "offline_folders": s.offline_roots,
        "offline_photos": s.offline,
        "offline_total": offline_total,
        "retried": s.retried,
        "unreadable": [{"path": p, "reason": r} for p, r in s.errors],
        "error": result.error,
        "cancelled": result.cancelled,
        "seconds": round(result.elapsed, 2),
    }


def _print_summary(summary: dict) -> None:
    print(
        f"{summary['added']} new, {summary['changed']} changed, {summary['moved']} moved, "
        f"{summary['removed']} removed; {summary['indexed']} indexed, "
        f"{summary['failed']} failed in {summary['seconds']:.1f} s"
    )
    if summary["waiting"]:
        n = summary["waiting"]
        print(f"{plural(n, 'photo')} {agree(n, 'is', 'are')} waiting to be indexed (`clipdesk status` says why)")
    for root in summary["offline_folders"]:
        print(f"offline: {display_path(root)}; its photos are kept")
    new, total = summary["offline_photos"], summary["offline_total"]
    if new:
        print(f"{plural(new, 'photo')} went offline in this scan, {total:,} offline in all. "
              f"{agree(new, 'Its folder is', 'Their folders are')} gone, empty or cannot be read (an unmounted "
              "share or drive?): " + agree(new, "it is kept and comes back with its file",
                                          "they are kept and come back with their files")
              + ". If you deleted a folder, `clipdesk remove FOLDER` forgets its photos.")
    elif total:
        print(f"{plural(total, 'photo')} {agree(total, 'is', 'are')} still offline (`clipdesk status` says where; "
              "`clipdesk remove FOLDER` forgets the photos of a folder you deleted)")
    for item in summary["unreadable"]:
        print(f"unreadable: {item['path']}: {item['reason']}")
    if summary["failed"]:
        print("see `clipdesk status` for the reasons")
    if summary["error"]:
        print(f"stopped: {summary['error']}", file=sys.stderr)


def _exit_code(result: RunResult) -> int:
    """0 all done; 1 something needs the user (failures, unreadable or offline
    folders, a run that stopped); 130 interrupted."""
    if result.cancelled:
        return 130
    if result.error or result.failed or result.scan.offline_roots or result.scan.errors or result.scan.offline:
        return 1
    return 0


def _run_index(lib: Library, *, quiet: bool, as_json: bool) -> int:
    with _Bar(enabled=not quiet and not as_json) as bar:
        pipeline = lib.folders.pipeline(on_progress=bar)
        try:
            result = pipeline.run()
        except KeyboardInterrupt:
            pipeline.cancel()
            raise
    summary = _summary(result, lib.folders.counts().get("offline", 0))
    if as_json:
        print_json(summary)
    else:
        _print_summary(summary)
    return _exit_code(result)


def cmd_scan(args) -> int:
    with open_library() as lib:
        if not lib.folders.roots():
            print("no library folders yet: add one with `clipdesk folders add PATH`", file=sys.stderr)
            return 4
        if args.retry_failed:
            n = lib.folders.retry_failed()
            if not args.json:
                print(f"trying {plural(n, 'photo')} that could not be read again")
        code = _run_index(lib, quiet=args.quiet, as_json=args.json)
        if not args.watch:
            return code
        return _watch(lib, quiet=args.quiet)


def _watch(lib: Library, *, quiet: bool) -> int:
    from clipdesk.core.watch import Watcher

    wake = threading.Event()
    roots = [f.path for f in lib.folders.roots()]
    watcher = Watcher(roots, wake.set)
    watcher.start()
    if watcher.mode == "polling":
        print(f"note: {watcher.reason}", file=sys.stderr)
    print(f"watching {plural(len(roots), 'folder')}; press Ctrl+C to stop", file=sys.stderr)
    try:
        while True:
            wake.wait()
            wake.clear()
            result = lib.folders.pipeline().run()
            s = _summary(result, lib.folders.counts().get("offline", 0))
            if any(s[k] for k in ("added", "changed", "moved", "removed", "failed")) or s["offline_folders"]:
                stamp = time.strftime("%H:%M:%S")
                print(f"[{stamp}] ", end="")
                _print_summary(s)
    except KeyboardInterrupt:
        return 0
    finally:
        watcher.stop()


def cmd_status(args) -> int:
    with open_library("read") as lib:
        summary = lib.folders.summary()
        counts = summary.by_status
        failures = lib.folders.failures(None if args.all else 50)
        waiting = [(p.path, p.reason) for p in lib.folders.waiting(50)]
        folders = lib.folders.all()
        models = summary.embeddings
        total_failed = counts["failed"]
    data = {
        "photos": sum(counts.values()),
        "counts": counts,
        "folders": [
            {"path": f.path, "kind": f.kind, "state": f.state, "note": f.note} for f in folders
        ],
        "failures": [{"path": p.path, "reason": p.reason} for p in failures],
        "waiting": [{"path": display_path(p), "reason": r} for p, r in waiting],
        "embeddings": models,
    }
    if args.json:
        print_json(data)
        return 0
    print(f"{plural(data['photos'], 'photo')}: " + ", ".join(f"{n:,} {k}" for k, n in counts.items()))
    for f in folders:
        if f.kind == "exclude":
            print(f"  excluded {display_path(f.path)}")
        else:
            print(f"  {f.state:7} {display_path(f.path)}{_why_offline(f.state, f.note)}")
    for model, n in models.items():
        print(f"  {plural(n, 'photo')} embedded with {model}")
    if failures:
        print(f"failed, {plural(total_failed, 'photo')}:")
        for p in failures:
            print(f"  {display_path(p.path)}: {p.reason}")
        if total_failed > len(failures):
            print(f"  ... and {total_failed - len(failures)} more (--all lists them)")
    if waiting:
        print("waiting:")
        for p, r in waiting:
            print(f"  {display_path(p)}: {r}")
    return 0


def doctor_report(paths) -> dict:
    """The library part of `clipdesk doctor`: the catalog opened read-only,
    without its lock, so it also works while the app is open."""
    from clipdesk.core.errors import CatalogError
    from clipdesk.core.folders import read_summary

    if not paths.catalog.exists():
        return {"catalog": f"{paths.catalog} (not created yet)"}
    try:
        summary = read_summary(paths)
    except CatalogError as exc:
        return {"catalog": str(paths.catalog), "error": f"cannot read the catalog: {exc}"}
    return {
        "catalog": str(paths.catalog),
        "photos": ", ".join(f"{n} {s}" for s, n in sorted(summary.by_status.items()) if n) or "none",
        "folders": f"{plural(summary.roots, 'folder')}, {summary.offline_roots:,} offline",
        "embeddings": ", ".join(f"{n} with {m}" for m, n in summary.embeddings.items()) or "none",
    }

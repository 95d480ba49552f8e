"""``clipdesk search|similar|duplicates|tag|tags|demo``.

JSON shapes (``--json``), one per command; every photo has ``path`` and ``score``:

search, similar::

    {"query": str, "model": str, "sort": str, "notice": str|null, "count": int,
     "results": [{"id": int, "path": str, "score": float, "taken_at": str|null,
                  "format": str|null, "width": int|null, "height": int|null}]}

duplicates::

    {"threshold": float, "groups": [{"reason": str, "keep": str, "why": str,
      "photos": [{"id", "path", "score", "width", "height", "size"}]}]}

tag::

    {"calibrated": bool, "files": [{"path": str, "in_library": bool, "error": str|null,
                "suggestions": [{"tag": str, "score": float, "source": str}]}]}

tags list::

    [{"tag": str, "photos": int, "learned": bool}]

tags learn / tags apply::

    {"tag": str, "results": [...as search...]}   /   {"applied": bool, "calibrated": bool, "counts": {tag: int}}
"""

from __future__ import annotations

import argparse
import os
import sys

from clipdesk.cli.library import _run_index, open_library
from clipdesk.cli.output import print_json
from clipdesk.core.errors import NotFound, UsageError
from clipdesk.core.names import display_path, resolve_typed_path
from clipdesk.core.query import parse_query
from clipdesk.core.wording import plural


def count(text: str) -> int:
    """An argparse type for how many of something: a whole number of at least 1."""
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {n}")
    return n


def register(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser("search", help="search the library by what you remember")
    s.add_argument("query", help='e.g. "red car -night folder:Holidays after:2023"')
    s.add_argument("--limit", type=count, default=50, help="at most this many results (default 50)")
    s.add_argument("--no-cut", action="store_true",
                   help="the top --limit by score, without the adaptive relevance cut")
    s.add_argument("--json", action="store_true")
    s.set_defaults(handler=cmd_search)

    sim = sub.add_parser("similar", help="photos that look like a given photo or image file")
    sim.add_argument("path")
    sim.add_argument("--limit", type=count, default=50, help="at most this many results (default 50)")
    sim.add_argument("--json", action="store_true")
    sim.set_defaults(handler=cmd_similar)

    d = sub.add_parser("duplicates", help="groups of identical and near-identical photos")
    d.add_argument("--threshold", type=float, default=0.95, help="cosine similarity (default 0.95)")
    d.add_argument("--json", action="store_true")
    d.set_defaults(handler=cmd_duplicates)

    t = sub.add_parser("tag", help="suggest tags for image files (in the library or not)")
    t.add_argument("paths", nargs="+")
    t.add_argument("--top", type=count, default=8, help="at most this many tags a file (default 8)")
    t.add_argument("--json", action="store_true", help="print JSON instead of text")
    t.set_defaults(handler=cmd_tag)

    tags = sub.add_parser("tags", help="list, add, remove, learn and apply tags")
    ts = tags.add_subparsers(dest="action", metavar="ACTION", required=True)
    ls = ts.add_parser("list", help="tags with their photo counts")
    ls.add_argument("--json", action="store_true")
    ls.add_argument("--tree", action="store_true", help="nested tags as a tree (Places|Beach under Places)")
    ls.set_defaults(handler=cmd_tags_list)
    add = ts.add_parser("add", help="put a tag on photos")
    add.add_argument("tag")
    add.add_argument("paths", nargs="+")
    add.add_argument("--sidecars", action="store_true", help="also write it to the photos' XMP sidecars")
    add.set_defaults(handler=cmd_tags_add)
    rm = ts.add_parser("remove", help="take a tag off photos, or delete it and the tags nested below it (no paths)",
                       description="With photos, take the tag off them. Without, delete the tag and the tags "
                                   "nested below it (Places|Beach under Places) from every photo.")
    rm.add_argument("tag")
    rm.add_argument("paths", nargs="*", help="photos to take it off (none: delete the tag)")
    rm.add_argument("--sidecars", action="store_true", help="also remove it from the photos' XMP sidecars")
    rm.set_defaults(handler=cmd_tags_remove)
    rn = ts.add_parser("rename", help="rename a tag (tags nested below it follow; an existing name merges)")
    rn.add_argument("tag")
    rn.add_argument("new_name")
    rn.add_argument("--sidecars", action="store_true", help="also rename it in the photos' XMP sidecars")
    rn.set_defaults(handler=cmd_tags_rename)
    mg = ts.add_parser("merge", help="merge a tag into another (its photos get the other tag)")
    mg.add_argument("tag")
    mg.add_argument("into")
    mg.add_argument("--sidecars", action="store_true", help="also change the photos' XMP sidecars")
    mg.set_defaults(handler=cmd_tags_merge)
    mv = ts.add_parser("move", help="nest a tag under another one (or --top)")
    mv.add_argument("tag")
    mv.add_argument("parent", nargs="?")
    mv.add_argument("--top", action="store_true", help="move it to the top level")
    mv.add_argument("--sidecars", action="store_true", help="also change the photos' XMP sidecars")
    mv.set_defaults(handler=cmd_tags_move)
    learn = ts.add_parser("learn", help="teach a tag from example photos; lists the photos it would add")
    learn.add_argument("tag")
    learn.add_argument("paths", nargs="+", help="photos that show it")
    learn.add_argument("--not", dest="negatives", nargs="*", default=[], metavar="PATH",
                       help="photos that do not")
    learn.add_argument("--limit", type=count, default=50, help="at most this many photos listed (default 50)")
    learn.add_argument("--json", action="store_true")
    learn.set_defaults(handler=cmd_tags_learn)
    ap = ts.add_parser("apply", help="auto-tag the whole library (shows counts first; --yes applies)")
    ap.add_argument("tags", nargs="*", help="only these tags (default: all)")
    ap.add_argument("--yes", action="store_true", help="apply, not just preview")
    ap.add_argument("--sidecars", action="store_true", help="also write XMP sidecars")
    ap.add_argument("--json", action="store_true")
    ap.set_defaults(handler=cmd_tags_apply)

    ex = sub.add_parser("export", help="copy photos to a folder, as originals or resized JPEGs")
    ex.add_argument("paths", nargs="*", help="photos in the library (or --query)")
    ex.add_argument("--query", help='the photos a search shows, e.g. "tag:family after:2024"')
    ex.add_argument("--to", required=True, metavar="FOLDER")
    ex.add_argument("--resize", type=int, metavar="PIXELS", help="resized JPEGs with this long edge")
    ex.add_argument("--quality", type=int, default=90, help="JPEG quality for --resize (default 90)")
    ex.add_argument("--metadata", choices=("keep", "no-gps", "strip"), default="keep")
    ex.set_defaults(handler=cmd_export)

    demo = sub.add_parser("demo", help="set up the demo library and index it (offline)")
    demo.add_argument("--count", type=count, default=300, help="photos in the demo library (default 300)")
    demo.set_defaults(handler=cmd_demo)


def _photo_json(hit) -> dict:
    p = hit.photo
    return {"id": p.id, "path": p.path, "score": round(float(hit.score), 5), "taken_at": p.taken_at,
            "format": p.format, "width": p.width, "height": p.height}


def _print_result(result, as_json: bool) -> None:
    if as_json:
        print_json({"query": result.query, "model": result.model_id, "sort": result.sort,
                   "notice": result.notice, "count": len(result.hits),
                   "results": [_photo_json(h) for h in result.hits]})
        return
    if result.notice:
        print(f"note: {result.notice}", file=sys.stderr)
    if not result.hits:
        print("no matching photos", file=sys.stderr)
    # A query with only filters ranks nothing: its lines show the date taken, not a score of 0.000.
    ranked = any(h.score for h in result.hits)
    for h in result.hits:
        first = f"{h.score:6.3f}" if ranked else f"{(h.photo.taken_at or '')[:10]:<10}"
        print(f"{first}  {display_path(h.photo.path)}")


def cmd_search(args) -> int:
    with open_library("read") as lib:
        _print_result(lib.search.query(parse_query(args.query), limit=args.limit, cut=not args.no_cut, door="cli"),
                      args.json)
    return 0


def cmd_similar(args) -> int:
    _require_files([args.path])
    with open_library("read") as lib:
        _print_result(lib.search.similar(args.path, limit=args.limit), args.json)
    return 0


def _require_files(paths) -> None:
    """NotFound (exit 4) for the first path that names no file."""
    for p in paths:
        real = resolve_typed_path(p)
        if os.path.isdir(real):
            raise NotFound(f"{display_path(p)} is a folder; name the photos in it")
        if not os.path.isfile(real):
            raise NotFound(f"{display_path(p)} does not exist")


def cmd_duplicates(args) -> int:
    if not 0 < args.threshold <= 1:
        raise UsageError("--threshold is a cosine similarity between 0 and 1")
    with open_library("read") as lib:
        groups = lib.search.duplicates(threshold=args.threshold)
    if args.json:
        print_json({"threshold": args.threshold, "groups": [
            {"reason": g.reason, "keep": g.photos[0].path, "why": g.why, "photos": [
                {"id": p.id, "path": p.path, "score": round(s, 5) if s == s else None,
                 "width": p.width, "height": p.height, "size": p.size}
                for p, s in zip(g.photos, g.scores)]}
            for g in groups]})
        return 0
    if not groups:
        print("no duplicates found")
    for g in groups:
        print(f"{g.reason}, {plural(len(g.photos), 'photo')}; keep {display_path(g.photos[0].name)}: {g.why}")
        for i, (p, s) in enumerate(zip(g.photos, g.scores)):
            mark = "keep" if i == 0 else "    "
            print(f"  {mark} {s:5.3f}  {p.width}x{p.height}  {display_path(p.path)}")
    return 0


def cmd_tag(args) -> int:
    from clipdesk.core.tags import FileSuggestions

    # A path that names no file is reported with the others, which still get their tags.
    problems = {}
    for p in args.paths:
        real = resolve_typed_path(p)
        if os.path.isdir(real):
            problems[p] = "it is a folder; name the photos in it"
        elif not os.path.isfile(real):
            problems[p] = "does not exist"
    readable = [p for p in args.paths if p not in problems]
    if not readable:  # nothing to tag: one line, as every command says it
        _require_files(args.paths)
    with open_library("read") as lib:
        got = iter(lib.tags.suggest(readable, top=args.top) if readable else [])
        calibrated = lib.tags.calibrated()
    files = [FileSuggestions(p, None, error=problems[p]) if p in problems else next(got) for p in args.paths]
    if args.json:
        print_json({"calibrated": calibrated, "files": [
            {"path": f.path, "in_library": f.photo_id is not None, "error": f.error,
             "suggestions": [{"tag": s.tag, "score": round(s.score, 4), "source": s.source}
                             for s in f.suggestions]}
            for f in files]})
    else:
        for f in files:
            print(display_path(f.path))
            if f.error:
                print(f"  cannot read: {f.error}")
            elif not f.suggestions:
                print("  no confident tags")
            for s in f.suggestions:
                print(f"  {s.score * 100:3.0f}%  {s.tag}" + ("  (learned)" if s.source == "learned" else ""))
    if not calibrated:
        _rough_note()
    if problems:
        return NotFound.exit_code
    return 1 if any(f.error for f in files) else 0


def _rough_note() -> None:
    from clipdesk.core.tagging import MIN_BACKGROUND

    print(f"note: the library has fewer than {MIN_BACKGROUND} photos, so the tags are not calibrated "
          "against it: they are the model's rough guess", file=sys.stderr)


def cmd_tags_rename(args) -> int:
    return _tag_edit(args, lambda tags: tags.rename(args.tag, args.new_name),
                     f"renamed {args.tag!r} to {args.new_name!r}")


def cmd_tags_merge(args) -> int:
    return _tag_edit(args, lambda tags: tags.rename(args.tag, args.into), f"merged {args.tag!r} into {args.into!r}")


def cmd_tags_move(args) -> int:
    if bool(args.parent) == bool(args.top):
        raise UsageError("give the new parent tag, or --top")
    return _tag_edit(args, lambda tags: tags.move(args.tag, None if args.top else args.parent),
                     f"moved {args.tag!r} " + ("to the top" if args.top else f"under {args.parent!r}"))


def _tag_edit(args, edit, done: str) -> int:
    with open_library("write") as lib:
        lib.tags.write_sidecars = args.sidecars
        changes = edit(lib.tags)
    print(f"{done} ({plural(len(changes.photos), 'photo')})")
    return _report_sidecars(changes)


def cmd_tags_list(args) -> int:
    with open_library("read") as lib:
        if args.tree:
            return _print_tree(lib.tags.tree(), args.json)
        rows = [{"tag": t.name, "photos": t.photos, "learned": t.learned} for t in lib.tags.list()]
    if args.json:
        print_json(rows)
    else:
        if not rows:
            print("no tags yet")
        for r in rows:
            print(f"{r['photos']:6d}  {r['tag']}" + ("  (learned)" if r["learned"] else ""))
    return 0


def cmd_tags_add(args) -> int:
    with open_library("write") as lib:
        ids = lib.search.photo_ids(args.paths)
        lib.tags.write_sidecars = args.sidecars
        changes = lib.tags.accept(ids, args.tag)
        kept = lib.tags.kept_name(args.tag)
    print(f"tagged {plural(len(ids), 'photo')} {kept!r}")
    return _report_sidecars(changes)


def cmd_tags_remove(args) -> int:
    with open_library("write") as lib:
        lib.tags.write_sidecars = args.sidecars
        if args.paths:
            ids = lib.search.photo_ids(args.paths)
            changes = lib.tags.remove(ids, args.tag)
            print(f"removed {args.tag!r} from {plural(len(ids), 'photo')}")
        else:
            family = lib.tags.family(args.tag)
            kept = lib.tags.kept_name(args.tag)
            changes = lib.tags.delete(args.tag)
            below = len(family) - 1
            also = f" and {plural(below, 'tag')} nested below it" if below else ""
            print(f"deleted the tag {kept!r}{also}, from {plural(len(changes.photos), 'photo')}")
    return _report_sidecars(changes)


def _print_tree(nodes, as_json: bool) -> int:
    def as_dict(n):
        return {"name": n.name, "tag": n.path, "photos": n.photos, "total": n.total, "learned": n.learned,
                "children": [as_dict(c) for c in n.children]}

    if as_json:
        print_json([as_dict(n) for n in nodes])
        return 0

    def show(n, depth):
        print(f"{n.total:6,d}  {'  ' * depth}{n.name}" + ("  (learned)" if n.learned else ""))
        for c in n.children:
            show(c, depth + 1)

    if not nodes:
        print("no tags yet")
    else:
        print("photos with the tag or a tag below it:")
    for n in nodes:
        show(n, 0)
    return 0


def _report_sidecars(changes) -> int:
    """Sidecars that could not be written, one line each; exit 1 when any."""
    for f in changes.sidecar_failures:
        print(f"sidecar not written: {display_path(f.path)}: {f.reason}", file=sys.stderr)
    return 1 if changes.sidecar_failures else 0


def cmd_tags_learn(args) -> int:
    with open_library("write") as lib:
        hits = lib.tags.teach(args.tag, lib.search.photo_ids(args.paths), lib.search.photo_ids(args.negatives),
                              limit=args.limit)
    if args.json:
        print_json({"tag": args.tag, "results": [_photo_json(h) for h in hits]})
    else:
        print(f"{args.tag!r} would also fit {plural(len(hits), 'photo')}:")
        for h in hits:
            print(f"  {h.score * 100:3.0f}%  {display_path(h.photo.path)}")
        print("accept with `clipdesk tags add TAG PATH...`, teach more with --not PATH...")
    return 0


def cmd_tags_apply(args) -> int:
    code = 0
    with open_library("write") as lib:
        wanted = args.tags or None
        if args.yes:
            lib.tags.write_sidecars = args.sidecars
            applied = lib.tags.apply_auto(wanted)
            counts = applied.counts
            code = _report_sidecars(applied.changes)
        else:
            counts = lib.tags.preview_auto(wanted)
        calibrated = lib.tags.calibrated()
    if not calibrated:
        _rough_note()
    if args.json:
        print_json({"applied": bool(args.yes), "calibrated": calibrated, "counts": counts})
        return code
    verb = "tagged" if args.yes else "would tag"
    for tag, n in counts.items():
        print(f"{n:6d}  {tag}")
    print(f"{verb} {sum(counts.values())} photo-tag pairs" + ("" if args.yes else "; run with --yes to apply"))
    return code


def cmd_export(args) -> int:
    from clipdesk.core.export import ExportOptions

    if bool(args.paths) == bool(args.query):
        raise UsageError("name the photos, or give --query")
    options = ExportOptions(resize=args.resize, quality=args.quality, metadata=args.metadata)
    with open_library("read") as lib:
        if args.query:
            ids = [h.photo.id for h in lib.search.query(parse_query(args.query), limit=1_000_000).hits]
        else:
            ids = lib.search.photo_ids(args.paths)
        report = lib.files.export(ids, args.to, options)
    files = f" ({plural(len(report.written), 'file')})" if len(report.written) != report.photos else ""
    print(f"exported {plural(report.photos, 'photo')}{files} to {display_path(args.to)}")
    for path, why in report.notes:
        print(f"note: {path}: {why}", file=sys.stderr)
    for path, why in report.failed:
        print(f"not exported: {path}: {why}", file=sys.stderr)
    return 1 if report.failed else 0


def cmd_demo(args) -> int:
    from clipdesk.demo import setup_demo

    with open_library() as lib:
        dest = setup_demo(lib, count=args.count)
        print(f"demo library: {dest}")
        code = _run_index(lib, quiet=False, as_json=False)
        status = lib.models.status("cli")
        if status.message:
            print(f"note: {status.message}")
        print('try: clipdesk search "red dress"')
        return code

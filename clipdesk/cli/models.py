"""``clipdesk models list|download|remove|verify`` and ``clipdesk doctor``."""

from __future__ import annotations

import argparse
import platform
import sys
import time
from typing import Any

from clipdesk.core import modelhub
from clipdesk.cli.output import print_json
from clipdesk.core.errors import ClipDeskError
from clipdesk.core.paths import Paths


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("models", help="list, download, remove or verify CLIP models")
    ms = p.add_subparsers(dest="action", metavar="ACTION", required=True)

    ls = ms.add_parser("list", help="models you can download and the ones installed")
    ls.add_argument("--json", action="store_true", help="print JSON")
    ls.set_defaults(handler=cmd_list)

    dl = ms.add_parser("download", help="download, verify and install a model (resumes if interrupted)")
    dl.add_argument("name", nargs="?", default=modelhub.DEFAULT_MODEL,
                    help=f"model name (default: {modelhub.DEFAULT_MODEL})")
    dl.add_argument("--endpoint", help=f"hub URL (default: ${modelhub.ENDPOINT_ENV} or {modelhub.DEFAULT_ENDPOINT})")
    dl.add_argument("--quiet", "-q", action="store_true", help="no progress output")
    dl.add_argument("--json", action="store_true", help="print the result as JSON")
    dl.set_defaults(handler=cmd_download)

    rm = ms.add_parser("remove", help="delete a downloaded model")
    rm.add_argument("name")
    rm.set_defaults(handler=cmd_remove)

    vf = ms.add_parser("verify", help="check every file of installed models against its checksum")
    vf.add_argument("name", nargs="?", help="one model (default: all installed)")
    vf.add_argument("--json", action="store_true", help="print JSON")
    vf.set_defaults(handler=cmd_verify)

    pr = ms.add_parser("prepare", help="let a model downloaded by an older ClipDesk encode queries at their own "
                       "length (checked against the original; kept only if every text matches)")
    pr.add_argument("name", nargs="?", help="model name (default: every downloaded model that has no record yet)")
    pr.set_defaults(handler=cmd_prepare)

    use = ms.add_parser("use", help="search and index with this installed model (photos are re-embedded by the next scan)")
    use.add_argument("name")
    use.add_argument("--no-scan", action="store_true", help="re-embed later, with `clipdesk scan`")
    use.set_defaults(handler=cmd_use)

    dr = sub.add_parser("doctor", help="what ClipDesk can run on here: providers, models, library")
    dr.add_argument("--json", action="store_true", help="print JSON")
    dr.set_defaults(handler=cmd_doctor)


def cmd_use(args) -> int:
    from clipdesk.cli.library import _run_index, open_library

    with open_library() as lib:
        lib.models.set_model(args.name)
        print(f"now using {args.name}")
        if args.no_scan or not lib.folders.roots():
            return 0
        return _run_index(lib, quiet=False, as_json=False)


def cmd_prepare(args) -> int:
    paths = _paths()
    if args.name:
        names = [args.name]
    else:
        names = [m.model_id for m in modelhub.installed_models(paths) if not m.bundled and not m.text_model]
        if not names:
            print("every downloaded model already has its text model record")
            return 0
    for name in names:
        form = modelhub.prepare_text_model(paths, name)
        print(f"{name}: {_text_form(form.to_json())}")
    return 0


def _text_form(record: dict[str, Any]) -> str:
    """How a model encodes search text, in words (from its manifest's text model record)."""
    if not record:
        return "texts at the full 77 tokens (made by an older ClipDesk: `clipdesk models prepare` may speed it up)"
    if record.get("input_length") == "query":
        return "texts at their own length"
    return f"texts at the full length: {record.get('reason') or 'the model takes no other'}"


def _paths() -> Paths:
    return Paths.from_env()


def _mb(n: int) -> str:
    return f"{n / 1e6:,.0f} MB"


def _models_table(paths: Paths) -> list[dict[str, Any]]:
    installed = {m.model_id: m for m in modelhub.installed_models(paths)}
    rows = []
    for info in modelhub.REGISTRY:
        m = installed.pop(info.name, None)
        rows.append({
            "name": info.name,
            "installed": m is not None,
            "bundled": bool(m and m.bundled),
            "recommended": info.recommended,
            "repo": info.repo,
            "revision": (m.source.get("revision") if m else None) or info.revision,
            "size_bytes": m.size_bytes if m else info.size_mb * 1_000_000,
            "embed_dim": info.embed_dim,
            "image_size": info.image_size,
            "good_for": info.good_for,
            "path": str(m.path) if m else None,
            "text_model": m.text_model if m else None,
        })
    for m in installed.values():
        rows.append({
            "name": m.model_id,
            "installed": True,
            "bundled": m.bundled,
            "recommended": False,
            "repo": m.source.get("repo"),
            "revision": m.source.get("revision"),
            "size_bytes": m.size_bytes,
            "embed_dim": None,
            "image_size": None,
            "good_for": "ships with ClipDesk: works offline, far less accurate than a real CLIP model"
            if m.bundled else "installed by hand",
            "path": str(m.path),
        })
    return rows


def cmd_list(args) -> int:
    rows = _models_table(_paths())
    if args.json:
        print_json({"models": rows, "default": modelhub.DEFAULT_MODEL})
        return 0
    for r in rows:
        state = "bundled" if r["bundled"] else "installed" if r["installed"] else "-"
        star = "*" if r["recommended"] else " "
        size = ("~" if not r["installed"] else "") + _mb(r["size_bytes"])
        dim = f"{r['embed_dim']}d" if r["embed_dim"] else ""
        print(f"{star} {r['name']:<32} {state:<9} {size:>9} {dim:>5}  {r['good_for']}")
    print("\n* recommended without a GPU. Download with `clipdesk models download NAME`.")
    return 0


class _ProgressLine:
    def __init__(self, enabled: bool):
        self.enabled = enabled and sys.stderr.isatty()
        self.last = 0.0

    def __call__(self, p: modelhub.Progress) -> None:
        now = time.monotonic()
        if not self.enabled or (now - self.last < 0.2 and p.done < p.total):
            return
        self.last = now
        pct = 100 * p.done / p.total if p.total else 100
        sys.stderr.write(f"\r{p.model_id}: {pct:5.1f}% of {_mb(p.total)}  {p.file:<32.32}")
        sys.stderr.flush()

    def finish(self) -> None:
        if self.enabled:
            sys.stderr.write("\n")


def cmd_download(args) -> int:
    paths = _paths()
    bar = _ProgressLine(not args.quiet and not args.json)
    try:
        path = modelhub.download_model(args.name, paths, endpoint=args.endpoint, progress=bar)
    finally:
        bar.finish()
    if args.json:
        print_json({"name": path.name, "path": str(path)})
    else:
        print(f"installed {path.name} in {path}")
    return 0


def cmd_remove(args) -> int:
    path = modelhub.remove_model(_paths(), args.name)
    print(f"removed {args.name} ({path})")
    return 0


def cmd_verify(args) -> int:
    paths = _paths()
    if args.name:
        names = [args.name]
    else:
        names = [m.model_id for m in modelhub.installed_models(paths)]
    results = []
    for name in names:
        try:
            b = modelhub.verify_model(paths, name)
            results.append({"name": name, "ok": True, "files": len(b.files), "error": None})
        except ClipDeskError as exc:
            if args.name and not args.json:
                raise
            results.append({"name": name, "ok": False, "files": None, "error": str(exc)})
    if args.json:
        print_json({"models": results})
    else:
        for r in results:
            print(f"{r['name']}: " + (f"ok ({r['files']} files)" if r["ok"] else r["error"]))
        if not results:
            print("no model is installed")
    return 0 if all(r["ok"] for r in results) else 6


def doctor_report(paths: Paths) -> dict[str, Any]:
    """Everything ``clipdesk doctor`` prints, as data."""
    from clipdesk.core import engine

    available = engine.available_providers()
    options_error = None
    try:
        options = engine.EngineOptions.from_env()
        plan, skipped = engine.plan_providers(options.providers, available)
    except ClipDeskError as exc:
        options_error = str(exc)
        plan, skipped = [engine.CPU], []
    try:
        import onnxruntime as ort

        ort_version = ort.__version__
        device = ort.get_device()
    except ImportError:  # pragma: no cover - a hard dependency
        ort_version, device = None, None

    models = []
    for m in modelhub.installed_models(paths):
        models.append({"name": m.model_id, "bundled": m.bundled, "path": str(m.path), "size_bytes": m.size_bytes,
                       "text_model": m.text_model})
    try:
        active = modelhub.choose_model(paths).model_id
    except ClipDeskError:
        active = None
    report: dict[str, Any] = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "onnxruntime": ort_version,
        "onnxruntime_device": device,
        "providers_available": available,
        "providers_plan": plan,
        "providers_skipped": skipped,
        "providers_error": options_error,
        "models_dir": str(paths.models_dir),
        "models": models,
        "active_model": active,
        "library": _library_status(paths),
    }
    return report


def _library_status(paths: Paths) -> dict[str, Any] | None:
    """The library part of the report: clipdesk.cli.library may offer ``doctor_report(paths)``."""
    try:
        from clipdesk.cli import library
    except ImportError:
        return None
    hook = getattr(library, "doctor_report", None)
    if hook is None:
        return {"note": "run `clipdesk status` for the library"}
    try:
        return hook(paths)
    except ClipDeskError as exc:
        return {"error": str(exc)}


def cmd_doctor(args) -> int:
    report = doctor_report(_paths())
    if args.json:
        print_json(report)
        return 0
    print(f"ClipDesk on {report['platform']}, Python {report['python']}")
    print(f"ONNX Runtime {report['onnxruntime']} ({report['onnxruntime_device']})")
    print(f"  providers available: {', '.join(report['providers_available']) or 'none'}")
    print(f"  will try, in order:  {', '.join(report['providers_plan'])}")
    for s in report["providers_skipped"]:
        print(f"  skipped {s}")
    if report["providers_error"]:
        print(f"  CLIPDESK_PROVIDERS: {report['providers_error']}")
    print(f"models in {report['models_dir']}:")
    for m in report["models"]:
        tag = " (ships with ClipDesk)" if m["bundled"] else ""
        mark = "*" if m["name"] == report["active_model"] else " "
        print(f" {mark} {m['name']}{tag}  {_mb(m['size_bytes'])}")
        if not m["bundled"]:
            print(f"     {_text_form(m['text_model'])}")
    if not report["models"]:
        print(f"  none: run `clipdesk models download {modelhub.DEFAULT_MODEL}`")
    lib = report["library"]
    if lib:
        print("library:")
        for k, v in lib.items():
            print(f"  {k}: {v}")
    return 0

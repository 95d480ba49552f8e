"""The walls of the package, checked on its source: layers, SQL, import circles.

DESIGN.md: core has no Qt; the CLI and the GUI are two doors onto the same
core and neither touches the catalog or SQL; only clipdesk/core/catalog/
speaks SQL; imports point down and never form a circle.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "clipdesk"
CATALOG = PACKAGE / "core" / "catalog"

#: SQL as this code base writes it (keywords in capitals).
_SQL = re.compile(
    r"\bSELECT\b.*\bFROM\b|\bINSERT\s+(OR\s+\w+\s+)?INTO\b|\bUPDATE\s+\w+\s+SET\b|\bDELETE\s+FROM\b"
    r"|\bCREATE\s+(TABLE|INDEX)\b|\bPRAGMA\s+\w+",
    re.DOTALL,
)


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _strings(tree: ast.AST) -> list[tuple[int, str]]:
    return [(n.lineno, n.value) for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)]


def test_only_the_catalog_speaks_sql():
    offenders = []
    for name, path in MODULES.items():
        if CATALOG in path.parents:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
                if "sqlite3" in names:
                    offenders.append(f"{name}:{node.lineno} imports sqlite3")
            if isinstance(node, ast.Attribute) and node.attr in ("con", "_con"):
                offenders.append(f"{name}:{node.lineno} reaches for a connection (.{node.attr})")
        for line, text in _strings(tree):
            if _SQL.search(text):
                offenders.append(f"{name}:{line} has SQL: {text[:60]!r}")
    assert offenders == []


@pytest.mark.parametrize("door", ["clipdesk.ui", "clipdesk.cli"])
def test_the_doors_never_touch_the_catalog(door):
    """The GUI and the CLI call the library's services; they may use the
    catalog's plain records (Photo), never the catalog itself."""
    offenders = []
    for name, path in MODULES.items():
        if not name.startswith(door):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr == "catalog" and not _is_paths(node.value):
                offenders.append(f"{name}:{node.lineno} uses .catalog")
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("clipdesk.core.catalog"):
                imported = {a.name for a in node.names}
                if imported - {"Photo", "Folder", "PhotoTag", "TagCount", "Summary"}:
                    offenders.append(f"{name}:{node.lineno} imports {sorted(imported)} from the catalog")
    assert offenders == []


def _is_paths(node: ast.AST) -> bool:
    """``paths.catalog`` is the catalog's file name (Paths) and ``changes.catalog``
    a flag of Changes, not the catalog."""
    return (isinstance(node, ast.Name) and node.id in ("paths", "changes")) or (
        isinstance(node, ast.Attribute) and node.attr == "paths")


def test_core_never_imports_qt():
    offenders = []
    for name, path in MODULES.items():
        if not name.startswith(("clipdesk.core", "clipdesk.demo")):
            continue
        for target in _imports(name, path):
            if target.split(".")[0] in ("PySide6", "shiboken6"):
                offenders.append(f"{name} imports {target}")
    assert offenders == []


def _imports(name: str, path: Path) -> set[str]:
    """Every module ``name`` imports, at the top or inside a function (lazy
    imports count: they are still a dependency)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            for a in node.names:
                sub = f"{base}.{a.name}"
                out.add(sub if sub in MODULES else base)
    return out


def _graph() -> dict[str, set[str]]:
    graph = {}
    for name, path in MODULES.items():
        graph[name] = {t for t in _imports(name, path) if t in MODULES and t != name}
    return graph


def test_no_import_circles():
    graph = _graph()
    cycles: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            # A package's __init__ re-exporting its own submodules is not a circle.
            if nxt.startswith(node + "."):
                continue
            if state.get(nxt) == 1:
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    assert cycles == []


def test_the_checks_see_the_whole_package():
    """Guards the guards: the source walk finds the modules these rules are about."""
    for name in ("clipdesk.core.catalog", "clipdesk.core.catalog.photos", "clipdesk.core.library",
                 "clipdesk.ui.app", "clipdesk.cli.search"):
        assert name in MODULES
    assert "clipdesk.core.catalog.base" in _graph()["clipdesk.core.catalog.photos"]
    assert _SQL.search("SELECT id FROM photos") and not _SQL.search("select the photos you want")

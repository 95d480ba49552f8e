"""What goes into the PyInstaller bundle, decided in plain Python.

clipdesk.spec and the Qt hook overrides in packaging/hooks/ call these
functions; tests/packaging imports them directly, so the rules are checked
without running PyInstaller. Only :func:`lean_qt_hook` imports PyInstaller.

* :func:`model_bundles` - the model folders under models/ that are bundles
  (a folder with config.json), without the training and export scripts.
* :func:`keep_qt_file` - the lean Qt: the platform plugins, image formats and
  input methods the app needs, no translations, nothing from QtQuick/QML.
* :func:`third_party_licenses` - one text with the licence of every
  distribution (and, on Debian, every system library) that ended up bundled.
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path, PurePath

PACKAGING_DIR = Path(__file__).resolve().parent
REPO_ROOT = PACKAGING_DIR.parent
#: Standard licence texts for distributions whose wheels ship none (PySide6,
#: shiboken6, tokenizers): keyed by SPDX id.
LICENSE_TEXTS_DIR = PACKAGING_DIR / "licenses"

# -- model bundles ------------------------------------------------------------

#: Files inside a model folder that are tooling, not part of the bundle.
_NOT_BUNDLE = re.compile(r"(\.py[cod]?|\.ipynb|\.sh|\.ps1|\.log)$|(^|/)(__pycache__|\.)", re.I)


def model_bundles(models_dir: Path = REPO_ROOT / "models") -> list[tuple[str, str]]:
    """(source file, destination folder) pairs for every bundle under models_dir.

    A bundle is a direct sub-folder holding config.json (the format of
    models/BUNDLE.md). Everything else there - the export tool, training
    scripts, notes - stays out of the installer.
    """
    pairs: list[tuple[str, str]] = []
    if not models_dir.is_dir():
        return pairs
    for folder in sorted(p for p in models_dir.iterdir() if p.is_dir()):
        if not (folder / "config.json").is_file():
            continue
        for path in sorted(folder.rglob("*")):
            rel = path.relative_to(models_dir).as_posix()
            if path.is_file() and not _NOT_BUNDLE.search(rel):
                pairs.append((str(path), str(PurePath("models", path.parent.relative_to(models_dir)))))
    return pairs


def tree(src: Path, dest: str) -> list[tuple[str, str]]:
    """(source file, destination folder) pairs for a whole folder, caches left out."""
    pairs = []
    if src.is_dir():
        for path in sorted(src.rglob("*")):
            rel = path.relative_to(src)
            if path.is_file() and not _NOT_BUNDLE.search(rel.as_posix()):
                pairs.append((str(path), str(PurePath(dest, rel.parent))))
    return pairs


def cv2_cascades() -> list[tuple[str, str]]:
    """(source file, destination folder) of the OpenCV Haar cascades the people
    guard's face detector reads (clipdesk.core.people.CASCADES), where
    ``cv2.data.haarcascades`` finds them in the bundle."""
    import cv2

    from clipdesk.core.people import CASCADES

    return [(str(Path(cv2.data.haarcascades) / name), "cv2/data") for name, _ in CASCADES]


# -- lean Qt --------------------------------------------------------------------

#: Plugins kept, by plugin type; a type not listed is left out entirely.
#: Names are the file name without "lib", a leading "q" and the extension.
QT_PLUGINS: dict[str, dict[str, set[str]]] = {
    "platforms": {
        # offscreen: --self-test, --screenshot and CI. xcb: X11 and XWayland.
        "linux": {"xcb", "offscreen"},
        "win32": {"windows", "offscreen"},
        "darwin": {"cocoa", "offscreen"},
    },
    # png and bmp are built into QtGui; thumbnails are JPEG; the rest are what
    # a user drops on the window most often.
    "imageformats": {"*": {"jpeg", "webp", "gif", "ico"}},
    # Dead keys, compose sequences and IBus input methods in the search box.
    "platforminputcontexts": {"linux": {"composeplatforminputcontextplugin", "ibusplatforminputcontextplugin"}},
    # The portal theme gives native file dialogs in sandboxes; gtk3 would pull
    # GTK and its whole stack into the bundle.
    "platformthemes": {"linux": {"xdgdesktopportal"}},
    "xcbglintegrations": {"linux": {"xcb-glx-integration", "xcb-egl-integration"}},
    "styles": {"*": {"*"}},
    "tls": {"*": {"opensslbackend", "schannelbackend", "securetransportbackend", "certonlybackend"}},
}
#: Kept as well when the app ships SVG icons.
QT_SVG_PLUGINS = {"imageformats": {"svg"}, "iconengines": {"svgicon"}}


def _platform_key(platform: str) -> str:
    return "linux" if platform.startswith("linux") else platform


def _plugin_name(filename: str) -> str:
    stem = filename.split(".")[0]
    if stem.startswith("lib"):
        stem = stem[3:]
    if stem.startswith("q") and len(stem) > 1:
        stem = stem[1:]
    return stem


def app_uses_svg(*roots: Path) -> bool:
    return any(next(root.rglob("*.svg"), None) for root in roots if root.is_dir())


def keep_qt_file(dest: str, platform: str = sys.platform, svg: bool = False) -> bool:
    """Whether a file PyInstaller's Qt hooks collected belongs in the lean bundle.

    dest is the file's path inside the bundle, e.g.
    ``PySide6/Qt/plugins/platforms/libqxcb.so``. Files that are not Qt plugins
    or translations are always kept here: libraries are pulled in by what
    links them, so a dropped plugin takes its libraries with it.
    """
    parts = PurePath(dest).parts
    if not parts or parts[0] != "PySide6":
        return True
    if "translations" in parts and parts[-1].endswith(".qm"):
        return False  # the UI is English; Qt's own dialogs stay in English too
    if "qml" in parts:
        return False
    if "plugins" not in parts:
        return True
    i = parts.index("plugins")
    if len(parts) < i + 3:
        return True
    ptype, name = parts[i + 1], _plugin_name(parts[-1])
    if ptype == "platforms" and len(parts) > i + 3:  # platforms/darwin/ helper plugins
        return _platform_key(platform) == "darwin"
    rules = QT_PLUGINS.get(ptype, {})
    wanted = rules.get("*", set()) | rules.get(_platform_key(platform), set())
    if svg:
        wanted = wanted | QT_SVG_PLUGINS.get(ptype, set())
    return "*" in wanted or name in wanted


def lean_qt_hook(hook_file: str) -> tuple[list, list, list]:
    """PyInstaller's own Qt hook for one module, minus the plugins we leave out.

    Filtering here, before the analysis, matters: a plugin dropped afterwards
    would already have pulled its libraries (GTK for the gtk3 theme, for one)
    into the bundle.
    """
    from PyInstaller.utils.hooks.qt import add_qt6_dependencies

    hiddenimports, binaries, datas = add_qt6_dependencies(hook_file)
    svg = app_uses_svg(REPO_ROOT / "resources", REPO_ROOT / "clipdesk")
    binaries = [(s, d) for s, d in binaries if keep_qt_file(f"{d}/{os.path.basename(s)}", svg=svg)]
    datas = [(s, d) for s, d in datas if keep_qt_file(f"{d}/{os.path.basename(s)}", svg=svg)]
    return hiddenimports, binaries, datas


#: The runtime dependencies of pyproject.toml, by import name.
RUNTIME_MODULES = [
    "numpy", "PIL.Image", "pillow_heif", "platformdirs", "filelock", "watchdog.observers",
    "onnxruntime", "tokenizers", "hnswlib", "rich", "send2trash", "rawpy", "PySide6.QtWidgets",
    "cv2",  # the people guard's face detector (its Haar cascades are data files in cv2/data)
]

#: Python packages that must never end up in the installer: torch and the
#: export tooling (dev venv only), test tools, and GUI toolkits we do not use.
EXCLUDED_MODULES = [
    "torch", "torchvision", "open_clip", "timm", "onnx", "onnxscript", "onnx_ir",
    "matplotlib", "scipy", "sklearn", "skimage", "pandas", "IPython",
    "pytest", "pytestqt", "_pytest", "tkinter", "_tkinter",
    # No REPL in the app; GNU readline is GPL-licensed. numpy only uses yaml
    # in show_config().
    "readline", "yaml",
    "PySide6.QtQml", "PySide6.QtQuick", "PySide6.QtQuickWidgets", "PySide6.Qt3DCore",
    "PySide6.QtWebEngineCore", "PySide6.QtWebEngineWidgets", "PySide6.QtDesigner",
    "PySide6.QtUiTools", "PySide6.QtHelp", "PySide6.QtSql", "PySide6.QtTest",
    "PySide6.QtOpenGL", "PySide6.QtOpenGLWidgets", "PySide6.QtPrintSupport",
    # onnxruntime's training, quantisation and transformer tools import onnx/torch.
    "onnxruntime.quantization", "onnxruntime.transformers", "onnxruntime.tools",
    "onnxruntime.training",
]

#: Linux libraries taken from the system instead of the bundle: the desktop
#: integration stack, whose configuration files and daemons belong to the
#: installed system (a bundled fontconfig or dbus that is older than the
#: system's misreads its configuration). The .deb declares them in Depends.
LINUX_SYSTEM_LIBS = re.compile(
    r"^lib(fontconfig|freetype|expat|X11|X11-xcb|Xau|Xdmcp|Xext|Xrender|Xi|SM|ICE|xcb[-\w]*|"
    r"xkbcommon(-x11)?|glib-2\.0|gthread-2\.0|gobject-2\.0|gio-2\.0|gmodule-2\.0|dbus-1|"
    r"systemd|bsd|md|png16|brotli\w*|uuid|z|"
    # Kerberos (QtNetwork links GSSAPI) reads the system's /etc/krb5.conf.
    r"gssapi_krb5|krb5|k5crypto|krb5support|com_err|keyutils|"
    # The C and C++ runtimes: a bundled libstdc++ older than the system's
    # breaks the system's Mesa drivers, and libmvec is part of glibc.
    r"stdc\+\+|gcc_s|mvec|"
    # OpenSSL: security updates come from the system.
    r"ssl|crypto)\.so(\.\d+)*$"
)


def keep_system_lib(dest: str, platform: str = sys.platform) -> bool:
    """False for the Linux system libraries listed in LINUX_SYSTEM_LIBS."""
    if not platform.startswith("linux"):
        return True
    path = PurePath(dest)
    # Only libraries PyInstaller copied from the system land at the top; the
    # ones vendored by wheels live in <package>.libs/ with hashed names.
    return len(path.parts) > 1 or not LINUX_SYSTEM_LIBS.match(path.name)


def elf_needed(path: str) -> set[str]:
    """The DT_NEEDED sonames of an ELF file (readelf, from binutils)."""
    out = subprocess.run(["readelf", "-dW", path], capture_output=True, text=True, check=False).stdout
    return set(re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", out))


def prune_orphan_libs(binaries: list[tuple], needed=elf_needed) -> tuple[list[tuple], list[str]]:
    """Drop the system libraries PyInstaller copied that nothing kept still links.

    Leaving a library to the system (keep_system_lib) leaves its own
    dependencies behind in the bundle: glib's libmount, libselinux and
    libpcre2, for one. They sit at the top of the bundle, with their plain
    sonames; repeat until nothing more falls away. libpython is opened by the
    bootloader, not linked, and is always kept.
    """
    def candidate(entry) -> bool:
        dest, src, typecode = entry
        name = PurePath(dest).name
        return (
            typecode == "BINARY" and len(PurePath(dest).parts) == 1 and name.startswith("lib")
            and not name.startswith("libpython") and "site-packages" not in PurePath(src).parts
        )

    cache: dict[str, set[str]] = {}
    kept = list(binaries)
    dropped: list[str] = []
    while True:
        linked: set[str] = set()
        for dest, src, _ in kept:
            if src not in cache:
                cache[src] = needed(src)
            linked |= cache[src]
        orphans = [e for e in kept if candidate(e) and PurePath(e[0]).name not in linked]
        if not orphans:
            return kept, dropped
        dropped += [e[0] for e in orphans]
        kept = [e for e in kept if e not in orphans]


# -- licences -------------------------------------------------------------------

_LICENSE_FILE = re.compile(r"^(licen[cs]e|copying|notice|thirdpartynotices|authors)([.\-_].*)?$", re.I)


def _dist_index() -> dict[str, importlib.metadata.Distribution]:
    """Absolute path of every installed file -> its distribution."""
    owner: dict[str, importlib.metadata.Distribution] = {}
    for dist in importlib.metadata.distributions():
        for f in dist.files or ():
            try:
                owner[os.path.normcase(os.path.realpath(dist.locate_file(f)))] = dist
            except (OSError, ValueError):
                continue
    return owner


def _license_expression(dist: importlib.metadata.Distribution) -> str:
    meta = dist.metadata
    expr = meta.get("License-Expression") or ""
    lic = meta.get("License") or ""
    if not expr and lic and len(lic) < 120 and "\n" not in lic:
        expr = lic
    if not expr:
        classifiers = [c.split("::")[-1].strip() for c in meta.get_all("Classifier") or () if c.startswith("License ::")]
        expr = ", ".join(classifiers)
    return expr or "licence as below"


#: Words in licence expressions -> files in packaging/licenses/.
_SPDX_FILES = {
    "LGPL-3.0": "LGPL-3.0.txt", "GPL-3.0": "GPL-3.0.txt", "GPL-2.0": "GPL-2.0.txt",
    "Apache": "Apache-2.0.txt", "Apache-2.0": "Apache-2.0.txt",
}


def _fallback_texts(expr: str) -> list[Path]:
    found = []
    for key, name in _SPDX_FILES.items():
        if key in expr and (LICENSE_TEXTS_DIR / name) not in found:
            found.append(LICENSE_TEXTS_DIR / name)
    # The LGPL-3.0 is a set of additional permissions on top of the GPL-3.0.
    if LICENSE_TEXTS_DIR / "LGPL-3.0.txt" in found and LICENSE_TEXTS_DIR / "GPL-3.0.txt" not in found:
        found.append(LICENSE_TEXTS_DIR / "GPL-3.0.txt")
    return [p for p in found if p.is_file()]


def _debian_package(path: str) -> str | None:
    try:
        out = subprocess.run(["dpkg", "-S", os.path.realpath(path)], capture_output=True, text=True, check=False)
    except OSError:
        return None
    if out.returncode != 0:
        out = subprocess.run(["dpkg", "-S", path], capture_output=True, text=True, check=False)
    if out.returncode != 0 or ":" not in out.stdout:
        return None
    return out.stdout.split(":", 1)[0].strip()


def _python_license() -> Path | None:
    for cand in (
        Path(sys.base_prefix) / "LICENSE.txt",  # python.org Windows installer
        Path(sys.base_prefix) / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}" / "LICENSE.txt",
        Path(sys.base_prefix) / "share" / "doc" / f"python{sys.version_info[0]}.{sys.version_info[1]}" / "copyright",
    ):
        if cand.is_file():
            return cand
    return None


def third_party_licenses(sources: list[str], app_license: Path | None = None) -> tuple[str, list[str]]:
    """The THIRD-PARTY-LICENSES text for a bundle made of ``sources``, and warnings.

    ``sources`` are the source paths of everything bundled (PyInstaller's TOC).
    Each is traced to the installed distribution that owns it (its RECORD);
    files no distribution owns are the Python runtime or, on Debian, system
    libraries, whose copyright files dpkg knows.
    """
    owner = _dist_index()
    dists: dict[str, importlib.metadata.Distribution] = {}
    debs: dict[str, list[str]] = defaultdict(list)
    python_files = 0
    unowned: list[str] = []
    base = os.path.normcase(os.path.realpath(sys.base_prefix))
    for src in sources:
        if not src:
            continue
        real = os.path.normcase(os.path.realpath(src))
        dist = owner.get(real)
        if dist is not None:
            dists[dist.metadata["Name"]] = dist
        elif real.startswith(base + os.sep):
            python_files += 1
        elif sys.platform.startswith("linux") and (pkg := _debian_package(src)):
            debs[pkg].append(os.path.basename(src))
        elif not real.startswith(os.path.normcase(str(REPO_ROOT)) + os.sep):
            unowned.append(src)

    warnings: list[str] = []
    out: list[str] = [
        "ClipDesk - licences of the third-party software in this installation",
        "=" * 72,
        "",
        "ClipDesk itself is MIT-licensed. This installation also contains",
        "the software below, each under its own licence, reproduced here. Qt is used",
        "under the LGPL-3.0 as shared libraries that can be replaced by the user;",
        "Qt's own third-party components are listed at",
        "https://doc.qt.io/qt-6/licenses-used-in-qt.html.",
        "",
    ]
    if app_license and app_license.is_file():
        out += ["-" * 72, "ClipDesk", "-" * 72, app_license.read_text(encoding="utf-8", errors="replace"), ""]

    pylic = _python_license()
    out += ["-" * 72, f"Python {sys.version.split()[0]} (the interpreter and its standard library)", "-" * 72]
    if pylic:
        out.append(pylic.read_text(encoding="utf-8", errors="replace"))
    else:
        out.append("Python Software Foundation License Version 2 (PSF-2.0), https://docs.python.org/3/license.html")
    out.append("")

    for name in sorted(dists, key=str.lower):
        if name.lower() == "clipdesk":
            continue
        dist = dists[name]
        expr = _license_expression(dist)
        files = [f for f in dist.files or () if _LICENSE_FILE.match(PurePath(str(f)).name)]
        out += ["-" * 72, f"{name} {dist.version}  ({expr})", "-" * 72]
        home = dist.metadata.get("Home-page") or next(
            (u.split(",", 1)[1].strip() for u in dist.metadata.get_all("Project-URL") or () if "," in u), ""
        )
        if home:
            out.append(f"Project: {home}")
        texts = []
        for f in sorted(files, key=str):
            path = Path(dist.locate_file(f))
            if path.is_file():
                texts.append((str(f), path.read_text(encoding="utf-8", errors="replace")))
        if not texts:
            for path in _fallback_texts(expr):
                texts.append((f"{path.stem} (standard text; the wheel ships none)", path.read_text(encoding="utf-8")))
        if not texts:
            warnings.append(f"no licence text found for {name} ({expr})")
            out.append(f"Licence: {expr} (no licence text shipped with the package)")
        for label, text in texts:
            out += [f"--- {label} ---", text.rstrip(), ""]
        out.append("")

    for pkg in sorted(debs):
        out += ["-" * 72, f"Debian package {pkg}: {', '.join(sorted(set(debs[pkg])))}", "-" * 72]
        copyright_file = Path("/usr/share/doc") / pkg / "copyright"
        if not copyright_file.is_file():
            copyright_file = Path("/usr/share/doc") / pkg.split(":")[0] / "copyright"
        if copyright_file.is_file():
            out.append(copyright_file.read_text(encoding="utf-8", errors="replace").rstrip())
        else:
            warnings.append(f"no copyright file for Debian package {pkg}")
        out.append("")

    if unowned:
        out += ["-" * 72, "Files of unknown origin (please report)", "-" * 72, *sorted(set(unowned)), ""]
        warnings += [f"bundled file of unknown origin: {u}" for u in sorted(set(unowned))]
    return "\n".join(out) + "\n", warnings


def read_plist(path: Path) -> dict:
    import plistlib

    with open(path, "rb") as fh:
        return plistlib.load(fh)

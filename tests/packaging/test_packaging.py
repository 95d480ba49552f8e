"""Checks of the installer recipes that run in the normal test run (seconds).

The Windows and macOS recipes cannot be built here; what can be checked is
checked: scripts pass shellcheck, the spec parses and its rules pick the
right files, the plists and the Inno Setup script are well-formed and say
what they must, the desktop entry validates, the macOS script's dry run
walks through every step, and ``--self-test`` passes in-process and as a
command. The full Linux build and its verification on a clean Debian 12
root take minutes and run only when asked (see test_linux_packages).
"""

from __future__ import annotations

import ast
import configparser
import os
import plistlib
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import bundle_contents as bc

REPO = Path(__file__).resolve().parents[2]
PACKAGING = REPO / "packaging"
SHELL_SCRIPTS = sorted(p for p in PACKAGING.rglob("*.sh") if "out" not in p.relative_to(PACKAGING).parts)


# -- scripts ----------------------------------------------------------------------


@pytest.mark.parametrize("script", SHELL_SCRIPTS, ids=lambda p: str(p.relative_to(PACKAGING)))
def test_shell_script_passes_shellcheck(script):
    if shutil.which("shellcheck") is None:
        pytest.skip("shellcheck is not installed")
    out = subprocess.run(["shellcheck", "--shell=sh", str(script)], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


@pytest.mark.parametrize("script", SHELL_SCRIPTS, ids=lambda p: str(p.relative_to(PACKAGING)))
def test_shell_script_is_executable(script):
    assert os.access(script, os.X_OK), f"chmod +x {script}"


def test_macos_build_dry_run_walks_every_step():
    out = subprocess.run(["sh", str(PACKAGING / "macos" / "build.sh"), "--dry-run"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    steps = out.stdout
    for expected in ("HNSWLIB_NO_NATIVE=1", "--no-binary hnswlib", "PyInstaller", "clipdesk.spec",
                     "hdiutil create", "-format ULFO", "/Applications", "macos-arm64.dmg"):
        assert expected in steps, expected
    assert "torch" not in steps


def test_verify_skips_cleanly_without_root_or_debootstrap(tmp_path):
    """Where it cannot run, verify.sh says why and exits 0 (CI stays green)."""
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    # A PATH without debootstrap, and an `id` that says "not root".
    (fake_bin / "id").write_text("#!/bin/sh\necho 1000\n")
    (fake_bin / "id").chmod(0o755)
    env = {**os.environ, "PATH": f"{fake_bin}:/usr/bin:/bin"}
    out = subprocess.run(["sh", str(PACKAGING / "linux" / "verify.sh")], capture_output=True, text=True,
                         env=env, timeout=60)
    assert out.returncode == 0
    assert "SKIP: needs root" in out.stdout


def test_build_scripts_never_use_the_dev_venv():
    for script in [*SHELL_SCRIPTS, PACKAGING / "windows" / "build.ps1"]:
        text = script.read_text()
        assert "/.venv" not in text and "\\.venv" not in text, script


# -- the spec and its rules ------------------------------------------------------------


def test_spec_parses_and_names_files_that_exist():
    spec = PACKAGING / "clipdesk.spec"
    ast.parse(spec.read_text(), filename=str(spec))
    for rel in ("clipdesk_launcher.py", "hooks", "icons/clipdesk.ico", "icons/clipdesk.icns",
                "macos/Info.plist", "macos/entitlements.plist"):
        assert (PACKAGING / rel).exists(), rel
    for hook in (PACKAGING / "hooks").glob("hook-*.py"):
        ast.parse(hook.read_text(), filename=str(hook))


def test_model_bundles_are_folders_with_config_and_no_scripts(tmp_path):
    models = tmp_path / "models"
    (models / "mini" / "visual").mkdir(parents=True)
    (models / "mini" / "config.json").write_text("{}")
    (models / "mini" / "visual" / "model.onnx").write_bytes(b"onnx")
    (models / "mini" / "train.py").write_text("print()")
    (models / "mini" / "__pycache__").mkdir()
    (models / "mini" / "__pycache__" / "train.cpython-311.pyc").write_bytes(b"")
    (models / "export").mkdir()
    (models / "export" / "tool.py").write_text("")
    (models / "BUNDLE.md").write_text("")
    pairs = bc.model_bundles(models)
    assert sorted((Path(s).name, d) for s, d in pairs) == [
        ("config.json", "models/mini"), ("model.onnx", "models/mini/visual"),
    ]


def test_repository_model_bundles_are_shipped_whole():
    """Every file of every committed bundle goes in, except scripts."""
    for src, dest in bc.model_bundles(REPO / "models"):
        assert not src.endswith(".py")
        assert dest.startswith("models/")
    for folder in (REPO / "models").iterdir():
        if (folder / "config.json").is_file():
            manifest = folder / "manifest.json"
            shipped = {Path(s).relative_to(folder).as_posix() for s, _ in bc.model_bundles(REPO / "models")
                       if Path(s).is_relative_to(folder)}
            if manifest.is_file():
                import json

                listed = set(json.loads(manifest.read_text())["files"])
                assert listed <= shipped, f"{folder.name}: manifest lists files the installer would drop"


@pytest.mark.parametrize("dest,platform,kept", [
    ("PySide6/Qt/plugins/platforms/libqxcb.so", "linux", True),
    ("PySide6/Qt/plugins/platforms/libqoffscreen.so", "linux", True),
    ("PySide6/Qt/plugins/platforms/libqwayland.so", "linux", False),
    ("PySide6/Qt/plugins/platforms/libqeglfs.so", "linux", False),
    ("PySide6/Qt/plugins/platforms/libqvnc.so", "linux", False),
    ("PySide6/Qt/plugins/platformthemes/libqgtk3.so", "linux", False),
    ("PySide6/Qt/plugins/platformthemes/libqxdgdesktopportal.so", "linux", True),
    ("PySide6/Qt/plugins/imageformats/libqjpeg.so", "linux", True),
    ("PySide6/Qt/plugins/imageformats/libqwebp.so", "linux", True),
    ("PySide6/Qt/plugins/imageformats/libqpdf.so", "linux", False),
    ("PySide6/Qt/plugins/imageformats/libqtiff.so", "linux", False),
    ("PySide6/Qt/plugins/egldeviceintegrations/libqeglfs-kms-integration.so", "linux", False),
    ("PySide6/Qt/plugins/platforminputcontexts/libqtvirtualkeyboardplugin.so", "linux", False),
    ("PySide6/Qt/plugins/platforminputcontexts/libcomposeplatforminputcontextplugin.so", "linux", True),
    ("PySide6/Qt/plugins/sqldrivers/libqsqlite.so", "linux", False),
    ("PySide6/Qt/plugins/xcbglintegrations/libqxcb-glx-integration.so", "linux", True),
    ("PySide6/Qt/translations/qtbase_de.qm", "linux", False),
    ("PySide6/Qt/qml/QtQuick/libqtquick2plugin.so", "linux", False),
    ("PySide6/Qt/lib/libQt6Core.so.6", "linux", True),
    ("PySide6/plugins/platforms/qwindows.dll", "win32", True),
    ("PySide6/plugins/platforms/qdirect2d.dll", "win32", False),
    ("PySide6/plugins/styles/qmodernwindowsstyle.dll", "win32", True),
    ("PySide6/Qt/plugins/platforms/libqcocoa.dylib", "darwin", True),
    ("PySide6/Qt/plugins/platforms/libqxcb.so", "darwin", False),
    ("numpy/plugins/whatever.so", "linux", True),
])
def test_lean_qt_rules(dest, platform, kept):
    assert bc.keep_qt_file(dest, platform=platform) is kept


def test_svg_plugins_only_when_the_app_ships_svg():
    assert not bc.keep_qt_file("PySide6/Qt/plugins/iconengines/libqsvgicon.so", "linux", svg=False)
    assert bc.keep_qt_file("PySide6/Qt/plugins/iconengines/libqsvgicon.so", "linux", svg=True)
    assert bc.keep_qt_file("PySide6/Qt/plugins/imageformats/libqsvg.so", "linux", svg=True)


@pytest.mark.parametrize("dest,kept", [
    ("libfontconfig.so.1", False),
    ("libX11.so.6", False),
    ("libxcb-cursor.so.0", False),
    ("libglib-2.0.so.0", False),
    ("libstdc++.so.6", False),
    ("libssl.so.3", False),
    ("libgssapi_krb5.so.2", False),
    ("libpython3.11.so.1.0", True),
    ("libffi.so.8", True),
    ("libzstd.so.1", True),
    # Wheels' own copies keep their hashed names inside <package>.libs/.
    ("pillow.libs/libxcb-9065bb12.so.1.1.0", True),
    ("PySide6/Qt/lib/libicuuc.so.73", True),
])
def test_linux_system_libraries_are_left_to_the_system(dest, kept):
    assert bc.keep_system_lib(dest, platform="linux") is kept
    assert bc.keep_system_lib(dest, platform="win32") is True


def test_orphaned_system_libraries_are_pruned():
    links = {
        "/sys/libglib.so": {"libpcre2-8.so.0"},
        "/sys/libpcre2-8.so.0": set(),
        "/venv/site-packages/PySide6/QtCore.so": {"libzstd.so.1", "libglib-2.0.so.0"},
        "/sys/libzstd.so.1": set(),
        "/sys/libpython3.11.so.1.0": set(),
        "/sys/liblonely.so.1": {"libalsolonely.so.2"},
        "/sys/libalsolonely.so.2": set(),
    }
    binaries = [
        ("libpcre2-8.so.0", "/sys/libpcre2-8.so.0", "BINARY"),
        ("PySide6/QtCore.so", "/venv/site-packages/PySide6/QtCore.so", "EXTENSION"),
        ("libzstd.so.1", "/sys/libzstd.so.1", "BINARY"),
        ("libpython3.11.so.1.0", "/sys/libpython3.11.so.1.0", "BINARY"),
        ("liblonely.so.1", "/sys/liblonely.so.1", "BINARY"),
        ("libalsolonely.so.2", "/sys/libalsolonely.so.2", "BINARY"),
    ]
    kept, dropped = bc.prune_orphan_libs(binaries, needed=lambda src: links[src])
    assert sorted(dropped) == ["libalsolonely.so.2", "liblonely.so.1", "libpcre2-8.so.0"]
    assert [e[0] for e in kept] == ["PySide6/QtCore.so", "libzstd.so.1", "libpython3.11.so.1.0"]


def test_torch_and_test_tools_are_excluded():
    for name in ("torch", "torchvision", "open_clip", "pytest", "tkinter", "readline"):
        assert name in bc.EXCLUDED_MODULES
    assert not set(bc.RUNTIME_MODULES) & set(bc.EXCLUDED_MODULES)


def test_the_face_detector_and_its_cascades_are_shipped():
    assert "cv2" in bc.RUNTIME_MODULES
    pairs = bc.cv2_cascades()
    assert pairs and all(Path(src).is_file() and dest == "cv2/data" for src, dest in pairs)
    assert all(Path(src).read_text(encoding="utf-8", errors="replace").count("Intel License Agreement")
               for src, _ in pairs)  # the cascades' own licence travels inside each file


def test_third_party_licenses_come_from_each_distribution():
    import numpy
    import PySide6

    text, warnings = bc.third_party_licenses([numpy.__file__, PySide6.__file__])
    assert "numpy " in text and "PySide6_Essentials " in text
    assert "Python Software Foundation" in text or "PSF" in text
    # PySide6's wheel ships no licence file: the standard LGPL-3.0 text stands in.
    assert "GNU LESSER GENERAL PUBLIC LICENSE" in text
    assert "GNU GENERAL PUBLIC LICENSE" in text  # the LGPL-3.0 builds on the GPL-3.0
    assert not [w for w in warnings if "numpy" in w or "PySide6" in w]


def test_license_texts_are_the_standard_ones():
    for name, first in [("LGPL-3.0.txt", "GNU LESSER GENERAL PUBLIC LICENSE"),
                        ("GPL-3.0.txt", "GNU GENERAL PUBLIC LICENSE"),
                        ("GPL-2.0.txt", "GNU GENERAL PUBLIC LICENSE"),
                        ("Apache-2.0.txt", "Apache License")]:
        assert first in (PACKAGING / "licenses" / name).read_text()[:400], name


# -- icons ----------------------------------------------------------------------------------


def test_committed_icons_have_every_size():
    from PIL import Image

    for size in (16, 24, 32, 48, 64, 128, 256, 512):
        with Image.open(PACKAGING / "icons" / f"clipdesk-{size}.png") as im:
            assert im.size == (size, size) and im.mode == "RGBA"
    with Image.open(PACKAGING / "icons" / "clipdesk.ico") as ico:
        assert {(16, 16), (32, 32), (48, 48), (256, 256)} <= set(ico.info["sizes"])
    with Image.open(PACKAGING / "icons" / "clipdesk.icns") as icns:
        assert icns.format == "ICNS" and max(icns.info["sizes"])[:2] == (512, 512)


def test_make_icon_draws_the_same_picture(tmp_path):
    import make_icon
    import numpy as np
    from PIL import Image

    assert make_icon.main(tmp_path) == 0
    with Image.open(tmp_path / "clipdesk-64.png") as new, Image.open(PACKAGING / "icons" / "clipdesk-64.png") as old:
        diff = np.abs(np.asarray(new, np.int16) - np.asarray(old, np.int16))
    assert diff.mean() < 2.0  # Pillow releases may round differently, the picture is the same


# -- desktop entry, plists, Inno Setup, CI ------------------------------------------------------------


def test_desktop_entry_is_valid():
    entry = PACKAGING / "linux" / "clipdesk.desktop"
    if shutil.which("desktop-file-validate"):
        out = subprocess.run(["desktop-file-validate", str(entry)], capture_output=True, text=True)
        assert out.returncode == 0 and not out.stdout.strip(), out.stdout
    cp = configparser.ConfigParser(interpolation=None)
    cp.optionxform = str
    cp.read(entry)
    d = cp["Desktop Entry"]
    assert d["Exec"].split()[:2] == ["clipdesk", "gui"]
    assert d["Icon"] == "clipdesk" and d["Type"] == "Application"


def test_macos_info_plist():
    info = plistlib.loads((PACKAGING / "macos" / "Info.plist").read_bytes())
    assert re.fullmatch(r"[A-Za-z0-9.-]+", info["CFBundleIdentifier"])
    assert info["NSHighResolutionCapable"] is True
    assert tuple(int(x) for x in info["LSMinimumSystemVersion"].split(".")) >= (11, 0)
    assert "NSPhotoLibraryUsageDescription" not in info  # folders, not the Photos library
    for key in ("NSDesktopFolderUsageDescription", "NSDocumentsFolderUsageDescription",
                "NSRemovableVolumesUsageDescription", "NSNetworkVolumesUsageDescription"):
        assert info[key].strip(), key
    types = {t for d in info["CFBundleDocumentTypes"] for t in d["LSItemContentTypes"]}
    assert {"public.jpeg", "public.heic", "public.png", "public.folder"} <= types
    assert all(d["LSHandlerRank"] in ("Alternate", "None") for d in info["CFBundleDocumentTypes"])


def test_macos_entitlements_ask_for_nothing_unneeded():
    ent = plistlib.loads((PACKAGING / "macos" / "entitlements.plist").read_bytes())
    assert ent.get("com.apple.security.files.user-selected.read-write") is True
    for key in ("com.apple.security.cs.allow-jit", "com.apple.security.cs.allow-unsigned-executable-memory",
                "com.apple.security.cs.disable-library-validation", "com.apple.security.get-task-allow"):
        assert key not in ent, key
    assert all(v is True for v in ent.values())  # Apple: omit entitlements rather than set them false


def _iss_sections(text: str) -> dict[str, list[str]]:
    sections: dict[str, list[str]] = {}
    current = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(";") or line.startswith("#"):
            continue
        m = re.fullmatch(r"\[(\w+)\]", line)
        if m:
            current = m.group(1)
            sections.setdefault(current, [])
            continue
        assert current is not None, f"line outside any section: {raw!r}"
        sections[current].append(line)
    return sections


def test_inno_setup_script():
    text = (PACKAGING / "windows" / "clipdesk.iss").read_text()
    sections = _iss_sections(text)
    assert {"Setup", "Files", "Icons", "Tasks", "Run", "InstallDelete"} <= set(sections)
    setup = dict(line.split("=", 1) for line in sections["Setup"])
    assert setup["PrivilegesRequired"] == "lowest"  # per user, no administrator rights
    assert setup["DefaultDirName"].startswith("{autopf}")
    assert setup["ArchitecturesInstallIn64BitMode"] == "x64compatible"
    assert re.fullmatch(r"\{\{[0-9A-F-]{36}\}", setup["AppId"])
    assert "{autoprograms}" in " ".join(sections["Icons"])  # Start menu entry
    assert "Uninstallable" not in setup or setup["Uninstallable"] == "yes"
    # Every preprocessor #if has its #endif; each {#Define} used is defined.
    assert text.count("#if ") + text.count("#ifndef ") == text.count("#endif")
    defined = set(re.findall(r"#define (\w+)", text))
    assert set(re.findall(r"\{#(\w+)\}", text)) <= defined
    # The flavours build.ps1 knows are the ones the script accepts.
    ps1 = (PACKAGING / "windows" / "build.ps1").read_text()
    flavours = set(re.search(r"ValidateSet\(([^)]*)\)", ps1).group(1).replace("'", "").replace(" ", "").split(","))
    assert flavours == {"cpu", "directml", "cuda"}
    for flavour in flavours - {"cpu"}:
        assert f'Flavor == "{flavour}"' in text


def test_ci_workflow_calls_the_same_scripts():
    wf = (REPO / ".github" / "workflows" / "installers.yml").read_text()
    for needle in ("packaging/linux/build.sh", "packaging/linux/verify.sh", "packaging/windows/build.ps1",
                   "packaging/macos/build.sh", "ubuntu", "windows", "macos"):
        assert needle in wf, needle
    try:
        import yaml
    except ImportError:
        return
    doc = yaml.safe_load(wf)
    assert set(doc["jobs"]) >= {"linux", "windows", "macos"}


# -- self-test ------------------------------------------------------------------------------------


@pytest.fixture
def colour_model(tmp_path, monkeypatch):
    """The colour bundle of the test kit as the only shipped model, and no scene items."""
    from colourkit import write_colour_bundle

    models = tmp_path / "shipped-models"
    write_colour_bundle(models / "colour-test")
    resources = tmp_path / "shipped-resources"
    resources.mkdir()
    monkeypatch.setenv("CLIPDESK_MODELS_DIR", str(models))
    monkeypatch.setenv("CLIPDESK_RESOURCES_DIR", str(resources))
    return models


def test_self_test_passes_in_process(colour_model, tmp_path):
    from clipdesk.core import selftest

    before = dict(os.environ)
    user_data = Path(os.environ["CLIPDESK_DATA_DIR"])
    steps = list(selftest.run(root=tmp_path))
    assert [(s.name, s.status) for s in steps] == [
        ("photos", "ok"), ("decode", "ok"), ("model", "ok"), ("embed", "ok"),
        ("index", "ok"), ("search", "ok"), ("library", "ok"),
    ], [s.line for s in steps]
    assert selftest.exit_code(steps) == 0
    assert all(re.fullmatch(r"ok \w+ \(\d+ ms\)(: .*)?", s.line) for s in steps)
    # Its own temporary folder, removed afterwards; the user's never touched.
    assert not user_data.exists()
    assert list(tmp_path.glob("clipdesk-selftest-*")) == []
    assert dict(os.environ) == before


def test_self_test_reports_a_failure(colour_model, tmp_path):
    from clipdesk.core import selftest

    # A bundle whose file no longer matches its manifest: the model step must fail, not crash.
    onnx = colour_model / "colour-test" / "visual" / "model.onnx"
    onnx.write_bytes(onnx.read_bytes() + b"\0")
    steps = list(selftest.run(root=tmp_path))
    status = {s.name: s.status for s in steps}
    assert status["model"] == "FAIL" and status["photos"] == "ok"
    assert status["embed"] == "skip" and "needs model" in next(s.detail for s in steps if s.name == "embed")
    assert selftest.exit_code(steps) == 1
    assert next(s for s in steps if s.name == "model").line.startswith("FAIL model: ")


def test_self_test_skips_without_a_model(tmp_path, monkeypatch):
    from clipdesk.core import selftest

    monkeypatch.setenv("CLIPDESK_MODELS_DIR", str(tmp_path / "none"))
    steps = {s.name: s for s in selftest.run(root=tmp_path)}
    assert steps["model"].status == "skip" and steps["decode"].status == "ok"
    assert steps["search"].line == "skip search: needs index"


def test_required_steps_turn_skips_into_failures(tmp_path, monkeypatch):
    from clipdesk.core import selftest

    monkeypatch.setenv("CLIPDESK_MODELS_DIR", str(tmp_path / "none"))
    monkeypatch.setattr(selftest, "REQUIRED_STEPS", frozenset(selftest.STEPS))
    steps = {s.name: s for s in selftest.run(root=tmp_path)}
    assert steps["model"].status == "FAIL" and "required" in steps["model"].detail
    assert list(steps) == list(selftest.STEPS)


@pytest.mark.skipif(not (REPO / "models" / "clipdesk-mini" / "config.json").is_file(),
                    reason="the small in-house model is not in models/ yet")
def test_self_test_with_the_bundled_model(tmp_path):
    from clipdesk.core import selftest

    steps = list(selftest.run(root=tmp_path))
    assert selftest.exit_code(steps) == 0, [s.line for s in steps]
    assert all(s.status == "ok" for s in steps), [s.line for s in steps]


def test_self_test_command(colour_model):
    out = subprocess.run([sys.executable, "-m", "clipdesk", "--self-test"], capture_output=True, text=True,
                         timeout=300, env=dict(os.environ))
    assert out.returncode == 0, out.stdout + out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].startswith("ok photos (") and lines[-1].startswith("self-test passed: 7 ok")


# -- the full Linux build (minutes): run by .ci/run as its own step ---------------------------------------


@pytest.mark.packaging
@pytest.mark.skipif(os.environ.get("CLIPDESK_PACKAGING") != "1",
                    reason="set CLIPDESK_PACKAGING=1 to build the .deb and verify it on a clean Debian 12 "
                           "(CI runs packaging/linux/build.sh && packaging/linux/verify.sh as its own step)")
def test_linux_packages():
    build = subprocess.run([str(PACKAGING / "linux" / "build.sh")], capture_output=True, text=True, timeout=1800)
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    deb = PACKAGING / "out" / "clipdesk.deb"
    assert deb.stat().st_size <= 120 * 1024 * 1024, f".deb is {deb.stat().st_size / 2**20:.0f} MiB"
    verify = subprocess.run([str(PACKAGING / "linux" / "verify.sh")], capture_output=True, text=True, timeout=1800)
    assert verify.returncode == 0, verify.stdout[-3000:] + verify.stderr[-3000:]
    print(verify.stdout)

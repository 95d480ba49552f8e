#!/bin/sh
# Build ClipDesk.app and packaging/out/ClipDesk-<version>-macos-<arch>.dmg.
#
#   packaging/macos/build.sh [--fresh] [--dry-run]
#
# --fresh    recreate the build venv
# --dry-run  print the build commands instead of running them (works on any OS;
#            tests/packaging runs it on Linux)
#
# Architectures: PyInstaller builds for the architecture of the Python that
# runs it, so each architecture is its own build and its own .dmg:
#   arm64   on Apple silicon (GitHub runner macos-14 or later)
#   x86_64  on an Intel Mac (macos-13), or on Apple silicon under Rosetta with
#           a universal2 python.org Python: PYTHON="arch -x86_64 python3.11"
# A universal2 build is not possible today: onnxruntime stopped publishing
# universal2 macOS wheels after 1.22 and x86_64 ones after 1.23 (1.32 is
# arm64 only), so the two builds even carry different ONNX Runtime releases.
#
# Signing and notarization (optional; unsigned builds run after the user
# allows them in System Settings > Privacy & Security):
#   CLIPDESK_CODESIGN_IDENTITY="Developer ID Application: Name (TEAMID)"
#       PyInstaller signs every binary and the .app with the hardened runtime
#       and packaging/macos/entitlements.plist; the .dmg is signed too.
#   CLIPDESK_NOTARY_PROFILE=<keychain profile of `xcrun notarytool store-credentials`>
#       submits the .dmg to Apple's notary service and staples the ticket.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
OUT="$ROOT/packaging/out"

fresh=0
dry=0
for arg in "$@"; do
    case "$arg" in
    --fresh) fresh=1 ;;
    --dry-run) dry=1 ;;
    -h | --help)
        sed -n '2,26p' "$0"
        exit 0
        ;;
    *)
        echo "build.sh: unknown option $arg" >&2
        exit 2
        ;;
    esac
done

say() { printf 'macos/build.sh: %s\n' "$*" >&2; }
die() {
    say "$*"
    exit 1
}
# run CMD...: run it, or print it in a dry run.
run() {
    if [ "$dry" = 1 ]; then
        printf '+ %s\n' "$*"
    else
        "$@"
    fi
}
ms() { python3 -c 'import time; print(int(time.time() * 1000))'; }

if [ "$dry" = 0 ]; then
    [ "$(uname -s)" = Darwin ] || die "this script builds on macOS (use --dry-run to see its steps elsewhere)"
    command -v hdiutil >/dev/null 2>&1 || die "hdiutil not found"
fi
# shellcheck disable=SC2086 # PYTHON may be a command with arguments ("arch -x86_64 python3.11")
PY=${PYTHON:-python3.11}
if [ "$dry" = 1 ]; then
    ARCH=${CLIPDESK_TARGET_ARCH:-arm64}
else
    # shellcheck disable=SC2086
    ARCH=$($PY -c 'import platform; print(platform.machine())')
fi
VENV="$OUT/build-venv-macos-$ARCH"
DIST="$OUT/dist-macos-$ARCH"
WORK="$OUT/work-macos-$ARCH"
VPY="$VENV/bin/python"
mkdir -p "$OUT"

# -- build venv ---------------------------------------------------------------------
stamp="$VENV/.clipdesk-build-stamp"
want=$(cat "$ROOT/pyproject.toml" "$0" | cksum)
if [ "$fresh" = 1 ] || [ ! -x "$VPY" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    say "creating the build venv in $VENV ($ARCH)"
    run rm -rf "$VENV"
    # shellcheck disable=SC2086
    run $PY -m venv "$VENV"
    run "$VPY" -m pip install -q --upgrade pip
    # hnswlib from source for this architecture only, never a cached wheel,
    # and without -mcpu/-march=native tuning.
    run env HNSWLIB_NO_NATIVE=1 ARCHFLAGS="-arch $ARCH" \
        "$VPY" -m pip install -q --no-cache-dir --no-binary hnswlib "hnswlib>=0.8.0"
    run "$VPY" -m pip install -q "$ROOT" "pyinstaller>=6.10,<7"
    run "$VPY" -m pip uninstall -q -y clipdesk
    [ "$dry" = 1 ] || echo "$want" >"$stamp"
fi

# -- the oldest macOS every bundled binary runs on ------------------------------------
# LC_BUILD_VERSION minos of each Mach-O file in the venv; the newest one wins.
MIN_MACOS=11.0
if [ "$dry" = 0 ]; then
    site=$("$VPY" -c 'import sysconfig; print(sysconfig.get_paths()["platlib"])')
    MIN_MACOS=$(find "$site" \( -name '*.so' -o -name '*.dylib' \) -type f -print0 |
        xargs -0 -n 50 otool -l 2>/dev/null | awk '/^ *minos / {print $2}' |
        sort -t. -k1,1n -k2,2n | tail -1)
    [ -n "$MIN_MACOS" ] || MIN_MACOS=11.0
fi
say "minimum macOS for this build: $MIN_MACOS"

# -- PyInstaller ------------------------------------------------------------------------
run rm -rf "$DIST"
run env CLIPDESK_TARGET_ARCH="$ARCH" CLIPDESK_MACOS_MIN="$MIN_MACOS" \
    CLIPDESK_CODESIGN_IDENTITY="${CLIPDESK_CODESIGN_IDENTITY:-}" \
    "$VPY" -m PyInstaller --noconfirm --clean --log-level WARN \
    --distpath "$DIST" --workpath "$WORK" "$ROOT/packaging/clipdesk.spec"
APP="$DIST/ClipDesk.app"
EXE="$APP/Contents/MacOS/ClipDesk"
if [ "$dry" = 0 ]; then
    [ -x "$EXE" ] || die "PyInstaller did not produce $EXE"
    lipo -archs "$EXE" | grep -qw "$ARCH" || die "$EXE is not built for $ARCH"
fi
if [ -n "${CLIPDESK_CODESIGN_IDENTITY:-}" ]; then
    run codesign --verify --deep --strict --verbose=2 "$APP"
    if [ "$dry" = 0 ]; then
        codesign --display --verbose=2 "$EXE" 2>&1 | grep -q 'flags=.*runtime' ||
            die "$EXE is not signed with the hardened runtime"
    fi
fi

# -- smoke test ---------------------------------------------------------------------------
if [ "$dry" = 0 ]; then
    t0=$(ms)
    VERSION=$("$EXE" --version | awk '{print $2}')
    t_version=$(($(ms) - t0))
    t0=$(ms)
    QT_QPA_PLATFORM=offscreen "$EXE" --self-test || die "--self-test failed"
    t_selftest=$(($(ms) - t0))
else
    VERSION=$(sed -n 's/^__version__ = "\(.*\)"/\1/p' "$ROOT/clipdesk/__init__.py")
    t_version=0
    t_selftest=0
fi

# -- .dmg ------------------------------------------------------------------------------------
DMG="$OUT/ClipDesk-$VERSION-macos-$ARCH.dmg"
STAGE="$OUT/dmg-$ARCH"
run rm -rf "$STAGE" "$DMG"
run mkdir -p "$STAGE"
run cp -R "$APP" "$STAGE/"
run ln -s /Applications "$STAGE/Applications"
# ULFO (LZFSE) is smaller and faster to open than UDZO; macOS 10.11 or later.
run hdiutil create -volname "ClipDesk $VERSION" -srcfolder "$STAGE" -fs HFS+ -format ULFO -ov "$DMG"
run rm -rf "$STAGE"
if [ -n "${CLIPDESK_CODESIGN_IDENTITY:-}" ]; then
    run codesign --sign "$CLIPDESK_CODESIGN_IDENTITY" --timestamp "$DMG"
fi
if [ -n "${CLIPDESK_NOTARY_PROFILE:-}" ]; then
    run xcrun notarytool submit "$DMG" --keychain-profile "$CLIPDESK_NOTARY_PROFILE" --wait
    run xcrun stapler staple "$DMG"
fi

echo "== ClipDesk $VERSION macOS build ($ARCH, macOS $MIN_MACOS or later) =="
if [ "$dry" = 0 ]; then
    echo "app (unpacked):     $(du -sh "$APP" | cut -f1)  $APP"
    echo ".dmg:               $(du -h "$DMG" | cut -f1)  $DMG"
    echo "start-up:           --version ${t_version} ms; --self-test ${t_selftest} ms"
else
    echo "dry run: nothing was built ($DMG)"
fi

#!/bin/sh
# Build ClipDesk for Linux: a PyInstaller onedir bundle, then
#   packaging/out/clipdesk_<version>_<arch>.deb      (dpkg-deb; /opt/clipdesk, /usr/bin/clipdesk)
#   packaging/out/clipdesk-<version>-linux-<arch>.tar.xz   (portable: unpack and run ./clipdesk)
#   packaging/out/clipdesk.deb                        (a copy under a fixed name, for verify.sh)
#
#   packaging/linux/build.sh [--fresh] [--no-deb]
#
# --fresh   recreate the build venv (otherwise it is reused while pyproject.toml
#           and this script are unchanged)
# --no-deb  only the bundle and the tarball (hosts without dpkg-deb)
#
# Build on the oldest system you support (Debian 12 here): the bundle needs
# that system's glibc or newer. The build venv (packaging/out/build-venv) is
# separate from the dev venv on purpose: the dev venv holds torch, which must
# never reach the installer. PYTHON=/path/to/python3.11 picks the interpreter.
#
# hnswlib publishes no wheels and its source build uses -march=native; that
# binary would crash on older CPUs, so it is compiled here with
# HNSWLIB_NO_NATIVE=1, never taken from pip's wheel cache, and checked for AVX
# instructions afterwards.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
OUT="$ROOT/packaging/out"
VENV="$OUT/build-venv"
DIST="$OUT/dist"
WORK="$OUT/work"

fresh=0
make_deb=1
for arg in "$@"; do
    case "$arg" in
    --fresh) fresh=1 ;;
    --no-deb) make_deb=0 ;;
    -h | --help)
        sed -n '2,24p' "$0"
        exit 0
        ;;
    *)
        echo "build.sh: unknown option $arg" >&2
        exit 2
        ;;
    esac
done

say() { printf 'build.sh: %s\n' "$*" >&2; }
die() {
    say "$*"
    exit 1
}
now() { date +%s; }
T0=$(now)

# -- the interpreter and the system libraries the Qt platform plugin links -----
find_python() {
    if [ -n "${PYTHON:-}" ]; then
        echo "$PYTHON"
        return 0
    fi
    for p in python3.11 python3.12 python3.13 python3; do
        if command -v "$p" >/dev/null 2>&1 &&
            "$p" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            command -v "$p"
            return 0
        fi
    done
    return 1
}
PY=$(find_python) || die "Python 3.11 or newer is required (set PYTHON=...)"

# dpkg-shlibdeps must find every library the bundle links from the system, so
# the build machine needs them installed (they are not bundled: see
# LINUX_SYSTEM_LIBS in packaging/bundle_contents.py).
BUILD_DEBS="binutils libgl1 libegl1 libglib2.0-0 libxkbcommon0 libxkbcommon-x11-0 libx11-6 libx11-xcb1
libfreetype6 libfontconfig1 libdbus-1-3 libgssapi-krb5-2 libssl3 libxcb-cursor0 libxcb-icccm4
libxcb-keysyms1 libxcb-shape0 libxcb-randr0 libxcb-render-util0 libxcb-image0 libxcb-xkb1"
if [ "$make_deb" = 1 ]; then
    command -v dpkg-deb >/dev/null 2>&1 || die "dpkg-deb not found: install dpkg-dev, or use --no-deb"
    command -v dpkg-shlibdeps >/dev/null 2>&1 || die "dpkg-shlibdeps not found: apt-get install dpkg-dev"
    missing=""
    for pkg in $BUILD_DEBS; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" ||
            missing="$missing $pkg"
    done
    if [ -n "$missing" ]; then
        if [ "$(id -u)" = 0 ]; then
            say "installing the libraries the bundle links:$missing"
            # shellcheck disable=SC2086 # a list of package names
            DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing >/dev/null ||
                { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing >/dev/null; } ||
                die "could not install:$missing"
        else
            die "missing Debian packages:$missing (sudo apt-get install$missing)"
        fi
    fi
fi

# -- build venv -------------------------------------------------------------------
stamp="$VENV/.clipdesk-build-stamp"
want=$(cat "$ROOT/pyproject.toml" "$0" | cksum)
if [ "$fresh" = 1 ] || [ ! -x "$VENV/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    say "creating the build venv in $VENV ($("$PY" --version))"
    rm -rf "$VENV"
    "$PY" -m venv "$VENV"
    "$VENV/bin/python" -m pip install -q --upgrade pip
    # hnswlib first, portable: no wheel from the cache (it may be a -march=native build).
    HNSWLIB_NO_NATIVE=1 "$VENV/bin/python" -m pip install -q --no-cache-dir --no-binary hnswlib "hnswlib>=0.8.0"
    "$VENV/bin/python" -m pip install -q "$ROOT" "pyinstaller>=6.10,<7"
    # The spec analyses the source tree; an installed copy would be a stale snapshot.
    "$VENV/bin/python" -m pip uninstall -q -y clipdesk
    echo "$want" >"$stamp"
fi
if "$VENV/bin/python" -c 'import torch' 2>/dev/null; then
    die "torch is installed in the build venv; it must never be bundled (run with --fresh)"
fi
HNSW_SO=$("$VENV/bin/python" -c 'import hnswlib; print(hnswlib.__file__)')
case "$(uname -m)" in
x86_64 | amd64)
    command -v objdump >/dev/null 2>&1 || die "objdump not found (apt-get install binutils)"
    avx=$(objdump -d "$HNSW_SO" | grep -c -E '%[yz]mm' || true)
    [ "$avx" = 0 ] || die "hnswlib uses AVX registers ($avx instructions): it was built with -march=native (run with --fresh)"
    ;;
esac
T_VENV=$(now)

# -- PyInstaller --------------------------------------------------------------------
say "PyInstaller: $("$VENV/bin/python" -m PyInstaller --version)"
rm -rf "$DIST"
"$VENV/bin/python" -m PyInstaller --noconfirm --clean --log-level WARN \
    --distpath "$DIST" --workpath "$WORK" "$ROOT/packaging/clipdesk.spec"
APP="$DIST/clipdesk"
[ -x "$APP/clipdesk" ] || die "PyInstaller did not produce $APP/clipdesk"
# Strip what was compiled on this machine (the Python runtime, hnswlib); the
# libraries vendored by wheels were patched by auditwheel and are left alone.
if command -v strip >/dev/null 2>&1; then
    find "$APP/_internal" -maxdepth 1 -name 'libpython3*.so*' -type f -exec strip --strip-unneeded {} +
    find "$APP/_internal" -maxdepth 1 -name 'hnswlib*.so' -type f -exec strip --strip-unneeded {} +
    find "$APP/_internal" -path '*/lib-dynload/*.so' -type f -exec strip --strip-unneeded {} +
fi
VERSION=$("$APP/clipdesk" --version | awk '{print $2}')
[ -n "$VERSION" ] || die "the bundle does not start: $APP/clipdesk --version printed nothing"
say "bundle: ClipDesk $VERSION, $(du -sh "$APP" | cut -f1)"
T_PYI=$(now)

ARCH=$(dpkg --print-architecture 2>/dev/null || uname -m)
DESKTOP="$HERE/clipdesk.desktop"

# -- portable tarball -------------------------------------------------------------
TARNAME="clipdesk-$VERSION-linux-$(uname -m)"
STAGE="$OUT/tar/$TARNAME"
rm -rf "$OUT/tar"
mkdir -p "$STAGE"
cp -a "$APP/." "$STAGE/"
cp "$DESKTOP" "$STAGE/clipdesk.desktop"
cp "$ROOT/packaging/icons/clipdesk-256.png" "$STAGE/clipdesk.png"

# -- .deb -------------------------------------------------------------------------------
if [ "$make_deb" = 1 ]; then
    DEBDIR="$OUT/deb"
    PKG="$DEBDIR/debian/clipdesk"
    rm -rf "$DEBDIR"
    mkdir -p "$PKG/DEBIAN" "$PKG/opt" "$PKG/usr/bin" "$PKG/usr/share/applications" "$PKG/usr/share/doc/clipdesk"
    cp -a "$APP" "$PKG/opt/clipdesk"
    ln -s /opt/clipdesk/clipdesk "$PKG/usr/bin/clipdesk"
    cp "$DESKTOP" "$PKG/usr/share/applications/clipdesk.desktop"
    for png in "$ROOT"/packaging/icons/clipdesk-*.png; do
        size=$(basename "$png" .png | sed 's/clipdesk-//')
        mkdir -p "$PKG/usr/share/icons/hicolor/${size}x${size}/apps"
        cp "$png" "$PKG/usr/share/icons/hicolor/${size}x${size}/apps/clipdesk.png"
    done
    cat >"$PKG/usr/share/doc/clipdesk/copyright" <<'EOF'
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: ClipDesk

Files: *
Copyright: ClipDesk developers
License: MIT

Files: opt/clipdesk/_internal/*
Comment: Python, Qt (LGPL-3.0), ONNX Runtime, numpy, Pillow and the other
 components bundled with ClipDesk, each under its own licence. Their licence
 texts are in /opt/clipdesk/_internal/THIRD-PARTY-LICENSES.txt.
License: various

License: MIT
 Permission is hereby granted, free of charge, to any person obtaining a copy
 of this software and associated documentation files (the "Software"), to deal
 in the Software without restriction, including without limitation the rights
 to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
 copies of the Software, and to permit persons to whom the Software is
 furnished to do so, subject to the following conditions:
 .
 The above copyright notice and this permission notice shall be included in all
 copies or substantial portions of the Software.
 .
 THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
 IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
 FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
 AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
 LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
 OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
 SOFTWARE.
EOF
    chmod -R u+rwX,go+rX,go-w "$PKG"

    # Depends: exactly the system libraries the ELF files of the bundle link
    # and do not carry themselves, with the minimum versions from the
    # libraries' symbols files.
    say "dpkg-shlibdeps: finding the system libraries the bundle links"
    printf 'Source: clipdesk\n\nPackage: clipdesk\nArchitecture: any\n' >"$DEBDIR/debian/control"
    elfs=$(find "$PKG/opt" -type f \( -name '*.so*' -o -perm -u+x \) -exec sh -c \
        'for f; do [ "$(head -c 4 "$f" | od -An -c | tr -d " ")" = "177ELF" ] && printf "%s\n" "$f"; done' sh {} +)
    # shellcheck disable=SC2046 # one -e option per ELF file
    (cd "$DEBDIR" && dpkg-shlibdeps -O --warnings=0 \
        -l"$PKG/opt/clipdesk/_internal" \
        $(printf '%s\n' "$elfs" | sed 's/^/-e/')) >"$DEBDIR/shlibs.substvars" 2>"$DEBDIR/shlibdeps.log" ||
        {
            cat "$DEBDIR/shlibdeps.log" >&2
            die "dpkg-shlibdeps failed"
        }
    # dpkg-shlibdeps also resolves libraries the bundle carries (libffi,
    # libzstd...) to system packages; keep only what really comes from the system.
    shlibs=$("$VENV/bin/python" "$HERE/debdeps.py" "$PKG/opt/clipdesk" "$DEBDIR/shlibs.substvars") ||
        die "could not work out the package dependencies"
    [ -n "$shlibs" ] || die "dpkg-shlibdeps found no dependencies"
    GLIBC=$(printf '%s\n' "$shlibs" | tr ',' '\n' | sed -n 's/^ *libc6 (>= \([0-9.]*\).*/\1/p')
    # Declared on purpose, because nothing may link them: Qt opens libssl at
    # run time for HTTPS, and fontconfig needs at least one font.
    depends="$shlibs"
    case "$depends" in *libssl3*) ;; *) depends="$depends, libssl3" ;; esac
    depends="$depends, fonts-dejavu-core | fonts-freefont-ttf | fonts-liberation2"
    installed_kb=$(du -sk "$PKG" | cut -f1)
    cat >"$PKG/DEBIAN/control" <<EOF
Package: clipdesk
Version: $VERSION
Architecture: $ARCH
Maintainer: ClipDesk developers <clipdesk@users.noreply.github.com>
Installed-Size: $installed_kb
Depends: $depends
Recommends: xdg-utils
Section: graphics
Priority: optional
Homepage: https://github.com/clipdesk/clipdesk
Description: photo organizer with local semantic search
 ClipDesk watches your photo folders and finds photos by what they show:
 type "dog on a beach at sunset" or drop a photo to find similar ones.
 Photos are embedded with a CLIP model that runs on this computer (ONNX
 Runtime); nothing is uploaded. A small offline model is included.
EOF
    DEB="$OUT/clipdesk_${VERSION}_${ARCH}.deb"
    rm -f "$OUT"/clipdesk_*.deb "$OUT/clipdesk.deb"
    dpkg-deb --root-owner-group -Zxz --build "$PKG" "$DEB" >/dev/null
    cp "$DEB" "$OUT/clipdesk.deb"
    # The tarball states the same requirements the .deb declares.
    printf '%s\n' "$depends" | tr ',' '\n' | sed 's/^ *//' >"$STAGE/DEBIAN-DEPENDS.txt"
fi

cat >"$STAGE/README.txt" <<EOF
ClipDesk $VERSION for Linux ($(uname -m)), portable build.

Run it from this folder:   ./clipdesk gui
Command line:              ./clipdesk --help, ./clipdesk --self-test
Menu entry (optional):     edit Exec= and Icon= in clipdesk.desktop to this
                           folder, then copy it to ~/.local/share/applications/

Needs glibc ${GLIBC:-2.36} or newer (built on Debian 12) and the desktop
libraries every X11/Wayland desktop has: libGL/libEGL, X11/xcb with
xcb-cursor, xkbcommon, fontconfig, freetype, glib, dbus, OpenSSL 3, GSSAPI.
DEBIAN-DEPENDS.txt lists them by their Debian package names.
Licences: _internal/THIRD-PARTY-LICENSES.txt
EOF
TARBALL="$OUT/$TARNAME.tar.xz"
rm -f "$OUT"/clipdesk-*-linux-*.tar.xz
tar -C "$OUT/tar" -cf - "$TARNAME" | xz -T0 -6 >"$TARBALL"
T_PKG=$(now)

# -- AppImage ---------------------------------------------------------------------
# appimagetool is neither a Debian package nor on PyPI, and the build must not
# download tools: the AppImage is skipped, the tarball is the portable build.
if command -v appimagetool >/dev/null 2>&1; then
    say "appimagetool found, but the AppImage recipe is not written yet: skipped"
else
    say "AppImage: skipped (appimagetool is not installed; it cannot be fetched at build time)"
fi

# -- summary ------------------------------------------------------------------------
size() { du -h "$1" | cut -f1; }
echo "== ClipDesk $VERSION Linux build ($(uname -m)) =="
echo "bundle (unpacked):  $(du -sh "$APP" | cut -f1)  $APP"
if [ "$make_deb" = 1 ]; then
    echo ".deb:               $(size "$DEB")  $DEB"
    echo ".deb installed:     $((installed_kb / 1024)) MiB"
    echo "Depends:            $depends"
fi
echo "tarball:            $(size "$TARBALL")  $TARBALL"
echo "times:              venv $((T_VENV - T0)) s, PyInstaller $((T_PYI - T_VENV)) s, packages $((T_PKG - T_PYI)) s"

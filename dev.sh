#!/bin/sh
# ClipDesk developer entry point: the two commands of the README's quick start.
#
#   ./dev.sh start   set up .venv (once) and start the app
#   ./dev.sh test    set up .venv (once) and run the whole test suite, then
#                    build the Linux installers and verify them in a clean
#                    Debian 12 root (packaging/linux/{build,verify}.sh)
#
# Works on a fresh Debian 12 with Python 3.11. Debian packages that are missing
# (python3-venv, the libraries Qt needs headless, xvfb and xdotool for the
# real-X tests, the Fashion-MNIST data set, debootstrap for the packaging
# check, ExifTool as the tests' metadata oracle) are installed with apt-get
# when we are root or have password-less sudo; otherwise we say what to
# install. The tests' real-photo corpus is fetched by the tests themselves
# (tests/corpus/README.md).
set -eu

cd "$(dirname "$0")"
ROOT=$(pwd)
VENV="$ROOT/.venv"
cmd=${1:-}
[ $# -gt 0 ] && shift

say() { printf 'dev.sh: %s\n' "$*" >&2; }

find_python() {
    for p in python3.13 python3.12 python3.11 python3; do
        if command -v "$p" >/dev/null 2>&1 &&
            "$p" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            command -v "$p"
            return 0
        fi
    done
    return 1
}

as_root() {
    if [ "$(id -u)" = 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        sudo "$@"
    else
        return 1
    fi
}

# Debian packages: Qt's runtime libraries (offscreen and xcb), venv support,
# and what the tests use. Only the missing ones are installed.
DEB_RUNTIME="libgl1 libegl1 libglib2.0-0 libxkbcommon0 libx11-6 libfreetype6 libfontconfig1 libdbus-1-3 libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 libxcb-xinerama0 libxcb-randr0 libxcb-render-util0 libxcb-image0"
DEB_TEST="xvfb xdotool dataset-fashion-mnist debootstrap dpkg-dev fakeroot shellcheck libimage-exiftool-perl"

apt_ensure() {
    command -v dpkg-query >/dev/null 2>&1 || return 0
    missing=""
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" ||
            missing="$missing $pkg"
    done
    [ -z "$missing" ] && return 0
    say "installing Debian packages:$missing"
    # $missing is a list of package names: split on purpose.
    # shellcheck disable=SC2086
    if as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing >/dev/null; then
        return 0
    fi
    # shellcheck disable=SC2086
    if ! { as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null &&
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing >/dev/null; }; then
        say "could not install:$missing (run: sudo apt-get install$missing)"
    fi
}

setup_venv() {
    extras=$1
    PY=$(find_python) || { say "Python 3.11 or newer is required"; exit 2; }
    if [ ! -x "$VENV/bin/python" ]; then
        if ! "$PY" -m venv "$VENV" 2>/dev/null; then
            rm -rf "$VENV"
            apt_ensure python3-venv
            "$PY" -m venv "$VENV"
        fi
    fi
    stamp="$VENV/.clipdesk-stamp-$extras"
    want=$(cat pyproject.toml dev.sh | cksum)
    if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
        say "installing ClipDesk and its dependencies into .venv ($extras)"
        "$VENV/bin/python" -m pip install -q --upgrade pip
        if [ "$extras" = "test" ]; then
            # The export tool and the open_clip parity tests need torch. Only the
            # CPU build is ever allowed: "+cpu" cannot resolve to a CUDA wheel.
            # torchvision is pinned to the release built for torch 2.13.
            if "$VENV/bin/python" -m pip install -q "torch==2.13.0+cpu" 2>/dev/null; then
                printf 'torch==2.13.0+cpu\ntorchvision==0.28.0\n' >"$VENV/constraints.txt"
                "$VENV/bin/python" -m pip install -q -c "$VENV/constraints.txt" -e ".[test,export]"
            else
                say "the CPU build of torch 2.13.0 is not available here: parity tests will be skipped"
                "$VENV/bin/python" -m pip install -q -e ".[test]"
            fi
        else
            "$VENV/bin/python" -m pip install -q -e .
        fi
        echo "$want" >"$stamp"
    fi
}

case "$cmd" in
start)
    # shellcheck disable=SC2086
    apt_ensure $DEB_RUNTIME
    setup_venv app
    exec "$VENV/bin/clipdesk" gui --first-run-demo "$@"
    ;;
test)
    # shellcheck disable=SC2086
    apt_ensure $DEB_RUNTIME $DEB_TEST
    setup_venv test
    export QT_QPA_PLATFORM=offscreen
    set +e
    "$VENV/bin/python" -m pytest "$@"
    rc=$?
    set -e
    if [ "$rc" = 5 ]; then
        say "pytest collected no tests: that is a failure"
        exit 1
    fi
    # The whole suite also builds the Linux installers and installs the .deb
    # into a clean Debian 12 root (verify.sh skips, with the reason, without
    # root or debootstrap). Not for partial runs (pytest arguments given).
    if [ "$rc" = 0 ] && [ $# -eq 0 ] && [ "${CLIPDESK_SKIP_INSTALLERS:-0}" != 1 ]; then
        say "building and verifying the Linux installers (CLIPDESK_SKIP_INSTALLERS=1 skips this)"
        packaging/linux/build.sh && packaging/linux/verify.sh || rc=$?
    fi
    exit "$rc"
    ;;
*)
    echo "usage: ./dev.sh start|test [args...]" >&2
    exit 2
    ;;
esac

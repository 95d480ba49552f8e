#!/bin/sh
# shellcheck disable=SC2016 # commands in single quotes run, and expand, in the test root
# Verify the ClipDesk .deb on a clean Debian 12 root, the way a user gets it:
#
#   1. a minimal Debian 12 (bookworm) made with debootstrap (cached under
#      packaging/out/cache, refreshed weekly; every run starts from a fresh copy);
#   2. `apt-get install ./clipdesk.deb` inside it, so only the dependencies the
#      package declares come in; then every ELF file of /opt/clipdesk must
#      resolve its libraries (ldd);
#   3. `clipdesk --version` and `clipdesk --self-test` headless
#      (QT_QPA_PLATFORM=offscreen), timed;
#   4. Xvfb (installed into the root only now, for the test): the window opens
#      on the xcb platform plugin and is captured twice, by the app itself
#      (`clipdesk gui --screenshot`) and by the X server (`xwd -root`);
#   5. sizes: .deb, installed, tarball.
#
#   packaging/linux/verify.sh [path/to/clipdesk.deb]     (default: packaging/out/clipdesk.deb)
#
# Screenshots land in packaging/out/verify/. Exits 0 with "SKIP: <reason>"
# where it cannot run (not root, no debootstrap); 1 when a check fails.
# DEBIAN_MIRROR overrides the mirror; KEEP_ROOT=1 keeps the test root.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
OUT="$ROOT/packaging/out"
CACHE="$OUT/cache"
RESULTS="$OUT/verify"
DEB=${1:-"$OUT/clipdesk.deb"}
SUITE=bookworm
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

say() { printf 'verify.sh: %s\n' "$*" >&2; }
skip() {
    echo "verify.sh: SKIP: $*"
    exit 0
}
fail() {
    echo "verify.sh: FAIL: $*"
    exit 1
}
ms() { echo $(($(date +%s%N) / 1000000)); }
# timed NAME CMD...: run CMD with its output in $T/NAME.out; its wall time (ms)
# goes to $T/NAME.ms and, where GNU time exists, its CPU time (s) to $T/NAME.cpu.
timed() {
    name=$1
    shift
    if [ "$1" = in_root ]; then # GNU time runs programs, not shell functions
        shift
        set -- chroot "$R" /usr/bin/env -i "PATH=$ROOT_PATH" HOME=/root LANG=C.UTF-8 "$@"
    fi
    t0=$(ms)
    if [ -x /usr/bin/time ]; then
        /usr/bin/time -f '%U %S' -o "$T/$name.cpu" "$@" >"$T/$name.out" 2>&1 || { echo $(($(ms) - t0)) >"$T/$name.ms"; return 1; }
    else
        "$@" >"$T/$name.out" 2>&1 || { echo $(($(ms) - t0)) >"$T/$name.ms"; return 1; }
    fi
    echo $(($(ms) - t0)) >"$T/$name.ms"
}
# took NAME: "1234 ms (0.9 s CPU)"
took() {
    if [ -s "$T/$1.cpu" ]; then
        echo "$(cat "$T/$1.ms") ms ($(awk '{printf "%.1f", $1 + $2}' "$T/$1.cpu") s CPU)"
    else
        echo "$(cat "$T/$1.ms") ms"
    fi
}

[ "$(id -u)" = 0 ] || skip "needs root for debootstrap and chroot (run: sudo $0)"
command -v debootstrap >/dev/null 2>&1 || skip "debootstrap is not installed (apt-get install debootstrap)"
command -v chroot >/dev/null 2>&1 || skip "chroot is not available"
[ -f "$DEB" ] || fail "no package at $DEB: run packaging/linux/build.sh first"
DEB=$(cd "$(dirname "$DEB")" && pwd)/$(basename "$DEB")
ARCH=$(dpkg --print-architecture 2>/dev/null || echo amd64)
PYTHON=$OUT/build-venv/bin/python
[ -x "$PYTHON" ] || PYTHON=python3

mkdir -p "$CACHE/apt-archives/partial" "$RESULTS"
BASE="$CACHE/debian-$SUITE-$ARCH-minbase.tar"
T=$(mktemp -d "${TMPDIR:-/tmp}/clipdesk-verify.XXXXXX")
R="$T/root"

cleanup() {
    # The app and Xvfb, if a failed check left them running in the root.
    for pidfile in "$R/tmp/gui.pid" "$R/tmp/xvfb.pid"; do
        if [ -s "$pidfile" ]; then kill "$(cat "$pidfile")" 2>/dev/null || true; fi
    done
    for m in var/cache/apt/archives dev/pts dev proc sys; do
        if mountpoint -q "$R/$m" 2>/dev/null; then umount -l "$R/$m"; fi
    done
    if [ "${KEEP_ROOT:-0}" = 1 ]; then
        say "kept the test root in $R"
    elif grep -q " $T/" /proc/self/mountinfo 2>/dev/null; then
        # Never delete through a bind mount of the host's /dev.
        say "something is still mounted below $T: not deleting it"
    else
        rm -rf "$T"
    fi
}
trap cleanup EXIT INT TERM

# -- 1. a clean Debian 12 root ----------------------------------------------------
if [ -f "$BASE" ] && [ -z "$(find "$BASE" -mtime +7)" ]; then
    say "clean Debian 12 root from the cache ($BASE)"
else
    say "debootstrap --variant=minbase $SUITE from $MIRROR (cached for a week)"
    t0=$(ms)
    debootstrap --variant=minbase --arch="$ARCH" --cache-dir="$CACHE/apt-archives" \
        "$SUITE" "$T/base" "$MIRROR" >"$T/debootstrap.log" 2>&1 ||
        {
            tail -20 "$T/debootstrap.log"
            fail "debootstrap failed (see above)"
        }
    tar -C "$T/base" -cf "$BASE.tmp" . && mv "$BASE.tmp" "$BASE"
    rm -rf "$T/base"
    say "debootstrap took $((($(ms) - t0) / 1000)) s"
fi
mkdir -p "$R"
tar -C "$R" -xf "$BASE"
mount -t proc proc "$R/proc"
mount -t sysfs sysfs "$R/sys"
mount --bind /dev "$R/dev"
mount --bind /dev/pts "$R/dev/pts"
mount --bind "$CACHE/apt-archives" "$R/var/cache/apt/archives"
cp /etc/resolv.conf "$R/etc/resolv.conf"
printf '#!/bin/sh\nexit 101\n' >"$R/usr/sbin/policy-rc.d" # no services start in the root
chmod +x "$R/usr/sbin/policy-rc.d"
echo "deb $MIRROR $SUITE main" >"$R/etc/apt/sources.list"
ROOT_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
in_root() { chroot "$R" /usr/bin/env -i "PATH=$ROOT_PATH" HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"; }

# -- 2. install the package with only what it declares -----------------------------
in_root apt-get update -q >"$T/apt-update.log" 2>&1 || {
    cat "$T/apt-update.log"
    fail "apt-get update failed in the test root"
}
in_root dpkg-query -W -f='${Package}\n' | sort >"$T/before.txt"
cp "$DEB" "$R/tmp/clipdesk.deb"
t0=$(ms)
in_root apt-get install -y -q --no-install-recommends /tmp/clipdesk.deb >"$T/apt-install.log" 2>&1 || {
    cat "$T/apt-install.log"
    fail "apt-get install ./clipdesk.deb failed"
}
t_install=$(($(ms) - t0))
in_root dpkg-query -W -f='${Package}\n' | sort >"$T/after.txt"
pulled=$(comm -13 "$T/before.txt" "$T/after.txt" | grep -vx clipdesk | tr '\n' ' ')
extra_disk=$(sed -n 's/^After this operation, \(.*\) of additional disk space will be used./\1/p' "$T/apt-install.log")
say "installed in $((t_install / 1000)) s with $(printf '%s' "$pulled" | wc -w) packages from Debian ($extra_disk with them)"

# Every library of every ELF file must resolve: plugins are only opened at run
# time, so --version alone would not notice a missing one. The bootloader puts
# _internal on LD_LIBRARY_PATH; so does this check.
in_root env LD_LIBRARY_PATH=/opt/clipdesk/_internal sh -c 'find /opt/clipdesk -type f \( -name "*.so*" -o -perm -u+x \) | while read -r f; do
    head -c 4 "$f" | grep -q ELF || continue
    ldd "$f" 2>/dev/null | sed -n "s|^[[:space:]]*\([^ ]*\) => not found|$f: \1|p"
done' >"$T/ldd-missing.txt"
if [ -s "$T/ldd-missing.txt" ]; then
    cat "$T/ldd-missing.txt"
    fail "libraries not found in the clean root (declare them in Depends)"
fi

# -- 3. headless: version and self-test -----------------------------------------------
in_root sh -c 'command -v clipdesk' >/dev/null || fail "clipdesk is not on PATH after installing"
for run in version-cold version; do
    timed $run in_root env QT_QPA_PLATFORM=offscreen clipdesk --version || {
        cat "$T/$run.out"
        fail "clipdesk --version failed"
    }
done
version=$(cat "$T/version.out")
say "$version"
if ! timed selftest in_root env QT_QPA_PLATFORM=offscreen clipdesk --self-test; then
    cat "$T/selftest.out"
    fail "clipdesk --self-test failed in the clean root"
fi
cp "$T/selftest.out" "$RESULTS/self-test.txt"
sed 's/^/    /' "$RESULTS/self-test.txt"

# -- 4. the window under Xvfb ----------------------------------------------------------
shots=""
if in_root clipdesk gui --help 2>/dev/null | grep -q -- --screenshot; then
    say "installing Xvfb into the test root (for the window test only)"
    in_root apt-get install -y -q --no-install-recommends xvfb x11-utils x11-apps >"$T/apt-xvfb.log" 2>&1 || {
        cat "$T/apt-xvfb.log"
        fail "could not install xvfb in the test root"
    }
    in_root sh -c 'Xvfb :57 -screen 0 1280x860x24 -nolisten tcp >/tmp/xvfb.log 2>&1 & echo $! >/tmp/xvfb.pid'
    in_root sh -c 'for i in $(seq 50); do [ -e /tmp/.X11-unix/X57 ] && exit 0; sleep 0.2; done; exit 1' ||
        fail "Xvfb did not start"
    gui_env="DISPLAY=:57 QT_QPA_PLATFORM=xcb"
    # a) The app renders its own window (demo library, a typed query) on xcb.
    t0=$(ms)
    # shellcheck disable=SC2086 # gui_env is a list of assignments
    if ! in_root env $gui_env timeout 300 clipdesk gui --first-run-demo --screenshot /tmp/window.png \
        --query "a red sneaker" >"$RESULTS/gui.txt" 2>&1; then
        cat "$RESULTS/gui.txt"
        fail "clipdesk gui --screenshot failed under Xvfb"
    fi
    t_gui=$(($(ms) - t0))
    cp "$R/tmp/window.png" "$RESULTS/window.png"
    shots="$RESULTS/window.png"
    # b) The X server's view: start the app normally and dump the screen once
    #    its top-level window (WM_CLASS "ClipDesk", which the desktop entry's
    #    StartupWMClass names) is mapped.
    # shellcheck disable=SC2086
    in_root sh -c "env $gui_env clipdesk gui >/tmp/gui-live.log 2>&1 & echo \$! >/tmp/gui.pid"
    t0=$(ms)
    in_root sh -c 'for i in $(seq 100); do
        DISPLAY=:57 xwininfo -root -tree 2>/dev/null | grep -q "(\"clipdesk\" \"ClipDesk\")" && exit 0
        sleep 0.2; done; exit 1' ||
        {
            cat "$R/tmp/gui-live.log"
            fail "no ClipDesk window appeared on the X server within 20 s"
        }
    t_window=$(($(ms) - t0))
    sleep 3 # let the first paint and the thumbnails land
    in_root env DISPLAY=:57 xwd -root -silent >"$T/screen.xwd"
    in_root sh -c 'kill $(cat /tmp/gui.pid) 2>/dev/null; sleep 1; kill $(cat /tmp/xvfb.pid) 2>/dev/null' || true
    if "$PYTHON" "$HERE/xwd2png.py" "$T/screen.xwd" "$RESULTS/screen.png" >/dev/null 2>&1; then
        shots="$shots $RESULTS/screen.png"
    else
        cp "$T/screen.xwd" "$RESULTS/screen.xwd"
        shots="$shots $RESULTS/screen.xwd"
    fi
else
    say "window test skipped: this build has no \`clipdesk gui --screenshot\`"
fi

# -- 5. report ------------------------------------------------------------------------------
installed_kb=$(dpkg-deb -f "$DEB" Installed-Size)
tarball=$(find "$OUT" -maxdepth 1 -name 'clipdesk-*-linux-*.tar.xz' | head -1)
echo "== ClipDesk .deb verified on a clean Debian 12 ($ARCH) =="
echo "version:            $version"
echo ".deb:               $(du -h "$DEB" | cut -f1) ($(stat -c %s "$DEB") bytes)"
echo "installed:          $((installed_kb / 1024)) MiB in /opt/clipdesk (+ $extra_disk with the Debian packages it pulled in)"
[ -n "$tarball" ] && echo "tarball:            $(du -h "$tarball" | cut -f1)  $(basename "$tarball")"
echo "pulled in:          $pulled"
echo "start-up:           --version $(took version-cold) cold, $(took version) warm"
echo "self-test:          $(took selftest)"
if [ -n "$shots" ]; then
    echo "window:             mapped on Xvfb in ${t_window} ms; demo + query screenshot run ${t_gui} ms"
    echo "screenshots:        $shots"
fi

"""The Depends of the ClipDesk .deb: the system libraries the bundle links and does not carry.

    python3 debdeps.py BUNDLE_DIR SHLIBS_SUBSTVARS

dpkg-shlibdeps knows the minimum version of each library package (from the
libraries' symbols files), but for a PyInstaller bundle it also resolves
libraries the bundle carries itself (libffi, libzstd...) to system packages.
This script computes which sonames really come from the system - every
DT_NEEDED of every ELF file in the bundle, minus the files of the bundle -
maps each to its Debian package (ldconfig, dpkg -S), and keeps exactly those
packages, with dpkg-shlibdeps' version constraints where it has one.

Prints the Depends value on stdout and one line per dropped or added package
on stderr. Exits 1 when a needed library is not installed on this machine.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

#: Provided by the dynamic loader itself, never by a package file lookup.
_LOADER = re.compile(r"^(ld-linux[-\w.]*\.so\.\d+|linux-vdso\.so\.\d+)$")


def is_elf(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            return fh.read(4) == b"\x7fELF"
    except OSError:
        return False


def needed(path: Path) -> set[str]:
    out = subprocess.run(["readelf", "-dW", str(path)], capture_output=True, text=True, check=False).stdout
    return set(re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", out))


def system_sonames(bundle: Path) -> dict[str, list[str]]:
    """soname -> the bundle files that need it, for sonames the bundle does not carry."""
    carried: set[str] = set()
    users: dict[str, list[str]] = {}
    for dirpath, _dirs, files in os.walk(bundle):
        for name in files:
            path = Path(dirpath) / name
            carried.add(name)
            if path.is_file() and not path.is_symlink() and is_elf(path):
                for soname in needed(path):
                    users.setdefault(soname, []).append(str(path.relative_to(bundle)))
    return {s: u for s, u in users.items() if s not in carried and not _LOADER.match(s)}


def ldconfig_paths() -> dict[str, str]:
    out = subprocess.run(["/sbin/ldconfig", "-p"], capture_output=True, text=True, check=False).stdout
    found: dict[str, str] = {}
    machine = os.uname().machine
    want_64 = machine in ("x86_64", "aarch64", "ppc64le", "s390x", "riscv64")
    for line in out.splitlines():
        m = re.match(r"\s*(\S+) \(([^)]*)\) => (\S+)", line)
        if not m:
            continue
        soname, flags, path = m.groups()
        if want_64 != ("64" in flags):
            continue
        found.setdefault(soname, path)
    return found


def package_of(path: str) -> str | None:
    for candidate in (path, os.path.realpath(path)):
        out = subprocess.run(["dpkg", "-S", candidate], capture_output=True, text=True, check=False)
        if out.returncode == 0 and ":" in out.stdout:
            return out.stdout.splitlines()[0].split(":")[0].strip()
    return None


def main(bundle: str, substvars: str) -> int:
    sonames = system_sonames(Path(bundle))
    paths = ldconfig_paths()
    packages: dict[str, list[str]] = {}
    missing = []
    for soname in sorted(sonames):
        path = paths.get(soname)
        pkg = package_of(path) if path else None
        if pkg is None:
            missing.append(f"{soname} (needed by {sonames[soname][0]})")
            continue
        packages.setdefault(pkg, []).append(soname)
    if missing:
        for m in missing:
            print(f"debdeps: not installed on this machine: {m}", file=sys.stderr)
        return 1

    shlibs = ""
    for line in Path(substvars).read_text().splitlines():
        if line.startswith("shlibs:Depends="):
            shlibs = line.split("=", 1)[1]
    versioned = {}
    for item in (i.strip() for i in shlibs.split(",") if i.strip()):
        versioned[re.split(r"[\s(]", item, maxsplit=1)[0]] = item
    for pkg in sorted(set(versioned) - set(packages)):
        print(f"debdeps: dropped {pkg}: the bundle carries what dpkg-shlibdeps resolved to it", file=sys.stderr)
    depends = []
    for pkg in sorted(packages):
        if pkg not in versioned:
            print(f"debdeps: added {pkg} (for {', '.join(packages[pkg])}) without a version", file=sys.stderr)
        depends.append(versioned.get(pkg, pkg))
    print(", ".join(depends))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))

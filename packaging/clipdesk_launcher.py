"""Entry point of the installed (PyInstaller) ClipDesk.

One program serves both doors. With arguments it is the ``clipdesk`` command
line (``--version``, ``--self-test``, ``search ...``). The windowed executable
that the Start menu, Finder and the Dock start (named ``ClipDesk``) opens the
window when it gets no arguments; on Linux the desktop entry asks for
``clipdesk gui`` itself.
"""

import multiprocessing
import sys
from pathlib import Path


def main() -> int:
    multiprocessing.freeze_support()
    # Finder adds a process serial number argument on old macOS releases.
    args = [a for a in sys.argv[1:] if not a.startswith("-psn_")]
    if not args and Path(sys.executable).stem == "ClipDesk":
        args = ["gui"]
    from clipdesk.cli import main as cli_main

    return cli_main(args)


if __name__ == "__main__":
    sys.exit(main())

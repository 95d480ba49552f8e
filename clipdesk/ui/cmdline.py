"""The desktop app's command-line options (no Qt here: ``clipdesk --help`` stays fast)."""

from __future__ import annotations

import argparse


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--first-run-demo", action="store_true",
                   help="with an empty library and no real model, set up the demo library and index it")
    p.add_argument("--screenshot", metavar="PATH",
                   help="render the main window to a PNG once the library is shown, then exit")
    p.add_argument("--query", metavar="TEXT", help="with --screenshot: search for TEXT first")
    p.add_argument("--theme", choices=("system", "light", "dark"),
                   help="colours for this run (default: the saved setting)")
    p.add_argument("--width", type=int, default=1280, help=argparse.SUPPRESS)
    p.add_argument("--height", type=int, default=820, help=argparse.SUPPRESS)

"""The ``clipdesk`` command: headless doors onto the same core as the GUI.

Each command group lives in its own module with a ``register(subparsers)``
function; handlers return an exit code. Exit codes scripts can rely on:

====  =========================================================
0     success
1     the work ran but some items failed (details in the output)
2     usage error (bad arguments, unparsable query)
3     the catalog is in use by another ClipDesk process
4     a named path, folder, tag or model does not exist
5     the catalog cannot be opened or migrated
6     a model is missing, corrupt or cannot run
130   interrupted (Ctrl+C)
====  =========================================================
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from clipdesk import __version__
from clipdesk.core.errors import ClipDeskError

#: Modules under clipdesk.cli that each add one or more sub-commands.
COMMAND_MODULES = [
    "library",
    "models",
    "search",
    "gui",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="clipdesk",
        description="ClipDesk: find your photos by typing what you remember.",
    )
    parser.add_argument("--version", action="version", version=f"ClipDesk {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging")
    parser.add_argument(
        "--self-test",
        action="store_true",
        help="check this installation (decode, embed, index, search) in a temporary folder and exit",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"clipdesk.cli.{name}")
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING - 10 * min(args.verbose, 2),
        format="%(levelname)s %(name)s: %(message)s",
    )
    if args.self_test:
        from clipdesk.core import selftest

        return selftest.main(lambda line: print(line, flush=True))
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    try:
        return int(handler(args) or 0)
    except ClipDeskError as exc:
        print(f"clipdesk: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("clipdesk: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0

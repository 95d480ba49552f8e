"""``clipdesk gui``: start the desktop app (or render its window to a PNG)."""

from __future__ import annotations

import argparse

from clipdesk.ui import cmdline


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "gui",
        help="start the desktop app",
        description="Start the desktop app. With --screenshot, render the main window "
        "to a PNG once the library is shown (after --query TEXT is answered) and exit.",
    )
    cmdline.add_arguments(p)
    p.set_defaults(handler=cmd_gui)


def cmd_gui(args) -> int:
    from clipdesk.ui.app import run  # Qt loads only when the app starts

    return run(args)

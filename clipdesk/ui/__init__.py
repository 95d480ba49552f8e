"""The desktop app: PySide6 widgets over :mod:`clipdesk.core`.

This package is the only Qt code in ClipDesk. Widgets never touch the disk,
decode, run a model or wait on the catalog: they hand that work to
:mod:`clipdesk.ui.workers`, which runs it on thread pools and delivers the
result back on the GUI thread.

One folder per feature, each with its widgets, models and controllers:
``search/``, ``grid/``, ``tagging/``, ``library/``, ``models/``. Shared by all
of them, at the top: the worker pools (``workers``), the change hub every
operation's Changes go through (``hub``), drag payloads (``dnd``), settings,
theme, Qt compatibility, the single-instance lock, the command-line
options and ``app`` (the start-up). ``mainwindow`` composes the features.
"""

from clipdesk.ui.compat import keep_none_alive as _keep_none_alive

_keep_none_alive()

"""The desktop app: PySide6 widgets over :mod:`clipdesk.core`.

This package is the only Qt code in ClipDesk. Widgets never touch the disk,
decode, run a model or wait on the catalog: they hand that work to
:mod:`clipdesk.ui.workers`, which runs it on thread pools and delivers the
result back on the GUI thread.
"""

from clipdesk.ui.compat import keep_none_alive as _keep_none_alive

_keep_none_alive()

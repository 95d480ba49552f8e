"""Show a file in the system's file manager, selected where the system allows.

* Windows: ``explorer /select,<file>``; macOS: ``open -R <file>`` (the Finder's
  "Reveal").
* freedesktop.org desktops: the ``org.freedesktop.FileManager1.ShowItems``
  D-Bus call (Nautilus, Dolphin, Nemo, Thunar, Caja... implement it), made
  without waiting; when no file manager answers it, the file's folder is
  opened instead (QDesktopServices, the system's handler for folders).
"""

from __future__ import annotations

import logging
import os
import sys

from PySide6.QtCore import QObject, QProcess, QUrl
from PySide6.QtGui import QDesktopServices

log = logging.getLogger(__name__)

_SERVICE = "org.freedesktop.FileManager1"


def show_in_file_manager(path: str, parent: QObject | None = None) -> str:
    """Reveal ``path``. Returns the way taken: "explorer", "finder", "dbus"
    (asked; the folder opens if the file manager refuses) or "folder"."""
    if sys.platform == "win32":
        QProcess.startDetached("explorer", ["/select,", os.path.normpath(path)])
        return "explorer"
    if sys.platform == "darwin":
        QProcess.startDetached("open", ["-R", path])
        return "finder"
    if _ask_file_manager(path, parent):
        return "dbus"
    open_folder(path)
    return "folder"


def open_folder(path: str) -> None:
    """Open the folder that holds ``path`` with the system's handler."""
    QDesktopServices.openUrl(QUrl.fromLocalFile(os.path.dirname(path)))


def _ask_file_manager(path: str, parent: QObject | None) -> bool:
    """Ask a freedesktop.org file manager to show ``path``; False when none is there to ask."""
    try:
        from PySide6.QtDBus import QDBusConnection, QDBusInterface, QDBusPendingCallWatcher
    except ImportError:  # pragma: no cover - Qt built without D-Bus
        return False
    bus = QDBusConnection.sessionBus()
    if not bus.isConnected():
        return False
    names = bus.interface().call("ListActivatableNames").arguments()
    registered = bus.interface().isServiceRegistered(_SERVICE).value()
    if not registered and not any(_SERVICE in (n or []) for n in names):
        return False
    iface = QDBusInterface(_SERVICE, "/org/freedesktop/FileManager1", _SERVICE, bus)
    watcher = QDBusPendingCallWatcher(iface.asyncCall("ShowItems", [QUrl.fromLocalFile(path).toString()], ""),
                                      parent)

    def finished(call) -> None:
        if call.isError():
            log.info("the file manager did not show %s (%s); opening its folder", path, call.error().message())
            open_folder(path)
        call.deleteLater()

    watcher.finished.connect(finished)
    return True

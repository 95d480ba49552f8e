"""One window per catalog: a second launch brings the running one forward.

The first instance listens on a local socket whose name is derived from the
catalog path; a second launch connects, says "raise" and exits, instead of
opening the catalog twice (which the catalog's lock would refuse anyway, with
a less friendly message).

QtNetwork is imported only when a socket is used: on Unix a launch with no
other instance running sees that no socket file exists and imports nothing
(QtNetwork costs ~5 ms of a cold start before the first paint), and the
window listens once it has painted.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QDir, QObject, Signal

if TYPE_CHECKING:
    from PySide6.QtNetwork import QLocalServer, QLocalSocket

log = logging.getLogger(__name__)

MESSAGE = b"raise\n"


def _fnv1a64(data: bytes) -> int:
    """FNV-1a, 64 bits (Fowler, Noll, Vo: http://www.isthe.com/chongo/tech/comp/fnv/):
    a stable name for a path without importing hashlib, whose OpenSSL module
    costs ~3 ms of the cold start before the first paint."""
    h = 0xCBF29CE484222325
    for byte in data:
        h = ((h ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def server_name(catalog: Path) -> str:
    """The single-instance socket's name: one per user and catalog."""
    key = _fnv1a64(os.fsencode(os.path.abspath(catalog)))
    user = os.environ.get("USER") or os.environ.get("USERNAME") or ""
    tag = _fnv1a64(user.encode()) >> 40
    return f"clipdesk-{tag:06x}-{key:016x}"


def socket_file(name: str) -> str | None:
    """Where QLocalServer keeps the socket called ``name``: on Unix a file in
    Qt's temp dir; None on Windows (a named pipe, nothing to look at)."""
    if sys.platform == "win32":
        return None
    return os.path.join(QDir.cleanPath(QDir.tempPath()), name)


class SingleInstance(QObject):
    activated = Signal()

    def __init__(self, catalog: Path, parent: QObject | None = None):
        super().__init__(parent)
        self.name = server_name(catalog)
        self.server: QLocalServer | None = None
        self._sockets: set[QLocalSocket] = set()

    def forward(self, timeout_ms: int = 500) -> bool:
        """Ask a running instance to come forward. True when one answered."""
        path = socket_file(self.name)
        if path is not None and not os.path.exists(path):
            return False  # nobody listens
        from PySide6.QtNetwork import QLocalSocket

        sock = QLocalSocket()
        sock.connectToServer(self.name)
        if not sock.waitForConnected(timeout_ms):
            return False
        sock.write(MESSAGE)
        sock.flush()
        ok = sock.bytesToWrite() == 0 or sock.waitForBytesWritten(timeout_ms)
        sock.disconnectFromServer()
        if sock.state() != QLocalSocket.LocalSocketState.UnconnectedState:
            sock.waitForDisconnected(timeout_ms)
        return ok

    def listen(self) -> bool:
        """Answer later launches from now on. False when the socket cannot be had."""
        from PySide6.QtNetwork import QLocalServer

        server = QLocalServer(self)
        server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        if not server.listen(self.name):
            # A socket file left by a crashed instance: nobody answered, so take it over.
            QLocalServer.removeServer(self.name)
            if not server.listen(self.name):
                log.warning("single instance: cannot listen on %s: %s", self.name, server.errorString())
                server.deleteLater()
                return False
        server.newConnection.connect(self._connection)
        self.server = server
        return True

    def _connection(self) -> None:
        server = self.server
        while server is not None and server.hasPendingConnections():
            sock = server.nextPendingConnection()
            self._sockets.add(sock)
            sock.readyRead.connect(self._ready_read)
            sock.disconnected.connect(self._disconnected)
            if sock.bytesAvailable():
                self._read(sock)

    def _ready_read(self) -> None:
        sock = self.sender()
        if sock in self._sockets:
            self._read(sock)

    def _disconnected(self) -> None:
        sock = self.sender()
        if sock in self._sockets:
            self._sockets.discard(sock)
            sock.deleteLater()

    def _read(self, sock: QLocalSocket) -> None:
        data = bytes(sock.readAll().data())
        if MESSAGE.strip() in data:
            self.activated.emit()

    def close(self) -> None:
        for sock in list(self._sockets):
            sock.readyRead.disconnect(self._ready_read)
            sock.disconnected.disconnect(self._disconnected)
            sock.abort()
        self._sockets.clear()
        if self.server is not None:
            self.server.newConnection.disconnect(self._connection)
            self.server.close()
            self.server = None

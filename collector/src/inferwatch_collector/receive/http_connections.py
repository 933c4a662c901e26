"""The open connections of the HTTP server and whether each is idle, for a prompt stop."""

from __future__ import annotations

import socket
import threading
from socketserver import StreamRequestHandler


class OpenConnections:
    """Which connections are idle (waiting for a request line), so a stop can close them.

    Each connection thread reports `set_idle(handler, True)` before it waits for a request line
    and `set_idle(handler, False)` once one has arrived; `stop()` shuts the idle sockets at
    once (their threads wake up to an end of stream) and gives the busy ones a grace period.
    """

    def __init__(self) -> None:
        self._lock = threading.Condition()
        self._idle: dict[StreamRequestHandler, bool] = {}
        self.stopping = False

    def set_idle(self, handler: StreamRequestHandler, idle: bool) -> bool:
        """Record the state; False once stopping, when the connection must take no new request."""
        with self._lock:
            self._idle[handler] = idle
            return not self.stopping

    def closed(self, handler: StreamRequestHandler) -> None:
        with self._lock:
            self._idle.pop(handler, None)
            self._lock.notify_all()

    def stop(self, grace: float) -> bool:
        """Close idle connections, wait for busy ones; True if all ended within `grace`."""
        with self._lock:
            self.stopping = True
            _shut([handler for handler, idle in self._idle.items() if idle])
            ended = self._lock.wait_for(lambda: not self._idle, timeout=grace)
            if not ended:
                _shut(list(self._idle))
            return ended


def _shut(handlers: list[StreamRequestHandler]) -> None:
    for handler in handlers:
        try:
            handler.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass  # already closed by the peer

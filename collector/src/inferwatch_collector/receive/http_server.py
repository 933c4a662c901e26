"""A small HTTP/1.1 server: routes, keep-alive, body limits, bounded work, clean stop.

Built on the standard library's `ThreadingHTTPServer` (one thread per connection) so the
collector needs no web framework; what it adds is what an OTLP endpoint needs:

- keep-alive (exporters reuse connections), with an idle timeout so slow or silent clients
  cannot hold a thread forever;
- request bodies read within a byte limit (Content-Length checked before reading; chunked
  transfer coding accepted, as Node.js exporters use it when they gzip);
- at most `max_concurrent_requests` bodies read and handled at once, so memory stays bounded
  whatever the number of connections;
- `stop()` closes idle connections at once and lets requests in flight finish.

    def plain_error(headers, status, message):
        return status, {}, message.encode()

    routes = {"/healthz": {"GET": lambda request: (200, {}, b"ok")}}
    server = HttpServer(("127.0.0.1", 0), routes, plain_error)
    server.start()
    ...  # GET http://127.0.0.1:{server.port}/healthz
    server.stop()
"""

from __future__ import annotations

import logging
import socket
import socketserver
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from inferwatch_collector.receive.body import BodyError, read_body
from inferwatch_collector.receive.http_connections import OpenConnections

logger = logging.getLogger(__name__)

# After an error answer that leaves a body unread, how long and how much of what the client
# still sends is read and dropped, so that it sees the answer instead of a connection reset.
_LINGER_SECONDS = 1.0
_LINGER_BYTES = 64 * 1024 * 1024

# How long a request waits for one of the `max_concurrent_requests` slots before it is
# answered 503: long enough to ride out a burst, short of an exporter's 10 s timeout.
_SLOT_WAIT_SECONDS = 2.0


@dataclass(frozen=True, slots=True)
class HttpRequest:
    """One request as a route sees it; `headers` has lower-case names."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes


Answer = tuple[int, dict[str, str], bytes]
Route = Callable[[HttpRequest], Answer]
ErrorAnswer = Callable[[dict[str, str], int, str], Answer]


class HttpServer:
    """Serves `routes` (path → method → route) from a background thread.

    A path is matched exactly first; a route key ending in `/*` (`/static/*`) then serves
    every path under it, the longest such key winning. The route reads the rest of the
    path from `request.path`.
    """

    def __init__(
        self,
        address: tuple[str, int],
        routes: dict[str, dict[str, Route]],
        error_answer: ErrorAnswer,
        *,
        max_body_bytes: int = 20 * 1024 * 1024,
        max_concurrent_requests: int = 32,
        idle_timeout: float = 60.0,
        thread_name: str = "otlp-http",
    ) -> None:
        self._address = address
        self._routes = routes
        self._error_answer = error_answer
        self._max_body_bytes = max_body_bytes
        self._max_concurrent_requests = max_concurrent_requests
        self._idle_timeout = idle_timeout
        self._thread_name = thread_name
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Bind and serve in a daemon thread; raises `OSError` if the address is taken."""
        self._server = _Server(self._address, self)
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name=self._thread_name, daemon=True
        )
        self._thread.start()

    def route_for(self, path: str) -> dict[str, Route] | None:
        """The methods serving `path`: its exact route, else the longest `/*` prefix route."""
        methods = self._routes.get(path)
        if methods is not None:
            return methods
        found, length = None, -1
        for key, candidate in list(self._routes.items()):  # a copy: routes may be added live
            if key.endswith("/*") and path.startswith(key[:-1]) and len(key) > length:
                found, length = candidate, len(key)
        return found

    @property
    def port(self) -> int:
        """The bound port (the real one when started with port 0)."""
        if self._server is None:
            raise RuntimeError("the HTTP server is not started")
        return int(self._server.server_address[1])

    def stop(self, grace: float = 5.0) -> None:
        """Stop accepting, close idle connections, give requests in flight `grace` seconds."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if not server.connections.stop(grace):
            logger.warning("HTTP requests still running %.1f s after stop; closing them", grace)
        if self._thread is not None:
            self._thread.join()


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # stop() ends connection threads itself, with a grace period
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], owner: HttpServer) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.owner = owner
        self.connections = OpenConnections()
        self.slots = threading.BoundedSemaphore(owner._max_concurrent_requests)
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the host's FQDN, a DNS query that can stall start-up.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)

    def handle_error(self, request: Any, client_address: Any) -> None:
        logger.debug("HTTP connection from %s failed", client_address, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive
    server_version = "inferwatch-collector"
    sys_version = ""
    disable_nagle_algorithm = True
    wbufsize = 64 * 1024  # status, headers and body leave in one send at the request's end
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.connection.settimeout(self.server.owner._idle_timeout)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.connections.closed(self)

    def handle_one_request(self) -> None:
        if not self.server.connections.set_idle(self, True):
            self.close_connection = True
            return
        super().handle_one_request()

    def parse_request(self) -> bool:
        # A request line has arrived: from here on stop() lets this request finish.
        self.server.connections.set_idle(self, False)
        return super().parse_request()

    def handle_expect_100(self) -> bool:
        length, limit = self._declared_length(), self.server.owner._max_body_bytes
        if length > limit:
            message = f"body of {length} bytes is past the limit of {limit} bytes"
            self._answer_error(413, message, close=True)
            return False
        accepted = super().handle_expect_100()
        self.wfile.flush()  # the write buffer would otherwise hold back "100 Continue"
        return accepted

    def _dispatch(self) -> None:
        path, _, query = self.path.partition("?")
        methods = self.server.owner.route_for(path)
        if methods is None:
            self._answer_error(404, f"no route for {path}", close=True)
        elif self.command not in methods:
            message = f"{self.command} is not allowed on {path}"
            self._answer_error(405, message, close=True, allow=", ".join(sorted(methods)))
        elif not self.server.slots.acquire(timeout=_SLOT_WAIT_SECONDS):
            self._answer_error(503, "too many requests in progress", close=True, retry_after="1")
        else:
            try:
                self._serve(methods[self.command], path, query)
            finally:
                self.server.slots.release()

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _dispatch

    def _serve(self, route: Route, path: str, query: str) -> None:
        headers = self._lower_headers()
        try:
            body = read_body(self.rfile, headers, self.server.owner._max_body_bytes)
        except BodyError as error:  # the rest of the body is unread: the connection cannot go on
            self._answer_error(error.status, str(error), close=True)
            return
        except OSError:  # the client went away or stalled past the idle timeout
            self.close_connection = True
            return
        request = HttpRequest(self.command, path, query, headers, body)
        try:
            answer = route(request)
        except Exception as error:
            logger.exception("%s %s failed", self.command, path)
            answer = self.server.owner._error_answer(headers, 500, f"internal error: {error}")
        self._respond(answer)

    def _answer_error(self, status: int, message: str, close: bool, **extra: str) -> None:
        answer = self.server.owner._error_answer(self._lower_headers(), status, message)
        extra_headers = {name.replace("_", "-").title(): value for name, value in extra.items()}
        self._respond((answer[0], {**answer[1], **extra_headers}, answer[2]), close=close)
        if close:
            self._linger()

    def _linger(self) -> None:
        """Drop what the client still sends after our answer, within bounds, then close."""
        self.wfile.flush()
        try:
            self.connection.shutdown(socket.SHUT_WR)
            deadline = time.monotonic() + _LINGER_SECONDS
            drained = 0
            while drained < _LINGER_BYTES and (left := deadline - time.monotonic()) > 0:
                self.connection.settimeout(left)
                chunk = self.connection.recv(256 * 1024)
                if not chunk:
                    break
                drained += len(chunk)
        except OSError:
            pass  # the client is gone or kept silent: either way this connection is done

    def _respond(self, answer: Answer, close: bool = False) -> None:
        status, headers, body = answer
        if close or self.server.connections.stopping:
            self.close_connection = True
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _lower_headers(self) -> dict[str, str]:
        return {name.lower(): value for name, value in self.headers.items()}

    def _declared_length(self) -> int:
        declared = self.headers.get("Content-Length", "0").strip()
        return int(declared) if declared.isdigit() else 0

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
        logger.debug("%s " + format, self.address_string(), *args)

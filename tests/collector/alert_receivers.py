"""A webhook receiver on 127.0.0.1 for the alerting tests (stdlib http.server, own thread).

>>> with WebhookReceiver(statuses=[500, 200]) as receiver:
...     post_json(receiver.url, {"a": 1}, policy=RetryPolicy(retries=1, backoff=0.01))
...     receiver.bodies   # [{"a": 1}, {"a": 1}]: the first answered 500, the second 200
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class WebhookReceiver:
    """Records every POSTed JSON body; answers with ``statuses`` in turn (then 200)."""

    def __init__(self, statuses: Sequence[int] = (), delay: float = 0.0) -> None:
        self.bodies: list[Any] = []
        self.statuses = list(statuses)
        self.delay = delay
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def __enter__(self) -> WebhookReceiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                length = int(self.headers["Content-Length"])
                receiver.bodies.append(json.loads(self.rfile.read(length)))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                time.sleep(receiver.delay)
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:
                    pass  # the client gave up (timeout test)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler

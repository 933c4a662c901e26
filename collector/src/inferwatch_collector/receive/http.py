"""The OTLP/HTTP receiver: `POST /v1/traces`, `/v1/metrics`, `/v1/logs` on port 4318.

Binary protobuf and JSON bodies, gzip or identity, answered in the request's content type
(and gzip-encoded when the request was). Decoded requests go to an `Ingestor`::

    receiver = HttpReceiver(ingestor, host="127.0.0.1", port=4318)
    receiver.add_route("GET", "/healthz", lambda request: (200, {}, b"ok"))
    receiver.start()
    ...
    receiver.stop()

Status codes: 200 (with `partial_success` when items were rejected), 400 undecodable body,
404 unknown path, 405 wrong method, 413 body past the limit (also once inflated), 415
unsupported Content-Type or Content-Encoding, 429/503 with Retry-After under backpressure,
500 on an unexpected pipeline error. Error bodies are a `google.rpc.Status` in the request's
content type when it is one of ours, else plain text.
"""

from __future__ import annotations

import gzip
import logging
import math

from google.protobuf import json_format
from google.protobuf.message import Message

from inferwatch_collector.receive.body import (
    BodyError,
    Encoding,
    UnsupportedMediaType,
    inflate,
    media_encoding,
)
from inferwatch_collector.receive.decode import decode_request
from inferwatch_collector.receive.http_server import Answer, HttpRequest, HttpServer, Route
from inferwatch_collector.receive.ingest import Backpressure, Ingestor, IngestResult, Signal
from inferwatch_collector.receive.messages import error_status, export_response
from inferwatch_collector.receive.otlp_json import DecodeError

logger = logging.getLogger(__name__)

DEFAULT_MAX_BODY_BYTES = 20 * 1024 * 1024  # as the OTLP specification recommends


class HttpReceiver:
    """Serves OTLP/HTTP and any extra routes (health, metrics) on one port."""

    def __init__(
        self,
        ingestor: Ingestor,
        host: str = "127.0.0.1",
        port: int = 4318,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        *,
        max_concurrent_requests: int = 32,
        idle_timeout: float = 60.0,
    ) -> None:
        self._routes: dict[str, dict[str, Route]] = {}
        for signal in Signal:
            route = _ExportRoute(signal, ingestor, max_body_bytes)
            self.add_route("POST", f"/v1/{signal.value}", route)
        self._server = HttpServer(
            (host, port),
            self._routes,
            error_answer,
            max_body_bytes=max_body_bytes,
            max_concurrent_requests=max_concurrent_requests,
            idle_timeout=idle_timeout,
        )

    def add_route(self, method: str, path: str, handler: Route) -> None:
        """Serve `method path` with `handler(request: HttpRequest) -> (status, headers, body)`.

        Routes may be added before or after `start()`; the handler gets the raw body.
        """
        self._routes.setdefault(path, {})[method.upper()] = handler

    def start(self) -> None:
        """Bind and serve in a background thread; raises `OSError` if the port is taken."""
        self._server.start()

    @property
    def port(self) -> int:
        """The bound port; with `port=0` the one the system chose."""
        return self._server.port

    def stop(self, grace: float = 5.0) -> None:
        """Stop accepting, close idle connections, let requests in flight finish for `grace` s."""
        self._server.stop(grace)


class _ExportRoute:
    """`POST /v1/<signal>`: decode, hand to the ingestor, answer in the request's encoding."""

    def __init__(self, signal: Signal, ingestor: Ingestor, max_body_bytes: int) -> None:
        self._signal = signal
        self._ingestor = ingestor
        self._max_body_bytes = max_body_bytes
        # Full success is by far the common answer: encode it once.
        empty = export_response(signal, IngestResult())
        self._full_success = {encoding: _encode(empty, encoding) for encoding in Encoding}

    def __call__(self, request: HttpRequest) -> Answer:
        try:
            encoding = media_encoding(request.headers.get("content-type"))
        except UnsupportedMediaType as error:
            return error_answer(request.headers, error.status, str(error))
        return _gzip_if_asked(request.headers, self._export(request, encoding))

    def _export(self, request: HttpRequest, encoding: Encoding) -> Answer:
        headers = request.headers
        try:
            payload = inflate(request.body, headers.get("content-encoding"), self._max_body_bytes)
            check_room = getattr(self._ingestor, "check_room", None)
            if check_room is not None:
                check_room(self._signal, len(payload))  # refuse before paying for decoding
            message = decode_request(self._signal, encoding, payload)
            raw = payload if encoding is Encoding.PROTOBUF else None
            result = self._ingestor.ingest(self._signal, message, raw)
        except BodyError as error:
            return error_answer(headers, error.status, str(error))
        except DecodeError as error:
            return error_answer(headers, 400, str(error), field=error.path)
        except Backpressure as error:
            return _throttle_answer(headers, error)
        if result.rejected or result.message:
            body = _encode(export_response(self._signal, result), encoding)
        else:
            body = self._full_success[encoding]
        return 200, {"Content-Type": encoding.value}, body


def error_answer(headers: dict[str, str], status: int, message: str, field: str = "") -> Answer:
    """An error answer: a `google.rpc.Status` in the request's encoding if it is one of ours."""
    try:
        encoding = media_encoding(headers.get("content-type"))
    except UnsupportedMediaType:
        return status, {"Content-Type": "text/plain; charset=utf-8"}, message.encode()
    body = _encode(error_status(message, field=field), encoding)
    return status, {"Content-Type": encoding.value}, body


def _throttle_answer(headers: dict[str, str], error: Backpressure) -> Answer:
    status = 503 if error.unavailable else 429
    code, extra, body = error_answer(headers, status, error.message)
    retry_after = str(max(0, math.ceil(error.retry_after)))
    return code, {**extra, "Retry-After": retry_after}, body


def _gzip_if_asked(headers: dict[str, str], answer: Answer) -> Answer:
    """Answer gzip-encoded when the request was, unless Accept-Encoding rules gzip out."""
    if headers.get("content-encoding", "").strip().lower() != "gzip":
        return answer
    accepted = headers.get("accept-encoding")
    if accepted is not None and "gzip" not in accepted.lower():
        return answer
    status, extra, body = answer
    return status, {**extra, "Content-Encoding": "gzip"}, gzip.compress(body, compresslevel=1)


def _encode(message: Message, encoding: Encoding) -> bytes:
    if encoding is Encoding.JSON:
        text: str = json_format.MessageToJson(message, indent=None)
        return text.encode()
    data: bytes = message.SerializeToString()
    return data

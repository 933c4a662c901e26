"""A small, real OTLP receiver for tests: gRPC and HTTP/protobuf on 127.0.0.1, free ports.

::

    with OtlpReceiver() as receiver:
        configure(endpoint=receiver.http_endpoint, protocol="http/protobuf")
        ...
        shutdown()
        span = receiver.wait_for_span("predict fraud")
        assert span.attributes["ml.model.name"] == "fraud"

Both servers decode each request with ``opentelemetry-proto`` and keep it. ``spans()``,
``log_records()`` and ``metrics()`` flatten what arrived into small records whose
``attributes`` and ``resource`` are plain dicts; ``requests`` keeps the raw messages.

``run_python`` runs a script in a fresh interpreter: OpenTelemetry's global providers can
be set once per process, so ``configure()`` is tested where they are still unset.
"""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar

import grpc
from google.protobuf.message import Message
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2, logs_service_pb2_grpc
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2, metrics_service_pb2_grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

T = TypeVar("T")

# signal -> (request type, response type)
_MESSAGES: dict[str, tuple[type[Message], type[Message]]] = {
    "traces": (
        trace_service_pb2.ExportTraceServiceRequest,
        trace_service_pb2.ExportTraceServiceResponse,
    ),
    "metrics": (
        metrics_service_pb2.ExportMetricsServiceRequest,
        metrics_service_pb2.ExportMetricsServiceResponse,
    ),
    "logs": (
        logs_service_pb2.ExportLogsServiceRequest,
        logs_service_pb2.ExportLogsServiceResponse,
    ),
}
HTTP_PATHS = {"/v1/traces": "traces", "/v1/metrics": "metrics", "/v1/logs": "logs"}


def any_value(value: AnyValue) -> object:
    """The Python value of an OTLP ``AnyValue`` (arrays as lists, kvlists as dicts)."""
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return [any_value(item) for item in value.array_value.values]
    if kind == "kvlist_value":
        return attributes_dict(value.kvlist_value.values)
    return getattr(value, kind)


def attributes_dict(attributes: Iterable[KeyValue]) -> dict[str, object]:
    """OTLP attributes as a plain dict."""
    return {item.key: any_value(item.value) for item in attributes}


@dataclass(frozen=True)
class Received:
    """One export request as it arrived."""

    signal: str  # traces, metrics or logs
    transport: str  # grpc or http
    path: str  # the HTTP path, or the gRPC method
    headers: dict[str, str]  # lowercase names
    message: Any  # the decoded Export*ServiceRequest


@dataclass(frozen=True)
class ReceivedSpan:
    name: str
    attributes: dict[str, object]
    resource: dict[str, object]
    scope: str
    trace_id: str  # hex
    span_id: str  # hex
    transport: str
    proto: Any = field(repr=False)


@dataclass(frozen=True)
class ReceivedLogRecord:
    event_name: str
    attributes: dict[str, object]
    resource: dict[str, object]
    scope: str
    time_unix_nano: int
    severity_text: str
    body: object
    transport: str
    proto: Any = field(repr=False)


@dataclass(frozen=True)
class ReceivedMetric:
    name: str
    resource: dict[str, object]
    scope: str
    transport: str
    proto: Any = field(repr=False)

    def point_attributes(self) -> list[dict[str, object]]:
        """The attributes of each data point, whatever the metric's kind."""
        kind = self.proto.WhichOneof("data")
        return [attributes_dict(p.attributes) for p in getattr(self.proto, kind).data_points]


class OtlpReceiver:
    """gRPC and HTTP/protobuf OTLP servers on 127.0.0.1 that keep what they receive.

    Args:
        http_paths: more HTTP paths to accept, as ``{path: signal}`` (to check that an
            exporter posts to a custom URL).
    """

    def __init__(self, http_paths: dict[str, str] | None = None) -> None:
        self.requests: list[Received] = []
        self._arrived = threading.Condition()
        self._http_paths = {**HTTP_PATHS, **(http_paths or {})}
        self._grpc = _grpc_server(self)
        self._grpc_port = self._grpc.add_insecure_port("127.0.0.1:0")
        self._http = ThreadingHTTPServer(("127.0.0.1", 0), _http_handler(self))
        self._http.daemon_threads = True
        self._http_thread = threading.Thread(target=self._http.serve_forever, daemon=True)

    @property
    def grpc_endpoint(self) -> str:
        return f"http://127.0.0.1:{self._grpc_port}"

    @property
    def http_endpoint(self) -> str:
        """The base URL; exporters append ``/v1/traces`` etc."""
        return f"http://127.0.0.1:{self._http.server_address[1]}"

    def start(self) -> OtlpReceiver:
        self._grpc.start()
        self._http_thread.start()
        return self

    def stop(self) -> None:
        self._grpc.stop(grace=None).wait()
        self._http.shutdown()
        self._http.server_close()
        self._http_thread.join()

    def __enter__(self) -> OtlpReceiver:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def keep(self, received: Received) -> None:
        with self._arrived:
            self.requests.append(received)
            self._arrived.notify_all()

    def wait_for(self, found: Callable[[OtlpReceiver], T], timeout: float = 10.0) -> T:
        """Wait until ``found(self)`` is truthy and return it; AssertionError on timeout."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while not (result := found(self)):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"not received in {timeout}s; got {self.summary()}")
                self._arrived.wait(remaining)
        return result

    def wait_for_span(self, name: str, timeout: float = 10.0) -> ReceivedSpan:
        spans = self.wait_for(lambda r: [s for s in r.spans() if s.name == name], timeout)
        return spans[0]

    def summary(self) -> str:
        return ", ".join(f"{r.transport} {r.signal}" for r in self.requests) or "nothing"

    def _of(self, signal: str) -> list[Received]:
        with self._arrived:
            return [r for r in self.requests if r.signal == signal]

    def spans(self) -> list[ReceivedSpan]:
        return [
            ReceivedSpan(
                name=span.name,
                attributes=attributes_dict(span.attributes),
                resource=attributes_dict(resource_spans.resource.attributes),
                scope=scope_spans.scope.name,
                trace_id=span.trace_id.hex(),
                span_id=span.span_id.hex(),
                transport=received.transport,
                proto=span,
            )
            for received in self._of("traces")
            for resource_spans in received.message.resource_spans
            for scope_spans in resource_spans.scope_spans
            for span in scope_spans.spans
        ]

    def log_records(self) -> list[ReceivedLogRecord]:
        return [
            ReceivedLogRecord(
                event_name=record.event_name,
                attributes=attributes_dict(record.attributes),
                resource=attributes_dict(resource_logs.resource.attributes),
                scope=scope_logs.scope.name,
                time_unix_nano=record.time_unix_nano,
                severity_text=record.severity_text,
                body=any_value(record.body),
                transport=received.transport,
                proto=record,
            )
            for received in self._of("logs")
            for resource_logs in received.message.resource_logs
            for scope_logs in resource_logs.scope_logs
            for record in scope_logs.log_records
        ]

    def metrics(self) -> list[ReceivedMetric]:
        return [
            ReceivedMetric(
                name=metric.name,
                resource=attributes_dict(resource_metrics.resource.attributes),
                scope=scope_metrics.scope.name,
                transport=received.transport,
                proto=metric,
            )
            for received in self._of("metrics")
            for resource_metrics in received.message.resource_metrics
            for scope_metrics in resource_metrics.scope_metrics
            for metric in scope_metrics.metrics
        ]


def run_python(
    script: str,
    args: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    timeout: float = 60.0,
) -> subprocess.CompletedProcess[str]:
    """Run ``script`` in a fresh interpreter with warnings as errors; fail if it fails.

    The child gets this environment without ``INFERWATCH_*`` and ``OTEL_*`` variables, plus
    ``env``; ``args`` become its ``sys.argv[1:]``.
    """
    child_env = {k: v for k, v in os.environ.items() if not k.startswith(("INFERWATCH_", "OTEL_"))}
    child_env.update(env or {})
    command = [sys.executable, "-W", "error", "-c", script, *args]
    done = subprocess.run(command, env=child_env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"child failed ({done.returncode}):\n{done.stderr}"
    return done


# --- gRPC ----------------------------------------------------------------------------------
def _grpc_server(receiver: OtlpReceiver) -> grpc.Server:
    server = grpc.server(ThreadPoolExecutor(max_workers=4))
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(
        _servicer(trace_service_pb2_grpc.TraceServiceServicer, "traces", receiver), server
    )
    metrics_service_pb2_grpc.add_MetricsServiceServicer_to_server(
        _servicer(metrics_service_pb2_grpc.MetricsServiceServicer, "metrics", receiver), server
    )
    logs_service_pb2_grpc.add_LogsServiceServicer_to_server(
        _servicer(logs_service_pb2_grpc.LogsServiceServicer, "logs", receiver), server
    )
    return server


def _servicer(base: type, signal: str, receiver: OtlpReceiver) -> Any:
    response_type = _MESSAGES[signal][1]

    class Servicer(base):  # type: ignore[misc, valid-type]
        def Export(self, request: Message, context: grpc.ServicerContext) -> Message:  # noqa: N802
            headers = {key.lower(): str(value) for key, value in context.invocation_metadata()}
            receiver.keep(Received(signal, "grpc", signal, headers, request))
            return response_type()

    return Servicer()


# --- HTTP ----------------------------------------------------------------------------------
def _http_handler(receiver: OtlpReceiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            signal = receiver._http_paths.get(self.path)
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if signal is None:
                self.send_error(404)
                return
            if self.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            request_type, response_type = _MESSAGES[signal]
            headers = {key.lower(): value for key, value in self.headers.items()}
            receiver.keep(
                Received(signal, "http", self.path, headers, request_type.FromString(body))
            )
            self._reply(response_type().SerializeToString())

        def _reply(self, payload: bytes) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass  # keep test output clean

    return Handler

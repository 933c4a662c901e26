"""The OTLP/gRPC receiver: the trace, metrics and logs services of opentelemetry-proto, on :4317.

    receiver = GrpcReceiver(ingestor, host="127.0.0.1", port=4317)
    receiver.start()
    ...
    receiver.stop(grace=5.0)

Rejected items come back in `partial_success`. Under backpressure the call fails with
RESOURCE_EXHAUSTED (UNAVAILABLE when the store is down) and a `google.rpc.RetryInfo` detail in
`grpc-status-details-bin`, which OTLP exporters honour as "retry after this delay".
gzip-compressed calls are accepted; messages past `max_message_bytes` are refused by gRPC.
"""

from __future__ import annotations

import logging
from collections import namedtuple
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import grpc
from google.protobuf.message import Message
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2_grpc
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2_grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2_grpc

from inferwatch_collector.receive.ingest import Backpressure, Ingestor, Signal
from inferwatch_collector.receive.messages import export_response, throttle_status

logger = logging.getLogger(__name__)

DEFAULT_MAX_MESSAGE_BYTES = 20 * 1024 * 1024

_ADD_SERVICER = {
    Signal.TRACES: trace_service_pb2_grpc.add_TraceServiceServicer_to_server,
    Signal.METRICS: metrics_service_pb2_grpc.add_MetricsServiceServicer_to_server,
    Signal.LOGS: logs_service_pb2_grpc.add_LogsServiceServicer_to_server,
}


class GrpcReceiver:
    """Serves the three OTLP gRPC services from a thread pool."""

    def __init__(
        self,
        ingestor: Ingestor,
        host: str = "127.0.0.1",
        port: int = 4317,
        max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
        *,
        max_workers: int = 16,
    ) -> None:
        self._ingestor = ingestor
        self._address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        self._max_message_bytes = max_message_bytes
        self._max_workers = max_workers
        self._server: grpc.Server | None = None
        self._port = 0

    def start(self) -> None:
        """Bind and serve; raises `OSError` if the address cannot be bound."""
        options = [
            ("grpc.max_receive_message_length", self._max_message_bytes),
            ("grpc.so_reuseport", 0),  # a second collector on the same port must fail, not share
        ]
        executor = ThreadPoolExecutor(self._max_workers, thread_name_prefix="otlp-grpc")
        server = grpc.server(executor, options=options)
        for signal, add_servicer in _ADD_SERVICER.items():
            add_servicer(_ExportServicer(signal, self._ingestor), server)  # type: ignore[no-untyped-call]
        try:
            self._port = server.add_insecure_port(self._address)
        except RuntimeError as error:  # grpcio raises RuntimeError, not OSError, on bind failure
            raise OSError(f"cannot bind OTLP/gRPC to {self._address}: {error}") from None
        server.start()
        self._server = server

    @property
    def port(self) -> int:
        """The bound port; with `port=0` the one the system chose."""
        if self._server is None:
            raise RuntimeError("the gRPC receiver is not started")
        return self._port

    def stop(self, grace: float | None = 5.0) -> None:
        """Refuse new calls and wait up to `grace` seconds for calls in flight."""
        server, self._server = self._server, None
        if server is not None:
            server.stop(grace).wait()


class _ExportServicer:
    """The `Export` method of one OTLP service."""

    def __init__(self, signal: Signal, ingestor: Ingestor) -> None:
        self._signal = signal
        self._ingestor = ingestor

    def Export(self, request: Message, context: grpc.ServicerContext) -> Message:  # noqa: N802
        try:
            result = self._ingestor.ingest(self._signal, request)
        except Backpressure as error:
            context.abort_with_status(_throttle(error))
        except Exception as error:
            logger.exception("OTLP/gRPC %s export failed", self._signal.value)
            context.abort(grpc.StatusCode.INTERNAL, f"internal error: {error}")
        return export_response(self._signal, result)


class _Status(namedtuple("_Status", ["code", "details", "trailing_metadata"]), grpc.Status):  # type: ignore[misc]
    """A `grpc.Status` value, as `abort_with_status` takes (grpcio-status is not needed)."""


def _throttle(error: Backpressure) -> Any:
    code = grpc.StatusCode.UNAVAILABLE if error.unavailable else grpc.StatusCode.RESOURCE_EXHAUSTED
    status = throttle_status(error.message, code.value[0], error.retry_after)
    details = (("grpc-status-details-bin", status.SerializeToString()),)
    return _Status(code, error.message, details)

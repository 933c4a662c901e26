"""The seam between the OTLP receivers and the pipeline behind them.

A receiver decodes a request, hands it to an `Ingestor` and answers the client from the
result. The pipeline (validation, write-ahead log, ClickHouse) implements `Ingestor`::

    class PrintingIngestor:
        def ingest(
            self, signal: Signal, request: Message, raw: bytes | None = None
        ) -> IngestResult:
            print(signal.value, request.ByteSize())
            return IngestResult()

    HttpReceiver(PrintingIngestor(), port=4318).start()
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Protocol

from google.protobuf.message import Message


class Signal(enum.Enum):
    """The three OTLP signals; the value is the last segment of the HTTP path (`/v1/traces`)."""

    TRACES = "traces"
    METRICS = "metrics"
    LOGS = "logs"


@dataclass(frozen=True, slots=True)
class IngestResult:
    """What the pipeline made of one request.

    Args:
        rejected: items (spans / data points / log records) refused.
        message: what was wrong, e.g. "span 3: ml.prediction.id has 4 items,
            ml.prediction.label has 3"; with `rejected == 0` it is a warning to the client.
    """

    rejected: int = 0
    message: str = ""


class Backpressure(Exception):  # noqa: N818 - the name states the condition, as the brief asks
    """The pipeline cannot take the request now; the client should retry later.

    Receivers answer HTTP 429 (503 when `unavailable`) with `Retry-After`, or gRPC
    RESOURCE_EXHAUSTED (UNAVAILABLE) with a `google.rpc.RetryInfo` detail.

    Raised by the pipeline::

        raise Backpressure("write-ahead log full (2.0 GiB)", retry_after=5.0)
    """

    def __init__(self, message: str, retry_after: float = 1.0, unavailable: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after
        self.unavailable = unavailable


class Ingestor(Protocol):
    """Takes decoded OTLP requests; implemented by the ingest pipeline."""

    def ingest(self, signal: Signal, request: Message, raw: bytes | None = None) -> IngestResult:
        """Accept one request.

        Args:
            signal: which service the request came to.
            request: an `ExportTraceServiceRequest`, `ExportMetricsServiceRequest` or
                `ExportLogsServiceRequest` of `opentelemetry.proto.collector.*.v1`.
            raw: the request's protobuf bytes when the receiver has them (OTLP/HTTP
                protobuf), so that a request kept whole need not be serialized again.

        An ingestor may also offer ``check_room(signal, nbytes)``, raising ``Backpressure``
        when a request of that size cannot be taken now; receivers call it before decoding,
        so that refusing under overload stays cheap.

        Returns:
            How many items were rejected and why. It returns only once the accepted items
            are durable, so the receiver may acknowledge them.

        Raises:
            Backpressure: the pipeline is full or the store is unavailable.
        """
        ...

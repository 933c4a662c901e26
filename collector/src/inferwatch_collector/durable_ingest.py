"""The collector's ``Ingestor``: validate a request, then append it to the write-ahead log.

A receiver acknowledges only after ``ingest`` returns, and ``ingest`` returns only after the
request's good items are durable in the log (group commit), so nothing acknowledged is lost.
Bad items are dropped here and reported as a partial success.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from google.protobuf.message import Message

from .receive import Backpressure, IngestResult, Signal
from .selfmetrics import SelfMetrics
from .store_writer import StoreHealth
from .validate import validate_logs, validate_metrics, validate_traces
from .wal import WalFull, WriteAheadLog

_logger = logging.getLogger("inferwatch.collector")

KIND_OF_SIGNAL = {Signal.TRACES: 1, Signal.METRICS: 2, Signal.LOGS: 3}
"""The write-ahead log's record kind of each signal's serialized request."""

_VALIDATORS: dict[Signal, Callable[[Any], tuple[Any, int, str]]] = {
    Signal.TRACES: validate_traces,
    Signal.METRICS: validate_metrics,
    Signal.LOGS: validate_logs,
}


def count_items(signal: Signal, request: Any) -> int:
    """Spans, data points or log records in a request."""
    if signal is Signal.TRACES:
        return sum(len(s.spans) for r in request.resource_spans for s in r.scope_spans)
    if signal is Signal.LOGS:
        return sum(len(s.log_records) for r in request.resource_logs for s in r.scope_logs)
    return sum(
        len(getattr(metric, metric.WhichOneof("data")).data_points)
        for r in request.resource_metrics
        for s in r.scope_metrics
        for metric in s.metrics
        if metric.WhichOneof("data")
    )


class DurableIngestor:
    """Validates, logs durably, counts; raises ``Backpressure`` when the log is full."""

    def __init__(
        self, wal: WriteAheadLog, metrics: SelfMetrics, health: StoreHealth, max_bytes: int
    ) -> None:
        self._wal = wal
        self._max_bytes = max_bytes
        self._metrics = metrics
        self._health = health

    def ingest(self, signal: Signal, request: Message, raw: bytes | None = None) -> IngestResult:
        name = signal.value
        received = count_items(signal, request)
        kept, rejected, message = _VALIDATORS[signal](request)
        self._metrics.received.labels(signal=name).inc(received)
        if rejected:
            self._metrics.rejected.labels(signal=name).inc(rejected)
        if received > rejected:
            whole = kept is request and raw is not None
            self._append(signal, raw if whole else kept.SerializeToString())  # type: ignore[arg-type]
            self._metrics.accepted.labels(signal=name).inc(received - rejected)
        return IngestResult(rejected=rejected, message=message)

    def check_room(self, signal: Signal, nbytes: int) -> None:
        """Raise ``Backpressure`` now if a request of ``nbytes`` would not fit in the log."""
        if self._wal.pending_bytes + nbytes > self._max_bytes:
            self._refuse(signal)

    def _refuse(self, signal: Signal) -> None:
        self._metrics.throttled.labels(signal=signal.value).inc()
        down = not self._health.ok
        reason = "the store is unreachable" if down else "the store is behind"
        raise Backpressure(
            f"write-ahead log full ({reason}); retry later",
            retry_after=5.0 if down else 1.0,
            unavailable=down,
        )

    def _append(self, signal: Signal, payload: bytes) -> None:
        try:
            self._wal.append(KIND_OF_SIGNAL[signal], payload)
        except WalFull:
            self._refuse(signal)

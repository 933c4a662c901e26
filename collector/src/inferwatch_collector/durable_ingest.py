"""The collector's ``Ingestor``: validate a request, then append it to the write-ahead log.

A receiver acknowledges only after ``ingest`` returns, and ``ingest`` returns only after the
request's good items are durable in the log (group commit), so nothing acknowledged is lost.
Bad items are dropped here and reported as a partial success. A trace request without batch
or label spans is logged for the ClickHouse decode (``record_kinds.DECODABLE_TRACES``), with
the counts validation found; one with batch spans too, as the ``decode_batch_spans`` setting
says: with ``true`` for chDB to decode it all (``DECODABLE_BATCH_TRACES``), with ``spans`` for
chDB to decode its spans while the Python converter makes its predictions
(``DECODABLE_BATCH_SPANS``), with ``false`` for the Python converter alone; by default
(``auto``) as ``true``, unless a batch span carries per-prediction features, which only the
Python converter stores: then as ``spans`` (docs/performance.md, "Fourth round" and "Seventh
round").
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from google.protobuf.message import Message

from . import record_kinds
from .receive import Backpressure, IngestResult, Signal
from .selfmetrics import SelfMetrics
from .store_writer import StoreHealth
from .validate import check_traces, validate_logs, validate_metrics, validate_traces
from .wal import WalFull, WriteAheadLog

_logger = logging.getLogger("inferwatch.collector")

KIND_OF_SIGNAL = {
    Signal.TRACES: record_kinds.TRACES,
    Signal.METRICS: record_kinds.METRICS,
    Signal.LOGS: record_kinds.LOGS,
}
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
        self,
        wal: WriteAheadLog,
        metrics: SelfMetrics,
        health: StoreHealth,
        max_bytes: int,
        *,
        decode_batch_spans: str = "auto",
    ) -> None:
        self._wal = wal
        self._decode_batch_spans = decode_batch_spans
        self._max_bytes = max_bytes
        self._metrics = metrics
        self._health = health

    def ingest(self, signal: Signal, request: Message, raw: bytes | None = None) -> IngestResult:
        if signal is Signal.TRACES:
            return self._ingest_traces(request, raw)
        name = signal.value
        received = count_items(signal, request)
        kept, rejected, message = _VALIDATORS[signal](request)
        self._count(name, received, rejected)
        if received > rejected:
            self._append(signal, KIND_OF_SIGNAL[signal], _serialized(kept, request, raw))
            self._metrics.accepted.labels(signal=name).inc(received - rejected)
        return IngestResult(rejected=rejected, message=message)

    def _ingest_traces(self, request: Any, raw: bytes | None) -> IngestResult:
        check = check_traces(request)
        self._count(Signal.TRACES.value, check.spans + check.rejected, check.rejected)
        if check.spans:
            payload = _serialized(check.request, request, raw)
            batch = check.predictions > check.single
            decode = self._decode_batch_spans
            if check.labels or (batch and decode == "false"):
                kind = record_kinds.TRACES
            else:
                kind, payload = record_kinds.decodable_trace_record(
                    payload,
                    spans=check.spans,
                    predictions=check.predictions,
                    single=check.single,
                    spans_only=decode == "spans" or (decode == "auto" and check.feature_arrays),
                )
            self._append(Signal.TRACES, kind, payload)
            self._metrics.accepted.labels(signal=Signal.TRACES.value).inc(check.spans)
        return IngestResult(rejected=check.rejected, message=check.message)

    def _count(self, name: str, received: int, rejected: int) -> None:
        self._metrics.received.labels(signal=name).inc(received)
        if rejected:
            self._metrics.rejected.labels(signal=name).inc(rejected)

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

    def _append(self, signal: Signal, kind: int, payload: bytes) -> None:
        try:
            self._wal.append(kind, payload)
        except WalFull:
            self._refuse(signal)


def _serialized(kept: Any, request: Any, raw: bytes | None) -> bytes:
    """The kept request's bytes: those received when nothing was removed."""
    if kept is request and raw is not None:
        return raw
    data: bytes = kept.SerializeToString()
    return data

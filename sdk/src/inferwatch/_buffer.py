"""The hot-path buffer of ``batched=True``: calls are appended in microseconds and exported
as batch prediction spans by a background worker.

Modelled on the OpenTelemetry SDK's ``BatchProcessor``: a bounded ``deque(maxlen)`` that
drops the oldest entry when full (and counts it), a daemon worker woken by an ``Event`` every
interval or when enough predictions are waiting, restarted after ``fork``, and errors logged,
never raised. ``flush()`` exports everything now; it runs at ``shutdown()`` and at exit.
"""

from __future__ import annotations

import logging
import os
import threading
import weakref
from collections import deque
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from opentelemetry import context as otel_context
from opentelemetry import trace

from . import semconv
from ._config import Settings, register_flush_hook
from ._instruments import instruments, record_finite_scores

if TYPE_CHECKING:
    pass

_logger = logging.getLogger("inferwatch")


BufferEntry = tuple[Any, ...]
"""One monitored call waiting in the buffer:
``(recorder, segments, start_ns, end_ns, ids, outputs, error, parent_span, features)``.

A plain tuple: one is built on every buffered call, and a tuple costs a fraction of a
(frozen) dataclass there (bench/sdk_overhead.py).
"""


class PredictionBuffer:
    """Bounded in-process buffer of monitored calls, exported as batch spans.

    >>> buffer = PredictionBuffer(max_entries=10_000, interval=1.0, max_predictions=1000)
    >>> buffer.flush()   # export whatever is waiting, now
    0
    """

    def __init__(self, max_entries: int, interval: float, max_predictions: int) -> None:
        self.interval = interval
        self.max_predictions = max_predictions
        self.max_entries = max_entries
        self.dropped = 0
        self._reset()
        weak_self = weakref.ref(self)
        os.register_at_fork(after_in_child=lambda: (b := weak_self()) and b._reset())

    def _reset(self) -> None:
        self._entries: deque[BufferEntry] = deque(maxlen=self.max_entries)
        self._waiting = 0
        self._wake = threading.Event()
        self._export_lock = threading.Lock()
        self._worker: threading.Thread | None = None

    def add(self, entry: BufferEntry) -> None:
        """Append one call; never blocks. A full buffer drops its oldest entry."""
        entries = self._entries
        if len(entries) == self.max_entries:
            self.dropped += 1
        entries.append(entry)
        self._waiting += entry[5].count
        if self._worker is None:
            self._start_worker()
        if self._waiting >= self.max_predictions:
            self._wake.set()

    def flush(self) -> int:
        """Export every waiting call now; returns the number of predictions exported."""
        with self._export_lock:
            taken = self._take_all()
            if not taken:
                return 0
            try:
                return export_entries(taken, self.max_predictions)
            except Exception as exc:  # noqa: BLE001 - telemetry never breaks the host
                _logger.warning("inferwatch: exporting buffered predictions failed: %s", exc)
                return 0

    def _take_all(self) -> list[BufferEntry]:
        entries = self._entries
        taken = []
        pop = entries.popleft
        while entries:
            try:
                taken.append(pop())
            except IndexError:
                break
        self._waiting = 0
        return taken

    def _start_worker(self) -> None:
        with self._export_lock:
            if self._worker is None:
                self._worker = threading.Thread(
                    target=self._run, name="inferwatch-buffer", daemon=True
                )
                self._worker.start()

    def _run(self) -> None:
        # The worker's own exports must not be traced as if they were the app's work.
        token = otel_context.attach(
            otel_context.set_value(otel_context._SUPPRESS_INSTRUMENTATION_KEY, True)
        )
        try:
            while True:
                self._wake.wait(self.interval)
                self._wake.clear()
                self.flush()
                if self.dropped:
                    _logger.warning(
                        "inferwatch: buffer full, dropped %d oldest calls", self.dropped
                    )
                    instruments().dropped.add(self.dropped)
                    self.dropped = 0
        finally:
            otel_context.detach(token)


def export_entries(entries: list[BufferEntry], max_predictions: int) -> int:
    """Group entries by model and segments and emit them as batch spans; returns predictions."""
    groups: dict[tuple[int, tuple[tuple[str, str], ...]], list[BufferEntry]] = {}
    for entry in entries:
        groups.setdefault((id(entry[0]), entry[1]), []).append(entry)
    exported = 0
    for group in groups.values():
        for chunk in _chunks(group, max_predictions):
            exported += _emit_span(chunk)
            _record_metrics(chunk)
    return exported


def _chunks(group: list[BufferEntry], max_predictions: int) -> Iterable[list[BufferEntry]]:
    chunk: list[BufferEntry] = []
    size = 0
    for entry in group:
        count = entry[5].count
        if chunk and size + count > max_predictions:
            yield chunk
            chunk, size = [], 0
        chunk.append(entry)
        size += count
    if chunk:
        yield chunk


def _emit_span(chunk: list[BufferEntry]) -> int:
    # Hot loop of the export (bench/sdk_overhead.py, batched=True): plain list appends.
    ids: list[str] = []
    labels: list[str] = []
    scores: list[float] = []
    values: list[float] = []
    starts: list[int] = []
    durations: list[float] = []
    statuses: list[str] = []
    trace_ids: list[str] = []
    span_ids: list[str] = []
    has = {"labels": False, "scores": False, "values": False}
    failed = traced = False
    for _, _, start_ns, end_ns, entry_ids, outputs, error, parent, _ in chunk:
        n = len(entry_ids)
        ids.extend(entry_ids)
        _extend(labels, outputs.labels, n, "", has, "labels")
        _extend(scores, outputs.scores, n, _NAN, has, "scores")
        _extend(values, outputs.values, n, _NAN, has, "values")
        status = semconv.STATUS_OK
        if error is not None:
            failed, status = True, semconv.STATUS_ERROR
        context = parent.get_span_context()
        trace_id = span_id = ""
        if context.is_valid:
            traced = True
            trace_id, span_id = format(context.trace_id, "032x"), format(context.span_id, "016x")
        if n == 1:
            starts.append(start_ns)
            durations.append((end_ns - start_ns) / 1e9)
            statuses.append(status)
            trace_ids.append(trace_id)
            span_ids.append(span_id)
        else:
            starts.extend([start_ns] * n)
            durations.extend([(end_ns - start_ns) / 1e9] * n)
            statuses.extend([status] * n)
            trace_ids.extend([trace_id] * n)
            span_ids.extend([span_id] * n)
    first = chunk[0]
    recorder = first[0]
    attributes: dict[str, Any] = {
        **recorder.options.static_attributes,
        **dict(first[1]),
        semconv.ML_PREDICTION_COUNT: len(ids),
        semconv.ML_PREDICTION_ID: ids,
        semconv.ML_PREDICTION_TIMESTAMP: starts,
        semconv.ML_PREDICTION_DURATION: durations,
    }
    # Arrays that say nothing are left out (each item costs export work): all-``ok``
    # statuses, and request ids when no prediction ran inside a traced request.
    if failed:
        attributes[semconv.ML_PREDICTION_STATUS] = statuses
    if traced:
        attributes[semconv.ML_PREDICTION_TRACE_ID] = trace_ids
        attributes[semconv.ML_PREDICTION_SPAN_ID] = span_ids
    if has["labels"]:
        attributes[semconv.ML_PREDICTION_LABEL] = labels
    if has["scores"]:
        attributes[semconv.ML_PREDICTION_SCORE] = scores
    if has["values"]:
        attributes[semconv.ML_PREDICTION_VALUE] = values
    _add_feature_arrays(attributes, chunk)
    span = recorder.tracer.start_span(
        recorder.options.span_name,
        context=otel_context.Context(),
        attributes=attributes,
        start_time=min(entry[2] for entry in chunk),
    )
    if failed:
        span.set_status(trace.Status(trace.StatusCode.ERROR, "some predictions failed"))
    span.end(end_time=max(entry[3] for entry in chunk))
    return len(ids)


_NAN = float("nan")


def _extend(
    column: list[Any], items: list[Any] | None, n: int, missing: Any, has: dict, key: str
) -> None:
    if items is not None and len(items) == n:
        column.extend(items)
        has[key] = True
    else:
        column.extend([missing] * n)


def _add_feature_arrays(attributes: dict[str, Any], chunk: list[BufferEntry]) -> None:
    """Captured features become one string array per feature name, aligned with the ids."""
    names = {name for entry in chunk for name in entry[8] or ()}
    for name in sorted(names):
        column: list[str] = []
        for entry in chunk:
            value = (entry[8] or {}).get(name)
            column.extend(["" if value is None else str(value)] * len(entry[4]))
        attributes[name] = column


HISTOGRAM_SAMPLE = 10
"""Most calls per exported chunk whose duration and scores go into the histograms."""


def _record_metrics(chunk: list[BufferEntry]) -> None:
    """Counters exactly, once per chunk; histograms from an even sample of the chunk.

    The metrics API has no bulk record, and one histogram record costs the OpenTelemetry
    Python SDK about as much as ten buffered calls (bench/sdk_overhead.py), so the
    histograms of buffered calls are sampled: their shape is kept, their count is not.
    Exact per-prediction latency and scores are in the exported spans.
    """
    tools = instruments()
    recorder = chunk[0][0]
    ok_count = error_count = 0
    step = max(1, len(chunk) // HISTOGRAM_SAMPLE)
    for index, (_, _, start_ns, end_ns, _, outputs, error, _, _) in enumerate(chunk):
        attributes = recorder._ok_attributes if error is None else recorder._error_attributes
        sampled = index % step == 0
        if sampled:
            tools.duration.record((end_ns - start_ns) / 1e9, attributes)
        if error is None:
            ok_count += outputs.count
            if sampled:
                record_finite_scores(tools.score, outputs.scores or [], attributes)
        else:
            error_count += 1
            tools.errors.add(1, {**attributes, semconv.METRIC_ATTR_ERROR_TYPE: error})
    if ok_count:
        tools.predictions.add(ok_count, recorder._ok_attributes)
    if error_count:
        tools.predictions.add(error_count, recorder._error_attributes)


_buffer: PredictionBuffer | None = None
_buffer_lock = threading.Lock()


def prediction_buffer(settings: Settings) -> PredictionBuffer:
    """The process-wide buffer, created on first use with the settings of that moment."""
    global _buffer
    if _buffer is None:
        with _buffer_lock:
            if _buffer is None:
                _buffer = PredictionBuffer(
                    max_entries=settings.buffer_size,
                    interval=settings.batch_interval,
                    max_predictions=settings.batch_max_predictions,
                )
                register_flush_hook(_buffer.flush)
    return _buffer


def flush_buffer() -> int:
    """Export what the hot-path buffer holds now (no-op when nothing was buffered)."""
    return 0 if _buffer is None else _buffer.flush()

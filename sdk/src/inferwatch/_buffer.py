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
from itertools import islice, repeat
from operator import itemgetter, sub, truediv
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.attributes import BoundedAttributes
from opentelemetry.trace import INVALID_SPAN

from . import semconv
from ._config import Settings, register_flush_hook
from ._instruments import instruments, record_finite_scores

_logger = logging.getLogger("inferwatch")


BufferEntry = tuple[Any, ...]
"""One monitored call waiting in the buffer:
``(recorder, segments, start_ns, end_ns, ids, outputs, error, parent_span, features)``.

A call with one prediction has its id as a string in ``ids`` and ``(label, score, value)``
in ``outputs`` (each None where the output has none); a batch call has a list of ids and an
``Outputs``. A plain tuple, with no list or object of its own for a single prediction: one
is built on every buffered call, and a tuple costs a fraction of a (frozen) dataclass there,
and gives the garbage collector less to walk (bench/sdk_overhead.py).
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

    def add(self, entry: BufferEntry, count: int = 1) -> None:
        """Append a call of ``count`` predictions; never blocks, a full buffer drops its oldest."""
        entries = self._entries
        if len(entries) == self.max_entries:
            self.dropped += 1
        entries.append(entry)
        self._waiting += count
        if self._worker is None:
            self._start_worker()
        if self._waiting >= self.max_predictions and not self._wake.is_set():
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
        # Popped one by one (in C): callers keep appending meanwhile, and only this method,
        # under the export lock, takes entries out, so the deque holds at least its length.
        entries = self._entries
        taken = list(islice(iter(entries.popleft, None), len(entries)))
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
    exported = 0
    for group in _groups(entries):
        for chunk in _chunks(group, max_predictions):
            exported += _emit_span(chunk)
    return exported


def _groups(entries: list[BufferEntry]) -> Iterable[list[BufferEntry]]:
    """Entries by recorder (model) and segments, each group in call order."""
    if _same(entries, _RECORDER) and _same(entries, _SEGMENTS):  # the usual case
        return [entries]
    groups: dict[tuple[Any, tuple[tuple[str, str], ...]], list[BufferEntry]] = {}
    for entry in entries:
        groups.setdefault((entry[0], entry[1]), []).append(entry)
    return groups.values()


def _same(entries: list[BufferEntry], field: itemgetter[Any]) -> bool:
    """Whether every entry holds the first one's value in ``field`` (compared in C)."""
    column = list(map(field, entries))
    return column.count(column[0]) == len(column)


_RECORDER = itemgetter(0)
_SEGMENTS = itemgetter(1)


def _chunks(group: list[BufferEntry], max_predictions: int) -> Iterable[list[BufferEntry]]:
    if _all_single(group):  # one prediction an entry: slices
        return [group[i : i + max_predictions] for i in range(0, len(group), max_predictions)]
    return _chunks_by_count(group, max_predictions)


def _chunks_by_count(group: list[BufferEntry], max_predictions: int) -> Iterable[list[BufferEntry]]:
    chunk: list[BufferEntry] = []
    size = 0
    for entry in group:
        count = _entry_count(entry)
        if chunk and size + count > max_predictions:
            yield chunk
            chunk, size = [], 0
        chunk.append(entry)
        size += count
    if chunk:
        yield chunk


def _all_single(chunk: list[BufferEntry]) -> bool:
    """Whether every entry holds one prediction (its id a string, not a list)."""
    return list(map(type, map(_IDS, chunk))).count(str) == len(chunk)


_IDS = itemgetter(4)


def _emit_span(chunk: list[BufferEntry]) -> int:
    """Emit one batch span for a chunk of one group; returns its number of predictions."""
    if _all_single(chunk):
        columns = _single_columns(chunk)
    else:
        columns = _expanded_columns(chunk)
    recorder, segments = chunk[0][0], chunk[0][1]
    ids, labels, scores, values, starts, durations, errors, parents = columns
    count = len(ids)
    attributes: dict[str, Any] = {
        **recorder.options.static_attributes,
        **dict(segments),
        semconv.ML_PREDICTION_COUNT: count,
    }
    arrays: dict[str, tuple[Any, ...]] = {
        semconv.ML_PREDICTION_ID: ids,
        semconv.ML_PREDICTION_TIMESTAMP: starts,
        semconv.ML_PREDICTION_DURATION: durations,
    }
    # Arrays that say nothing are left out (each item costs export work): all-``ok``
    # statuses, and request ids when no prediction ran inside a traced request.
    failed = errors.count(None) != count
    if failed:
        arrays[semconv.ML_PREDICTION_STATUS] = tuple(
            semconv.STATUS_OK if error is None else semconv.STATUS_ERROR for error in errors
        )
    if parents.count(INVALID_SPAN) != count:
        _add_request_ids(arrays, parents)
    for key, column, missing in (
        (semconv.ML_PREDICTION_LABEL, labels, ""),
        (semconv.ML_PREDICTION_SCORE, scores, _NAN),
        (semconv.ML_PREDICTION_VALUE, values, _NAN),
    ):
        filled = _filled(column, missing)
        if filled is not None:
            arrays[key] = filled
    _add_feature_arrays(arrays, chunk)
    _end_span(recorder, attributes, arrays, chunk, failed)
    _record_metrics(chunk, count, errors)
    return count


Columns = tuple[tuple[Any, ...], ...]
"""Per prediction: ids, labels, scores, values, start times, durations, errors, parent spans.

Labels, scores and values hold None where a prediction has none.
"""


def _single_columns(chunk: list[BufferEntry]) -> Columns:
    # Hot loop of the export (bench/sdk_overhead.py, batched=True): zip and map run in C.
    _, _, starts, ends, ids, predictions, errors, parents, _ = zip(*chunk, strict=True)
    labels, scores, values = zip(*predictions, strict=True)
    durations = tuple(map(truediv, map(sub, ends, starts), repeat(1e9)))
    return ids, labels, scores, values, starts, durations, errors, parents


def _expanded_columns(chunk: list[BufferEntry]) -> Columns:
    """Columns of a chunk holding batch calls: a batch call's values repeat for each item."""
    ids: list[str] = []
    labels: list[str | None] = []
    scores: list[float | None] = []
    values: list[float | None] = []
    starts: list[int] = []
    durations: list[float] = []
    errors: list[str | None] = []
    parents: list[Any] = []
    for _, _, start_ns, end_ns, entry_ids, outputs, error, parent, _ in chunk:
        if type(entry_ids) is str:
            n = 1
            ids.append(entry_ids)
            label, score, value = outputs
            labels.append(label)
            scores.append(score)
            values.append(value)
        else:
            n = len(entry_ids)
            ids.extend(entry_ids)
            labels.extend(outputs.labels or [None] * n)
            scores.extend(outputs.scores or [None] * n)
            values.extend(outputs.values or [None] * n)
        starts.extend([start_ns] * n)
        durations.extend([(end_ns - start_ns) / 1e9] * n)
        errors.extend([error] * n)
        parents.extend([parent] * n)
    columns = ids, labels, scores, values, starts, durations, errors, parents
    return tuple(tuple(column) for column in columns)


def _filled(column: tuple[Any, ...], missing: Any) -> tuple[Any, ...] | None:
    """The column with ``missing`` where it holds None; None when it holds nothing else."""
    absent = column.count(None)
    if absent == len(column):
        return None
    if absent == 0:
        return column
    return tuple(missing if item is None else item for item in column)


def _add_request_ids(arrays: dict[str, tuple[Any, ...]], parents: tuple[Any, ...]) -> None:
    """Trace and span id (hex) of the request each prediction ran in; "" outside of one."""
    known: dict[int, tuple[str, str]] = {}
    trace_ids: list[str] = []
    span_ids: list[str] = []
    for parent in parents:
        pair = known.get(id(parent))
        if pair is None:
            context = parent.get_span_context()
            pair = ("", "")
            if context.is_valid:
                pair = (format(context.trace_id, "032x"), format(context.span_id, "016x"))
            known[id(parent)] = pair
        trace_ids.append(pair[0])
        span_ids.append(pair[1])
    if trace_ids.count("") != len(trace_ids):
        arrays[semconv.ML_PREDICTION_TRACE_ID] = tuple(trace_ids)
        arrays[semconv.ML_PREDICTION_SPAN_ID] = tuple(span_ids)


_NAN = float("nan")


def _add_feature_arrays(arrays: dict[str, tuple[Any, ...]], chunk: list[BufferEntry]) -> None:
    """Captured features become one string array per feature name, aligned with the ids."""
    if list(map(_FEATURES, chunk)).count(None) == len(chunk):
        return
    names = {name for entry in chunk for name in entry[8] or ()}
    for name in sorted(names):
        column: list[str] = []
        for entry in chunk:
            value = (entry[8] or {}).get(name)
            column.extend(["" if value is None else str(value)] * _entry_count(entry))
        arrays[name] = tuple(column)


def _end_span(
    recorder: Any,
    attributes: dict[str, Any],
    arrays: dict[str, tuple[Any, ...]],
    chunk: list[BufferEntry],
    failed: bool,
) -> None:
    """Start and end the batch span through the tracer, so every span processor sees it."""
    span = recorder.tracer.start_span(
        recorder.options.span_name,
        context=otel_context.Context(),
        attributes=attributes,
        start_time=min(map(_START, chunk)),
    )
    set_valid_attributes(span, arrays)
    if failed:
        span.set_status(trace.Status(trace.StatusCode.ERROR, "some predictions failed"))
    span.end(end_time=max(map(_END, chunk)))


_FEATURES = itemgetter(8)
_START = itemgetter(2)
_END = itemgetter(3)


def set_valid_attributes(span: Any, arrays: dict[str, tuple[Any, ...]]) -> None:
    """Add attributes whose values are valid already (tuples of str, int or float) to a span.

    ``Span.set_attributes`` of the OpenTelemetry SDK checks every item of every array again
    (about 0.3 µs an item here, bench/sdk_overhead.py); the arrays built above hold only
    strings, ints and floats by construction, so an SDK span takes them as they are — unless
    a limit (attribute count, value length) is configured that the SDK would apply to them.
    Any other span (another SDK, a non-recording span) goes through ``set_attributes``.
    """
    stored = getattr(span, "_attributes", None)
    if (
        isinstance(stored, BoundedAttributes)
        and isinstance(getattr(stored, "_dict", None), dict)
        and getattr(stored, "max_value_len", 0) is None
        and (stored.maxlen is None or len(stored) + len(arrays) <= stored.maxlen)
        and span.is_recording()
    ):
        stored._dict.update(arrays)
    else:
        span.set_attributes(arrays)


HISTOGRAM_SAMPLE = 10
"""Most calls per exported chunk whose duration and scores go into the histograms."""


def _record_metrics(chunk: list[BufferEntry], count: int, errors: tuple[Any, ...]) -> None:
    """Counters exactly, once per chunk; histograms from an even sample of the chunk.

    The metrics API has no bulk record, and one histogram record costs the OpenTelemetry
    Python SDK about as much as ten buffered calls (bench/sdk_overhead.py), so the
    histograms of buffered calls are sampled: their shape is kept, their count is not.
    Exact per-prediction latency and scores are in the exported spans. ``errors`` holds
    the error of each prediction (None if it succeeded); a failed call is one prediction.
    """
    tools = instruments()
    recorder = chunk[0][0]
    ok, failed = recorder._ok_attributes, recorder._error_attributes
    step = max(1, len(chunk) // HISTOGRAM_SAMPLE)
    for _, _, start_ns, end_ns, ids, outputs, error, _, _ in chunk[::step]:
        tools.duration.record((end_ns - start_ns) / 1e9, ok if error is None else failed)
        if error is None:
            if type(ids) is str:
                scores = None if outputs[1] is None else [outputs[1]]
            else:
                scores = outputs.scores
            if scores:
                record_finite_scores(tools.score, scores, ok)
    error_count = count - errors.count(None)
    if count > error_count:
        tools.predictions.add(count - error_count, ok)
    if error_count:
        tools.predictions.add(error_count, failed)
        for error in errors:
            if error is not None:
                tools.errors.add(1, {**failed, semconv.METRIC_ATTR_ERROR_TYPE: error})


def _entry_count(entry: BufferEntry) -> int:
    """Number of predictions of an entry."""
    ids = entry[4]
    return 1 if type(ids) is str else len(ids)


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

"""Validation of decoded OTLP requests, for ``partial_success``: bad items out, precisely named.

Each ``validate_*`` returns ``(request, rejected, message)``: the request without its bad items,
how many items were rejected, and a message naming the first few problems, e.g.
``"span 3: ml.prediction.id has 4 items, ml.prediction.label has 3"``. Items are numbered from
0 in request order across all resources and scopes. When nothing is wrong the *same* request
object comes back, untouched and uncopied — the common case costs one read-only pass.
``check_traces`` also says what the kept spans are (single-prediction, batch, label), for the
write-ahead log's record kind (``record_kinds``).

What is rejected:

- spans: trace/span ids of the wrong size; prediction spans (those with ``ml.model.name``)
  whose per-prediction attributes disagree in length (with each other or with
  ``ml.prediction.count``), mix arrays and single values, or have the wrong type (a score that
  is a string; arrays are judged by their first item); an ``ml.prediction.status`` other than
  ``ok``/``error``; label spans as below. NaN scores are accepted: the SDK writes NaN for
  "no score" in batch arrays.
- log records: ``ml.label`` events without ``ml.model.name`` or ``ml.prediction.id``, with
  neither ``ml.label`` nor ``ml.label.value``, or with a NaN or non-numeric ``ml.label.value``.
- metrics: only structural problems — a metric without a name, histogram points whose bucket
  counts do not match their bounds.

Unknown models are not errors here.

>>> from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
...     ExportTraceServiceRequest)
>>> request = ExportTraceServiceRequest()
>>> validate_traces(request) == (request, 0, "")
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from operator import methodcaller
from typing import Any

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from inferwatch import semconv

MAX_PROBLEMS_NAMED = 3
"""How many problems the message names; the rest are counted."""

_MODEL = semconv.ML_MODEL_NAME
_COUNT = semconv.ML_PREDICTION_COUNT
_ID = semconv.ML_PREDICTION_ID
_LABEL = semconv.ML_LABEL
_LABEL_VALUE = semconv.ML_LABEL_VALUE
_EVENT_NAME_ATTRIBUTE = "event.name"
_KIND_OF = methodcaller("WhichOneof", "value")
_STRING, _INT, _DOUBLE, _BOOL = "string_value", "int_value", "double_value", "bool_value"
_KIND_NAMES = {
    _STRING: "a string",
    _INT: "an int",
    _DOUBLE: "a double",
    _BOOL: "a bool",
    "bytes_value": "bytes",
    "array_value": "an array",
    "kvlist_value": "a map",
    None: "empty",
}
_A_STRING: tuple[set[str | None], str] = ({_STRING}, "a string")
_A_NUMBER: tuple[set[str | None], str] = ({_DOUBLE, _INT}, "a number")
_EXPECTED: dict[str, tuple[set[str | None], str]] = {
    semconv.ML_PREDICTION_ID: _A_STRING,
    semconv.ML_PREDICTION_LABEL: ({_STRING, _INT, _BOOL}, "a string"),
    semconv.ML_PREDICTION_SCORE: _A_NUMBER,
    semconv.ML_PREDICTION_VALUE: _A_NUMBER,
    semconv.ML_PREDICTION_TIMESTAMP: ({_INT}, "an int (Unix ns)"),
    semconv.ML_PREDICTION_DURATION: _A_NUMBER,
    semconv.ML_PREDICTION_STATUS: _A_STRING,
    semconv.ML_PREDICTION_TRACE_ID: _A_STRING,
    semconv.ML_PREDICTION_SPAN_ID: _A_STRING,
}
"""The kinds each per-prediction attribute (or each of its array items) may have."""
_STATUSES = {semconv.STATUS_OK, semconv.STATUS_ERROR}
_STATUS = semconv.ML_PREDICTION_STATUS
_SINGLE_KINDS = {key: allowed for key, (allowed, _) in _EXPECTED.items()}
_WATCHED = frozenset(
    (_MODEL, _COUNT, _LABEL, _LABEL_VALUE, _EVENT_NAME_ATTRIBUTE, *semconv.PER_PREDICTION_ARRAYS)
)
"""The attribute keys validation looks at; the others are not even read."""

Problems = list[tuple[tuple[int, ...], str]]
"""``(path to the item in the request, message)`` per rejected item."""


# --- traces ------------------------------------------------------------------------------------
PLAIN, SINGLE, BATCH, LABEL = range(4)
"""What a span is: a plain span, a single-prediction span, a batch span, a label span."""


@dataclass(frozen=True, slots=True)
class TraceCheck:
    """What :func:`check_traces` found in a trace request.

    Args:
        request: the request without its bad spans (the same object when none is bad).
        rejected: spans rejected.
        message: what was wrong with them (``""`` when nothing).
        spans: spans kept.
        predictions: ``ml_predictions`` rows of the kept spans: one per single-prediction
            span, one per item of a batch span's arrays.
        single: single-prediction spans kept.
        labels: whether a kept span is a label span (their rows are made by the Python
            converter only; see ``store/decoded.py``).
        feature_arrays: whether a kept batch span carries per-prediction features
            (``ml.feature.*`` arrays; their rows too are made by the Python converter only).
    """

    request: ExportTraceServiceRequest
    rejected: int
    message: str
    spans: int
    predictions: int
    single: int
    labels: bool
    feature_arrays: bool = False


def validate_traces(
    request: ExportTraceServiceRequest,
) -> tuple[ExportTraceServiceRequest, int, str]:
    """Remove the bad spans of ``request``.

    Returns:
        ``(request without the bad spans, spans rejected, message)``; ``request`` itself when
        none is rejected.
    """
    check = check_traces(request)
    return check.request, check.rejected, check.message


def check_traces(request: ExportTraceServiceRequest) -> TraceCheck:
    """Remove the bad spans of ``request`` and count what the good ones are."""
    problems: Problems = []
    shapes = [0, 0, 0, 0]
    batch_rows = 0
    feature_arrays = False
    number = 0
    for r, resource_spans in enumerate(request.resource_spans):
        for s, scope_spans in enumerate(resource_spans.scope_spans):
            for p, span in enumerate(scope_spans.spans):
                problem, shape, rows = span_check(span)
                if problem is None:
                    shapes[shape] += 1
                    if shape == BATCH:
                        batch_rows += rows
                        feature_arrays = feature_arrays or _has_feature_arrays(span.attributes)
                else:
                    problems.append(((r, s, p), f"span {number}: {problem}"))
                number += 1
    kept = request
    if problems:
        kept = ExportTraceServiceRequest()
        kept.CopyFrom(request)
        for (r, s, p), _ in reversed(problems):
            del kept.resource_spans[r].scope_spans[s].spans[p]
    return TraceCheck(
        kept,
        len(problems),
        _summary(problems) if problems else "",
        spans=number - len(problems),
        predictions=shapes[SINGLE] + batch_rows,
        single=shapes[SINGLE],
        labels=bool(shapes[LABEL]),
        feature_arrays=feature_arrays,
    )


def span_problem(span: Any) -> str | None:
    """What is wrong with one span, or None when it can be stored."""
    return span_check(span)[0]


def span_check(span: Any) -> tuple[str | None, int, int]:
    """``(what is wrong with the span or None, what it is: PLAIN, SINGLE, BATCH or LABEL,
    its predictions)``."""
    if len(span.trace_id) != 16:
        return f"trace_id has {len(span.trace_id)} bytes, expected 16", PLAIN, 0
    if len(span.span_id) != 8:
        return f"span_id has {len(span.span_id)} bytes, expected 8", PLAIN, 0
    ml = _watched(span.attributes)
    if span.name == semconv.LABEL_EVENT_NAME:
        return label_problem(ml), LABEL, 0
    if _MODEL not in ml:
        return None, PLAIN, 0
    if _plain_single(ml):
        return None, SINGLE, 1
    return prediction_check(ml)


def _has_feature_arrays(attributes: Any) -> bool:
    """Whether a span's attributes hold an ``ml.feature.*`` array (per-prediction features)."""
    prefix = semconv.ML_FEATURE_PREFIX
    return any(kv.key.startswith(prefix) and kv.value.HasField("array_value") for kv in attributes)


def _watched(attributes: Any) -> dict[str, Any]:
    # Hot loop (bench/convert.py, "validate"): only the keys validation needs are kept.
    watched = _WATCHED
    return {key: kv.value for kv in attributes if (key := kv.key) in watched}


def _kind_problem(key: str, kind: str | None, item: int | None = None) -> str | None:
    allowed, expected = _EXPECTED[key]
    if kind in allowed:
        return None
    where = key if item is None else f"{key} item {item}"
    return f"{where} must be {expected}, got {_KIND_NAMES.get(kind, kind)}"


def _plain_single(ml: dict[str, Any]) -> bool:
    """A single-prediction span with nothing wrong, as SDKs send them (the common case,
    judged without building the messages of :func:`prediction_check`)."""
    model = ml[_MODEL]
    if not model.string_value:
        return False
    count = ml.get(_COUNT)
    if count is not None and (_KIND_OF(count) != _INT or count.int_value != 1):
        return False
    kinds = _SINGLE_KINDS
    for key, value in ml.items():
        allowed = kinds.get(key)
        if allowed is not None:
            if _KIND_OF(value) not in allowed:
                return False
            if key == _STATUS and value.string_value not in _STATUSES:
                return False
    return True


def prediction_problem(ml: dict[str, Any]) -> str | None:
    """What is wrong with a prediction span's ``ml.*`` attributes (``AnyValue`` by key)."""
    return prediction_check(ml)[0]


def prediction_check(ml: dict[str, Any]) -> tuple[str | None, int, int]:
    """``(what is wrong or None, SINGLE or BATCH, predictions)`` for a prediction span's
    ``ml.*``."""
    model = ml[_MODEL]
    if _KIND_OF(model) != _STRING or not model.string_value:
        return f"{_MODEL} must be a non-empty string", SINGLE, 1
    count = None
    if _COUNT in ml:
        count_value = ml[_COUNT]
        if _KIND_OF(count_value) != _INT or count_value.int_value < 0:
            return f"{_COUNT} must be an int >= 0", SINGLE, 1
        count = count_value.int_value
    arrays: dict[str, Any] = {}
    singles: dict[str, Any] = {}
    for key in semconv.PER_PREDICTION_ARRAYS:
        value = ml.get(key)
        if value is not None:
            kind = _KIND_OF(value)
            if kind == "array_value":
                arrays[key] = value.array_value.values
            else:
                singles[key] = (kind, value)
    if arrays:
        return _arrays_problem(arrays, singles, count), BATCH, len(next(iter(arrays.values())))
    return _singles_problem(singles, count), SINGLE, 1


def _singles_problem(singles: dict[str, Any], count: int | None) -> str | None:
    if count is not None and count != 1:
        return f"{_COUNT} is {count} but the prediction attributes are single values"
    for key, (kind, _value) in singles.items():
        problem = _kind_problem(key, kind)
        if problem is not None:
            return problem
    status = singles.get(semconv.ML_PREDICTION_STATUS)
    if status is not None and status[1].string_value not in _STATUSES:
        return f"{semconv.ML_PREDICTION_STATUS} must be ok or error, got {status[1].string_value!r}"
    return None


def _arrays_problem(
    arrays: dict[str, Any], singles: dict[str, Any], count: int | None
) -> str | None:
    first_key, first = next(iter(arrays.items()))
    size = len(first)
    for key, items in arrays.items():
        if len(items) != size:
            return f"{first_key} has {size} items, {key} has {len(items)}"
    if singles:
        single = next(iter(singles))
        return f"{single} is a single value but {first_key} is an array of {size} items"
    if count is not None and count != size:
        return f"{_COUNT} is {count} but {first_key} has {size} items"
    for key, items in arrays.items():
        problem = _items_problem(key, items)
        if problem is not None:
            return problem
    return None


def _items_problem(key: str, items: Any) -> str | None:
    # Arrays are judged by their first item: OpenTelemetry SDKs only send homogeneous arrays,
    # and checking every item would cost as much as converting them (bench/convert.py); the
    # converter turns a stray item of another kind into an absent value, never an error.
    if not items:
        return None
    first = items[0]
    problem = _kind_problem(key, _KIND_OF(first), 0)
    if problem is None and key == semconv.ML_PREDICTION_STATUS:
        if first.string_value not in _STATUSES:
            return f"{key} item 0 must be ok or error, got {first.string_value!r}"
    return problem


# --- labels (spans and log records) ---------------------------------------------------------------
def label_problem(ml: dict[str, Any] | None) -> str | None:
    """What is wrong with an ``ml.label`` event's attributes (``AnyValue`` by key)."""
    ml = ml or {}
    model = ml.get(_MODEL)
    if model is None or _KIND_OF(model) != _STRING or not model.string_value:
        return f"ml.label event without {_MODEL}"
    if _ID not in ml:
        return f"ml.label event without {_ID}"
    if _LABEL not in ml and _LABEL_VALUE not in ml:
        return f"ml.label event with neither {_LABEL} nor {_LABEL_VALUE}"
    present = {key: ml[key] for key in (_ID, _LABEL, _LABEL_VALUE) if key in ml}
    arrays = {k: v.array_value.values for k, v in present.items() if _KIND_OF(v) == "array_value"}
    sizes = {key: len(items) for key, items in arrays.items()}
    if len(set(sizes.values())) > 1:
        (key_a, size_a), (key_b, size_b) = list(sizes.items())[:2]
        return f"{key_a} has {size_a} items, {key_b} has {size_b}"
    if _LABEL_VALUE in present:
        value = present[_LABEL_VALUE]
        items = arrays.get(_LABEL_VALUE, [value])
        return _label_values_problem(items, _LABEL_VALUE in arrays)
    return None


def _label_values_problem(items: Any, is_array: bool) -> str | None:
    for index, item in enumerate(items):
        where = f"{_LABEL_VALUE} item {index}" if is_array else _LABEL_VALUE
        kind = _KIND_OF(item)
        if kind == _INT:
            continue
        if kind != _DOUBLE:
            return f"{where} must be a number, got {_KIND_NAMES.get(kind, kind)}"
        if math.isnan(item.double_value):
            return f"{where} is NaN"
    return None


# --- logs --------------------------------------------------------------------------------------
def validate_logs(
    request: ExportLogsServiceRequest,
) -> tuple[ExportLogsServiceRequest, int, str]:
    """Remove the bad log records (malformed ``ml.label`` events) of ``request``.

    Returns:
        ``(request without the bad records, records rejected, message)``; ``request`` itself
        when none is rejected.
    """
    problems: Problems = []
    number = 0
    for r, resource_logs in enumerate(request.resource_logs):
        for s, scope_logs in enumerate(resource_logs.scope_logs):
            for p, record in enumerate(scope_logs.log_records):
                problem = record_problem(record)
                if problem is not None:
                    problems.append(((r, s, p), f"log record {number}: {problem}"))
                number += 1
    if not problems:
        return request, 0, ""
    kept = ExportLogsServiceRequest()
    kept.CopyFrom(request)
    for (r, s, p), _ in reversed(problems):
        del kept.resource_logs[r].scope_logs[s].log_records[p]
    return kept, len(problems), _summary(problems)


def record_problem(record: Any) -> str | None:
    """What is wrong with one log record, or None when it can be stored."""
    for size, name, expected in (
        (len(record.trace_id), "trace_id", 16),
        (len(record.span_id), "span_id", 8),
    ):
        if size not in (0, expected):
            return f"{name} has {size} bytes, expected {expected}"
    ml = _watched(record.attributes)
    is_label = record.event_name == semconv.LABEL_EVENT_NAME
    if not is_label and ml is not None and _EVENT_NAME_ATTRIBUTE in ml:
        is_label = ml[_EVENT_NAME_ATTRIBUTE].string_value == semconv.LABEL_EVENT_NAME
    return label_problem(ml) if is_label else None


# --- metrics -----------------------------------------------------------------------------------
def validate_metrics(
    request: ExportMetricsServiceRequest,
) -> tuple[ExportMetricsServiceRequest, int, str]:
    """Remove structurally bad metrics and data points of ``request``.

    Returns:
        ``(request without them, data points rejected, message)``; ``request`` itself when
        none is rejected.
    """
    problems: Problems = []
    rejected = 0
    number = 0
    for r, resource_metrics in enumerate(request.resource_metrics):
        for s, scope_metrics in enumerate(resource_metrics.scope_metrics):
            for m, metric in enumerate(scope_metrics.metrics):
                rejected += _metric_problems(metric, (r, s, m), number, problems)
                number += 1
    if not problems:
        return request, 0, ""
    kept = ExportMetricsServiceRequest()
    kept.CopyFrom(request)
    for path, _ in reversed(problems):
        _remove_metric_item(kept, path)
    return kept, rejected, _summary(problems)


def _points(metric: Any) -> Any:
    kind = metric.WhichOneof("data")
    return () if kind is None else getattr(metric, kind).data_points


def _metric_problems(metric: Any, path: tuple[int, ...], number: int, problems: Problems) -> int:
    """Record the problems of one metric; returns how many data points they reject."""
    points = _points(metric)
    if not metric.name:
        problems.append((path, f"metric {number}: name is empty"))
        return len(points)
    rejected = 0
    if metric.WhichOneof("data") == "histogram":
        for index, point in enumerate(points):
            problem = _histogram_point_problem(point)
            if problem is not None:
                where = f"metric {number} ({metric.name}) point {index}"
                problems.append(((*path, index), f"{where}: {problem}"))
                rejected += 1
    return rejected


def _histogram_point_problem(point: Any) -> str | None:
    buckets, bounds = len(point.bucket_counts), len(point.explicit_bounds)
    if buckets and buckets != bounds + 1:
        return f"{buckets} bucket counts for {bounds} explicit bounds (expected {bounds + 1})"
    return None


def _remove_metric_item(request: ExportMetricsServiceRequest, path: tuple[int, ...]) -> None:
    metrics = request.resource_metrics[path[0]].scope_metrics[path[1]].metrics
    if len(path) == 3:
        del metrics[path[2]]
    else:
        del _points(metrics[path[2]])[path[3]]


# --- the message -------------------------------------------------------------------------------
def _summary(problems: Problems) -> str:
    named = "; ".join(message for _, message in problems[:MAX_PROBLEMS_NAMED])
    more = len(problems) - MAX_PROBLEMS_NAMED
    return f"{named} (and {more} more)" if more > 0 else named

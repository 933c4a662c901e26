"""``ExportTraceServiceRequest`` → ``otel_traces``, ``ml_predictions`` and ``ml_labels`` columns.

Every span becomes an ``otel_traces`` row, as the OpenTelemetry Collector's ClickHouse
exporter writes it. A span carrying ``ml.model.name`` also becomes one ``ml_predictions`` row
per prediction; a span named ``ml.label`` becomes ``ml_labels`` rows instead.

>>> from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
...     ExportTraceServiceRequest)
>>> tables = convert_traces([ExportTraceServiceRequest()])
>>> sorted(tables), tables["otel_traces"].row_count
(['ml_labels', 'ml_predictions', 'otel_traces'], 0)
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from inferwatch import semconv

from ..rows import ML_LABELS, ML_PREDICTIONS, OTEL_TRACES, TableColumns, TableRows
from .attributes import any_value, attribute_map, format_value
from .gc_pause import paused_gc
from .labels import label_rows
from .predictions import prediction_rows

SERVICE_NAME = "service.name"
SPAN_KINDS = ("Unspecified", "Internal", "Server", "Client", "Producer", "Consumer")
"""``SpanKind`` as the exporter writes it (pdata's ``SpanKind.String()``), by enum number."""
STATUS_CODES = ("Unset", "Ok", "Error")
"""``StatusCode`` as the exporter writes it (pdata's ``StatusCode.String()``), by enum number."""
_STATUS_ERROR = 2
_ZERO_TRACE_ID = "0" * 32
_ZERO_SPAN_ID = "0" * 16
_PER_PREDICTION = frozenset(semconv.PER_PREDICTION_ARRAYS)


class _Rows:
    """Row tuples of the three tables a trace request fills, before transposing."""

    __slots__ = ("spans", "predictions", "labels")

    def __init__(self) -> None:
        self.spans: list[tuple[Any, ...]] = []
        self.predictions = TableRows(ML_PREDICTIONS)
        self.labels: list[tuple[Any, ...]] = []


def convert_traces(
    requests: Iterable[ExportTraceServiceRequest], *, spans: bool = True
) -> dict[str, TableColumns]:
    """Columns of ``otel_traces``, ``ml_predictions`` and ``ml_labels`` for these requests.

    Args:
        requests: parsed (and validated) requests, e.g. everything of one flush.
        spans: False to leave ``otel_traces`` out (chDB stores those rows of the requests,
            ``store/decoded.py``): a batch span's per-prediction arrays are then not formatted
            as JSON at all, which is most of what converting a batch span costs.

    Returns:
        One :class:`TableColumns` per table name, possibly with no rows.
    """
    with paused_gc():
        return _traces_tables(requests, spans)


def _traces_tables(
    requests: Iterable[ExportTraceServiceRequest], spans: bool
) -> dict[str, TableColumns]:
    rows = _Rows()
    for request in requests:
        for resource_spans in request.resource_spans:
            resource = attribute_map(resource_spans.resource.attributes)
            service = resource.get(SERVICE_NAME, "")
            for scope_spans in resource_spans.scope_spans:
                _spans_rows(scope_spans, service, resource, rows, spans)
    tables = {
        ML_PREDICTIONS: rows.predictions.table(),
        ML_LABELS: TableColumns.from_rows(ML_LABELS, rows.labels),
    }
    if spans:
        tables[OTEL_TRACES] = TableColumns.from_rows(OTEL_TRACES, rows.spans)
    return tables


def _spans_rows(
    scope_spans: Any, service: str, resource: dict[str, str], rows: _Rows, spans: bool
) -> None:
    # Hot loop (bench/convert.py): locals bound once, attribute values read as strings first
    # (WhichOneof only for the rest), one row tuple per span (transposed once per flush),
    # function calls avoided on the common paths. Splitting ml.* keys here cost 2x more than
    # doing it afterwards for prediction spans only.
    scope = scope_spans.scope
    scope_name, scope_version = scope.name, scope.version
    append = rows.spans.append
    # Without spans, per-prediction arrays are kept as values only: their strings would go
    # to SpanAttributes alone (ml_predictions takes them from ``values``).
    unformatted = frozenset() if spans else _PER_PREDICTION
    model_key, label_name = semconv.ML_MODEL_NAME, semconv.LABEL_EVENT_NAME
    kinds, codes = SPAN_KINDS, STATUS_CODES
    for span in scope_spans.spans:
        strings: dict[str, str] = {}
        values: dict[str, Any] = {}
        for kv in span.attributes:
            key = kv.key
            value = kv.value
            text = value.string_value
            if not text:
                kind = value.WhichOneof("value")
                if kind == "double_value":
                    number = values[key] = value.double_value
                    text = repr(number)
                    if text[-2:] == ".0":
                        text = text[:-2]
                elif kind == "int_value":
                    number = values[key] = value.int_value
                    text = str(number)
                elif kind == "array_value" and key in unformatted:
                    values[key] = any_value(value)
                    continue
                else:
                    text = format_value(_put(values, key, any_value(value)))
            strings[key] = text
        start = span.start_time_unix_nano
        end = span.end_time_unix_nano
        status = span.status
        code = status.code
        trace_id = span.trace_id.hex()
        if trace_id == _ZERO_TRACE_ID:
            trace_id = ""
        span_id = span.span_id.hex()
        parent = span.parent_span_id.hex()
        kind = span.kind
        name = span.name
        events = span.events
        links = span.links
        if spans:
            append(
                (
                    start,
                    trace_id,
                    span_id,
                    "" if parent == _ZERO_SPAN_ID else parent,
                    span.trace_state,
                    name,
                    kinds[kind] if kind < 6 else "",
                    service,
                    resource,
                    scope_name,
                    scope_version,
                    strings,
                    end - start if end > start else 0,
                    codes[code] if code < 3 else "",
                    status.message,
                    [event.time_unix_nano for event in events] if events else [],
                    [event.name for event in events] if events else [],
                    [attribute_map(event.attributes) for event in events] if events else [],
                    [link.trace_id.hex() for link in links] if links else [],
                    [link.span_id.hex() for link in links] if links else [],
                    [link.trace_state for link in links] if links else [],
                    [attribute_map(link.attributes) for link in links] if links else [],
                )
            )
        if name == label_name:
            label_rows(strings, values, start, service, rows.labels)
        elif model_key in strings:
            facts = (service, start, end, trace_id, span_id, code == _STATUS_ERROR)
            prediction_rows(strings, values, facts, rows.predictions)


def _put(values: dict[str, Any], key: str, value: Any) -> Any:
    values[key] = value
    return value

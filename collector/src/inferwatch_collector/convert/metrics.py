"""``ExportMetricsServiceRequest`` → the ``otel_metrics_*`` columns, one table per point type.

Columns and values as the OpenTelemetry Collector's ClickHouse exporter writes them: integer
points as ``Float64``, absent optional fields (``sum``, ``min``, ``max``) as ``0``.

>>> from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
...     ExportMetricsServiceRequest)
>>> sorted(convert_metrics([ExportMetricsServiceRequest()]))[0]
'otel_metrics_exponential_histogram'
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)

from ..rows import (
    OTEL_METRICS_EXPONENTIAL_HISTOGRAM,
    OTEL_METRICS_GAUGE,
    OTEL_METRICS_HISTOGRAM,
    OTEL_METRICS_SUM,
    OTEL_METRICS_SUMMARY,
    TableColumns,
)
from .attributes import attribute_map
from .gc_pause import paused_gc
from .traces import SERVICE_NAME

Row = tuple[Any, ...]


def convert_metrics(requests: Iterable[ExportMetricsServiceRequest]) -> dict[str, TableColumns]:
    """Columns of the five ``otel_metrics_*`` tables for these requests.

    Args:
        requests: parsed (and validated) requests, e.g. everything of one flush.

    Returns:
        One :class:`TableColumns` per table name, possibly with no rows.
    """
    with paused_gc():
        return _metrics_tables(requests)


def _metrics_tables(requests: Iterable[ExportMetricsServiceRequest]) -> dict[str, TableColumns]:
    rows: dict[str, list[Row]] = {table: [] for table in _POINT_ROWS.values()}
    for request in requests:
        for resource_metrics in request.resource_metrics:
            resource = attribute_map(resource_metrics.resource.attributes)
            service = resource.get(SERVICE_NAME, "")
            for scope_metrics in resource_metrics.scope_metrics:
                scope = scope_metrics.scope
                head = (
                    resource,
                    resource_metrics.schema_url,
                    scope.name,
                    scope.version,
                    attribute_map(scope.attributes),
                    scope.dropped_attributes_count,
                    scope_metrics.schema_url,
                    service,
                )
                for metric in scope_metrics.metrics:
                    _metric_rows(metric, head, rows)
    return {table: TableColumns.from_rows(table, table_rows) for table, table_rows in rows.items()}


def _metric_rows(metric: Any, head: Row, rows: dict[str, list[Row]]) -> None:
    kind = metric.WhichOneof("data")
    if kind is None:
        return  # a metric without data has no points to store
    data = getattr(metric, kind)
    metric_head = (*head, metric.name, metric.description, metric.unit)
    to_row = _POINT_ROWS_BUILDERS[kind]
    append = rows[_POINT_ROWS[kind]].append
    for point in data.data_points:
        append(to_row(metric_head, point, data))


def _number(point: Any) -> float:
    """A number point's or exemplar's value; integer values as ``Float64`` like the exporter."""
    kind = point.WhichOneof("value")
    if kind == "as_double":
        return point.as_double  # type: ignore[no-any-return]
    return float(point.as_int) if kind == "as_int" else 0.0


def _exemplars(exemplars: Any) -> Row:
    return (
        [attribute_map(exemplar.filtered_attributes) for exemplar in exemplars],
        [exemplar.time_unix_nano for exemplar in exemplars],
        [_number(exemplar) for exemplar in exemplars],
        [exemplar.span_id.hex() for exemplar in exemplars],
        [exemplar.trace_id.hex() for exemplar in exemplars],
    )


def _point_head(metric_head: Row, point: Any) -> Row:
    return (
        *metric_head,
        attribute_map(point.attributes),
        point.start_time_unix_nano,
        point.time_unix_nano,
    )


def _gauge_row(metric_head: Row, point: Any, data: Any) -> Row:
    return (
        *_point_head(metric_head, point),
        _number(point),
        point.flags,
        *_exemplars(point.exemplars),
    )


def _sum_row(metric_head: Row, point: Any, data: Any) -> Row:
    return (*_gauge_row(metric_head, point, data), data.aggregation_temporality, data.is_monotonic)


def _histogram_row(metric_head: Row, point: Any, data: Any) -> Row:
    return (
        *_point_head(metric_head, point),
        point.count,
        point.sum,
        list(point.bucket_counts),
        list(point.explicit_bounds),
        *_exemplars(point.exemplars),
        point.flags,
        point.min,
        point.max,
        data.aggregation_temporality,
    )


def _exponential_histogram_row(metric_head: Row, point: Any, data: Any) -> Row:
    positive, negative = point.positive, point.negative
    return (
        *_point_head(metric_head, point),
        point.count,
        point.sum,
        point.scale,
        point.zero_count,
        positive.offset,
        list(positive.bucket_counts),
        negative.offset,
        list(negative.bucket_counts),
        *_exemplars(point.exemplars),
        point.flags,
        point.min,
        point.max,
        data.aggregation_temporality,
    )


def _summary_row(metric_head: Row, point: Any, data: Any) -> Row:
    quantiles = point.quantile_values
    return (
        *_point_head(metric_head, point),
        point.count,
        point.sum,
        [quantile.quantile for quantile in quantiles],
        [quantile.value for quantile in quantiles],
        point.flags,
    )


_POINT_ROWS = {
    "gauge": OTEL_METRICS_GAUGE,
    "sum": OTEL_METRICS_SUM,
    "histogram": OTEL_METRICS_HISTOGRAM,
    "exponential_histogram": OTEL_METRICS_EXPONENTIAL_HISTOGRAM,
    "summary": OTEL_METRICS_SUMMARY,
}
"""The table of each kind of metric data (the ``Metric.data`` oneof)."""
_POINT_ROWS_BUILDERS: dict[str, Callable[[Row, Any, Any], Row]] = {
    "gauge": _gauge_row,
    "sum": _sum_row,
    "histogram": _histogram_row,
    "exponential_histogram": _exponential_histogram_row,
    "summary": _summary_row,
}

"""The row contract between conversion (OTLP → columns) and storage (columns → ClickHouse).

Conversion fills one :class:`TableColumns` per table and flush; storage inserts it column by
column. The column-name tuples below are the single source of the column lists: the DDL is
tested against them, so the converter and the schema cannot drift apart.

Value conventions, for every table:

- timestamps are ``int`` Unix nanoseconds (``DateTime64(9)`` columns);
- trace and span ids are lowercase hex ``str`` (``""`` when absent);
- ``Map(LowCardinality(String), String)`` columns are ``dict[str, str]``;
- nested columns (``Events.Name`` …) hold one ``list`` per row, parallel within the group;
- ``Nullable`` columns hold ``None`` when the value is absent.

The raw OpenTelemetry tables keep the names and columns of the OpenTelemetry Collector's
ClickHouse exporter (``exporter/clickhouseexporter``); note that its exponential-histogram
table is ``otel_metrics_exponential_histogram``.

>>> columns = TableColumns.empty(ML_LABELS)
>>> columns.row_count
0
>>> columns.columns["PredictionId"]
[]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

# --- table names -------------------------------------------------------------------------
OTEL_TRACES = "otel_traces"
OTEL_LOGS = "otel_logs"
OTEL_METRICS_GAUGE = "otel_metrics_gauge"
OTEL_METRICS_SUM = "otel_metrics_sum"
OTEL_METRICS_HISTOGRAM = "otel_metrics_histogram"
OTEL_METRICS_EXPONENTIAL_HISTOGRAM = "otel_metrics_exponential_histogram"
OTEL_METRICS_SUMMARY = "otel_metrics_summary"
ML_PREDICTIONS = "ml_predictions"
ML_LABELS = "ml_labels"

# --- raw OpenTelemetry tables (the exporter's INSERT column lists) ----------------------------
OTEL_TRACES_COLUMNS = (
    "Timestamp",
    "TraceId",
    "SpanId",
    "ParentSpanId",
    "TraceState",
    "SpanName",
    "SpanKind",
    "ServiceName",
    "ResourceAttributes",
    "ScopeName",
    "ScopeVersion",
    "SpanAttributes",
    "Duration",
    "StatusCode",
    "StatusMessage",
    "Events.Timestamp",
    "Events.Name",
    "Events.Attributes",
    "Links.TraceId",
    "Links.SpanId",
    "Links.TraceState",
    "Links.Attributes",
)
"""``SpanKind`` is ``Unspecified|Internal|Server|Client|Producer|Consumer``, ``StatusCode``
``Unset|Ok|Error`` (the exporter's spelling); ``Duration`` is nanoseconds."""

OTEL_LOGS_COLUMNS = (
    "Timestamp",
    "TraceId",
    "SpanId",
    "TraceFlags",
    "SeverityText",
    "SeverityNumber",
    "ServiceName",
    "Body",
    "ResourceSchemaUrl",
    "ResourceAttributes",
    "ScopeSchemaUrl",
    "ScopeName",
    "ScopeVersion",
    "ScopeAttributes",
    "LogAttributes",
    "EventName",
)
"""``TimestampTime`` is a ``DEFAULT toDateTime(Timestamp)`` column and is not inserted."""

_METRIC_COMMON = (
    "ResourceAttributes",
    "ResourceSchemaUrl",
    "ScopeName",
    "ScopeVersion",
    "ScopeAttributes",
    "ScopeDroppedAttrCount",
    "ScopeSchemaUrl",
    "ServiceName",
    "MetricName",
    "MetricDescription",
    "MetricUnit",
    "Attributes",
    "StartTimeUnix",
    "TimeUnix",
)
_EXEMPLARS = (
    "Exemplars.FilteredAttributes",
    "Exemplars.TimeUnix",
    "Exemplars.Value",
    "Exemplars.SpanId",
    "Exemplars.TraceId",
)

OTEL_METRICS_GAUGE_COLUMNS = (*_METRIC_COMMON, "Value", "Flags", *_EXEMPLARS)
OTEL_METRICS_SUM_COLUMNS = (
    *OTEL_METRICS_GAUGE_COLUMNS,
    "AggregationTemporality",
    "IsMonotonic",
)
OTEL_METRICS_HISTOGRAM_COLUMNS = (
    *_METRIC_COMMON,
    "Count",
    "Sum",
    "BucketCounts",
    "ExplicitBounds",
    *_EXEMPLARS,
    "Flags",
    "Min",
    "Max",
    "AggregationTemporality",
)
OTEL_METRICS_EXPONENTIAL_HISTOGRAM_COLUMNS = (
    *_METRIC_COMMON,
    "Count",
    "Sum",
    "Scale",
    "ZeroCount",
    "PositiveOffset",
    "PositiveBucketCounts",
    "NegativeOffset",
    "NegativeBucketCounts",
    *_EXEMPLARS,
    "Flags",
    "Min",
    "Max",
    "AggregationTemporality",
)
OTEL_METRICS_SUMMARY_COLUMNS = (
    *_METRIC_COMMON,
    "Count",
    "Sum",
    "ValueAtQuantiles.Quantile",
    "ValueAtQuantiles.Value",
    "Flags",
)

# --- monitoring tables (ours) --------------------------------------------------------------
ML_PREDICTIONS_COLUMNS = (
    "Timestamp",
    "ServiceName",
    "ModelName",
    "ModelVersion",
    "Task",
    "PredictionId",
    "PredictedLabel",
    "Score",
    "PredictedValue",
    "LatencyMs",
    "StatusCode",
    "TraceId",
    "SpanId",
    "Segments",
    "Features",
    "Attributes",
)
"""``Score``/``PredictedValue`` are ``None`` when absent; ``StatusCode`` is ``ok|error``;
``Segments``/``Features`` are keyed without their ``ml.segment.``/``ml.feature.`` prefix."""

ML_LABELS_COLUMNS = (
    "Timestamp",
    "ServiceName",
    "ModelName",
    "PredictionId",
    "ActualLabel",
    "ActualValue",
    "Attributes",
)
"""``ActualValue`` is ``None`` for a classification label (``ActualLabel`` set)."""

TABLE_COLUMNS: dict[str, tuple[str, ...]] = {
    OTEL_TRACES: OTEL_TRACES_COLUMNS,
    OTEL_LOGS: OTEL_LOGS_COLUMNS,
    OTEL_METRICS_GAUGE: OTEL_METRICS_GAUGE_COLUMNS,
    OTEL_METRICS_SUM: OTEL_METRICS_SUM_COLUMNS,
    OTEL_METRICS_HISTOGRAM: OTEL_METRICS_HISTOGRAM_COLUMNS,
    OTEL_METRICS_EXPONENTIAL_HISTOGRAM: OTEL_METRICS_EXPONENTIAL_HISTOGRAM_COLUMNS,
    OTEL_METRICS_SUMMARY: OTEL_METRICS_SUMMARY_COLUMNS,
    ML_PREDICTIONS: ML_PREDICTIONS_COLUMNS,
    ML_LABELS: ML_LABELS_COLUMNS,
}
"""Every table the converter fills, with its columns in insert order."""


@dataclass(frozen=True, slots=True)
class TableColumns:
    """The rows of one table for one flush, column by column (all lists of equal length).

    >>> rows = TableColumns.from_rows(ML_LABELS, [(1, "svc", "fraud", "p1", "1", None, {})])
    >>> rows.columns["ModelName"], rows.row_count
    (['fraud'], 1)
    >>> rows.extend(rows); rows.row_count
    2
    """

    table: str
    columns: dict[str, list[Any]]

    @classmethod
    def empty(cls, table: str) -> TableColumns:
        """No rows yet, with every column of ``table`` present."""
        return cls(table, {name: [] for name in TABLE_COLUMNS[table]})

    @classmethod
    def from_rows(cls, table: str, rows: list[tuple[Any, ...]]) -> TableColumns:
        """Transpose row tuples (in the order of ``TABLE_COLUMNS[table]``) into columns."""
        names = TABLE_COLUMNS[table]
        if not rows:
            return cls.empty(table)
        return cls(table, dict(zip(names, map(list, zip(*rows, strict=True)), strict=True)))

    @property
    def column_names(self) -> tuple[str, ...]:
        """The column names in insert order."""
        return TABLE_COLUMNS[self.table]

    @property
    def row_count(self) -> int:
        """How many rows the columns hold."""
        return len(self.columns[self.column_names[0]])

    def column_data(self) -> list[list[Any]]:
        """The columns in insert order, e.g. for ``client.insert(..., column_oriented=True)``."""
        return [self.columns[name] for name in self.column_names]

    def extend(self, other: TableColumns) -> None:
        """Append the rows of ``other`` (same table) to these columns."""
        if other.table != self.table:
            raise ValueError(f"cannot extend {self.table} with rows of {other.table}")
        for name, values in other.columns.items():
            self.columns[name].extend(values)


class TableRows:
    """The rows of one table, gathered in order as row tuples or as runs of whole columns.

    A batch span's predictions come as columns (most of them one repeated value): adding them
    as columns spares building a tuple per row and transposing it back (bench/convert.py).

    >>> rows = TableRows(ML_LABELS)
    >>> rows.append((1, "svc", "fraud", "p1", "1", None, {}))
    >>> rows.add_columns([[2, 3], ["svc"] * 2, ["fraud"] * 2, ["p2", "p3"], ["0", "1"],
    ...                   [None, None], [{}, {}]])
    >>> rows.table().columns["PredictionId"]
    ['p1', 'p2', 'p3']
    """

    __slots__ = ("name", "_chunks", "_rows")

    def __init__(self, name: str) -> None:
        self.name = name
        self._chunks: list[tuple[bool, Any]] = []  # (is row tuples, the rows or columns)
        self._rows: list[tuple[Any, ...]] | None = None

    def append(self, row: tuple[Any, ...]) -> None:
        """Add one row (in the order of ``TABLE_COLUMNS[name]``)."""
        if self._rows is None:
            self._rows = []
            self._chunks.append((True, self._rows))
        self._rows.append(row)

    def add_columns(self, columns: Sequence[Sequence[Any]]) -> None:
        """Add rows given column by column (equal lengths, ``TABLE_COLUMNS`` order)."""
        self._chunks.append((False, columns))
        self._rows = None

    def table(self) -> TableColumns:
        """Every row added, as columns."""
        if len(self._chunks) == 1 and self._chunks[0][0]:
            return TableColumns.from_rows(self.name, self._chunks[0][1])
        table = TableColumns.empty(self.name)
        lists = list(table.columns.values())
        for is_rows, chunk in self._chunks:
            if is_rows:
                chunk = zip(*chunk, strict=True)
            for column, values in zip(lists, chunk, strict=True):
                column.extend(values)
        return table

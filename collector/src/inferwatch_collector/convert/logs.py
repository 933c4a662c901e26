"""``ExportLogsServiceRequest`` → ``otel_logs`` and ``ml_labels`` columns.

Every log record becomes an ``otel_logs`` row, as the OpenTelemetry Collector's ClickHouse
exporter writes it; an ``ml.label`` event (``event_name``, or the older ``event.name``
attribute) also becomes ``ml_labels`` rows.

>>> from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
>>> tables = convert_logs([ExportLogsServiceRequest()])
>>> sorted(tables), tables["otel_logs"].row_count
(['ml_labels', 'otel_logs'], 0)
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest

from ..rows import ML_LABELS, OTEL_LOGS, TableColumns
from .attributes import any_value_string, attribute_map, hex_id, split_attributes
from .gc_pause import paused_gc
from .labels import is_label_event, label_rows
from .traces import SERVICE_NAME


def convert_logs(requests: Iterable[ExportLogsServiceRequest]) -> dict[str, TableColumns]:
    """Columns of ``otel_logs`` and ``ml_labels`` for these requests.

    Args:
        requests: parsed (and validated) requests, e.g. everything of one flush.

    Returns:
        One :class:`TableColumns` per table name, possibly with no rows.
    """
    with paused_gc():
        return _logs_tables(requests)


def _logs_tables(requests: Iterable[ExportLogsServiceRequest]) -> dict[str, TableColumns]:
    records: list[tuple[Any, ...]] = []
    labels: list[tuple[Any, ...]] = []
    for request in requests:
        for resource_logs in request.resource_logs:
            resource = attribute_map(resource_logs.resource.attributes)
            service = resource.get(SERVICE_NAME, "")
            head = (service, resource_logs.schema_url, resource)
            for scope_logs in resource_logs.scope_logs:
                _records_rows(scope_logs, head, records, labels)
    return {
        OTEL_LOGS: TableColumns.from_rows(OTEL_LOGS, records),
        ML_LABELS: TableColumns.from_rows(ML_LABELS, labels),
    }


def _records_rows(
    scope_logs: Any,
    head: tuple[str, str, dict[str, str]],
    records: list[tuple[Any, ...]],
    labels: list[tuple[Any, ...]],
) -> None:
    service, resource_url, resource = head
    scope = scope_logs.scope
    scope_part = (
        scope_logs.schema_url,
        scope.name,
        scope.version,
        attribute_map(scope.attributes),
    )
    for record in scope_logs.log_records:
        strings, values = split_attributes(record.attributes)
        timestamp = record.time_unix_nano or record.observed_time_unix_nano
        event_name = record.event_name
        records.append(
            (
                timestamp,
                hex_id(record.trace_id),
                hex_id(record.span_id),
                record.flags & 0xFF,
                record.severity_text,
                record.severity_number,
                service,
                any_value_string(record.body),
                resource_url,
                resource,
                *scope_part,
                strings,
                event_name,
            )
        )
        if is_label_event(event_name, strings):
            label_rows(strings, values, timestamp, service, labels)

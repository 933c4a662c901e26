"""Decoded OTLP requests → columns of the ClickHouse tables (see ``rows.py``).

>>> from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
...     ExportTraceServiceRequest)
>>> tables = convert_traces([ExportTraceServiceRequest()])
>>> tables["ml_predictions"].row_count
0

Several signals of one flush fill the same table (``ml_labels`` from logs and from spans):
:func:`merge_tables` gathers them into one :class:`TableColumns` per table.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..rows import TableColumns
from .logs import convert_logs
from .metrics import convert_metrics
from .traces import convert_traces

__all__ = ["convert_logs", "convert_metrics", "convert_traces", "merge_tables"]


def merge_tables(*results: dict[str, TableColumns]) -> dict[str, TableColumns]:
    """One :class:`TableColumns` per table from several ``convert_*`` results; tables without
    rows are left out.

    >>> from inferwatch_collector.rows import ML_LABELS
    >>> merge_tables({ML_LABELS: TableColumns.empty(ML_LABELS)})
    {}
    """
    merged: dict[str, TableColumns] = {}
    for tables in results:
        _merge_into(merged, tables.values())
    return merged


def _merge_into(merged: dict[str, TableColumns], tables: Iterable[TableColumns]) -> None:
    for table in tables:
        if not table.row_count:
            continue
        if table.table in merged:
            merged[table.table].extend(table)
        else:
            merged[table.table] = TableColumns(
                table.table, {k: list(v) for k, v in table.columns.items()}
            )

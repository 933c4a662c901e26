"""What the SDK emitted during a test, read from in-memory OpenTelemetry exporters."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from inferwatch import semconv
from inferwatch._buffer import flush_buffer

SPANS = InMemorySpanExporter()
LOGS = InMemoryLogRecordExporter()
METRICS = InMemoryMetricReader()


@dataclass
class Telemetry:
    """What the SDK emitted during one test, for one model."""

    model: str

    def spans(self) -> list[ReadableSpan]:
        flush_buffer()
        return [
            span
            for span in SPANS.get_finished_spans()
            if (span.attributes or {}).get(semconv.ML_MODEL_NAME) == self.model
        ]

    def span(self) -> ReadableSpan:
        spans = self.spans()
        assert len(spans) == 1, f"expected one span, got {len(spans)}"
        return spans[0]

    def logs(self) -> list[Any]:
        return [
            record.log_record
            for record in LOGS.get_finished_logs()
            if (record.log_record.attributes or {}).get(semconv.ML_MODEL_NAME) == self.model
        ]

    def metric_points(self, name: str) -> list[Any]:
        """Data points of metric ``name`` recorded for this model (cumulative)."""
        flush_buffer()
        data = METRICS.get_metrics_data()
        points = []
        for resource_metrics in data.resource_metrics if data else []:
            for scope_metrics in resource_metrics.scope_metrics:
                for metric in scope_metrics.metrics:
                    if metric.name != name:
                        continue
                    points.extend(
                        point
                        for point in metric.data.data_points
                        if point.attributes.get(semconv.METRIC_ATTR_MODEL) == self.model
                    )
        return points

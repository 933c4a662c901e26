"""OTLP span exporters that encode batch prediction spans in bulk (``_otlp_encoding``).

They are the standard OpenTelemetry OTLP exporters, subclassed at one seam each — gRPC's
``_translate_data``, and HTTP's sending of the serialized request — and they take the
standard path whenever a batch has no long arrays or the installed exporter version lacks
that seam. Used only for the providers ``configure()`` installs itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExportResult

from ._otlp_encoding import LONG_ARRAY, encode_spans_fast, serialize_spans_fast


def _has_long_arrays(spans: Sequence[ReadableSpan]) -> bool:
    for span in spans:
        for value in (span.attributes or {}).values():
            if isinstance(value, (tuple, list)) and len(value) >= LONG_ARRAY:
                return True
    return False


def grpc_span_exporter(**arguments: Any) -> Any:
    """An OTLP/gRPC span exporter with bulk array encoding."""
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

    class BulkArrayGrpcSpanExporter(OTLPSpanExporter):  # type: ignore[misc]
        def _translate_data(self, data: Sequence[ReadableSpan]) -> Any:
            return encode_spans_fast(data)

    if not hasattr(OTLPSpanExporter, "_translate_data"):
        return OTLPSpanExporter(**arguments)
    return BulkArrayGrpcSpanExporter(**arguments)


def http_span_exporter(**arguments: Any) -> Any:
    """An OTLP/HTTP (protobuf) span exporter with bulk array encoding."""
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    class BulkArrayHttpSpanExporter(OTLPSpanExporter):  # type: ignore[misc]
        def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
            client = getattr(self, "_client", None)
            if self._shutdown or client is None or not _has_long_arrays(spans):
                return super().export(spans)
            data = serialize_spans_fast(spans)
            if client.export(data).success:
                return SpanExportResult.SUCCESS
            return SpanExportResult.FAILURE

    return BulkArrayHttpSpanExporter(**arguments)

"""The OTLP messages of each signal, and the answers a receiver builds from them.

>>> export_response(Signal.TRACES, IngestResult(rejected=2, message="span 3: no name"))
partial_success {
  rejected_spans: 2
  error_message: "span 3: no name"
}
<BLANKLINE>
"""

from __future__ import annotations

import math

from google.protobuf.duration_pb2 import Duration
from google.protobuf.message import Message
from google.rpc import error_details_pb2, status_pb2
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

from inferwatch_collector.receive.ingest import IngestResult, Signal

REQUEST_TYPES: dict[Signal, type[Message]] = {
    Signal.TRACES: trace_service_pb2.ExportTraceServiceRequest,
    Signal.METRICS: metrics_service_pb2.ExportMetricsServiceRequest,
    Signal.LOGS: logs_service_pb2.ExportLogsServiceRequest,
}

RESPONSE_TYPES: dict[Signal, type[Message]] = {
    Signal.TRACES: trace_service_pb2.ExportTraceServiceResponse,
    Signal.METRICS: metrics_service_pb2.ExportMetricsServiceResponse,
    Signal.LOGS: logs_service_pb2.ExportLogsServiceResponse,
}

# The field of Export*PartialSuccess that counts the rejected items of each signal.
REJECTED_FIELDS: dict[Signal, str] = {
    Signal.TRACES: "rejected_spans",
    Signal.METRICS: "rejected_data_points",
    Signal.LOGS: "rejected_log_records",
}


def export_response(signal: Signal, result: IngestResult) -> Message:
    """The Export*ServiceResponse for `result`; `partial_success` stays unset on full success."""
    response = RESPONSE_TYPES[signal]()
    if result.rejected or result.message:
        partial = response.partial_success
        setattr(partial, REJECTED_FIELDS[signal], result.rejected)
        partial.error_message = result.message
    return response


def error_status(message: str, *, code: int = 0, field: str = "") -> status_pb2.Status:
    """A `google.rpc.Status` for an error answer; `field` adds a `BadRequest` detail naming it.

    The OTLP specification does not use `Status.code`; gRPC codes are given where they help.
    """
    status = status_pb2.Status(code=code, message=message)
    if field:
        violation = error_details_pb2.BadRequest.FieldViolation(field=field, description=message)
        status.details.add().Pack(error_details_pb2.BadRequest(field_violations=[violation]))
    return status


def throttle_status(message: str, code: int, retry_after: float) -> status_pb2.Status:
    """A `google.rpc.Status` carrying `RetryInfo`, as OTLP/gRPC throttling asks."""
    nanos, seconds = math.modf(max(retry_after, 0.0))
    delay = Duration(seconds=int(seconds), nanos=int(nanos * 1e9))
    status = status_pb2.Status(code=code, message=message)
    status.details.add().Pack(error_details_pb2.RetryInfo(retry_delay=delay))
    return status

"""The OTLP/gRPC receiver on a free port, spoken to by the real OpenTelemetry exporter and
by raw grpcio stubs."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import grpc
import pytest
from google.protobuf.message import Message
from google.rpc import error_details_pb2, status_pb2
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2_grpc
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2_grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc
from opentelemetry.proto.common.v1 import common_pb2
from opentelemetry.proto.trace.v1 import trace_pb2
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from inferwatch_collector.receive import (
    Backpressure,
    GrpcReceiver,
    IngestResult,
    Signal,
    decode_json_request,
)

EXAMPLES = Path("/work/shared/otlp-examples")


class RecordingIngestor:
    """Keeps every request and answers `result`: an in-memory stand-in for the pipeline."""

    def __init__(self, result: IngestResult | None = None) -> None:
        self.result = result or IngestResult()
        self.requests: list[tuple[Signal, Message]] = []
        self._lock = threading.Lock()

    def ingest(self, signal: Signal, request: Message, raw: bytes | None = None) -> IngestResult:
        with self._lock:
            self.requests.append((signal, request))
        return self.result


class ThrottlingIngestor:
    def __init__(self, unavailable: bool = False) -> None:
        self.unavailable = unavailable

    def ingest(self, signal: Signal, request: Message, raw: bytes | None = None) -> IngestResult:
        raise Backpressure("store unreachable", retry_after=2.5, unavailable=self.unavailable)


class BrokenIngestor:
    def ingest(self, signal: Signal, request: Message, raw: bytes | None = None) -> IngestResult:
        raise RuntimeError("disk on fire")


@pytest.fixture
def ingestor() -> RecordingIngestor:
    return RecordingIngestor()


@pytest.fixture
def receiver(ingestor: RecordingIngestor) -> Iterator[GrpcReceiver]:
    with serving(ingestor) as receiver:
        yield receiver


@contextmanager
def serving(ingestor: object, max_message_bytes: int = 1024 * 1024) -> Iterator[GrpcReceiver]:
    receiver = GrpcReceiver(ingestor, port=0, max_message_bytes=max_message_bytes)  # type: ignore[arg-type]
    receiver.start()
    try:
        yield receiver
    finally:
        receiver.stop(grace=1.0)


@pytest.fixture
def channel(receiver: GrpcReceiver) -> Iterator[grpc.Channel]:
    with grpc.insecure_channel(f"127.0.0.1:{receiver.port}") as channel:
        yield channel


def finished_spans(count: int) -> tuple[ReadableSpan, ...]:
    memory = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("inferwatch-tests")
    for index in range(count):
        with tracer.start_as_current_span(f"predict fraud {index}") as span:
            span.set_attribute("ml.prediction.count", 1)
    return memory.get_finished_spans()


def trace_request(
    names: list[str], padding: int = 0
) -> trace_service_pb2.ExportTraceServiceRequest:
    value = common_pb2.AnyValue(string_value="x" * padding)
    spans = [
        trace_pb2.Span(name=name, attributes=[common_pb2.KeyValue(key="pad", value=value)])
        for name in names
    ]
    return trace_service_pb2.ExportTraceServiceRequest(
        resource_spans=[{"scope_spans": [{"spans": spans}]}]
    )


def export_traces(
    channel: grpc.Channel, request: Message, **options: object
) -> trace_service_pb2.ExportTraceServiceResponse:
    stub = trace_service_pb2_grpc.TraceServiceStub(channel)
    return stub.Export(request, timeout=10, **options)


def retry_info(error: grpc.RpcError) -> error_details_pb2.RetryInfo:
    metadata = dict(error.trailing_metadata())  # type: ignore[attr-defined]
    status = status_pb2.Status.FromString(metadata["grpc-status-details-bin"])
    info = error_details_pb2.RetryInfo()
    assert status.details[0].Unpack(info)
    assert status.code == error.code().value[0]  # type: ignore[attr-defined]
    return info


@pytest.mark.parametrize("compression", [None, grpc.Compression.Gzip])
def test_the_opentelemetry_exporter_delivers_spans(
    receiver: GrpcReceiver, ingestor: RecordingIngestor, compression: grpc.Compression | None
) -> None:
    exporter = OTLPSpanExporter(
        endpoint=f"127.0.0.1:{receiver.port}", insecure=True, compression=compression
    )
    spans = finished_spans(4)
    try:
        assert exporter.export(spans) == SpanExportResult.SUCCESS
    finally:
        exporter.shutdown()
    (signal, request), *others = ingestor.requests
    received = request.resource_spans[0].scope_spans[0].spans  # type: ignore[attr-defined]
    assert (signal, others) == (Signal.TRACES, [])
    assert [span.name for span in received] == [span.name for span in spans]
    assert received[0].span_id == spans[0].context.span_id.to_bytes(8, "big")


def test_full_success_leaves_partial_success_unset(channel: grpc.Channel) -> None:
    response = export_traces(channel, trace_request(["a"]))
    assert not response.HasField("partial_success")


def test_rejected_items_come_back_as_partial_success() -> None:
    result = IngestResult(rejected=3, message="span 3: ml.prediction.id has 4 items")
    with serving(RecordingIngestor(result)) as receiver:
        with grpc.insecure_channel(f"127.0.0.1:{receiver.port}") as channel:
            response = export_traces(channel, trace_request(["a", "b", "c", "d"]))
    assert response.partial_success.rejected_spans == 3
    assert response.partial_success.error_message == "span 3: ml.prediction.id has 4 items"


@pytest.mark.parametrize(
    ("stub_type", "example", "signal"),
    [
        (metrics_service_pb2_grpc.MetricsServiceStub, "metrics.json", Signal.METRICS),
        (logs_service_pb2_grpc.LogsServiceStub, "logs.json", Signal.LOGS),
    ],
)
def test_metrics_and_logs_services_are_served(
    channel: grpc.Channel,
    ingestor: RecordingIngestor,
    stub_type: type,
    example: str,
    signal: Signal,
) -> None:
    request = decode_json_request(signal, (EXAMPLES / example).read_bytes())
    response = stub_type(channel).Export(request, timeout=10)
    assert not response.HasField("partial_success")
    assert ingestor.requests == [(signal, request)]


def test_gzip_compressed_calls_are_accepted(
    channel: grpc.Channel, ingestor: RecordingIngestor
) -> None:
    export_traces(
        channel, trace_request(["zipped"], padding=10_000), compression=grpc.Compression.Gzip
    )
    assert ingestor.requests[0][1] == trace_request(["zipped"], padding=10_000)


@pytest.mark.parametrize(
    ("unavailable", "code"),
    [(False, grpc.StatusCode.RESOURCE_EXHAUSTED), (True, grpc.StatusCode.UNAVAILABLE)],
)
def test_backpressure_fails_with_retry_info(unavailable: bool, code: grpc.StatusCode) -> None:
    with serving(ThrottlingIngestor(unavailable)) as receiver:
        with grpc.insecure_channel(f"127.0.0.1:{receiver.port}") as channel:
            with pytest.raises(grpc.RpcError) as caught:
                export_traces(channel, trace_request(["a"]))
    assert caught.value.code() == code  # type: ignore[attr-defined]
    assert caught.value.details() == "store unreachable"  # type: ignore[attr-defined]
    delay = retry_info(caught.value).retry_delay
    assert (delay.seconds, delay.nanos) == (2, 500_000_000)


def test_a_pipeline_failure_is_internal(caplog: pytest.LogCaptureFixture) -> None:
    with serving(BrokenIngestor()) as receiver:
        with grpc.insecure_channel(f"127.0.0.1:{receiver.port}") as channel:
            with pytest.raises(grpc.RpcError) as caught:
                export_traces(channel, trace_request(["a"]))
            with pytest.raises(grpc.RpcError):
                export_traces(channel, trace_request(["b"]))  # still answering
    assert caught.value.code() == grpc.StatusCode.INTERNAL  # type: ignore[attr-defined]
    assert caught.value.details() == "internal error: disk on fire"  # type: ignore[attr-defined]
    assert len([r for r in caplog.records if r.levelname == "ERROR"]) == 2


def test_a_message_past_the_limit_is_refused(
    channel: grpc.Channel, ingestor: RecordingIngestor
) -> None:
    with pytest.raises(grpc.RpcError) as caught:
        export_traces(channel, trace_request(["big"], padding=2 * 1024 * 1024))
    assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED  # type: ignore[attr-defined]
    assert ingestor.requests == []


def test_a_gzip_message_inflating_past_the_limit_is_refused(
    channel: grpc.Channel, ingestor: RecordingIngestor
) -> None:
    request = trace_request(["bomb"], padding=8 * 1024 * 1024)  # gzips to a few KiB
    with pytest.raises(grpc.RpcError) as caught:
        export_traces(channel, request, compression=grpc.Compression.Gzip)
    assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED  # type: ignore[attr-defined]
    assert ingestor.requests == []


def test_a_taken_port_fails_to_start(receiver: GrpcReceiver, ingestor: RecordingIngestor) -> None:
    with pytest.raises(OSError, match="cannot bind"):
        GrpcReceiver(ingestor, port=receiver.port).start()


def test_the_port_is_known_only_once_started(ingestor: RecordingIngestor) -> None:
    receiver = GrpcReceiver(ingestor, port=0)
    with pytest.raises(RuntimeError):
        _ = receiver.port
    receiver.start()
    try:
        assert receiver.port > 0
    finally:
        receiver.stop(grace=None)
    with pytest.raises(RuntimeError):
        _ = receiver.port

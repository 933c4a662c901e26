"""The OTLP/HTTP receiver on a free port, spoken to by the real OpenTelemetry exporter and
by raw `http.client` requests for every error path."""

from __future__ import annotations

import gzip
import http.client
import json
import socket
import threading
import time
import tracemalloc
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from google.protobuf.message import Message
from google.rpc import status_pb2
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
from opentelemetry.proto.trace.v1 import trace_pb2
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from inferwatch_collector.receive import (
    Backpressure,
    HttpReceiver,
    HttpRequest,
    IngestResult,
    Signal,
)
from inferwatch_collector.receive.body import BodyTooLarge, inflate

EXAMPLES = Path("/work/shared/otlp-examples")
PROTOBUF = {"Content-Type": "application/x-protobuf"}
JSON = {"Content-Type": "application/json"}


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

    def spans(self) -> list[trace_pb2.Span]:
        return [
            span
            for signal, request in self.requests
            if signal is Signal.TRACES
            for resource_spans in request.resource_spans  # type: ignore[attr-defined]
            for scope_spans in resource_spans.scope_spans
            for span in scope_spans.spans
        ]


class ThrottlingIngestor:
    def __init__(self, unavailable: bool = False) -> None:
        self.unavailable = unavailable

    def ingest(self, signal: Signal, request: Message, raw: bytes | None = None) -> IngestResult:
        raise Backpressure("write-ahead log is full", retry_after=2.5, unavailable=self.unavailable)


class BrokenIngestor:
    def ingest(self, signal: Signal, request: Message, raw: bytes | None = None) -> IngestResult:
        raise RuntimeError("disk on fire")


@pytest.fixture
def ingestor() -> RecordingIngestor:
    return RecordingIngestor()


@pytest.fixture
def receiver(ingestor: RecordingIngestor) -> Iterator[HttpReceiver]:
    receiver = HttpReceiver(ingestor, port=0, max_body_bytes=1024 * 1024)
    receiver.start()
    yield receiver
    receiver.stop()


def served(ingestor: object, **options: int) -> HttpReceiver:
    receiver = HttpReceiver(ingestor, port=0, **options)  # type: ignore[arg-type]
    receiver.start()
    return receiver


def post(
    port: int, path: str, body: bytes, headers: dict[str, str]
) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def finished_spans(count: int) -> tuple[ReadableSpan, ...]:
    memory = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("inferwatch-tests")
    for index in range(count):
        with tracer.start_as_current_span(f"predict fraud {index}") as span:
            span.set_attribute("ml.model.name", "fraud")
    return memory.get_finished_spans()


def trace_request(names: list[str]) -> bytes:
    ids = {"trace_id": b"\x01" * 16, "span_id": b"\x02" * 8}
    spans = [trace_pb2.Span(name=name, **ids) for name in names]
    request = trace_service_pb2.ExportTraceServiceRequest(
        resource_spans=[{"scope_spans": [{"spans": spans}]}]
    )
    return request.SerializeToString()


def status_of(body: bytes) -> status_pb2.Status:
    return status_pb2.Status.FromString(body)


# --- real exporter -----------------------------------------------------------------------


@pytest.mark.parametrize("compression", [Compression.NoCompression, Compression.Gzip])
def test_the_opentelemetry_exporter_delivers_spans(
    receiver: HttpReceiver, ingestor: RecordingIngestor, compression: Compression
) -> None:
    exporter = OTLPSpanExporter(
        endpoint=f"http://127.0.0.1:{receiver.port}/v1/traces", compression=compression
    )
    spans = finished_spans(3)
    try:
        assert exporter.export(spans) == SpanExportResult.SUCCESS
        assert exporter.export(spans[:1]) == SpanExportResult.SUCCESS  # same connection again
    finally:
        exporter.shutdown()
    received = ingestor.spans()
    assert [span.name for span in received] == [s.name for s in spans] + [spans[0].name]
    assert received[0].trace_id == spans[0].context.trace_id.to_bytes(16, "big")
    assert received[0].attributes[0].value.string_value == "fraud"


# --- success answers -----------------------------------------------------------------------


def test_full_success_is_an_empty_response_in_protobuf(receiver: HttpReceiver) -> None:
    status, headers, body = post(receiver.port, "/v1/traces", trace_request(["a"]), PROTOBUF)
    assert (status, headers["Content-Type"]) == (200, "application/x-protobuf")
    response = trace_service_pb2.ExportTraceServiceResponse.FromString(body)
    assert not response.HasField("partial_success")


@pytest.mark.parametrize(
    ("path", "example", "signal"),
    [
        ("/v1/traces", "trace.json", Signal.TRACES),
        ("/v1/metrics", "metrics.json", Signal.METRICS),
        ("/v1/logs", "logs.json", Signal.LOGS),
        ("/v1/logs", "events.json", Signal.LOGS),
    ],
)
def test_every_published_json_example_is_accepted(
    receiver: HttpReceiver, ingestor: RecordingIngestor, path: str, example: str, signal: Signal
) -> None:
    headers = {"Content-Type": "application/json; charset=utf-8"}
    body = (EXAMPLES / example).read_bytes()
    status, answer_headers, body = post(receiver.port, path, body, headers)
    assert (status, answer_headers["Content-Type"]) == (200, "application/json")
    assert json.loads(body) == {}
    assert ingestor.requests[0][0] is signal
    assert ingestor.requests[0][1].ByteSize() > 0


def test_json_trace_ids_arrive_as_the_bytes_of_their_hex(
    receiver: HttpReceiver, ingestor: RecordingIngestor
) -> None:
    post(receiver.port, "/v1/traces", (EXAMPLES / "trace.json").read_bytes(), JSON)
    assert ingestor.spans()[0].trace_id == bytes.fromhex("5B8EFFF798038103D269B633813FC60C")


@pytest.mark.parametrize(
    ("path", "response_type", "field"),
    [
        ("/v1/traces", trace_service_pb2.ExportTraceServiceResponse, "rejected_spans"),
        ("/v1/metrics", metrics_service_pb2.ExportMetricsServiceResponse, "rejected_data_points"),
        ("/v1/logs", logs_service_pb2.ExportLogsServiceResponse, "rejected_log_records"),
    ],
)
def test_partial_success_in_protobuf(path: str, response_type: type[Message], field: str) -> None:
    message = "span 3: ml.prediction.id has 4 items, ml.prediction.label has 3"
    receiver = served(RecordingIngestor(IngestResult(rejected=1, message=message)))
    try:
        status, _, body = post(receiver.port, path, b"", PROTOBUF)
    finally:
        receiver.stop()
    partial = response_type.FromString(body).partial_success  # type: ignore[attr-defined]
    assert status == 200
    assert (getattr(partial, field), partial.error_message) == (1, message)


def test_partial_success_in_json() -> None:
    receiver = served(RecordingIngestor(IngestResult(rejected=2, message="span 0: no model")))
    try:
        status, headers, body = post(receiver.port, "/v1/traces", b"{}", JSON)
    finally:
        receiver.stop()
    assert (status, headers["Content-Type"]) == (200, "application/json")
    assert json.loads(body) == {
        "partialSuccess": {"rejectedSpans": "2", "errorMessage": "span 0: no model"}
    }


def test_a_gzip_request_gets_a_gzip_answer(receiver: HttpReceiver) -> None:
    headers = {**JSON, "Content-Encoding": "gzip", "Accept-Encoding": "gzip, deflate"}
    body = gzip.compress((EXAMPLES / "trace.json").read_bytes())
    status, answer_headers, answer = post(receiver.port, "/v1/traces", body, headers)
    assert (status, answer_headers["Content-Encoding"]) == (200, "gzip")
    assert json.loads(gzip.decompress(answer)) == {}


def test_a_gzip_request_that_accepts_only_identity_gets_identity(receiver: HttpReceiver) -> None:
    headers = {**JSON, "Content-Encoding": "gzip", "Accept-Encoding": "identity"}
    body = gzip.compress((EXAMPLES / "trace.json").read_bytes())
    status, answer_headers, answer = post(receiver.port, "/v1/traces", body, headers)
    assert (status, "Content-Encoding" in answer_headers, json.loads(answer)) == (200, False, {})


def test_a_chunked_body_is_read(receiver: HttpReceiver, ingestor: RecordingIngestor) -> None:
    body = trace_request(["chunked"])
    connection = http.client.HTTPConnection("127.0.0.1", receiver.port, timeout=10)
    connection.request("POST", "/v1/traces", body=iter([body[:5], body[5:]]), headers=PROTOBUF)
    assert connection.getresponse().status == 200
    connection.close()
    assert [span.name for span in ingestor.spans()] == ["chunked"]


def test_a_connection_is_kept_alive_across_requests(
    receiver: HttpReceiver, ingestor: RecordingIngestor
) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", receiver.port, timeout=10)
    ports = set()
    for name in ["one", "two", "three"]:
        connection.request("POST", "/v1/traces", body=trace_request([name]), headers=PROTOBUF)
        response = connection.getresponse()
        response.read()
        assert response.status == 200 and response.getheader("Connection") != "close"
        ports.add(connection.sock.getsockname()[1])
    connection.close()
    assert len(ports) == 1
    assert [span.name for span in ingestor.spans()] == ["one", "two", "three"]


# --- error answers --------------------------------------------------------------------------


def test_undecodable_protobuf_is_400_with_a_status(receiver: HttpReceiver) -> None:
    status, headers, body = post(receiver.port, "/v1/traces", b"\x0a\x05abc", PROTOBUF)
    assert (status, headers["Content-Type"]) == (400, "application/x-protobuf")
    assert "not a valid protobuf ExportTraceServiceRequest" in status_of(body).message


def test_bad_json_is_400_naming_the_field(receiver: HttpReceiver) -> None:
    document = {"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "nothex"}]}]}]}
    status, headers, body = post(receiver.port, "/v1/traces", json.dumps(document).encode(), JSON)
    answer = json.loads(body)
    assert (status, headers["Content-Type"]) == (400, "application/json")
    path = "resourceSpans[0].scopeSpans[0].spans[0].traceId"
    assert answer["message"] == f'{path}: expected 32 hex digits, got "nothex"'
    assert answer["details"][0]["@type"] == "type.googleapis.com/google.rpc.BadRequest"
    assert answer["details"][0]["fieldViolations"][0]["field"] == path


def test_malformed_json_text_is_400(receiver: HttpReceiver) -> None:
    status, _, body = post(receiver.port, "/v1/logs", b'{"resourceLogs": [', JSON)
    assert status == 400 and "invalid JSON" in json.loads(body)["message"]


def test_bad_data_keeps_the_connection_usable(receiver: HttpReceiver) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", receiver.port, timeout=10)
    connection.request("POST", "/v1/traces", body=b"\xff\xff", headers=PROTOBUF)
    first = connection.getresponse()
    first.read()
    connection.request("POST", "/v1/traces", body=trace_request(["ok"]), headers=PROTOBUF)
    assert (first.status, connection.getresponse().status) == (400, 200)
    connection.close()


@pytest.mark.parametrize("content_type", ["text/plain", "application/protobuf", ""])
def test_an_unsupported_content_type_is_415(receiver: HttpReceiver, content_type: str) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    status, answer_headers, body = post(receiver.port, "/v1/traces", b"{}", headers)
    assert status == 415
    assert answer_headers["Content-Type"].startswith("text/plain")
    assert b"use application/x-protobuf or application/json" in body


def test_an_unsupported_content_encoding_is_415(receiver: HttpReceiver) -> None:
    headers = {**PROTOBUF, "Content-Encoding": "br"}
    status, _, body = post(receiver.port, "/v1/traces", b"\x00", headers)
    assert status == 415
    assert "unsupported content encoding 'br'" in status_of(body).message


def expect_100(port: int, length: int) -> tuple[socket.socket, bytes]:
    client = socket.create_connection(("127.0.0.1", port), timeout=10)
    client.sendall(
        b"POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\n"
        b"Expect: 100-continue\r\nContent-Length: %d\r\n\r\n" % length
    )
    return client, client.recv(4096)


def test_expect_100_continue_is_answered_at_once(receiver: HttpReceiver) -> None:
    body = trace_request(["expected"])
    client, interim = expect_100(receiver.port, len(body))
    assert interim.startswith(b"HTTP/1.1 100 Continue\r\n")
    client.sendall(body)
    assert client.recv(4096).startswith(b"HTTP/1.1 200 OK\r\n")
    client.close()


def test_expect_100_continue_past_the_limit_is_413_without_continue(
    receiver: HttpReceiver,
) -> None:
    client, answer = expect_100(receiver.port, 50 * 1024 * 1024)
    assert answer.startswith(b"HTTP/1.1 413 ")
    assert b"body of 52428800 bytes is past the limit of 1048576 bytes" in answer
    client.close()


def test_a_declared_oversize_body_is_413_before_it_is_sent(receiver: HttpReceiver) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", receiver.port, timeout=10)
    connection.putrequest("POST", "/v1/traces")
    connection.putheader("Content-Type", "application/x-protobuf")
    connection.putheader("Content-Length", str(50 * 1024 * 1024))
    connection.endheaders()  # no body follows: the answer must not wait for it
    response = connection.getresponse()
    assert response.status == 413
    assert response.getheader("Connection") == "close"
    assert "past the limit of 1048576 bytes" in status_of(response.read()).message
    connection.close()


def test_an_oversize_chunked_body_is_413(receiver: HttpReceiver) -> None:
    chunks = iter([b"\x00" * 512 * 1024] * 3)
    connection = http.client.HTTPConnection("127.0.0.1", receiver.port, timeout=10)
    connection.request("POST", "/v1/traces", body=chunks, headers=PROTOBUF)
    assert connection.getresponse().status == 413
    connection.close()


def gzip_bomb(inflated_mib: int) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    zeros = bytes(1024 * 1024)
    parts = [compressor.compress(zeros) for _ in range(inflated_mib)]
    return b"".join([*parts, compressor.flush()])


def test_a_gzip_bomb_is_413_without_being_inflated(receiver: HttpReceiver) -> None:
    bomb = gzip_bomb(64)
    assert len(bomb) < 1024 * 1024  # small enough to pass the limit before inflating
    started = time.monotonic()
    headers = {**PROTOBUF, "Content-Encoding": "gzip", "Accept-Encoding": "gzip"}
    status, _, body = post(receiver.port, "/v1/traces", bomb, headers)
    assert status == 413
    assert "gzip body inflates past the limit" in status_of(gzip.decompress(body)).message
    assert time.monotonic() - started < 5


def test_inflating_stops_at_the_limit() -> None:
    bomb = gzip_bomb(64)
    tracemalloc.start()
    try:
        with pytest.raises(BodyTooLarge):
            inflate(bomb, "gzip", limit=1024 * 1024)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 * 1024 * 1024  # far from the 64 MiB a full inflate would take


def test_concatenated_gzip_members_are_one_body() -> None:
    body = gzip.compress(b"abc") + gzip.compress(b"def")
    assert inflate(body, "gzip", limit=6) == b"abcdef"


def test_an_unknown_path_is_404(receiver: HttpReceiver) -> None:
    status, _, body = post(receiver.port, "/v1/profiles", b"", PROTOBUF)
    assert status == 404
    assert status_of(body).message == "no route for /v1/profiles"


def test_a_wrong_method_is_405_with_allow(receiver: HttpReceiver) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", receiver.port, timeout=10)
    connection.request("GET", "/v1/traces")
    response = connection.getresponse()
    assert (response.status, response.getheader("Allow")) == (405, "POST")
    assert b"GET is not allowed on /v1/traces" in response.read()
    connection.close()


@pytest.mark.parametrize(("unavailable", "code"), [(False, 429), (True, 503)])
def test_backpressure_is_429_or_503_with_retry_after(unavailable: bool, code: int) -> None:
    receiver = served(ThrottlingIngestor(unavailable=unavailable))
    try:
        status, headers, body = post(receiver.port, "/v1/traces", trace_request(["x"]), PROTOBUF)
    finally:
        receiver.stop()
    assert (status, headers["Retry-After"]) == (code, "3")
    assert status_of(body).message == "write-ahead log is full"


def test_a_pipeline_failure_is_500_and_the_server_goes_on(caplog: pytest.LogCaptureFixture) -> None:
    receiver = served(BrokenIngestor())
    try:
        first = post(receiver.port, "/v1/traces", trace_request(["x"]), PROTOBUF)
        second = post(receiver.port, "/v1/traces", trace_request(["y"]), PROTOBUF)
    finally:
        receiver.stop()
    assert (first[0], second[0]) == (500, 500)
    assert status_of(first[2]).message == "internal error: disk on fire"
    failures = [r for r in caplog.records if r.levelname == "ERROR"]
    assert len(failures) == 2 and "disk on fire" in str(failures[0].exc_info[1])


# --- extra routes and lifecycle --------------------------------------------------------------


def test_added_routes_are_served(receiver: HttpReceiver) -> None:
    seen: list[HttpRequest] = []

    def healthz(request: HttpRequest) -> tuple[int, dict[str, str], bytes]:
        seen.append(request)
        return 200, {"Content-Type": "text/plain"}, b"alive"

    receiver.add_route("GET", "/healthz", healthz)
    connection = http.client.HTTPConnection("127.0.0.1", receiver.port, timeout=10)
    connection.request("GET", "/healthz?verbose=1")
    response = connection.getresponse()
    assert (response.status, response.read()) == (200, b"alive")
    assert (seen[0].method, seen[0].path, seen[0].query) == ("GET", "/healthz", "verbose=1")
    connection.close()


def test_stop_closes_idle_keep_alive_connections_promptly(ingestor: RecordingIngestor) -> None:
    receiver = served(ingestor)
    client = socket.create_connection(("127.0.0.1", receiver.port), timeout=10)
    request = b"POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\n"
    client.sendall(request + b"Content-Length: 0\r\n\r\n")
    assert client.recv(4096).startswith(b"HTTP/1.1 200")
    started = time.monotonic()
    receiver.stop(grace=5.0)
    assert time.monotonic() - started < 2
    assert client.recv(4096) == b""  # the server closed the idle connection
    client.close()


class BlockingIngestor(RecordingIngestor):
    """Holds each request until released, like a pipeline waiting for its fsync."""

    def __init__(self) -> None:
        super().__init__()
        self.entered = threading.Event()
        self.release = threading.Event()

    def ingest(self, signal: Signal, request: Message, raw: bytes | None = None) -> IngestResult:
        self.entered.set()
        assert self.release.wait(10)
        return super().ingest(signal, request)


def test_stop_lets_a_request_in_flight_finish() -> None:
    ingestor = BlockingIngestor()
    receiver = served(ingestor)
    answers: list[tuple[int, dict[str, str], bytes]] = []
    body = trace_request(["in flight"])
    client = threading.Thread(
        target=lambda: answers.append(post(receiver.port, "/v1/traces", body, PROTOBUF))
    )
    client.start()
    assert ingestor.entered.wait(10)
    stopper = threading.Thread(target=receiver.stop, kwargs={"grace": 10.0})
    stopper.start()
    time.sleep(0.2)
    assert stopper.is_alive()  # stop() waits for the request ...
    ingestor.release.set()
    stopper.join(10)
    client.join(10)
    status, headers, _ = answers[0]
    assert (status, headers["Connection"]) == (200, "close")  # ... which is answered in full
    assert [span.name for span in ingestor.spans()] == ["in flight"]


def test_a_silent_client_is_disconnected_after_the_idle_timeout(
    ingestor: RecordingIngestor,
) -> None:
    receiver = HttpReceiver(ingestor, port=0, idle_timeout=0.3)
    receiver.start()
    try:
        client = socket.create_connection(("127.0.0.1", receiver.port), timeout=10)
        client.sendall(b"POST /v1/traces HTTP/1.1\r\n")  # ... and nothing more
        assert client.recv(4096) == b""
        client.close()
    finally:
        receiver.stop()


def test_a_taken_port_fails_to_start(receiver: HttpReceiver, ingestor: RecordingIngestor) -> None:
    with pytest.raises(OSError):
        HttpReceiver(ingestor, port=receiver.port).start()

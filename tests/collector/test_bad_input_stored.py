"""Bad and good input against the real service: the answers, and what ends up stored.

One ``inferwatch serve`` takes, over OTLP/HTTP: requests mixing good and bad items (JSON and
protobuf), bodies that cannot be decoded, a JSON request with a bad hex id, the
opentelemetry-proto example payloads, and the complete examples of
``docs/semantic-conventions.md``. After a clean stop, the store must hold exactly the good
items: rejected spans and refused requests leave nothing behind.
"""

from __future__ import annotations

import http.client
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span
from service_process import read_queries, serving

EXAMPLES = Path("/work/shared/otlp-examples")
SEMANTIC_CONVENTIONS = Path(__file__).parents[2] / "docs" / "semantic-conventions.md"
JSON = "application/json"
PROTOBUF = "application/x-protobuf"
NOW_NS = 1_700_000_000_000_000_000  # 2023: kept (the service keeps 10 years)
TRACE_ID = "0af7651916cd43dd8448eb211c80319c"

QUERIES: dict[str, tuple[str, None]] = {
    "predictions": (
        "SELECT PredictionId, ServiceName, ModelName, ModelVersion, Task, PredictedLabel, Score,"
        " LatencyMs, StatusCode, toUnixTimestamp64Nano(Timestamp), Segments FROM ml_predictions"
        " ORDER BY PredictionId",
        None,
    ),
    "labels": (
        "SELECT PredictionId, ServiceName, ModelName, ActualLabel, ActualValue,"
        " toUnixTimestamp64Nano(Timestamp) FROM ml_labels FINAL ORDER BY PredictionId",
        None,
    ),
    "spans": ("SELECT ServiceName, TraceId, SpanId, SpanName FROM otel_traces", None),
    "logs": ("SELECT ServiceName, EventName, TraceId FROM otel_logs", None),
    "metrics": (
        "SELECT 'gauge', ServiceName, MetricName FROM otel_metrics_gauge UNION ALL"
        " SELECT 'sum', ServiceName, MetricName FROM otel_metrics_sum UNION ALL"
        " SELECT 'histogram', ServiceName, MetricName FROM otel_metrics_histogram UNION ALL"
        " SELECT 'exponentialHistogram', ServiceName, MetricName"
        " FROM otel_metrics_exponential_histogram UNION ALL"
        " SELECT 'summary', ServiceName, MetricName FROM otel_metrics_summary",
        None,
    ),
}

# A request mixing good and bad prediction spans: (span id, attributes, why it is bad or "").
MIXED_SPANS: list[tuple[str, dict[str, Any], str]] = [
    ("00000000000000a0", {"ml.prediction.id": "good-1", "ml.prediction.score": 0.7}, ""),
    (
        "00000000000000a1",
        {"ml.prediction.id": ["bad-1", "bad-2", "bad-3"], "ml.prediction.label": ["0", "1"]},
        "ml.prediction.id has 3 items, ml.prediction.label has 2",
    ),
    (
        "00000000000000a2",
        {"ml.prediction.id": ["good-2", "good-3"], "ml.prediction.score": [0.25, 0.5]},
        "",
    ),
    (
        "00000000000000a3",
        {"ml.prediction.id": "bad-4", "ml.prediction.score": "0.9"},
        "ml.prediction.score must be a number, got a string",
    ),
    ("00000000000000a4", {"http.route": "/predict"}, ""),  # not a prediction span: kept
]


# --- building requests ------------------------------------------------------------------


def json_value(value: Any) -> dict[str, Any]:
    """An OTLP/JSON ``AnyValue``."""
    if isinstance(value, list):
        return {"arrayValue": {"values": [json_value(item) for item in value]}}
    if isinstance(value, float):
        return {"doubleValue": value}
    return {"stringValue": value}


def proto_value(value: Any) -> AnyValue:
    """The same ``AnyValue`` as protobuf."""
    if isinstance(value, list):
        any_value = AnyValue()
        any_value.array_value.values.extend(proto_value(item) for item in value)
        return any_value
    if isinstance(value, float):
        return AnyValue(double_value=value)
    return AnyValue(string_value=value)


def model_attributes(attributes: dict[str, Any]) -> dict[str, Any]:
    model = {"ml.model.name": "fraud"} if "ml.prediction.id" in attributes else {}
    return {**model, **attributes}


def mixed_json(prefix: str) -> bytes:
    """``MIXED_SPANS`` as OTLP/JSON, ids prefixed (``json-good-1``, …)."""
    spans = [
        {
            "traceId": TRACE_ID,
            "spanId": span_id,
            "name": "predict fraud",
            "startTimeUnixNano": str(NOW_NS),
            "endTimeUnixNano": str(NOW_NS + 1_000_000),
            "attributes": [
                {"key": key, "value": json_value(_prefixed(prefix, key, value))}
                for key, value in model_attributes(attributes).items()
            ],
        }
        for span_id, attributes, _ in MIXED_SPANS
    ]
    request = {
        "resourceSpans": [{"resource": _json_resource("mixed"), "scopeSpans": [{"spans": spans}]}]
    }
    return json.dumps(request).encode()


def mixed_protobuf(prefix: str) -> bytes:
    """``MIXED_SPANS`` as binary protobuf, ids prefixed and span ids with ``b`` for ``a``."""
    request = ExportTraceServiceRequest()
    resource_spans = request.resource_spans.add()
    resource_spans.resource.attributes.append(
        KeyValue(key="service.name", value=AnyValue(string_value="mixed"))
    )
    spans = resource_spans.scope_spans.add().spans
    for span_id, attributes, _ in MIXED_SPANS:
        span = Span(
            trace_id=bytes.fromhex(TRACE_ID),
            span_id=bytes.fromhex(span_id.replace("a", "b")),
            name="predict fraud",
            start_time_unix_nano=NOW_NS,
            end_time_unix_nano=NOW_NS + 1_000_000,
        )
        for key, value in model_attributes(attributes).items():
            span.attributes.append(
                KeyValue(key=key, value=proto_value(_prefixed(prefix, key, value)))
            )
        spans.append(span)
    return request.SerializeToString()


def _prefixed(prefix: str, key: str, value: Any) -> Any:
    if key != "ml.prediction.id":
        return value
    return (
        [f"{prefix}-{item}" for item in value] if isinstance(value, list) else f"{prefix}-{value}"
    )


def _json_resource(service: str) -> dict[str, Any]:
    return {"attributes": [{"key": "service.name", "value": {"stringValue": service}}]}


def mixed_labels_json() -> bytes:
    """Three ``ml.label`` records, the middle one without its prediction id."""
    records = [
        {"ml.model.name": "fraud", "ml.prediction.id": "json-good-1", "ml.label": "1"},
        {"ml.model.name": "fraud", "ml.label": "0"},
        {"ml.model.name": "fraud", "ml.prediction.id": "json-good-2", "ml.label.value": 0.5},
    ]
    log_records = [
        {
            "timeUnixNano": str(NOW_NS + 5),
            "eventName": "ml.label",
            "attributes": [{"key": k, "value": json_value(v)} for k, v in record.items()],
        }
        for record in records
    ]
    request = {
        "resourceLogs": [
            {"resource": _json_resource("labeler"), "scopeLogs": [{"logRecords": log_records}]}
        ]
    }
    return json.dumps(request).encode()


def bad_hex_json() -> bytes:
    span = {
        "traceId": "xyz",
        "spanId": "00000000000000c0",
        "name": "predict fraud",
        "attributes": [
            {"key": "ml.model.name", "value": {"stringValue": "fraud"}},
            {"key": "ml.prediction.id", "value": {"stringValue": "hex-bad-1"}},
        ],
    }
    return json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [span]}]}]}).encode()


def documented_requests() -> list[tuple[str, dict[str, Any]]]:
    """The ```json blocks of the semantic conventions that are whole requests: (path, body)."""
    blocks = re.findall(r"```json\n(.*?)```", SEMANTIC_CONVENTIONS.read_text(), re.DOTALL)
    paths = {"resourceSpans": "/v1/traces", "resourceLogs": "/v1/logs"}
    requests = []
    for block in blocks:
        try:
            body = json.loads(block)
        except json.JSONDecodeError:
            continue  # a fragment (the batch attributes), not a request
        requests.extend((paths[key], body) for key in body if key in paths)
    return requests


# --- talking to the service -------------------------------------------------------------


def post(port: int, path: str, body: bytes, content_type: str) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("POST", path, body, {"Content-Type": content_type})
        answer = connection.getresponse()
        return answer.status, answer.read()
    finally:
        connection.close()


def example_paths() -> dict[str, str]:
    return {
        "trace.json": "/v1/traces",
        "logs.json": "/v1/logs",
        "events.json": "/v1/logs",
        "metrics.json": "/v1/metrics",
    }


@pytest.fixture(scope="module")
def exchange(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[dict[str, tuple[int, bytes]], dict[str, list[tuple[Any, ...]]]]]:
    """``(answers by name, rows by query)``: everything is sent, then the service stops."""
    data_dir = tmp_path_factory.mktemp("bad-input") / "data"
    answers: dict[str, tuple[int, bytes]] = {}
    with serving(data_dir, "--retention-days", "3650") as collector:
        port = collector.http_port
        answers["mixed json"] = post(port, "/v1/traces", mixed_json("json"), JSON)
        answers["mixed protobuf"] = post(port, "/v1/traces", mixed_protobuf("proto"), PROTOBUF)
        answers["mixed labels"] = post(port, "/v1/logs", mixed_labels_json(), JSON)
        answers["garbage protobuf"] = post(port, "/v1/traces", b"\x0a\x05\xff\xff", PROTOBUF)
        answers["truncated json"] = post(port, "/v1/traces", mixed_json("cut")[:-9], JSON)
        answers["bad hex"] = post(port, "/v1/traces", bad_hex_json(), JSON)
        for name, path in example_paths().items():
            answers[name] = post(port, path, (EXAMPLES / name).read_bytes(), JSON)
        for index, (path, body) in enumerate(documented_requests()):
            answers[f"documented {index}"] = post(port, path, json.dumps(body).encode(), JSON)
    yield answers, read_queries(data_dir, QUERIES)


# --- partial success --------------------------------------------------------------------

pytestmark = pytest.mark.slow
BAD_SPANS = [(n, why) for n, (_, _, why) in enumerate(MIXED_SPANS) if why]


def test_a_partly_bad_json_request_is_accepted_naming_each_bad_span(exchange: Any) -> None:
    status, body = exchange[0]["mixed json"]
    assert status == 200
    partial = json.loads(body)["partialSuccess"]
    assert int(partial["rejectedSpans"]) == len(BAD_SPANS)
    assert partial["errorMessage"] == "; ".join(f"span {n}: {why}" for n, why in BAD_SPANS)


def test_a_partly_bad_protobuf_request_is_answered_in_protobuf(exchange: Any) -> None:
    status, body = exchange[0]["mixed protobuf"]
    assert status == 200
    partial = ExportTraceServiceResponse.FromString(body).partial_success
    assert partial.rejected_spans == len(BAD_SPANS)
    assert partial.error_message == "; ".join(f"span {n}: {why}" for n, why in BAD_SPANS)


@pytest.mark.parametrize("prefix", ["json", "proto"])
def test_only_the_good_spans_of_a_partly_bad_request_are_stored(exchange: Any, prefix: str) -> None:
    rows = [row for row in exchange[1]["predictions"] if row[0].startswith(prefix + "-")]
    assert [(row[0], row[6]) for row in rows] == [
        (f"{prefix}-good-1", 0.7),
        (f"{prefix}-good-2", 0.25),
        (f"{prefix}-good-3", 0.5),
    ]
    letter = "a" if prefix == "json" else "b"
    stored_spans = {row[2] for row in exchange[1]["spans"] if row[0] == "mixed"}
    assert {s for s in stored_spans if s[-2] == letter} == {
        span_id.replace("a", letter) for span_id, _, why in MIXED_SPANS if not why
    }


def test_a_label_record_without_its_prediction_id_is_rejected_alone(exchange: Any) -> None:
    status, body = exchange[0]["mixed labels"]
    assert status == 200
    partial = json.loads(body)["partialSuccess"]
    assert int(partial["rejectedLogRecords"]) == 1
    assert partial["errorMessage"] == "log record 1: ml.label event without ml.prediction.id"
    labels = [row for row in exchange[1]["labels"] if row[1] == "labeler"]
    assert [row[:5] for row in labels] == [
        ("json-good-1", "labeler", "fraud", "1", None),
        ("json-good-2", "labeler", "fraud", "", 0.5),
    ]
    assert [row for row in exchange[1]["logs"] if row[0] == "labeler"] == [
        ("labeler", "ml.label", "")
    ] * 2


# --- refused requests ---------------------------------------------------------------------


@pytest.mark.parametrize("name", ["garbage protobuf", "truncated json", "bad hex"])
def test_an_undecodable_body_is_refused_with_400(exchange: Any, name: str) -> None:
    status, _ = exchange[0][name]
    assert status == 400


def test_a_bad_hex_id_is_named_in_the_answer(exchange: Any) -> None:
    message = json.loads(exchange[0]["bad hex"][1])["message"]
    assert "resourceSpans[0].scopeSpans[0].spans[0].traceId" in message
    assert '"xyz"' in message


def test_refused_requests_leave_nothing_in_the_store(exchange: Any) -> None:
    ids = {row[0] for row in exchange[1]["predictions"]}
    assert not {i for i in ids if i.startswith(("cut-", "hex-", "json-bad", "proto-bad"))}
    assert "00000000000000c0" not in {row[2] for row in exchange[1]["spans"]}
    # Everything stored came from an accepted item: the mixed requests' good spans, the
    # examples and the documented request.
    services = {row[0] for row in exchange[1]["spans"]}
    assert services == {"mixed", "my.service", "fraud-api"}


# --- the published examples -------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(example_paths()))
def test_each_opentelemetry_proto_example_is_accepted_in_full(exchange: Any, name: str) -> None:
    status, body = exchange[0][name]
    assert status == 200
    assert "partialSuccess" not in json.loads(body or b"{}")


def _example(name: str) -> dict[str, Any]:
    return json.loads((EXAMPLES / name).read_text())  # type: ignore[no-any-return]


def test_example_spans_are_in_otel_traces(exchange: Any) -> None:
    sent = [
        (span["traceId"].lower(), span["spanId"].lower(), span["name"])
        for resource in _example("trace.json")["resourceSpans"]
        for scope in resource["scopeSpans"]
        for span in scope["spans"]
    ]
    stored = [row[1:] for row in exchange[1]["spans"] if row[0] == "my.service"]
    assert sorted(stored) == sorted(sent) and sent


def test_example_log_records_and_events_are_in_otel_logs(exchange: Any) -> None:
    sent = [
        record.get("eventName", "")
        for name in ("logs.json", "events.json")
        for resource in _example(name)["resourceLogs"]
        for scope in resource["scopeLogs"]
        for record in scope["logRecords"]
    ]
    stored = [row[1] for row in exchange[1]["logs"] if row[0] == "my.service"]
    assert sorted(stored) == sorted(sent)
    assert "browser.page_view" in stored


def test_example_metric_points_are_in_their_otel_metrics_tables(exchange: Any) -> None:
    sent = sorted(
        (kind, metric["name"])
        for resource in _example("metrics.json")["resourceMetrics"]
        for scope in resource["scopeMetrics"]
        for metric in scope["metrics"]
        for kind in ("gauge", "sum", "histogram", "exponentialHistogram", "summary")
        if kind in metric
        for _ in metric[kind]["dataPoints"]
    )
    stored = sorted((row[0], row[2]) for row in exchange[1]["metrics"] if row[1] == "my.service")
    assert stored == sent
    assert {kind for kind, _ in sent} >= {"gauge", "sum", "histogram", "exponentialHistogram"}


# --- the documented examples --------------------------------------------------------------


def test_the_documented_requests_are_found_and_accepted(exchange: Any) -> None:
    documented = {name: answer for name, answer in exchange[0].items() if "documented" in name}
    assert len(documented) == 2, "a prediction request and a label request"
    assert all(answer == (200, b"{}") for answer in documented.values()), documented


def test_the_documented_prediction_becomes_the_documented_row(exchange: Any) -> None:
    (row,) = [row for row in exchange[1]["predictions"] if row[1] == "fraud-api"]
    assert row == (
        "019ace00-0000-7000-8000-000000000001",
        "fraud-api",
        "fraud",
        "3.1",
        "binary_classification",
        "1",
        0.93,
        2.5,
        "ok",
        1764403200000000000,
        {"region": "eu"},
    )


def test_the_documented_label_becomes_the_documented_row(exchange: Any) -> None:
    (row,) = [row for row in exchange[1]["labels"] if row[1] == "fraud-labeler"]
    assert row == (
        "019ace00-0000-7000-8000-000000000001",
        "fraud-labeler",
        "fraud",
        "1",
        None,
        1764489600000000000,
    )

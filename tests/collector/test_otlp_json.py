"""OTLP/JSON decoding: the published examples, the OTLP deviations from proto3 JSON, errors."""

from __future__ import annotations

import base64
import json
import math
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import json_format
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Link, SpanKind

from inferwatch_collector.receive import DecodeError, Signal, decode_json_request

EXAMPLES = Path("/work/shared/otlp-examples")


def example(name: str) -> dict[str, Any]:
    return json.loads((EXAMPLES / name).read_text())


def spans_body(*spans: dict[str, Any]) -> bytes:
    return json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": list(spans)}]}]}).encode()


def only_span(body: bytes) -> Any:
    return decode_json_request(Signal.TRACES, body).resource_spans[0].scope_spans[0].spans[0]


def test_trace_example_decodes_with_hex_ids_and_string_integers() -> None:
    source = example("trace.json")["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    request = decode_json_request(Signal.TRACES, (EXAMPLES / "trace.json").read_bytes())
    resource_spans = request.resource_spans[0]
    span = resource_spans.scope_spans[0].spans[0]
    assert span.trace_id == bytes.fromhex(source["traceId"])
    assert span.span_id == bytes.fromhex(source["spanId"])
    assert span.parent_span_id == bytes.fromhex(source["parentSpanId"])
    assert span.start_time_unix_nano == 1544712660000000000
    assert span.end_time_unix_nano == 1544712661000000000
    assert span.kind == 2
    assert span.name == "I'm a server span"
    assert span.attributes[0].value.string_value == "some value"
    assert resource_spans.resource.attributes[0].value.string_value == "my.service"
    assert resource_spans.scope_spans[0].scope.version == "1.0.0"


def test_metrics_example_decodes_every_point_kind() -> None:
    request = decode_json_request(Signal.METRICS, (EXAMPLES / "metrics.json").read_bytes())
    counter, gauge, histogram, exponential = request.resource_metrics[0].scope_metrics[0].metrics
    assert counter.sum.is_monotonic and counter.sum.aggregation_temporality == 1
    assert counter.sum.data_points[0].as_double == 5.0
    assert gauge.gauge.data_points[0].as_double == 10.0
    point = histogram.histogram.data_points[0]
    assert (point.count, point.sum, list(point.bucket_counts)) == (2, 2.0, [1, 1])
    assert list(point.explicit_bounds) == [1.0] and point.HasField("min") and point.max == 2.0
    exp_point = exponential.exponential_histogram.data_points[0]
    assert (exp_point.count, exp_point.zero_count, exp_point.scale) == (3, 1, 0)
    assert exp_point.positive.offset == 1 and list(exp_point.positive.bucket_counts) == [0, 2]


def test_logs_example_decodes_every_any_value_kind() -> None:
    request = decode_json_request(Signal.LOGS, (EXAMPLES / "logs.json").read_bytes())
    record = request.resource_logs[0].scope_logs[0].log_records[0]
    assert record.trace_id.hex().upper() == "5B8EFFF798038103D269B633813FC60C"
    assert record.span_id.hex().upper() == "EEE19B7EC3C1B174"
    assert record.severity_number == 10 and record.body.string_value == "Example log record"
    values = {kv.key: kv.value for kv in record.attributes}
    assert values["boolean.attribute"].bool_value is True
    assert values["int.attribute"].int_value == 10
    assert values["double.attribute"].double_value == 637.704
    assert [v.string_value for v in values["array.attribute"].array_value.values] == [
        "many",
        "values",
    ]
    entry = values["map.attribute"].kvlist_value.values[0]
    assert (entry.key, entry.value.string_value) == ("some.map.key", "some value")


def test_events_example_decodes_event_name_and_map_body() -> None:
    request = decode_json_request(Signal.LOGS, (EXAMPLES / "events.json").read_bytes())
    record = request.resource_logs[0].scope_logs[0].log_records[0]
    assert record.event_name == "browser.page_view"
    body = {kv.key: kv.value for kv in record.body.kvlist_value.values}
    assert body["type"].HasField("int_value") and body["type"].int_value == 0
    assert body["title"].string_value == "Free Online GUID Generator"


def test_sdk_spans_survive_the_json_round_trip() -> None:
    """Spans from the OpenTelemetry SDK, written as OTLP/JSON, decode to the same message."""
    memory = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("test")
    with tracer.start_as_current_span("parent", kind=SpanKind.SERVER) as parent:
        parent.set_attribute("ml.prediction.score", [0.25, 0.75])
        with tracer.start_as_current_span("child", links=[Link(parent.get_span_context())]):
            pass
    original = encode_spans(memory.get_finished_spans())
    document = json_format.MessageToDict(original)
    _ids_to_hex(document)
    assert decode_json_request(Signal.TRACES, json.dumps(document).encode()) == original


def _ids_to_hex(node: Any) -> None:
    """proto3 JSON writes bytes as base64; OTLP/JSON wants the ids in hex."""
    if isinstance(node, list):
        for item in node:
            _ids_to_hex(item)
    elif isinstance(node, dict):
        for key, value in node.items():
            if key in ("traceId", "spanId", "parentSpanId"):
                node[key] = base64.b64decode(value).hex()
            else:
                _ids_to_hex(value)


def test_link_and_exemplar_ids_are_hex() -> None:
    link = {"traceId": "0102030405060708090a0b0c0d0e0f10", "spanId": "a1a2a3a4a5a6a7a8"}
    span = only_span(spans_body({"links": [link]}))
    assert span.links[0].trace_id == bytes(range(1, 17))
    assert span.links[0].span_id.hex() == "a1a2a3a4a5a6a7a8"
    exemplar = {"traceId": "ff" * 16, "spanId": "ee" * 8, "asInt": "7"}
    metrics = {"resourceMetrics": [{"scopeMetrics": [{"metrics": [
        {"gauge": {"dataPoints": [{"exemplars": [exemplar]}]}}
    ]}]}]}  # fmt: skip
    request = decode_json_request(Signal.METRICS, json.dumps(metrics).encode())
    decoded = request.resource_metrics[0].scope_metrics[0].metrics[0].gauge.data_points[0]
    assert decoded.exemplars[0].trace_id == b"\xff" * 16
    assert decoded.exemplars[0].span_id == b"\xee" * 8
    assert decoded.exemplars[0].as_int == 7


def test_proto_field_names_enum_names_and_numeric_64_bit_integers_are_accepted() -> None:
    span = only_span(
        spans_body(
            {
                "trace_id": "5b8efff798038103d269b633813fc60c",
                "start_time_unix_nano": 1544712660000000000,
                "kind": "SPAN_KIND_CLIENT",
                "status": {"code": "STATUS_CODE_ERROR", "message": "boom"},
            }
        )
    )
    assert span.trace_id.hex() == "5b8efff798038103d269b633813fc60c"
    assert span.start_time_unix_nano == 1544712660000000000
    assert span.kind == 3
    assert (span.status.code, span.status.message) == (2, "boom")


def test_bytes_values_are_base64_and_special_doubles_are_words() -> None:
    attributes = [
        {"key": "raw", "value": {"bytesValue": base64.b64encode(b"\x00\x01model").decode()}},
        {"key": "nan", "value": {"doubleValue": "NaN"}},
        {"key": "inf", "value": {"doubleValue": "-Infinity"}},
        {"key": "empty", "value": {}},
    ]
    span = only_span(spans_body({"attributes": attributes}))
    values = {kv.key: kv.value for kv in span.attributes}
    assert values["raw"].bytes_value == b"\x00\x01model"
    assert math.isnan(values["nan"].double_value)
    assert values["inf"].double_value == -math.inf
    assert values["empty"].WhichOneof("value") is None


def test_unknown_fields_and_nulls_are_ignored() -> None:
    body = spans_body({"name": "kept", "futureField": {"nested": [1, 2]}, "parentSpanId": None})
    span = only_span(body)
    assert span.name == "kept"
    assert span.parent_span_id == b""


def test_an_empty_parent_span_id_means_a_root_span() -> None:
    assert only_span(spans_body({"parentSpanId": ""})).parent_span_id == b""


@pytest.mark.parametrize(
    ("span", "path", "reason"),
    [
        ({"traceId": "xyz"}, "spans[1].traceId", 'expected 32 hex digits, got "xyz"'),
        ({"spanId": "5B8EFFF798038103"[:-2]}, "spans[1].spanId", "expected 16 hex digits"),
        ({"traceId": base64.b64encode(b"a" * 16).decode()}, "spans[1].traceId", "hex digits"),
        ({"startTimeUnixNano": "12.5"}, "spans[1].startTimeUnixNano", "expected an integer"),
        ({"kind": "SERVER"}, "spans[1].kind", "expected an integer enum value"),
        ({"name": 42}, "spans[1].name", "expected a string, got 42"),
        ({"links": {}}, "spans[1].links", "expected a JSON array, got an object"),
        ({"links": [7]}, "spans[1].links[0]", "expected a JSON object, got a number"),
        ({"droppedAttributesCount": -1}, "spans[1].droppedAttributesCount", "out of range"),
        (
            {"attributes": [{"key": "k", "value": {"bytesValue": "!!"}}]},
            "spans[1].attributes[0].value.bytesValue",
            'expected base64, got "!!"',
        ),
    ],
)
def test_errors_name_the_field_path(span: dict[str, Any], path: str, reason: str) -> None:
    with pytest.raises(DecodeError) as caught:
        decode_json_request(Signal.TRACES, spans_body({"name": "fine"}, span))
    assert caught.value.path == f"resourceSpans[0].scopeSpans[0].{path}"
    assert reason in str(caught.value)
    assert str(caught.value).startswith(caught.value.path + ": ")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"resourceSpans": [', "invalid JSON at line 1 column 20"),
        (b"[]", "expected a JSON object, got an array"),
        (b"\xc3\x28", "body is not UTF-8 text"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    ],
)
def test_bodies_that_are_not_an_otlp_object_are_refused(body: bytes, message: str) -> None:
    with pytest.raises(DecodeError, match=message):
        decode_json_request(Signal.TRACES, body)


@pytest.mark.parametrize("depth", [300, 5000])
def test_deeply_nested_any_values_are_refused_not_crashing(depth: int) -> None:
    value = '{"arrayValue":{"values":[' * depth + '{"stringValue":"leaf"}' + "]}}" * depth
    attribute = '{"key":"deep","value":' + value + "}"
    body = spans_body({"attributes": []}).replace(b"[]", b"[" + attribute.encode() + b"]")
    with pytest.raises(DecodeError, match="nested too deeply"):
        decode_json_request(Signal.TRACES, body)

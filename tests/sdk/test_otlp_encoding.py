"""Bulk encoding of batch-span arrays gives exactly what the standard OTLP encoder gives."""

from __future__ import annotations

import math

import pytest
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from otlp_receiver import OtlpReceiver

from inferwatch._otlp_encoding import encode_array, encode_spans_fast, serialize_spans_fast
from inferwatch._span_exporters import grpc_span_exporter, http_span_exporter


def _spans(attributes_list: list[dict]) -> list[ReadableSpan]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("test")
    for attributes in attributes_list:
        tracer.start_span("predict m", attributes=attributes).end()
    return list(exporter.get_finished_spans())


def _sorted_attributes(request: ExportTraceServiceRequest) -> bytes:
    for resource_spans in request.resource_spans:
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                items = sorted(span.attributes, key=lambda kv: kv.key)
                del span.attributes[:]
                span.attributes.extend(items)
    return request.SerializeToString(deterministic=True)


BATCH = {
    "ml.model.name": "m",
    "ml.prediction.count": 100,
    "ml.prediction.id": [f"019ace00-0000-7000-8000-{i:012d}" for i in range(100)],
    "ml.prediction.label": ["ja", "é" * 200, ""] * 33 + ["x"],
    "ml.prediction.score": [i / 7 for i in range(99)] + [math.nan],
    "ml.prediction.timestamp": [1_764_403_200_000_000_000 + i for i in range(99)] + [-5],
    "ml.prediction.duration": [0.0, 1e-300, -2.5, math.inf] * 25,
    "short": [1, 2, 3],
    "mixed": [1, 2.0] * 20,
    "flags": [True, False] * 20,
}


def test_fast_encoding_equals_the_standard_encoder() -> None:
    spans = _spans([BATCH, {"ml.model.name": "single", "ml.prediction.id": "a"}])
    assert _sorted_attributes(encode_spans_fast(spans)) == _sorted_attributes(encode_spans(spans))


def test_spliced_serialization_equals_the_standard_encoder() -> None:
    spans = _spans([BATCH, {"ml.model.name": "single", "ml.prediction.id": "a"}, BATCH])
    spliced = ExportTraceServiceRequest.FromString(serialize_spans_fast(spans))
    assert _sorted_attributes(spliced) == _sorted_attributes(encode_spans(spans))


def test_spans_without_long_arrays_serialize_as_the_standard_encoder_does() -> None:
    spans = _spans([{"ml.model.name": "single", "ml.prediction.id": "a", "short": [1, 2]}])
    assert serialize_spans_fast(spans) == encode_spans(spans).SerializePartialToString()


ARRAYS = {
    "ascii, one length": [f"019ace00-0000-7000-8000-{i:012d}" for i in range(40)],
    "ascii, lengths below 126": ["", "a", "bb" * 30, "c" * 125] * 10,
    "short, not ascii": ["ja", "日本", "é"] * 12,
    "one long string": ["x"] * 39 + ["y" * 126],
    "ints, one varint length": [1_764_403_200_000_000_000 + i for i in range(40)],
    "ints, mixed lengths": [0, 1, 127, 128, 2**35, 2**63 - 1] * 7,
    "ints, negative": [-1, 5, -(2**63)] * 14,
    "doubles": [0.0, -0.0, 1e-300, -2.5, math.inf, -math.inf, math.nan, 1 / 3] * 5,
}


@pytest.mark.parametrize("name", ARRAYS)
def test_each_kind_of_array_encodes_as_the_standard_encoder_does(name: str) -> None:
    spans = _spans([{"ml.model.name": "m", "array": ARRAYS[name]}])
    expected = _sorted_attributes(encode_spans(spans))
    assert _sorted_attributes(encode_spans_fast(spans)) == expected
    assert (
        _sorted_attributes(ExportTraceServiceRequest.FromString(serialize_spans_fast(spans)))
        == expected
    )


@pytest.mark.parametrize("values", [[1, 2.0] * 20, [True, False] * 20])
def test_mixed_or_unsupported_arrays_are_left_to_the_standard_encoder(values: list) -> None:
    assert encode_array(values) is None


@pytest.mark.parametrize("protocol", ["grpc", "http/protobuf"])
def test_bulk_exporters_deliver_batch_spans(protocol: str) -> None:
    spans = _spans([BATCH])
    with OtlpReceiver() as receiver:
        if protocol == "grpc":
            exporter = grpc_span_exporter(endpoint=receiver.grpc_endpoint, insecure=True)
        else:
            exporter = http_span_exporter(endpoint=receiver.http_endpoint + "/v1/traces")
        assert exporter.export(spans).name == "SUCCESS"
        exporter.shutdown()
        span = receiver.wait_for_span("predict m")
    assert span.attributes["ml.prediction.id"] == BATCH["ml.prediction.id"]
    assert span.attributes["ml.prediction.timestamp"] == BATCH["ml.prediction.timestamp"]
    assert span.attributes["ml.prediction.label"] == BATCH["ml.prediction.label"]

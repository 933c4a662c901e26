"""Validation for partial success: each bad item rejected with a precise message, good ones kept."""

from __future__ import annotations

import math
from typing import Any

import pytest
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue, KeyValue

from inferwatch import semconv
from inferwatch_collector.record_kinds import decodable_trace_record, split_decodable
from inferwatch_collector.validate import (
    check_traces,
    validate_logs,
    validate_metrics,
    validate_traces,
)

GOOD = {semconv.ML_MODEL_NAME: "fraud", semconv.ML_PREDICTION_ID: "p1"}


def any_value(value: Any) -> AnyValue:
    if isinstance(value, list):
        return AnyValue(array_value=ArrayValue(values=[any_value(item) for item in value]))
    if isinstance(value, bool):
        return AnyValue(bool_value=value)
    if isinstance(value, str):
        return AnyValue(string_value=value)
    if isinstance(value, float):
        return AnyValue(double_value=value)
    return AnyValue(int_value=value)


def attributes(values: dict[str, Any]) -> list[KeyValue]:
    return [KeyValue(key=key, value=any_value(value)) for key, value in values.items()]


def traces(*spans: dict[str, Any], name: str = "predict fraud") -> ExportTraceServiceRequest:
    """One span per dict of attributes, spread over two scopes to exercise the numbering."""
    request = ExportTraceServiceRequest()
    resource = request.resource_spans.add()
    scopes = [resource.scope_spans.add(), resource.scope_spans.add()]
    for index, values in enumerate(spans):
        span = scopes[index * 2 // max(len(spans), 1)].spans.add(
            trace_id=bytes([index + 1]) * 16, span_id=bytes([index + 1]) * 8, name=name
        )
        span.attributes.extend(attributes(values))
    return request


def kept_ids(request: ExportTraceServiceRequest) -> list[int]:
    return [
        span.span_id[0]
        for resource in request.resource_spans
        for scope in resource.scope_spans
        for span in scope.spans
    ]


def test_a_good_request_comes_back_as_the_same_object() -> None:
    request = traces(
        GOOD,
        {**GOOD, semconv.ML_PREDICTION_SCORE: 0.5, semconv.ML_PREDICTION_COUNT: 1},
        {
            semconv.ML_MODEL_NAME: "fraud",
            semconv.ML_PREDICTION_COUNT: 2,
            semconv.ML_PREDICTION_ID: ["a", "b"],
            semconv.ML_PREDICTION_SCORE: [0.5, math.nan],  # NaN: "no score" in SDK batches
            semconv.ML_PREDICTION_STATUS: ["ok", "error"],
            semconv.ML_PREDICTION_TIMESTAMP: [1, 2],
        },
        {"http.route": "/other"},  # not a prediction span at all
    )
    assert validate_traces(request)[0] is request
    assert validate_traces(request)[1:] == (0, "")


BAD_SPANS = [
    pytest.param(
        {
            semconv.ML_MODEL_NAME: "fraud",
            semconv.ML_PREDICTION_ID: ["a", "b", "c", "d"],
            semconv.ML_PREDICTION_LABEL: ["1", "0", "1"],
        },
        "ml.prediction.id has 4 items, ml.prediction.label has 3",
        id="arrays-of-unequal-length",
    ),
    pytest.param(
        {**GOOD, semconv.ML_PREDICTION_SCORE: "0.9"},
        "ml.prediction.score must be a number, got a string",
        id="score-is-a-string",
    ),
    pytest.param(
        {
            semconv.ML_MODEL_NAME: "fraud",
            semconv.ML_PREDICTION_ID: ["a", "b"],
            semconv.ML_PREDICTION_SCORE: ["0.1", "0.2"],
        },
        "ml.prediction.score item 0 must be a number, got a string",
        id="score-array-of-strings",
    ),
    pytest.param(
        {
            semconv.ML_MODEL_NAME: "fraud",
            semconv.ML_PREDICTION_COUNT: 3,
            semconv.ML_PREDICTION_ID: ["a", "b"],
        },
        "ml.prediction.count is 3 but ml.prediction.id has 2 items",
        id="count-disagrees-with-arrays",
    ),
    pytest.param(
        {**GOOD, semconv.ML_PREDICTION_COUNT: 2},
        "ml.prediction.count is 2 but the prediction attributes are single values",
        id="count-disagrees-with-scalars",
    ),
    pytest.param(
        {
            semconv.ML_MODEL_NAME: "fraud",
            semconv.ML_PREDICTION_ID: ["a", "b"],
            semconv.ML_PREDICTION_LABEL: "1",
        },
        "ml.prediction.label is a single value but ml.prediction.id is an array of 2 items",
        id="array-mixed-with-scalar",
    ),
    pytest.param(
        {**GOOD, semconv.ML_PREDICTION_COUNT: "1"},
        "ml.prediction.count must be an int >= 0",
        id="count-is-a-string",
    ),
    pytest.param(
        {semconv.ML_MODEL_NAME: 7, semconv.ML_PREDICTION_ID: "p"},
        "ml.model.name must be a non-empty string",
        id="model-name-is-an-int",
    ),
    pytest.param(
        {**GOOD, semconv.ML_PREDICTION_STATUS: "failed"},
        "ml.prediction.status must be ok or error, got 'failed'",
        id="unknown-status",
    ),
    pytest.param(
        {
            semconv.ML_MODEL_NAME: "fraud",
            semconv.ML_PREDICTION_ID: ["a"],
            semconv.ML_PREDICTION_TIMESTAMP: [1.5],
        },
        "ml.prediction.timestamp item 0 must be an int (Unix ns), got a double",
        id="timestamp-is-a-double",
    ),
]


@pytest.mark.parametrize(("bad", "message"), BAD_SPANS)
def test_a_bad_prediction_span_is_rejected_and_the_good_ones_kept(
    bad: dict[str, Any], message: str
) -> None:
    request = traces(GOOD, GOOD, GOOD, bad, GOOD)
    kept, rejected, text = validate_traces(request)
    assert (rejected, text) == (1, f"span 3: {message}")
    assert kept_ids(kept) == [1, 2, 3, 5]
    assert kept_ids(request) == [1, 2, 3, 4, 5], "the caller's request is left as it was"


def test_span_ids_of_the_wrong_size_are_rejected() -> None:
    request = traces(GOOD, GOOD)
    request.resource_spans[0].scope_spans[0].spans[0].trace_id = b"\1" * 5
    request.resource_spans[0].scope_spans[1].spans[0].span_id = b""
    kept, rejected, text = validate_traces(request)
    assert rejected == 2 and kept_ids(kept) == []
    assert text == (
        "span 0: trace_id has 5 bytes, expected 16; span 1: span_id has 0 bytes, expected 8"
    )


def test_the_message_names_three_problems_and_counts_the_rest() -> None:
    bad = {**GOOD, semconv.ML_PREDICTION_SCORE: "high"}
    kept, rejected, text = validate_traces(traces(*[bad] * 5, GOOD))
    assert rejected == 5 and kept_ids(kept) == [6]
    problem = "ml.prediction.score must be a number, got a string"
    assert text == f"span 0: {problem}; span 1: {problem}; span 2: {problem} (and 2 more)"


@pytest.mark.parametrize(
    ("label", "message"),
    [
        ({semconv.ML_PREDICTION_ID: "p", semconv.ML_LABEL: "1"}, "without ml.model.name"),
        ({semconv.ML_MODEL_NAME: "m", semconv.ML_LABEL: "1"}, "without ml.prediction.id"),
        (
            {semconv.ML_MODEL_NAME: "m", semconv.ML_PREDICTION_ID: "p"},
            "with neither ml.label nor ml.label.value",
        ),
        (
            {**GOOD, semconv.ML_LABEL_VALUE: math.nan},
            "ml.label.value is NaN",
        ),
        (
            {**GOOD, semconv.ML_LABEL_VALUE: "3.5"},
            "ml.label.value must be a number, got a string",
        ),
        (
            {
                semconv.ML_MODEL_NAME: "m",
                semconv.ML_PREDICTION_ID: ["a", "b"],
                semconv.ML_LABEL_VALUE: [1.0, math.nan],
            },
            "ml.label.value item 1 is NaN",
        ),
        (
            {
                semconv.ML_MODEL_NAME: "m",
                semconv.ML_PREDICTION_ID: ["a", "b"],
                semconv.ML_LABEL: ["1"],
            },
            "ml.prediction.id has 2 items, ml.label has 1",
        ),
    ],
)
def test_bad_label_spans_and_log_records_are_rejected_alike(
    label: dict[str, Any], message: str
) -> None:
    expected = message if message.startswith("ml.") else f"ml.label event {message}"
    good_label = {**GOOD, semconv.ML_LABEL: "1"}
    kept, rejected, text = validate_traces(traces(good_label, label, name="ml.label"))
    assert (rejected, text, kept_ids(kept)) == (1, f"span 1: {expected}", [1])

    request = logs(good_label, label)
    kept_logs, rejected, text = validate_logs(request)
    assert (rejected, text) == (1, f"log record 1: {expected}")
    records = kept_logs.resource_logs[0].scope_logs[0].log_records
    assert [record.body.string_value for record in records] == ["0"]


def logs(*records: dict[str, Any], old_convention: bool = False) -> ExportLogsServiceRequest:
    request = ExportLogsServiceRequest()
    scope = request.resource_logs.add().scope_logs.add()
    for index, values in enumerate(records):
        record = scope.log_records.add(body=AnyValue(string_value=str(index)))
        if old_convention:
            values = {**values, "event.name": semconv.LABEL_EVENT_NAME}
        else:
            record.event_name = semconv.LABEL_EVENT_NAME
        record.attributes.extend(attributes(values))
    return request


def test_label_records_by_the_older_event_name_attribute_are_validated_too() -> None:
    request = logs({**GOOD, semconv.ML_LABEL: "1"}, GOOD, old_convention=True)
    _, rejected, text = validate_logs(request)
    assert (rejected, text) == (
        1,
        "log record 1: ml.label event with neither ml.label nor ml.label.value",
    )


def test_ordinary_log_records_pass_untouched() -> None:
    request = ExportLogsServiceRequest()
    request.resource_logs.add().scope_logs.add().log_records.add(
        body=AnyValue(string_value="hello"), trace_id=b"\1" * 16
    )
    assert validate_logs(request) == (request, 0, "")


def test_structurally_bad_metrics_are_rejected_by_data_point() -> None:
    request = ExportMetricsServiceRequest()
    metrics = request.resource_metrics.add().scope_metrics.add().metrics
    good = metrics.add(name="latency")
    good.histogram.data_points.add(bucket_counts=[1, 2, 3], explicit_bounds=[1.0, 2.0])
    good.histogram.data_points.add(bucket_counts=[1, 2], explicit_bounds=[1.0, 2.0])
    nameless = metrics.add()
    nameless.gauge.data_points.add(as_double=1.0)
    nameless.gauge.data_points.add(as_double=2.0)
    metrics.add(name="depth").gauge.data_points.add(as_int=3)
    kept, rejected, text = validate_metrics(request)
    assert rejected == 3
    assert text == (
        "metric 0 (latency) point 1: 2 bucket counts for 2 explicit bounds (expected 3); "
        "metric 1: name is empty"
    )
    kept_metrics = kept.resource_metrics[0].scope_metrics[0].metrics
    assert [metric.name for metric in kept_metrics] == ["latency", "depth"]
    assert len(kept_metrics[0].histogram.data_points) == 1
    assert validate_metrics(kept) == (kept, 0, "")


BATCH_OF_3 = {semconv.ML_MODEL_NAME: "fraud", semconv.ML_PREDICTION_ID: ["a", "b", "c"]}


def test_check_traces_counts_the_rows_each_kind_of_span_makes() -> None:
    # Two single-prediction spans, a batch span of 3, a plain span and a rejected batch span:
    # the counts are those of the kept spans, the rows the writer will store.
    bad_batch = {**BATCH_OF_3, semconv.ML_PREDICTION_LABEL: ["1", "0"]}
    check = check_traces(traces(GOOD, GOOD, BATCH_OF_3, {"http.route": "/"}, bad_batch))
    assert (check.spans, check.rejected) == (4, 1)
    assert (check.predictions, check.single, check.labels) == (5, 2, False)
    label = {**GOOD, semconv.ML_LABEL: "1"}
    check = check_traces(traces(label, name=semconv.LABEL_EVENT_NAME))
    assert (check.spans, check.predictions, check.single, check.labels) == (1, 0, 0, True)


def test_record_kinds_carry_the_counts_of_decodable_requests() -> None:
    kind, payload = decodable_trace_record(b"req", spans=4, predictions=5, single=2)
    counts = split_decodable(kind, payload)
    assert (kind, counts.spans, counts.predictions, counts.single) == (5, 4, 5, 2)
    assert counts.batch and bytes(counts.request) == b"req"
    kind, payload = decodable_trace_record(b"req", spans=3, predictions=2, single=2)
    counts = split_decodable(kind, payload)
    assert (kind, counts.spans, counts.predictions, counts.batch) == (4, 3, 2, False)
    assert bytes(counts.request) == b"req"

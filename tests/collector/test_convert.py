"""OTLP requests → table columns: every column of every table, from real SDK-encoded requests."""

from __future__ import annotations

import base64
import math
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs
from opentelemetry.exporter.otlp.proto.common.metrics_encoder import encode_metrics
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue, KeyValue, KeyValueList
from opentelemetry.proto.trace.v1.trace_pb2 import Span
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.metrics.view import ExponentialBucketHistogramAggregation, View
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Link, SpanContext, SpanKind, Status, StatusCode

from inferwatch import semconv
from inferwatch_collector import rows
from inferwatch_collector.convert import (
    convert_logs,
    convert_metrics,
    convert_traces,
    merge_tables,
)
from inferwatch_collector.convert.attributes import any_value, format_value
from inferwatch_collector.receive.ingest import Signal
from inferwatch_collector.receive.otlp_json import decode_json_request

EXAMPLES = Path("/work/shared/otlp-examples")
RESOURCE = Resource.create({"service.name": "scoring", "deployment.environment": "test"})
T0 = 1_700_000_000_000_000_000


@pytest.fixture
def tracer_and_spans() -> Any:
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=RESOURCE)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield provider.get_tracer("inferwatch", "0.1.0"), exporter
    provider.shutdown()


def request_of(exporter: InMemorySpanExporter) -> ExportTraceServiceRequest:
    return encode_spans(exporter.get_finished_spans())


def row(table: rows.TableColumns, index: int) -> dict[str, Any]:
    assert set(table.columns) == set(rows.TABLE_COLUMNS[table.table])
    return {name: values[index] for name, values in table.columns.items()}


def test_single_prediction_span_fills_every_column_of_both_tables(tracer_and_spans: Any) -> None:
    tracer, exporter = tracer_and_spans
    parent = SpanContext(0xABC, 0xDEF, is_remote=True)
    span = tracer.start_span(
        "predict fraud",
        kind=SpanKind.SERVER,
        start_time=T0,
        links=[Link(parent, {"why": "batch"})],
        attributes={
            semconv.ML_MODEL_NAME: "fraud",
            semconv.ML_MODEL_VERSION: "3.1",
            semconv.ML_TASK: semconv.TASK_BINARY,
            semconv.ML_PREDICTION_ID: "p-1",
            semconv.ML_PREDICTION_LABEL: "1",
            semconv.ML_PREDICTION_SCORE: 0.875,
            semconv.ML_PREDICTION_COUNT: 1,
            semconv.ML_SEGMENT_PREFIX + "region": "eu",
            semconv.ML_FEATURE_PREFIX + "amount": 12.0,
            "http.route": "/predict",
        },
    )
    span.add_event("cache miss", {"tries": 2, "ok": False}, timestamp=T0 + 5)
    span.set_status(Status(StatusCode.ERROR, "model timeout"))
    span.end(end_time=T0 + 2_500_000)
    context = span.get_span_context()
    tables = convert_traces([request_of(exporter)])
    trace_id, span_id = f"{context.trace_id:032x}", f"{context.span_id:016x}"

    traced = row(tables[rows.OTEL_TRACES], 0)
    assert traced == {
        "Timestamp": T0,
        "TraceId": trace_id,
        "SpanId": span_id,
        "ParentSpanId": "",
        "TraceState": "",
        "SpanName": "predict fraud",
        "SpanKind": "Server",
        "ServiceName": "scoring",
        "ResourceAttributes": {k: format_value(v) for k, v in RESOURCE.attributes.items()},
        "ScopeName": "inferwatch",
        "ScopeVersion": "0.1.0",
        "SpanAttributes": {
            "ml.model.name": "fraud",
            "ml.model.version": "3.1",
            "ml.task": "binary_classification",
            "ml.prediction.id": "p-1",
            "ml.prediction.label": "1",
            "ml.prediction.score": "0.875",
            "ml.prediction.count": "1",
            "ml.segment.region": "eu",
            "ml.feature.amount": "12",
            "http.route": "/predict",
        },
        "Duration": 2_500_000,
        "StatusCode": "Error",
        "StatusMessage": "model timeout",
        "Events.Timestamp": [T0 + 5],
        "Events.Name": ["cache miss"],
        "Events.Attributes": [{"tries": "2", "ok": "false"}],
        "Links.TraceId": [f"{0xABC:032x}"],
        "Links.SpanId": [f"{0xDEF:016x}"],
        "Links.TraceState": [""],
        "Links.Attributes": [{"why": "batch"}],
    }
    assert row(tables[rows.ML_PREDICTIONS], 0) == {
        "Timestamp": T0,
        "ServiceName": "scoring",
        "ModelName": "fraud",
        "ModelVersion": "3.1",
        "Task": "binary_classification",
        "PredictionId": "p-1",
        "PredictedLabel": "1",
        "Score": 0.875,
        "PredictedValue": None,
        "LatencyMs": 2.5,
        "StatusCode": "error",
        "TraceId": trace_id,
        "SpanId": span_id,
        "Segments": {"region": "eu"},
        "Features": {"amount": "12"},
        "Attributes": {"http.route": "/predict"},
    }
    assert tables[rows.ML_LABELS].row_count == 0


def test_span_kinds_and_status_codes_are_spelled_like_the_exporter(tracer_and_spans: Any) -> None:
    tracer, exporter = tracer_and_spans
    for kind in (SpanKind.INTERNAL, SpanKind.CLIENT, SpanKind.PRODUCER, SpanKind.CONSUMER):
        with tracer.start_as_current_span(f"{kind.name}", kind=kind) as span:
            span.set_status(Status(StatusCode.OK))
    traces = convert_traces([request_of(exporter)])[rows.OTEL_TRACES]
    assert traces.columns["SpanKind"] == ["Internal", "Client", "Producer", "Consumer"]
    assert traces.columns["StatusCode"] == ["Ok"] * 4
    assert convert_traces([request_of(exporter)])[rows.ML_PREDICTIONS].row_count == 0


def test_child_span_has_its_parent_id(tracer_and_spans: Any) -> None:
    tracer, exporter = tracer_and_spans
    with tracer.start_as_current_span("request") as parent:
        with tracer.start_as_current_span("predict fraud"):
            pass
    traces = convert_traces([request_of(exporter)])[rows.OTEL_TRACES]
    child = traces.columns["SpanName"].index("predict fraud")
    assert traces.columns["ParentSpanId"][child] == f"{parent.get_span_context().span_id:016x}"
    assert traces.columns["StatusCode"][child] == "Unset"


def test_batch_span_is_exploded_into_one_row_per_prediction(tracer_and_spans: Any) -> None:
    tracer, exporter = tracer_and_spans
    with tracer.start_as_current_span(
        "predict churn",
        start_time=T0,
        attributes={
            semconv.ML_MODEL_NAME: "churn",
            semconv.ML_TASK: semconv.TASK_MULTICLASS,
            semconv.ML_PREDICTION_COUNT: 3,
            semconv.ML_PREDICTION_ID: ["a", "b", "c"],
            semconv.ML_PREDICTION_LABEL: ["x", "y", "x"],
            semconv.ML_PREDICTION_SCORE: [0.5, math.nan, 1.0],
            semconv.ML_FEATURE_PREFIX + "age": ["31", "42", "57"],
            semconv.ML_SEGMENT_PREFIX + "tenant": "acme",
        },
    ) as span:
        span_id = f"{span.get_span_context().span_id:016x}"
    tables = convert_traces([request_of(exporter)])
    predictions = tables[rows.ML_PREDICTIONS]
    assert predictions.row_count == 3
    assert predictions.columns["PredictionId"] == ["a", "b", "c"]
    assert predictions.columns["PredictedLabel"] == ["x", "y", "x"]
    assert predictions.columns["Score"] == [0.5, None, 1.0]
    assert predictions.columns["PredictedValue"] == [None, None, None]
    assert predictions.columns["Timestamp"] == [T0] * 3
    assert predictions.columns["SpanId"] == [span_id] * 3
    assert predictions.columns["Features"] == [{"age": "31"}, {"age": "42"}, {"age": "57"}]
    assert predictions.columns["Segments"] == [{"tenant": "acme"}] * 3
    assert predictions.columns["Task"] == ["multiclass_classification"] * 3
    spans = tables[rows.OTEL_TRACES]
    assert spans.row_count == 1
    assert spans.columns["SpanAttributes"][0][semconv.ML_PREDICTION_ID] == '["a","b","c"]'


def test_buffered_batch_rows_take_each_prediction_own_time_status_and_ids(
    tracer_and_spans: Any,
) -> None:
    tracer, exporter = tracer_and_spans
    with tracer.start_as_current_span(
        "predict fraud",
        start_time=T0,
        attributes={
            semconv.ML_MODEL_NAME: "fraud",
            semconv.ML_PREDICTION_COUNT: 2,
            semconv.ML_PREDICTION_ID: ["p1", "p2"],
            semconv.ML_PREDICTION_VALUE: [3.5, 7.0],
            semconv.ML_PREDICTION_TIMESTAMP: [T0 + 10, T0 + 20],
            semconv.ML_PREDICTION_DURATION: [0.004, 0.25],
            semconv.ML_PREDICTION_STATUS: ["ok", "error"],
            semconv.ML_PREDICTION_TRACE_ID: ["AB" * 16, ""],
            semconv.ML_PREDICTION_SPAN_ID: ["cd" * 8, ""],
        },
    ) as span:
        own = span.get_span_context()
    predictions = convert_traces([request_of(exporter)])[rows.ML_PREDICTIONS]
    assert predictions.columns["Timestamp"] == [T0 + 10, T0 + 20]
    assert predictions.columns["LatencyMs"] == [4.0, 250.0]
    assert predictions.columns["StatusCode"] == ["ok", "error"]
    assert predictions.columns["PredictedValue"] == [3.5, 7.0]
    assert predictions.columns["Score"] == [None, None]
    # A prediction that ran in no trace links to the batch span that carried it.
    assert predictions.columns["TraceId"] == ["ab" * 16, f"{own.trace_id:032x}"]
    assert predictions.columns["SpanId"] == ["cd" * 8, f"{own.span_id:016x}"]


def test_label_span_becomes_label_rows_not_a_prediction(tracer_and_spans: Any) -> None:
    tracer, exporter = tracer_and_spans
    with tracer.start_as_current_span(
        semconv.LABEL_EVENT_NAME,
        start_time=T0,
        attributes={
            semconv.ML_MODEL_NAME: "fraud",
            semconv.ML_PREDICTION_ID: ["p1", "p2"],
            semconv.ML_LABEL: ["1", "0"],
            "source": "chargebacks",
        },
    ):
        pass
    with tracer.start_as_current_span(
        semconv.LABEL_EVENT_NAME,
        start_time=T0 + 1,
        attributes={
            semconv.ML_MODEL_NAME: "price",
            semconv.ML_PREDICTION_ID: "p9",
            semconv.ML_LABEL_VALUE: 42,
        },
    ):
        pass
    tables = convert_traces([request_of(exporter)])
    assert tables[rows.ML_PREDICTIONS].row_count == 0
    labels = tables[rows.ML_LABELS]
    assert [row(labels, i) for i in range(labels.row_count)] == [
        {
            "Timestamp": T0,
            "ServiceName": "scoring",
            "ModelName": "fraud",
            "PredictionId": "p1",
            "ActualLabel": "1",
            "ActualValue": None,
            "Attributes": {"source": "chargebacks"},
        },
        {
            "Timestamp": T0,
            "ServiceName": "scoring",
            "ModelName": "fraud",
            "PredictionId": "p2",
            "ActualLabel": "0",
            "ActualValue": None,
            "Attributes": {"source": "chargebacks"},
        },
        {
            "Timestamp": T0 + 1,
            "ServiceName": "scoring",
            "ModelName": "price",
            "PredictionId": "p9",
            "ActualLabel": "",
            "ActualValue": 42.0,
            "Attributes": {},
        },
    ]


def test_unvalidated_mismatched_arrays_are_converted_without_raising() -> None:
    span = Span(trace_id=b"\1" * 16, span_id=b"\2" * 8, name="predict x")
    span.attributes.extend(
        [
            KeyValue(key=semconv.ML_MODEL_NAME, value=AnyValue(string_value="x")),
            KeyValue(key=semconv.ML_PREDICTION_ID, value=_array("a", "b", "c")),
            KeyValue(key=semconv.ML_PREDICTION_SCORE, value=_array("high", 0.5)),
        ]
    )
    request = ExportTraceServiceRequest()
    request.resource_spans.add().scope_spans.add().spans.append(span)
    predictions = convert_traces([request])[rows.ML_PREDICTIONS]
    assert predictions.columns["PredictionId"] == ["a", "b", "c"]
    assert predictions.columns["Score"] == [None, 0.5, None]


def test_predictions_without_ids_get_stable_ones_from_their_span() -> None:
    span = Span(trace_id=b"\1" * 16, span_id=b"\2" * 8, name="predict x")
    span.attributes.extend(
        [
            KeyValue(key=semconv.ML_MODEL_NAME, value=AnyValue(string_value="x")),
            KeyValue(key=semconv.ML_PREDICTION_LABEL, value=_array("a", "b")),
        ]
    )
    request = ExportTraceServiceRequest()
    request.resource_spans.add().scope_spans.add().spans.append(span)
    ids = convert_traces([request])[rows.ML_PREDICTIONS].columns["PredictionId"]
    assert ids == ["0202020202020202-0", "0202020202020202-1"]


def _array(*items: Any) -> AnyValue:
    values = [
        AnyValue(string_value=item) if isinstance(item, str) else AnyValue(double_value=item)
        for item in items
    ]
    return AnyValue(array_value=ArrayValue(values=values))


def test_several_requests_of_one_flush_are_one_set_of_columns(tracer_and_spans: Any) -> None:
    tracer, exporter = tracer_and_spans
    for index in range(3):
        with tracer.start_as_current_span(
            "predict m", attributes={"ml.model.name": "m", "ml.prediction.id": f"p{index}"}
        ):
            pass
    spans = exporter.get_finished_spans()
    requests = [encode_spans([span]) for span in spans]
    predictions = convert_traces(requests)[rows.ML_PREDICTIONS]
    assert predictions.columns["PredictionId"] == ["p0", "p1", "p2"]


# --- attributes --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "python", "text"),
    [
        (AnyValue(string_value="é"), "é", "é"),
        (AnyValue(bool_value=True), True, "true"),
        (AnyValue(int_value=-7), -7, "-7"),
        (AnyValue(double_value=0.25), 0.25, "0.25"),
        (AnyValue(double_value=3.0), 3.0, "3"),
        (AnyValue(bytes_value=b"\x00\xff"), b"\x00\xff", "AP8="),
        (AnyValue(), None, ""),
        (_array("a", 1.5), ["a", 1.5], '["a",1.5]'),
        (
            AnyValue(
                kvlist_value=KeyValueList(
                    values=[KeyValue(key="k", value=AnyValue(bytes_value=b"\x01"))]
                )
            ),
            {"k": b"\x01"},
            '{"k":"AQ=="}',
        ),
    ],
)
def test_any_value_and_its_string_form(value: AnyValue, python: Any, text: str) -> None:
    assert any_value(value) == python
    assert format_value(any_value(value)) == text


def test_array_with_default_valued_items_of_another_kind_keeps_each_kind() -> None:
    value = AnyValue(
        array_value=ArrayValue(
            values=[AnyValue(int_value=5), AnyValue(string_value="x"), AnyValue(int_value=0)]
        )
    )
    assert any_value(value) == [5, "x", 0]


# --- logs --------------------------------------------------------------------------------------
def test_log_records_fill_otel_logs_and_label_events_fill_ml_labels() -> None:
    exporter = InMemoryLogRecordExporter()
    provider = LoggerProvider(resource=RESOURCE)
    provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    logger = provider.get_logger("inferwatch", "0.1.0")
    logger.emit(
        event_name=semconv.LABEL_EVENT_NAME,
        timestamp=T0,
        observed_timestamp=T0 + 9,
        body="truth",
        attributes={
            semconv.ML_MODEL_NAME: "fraud",
            semconv.ML_PREDICTION_ID: "p1",
            semconv.ML_LABEL: "1",
            "source": "review",
        },
    )
    logger.emit(  # the older convention: the event name as an attribute; no record time
        observed_timestamp=T0 + 20,
        attributes={
            "event.name": semconv.LABEL_EVENT_NAME,
            semconv.ML_MODEL_NAME: "price",
            semconv.ML_PREDICTION_ID: "p2",
            semconv.ML_LABEL_VALUE: 9.5,
        },
    )
    logger.emit(timestamp=T0 + 30, body={"msg": "hello", "n": 2}, severity_text="INFO")
    provider.shutdown()
    tables = convert_logs([encode_logs(exporter.get_finished_logs())])
    logs = tables[rows.OTEL_LOGS]
    first = row(logs, 0)
    assert first["Timestamp"] == T0
    assert first["ServiceName"] == "scoring"
    assert first["Body"] == "truth"
    assert first["EventName"] == "ml.label"
    assert first["ScopeName"] == "inferwatch" and first["ScopeVersion"] == "0.1.0"
    assert first["LogAttributes"]["ml.prediction.id"] == "p1"
    assert first["TraceId"] == "" and first["SpanId"] == "" and first["TraceFlags"] == 0
    assert logs.columns["Timestamp"][1] == T0 + 20
    assert logs.columns["Body"][2] == '{"msg":"hello","n":2}'
    assert logs.columns["SeverityText"][2] == "INFO"
    labels = tables[rows.ML_LABELS]
    assert [row(labels, i) for i in range(labels.row_count)] == [
        {
            "Timestamp": T0,
            "ServiceName": "scoring",
            "ModelName": "fraud",
            "PredictionId": "p1",
            "ActualLabel": "1",
            "ActualValue": None,
            "Attributes": {"source": "review"},
        },
        {
            "Timestamp": T0 + 20,
            "ServiceName": "scoring",
            "ModelName": "price",
            "PredictionId": "p2",
            "ActualLabel": "",
            "ActualValue": 9.5,
            "Attributes": {},
        },
    ]


def test_labels_from_logs_and_spans_merge_into_one_table(tracer_and_spans: Any) -> None:
    tracer, exporter = tracer_and_spans
    with tracer.start_as_current_span(
        "ml.label", attributes={"ml.model.name": "m", "ml.prediction.id": "s", "ml.label": "1"}
    ):
        pass
    logs_exporter = InMemoryLogRecordExporter()
    provider = LoggerProvider(resource=RESOURCE)
    provider.add_log_record_processor(SimpleLogRecordProcessor(logs_exporter))
    provider.get_logger("t").emit(
        event_name="ml.label",
        attributes={"ml.model.name": "m", "ml.prediction.id": "l", "ml.label": "0"},
    )
    provider.shutdown()
    merged = merge_tables(
        convert_traces([request_of(exporter)]),
        convert_logs([encode_logs(logs_exporter.get_finished_logs())]),
    )
    assert sorted(merged) == [rows.ML_LABELS, rows.OTEL_LOGS, rows.OTEL_TRACES]
    assert merged[rows.ML_LABELS].columns["PredictionId"] == ["s", "l"]


# --- metrics -----------------------------------------------------------------------------------
def test_metric_points_of_every_type_fill_their_tables() -> None:
    reader = InMemoryMetricReader()
    view = View(instrument_name="latency.exp", aggregation=ExponentialBucketHistogramAggregation())
    provider = MeterProvider(resource=RESOURCE, metric_readers=[reader], views=[view])
    meter = provider.get_meter("inferwatch", "0.1.0")
    meter.create_counter("ml.predictions", unit="{prediction}").add(3, {"ml.model.name": "m"})
    meter.create_gauge("queue.depth").set(7, {"queue": "a"})
    histogram = meter.create_histogram(
        "latency", unit="s", explicit_bucket_boundaries_advisory=[1, 2]
    )
    for value in (0.5, 1.5, 5.0):
        histogram.record(value)
    meter.create_histogram("latency.exp").record(4.0)
    request = encode_metrics(reader.get_metrics_data())
    provider.shutdown()
    tables = convert_metrics([request, _summary_request()])

    total = row(tables[rows.OTEL_METRICS_SUM], 0)
    assert total["MetricName"] == "ml.predictions" and total["MetricUnit"] == "{prediction}"
    assert total["Value"] == 3.0 and total["IsMonotonic"] is True
    assert total["AggregationTemporality"] == 2  # cumulative
    assert total["Attributes"] == {"ml.model.name": "m"}
    assert total["ServiceName"] == "scoring" and total["ScopeName"] == "inferwatch"
    assert total["TimeUnix"] >= total["StartTimeUnix"] > 0
    assert total["Exemplars.Value"] == total["Exemplars.TraceId"] == []

    gauge = row(tables[rows.OTEL_METRICS_GAUGE], 0)
    assert gauge["Value"] == 7.0 and gauge["Attributes"] == {"queue": "a"}

    latency = row(tables[rows.OTEL_METRICS_HISTOGRAM], 0)
    assert latency["Count"] == 3 and latency["Sum"] == 7.0
    assert latency["BucketCounts"] == [1, 1, 1] and latency["ExplicitBounds"] == [1.0, 2.0]
    assert latency["Min"] == 0.5 and latency["Max"] == 5.0

    exponential = row(tables[rows.OTEL_METRICS_EXPONENTIAL_HISTOGRAM], 0)
    assert exponential["Count"] == 1 and exponential["Sum"] == 4.0
    assert sum(exponential["PositiveBucketCounts"]) == 1
    assert sum(exponential["NegativeBucketCounts"]) == 0 and exponential["ZeroCount"] == 0

    summary = row(tables[rows.OTEL_METRICS_SUMMARY], 0)
    assert summary["MetricName"] == "rpc.duration" and summary["Count"] == 4
    assert summary["ValueAtQuantiles.Quantile"] == [0.5, 0.99]
    assert summary["ValueAtQuantiles.Value"] == [0.1, 0.9]


def _summary_request() -> ExportMetricsServiceRequest:
    request = ExportMetricsServiceRequest()
    metric = request.resource_metrics.add().scope_metrics.add().metrics.add(name="rpc.duration")
    point = metric.summary.data_points.add(time_unix_nano=T0, count=4, sum=1.5)
    point.quantile_values.add(quantile=0.5, value=0.1)
    point.quantile_values.add(quantile=0.99, value=0.9)
    return request


# --- the OTLP/JSON examples of opentelemetry-proto -----------------------------------------------
def test_otlp_json_examples_convert_to_rows() -> None:
    trace = decode_json_request(Signal.TRACES, (EXAMPLES / "trace.json").read_bytes())
    traces = convert_traces([trace])[rows.OTEL_TRACES]
    assert row(traces, 0) | {"ResourceAttributes": None} == {
        "Timestamp": 1544712660000000000,
        "TraceId": "5b8efff798038103d269b633813fc60c",
        "SpanId": "eee19b7ec3c1b174",
        "ParentSpanId": "eee19b7ec3c1b173",
        "TraceState": "",
        "SpanName": "I'm a server span",
        "SpanKind": "Server",
        "ServiceName": "my.service",
        "ResourceAttributes": None,
        "ScopeName": "my.library",
        "ScopeVersion": "1.0.0",
        "SpanAttributes": {"my.span.attr": "some value"},
        "Duration": 1_000_000_000,
        "StatusCode": "Unset",
        "StatusMessage": "",
        "Events.Timestamp": [],
        "Events.Name": [],
        "Events.Attributes": [],
        "Links.TraceId": [],
        "Links.SpanId": [],
        "Links.TraceState": [],
        "Links.Attributes": [],
    }
    logs = decode_json_request(Signal.LOGS, (EXAMPLES / "logs.json").read_bytes())
    events = decode_json_request(Signal.LOGS, (EXAMPLES / "events.json").read_bytes())
    log_rows = convert_logs([logs, events])[rows.OTEL_LOGS]
    assert log_rows.columns["LogAttributes"][0] == {
        "string.attribute": "some string",
        "boolean.attribute": "true",
        "int.attribute": "10",
        "double.attribute": "637.704",
        "array.attribute": '["many","values"]',
        "map.attribute": '{"some.map.key":"some value"}',
    }
    assert log_rows.columns["EventName"] == ["", "browser.page_view"]
    assert log_rows.columns["SeverityNumber"] == [10, 9]
    metrics = decode_json_request(Signal.METRICS, (EXAMPLES / "metrics.json").read_bytes())
    counts = {name: table.row_count for name, table in convert_metrics([metrics]).items()}
    assert counts == {
        rows.OTEL_METRICS_GAUGE: 1,
        rows.OTEL_METRICS_SUM: 1,
        rows.OTEL_METRICS_HISTOGRAM: 1,
        rows.OTEL_METRICS_EXPONENTIAL_HISTOGRAM: 1,
        rows.OTEL_METRICS_SUMMARY: 0,  # the examples have no summary
    }


# --- the row contract --------------------------------------------------------------------------
def test_table_columns_transpose_and_extend() -> None:
    labels = rows.TableColumns.from_rows(rows.ML_LABELS, [(1, "s", "m", "p", "1", None, {})])
    labels.extend(rows.TableColumns.from_rows(rows.ML_LABELS, [(2, "s", "m", "q", "", 0.5, {})]))
    assert labels.row_count == 2
    assert labels.column_data()[3] == ["p", "q"]
    with pytest.raises(ValueError, match="cannot extend ml_labels with rows of otel_logs"):
        labels.extend(rows.TableColumns.empty(rows.OTEL_LOGS))


def test_base64_is_standard_padding() -> None:
    assert format_value(b"\xfb\xff") == base64.b64encode(b"\xfb\xff").decode()

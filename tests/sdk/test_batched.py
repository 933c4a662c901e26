"""batched=True: calls go through the hot-path buffer and leave as batch prediction spans."""

from __future__ import annotations

import json
import math
import threading
from collections import Counter

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import SpanLimits, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import NonRecordingSpan, StatusCode
from otlp_receiver import OtlpReceiver, run_python
from sdk_telemetry import Telemetry

import inferwatch._buffer as buffer_module
from inferwatch import last_prediction_id, monitor, semconv
from inferwatch._buffer import PredictionBuffer, set_valid_attributes
from inferwatch._ids import prediction_id_time_ns


def test_buffered_calls_become_one_batch_span_with_per_prediction_arrays(
    model: str, telemetry: Telemetry
) -> None:
    @monitor(model=model, version="1", task="binary_classification", batched=True)
    def predict(x: float) -> float:
        return x

    ids = []
    tracer = trace.get_tracer("test")
    with tracer.start_as_current_span("request") as request:
        predict(0.9)
        ids.append(last_prediction_id())
    predict(0.1)
    ids.append(last_prediction_id())

    span = telemetry.span()
    attributes = dict(span.attributes or {})
    assert span.name == f"predict {model}"
    assert attributes[semconv.ML_PREDICTION_COUNT] == 2
    assert list(attributes[semconv.ML_PREDICTION_ID]) == ids
    assert list(attributes[semconv.ML_PREDICTION_LABEL]) == ["1", "0"]
    assert list(attributes[semconv.ML_PREDICTION_SCORE]) == pytest.approx([0.9, 0.1])
    assert semconv.ML_PREDICTION_STATUS not in attributes, "all ok: the array is left out"
    timestamps = list(attributes[semconv.ML_PREDICTION_TIMESTAMP])
    assert timestamps[0] <= timestamps[1]
    assert span.start_time == timestamps[0]
    assert all(d >= 0 for d in attributes[semconv.ML_PREDICTION_DURATION])
    request_ctx = request.get_span_context()
    assert list(attributes[semconv.ML_PREDICTION_TRACE_ID]) == [
        format(request_ctx.trace_id, "032x"),
        "",
    ]
    assert attributes[semconv.ML_PREDICTION_SPAN_ID][0] == format(request_ctx.span_id, "016x")


def test_buffered_errors_are_reraised_and_marked_per_prediction(
    model: str, telemetry: Telemetry
) -> None:
    @monitor(model=model, task="regression", batched=True)
    def predict(x: float) -> float:
        if x < 0:
            raise ValueError("negative")
        return x

    predict(1.0)
    with pytest.raises(ValueError, match="negative"):
        predict(-1.0)
    attributes = dict(telemetry.span().attributes or {})
    assert list(attributes[semconv.ML_PREDICTION_STATUS]) == ["ok", "error"]
    errors = telemetry.metric_points(semconv.METRIC_ERRORS)
    assert sum(p.value for p in errors) == 1
    counted = telemetry.metric_points(semconv.METRIC_PREDICTIONS)
    assert sum(p.value for p in counted) == 2


def test_segments_split_buffered_calls_into_one_span_per_segment(
    model: str, telemetry: Telemetry
) -> None:
    @monitor(model=model, batched=True, segments=lambda region: {"region": region})
    def predict(region: str) -> int:
        return 1

    for region in ["eu", "us", "eu"]:
        predict(region)
    counts = {
        s.attributes["ml.segment.region"]: s.attributes[semconv.ML_PREDICTION_COUNT]
        for s in telemetry.spans()
    }
    assert counts == {"eu": 2, "us": 1}


def test_a_batch_call_in_batched_mode_keeps_its_predictions(
    model: str, telemetry: Telemetry
) -> None:
    @monitor(model=model, task="regression", batched=True)
    def predict(n: int) -> list[float]:
        return [float(i) for i in range(n)]

    predict(3)
    assert len(last_prediction_id()) == 3
    predict(2)
    attributes = dict(telemetry.span().attributes or {})
    assert list(attributes[semconv.ML_PREDICTION_VALUE]) == [0.0, 1.0, 2.0, 0.0, 1.0]
    assert len(set(attributes[semconv.ML_PREDICTION_TIMESTAMP])) == 2


def test_full_buffer_drops_the_oldest_and_counts_them(
    model: str, telemetry: Telemetry, monkeypatch: pytest.MonkeyPatch
) -> None:
    small = PredictionBuffer(max_entries=3, interval=3600, max_predictions=10_000)
    monkeypatch.setattr(buffer_module, "_buffer", small)

    @monitor(model=model, task="regression", batched=True)
    def predict(x: float) -> float:
        return x

    captured = []
    for i in range(5):
        predict(float(i))
        captured.append(last_prediction_id())
    assert small.dropped == 2
    assert small.flush() == 3
    attributes = dict(telemetry.span().attributes or {})
    assert list(attributes[semconv.ML_PREDICTION_ID]) == captured[2:]


def test_a_buffered_id_carries_the_millisecond_its_call_started(
    model: str, telemetry: Telemetry
) -> None:
    @monitor(model=model, task="regression", batched=True)
    def predict(x: float) -> float:
        return x

    predict(1.0)
    attributes = dict(telemetry.span().attributes or {})
    (started,) = attributes[semconv.ML_PREDICTION_TIMESTAMP]
    assert prediction_id_time_ns(last_prediction_id()) == started // 1_000_000 * 1_000_000  # type: ignore[arg-type]


def test_single_batch_and_failed_calls_in_one_span_stay_aligned(
    model: str, telemetry: Telemetry
) -> None:
    @monitor(model=model, batched=True)
    def predict(output: object) -> object:
        if output is None:
            raise KeyError("no output")
        return output

    ids: list[str] = []
    for output in ["cat", [0.2, 0.9], None, 0.7]:
        try:
            predict(output)
        except KeyError:
            pass
        last = last_prediction_id()
        ids.extend(last if isinstance(last, list) else [last])  # type: ignore[arg-type]
    span = telemetry.span()
    attributes = dict(span.attributes or {})
    assert attributes[semconv.ML_PREDICTION_COUNT] == 5
    assert attributes[semconv.ML_PREDICTION_ID] == tuple(ids)
    assert attributes[semconv.ML_PREDICTION_LABEL] == ("cat", "0", "1", "", "1")
    scores = attributes[semconv.ML_PREDICTION_SCORE]
    assert math.isnan(scores[0]) and math.isnan(scores[3])
    assert (scores[1], scores[2], scores[4]) == (0.2, 0.9, 0.7)
    assert attributes[semconv.ML_PREDICTION_STATUS] == ("ok", "ok", "ok", "error", "ok")
    timestamps = attributes[semconv.ML_PREDICTION_TIMESTAMP]
    assert timestamps[1] == timestamps[2] and len(set(timestamps)) == 4  # one batch call
    assert semconv.ML_PREDICTION_VALUE not in attributes
    assert span.status.status_code is StatusCode.ERROR
    errors = telemetry.metric_points(semconv.METRIC_ERRORS)
    assert [dict(p.attributes)[semconv.METRIC_ATTR_ERROR_TYPE] for p in errors] == ["KeyError"]
    counted = {
        p.attributes[semconv.METRIC_ATTR_STATUS]: p.value
        for p in telemetry.metric_points(semconv.METRIC_PREDICTIONS)
    }
    assert counted == {"ok": 4, "error": 1}


def test_buffered_calls_of_two_models_become_one_span_each(model: str) -> None:
    first = monitor(model=model + "-a", task="regression", batched=True)(lambda x: x)
    second = monitor(model=model + "-b", task="regression", batched=True)(lambda x: x)
    for x in range(6):
        (first if x % 3 else second)(float(x))
    assert [
        list(span.attributes[semconv.ML_PREDICTION_VALUE])
        for span in Telemetry(model + "-a").spans()
    ] == [[1.0, 2.0, 4.0, 5.0]]
    assert [
        list(span.attributes[semconv.ML_PREDICTION_VALUE])
        for span in Telemetry(model + "-b").spans()
    ] == [[0.0, 3.0]]


def test_calls_buffered_while_flushing_are_neither_lost_nor_repeated(
    model: str, telemetry: Telemetry, monkeypatch: pytest.MonkeyPatch
) -> None:
    buffer = PredictionBuffer(max_entries=100_000, interval=3600, max_predictions=10**9)
    monkeypatch.setattr(buffer_module, "_buffer", buffer)

    @monitor(model=model, task="regression", batched=True)
    def predict(x: float) -> float:
        return x

    made: list[str] = []

    def calls() -> None:
        for i in range(2_000):
            predict(float(i))
            made.append(last_prediction_id())  # type: ignore[arg-type]

    threads = [threading.Thread(target=calls) for _ in range(4)]
    for thread in threads:
        thread.start()
    exported = 0
    while any(thread.is_alive() for thread in threads):
        exported += buffer.flush()
    exported += buffer.flush()
    assert exported == len(made) == 8_000
    sent = [i for span in telemetry.spans() for i in span.attributes[semconv.ML_PREDICTION_ID]]
    assert sorted(sent) == sorted(made)
    assert len(set(sent)) == len(sent)


def _span_with(limits: SpanLimits, arrays: dict) -> dict:
    exporter = InMemorySpanExporter()
    provider = TracerProvider(span_limits=limits)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    span = provider.get_tracer("test").start_span("predict m", attributes={"ml.model.name": "m"})
    set_valid_attributes(span, arrays)
    span.end()
    (finished,) = exporter.get_finished_spans()
    return dict(finished.attributes or {})


ARRAYS = {
    semconv.ML_PREDICTION_ID: ("id-one", "id-two"),
    semconv.ML_PREDICTION_TIMESTAMP: (1, 2),
    semconv.ML_PREDICTION_DURATION: (0.5, 0.25),
}


def test_ready_arrays_reach_the_span_as_set_attributes_would_put_them() -> None:
    attributes = _span_with(SpanLimits(), ARRAYS)
    assert attributes == {"ml.model.name": "m", **ARRAYS}
    assert all(type(value) is tuple for key, value in attributes.items() if key in ARRAYS)


def test_configured_span_limits_still_apply_to_ready_arrays() -> None:
    cut = _span_with(SpanLimits(max_span_attribute_length=3), ARRAYS)
    assert cut[semconv.ML_PREDICTION_ID] == ("id-", "id-")
    few = _span_with(SpanLimits(max_span_attributes=2), ARRAYS)
    assert list(few) == [semconv.ML_PREDICTION_TIMESTAMP, semconv.ML_PREDICTION_DURATION]


def test_ready_arrays_on_a_non_recording_span_are_ignored() -> None:
    span = NonRecordingSpan(trace.INVALID_SPAN_CONTEXT)
    set_valid_attributes(span, ARRAYS)  # no error, nothing to record
    assert not span.is_recording()


AT_EXIT = """
import json, sys
from inferwatch import configure, last_prediction_id, monitor

configure(endpoint=sys.argv[1], batched=True)

@monitor(model="exit-model", task="binary_classification")
def predict(x):
    return x

ids = []
for i in range(2_500):  # more than one export chunk (1,000)
    predict(i / 2_500)
    ids.append(last_prediction_id())
print(json.dumps(ids))
"""


def test_buffered_calls_all_reach_the_collector_at_a_normal_exit() -> None:
    with OtlpReceiver() as receiver:
        done = run_python(AT_EXIT, [receiver.http_endpoint])
        spans = [span for span in receiver.spans() if span.name == "predict exit-model"]
    made = json.loads(done.stdout)
    sent = [i for span in spans for i in span.attributes[semconv.ML_PREDICTION_ID]]  # type: ignore[attr-defined]
    assert sent == made
    labels = [label for span in spans for label in span.attributes[semconv.ML_PREDICTION_LABEL]]  # type: ignore[attr-defined]
    assert labels == ["0"] * 1_250 + ["1"] * 1_250
    scores = [x for span in spans for x in span.attributes[semconv.ML_PREDICTION_SCORE]]  # type: ignore[attr-defined]
    assert scores == [i / 2_500 for i in range(2_500)]
    for span in spans:
        timestamps = span.attributes[semconv.ML_PREDICTION_TIMESTAMP]
        assert list(timestamps) == sorted(timestamps)  # type: ignore[call-overload]
        assert len(timestamps) == span.attributes[semconv.ML_PREDICTION_COUNT]  # type: ignore[arg-type]


FORK = """
import json, os, sys, warnings
from inferwatch import configure, last_prediction_id, monitor, shutdown

configure(endpoint=sys.argv[1], batched=True)

@monitor(model="fork-model", task="regression")
def predict(x):
    return x

def calls(n):
    made = []
    for i in range(n):
        predict(float(i))
        made.append(last_prediction_id())
    return made

before = calls(5)  # waiting in the buffer when the process forks
read_end, write_end = os.pipe()
with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)  # fork with threads, Python >= 3.12
    pid = os.fork()
if pid == 0:
    child = calls(3)
    shutdown()
    os.write(write_end, json.dumps(child).encode())
    os._exit(0)
os.close(write_end)
with os.fdopen(read_end) as pipe:
    child = json.loads(pipe.read())
os.waitpid(pid, 0)
print(json.dumps({"parent": before + calls(2), "child": child}))
"""


def test_a_forked_child_exports_its_own_buffered_calls_and_not_the_parents() -> None:
    with OtlpReceiver() as receiver:
        done = run_python(FORK, [receiver.http_endpoint])
        spans = [span for span in receiver.spans() if span.name == "predict fork-model"]
    made = json.loads(done.stdout)
    sent = Counter(i for span in spans for i in span.attributes[semconv.ML_PREDICTION_ID])  # type: ignore[attr-defined]
    assert sorted(sent) == sorted(made["parent"] + made["child"])
    assert set(sent.values()) == {1}

"""batched=True: calls go through the hot-path buffer and leave as batch prediction spans."""

from __future__ import annotations

import pytest
from opentelemetry import trace
from sdk_telemetry import Telemetry

from inferwatch import last_prediction_id, monitor, semconv
from inferwatch._buffer import PredictionBuffer


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
    import inferwatch._buffer as buffer_module

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

"""@monitor on every kind of callable: spans, attributes, ids, exceptions, metrics."""

from __future__ import annotations

import asyncio
import inspect
import logging
import threading

import pytest
from opentelemetry import trace
from opentelemetry.trace import StatusCode
from sdk_telemetry import Telemetry

from inferwatch import last_prediction_id, monitor, semconv
from inferwatch._ids import prediction_id_time_ns


def test_single_call_is_one_span_with_the_prediction_attributes(
    model: str, telemetry: Telemetry
) -> None:
    @monitor(model=model, version="3.1", task="binary_classification")
    def predict(features: dict) -> float:
        return 0.8

    assert predict({"amount": 3}) == 0.8
    span = telemetry.span()
    attributes = dict(span.attributes or {})
    assert span.name == f"predict {model}"
    assert attributes[semconv.ML_MODEL_VERSION] == "3.1"
    assert attributes[semconv.ML_TASK] == "binary_classification"
    assert attributes[semconv.ML_PREDICTION_SCORE] == pytest.approx(0.8)
    assert attributes[semconv.ML_PREDICTION_LABEL] == "1"
    assert attributes[semconv.ML_PREDICTION_COUNT] == 1
    assert attributes[semconv.ML_PREDICTION_ID] == last_prediction_id()
    assert prediction_id_time_ns(str(last_prediction_id())) is not None


def test_wrapper_keeps_name_docstring_and_signature(model: str) -> None:
    def predict(features: dict, *, threshold: float = 0.5) -> float:
        """Score a transaction."""
        return 0.1

    wrapped = monitor(model=model)(predict)
    assert wrapped.__name__ == "predict"
    assert wrapped.__doc__ == "Score a transaction."
    assert inspect.signature(wrapped) == inspect.signature(predict)


def test_batch_call_is_one_span_with_parallel_arrays(model: str, telemetry: Telemetry) -> None:
    @monitor(model=model, task="multiclass_classification")
    def predict(rows: list) -> list:
        return ["cat", "dog", "cat"]

    assert predict([1, 2, 3]) == ["cat", "dog", "cat"]
    attributes = dict(telemetry.span().attributes or {})
    ids = list(attributes[semconv.ML_PREDICTION_ID])
    assert list(attributes[semconv.ML_PREDICTION_LABEL]) == ["cat", "dog", "cat"]
    assert attributes[semconv.ML_PREDICTION_COUNT] == 3
    assert len(set(ids)) == 3
    assert last_prediction_id() == ids
    assert ids == sorted(ids), "generated ids are time-ordered"


def test_predict_proba_matrix_maps_argmax_through_classes(model: str, telemetry: Telemetry) -> None:
    np = pytest.importorskip("numpy")

    @monitor(model=model, task="multiclass_classification", classes=["a", "b", "c"])
    def predict(rows: object) -> object:
        return np.array([[0.1, 0.7, 0.2], [0.6, 0.3, 0.1]])

    predict(None)
    attributes = dict(telemetry.span().attributes or {})
    assert list(attributes[semconv.ML_PREDICTION_LABEL]) == ["b", "a"]
    assert list(attributes[semconv.ML_PREDICTION_SCORE]) == pytest.approx([0.7, 0.6])


async def test_async_calls_in_many_tasks_never_cross_ids(model: str, telemetry: Telemetry) -> None:
    @monitor(model=model, task="regression")
    async def predict(x: float) -> float:
        await asyncio.sleep(0.001 * (x % 3))
        return x * 2

    async def one(x: float) -> tuple[float, object]:
        result = await predict(x)
        return result, last_prediction_id()

    results = await asyncio.gather(*(one(float(i)) for i in range(50)))
    by_id = {
        span.attributes[semconv.ML_PREDICTION_ID]: span.attributes[semconv.ML_PREDICTION_VALUE]
        for span in telemetry.spans()
    }
    assert len(by_id) == 50
    for result, pid in results:
        assert by_id[pid] == result


def test_threads_see_only_their_own_last_prediction_id(model: str, telemetry: Telemetry) -> None:
    @monitor(model=model, task="regression")
    def predict(x: float) -> float:
        return x

    seen: dict[float, object] = {}

    def worker(x: float) -> None:
        for _ in range(20):
            predict(x)
            seen[x] = last_prediction_id()

    threads = [threading.Thread(target=worker, args=(float(i),)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    by_id = {
        s.attributes[semconv.ML_PREDICTION_ID]: s.attributes[semconv.ML_PREDICTION_VALUE]
        for s in telemetry.spans()
    }
    assert len(by_id) == 160
    assert all(by_id[pid] == x for x, pid in seen.items())


def test_generator_outputs_are_one_batch_and_the_span_ends_with_iteration(
    model: str, telemetry: Telemetry
) -> None:
    @monitor(model=model, task="multiclass_classification")
    def stream(n: int):
        for i in range(n):
            yield f"class-{i}"
        return "done"

    iterator = stream(3)
    assert next(iterator) == "class-0"
    assert telemetry.spans() == []
    assert list(iterator) == ["class-1", "class-2"]
    attributes = dict(telemetry.span().attributes or {})
    assert list(attributes[semconv.ML_PREDICTION_LABEL]) == ["class-0", "class-1", "class-2"]


def test_generator_closed_early_records_what_it_yielded(model: str, telemetry: Telemetry) -> None:
    @monitor(model=model, task="multiclass_classification")
    def stream():
        yield "a"
        yield "b"
        yield "c"

    iterator = stream()
    next(iterator)
    iterator.close()
    assert list(telemetry.span().attributes[semconv.ML_PREDICTION_LABEL]) == ["a"]


def test_generator_send_and_return_value_pass_through(model: str) -> None:
    @monitor(model=model, task="regression")
    def doubler():
        total = 0.0
        while total < 10:
            total += (yield total) or 0
        return total

    def drive() -> object:
        generator = doubler()
        next(generator)
        try:
            generator.send(4.0)
            generator.send(7.0)
        except StopIteration as stop:
            return stop.value
        return None

    assert drive() == 11.0


async def test_async_generator_outputs_are_one_batch(model: str, telemetry: Telemetry) -> None:
    @monitor(model=model, task="regression")
    async def stream(n: int):
        for i in range(n):
            await asyncio.sleep(0)
            yield float(i)

    assert [x async for x in stream(4)] == [0.0, 1.0, 2.0, 3.0]
    attributes = dict(telemetry.span().attributes or {})
    assert list(attributes[semconv.ML_PREDICTION_VALUE]) == [0.0, 1.0, 2.0, 3.0]


def test_methods_classmethods_and_staticmethods(model: str, telemetry: Telemetry) -> None:
    class Model:
        offset = 1.0

        @monitor(model=model, task="regression")
        def predict(self, x: float) -> float:
            return x + self.offset

        @monitor(model=model, task="regression")
        @classmethod
        def predict_cls(cls, x: float) -> float:
            return x + cls.offset

        @staticmethod
        @monitor(model=model, task="regression")
        def predict_static(x: float) -> float:
            return x

    instance = Model()
    assert instance.predict(1.0) == 2.0
    assert Model.predict_cls(2.0) == 3.0
    assert instance.predict_static(5.0) == 5.0
    values = sorted(s.attributes[semconv.ML_PREDICTION_VALUE] for s in telemetry.spans())
    assert values == [2.0, 3.0, 5.0]


def test_exception_sets_error_status_counts_and_reraises_unchanged(
    model: str, telemetry: Telemetry
) -> None:
    error = KeyError("amount")

    @monitor(model=model)
    def predict(features: dict) -> float:
        raise error

    with pytest.raises(KeyError) as raised:
        predict({})
    assert raised.value is error
    span = telemetry.span()
    assert span.status.status_code is StatusCode.ERROR
    assert [event.name for event in span.events] == ["exception"]
    errors = telemetry.metric_points(semconv.METRIC_ERRORS)
    assert sum(point.value for point in errors) == 1
    assert errors[0].attributes[semconv.METRIC_ATTR_STATUS] == semconv.STATUS_ERROR


def test_output_inferwatch_cannot_read_is_logged_once_and_result_unchanged(
    model: str, telemetry: Telemetry, caplog: pytest.LogCaptureFixture
) -> None:
    sentinel = object()

    @monitor(model=model)
    def predict() -> object:
        return sentinel

    with caplog.at_level(logging.DEBUG, logger="inferwatch"):
        assert predict() is sentinel
        assert predict() is sentinel
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and model in warnings[0].getMessage()
    assert len(telemetry.spans()) == 2


def test_id_callable_gives_business_keys(model: str, telemetry: Telemetry) -> None:
    @monitor(model=model, id=lambda request: request["transaction_id"])
    def predict(request: dict) -> int:
        return 1

    predict({"transaction_id": "tx-42"})
    assert last_prediction_id() == "tx-42"
    assert telemetry.span().attributes[semconv.ML_PREDICTION_ID] == "tx-42"


def test_segments_from_dict_and_callable(model: str, telemetry: Telemetry) -> None:
    @monitor(model=model, segments={"region": "eu"})
    def fixed(x: int) -> int:
        return x

    @monitor(model=model, segments=lambda request: {"tenant": request["tenant"]})
    def dynamic(request: dict) -> int:
        return 0

    fixed(1)
    dynamic({"tenant": "acme"})
    segments = [
        {k: v for k, v in (s.attributes or {}).items() if k.startswith(semconv.ML_SEGMENT_PREFIX)}
        for s in telemetry.spans()
    ]
    assert {"ml.segment.region": "eu"} in segments
    assert {"ml.segment.tenant": "acme"} in segments


def test_feature_capture_is_off_by_default_and_redacts_when_on(
    model: str, telemetry: Telemetry
) -> None:
    @monitor(model=model)
    def plain(features: dict) -> int:
        return 1

    @monitor(model=model, capture_features=True, redact=["ssn"])
    def captured(features: dict) -> int:
        return 1

    plain({"amount": 3.5, "ssn": "123"})
    captured({"amount": 3.5, "country": "x" * 5000, "ssn": "123"})
    first, second = telemetry.spans()
    assert not any(k.startswith(semconv.ML_FEATURE_PREFIX) for k in first.attributes or {})
    attributes = dict(second.attributes or {})
    assert attributes["ml.feature.amount"] == 3.5
    assert len(attributes["ml.feature.country"]) <= 1024
    assert "ml.feature.ssn" not in attributes


def test_feature_names_list_selects_inputs(model: str, telemetry: Telemetry) -> None:
    @monitor(model=model, capture_features=["amount"])
    def predict(amount: float, country: str) -> int:
        return 0

    predict(2.0, country="fr")
    attributes = dict(telemetry.span().attributes or {})
    assert attributes["ml.feature.amount"] == 2.0
    assert "ml.feature.country" not in attributes


def test_prediction_span_is_the_parent_of_spans_inside_the_call(
    model: str, telemetry: Telemetry
) -> None:
    tracer = trace.get_tracer("test")
    inner_parent = {}

    @monitor(model=model)
    def predict() -> int:
        with tracer.start_as_current_span("feature lookup") as inner:
            inner_parent["id"] = inner.parent.span_id if inner.parent else None
        return 1

    predict()
    assert inner_parent["id"] == telemetry.span().context.span_id


def test_metric_events_count_predictions_durations_and_scores(
    model: str, telemetry: Telemetry
) -> None:
    @monitor(model=model, version="2", task="binary_classification")
    def predict(n: int) -> list[float]:
        return [0.2] * n

    predict(3)
    predict(2)
    counted = telemetry.metric_points(semconv.METRIC_PREDICTIONS)
    assert sum(p.value for p in counted) == 5
    assert counted[0].attributes[semconv.METRIC_ATTR_VERSION] == "2"
    assert counted[0].attributes[semconv.METRIC_ATTR_STATUS] == semconv.STATUS_OK
    durations = telemetry.metric_points(semconv.METRIC_DURATION)
    assert sum(p.count for p in durations) == 2
    scores = telemetry.metric_points(semconv.METRIC_SCORE)
    assert sum(p.count for p in scores) == 5
    assert sum(p.sum for p in scores) == pytest.approx(1.0)


def test_a_large_batch_records_an_even_sample_of_its_scores(
    model: str, telemetry: Telemetry
) -> None:
    @monitor(model=model, task="binary_classification")
    def predict(n: int) -> list[float]:
        return [i / n for i in range(n)]

    predict(1000)
    counted = telemetry.metric_points(semconv.METRIC_PREDICTIONS)
    assert sum(p.value for p in counted) == 1000
    scores = telemetry.metric_points(semconv.METRIC_SCORE)
    assert 0 < sum(p.count for p in scores) <= 50
    assert sum(p.sum for p in scores) / sum(p.count for p in scores) == pytest.approx(0.5, abs=0.02)


def test_a_failed_call_keeps_its_segments(model: str, telemetry: Telemetry) -> None:
    @monitor(model=model, segments={"region": "eu"})
    def predict() -> int:
        raise RuntimeError("down")

    with pytest.raises(RuntimeError):
        predict()
    assert telemetry.span().attributes["ml.segment.region"] == "eu"

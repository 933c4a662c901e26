"""prediction(): the context-manager form emits the same telemetry as @monitor."""

from __future__ import annotations

import pytest
from opentelemetry.trace import StatusCode
from sdk_telemetry import Telemetry

from inferwatch import last_prediction_id, prediction, semconv


def test_context_manager_records_the_output(model: str, telemetry: Telemetry) -> None:
    with prediction(model=model, version="7", task="binary_classification") as p:
        p.record(0.3)
    attributes = dict(telemetry.span().attributes or {})
    assert attributes[semconv.ML_MODEL_VERSION] == "7"
    assert attributes[semconv.ML_PREDICTION_LABEL] == "0"
    assert attributes[semconv.ML_PREDICTION_ID] == p.prediction_id == last_prediction_id()


def test_context_manager_takes_ids_segments_and_features(model: str, telemetry: Telemetry) -> None:
    with prediction(
        model=model,
        id=["a", "b"],
        segments={"tenant": "t1"},
        features={"amount": 1.5, "ssn": "x"},
        redact=["ssn"],
    ) as p:
        p.record([1, 0])
    attributes = dict(telemetry.span().attributes or {})
    assert list(attributes[semconv.ML_PREDICTION_ID]) == ["a", "b"]
    assert attributes["ml.segment.tenant"] == "t1"
    assert attributes["ml.feature.amount"] == 1.5
    assert "ml.feature.ssn" not in attributes


def test_context_manager_records_exceptions(model: str, telemetry: Telemetry) -> None:
    with pytest.raises(RuntimeError), prediction(model=model):
        raise RuntimeError("model server down")
    assert telemetry.span().status.status_code is StatusCode.ERROR

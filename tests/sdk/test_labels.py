"""record_label: ground truth as ``ml.label`` log records, read back from the in-memory exporter.

The ``telemetry`` and ``model`` fixtures (``conftest.py``) give each test its own model name
and the records emitted for it through the global in-memory logger provider.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import numpy as np
import pytest
from opentelemetry._logs import SeverityNumber
from otlp_receiver import run_python

from inferwatch import _config, semconv
from inferwatch._labels import record_label
from inferwatch._settings import Settings

if TYPE_CHECKING:
    from sdk_telemetry import Telemetry


def test_a_class_label_is_one_record_named_ml_label(telemetry: Telemetry, model: str) -> None:
    before = time.time_ns()
    record_label("pred-1", actual="fraud", model=model)
    (record,) = telemetry.logs()
    assert record.event_name == semconv.LABEL_EVENT_NAME
    assert dict(record.attributes) == {
        semconv.ML_MODEL_NAME: model,
        semconv.ML_PREDICTION_ID: "pred-1",
        semconv.ML_LABEL: "fraud",
    }
    assert record.severity_number == SeverityNumber.INFO
    assert before <= record.timestamp <= time.time_ns()


@pytest.mark.parametrize(
    ("actual", "label"),
    [(1, "1"), (0, "0"), (True, "1"), (False, "0"), ("cat", "cat"), (np.int64(3), "3")],
)
def test_class_actuals_become_the_decorators_label_strings(
    telemetry: Telemetry, model: str, actual: object, label: str
) -> None:
    record_label("pred-1", actual, model=model)
    (record,) = telemetry.logs()
    assert record.attributes[semconv.ML_LABEL] == label
    assert semconv.ML_LABEL_VALUE not in record.attributes


@pytest.mark.parametrize("actual", [212.5, 1.0, np.float32(0.25), np.float64(-3.5)])
def test_float_actuals_are_regression_values(
    telemetry: Telemetry, model: str, actual: object
) -> None:
    record_label("pred-1", actual, model=model)
    (record,) = telemetry.logs()
    assert record.attributes[semconv.ML_LABEL_VALUE] == float(actual)  # type: ignore[arg-type]
    assert semconv.ML_LABEL not in record.attributes


def test_a_list_of_ids_gets_one_record_per_id_in_order(telemetry: Telemetry, model: str) -> None:
    record_label(["a", "b", "c"], np.array([1, 0, 1]), model=model)
    records = telemetry.logs()
    assert [r.attributes[semconv.ML_PREDICTION_ID] for r in records] == ["a", "b", "c"]
    assert [r.attributes[semconv.ML_LABEL] for r in records] == ["1", "0", "1"]


def test_arrays_of_ids_and_values_are_accepted(telemetry: Telemetry, model: str) -> None:
    record_label(np.array([10, 11]), (np.float32(0.5), 2.25), model=model)
    records = telemetry.logs()
    assert [r.attributes[semconv.ML_PREDICTION_ID] for r in records] == ["10", "11"]
    assert [r.attributes[semconv.ML_LABEL_VALUE] for r in records] == [0.5, 2.25]


def test_version_timestamp_and_extra_attributes(telemetry: Telemetry, model: str) -> None:
    extra = {"ml.segment.region": "eu", semconv.ML_MODEL_NAME: "not-this-one"}
    record_label(
        42, 0, model=model, version="3.1", timestamp_ns=1_700_000_000_000_000_000, attributes=extra
    )
    (record,) = telemetry.logs()
    assert record.timestamp == 1_700_000_000_000_000_000
    assert record.attributes[semconv.ML_MODEL_VERSION] == "3.1"
    assert record.attributes[semconv.ML_PREDICTION_ID] == "42"  # business keys as strings
    assert record.attributes["ml.segment.region"] == "eu"
    assert record.attributes[semconv.ML_MODEL_NAME] == model  # the ml.* attributes win


def test_lists_of_different_lengths_raise_with_both_lengths(
    telemetry: Telemetry, model: str
) -> None:
    with pytest.raises(ValueError, match="3 prediction ids but 2 actuals"):
        record_label(["a", "b", "c"], [1, 0], model=model)
    assert telemetry.logs() == []


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), np.float64("nan")])
def test_a_non_finite_actual_raises_and_nothing_is_sent(
    telemetry: Telemetry, model: str, bad: float
) -> None:
    with pytest.raises(ValueError, match="^actual: expected a finite number.*'b'"):
        record_label(["a", "b"], [1.5, bad], model=model)
    assert telemetry.logs() == []


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"prediction_id": "a", "actual": None, "model": "m"}, "^actual: None"),
        ({"prediction_id": "", "actual": 1, "model": "m"}, "^prediction_id: "),
        ({"prediction_id": ["a"], "actual": "x", "model": "m"}, "^actual: expected a list"),
        ({"prediction_id": "a", "actual": 1, "model": ""}, "^model: "),
        ({"prediction_id": "a", "actual": 1, "model": "m", "timestamp_ns": -1}, "^timestamp_ns: "),
    ],
)
def test_bad_arguments_are_named(arguments: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        record_label(**arguments)  # type: ignore[arg-type]


def test_disabled_records_nothing(
    telemetry: Telemetry, model: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_config, "_settings", Settings(enabled=False))
    record_label("pred-1", 1, model=model)
    assert telemetry.logs() == []


# A processor that raises stands for a broken logging pipeline: a fault that cannot be
# caused for real through the public API.
BROKEN_PIPELINE = """
from opentelemetry import _logs
from opentelemetry.sdk._logs import LoggerProvider, LogRecordProcessor
from inferwatch._labels import record_label

class Broken(LogRecordProcessor):
    def on_emit(self, log_record):
        raise RuntimeError("exporter trouble")
    def shutdown(self):
        pass
    def force_flush(self, timeout_millis=30000):
        return True

provider = LoggerProvider()
provider.add_log_record_processor(Broken())
_logs.set_logger_provider(provider)
record_label("pred-1", 1, model="m")
record_label("pred-2", 0, model="m")
print("returned")
"""


def test_trouble_emitting_is_logged_once_never_raised() -> None:
    done = run_python(BROKEN_PIPELINE)
    assert done.stdout.strip() == "returned"
    assert done.stderr.count("could not emit a label record") == 1

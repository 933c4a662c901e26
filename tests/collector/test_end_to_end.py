"""End to end: the inferwatch SDK in another process → ``inferwatch serve`` → rows in chDB.

A sender process (this file run as a script) calls functions decorated with ``@monitor`` —
single calls, a failing call, a batch call, ``batched=True`` calls — and records labels, with
``inferwatch.configure(endpoint=..., protocol=...)`` and the real OpenTelemetry exporters,
once over gRPC and once over HTTP/protobuf, to one running service. It prints what it sent,
ids from ``last_prediction_id()`` included. After a clean stop, the tables must hold exactly
that.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from service_process import read_queries, serving

import inferwatch
from inferwatch import last_prediction_id, monitor, record_label

PROTOCOLS = ("grpc", "http/protobuf")
SENDER_TIMEOUT = 120
FRAUD_ACTUALS = ["1", "0", "0"]
PETS_ACTUALS = ["dog", "dog", "cat"]
PRICE_ACTUALS = [2.0, 5.0, 7.5, 10.0]

QUERIES: dict[str, tuple[str, None]] = {
    "predictions": (
        "SELECT ServiceName, ModelName, ModelVersion, Task, PredictionId, PredictedLabel, Score,"
        " PredictedValue, LatencyMs, StatusCode, toUnixTimestamp64Nano(Timestamp), TraceId,"
        " SpanId, Segments FROM ml_predictions",
        None,
    ),
    "labels": (
        "SELECT ServiceName, ModelName, PredictionId, ActualLabel, ActualValue"
        " FROM ml_labels FINAL",
        None,
    ),
    "spans": (
        "SELECT ServiceName, SpanName, StatusCode, SpanAttributes, Events.Name, TraceId, SpanId,"
        " ScopeName FROM otel_traces",
        None,
    ),
    "logs": ("SELECT ServiceName, EventName, LogAttributes FROM otel_logs", None),
    "sums": (
        "SELECT ServiceName, MetricName, Attributes, Value FROM otel_metrics_sum ORDER BY TimeUnix",
        None,
    ),
    "histograms": (
        "SELECT ServiceName, MetricName, Attributes, Count FROM otel_metrics_histogram"
        " ORDER BY TimeUnix",
        None,
    ),
}


# --- the sender: runs in its own process, as configure() installs global providers ------


@monitor(model="fraud", version="3.1", task="binary_classification", segments={"region": "eu"})
def fraud(probability: float) -> float:
    if probability < 0:
        raise ValueError("a negative probability")
    return probability


@monitor(model="pets", version="2", task="multiclass_classification", classes=["cat", "dog"])
def pets(rows: list[list[float]]) -> list[list[float]]:
    return rows


@monitor(model="price", task="regression", batched=True)
def price(size: float) -> float:
    time.sleep(0.003)  # distinct per-prediction times and durations
    if size < 0:
        raise ValueError("a negative size")
    return size * 2.5


def send_predictions(endpoint: str, protocol: str) -> dict[str, Any]:
    """Make monitored calls and labels, export them, return what was sent."""
    inferwatch.configure(endpoint=endpoint, protocol=protocol, service_name=service(protocol))
    sent = _call_models()
    _record_labels(sent)
    inferwatch.shutdown()
    return sent


def _call_models() -> dict[str, Any]:
    """Each call's id (from ``last_prediction_id()``), expected output, and time bounds."""
    sent: dict[str, Any] = {
        "single": [_timed(fraud, probability) for probability in (0.9, 0.2, 0.75)],
        "failed": _failing(fraud),
    }
    pets([[0.1, 0.9], [0.8, 0.2], [0.35, 0.65]])
    sent["batch"] = last_prediction_id()
    sent["buffered"] = [_timed(price, size) for size in (1.0, 2.0, 3.0, 4.0)]
    sent["buffered_failed"] = _failing(price)
    return sent


def _timed(function: Any, argument: float) -> list[Any]:
    start = time.time_ns()
    function(argument)
    return [last_prediction_id(), argument, start, time.time_ns()]


def _failing(function: Any) -> Any:
    with pytest.raises(ValueError):
        function(-1.0)
    return last_prediction_id()


def _record_labels(sent: dict[str, Any]) -> None:
    single_ids = [row[0] for row in sent["single"]]
    record_label(single_ids[0], actual=0, model="fraud")  # replaced by the next one
    record_label(single_ids, actual=[int(label) for label in FRAUD_ACTUALS], model="fraud")
    record_label(sent["batch"], actual=PETS_ACTUALS, model="pets")
    record_label([row[0] for row in sent["buffered"]], actual=PRICE_ACTUALS, model="price")


def service(protocol: str) -> str:
    return "e2e-" + protocol.replace("/", "-")


# --- the test run: one service, both protocols, then the store ------------------------------


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[dict[str, Any], dict]]:
    """``(sent per protocol, rows per query)`` after both senders ran and the service stopped."""
    data_dir = tmp_path_factory.mktemp("e2e") / "data"
    with serving(data_dir) as collector:
        endpoints = {"grpc": collector.grpc_endpoint, "http/protobuf": collector.http_url}
        senders = {p: _start_sender(endpoints[p], p) for p in PROTOCOLS}
        sent = {p: _sender_report(sender) for p, sender in senders.items()}
    yield sent, read_queries(data_dir, QUERIES)


def _start_sender(endpoint: str, protocol: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, __file__, endpoint, protocol],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _sender_report(sender: subprocess.Popen[str]) -> dict[str, Any]:
    out, err = sender.communicate(timeout=SENDER_TIMEOUT)
    assert sender.returncode == 0, err
    # The exporters log every failed export; a clean run logs nothing.
    assert "Failed to export" not in err and "Traceback" not in err, err
    return json.loads(out.splitlines()[-1])  # type: ignore[no-any-return]


def _rows_of(rows: list[tuple[Any, ...]], protocol: str) -> list[tuple[Any, ...]]:
    return [row for row in rows if row[0] == service(protocol)]


# --- ml_predictions -------------------------------------------------------------------------

pytestmark = [pytest.mark.slow, pytest.mark.parametrize("protocol", PROTOCOLS)]


def _predictions(run: tuple[dict, dict], protocol: str) -> dict[str, tuple[Any, ...]]:
    rows = _rows_of(run[1]["predictions"], protocol)
    by_id = {row[4]: row for row in rows}
    assert len(by_id) == len(rows), "a prediction id is stored more than once"
    return by_id


def test_every_prediction_is_stored_once_with_the_ids_the_sdk_gave(
    run: tuple[dict, dict], protocol: str
) -> None:
    sent = run[0][protocol]
    ids = [row[0] for row in sent["single"]] + [sent["failed"]] + sent["batch"]
    ids += [row[0] for row in sent["buffered"]] + [sent["buffered_failed"]]
    assert sorted(_predictions(run, protocol)) == sorted(ids)
    assert len(ids) == 3 + 1 + 3 + 5


def test_single_calls_keep_label_score_segment_and_their_own_time(
    run: tuple[dict, dict], protocol: str
) -> None:
    stored = _predictions(run, protocol)
    for prediction_id, probability, start, end in run[0][protocol]["single"]:
        row = stored[prediction_id]
        assert row[1:4] == ("fraud", "3.1", "binary_classification")
        assert row[5:8] == ("1" if probability >= 0.5 else "0", probability, None)
        assert row[9] == "ok"
        assert start <= row[10] <= end
        assert 0 < row[8] <= (end - start) / 1e6
        assert row[13] == {"region": "eu"}


@pytest.mark.parametrize(("call", "model"), [("failed", "fraud"), ("buffered_failed", "price")])
def test_a_failing_call_is_an_error_prediction_without_outputs(
    run: tuple[dict, dict], protocol: str, call: str, model: str
) -> None:
    row = _predictions(run, protocol)[run[0][protocol][call]]
    assert row[1] == model and row[9] == "error"
    assert row[5:8] == ("", None, None)


def test_a_batch_call_is_exploded_into_one_row_per_prediction(
    run: tuple[dict, dict], protocol: str
) -> None:
    stored = _predictions(run, protocol)
    rows = [stored[prediction_id] for prediction_id in run[0][protocol]["batch"]]
    assert [row[5:8] for row in rows] == [
        ("dog", 0.9, None),
        ("cat", 0.8, None),
        ("dog", 0.65, None),
    ]
    assert {(row[1], row[2], row[3], row[9]) for row in rows} == {
        ("pets", "2", "multiclass_classification", "ok")
    }
    assert len({(row[10], row[11], row[12]) for row in rows}) == 1, "one span, one time"


def test_buffered_calls_keep_each_prediction_s_own_time_and_latency(
    run: tuple[dict, dict], protocol: str
) -> None:
    stored = _predictions(run, protocol)
    for prediction_id, size, start, end in run[0][protocol]["buffered"]:
        row = stored[prediction_id]
        assert row[1:4] == ("price", "", "regression")
        assert row[5:8] == ("", None, size * 2.5)
        assert row[9] == "ok"
        assert start <= row[10] <= end
        assert 3.0 <= row[8] <= (end - start) / 1e6
    times = [stored[prediction_id][10] for prediction_id, *_ in run[0][protocol]["buffered"]]
    assert times == sorted(times) and len(set(times)) == len(times)


def test_each_single_prediction_links_to_its_span(run: tuple[dict, dict], protocol: str) -> None:
    spans = {(row[5], row[6]): row for row in _rows_of(run[1]["spans"], protocol)}
    sent = run[0][protocol]
    for prediction_id in [row[0] for row in sent["single"]] + [sent["failed"]]:
        row = _predictions(run, protocol)[prediction_id]
        span = spans[(row[11], row[12])]
        assert span[3]["ml.prediction.id"] == prediction_id


# --- ml_labels ------------------------------------------------------------------------------


def test_labels_are_stored_and_the_later_label_wins(run: tuple[dict, dict], protocol: str) -> None:
    sent = run[0][protocol]
    fraud_ids = [row[0] for row in sent["single"]]
    price_ids = [row[0] for row in sent["buffered"]]
    expected = {
        **{
            ("fraud", pid): (label, None)
            for pid, label in zip(fraud_ids, FRAUD_ACTUALS, strict=True)
        },
        **{
            ("pets", pid): (label, None)
            for pid, label in zip(sent["batch"], PETS_ACTUALS, strict=True)
        },
        **{
            ("price", pid): ("", value) for pid, value in zip(price_ids, PRICE_ACTUALS, strict=True)
        },
    }
    stored = {(row[1], row[2]): (row[3], row[4]) for row in _rows_of(run[1]["labels"], protocol)}
    assert stored == expected


def test_every_label_record_is_in_otel_logs(run: tuple[dict, dict], protocol: str) -> None:
    logs = _rows_of(run[1]["logs"], protocol)
    assert Counter(row[1] for row in logs) == {"ml.label": 1 + 3 + 3 + 4}
    assert Counter(row[2]["ml.model.name"] for row in logs) == {"fraud": 4, "pets": 3, "price": 4}


# --- otel_traces and otel_metrics_* ---------------------------------------------------------


def test_every_span_is_in_otel_traces(run: tuple[dict, dict], protocol: str) -> None:
    spans = [row for row in _rows_of(run[1]["spans"], protocol) if row[7] == "inferwatch"]
    counts = Counter((row[1], row[2]) for row in spans if row[1] != "predict price")
    assert counts == {
        ("predict fraud", "Unset"): 3,
        ("predict fraud", "Error"): 1,
        ("predict pets", "Unset"): 1,
    }
    failed = next(row for row in spans if row[1:3] == ("predict fraud", "Error"))
    assert "exception" in failed[4]
    # The hot-path buffer may export its calls in one span or several; the one holding the
    # failed call is marked Error.
    price_spans = [row for row in spans if row[1] == "predict price"]
    assert sum(int(row[3]["ml.prediction.count"]) for row in price_spans) == 5
    assert "Error" in {row[2] for row in price_spans}


def _latest(rows: list[tuple[Any, ...]], metric: str) -> dict[tuple[str, ...], Any]:
    """Cumulative points: the last one per attribute set is the total."""
    latest: dict[tuple[str, ...], Any] = {}
    for _, name, attributes, value in rows:
        if name == metric:
            key = (
                attributes["ml.model.name"],
                attributes["ml.status"],
                attributes.get("error.type", ""),
            )
            latest[key] = value
    return latest


def test_prediction_counters_and_histograms_are_in_otel_metrics(
    run: tuple[dict, dict], protocol: str
) -> None:
    sums = _rows_of(run[1]["sums"], protocol)
    histograms = _rows_of(run[1]["histograms"], protocol)
    assert _latest(sums, "ml.predictions") == {
        ("fraud", "ok", ""): 3,
        ("fraud", "error", ""): 1,
        ("pets", "ok", ""): 3,
        ("price", "ok", ""): 4,
        ("price", "error", ""): 1,
    }
    assert _latest(sums, "ml.prediction.errors") == {
        ("fraud", "error", "ValueError"): 1,
        ("price", "error", "ValueError"): 1,
    }
    assert _latest(histograms, "ml.prediction.duration") == {
        ("fraud", "ok", ""): 3,
        ("fraud", "error", ""): 1,
        ("pets", "ok", ""): 1,
        ("price", "ok", ""): 4,
        ("price", "error", ""): 1,
    }
    assert _latest(histograms, "ml.prediction.score") == {
        ("fraud", "ok", ""): 3,
        ("pets", "ok", ""): 3,
    }


if __name__ == "__main__":
    print(json.dumps(send_predictions(sys.argv[1], sys.argv[2])))

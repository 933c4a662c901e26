"""OTLP/JSON from a second language: the OpenTelemetry JS SDK → ``inferwatch serve`` → rows.

``nodejs/send_predictions.js`` follows ``docs/semantic-conventions.md`` by hand, as a Node.js
service would: a single prediction, a failing call, a batch span with arrays, a regression
batch, and labels as spans named ``ml.label``. Its exporter
(``@opentelemetry/exporter-trace-otlp-http``) posts OTLP/JSON. The npm packages (pinned in
``package.json`` and ``package-lock.json``) are installed by ``npm ci`` on first use.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from service_process import read_queries, serving

NODE_DIR = Path(__file__).with_name("nodejs")
INSTALL_TIMEOUT = 600
SERVICE = "node-fraud-api"

QUERIES: dict[str, tuple[str, None]] = {
    "predictions": (
        "SELECT PredictionId, ServiceName, ModelName, ModelVersion, Task, PredictedLabel, Score,"
        " PredictedValue, LatencyMs, StatusCode, toUnixTimestamp64Nano(Timestamp), TraceId,"
        " SpanId, Segments FROM ml_predictions ORDER BY PredictionId",
        None,
    ),
    "labels": (
        "SELECT ModelName, PredictionId, ActualLabel, ActualValue, ServiceName,"
        " toUnixTimestamp64Nano(Timestamp) FROM ml_labels FINAL ORDER BY PredictionId",
        None,
    ),
    "spans": (
        "SELECT SpanName, TraceId, SpanId, ServiceName, ScopeName, StatusCode, Events.Name,"
        " toUnixTimestamp64Nano(Timestamp), Duration FROM otel_traces",
        None,
    ),
}

pytestmark = pytest.mark.slow


def install_node_packages() -> None:
    """``npm ci`` unless ``node_modules`` was installed from the current lock file."""
    installed = NODE_DIR / "node_modules" / ".package-lock.json"
    lock = NODE_DIR / "package-lock.json"
    if installed.exists() and installed.stat().st_mtime >= lock.stat().st_mtime:
        return
    npm = shutil.which("npm")
    assert npm is not None, "npm is needed for this test (Debian: apt-get install npm)"
    result = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund"],
        cwd=NODE_DIR,
        capture_output=True,
        text=True,
        timeout=INSTALL_TIMEOUT,
    )
    assert result.returncode == 0, f"npm ci failed:\n{result.stdout}\n{result.stderr}"


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[dict[str, Any], dict]]:
    """``(what the Node.js script sent, rows per query)`` after the service stopped."""
    install_node_packages()
    data_dir = tmp_path_factory.mktemp("nodejs") / "data"
    with serving(data_dir) as collector:
        sent = _send_from_node(collector.http_url)
    yield sent, read_queries(data_dir, QUERIES)


def _send_from_node(base_url: str) -> dict[str, Any]:
    node = shutil.which("node")
    assert node is not None, "node is needed for this test"
    result = subprocess.run(
        [node, "send_predictions.js", base_url],
        cwd=NODE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    # The exporter logs partial successes and failures through its diag logger (stderr).
    assert result.stderr == "", result.stderr
    return json.loads(result.stdout.splitlines()[-1])  # type: ignore[no-any-return]


def _prediction(run: tuple[dict, dict], prediction_id: str) -> tuple[Any, ...]:
    (row,) = [row for row in run[1]["predictions"] if row[0] == prediction_id]
    return row


def test_each_prediction_of_the_spans_is_one_row(run: tuple[dict, dict]) -> None:
    ids = [row[0] for row in run[1]["predictions"]]
    assert ids == sorted(
        ["node-single-1", "node-failed-1", "node-batch-1", "node-batch-2", "node-batch-3"]
        + ["node-price-1", "node-price-2"]
    )
    assert {row[1] for row in run[1]["predictions"]} == {SERVICE}


def test_a_single_prediction_keeps_its_attributes_time_and_span(run: tuple[dict, dict]) -> None:
    span = run[0]["single"]
    row = _prediction(run, "node-single-1")
    assert row[2:8] == ("fraud", "3.1", "binary_classification", "1", 0.93, None)
    assert row[8] == pytest.approx(2.5)
    assert row[9] == "ok"
    assert (str(row[10]), row[11], row[12]) == (span["start"], span["traceId"], span["spanId"])
    assert row[13] == {"region": "eu"}


def test_a_span_with_status_error_is_an_error_prediction(run: tuple[dict, dict]) -> None:
    row = _prediction(run, "node-failed-1")
    assert row[2] == "fraud" and row[5:8] == ("", None, None)
    assert row[9] == "error"
    assert row[8] == pytest.approx(4.0)


def test_a_batch_span_s_arrays_become_rows_sharing_its_time(run: tuple[dict, dict]) -> None:
    span = run[0]["batch"]
    rows = [_prediction(run, f"node-batch-{n}") for n in (1, 2, 3)]
    assert [row[5:8] for row in rows] == [("0", 0.12, None), ("1", 0.88, None), ("0", 0.25, None)]
    for row in rows:
        assert row[9] == "ok" and row[13] == {"region": "us"}
        assert (str(row[10]), row[11], row[12]) == (span["start"], span["traceId"], span["spanId"])
        assert row[8] == pytest.approx(5.0)


def test_a_regression_batch_keeps_its_values(run: tuple[dict, dict]) -> None:
    rows = [_prediction(run, f"node-price-{n}") for n in (1, 2)]
    assert [row[2:8] for row in rows] == [
        ("price", "7", "regression", "", None, 12.5),
        ("price", "7", "regression", "", None, 7.25),
    ]


def test_label_spans_become_label_rows(run: tuple[dict, dict]) -> None:
    labels = run[1]["labels"]
    assert [row[:4] for row in labels] == [
        ("fraud", "node-batch-1", "1", None),
        ("fraud", "node-batch-2", "0", None),
        ("price", "node-price-1", "", 13.75),
        ("fraud", "node-single-1", "1", None),
    ]
    assert {row[4] for row in labels} == {SERVICE}
    assert str(labels[2][5]) == run[0]["valueLabel"]["start"]


def test_every_span_is_in_otel_traces_as_sent(run: tuple[dict, dict]) -> None:
    stored = {(row[1], row[2]): row for row in run[1]["spans"]}
    assert len(stored) == len(run[1]["spans"]) == len(run[0])
    for span in run[0].values():
        row = stored[(span["traceId"], span["spanId"])]
        assert row[3:5] == (SERVICE, "inferwatch-node-test")
        assert str(row[7]) == span["start"]
        assert row[8] == int(span["end"]) - int(span["start"])
    failed = stored[(run[0]["failed"]["traceId"], run[0]["failed"]["spanId"])]
    assert failed[5] == "Error" and failed[6] == ["exception"]

"""Operating the collector: /healthz, /readyz, /metrics that count what was sent, SIGTERM drain,
structured logs."""

from __future__ import annotations

import http.client
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from service_process import (
    ServeProcess,
    get,
    metric_value,
    open_store,
    post_traces,
    prediction_request,
    stored_prediction_ids,
)

from inferwatch import semconv
from inferwatch_collector.config import CollectorSettings
from inferwatch_collector.service import CollectorService


@pytest.fixture
def service(tmp_path: Path) -> Iterator[CollectorService]:
    settings = CollectorSettings(
        data_dir=str(tmp_path), otlp_grpc_port=0, otlp_http_port=0, batch_interval=0.02
    )
    running = CollectorService(settings)
    running.start()
    try:
        yield running
    finally:
        running.stop(drain_timeout=10)


def http_port(service: CollectorService) -> int:
    assert service.http is not None
    return service.http.port


def label_request(ids: list[str]) -> ExportLogsServiceRequest:
    request = ExportLogsServiceRequest()
    scope = request.resource_logs.add().scope_logs.add()
    for prediction_id in ids:
        record = scope.log_records.add(event_name=semconv.ML_LABEL)
        for key, value in (
            (semconv.ML_MODEL_NAME, "fraud"),
            (semconv.ML_PREDICTION_ID, prediction_id),
            (semconv.ML_LABEL, "1"),
        ):
            record.attributes.append(KeyValue(key=key, value=AnyValue(string_value=value)))
    return request


def post_labels(port: int, request: ExportLogsServiceRequest) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        body = request.SerializeToString()
        headers = {"Content-Type": "application/x-protobuf"}
        connection.request("POST", "/v1/logs", body, headers)
        answer = connection.getresponse()
        answer.read()
        return answer.status
    finally:
        connection.close()


def wait_for_metric(port: int, sample: str, expected: float, **labels: str) -> str:
    """The /metrics text once ``sample`` reached ``expected`` (the writer works in background)."""
    deadline = time.monotonic() + 30
    while True:
        text = get(port, "/metrics")[1]
        if metric_value(text, sample, 0, **labels) >= expected or time.monotonic() > deadline:
            return text
        time.sleep(0.02)


def test_healthz_answers_alive(service: CollectorService) -> None:
    assert get(http_port(service), "/healthz") == (200, "ok\n")


def test_readyz_answers_ready_when_the_store_is_reachable_and_the_log_has_room(
    service: CollectorService,
) -> None:
    assert get(http_port(service), "/readyz") == (200, "ready\n")


def test_metrics_start_at_zero_for_every_signal(service: CollectorService) -> None:
    text = get(http_port(service), "/metrics")[1]
    for signal in ("traces", "metrics", "logs"):
        for counter in ("received_items", "accepted_items", "rejected_items"):
            assert metric_value(text, f"inferwatch_{counter}_total", signal=signal) == 0


def test_metrics_count_what_was_received_accepted_rejected_and_inserted(
    service: CollectorService,
) -> None:
    port = http_port(service)
    for number in range(2):
        assert (
            post_traces(port, prediction_request([f"r{number}-p{p}" for p in range(5)]))[0] == 200
        )
    partly_bad = prediction_request([f"r2-p{p}" for p in range(5)])
    partly_bad.resource_spans[0].scope_spans[0].spans[4].trace_id = b"bad"
    assert post_traces(port, partly_bad)[0] == 200  # partial success
    assert post_labels(port, label_request(["r0-p0", "r0-p1"])) == 200

    text = wait_for_metric(port, "inferwatch_insert_rows_total", 2, table="ml_labels")
    text = wait_for_metric(port, "inferwatch_insert_rows_total", 14, table="ml_predictions")
    expected = {
        ("inferwatch_received_items_total", "traces"): 15,
        ("inferwatch_accepted_items_total", "traces"): 14,
        ("inferwatch_rejected_items_total", "traces"): 1,
        ("inferwatch_received_items_total", "logs"): 2,
        ("inferwatch_accepted_items_total", "logs"): 2,
        ("inferwatch_rejected_items_total", "logs"): 0,
        ("inferwatch_received_items_total", "metrics"): 0,
        ("inferwatch_throttled_requests_total", "traces"): 0,
    }
    for (sample, signal), value in expected.items():
        assert metric_value(text, sample, signal=signal) == value, (sample, signal)
    assert_inserted(text, {"ml_predictions": 14, "otel_traces": 14, "ml_labels": 2, "otel_logs": 2})


def assert_inserted(text: str, rows: dict[str, int]) -> None:
    for table, count in rows.items():
        assert metric_value(text, "inferwatch_insert_rows_total", table=table) == count, table
    assert metric_value(text, "inferwatch_insert_duration_seconds_count") >= 1
    assert metric_value(text, "inferwatch_insert_duration_seconds_sum") > 0
    assert metric_value(text, "inferwatch_insert_errors_total") == 0
    assert metric_value(text, "inferwatch_wal_pending_bytes") == 0
    assert metric_value(text, "inferwatch_wal_pending_records") == 0


@pytest.mark.slow
def test_sigterm_stores_the_acknowledged_backlog_and_exits_0(tmp_path: Path) -> None:
    # Batches that never fill and never time out: only the drain on SIGTERM can store them.
    server = ServeProcess.start(
        tmp_path / "data", "--batch-interval", "600", "--batch-max-records", "100000"
    )
    sent = [f"r{number}-p{p}" for number in range(5) for p in range(10)]
    for number in range(5):
        assert (
            post_traces(server.http_port, prediction_request(sent[number * 10 : number * 10 + 10]))[
                0
            ]
            == 200
        )
    metrics = get(server.http_port, "/metrics")[1]
    assert metric_value(metrics, "inferwatch_wal_pending_records") == 5  # not stored yet

    assert server.stop() == 0

    with open_store(tmp_path / "data") as client:
        stored = stored_prediction_ids(client)
    assert sorted(stored) == sorted(sent)
    logs = [json.loads(line) for line in server.logs().splitlines()]  # every line is JSON
    assert all({"time", "level", "logger", "message"} <= entry.keys() for entry in logs)
    assert logs[-1]["message"] == "stopped (all stored)"

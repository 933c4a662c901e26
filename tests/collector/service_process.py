"""``inferwatch serve`` as a real subprocess, requests to it, and its store after it stopped.

::

    with serving(tmp_path / "data", "--batch-interval", "0.05") as service:
        status, _ = post_traces(service.http_port, prediction_request(["p-1", "p-2"]))
        # ... or an OTLP exporter at service.grpc_endpoint / service.http_url
    # stopped with SIGTERM, exit status 0: everything acknowledged is in the store now
    rows = read_rows(tmp_path / "data", "SELECT PredictionId FROM ml_predictions")

    service = ServeProcess.start(tmp_path / "data")  # without the context manager
    service.kill()                                   # the crash: SIGKILL, no drain
    assert ServeProcess.start(tmp_path / "data").stop() == 0

The service picks free ports (``--otlp-*-port 0``, and ``--http-port 0`` for the dashboard
unless the flags name one) and says which in its ready line on stdout; stdout and stderr
(its JSON log lines) go to files beside the data directory, one pair per start, and the log
is quoted when the service fails. The store is read in this process only after the service
exited: chDB lets one process at a time open a folder, and one folder at a time per process
(so every helper here closes it again).
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clickhouse_connect.driver import Client
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from prometheus_client.parser import text_string_to_metric_families

from inferwatch import semconv
from inferwatch_collector.store import default_dsn, open_client

INFERWATCH = Path(sys.executable).with_name("inferwatch")
PROTOBUF = "application/x-protobuf"
START_TIMEOUT = 60.0
STOP_TIMEOUT = 60.0
KILL_TIMEOUT = 30.0


def clean_environ() -> dict[str, str]:
    """This process's environment without ``INFERWATCH_*`` and ``OTEL_*`` settings.

    A service started by a test sees only the flags the test gives, not the machine's settings.
    """
    return {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("INFERWATCH_", "OTEL_"))
    }


@dataclass
class ServeProcess:
    """A running ``inferwatch serve``: its ports, its log, and how to stop it."""

    process: subprocess.Popen[bytes]
    data_dir: Path
    http_port: int
    grpc_port: int
    log_path: Path
    dashboard_port: int | None = None
    """The web dashboard's port (``None``: the service serves none)."""

    @classmethod
    def start(cls, data_dir: Path, *flags: str, timeout: float = START_TIMEOUT) -> ServeProcess:
        """Start ``inferwatch serve --data-dir data_dir *flags`` and wait for its ready line."""
        data_dir.mkdir(parents=True, exist_ok=True)
        stem = f"{data_dir.name}-serve-{time.monotonic_ns()}"
        out_path, log_path = data_dir.parent / f"{stem}.stdout", data_dir.parent / f"{stem}.log"
        command = [str(INFERWATCH), "serve", "--data-dir", str(data_dir)]
        command += ["--otlp-http-port", "0", "--otlp-grpc-port", "0"]
        if "--http-port" not in flags:
            command += ["--http-port", "0"]  # never the default 8080: tests run side by side
        command += flags
        with out_path.open("wb") as out, log_path.open("wb") as err:
            process = subprocess.Popen(command, stdout=out, stderr=err, env=clean_environ())
        ready = _wait_for_ready(process, out_path, log_path, timeout)
        return cls(
            process,
            data_dir,
            ready["otlp_http_port"],
            ready["otlp_grpc_port"],
            log_path,
            ready.get("http_port"),
        )

    @property
    def http_url(self) -> str:
        """Base URL of the OTLP/HTTP receiver (append ``/v1/traces`` etc.)."""
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def grpc_endpoint(self) -> str:
        """The endpoint an OTLP/gRPC exporter takes."""
        return f"http://127.0.0.1:{self.grpc_port}"

    def stop(self, timeout: float = STOP_TIMEOUT) -> int:
        """SIGTERM, then wait for the drain to finish; the exit status (0: all stored)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired as exc:
            self.kill()
            raise AssertionError(
                f"inferwatch serve did not stop in {timeout}s\n{self.logs()}"
            ) from exc

    def kill(self) -> int:
        """SIGKILL: the crash (no drain, no cleanup); the exit status (-9)."""
        self.process.kill()
        return self.process.wait(KILL_TIMEOUT)

    def logs(self) -> str:
        """What the service wrote to stderr (its JSON log lines)."""
        return self.log_path.read_text(errors="replace")


@contextmanager
def serving(data_dir: Path, *flags: str) -> Iterator[ServeProcess]:
    """``ServeProcess.start`` … ``stop``; the stop must succeed with exit status 0."""
    service = ServeProcess.start(data_dir, *flags)
    try:
        yield service
    except BaseException:
        service.stop()
        raise
    status = service.stop()
    assert status == 0, f"inferwatch serve exited with {status}\n{service.logs()}"


def _wait_for_ready(
    process: subprocess.Popen[bytes], out_path: Path, log_path: Path, timeout: float
) -> dict[str, Any]:
    # The service prints the line once, flushed, when it is ready; never wait forever for it.
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        if (ready := _ready_line(out_path)) is not None:
            return ready
        time.sleep(0.02)
    if process.poll() is None:
        process.kill()
        process.wait()
    log = log_path.read_text(errors="replace")
    raise AssertionError(f"inferwatch serve did not get ready (exit {process.returncode})\n{log}")


def _ready_line(out_path: Path) -> dict[str, Any] | None:
    # Only whole lines: the last one may still be half written.
    for line in out_path.read_text(errors="replace").split("\n")[:-1]:
        ready: dict[str, Any] = json.loads(line) if line.startswith("{") else {}
        if ready.pop("event", None) == "ready":
            return ready
    return None


# --- requests -----------------------------------------------------------------------------


def prediction_request(ids: Sequence[str], model: str = "fraud") -> ExportTraceServiceRequest:
    """One request with one single-prediction span per id (span id derived from the id)."""
    request = ExportTraceServiceRequest()
    scope = request.resource_spans.add().scope_spans.add()
    now = time.time_ns()
    for prediction_id in ids:
        span = scope.spans.add(name=f"predict {model}", start_time_unix_nano=now)
        span.end_time_unix_nano = now + 1_000_000
        digest = hashlib.blake2b(prediction_id.encode(), digest_size=24).digest()
        span.trace_id, span.span_id = digest[:16], digest[16:]
        span.attributes.extend(
            [
                _text(semconv.ML_MODEL_NAME, model),
                _text(semconv.ML_TASK, "binary_classification"),
                _text(semconv.ML_PREDICTION_ID, prediction_id),
                _text(semconv.ML_PREDICTION_LABEL, "1"),
            ]
        )
    return request


def _text(key: str, value: str) -> KeyValue:
    return KeyValue(key=key, value=AnyValue(string_value=value))


def post_traces(
    port: int, request: ExportTraceServiceRequest, timeout: float = 10.0
) -> tuple[int, dict[str, str]]:
    """POST one request to ``/v1/traces`` as binary protobuf; ``(status, headers)``."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        body = request.SerializeToString()
        connection.request("POST", "/v1/traces", body, {"Content-Type": PROTOBUF})
        answer = connection.getresponse()
        answer.read()
        return answer.status, {k.lower(): v for k, v in answer.getheaders()}
    finally:
        connection.close()


def get(port: int, path: str) -> tuple[int, str]:
    """GET ``path`` on the HTTP port; ``(status, body text)``."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path)
        answer = connection.getresponse()
        return answer.status, answer.read().decode()
    finally:
        connection.close()


def metric_value(
    exposition: str, sample: str, missing: float | None = None, **labels: str
) -> float:
    """One sample of a Prometheus text exposition, e.g. ``inferwatch_insert_errors_total``;
    ``missing`` if it is not there (an error when ``missing`` is None)."""
    for family in text_string_to_metric_families(exposition):
        for found in family.samples:
            if found.name == sample and found.labels == labels:
                return float(found.value)
    if missing is not None:
        return missing
    raise AssertionError(f"no sample {sample}{labels} in /metrics")


# --- the store, once the service exited ---------------------------------------------------


@contextmanager
def open_store(data_dir: Path) -> Iterator[Client]:
    """The chDB store of a data dir, opened in this process (the service must have exited)."""
    client = open_client(default_dsn(data_dir))
    try:
        yield client
    finally:
        client.close()


def read_rows(
    data_dir: Path, sql: str, parameters: Mapping[str, Any] | None = None
) -> list[tuple[Any, ...]]:
    """The rows of one query on the stopped service's store."""
    return read_queries(data_dir, {"rows": (sql, parameters)})["rows"]


def read_queries(
    data_dir: Path, queries: Mapping[str, tuple[str, Mapping[str, Any] | None]]
) -> dict[str, list[tuple[Any, ...]]]:
    """Several queries on the stopped service's store, opened once: ``{name: rows}``."""
    with open_store(data_dir) as client:
        return {
            name: [tuple(row) for row in client.query(sql, parameters=params).result_rows]
            for name, (sql, params) in queries.items()
        }


def stored_prediction_ids(client: Client) -> list[str]:
    """Every PredictionId in ``ml_predictions``, duplicates included."""
    rows = client.query("SELECT PredictionId FROM ml_predictions").result_rows
    return [row[0] for row in rows]

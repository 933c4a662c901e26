"""Test helpers: `inferwatch serve` as a real subprocess, prediction requests, the store after.

>>> server = ServeProcess.start(tmp_path)               # ports 0: reads the ready line
>>> status = post_traces(server.http_port, prediction_request(["p-1", "p-2"]))
>>> server.terminate()                                  # SIGTERM; the exit code
0
>>> with open_store(tmp_path) as client:                # only once the process has exited
...     client.query("SELECT count() FROM ml_predictions").result_rows
[(2,)]
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from clickhouse_connect.driver import Client
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from prometheus_client.parser import text_string_to_metric_families

from inferwatch import semconv
from inferwatch_collector.store import open_client

INFERWATCH = Path(sys.executable).with_name("inferwatch")
PROTOBUF = "application/x-protobuf"


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


@dataclass
class ServeProcess:
    """A running ``inferwatch serve`` on free ports, stderr (JSON logs) kept in a file."""

    process: subprocess.Popen[str]
    http_port: int
    grpc_port: int
    stderr_path: Path

    @classmethod
    def start(cls, data_dir: Path, *flags: str, timeout: float = 60.0) -> ServeProcess:
        stderr_path = data_dir.parent / f"{data_dir.name}-serve-{time.monotonic_ns()}.log"
        command = [str(INFERWATCH), "serve", "--data-dir", str(data_dir)]
        command += ["--otlp-http-port", "0", "--otlp-grpc-port", "0", *flags]
        with stderr_path.open("w") as stderr:
            process = subprocess.Popen(
                command, stdout=subprocess.PIPE, stderr=stderr, text=True, env=_clean_env()
            )
        ready = _read_ready_line(process, stderr_path, timeout)
        return cls(process, ready["otlp_http_port"], ready["otlp_grpc_port"], stderr_path)

    def terminate(self, timeout: float = 60.0) -> int:
        """SIGTERM, wait for the exit; the exit code."""
        self.process.send_signal(signal.SIGTERM)
        return self._wait(timeout)

    def kill(self) -> None:
        """SIGKILL: the crash (no drain, no cleanup)."""
        self.process.kill()
        self._wait(30.0)

    def logs(self) -> str:
        return self.stderr_path.read_text()

    def _wait(self, timeout: float) -> int:
        code = self.process.wait(timeout)
        assert self.process.stdout is not None
        self.process.stdout.close()
        return code


def _clean_env() -> dict[str, str]:
    # The server must see only the flags a test gives, not settings of the machine.
    return {k: v for k, v in os.environ.items() if not k.startswith("INFERWATCH_")}


def _read_ready_line(
    process: subprocess.Popen[str], stderr_path: Path, timeout: float
) -> dict[str, int]:
    assert process.stdout is not None
    # The service prints the line once, flushed, when it is ready; never wait forever for it.
    readable, _, _ = select.select([process.stdout], [], [], timeout)
    line = process.stdout.readline() if readable else ""
    if not line:
        process.kill()
        process.wait()
        raise AssertionError(f"no ready line; stderr:\n{stderr_path.read_text()}")
    ready: dict[str, int] = json.loads(line)
    assert ready.pop("event") == "ready"
    return ready


@contextmanager
def open_store(data_dir: Path) -> Iterator[Client]:
    """The chDB store of a data dir, opened in this process (the server must have exited)."""
    client = open_client(f"chdb://{(data_dir / 'store').resolve()}")
    try:
        yield client
    finally:
        client.close()


def stored_prediction_ids(client: Client) -> list[str]:
    """Every PredictionId in ``ml_predictions``, duplicates included."""
    rows = client.query("SELECT PredictionId FROM ml_predictions").result_rows
    return [row[0] for row in rows]


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

"""``inferwatch serve`` as a real subprocess, for end-to-end tests.

::

    with serving(tmp_path / "data") as service:
        post(service.http_url + "/v1/traces", ...)      # or an exporter at service.grpc_endpoint
    # stopped with SIGTERM: everything acknowledged is in the store now
    rows = read_rows(tmp_path / "data", "SELECT PredictionId FROM ml_predictions")

The service picks free ports (``--otlp-*-port 0``) and says which in its ready line; its
stdout and stderr go to files in the data directory's parent, quoted when it fails. The
store is read in this process after the service stopped: chDB lets one process at a time
open a folder, and one folder at a time per process (so the folder is closed again here).
"""

from __future__ import annotations

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

from inferwatch_collector.config import CollectorSettings
from inferwatch_collector.store import open_client

START_TIMEOUT = 60.0
STOP_TIMEOUT = 60.0


@dataclass
class ServeProcess:
    """A running ``inferwatch serve``: its ports, and how to stop it."""

    process: subprocess.Popen[bytes]
    data_dir: Path
    grpc_port: int
    http_port: int
    log_path: Path

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
            self.process.kill()
            self.process.wait()
            raise AssertionError(
                f"inferwatch serve did not stop in {timeout}s\n{self.log()}"
            ) from exc

    def log(self) -> str:
        """What the service wrote to stderr (its JSON log lines)."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def serve_command(data_dir: Path, extra_args: Sequence[str] = ()) -> list[str]:
    """The command line: the installed ``inferwatch`` script beside this Python."""
    script = Path(sys.executable).with_name("inferwatch")
    program = (
        [str(script)] if script.exists() else [sys.executable, "-m", "inferwatch_collector.cli"]
    )
    ports = ["--otlp-grpc-port", "0", "--otlp-http-port", "0"]
    return [*program, "serve", "--data-dir", str(data_dir), *ports, *extra_args]


def start_serve(data_dir: Path, extra_args: Sequence[str] = ()) -> ServeProcess:
    """Start ``inferwatch serve`` on ``data_dir`` and wait for its ready line."""
    data_dir.mkdir(parents=True, exist_ok=True)
    out_path = data_dir.parent / f"{data_dir.name}.stdout"
    log_path = data_dir.parent / f"{data_dir.name}.stderr"
    with out_path.open("wb") as out, log_path.open("wb") as err:
        process = subprocess.Popen(
            serve_command(data_dir, extra_args), stdout=out, stderr=err, env=_clean_environ()
        )
    ready = _wait_for_ready(process, out_path, log_path)
    return ServeProcess(
        process, data_dir, ready["otlp_grpc_port"], ready["otlp_http_port"], log_path
    )


@contextmanager
def serving(data_dir: Path, extra_args: Sequence[str] = ()) -> Iterator[ServeProcess]:
    """``start_serve`` … ``stop``; the stop must succeed with exit status 0."""
    service = start_serve(data_dir, extra_args)
    try:
        yield service
    except BaseException:
        service.stop()
        raise
    status = service.stop()
    assert status == 0, f"inferwatch serve exited with {status}\n{service.log()}"


def read_rows(
    data_dir: Path, sql: str, parameters: Mapping[str, Any] | None = None
) -> list[tuple[Any, ...]]:
    """The rows of one query on the stopped service's store."""
    return read_queries(data_dir, {"rows": (sql, parameters)})["rows"]


def read_queries(
    data_dir: Path, queries: Mapping[str, tuple[str, Mapping[str, Any] | None]]
) -> dict[str, list[tuple[Any, ...]]]:
    """Several queries on the stopped service's store, opened once: ``{name: rows}``."""
    client = open_client(CollectorSettings(data_dir=str(data_dir)).store_dsn)
    try:
        return {
            name: [tuple(row) for row in client.query(sql, parameters=params).result_rows]
            for name, (sql, params) in queries.items()
        }
    finally:
        client.close()


def _clean_environ() -> dict[str, str]:
    # The service's settings come from its flags only, not from the test runner's environment.
    return {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("INFERWATCH_", "OTEL_"))
    }


def _wait_for_ready(
    process: subprocess.Popen[bytes], out_path: Path, log_path: Path
) -> dict[str, int]:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        for line in out_path.read_text(errors="replace").splitlines():
            if line.startswith("{") and json.loads(line).get("event") == "ready":
                return json.loads(line)  # type: ignore[no-any-return]
        if process.poll() is not None:
            break
        time.sleep(0.02)
    if process.poll() is None:
        process.kill()
        process.wait()
    log = log_path.read_text(errors="replace")
    raise AssertionError(f"inferwatch serve did not get ready (exit {process.returncode})\n{log}")

"""Start-up of the dashboard in ``inferwatch serve``: the report definitions are checked against
the store first (a bad one stops the service with one line naming its file, exit status 2), an
extra definition is served like a built-in one, and a taken port is a clear error."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from pathlib import Path

import pytest
from service_process import INFERWATCH, ServeProcess, clean_environ, get, serving

from inferwatch_collector.service_api import DISCOVERY_FILE, running_service, write_discovery

EXTRA = """-- title: Predictions per model
-- page: overview
-- order: 50
-- visualization: bar
-- x: model
-- value: predictions
-- params:
--   from: {type: "DateTime64(3, 'UTC')", default: now-1d}
--   to: {type: "DateTime64(3, 'UTC')", default: now}
SELECT ModelName AS model, count() AS predictions
FROM ml_evaluations
WHERE WindowStart >= {from:DateTime64(3, 'UTC')} AND WindowStart < {to:DateTime64(3, 'UTC')}
GROUP BY model
"""

UNDECLARED = """-- title: Broken
-- visualization: table
SELECT * FROM ml_evaluations WHERE ModelName = {model:String}
"""

UNPARSABLE = """-- title: Broken
-- visualization: table
SELECT Metric FROM ml_evaluations WHERE (Value > 1
"""


def serve(data_dir: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    """``inferwatch serve`` expected to stop at start-up by itself."""
    command = [str(INFERWATCH), "serve", "--data-dir", str(data_dir), "--otlp-http-port", "0",
               "--otlp-grpc-port", "0", *flags]  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True, env=clean_environ(), timeout=120)


def dashboards(tmp_path: Path, **files: str) -> Path:
    folder = tmp_path / "dashboards"
    folder.mkdir()
    for name, text in files.items():
        (folder / f"{name}.sql").write_text(text)
    return folder


@pytest.mark.parametrize(
    ("text", "problem"),
    [(UNDECLARED, "does not declare 'model'"), (UNPARSABLE, "the SQL does not parse")],
)
def test_a_bad_definition_stops_start_up_naming_its_file(
    tmp_path: Path, text: str, problem: str
) -> None:
    folder = dashboards(tmp_path, broken=text)
    done = serve(tmp_path / "data", "--dashboards-dir", str(folder), "--http-port", "0")
    assert done.returncode == 2, done.stderr
    [line] = [line for line in done.stderr.splitlines() if line.startswith("inferwatch:")]
    assert line.startswith(f"inferwatch: bad report definition: {folder / 'broken.sql'}: ")
    assert problem in line
    assert '"event": "ready"' not in done.stdout
    assert not (tmp_path / "data" / DISCOVERY_FILE).exists()


def test_a_dashboards_dir_that_is_no_folder_stops_start_up(tmp_path: Path) -> None:
    done = serve(tmp_path / "data", "--dashboards-dir", str(tmp_path / "missing"))
    assert done.returncode == 2
    assert f"{tmp_path / 'missing'}: not a folder of report definitions" in done.stderr


def test_an_extra_definition_is_listed_and_shown_on_its_page(tmp_path: Path) -> None:
    folder = dashboards(tmp_path, model_volume=EXTRA.replace("page: overview", "page: none"),
                        predictions_per_model=EXTRA)  # fmt: skip
    with serving(tmp_path / "data", "--dashboards-dir", str(folder)) as service:
        assert service.dashboard_port is not None
        status, body = get(service.dashboard_port, "/api/v1/reports")
        listed = {r["name"]: r for r in json.loads(body)["reports"]}
        assert status == 200 and listed["predictions_per_model"]["page"] == "overview"
        assert listed["model_volume"]["title"] == "Predictions per model"  # replaced built-in
        status, body = get(service.dashboard_port, "/api/v1/pages/overview")
        page = json.loads(body)
        assert status == 200 and list(page)[-1] == "predictions_per_model"
        assert page["predictions_per_model"]["rows"] == []  # nothing evaluated yet


def test_a_taken_dashboard_port_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = serve(tmp_path / "data", "--http-port", str(port))
    assert done.returncode == 1
    assert (
        f"inferwatch: cannot start: --http-port {port}: cannot serve the dashboard" in done.stderr
    )
    assert not (tmp_path / "data" / DISCOVERY_FILE).exists()


def test_the_collector_alone_serves_no_dashboard(tmp_path: Path) -> None:
    command = [str(INFERWATCH), "collector", "--data-dir", str(tmp_path / "data"),
               "--otlp-http-port", "0", "--otlp-grpc-port", "0", "--http-port", "0"]  # fmt: skip
    out_path = tmp_path / "collector.stdout"
    with out_path.open("wb") as out:
        process = subprocess.Popen(
            command, stdout=out, stderr=subprocess.DEVNULL, env=clean_environ()
        )
    service = ServeProcess(process, tmp_path / "data", 0, 0, tmp_path / "collector.log")
    try:
        deadline = time.monotonic() + 60
        while "\n" not in out_path.read_text() and process.poll() is None:
            assert time.monotonic() < deadline, "the collector did not get ready"
            time.sleep(0.05)
        ready = json.loads(out_path.read_text().splitlines()[0])
        assert ready["event"] == "ready" and "http_port" not in ready
    finally:
        assert service.stop() == 0


def test_a_discovery_file_without_dashboard_port_reads_as_none(tmp_path: Path) -> None:
    write_discovery(str(tmp_path), "0.0.0.0", 4318)
    found = running_service(str(tmp_path))
    assert found is not None and found.dashboard_port is None and found.dashboard_url is None
    (tmp_path / DISCOVERY_FILE).write_text(
        json.dumps({"pid": os.getpid(), "host": "127.0.0.1", "http_port": 4318})
    )  # written by a service of an older version
    older = running_service(str(tmp_path))
    assert older is not None and older.dashboard_url is None and older.url.endswith(":4318")
    write_discovery(str(tmp_path), "::1", 4318, dashboard_port=8080)
    ipv6 = running_service(str(tmp_path))
    assert ipv6 is not None and ipv6.dashboard_url == "http://[::1]:8080"

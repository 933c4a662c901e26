"""The latest evaluations and alert states at ``/metrics``: read in-process, and scraped by a
real Prometheus.

The scrape test needs Debian's ``prometheus``: it installs it when ``/usr/bin/prometheus`` is
missing (``DEBIAN_FRONTEND=noninteractive apt-get install -y prometheus``, after
``apt-get update`` if that fails; the tests run as root) and fails — never skips — if it cannot.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from clickhouse_connect.driver import Client
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families
from service_process import INFERWATCH, clean_environ, open_store, serving
from sklearn.metrics import f1_score

from inferwatch_collector.evaluate.store import EvaluationRow, write_evaluations
from inferwatch_collector.report.prometheus_export import EvaluationsExport
from inferwatch_collector.store import default_dsn, open_client, run_migrations

PROMETHEUS = Path("/usr/bin/prometheus")
NOW = datetime.now(timezone.utc).replace(microsecond=0)
HOUR = NOW.replace(minute=0, second=0) - timedelta(hours=2)
"""The start of a complete window with time to spare (the service evaluates every second)."""

# 20 predictions of `fraud` in one hour, every one labelled; precision and recall differ.
PREDICTED = ["0" if i % 3 == 0 else "1" for i in range(20)]
ACTUAL = ["0" if i % 4 == 0 else "1" for i in range(20)]

CONFIG = """
evaluation:
  windows: [1h]
  label_horizon: 6h
  schedule: 1s
  bootstrap_samples: 20
models:
  fraud: {task: binary_classification, positive_label: 1}
rules:
  - name: fraud-f1-low
    model: fraud
    metric: f1
    window: 1h
    op: "<"
    threshold: 0.99
    for: 1
    min_samples: 5
    severity: page
"""


# --- in-process: what the export reads from the store ---------------------------------------


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Client]:
    client = open_client(default_dsn(tmp_path / "data"))
    run_migrations(client, ttl_days=30)
    try:
        yield client
    finally:
        client.close()


def evaluation(metric: str, start: datetime, value: float, evaluated: datetime) -> EvaluationRow:
    end = start + timedelta(hours=1)
    return EvaluationRow(
        "fraud", "3", "", "1h", start, end, metric, value, 20, 1.0, None, None, evaluated
    )


def alert(rule: str, state: str, at: datetime) -> list[Any]:
    return [f"{rule}-{state}-{at.isoformat()}", at, rule, "fraud", "3", "", state, "page"]


def scrape(registry: CollectorRegistry) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    text = generate_latest(registry).decode()
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def series(metric: str) -> frozenset[tuple[str, str]]:
    labels = {"model": "fraud", "version": "3", "segment": "", "metric": metric, "window": "1h"}
    return frozenset(labels.items())


def alert_series(rule: str, state: str) -> frozenset[tuple[str, str]]:
    labels = {"rule": rule, "model": "fraud", "version": "3", "segment": ""}
    return frozenset({**labels, "severity": "page", "state": state}.items())


def test_export_shows_the_newest_complete_window_and_current_alert_states(store: Client) -> None:
    older, newer, current = HOUR - timedelta(hours=1), HOUR, NOW - timedelta(minutes=30)
    write_evaluations(
        store,
        [
            evaluation("f1", older, 0.5, NOW),
            evaluation("f1", newer, 0.6, NOW - timedelta(minutes=5)),
            evaluation("f1", newer, 0.7, NOW),  # re-evaluated: the later evaluation counts
            evaluation("f1", current, 0.1, NOW),  # not complete yet
            evaluation("precision", older, 0.4, NOW),
            evaluation("precision", newer, float("nan"), NOW),  # undefined now: no sample
            evaluation("confusion:a:b", newer, 3.0, NOW),
            evaluation("recall", NOW - timedelta(days=9), 0.9, NOW),  # beyond the lookback
        ],
    )
    store.insert(
        "ml_alerts",
        [
            alert("fraud-f1-low", "pending", NOW - timedelta(minutes=20)),
            alert("fraud-f1-low", "firing", NOW - timedelta(minutes=10)),
            alert("retired-rule", "firing", NOW - timedelta(minutes=10)),
        ],
        column_names="TransitionId TransitionAt RuleName ModelName ModelVersion Segment "
        "State Severity".split(),
    )
    registry = CollectorRegistry()
    registry.register(EvaluationsExport(store, rules=["fraud-f1-low"], clock=lambda: NOW))
    samples = scrape(registry)

    metrics = {k: v for k, v in samples.items() if k[0] == "inferwatch_model_metric"}
    assert metrics == {
        ("inferwatch_model_metric", series("f1")): 0.7,
        ("inferwatch_model_metric", series("confusion:a:b")): 3.0,
    }
    end = samples[("inferwatch_model_metric_window_end_seconds", series("f1"))]
    assert end == (newer + timedelta(hours=1)).timestamp()
    states = {k[1]: v for k, v in samples.items() if k[0] == "inferwatch_alert_state"}
    assert states[alert_series("fraud-f1-low", "firing")] == 1.0
    assert states[alert_series("fraud-f1-low", "pending")] == 0.0
    assert len(states) == 5  # one series, every state; the retired rule is not in force


def test_without_a_rule_list_every_stored_rule_is_exported(store: Client) -> None:
    store.insert(
        "ml_alerts",
        [alert("retired-rule", "resolved", NOW)],
        column_names="TransitionId TransitionAt RuleName ModelName ModelVersion Segment "
        "State Severity".split(),
    )
    registry = CollectorRegistry()
    registry.register(EvaluationsExport(store))
    samples = scrape(registry)
    assert samples[("inferwatch_alert_state", alert_series("retired-rule", "resolved"))] == 1.0


def test_a_failing_store_leaves_the_other_metrics_in_place(
    store: Client, caplog: pytest.LogCaptureFixture
) -> None:
    store.command("DROP TABLE ml_evaluations")  # the fault: every query of it fails
    registry = CollectorRegistry()
    registry.register(EvaluationsExport(store))
    samples = scrape(registry)
    assert not any(name == "inferwatch_model_metric" for name, _ in samples)
    assert "cannot read the evaluations" in caplog.text


# --- a real Prometheus scraping a real service ----------------------------------------------


@pytest.fixture(scope="session")
def prometheus_binary() -> Path:
    if not PROMETHEUS.exists():
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        install = ["apt-get", "install", "-y", "prometheus"]
        if subprocess.run(install, env=env, capture_output=True).returncode != 0:
            subprocess.run(["apt-get", "update"], env=env, capture_output=True)
            result = subprocess.run(install, env=env, capture_output=True, text=True)
            assert result.returncode == 0, f"cannot install prometheus:\n{result.stderr}"
    assert shutil.which(str(PROMETHEUS)), "prometheus is not installed"
    return PROMETHEUS


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def running_prometheus(binary: Path, folder: Path, target_port: int) -> Iterator[str]:
    """Prometheus on loopback scraping ``127.0.0.1:target_port/metrics`` every second."""
    folder.mkdir()
    config = folder / "prometheus.yml"
    target = {"targets": [f"127.0.0.1:{target_port}"]}
    scrape = {"job_name": "inferwatch", "static_configs": [target]}
    # JSON is YAML: no quoting to get wrong.
    config.write_text(json.dumps({"global": {"scrape_interval": "1s"}, "scrape_configs": [scrape]}))
    url = f"http://127.0.0.1:{free_port()}"
    command = [
        str(binary), f"--config.file={config}", f"--storage.tsdb.path={folder / 'tsdb'}",
        f"--web.listen-address={url.removeprefix('http://')}",
    ]  # fmt: skip
    with (folder / "prometheus.log").open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    try:
        yield url
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def instant_query(url: str, query: str) -> list[dict[str, Any]]:
    """The result vector of ``query`` (empty while Prometheus is not up yet)."""
    address = f"{url}/api/v1/query?{urllib.parse.urlencode({'query': query})}"
    try:
        with urllib.request.urlopen(address, timeout=5) as answer:
            result: list[dict[str, Any]] = json.load(answer)["data"]["result"]
            return result
    except OSError:
        return []


def wait_for_result(url: str, query: str, timeout: float = 30.0) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := instant_query(url, query):
            return result
        time.sleep(0.25)
    raise AssertionError(f"Prometheus has no result for {query} after {timeout}s")


@pytest.fixture
def seeded(tmp_path: Path) -> Path:
    """A data dir whose store holds one complete hour of `fraud` predictions, all labelled."""
    data_dir = tmp_path / "data"
    migrate = subprocess.run(
        [str(INFERWATCH), "migrate", "--data-dir", str(data_dir)],
        capture_output=True, text=True, env=clean_environ(), timeout=120,
    )  # fmt: skip
    assert migrate.returncode == 0, migrate.stderr
    columns = ("Timestamp", "ModelName", "ModelVersion", "Task", "PredictionId", "PredictedLabel")
    with open_store(data_dir) as client:
        client.insert(
            "ml_predictions",
            [[HOUR + timedelta(minutes=i), "fraud", "3", "binary_classification", f"id{i}", p]
             for i, p in enumerate(PREDICTED)],
            column_names=columns,
        )  # fmt: skip
        client.insert(
            "ml_labels",
            [[NOW, "fraud", f"id{i}", actual] for i, actual in enumerate(ACTUAL)],
            column_names=("Timestamp", "ModelName", "PredictionId", "ActualLabel"),
        )
    return data_dir


def test_prometheus_scrapes_the_model_f1_and_its_alert_state(
    prometheus_binary: Path, seeded: Path, tmp_path: Path
) -> None:
    config = tmp_path / "inferwatch.yaml"
    config.write_text(CONFIG)
    expected = f1_score(ACTUAL, PREDICTED, pos_label="1")
    with (
        serving(seeded, "--config", str(config)) as service,
        running_prometheus(prometheus_binary, tmp_path / "prometheus", service.http_port) as url,
    ):
        f1 = wait_for_result(url, 'inferwatch_model_metric{metric="f1",model="fraud"}')
        firing = wait_for_result(
            url, 'inferwatch_alert_state{rule="fraud-f1-low",state="firing"} == 1'
        )
    assert len(f1) == 1, f1
    assert {k: v for k, v in f1[0]["metric"].items() if k not in ("instance", "job")} == {
        "__name__": "inferwatch_model_metric",
        "model": "fraud",
        "version": "3",
        "metric": "f1",
        "window": "1h",
    }  # segment "" (all traffic) is no label at all in Prometheus
    assert float(f1[0]["value"][1]) == expected
    assert firing[0]["metric"]["severity"] == "page"

"""Alerts reach a real Prometheus Alertmanager (Debian's ``prometheus-alertmanager``) through
its v2 API, and later resolve there.

The fixture installs the package when ``/usr/bin/prometheus-alertmanager`` is missing
(``DEBIAN_FRONTEND=noninteractive apt-get install -y prometheus-alertmanager``, after
``apt-get update`` if that fails; the tests run as root) and fails — never skips — if it cannot.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from clickhouse_connect.driver import Client

from inferwatch_collector.alert import AlertState, Rule, dashboard_link, process_evaluations
from inferwatch_collector.alert.notifiers import (
    AlertmanagerConfig,
    AlertmanagerNotifier,
    RetryPolicy,
)

BINARY = "/usr/bin/prometheus-alertmanager"
CONFIG = """
route:
  receiver: blackhole
  group_wait: 1s
receivers:
  - name: blackhole
"""

pytestmark = pytest.mark.slow


def install_alertmanager() -> None:
    """Install Debian's package if the binary is missing; fail the test if that does not work."""
    if os.path.exists(BINARY):
        return
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "prometheus-alertmanager"]
    if subprocess.run(install, env=env, capture_output=True).returncode != 0:
        subprocess.run(["apt-get", "update"], env=env, capture_output=True)
        result = subprocess.run(install, env=env, capture_output=True, text=True)
        if result.returncode != 0:
            pytest.fail(f"cannot install prometheus-alertmanager: {result.stderr[-2000:]}")
    if not os.path.exists(BINARY):
        pytest.fail(f"prometheus-alertmanager installed but {BINARY} is missing")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Alertmanager:
    url: str

    def alerts(self) -> list[dict[str, Any]]:
        with urllib.request.urlopen(f"{self.url}/api/v2/alerts", timeout=5) as response:
            alerts: list[dict[str, Any]] = json.loads(response.read())
            return alerts


def wait_until_ready(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"alertmanager exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/-/ready", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    pytest.fail("alertmanager did not become ready within 30 s")


@pytest.fixture(scope="module")
def alertmanager(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Alertmanager]:
    install_alertmanager()
    folder = tmp_path_factory.mktemp("alertmanager")
    (folder / "alertmanager.yml").write_text(CONFIG)
    port = free_port()
    command = [
        BINARY, f"--config.file={folder / 'alertmanager.yml'}",
        f"--storage.path={folder / 'data'}", f"--web.listen-address=127.0.0.1:{port}",
        "--cluster.listen-address=",
    ]  # fmt: skip
    log = (folder / "alertmanager.log").open("wb")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until_ready(f"http://127.0.0.1:{port}", process)
        yield Alertmanager(f"http://127.0.0.1:{port}")
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()
        shutil.rmtree(folder / "data", ignore_errors=True)


@dataclass(frozen=True)
class Window:
    """One evaluated window, shaped as the evaluator's ``EvaluationRow``."""

    window_start: datetime
    value: float
    evaluated_at: datetime
    model: str = "fraud"
    version: str = "3.1"
    segment: str = "region=eu"
    window: str = "1h"
    metric: str = "f1"
    support: int = 800
    label_coverage: float = 0.9
    ci_low: float | None = None
    ci_high: float | None = None

    @property
    def window_end(self) -> datetime:
        return self.window_start + timedelta(hours=1)


RULE = Rule(
    name="FraudF1Low", model="fraud", metric="f1", window="1h", op="<", threshold=0.8,
    segment="region=eu", severity="critical", labels={"team": "risk"},
    annotation="F1 of {model} fell to {value:.3f} (threshold {threshold})",
)  # fmt: skip


def wait_for(condition: Any, what: str) -> Any:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.2)
    pytest.fail(f"alertmanager never showed {what}")


def ours(alertmanager: Alertmanager) -> list[dict[str, Any]]:
    return [a for a in alertmanager.alerts() if a["labels"].get("alertname") == "FraudF1Low"]


def test_alert_arrives_in_alertmanager_and_later_resolves(
    alertmanager: Alertmanager, store: Client
) -> None:
    config = AlertmanagerConfig(url=alertmanager.url, policy=RetryPolicy(timeout=5, retries=1))
    notifiers = [AlertmanagerNotifier(config)]
    link = dashboard_link("http://dash.example:8080")
    now = datetime.now(timezone.utc)
    hour = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    bad = [Window(hour, 0.71, now)]
    fired = process_evaluations(store, [RULE], notifiers, bad, now=now, generator_url=link)
    assert [t.state for t in fired] == [AlertState.FIRING]

    (alert,) = wait_for(lambda: ours(alertmanager), "the firing alert")
    assert alert["labels"] == {
        "alertname": "FraudF1Low", "team": "risk", "model": "fraud", "version": "3.1",
        "segment": "region=eu", "metric": "f1", "window": "1h", "severity": "critical",
    }  # fmt: skip
    assert alert["annotations"]["summary"] == "F1 of fraud fell to 0.710 (threshold 0.8)"
    assert alert["annotations"]["threshold"] == "0.8"
    start = hour.strftime("%Y-%m-%dT%H") + "%3A00%3A00Z"
    assert alert["generatorURL"] == (
        f"http://dash.example:8080/models/fraud?window_start={start}&window=1h"
    )
    assert alert["status"]["state"] == "active"
    assert datetime.fromisoformat(alert["endsAt"].replace("Z", "+00:00")) > now

    again = now + timedelta(minutes=5)  # still firing: re-sent with a later endsAt
    assert process_evaluations(store, [RULE], notifiers, bad, now=again, generator_url=link) == []
    wait_for(lambda: _ends_after(ours(alertmanager), again), "the re-sent alert")

    later = datetime.now(timezone.utc)  # late labels lift the window's F1 over the threshold
    recovered = [Window(hour, 0.91, later)]
    resolved = process_evaluations(
        store, [RULE], notifiers, recovered, now=later, generator_url=link
    )
    assert [t.state for t in resolved] == [AlertState.RESOLVED]
    wait_for(lambda: not ours(alertmanager), "the alert resolved")


def _ends_after(alerts: list[dict[str, Any]], moment: datetime) -> bool:
    ends = [datetime.fromisoformat(a["endsAt"].replace("Z", "+00:00")) for a in alerts]
    return bool(ends) and all(end > moment + timedelta(minutes=10) for end in ends)

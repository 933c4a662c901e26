"""`inferwatch evaluate` and `inferwatch thresholds suggest`, alone and beside `serve`."""

from __future__ import annotations

import json
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from service_process import INFERWATCH, clean_environ, open_store, serving

NOW = datetime.now(timezone.utc)
HOUR = NOW.replace(minute=0, second=0, microsecond=0) - timedelta(hours=2)

CONFIG = """
evaluation:
  windows: [1h]
  label_horizon: 6h
  schedule: 1s
  bootstrap_samples: 20
models:
  fraud: {task: binary_classification, positive_label: 1}
rules:
  - name: fraud-accuracy-low
    model: fraud
    metric: accuracy
    window: 1h
    op: "<"
    threshold: 0.9
    for: 1
    min_samples: 5
    severity: warning
    annotation: "accuracy of {model} fell to {value:.2f}"
"""


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(INFERWATCH), *args], capture_output=True, text=True, env=clean_environ(), timeout=120
    )


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A store holding one hour of predictions of `fraud`, 60 % right, all labelled."""
    data_dir = tmp_path / "data"
    migrate = run("migrate", "--data-dir", str(data_dir))
    assert migrate.returncode == 0, migrate.stderr
    columns = ("Timestamp", "ModelName", "ModelVersion", "Task", "PredictionId", "PredictedLabel")
    with open_store(data_dir) as client:
        client.insert(
            "ml_predictions",
            [[HOUR + timedelta(minutes=i), "fraud", "1", "binary_classification", f"id{i}", "1"]
             for i in range(10)],
            column_names=columns,
        )  # fmt: skip
        client.insert(
            "ml_labels",
            [[NOW, "fraud", f"id{i}", "1" if i < 6 else "0"] for i in range(10)],
            column_names=("Timestamp", "ModelName", "PredictionId", "ActualLabel"),
        )
    return data_dir


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "inferwatch.yaml"
    path.write_text(CONFIG)
    return path


def stored_accuracy(data_dir: Path) -> list[float]:
    with open_store(data_dir) as client:
        rows = client.query(
            "SELECT Value FROM ml_evaluations FINAL WHERE Metric = 'accuracy' AND Segment = ''"
        ).result_rows
    return [value for (value,) in rows]


def test_evaluate_once_writes_the_window_and_fires_the_rule(data_dir: Path, config: Path) -> None:
    result = run("evaluate", "--once", "--data-dir", str(data_dir), "--config", str(config))
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["evaluations"] > 0 and report["alert_transitions"] >= 1
    assert stored_accuracy(data_dir) == [0.6]
    with open_store(data_dir) as client:
        states = client.query("SELECT State FROM ml_alerts ORDER BY TransitionAt").result_rows
    assert ("firing",) in states


def test_backfill_shows_progress_and_bad_times_are_refused(data_dir: Path, config: Path) -> None:
    first, last = HOUR - timedelta(days=1), HOUR + timedelta(hours=1)
    start, end = (t.strftime("%Y-%m-%dT%H:%M:%SZ") for t in (first, last))
    common = ("--data-dir", str(data_dir), "--config", str(config))
    result = run("evaluate", "--from", start, "--to", end, "--window", "1h", *common)
    assert result.returncode == 0, result.stderr
    days = (last.date() - first.date()).days + 1  # one chunk per UTC day touched
    assert f"{days}/{days} chunks" in result.stderr
    assert stored_accuracy(data_dir) == [0.6]
    bad = run("evaluate", "--from", "yesterday", "--to", end, *common)
    assert bad.returncode == 2 and "--from" in bad.stderr


def test_beside_a_running_service_the_commands_go_through_it(data_dir: Path, config: Path) -> None:
    with serving(data_dir, "--config", str(config)):
        result = run("evaluate", "--once", "--data-dir", str(data_dir), "--config", str(config))
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["evaluations"] > 0
        suggestion = run(
            "thresholds", "suggest", "--rule", "fraud-accuracy-low",
            "--data-dir", str(data_dir), "--config", str(config),
        )  # fmt: skip
        assert suggestion.returncode == 0, suggestion.stderr
        assert suggestion.stdout.strip()
        unknown = run(
            "thresholds", "suggest", "--rule", "nope",
            "--data-dir", str(data_dir), "--config", str(config),
        )  # fmt: skip
        assert unknown.returncode == 2 and "fraud-accuracy-low" in unknown.stderr
    assert stored_accuracy(data_dir) == [0.6]  # the service's own scheduled passes agree

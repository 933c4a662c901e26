"""``inferwatch demo`` against a real ``inferwatch serve``: traffic, late labels, an alert.

The service runs with windows of 5 s evaluated every second, the demo with a fast timetable
(6 s healthy, 12 s drift, 12 s recovered, 40 predictions/s, labels about 1 s late), one cycle.
After both stopped, the store must hold exactly what the demo says it sent, and the F1 rule
must have fired on a drifted window and then resolved on a recovered one. Without a service
the demo stops at once with one line saying to start it. The late labels and the timetable
have small tests of their own.
"""

from __future__ import annotations

import re
import socket
import subprocess
import time
from pathlib import Path

import pytest
from service_process import INFERWATCH, clean_environ, read_queries, serving

from inferwatch_collector.demo_labels import LateLabels
from inferwatch_collector.demo_plan import DemoOptions

pytestmark = pytest.mark.slow

WINDOW_SECONDS = 5
HEALTHY, DRIFT, RECOVERY = 6.0, 12.0, 12.0
THRESHOLD = 0.85
DEMO_TIMEOUT = 120

CONFIG = f"""
evaluation:
  windows: [{WINDOW_SECONDS}s]
  label_horizon: 2m
  schedule: 1s
  segment_min_support: 10
models:
  demo-classifier:
    task: binary_classification
rules:
  - name: demo-f1-low
    model: demo-classifier
    metric: f1
    window: {WINDOW_SECONDS}s
    op: "<"
    threshold: {THRESHOLD}
    min_samples: 30
    min_label_coverage: 0.5
notifiers:
  - type: log
"""

DEMO_FLAGS = [
    "--rate", "40",
    "--healthy-seconds", str(HEALTHY),
    "--drift-seconds", str(DRIFT),
    "--recovery-seconds", str(RECOVERY),
    "--label-delay", "1",
    "--cycles", "1",
    "--status-every", "2",
]  # fmt: skip

QUERIES = {
    "predictions": (
        "SELECT count(), uniqExact(PredictionId), groupUniqArray(Segments['region'])"
        " FROM ml_predictions WHERE ModelName = 'demo-classifier'",
        None,
    ),
    "labels": (
        "SELECT count(), countIf(PredictionId NOT IN (SELECT PredictionId FROM ml_predictions))"
        " FROM ml_labels FINAL WHERE ModelName = 'demo-classifier'",
        None,
    ),
    "alerts": (
        "SELECT State, Value, toUnixTimestamp(WindowStart), toUnixTimestamp(WindowEnd)"
        " FROM ml_alerts WHERE RuleName = 'demo-f1-low' AND Segment = '' ORDER BY TransitionAt",
        None,
    ),
}


def _demo_environ() -> dict[str, str]:
    # The OpenTelemetry SDK exports batches every 5 s by default: as long as a whole window
    # here. Export often, so that a window's predictions are in when it is first judged.
    return {**clean_environ(), "OTEL_BSP_SCHEDULE_DELAY": "200", "OTEL_BLRP_SCHEDULE_DELAY": "200"}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_demo_drift_fires_the_alert_and_recovery_resolves_it(tmp_path: Path) -> None:
    config = tmp_path / "inferwatch.yaml"
    config.write_text(CONFIG)
    data = tmp_path / "data"
    with serving(data, "--config", str(config), "--http-port", "0") as service:
        started = time.time()
        demo = subprocess.run(
            [str(INFERWATCH), "demo", "--endpoint", service.http_url, *DEMO_FLAGS],
            capture_output=True,
            text=True,
            timeout=DEMO_TIMEOUT,
            env=_demo_environ(),
        )
        logs = service.logs
    assert demo.returncode == 0, f"{demo.stdout}\n{demo.stderr}\n{logs()}"
    for phase in ("healthy", "drift", "recovered"):
        assert f"phase {phase}" in demo.stdout
    assert "alerts: demo-f1-low firing" in demo.stdout  # its status lines read the service
    done = re.search(r"done \(flushed\): (\d+) predictions, (\d+) labels sent", demo.stdout)
    assert done, demo.stdout
    sent, labelled = int(done[1]), int(done[2])
    assert sent >= 0.8 * 40 * (HEALTHY + DRIFT + RECOVERY)
    assert 0.8 * sent <= labelled < sent  # about 10 % never labelled

    rows = read_queries(data, QUERIES)
    [(stored, unique, regions)] = rows["predictions"]
    assert (stored, unique) == (sent, sent)
    assert sorted(regions) == ["apac", "eu", "us"]
    assert rows["labels"] == [(labelled, 0)]  # every label belongs to a stored prediction

    states = [state for state, *_ in rows["alerts"]]
    assert "firing" in states, f"{rows['alerts']}\n{logs()}"
    fired = states.index("firing")
    assert "resolved" in states[fired:], f"{rows['alerts']}\n{logs()}"
    resolved = fired + states[fired:].index("resolved")
    _, fired_value, _, fired_end = rows["alerts"][fired]
    _, resolved_value, resolved_start, _ = rows["alerts"][resolved]
    story = f"demo started at {started}; transitions: {rows['alerts']}"
    assert fired_value < THRESHOLD <= resolved_value, story
    assert fired_end > started + HEALTHY, story  # a window with drifted traffic, not healthy
    assert resolved_start >= started + HEALTHY + DRIFT - WINDOW_SECONDS, story


def test_demo_without_a_service_says_to_start_one(tmp_path: Path) -> None:
    endpoint = f"http://127.0.0.1:{_free_port()}"
    demo = subprocess.run(
        [str(INFERWATCH), "demo", "--endpoint", endpoint, "--cycles", "1"],
        capture_output=True,
        text=True,
        timeout=DEMO_TIMEOUT,
        env=clean_environ(),
    )
    assert demo.returncode == 1
    assert demo.stdout == ""
    lines = demo.stderr.strip().splitlines()
    assert len(lines) == 1, demo.stderr
    assert f"no service answers at {endpoint}" in lines[0]
    assert "make run" in lines[0] and "inferwatch serve" in lines[0]


def test_late_labels_come_due_after_their_delay_and_some_never() -> None:
    draws = iter([0.05, 0.5, 0.9, 0.5, 0.5])  # lost; kept, delay × 1.4; kept, delay × 1
    labels = LateLabels(delay=10.0, unlabelled_share=0.1, draw=lambda: next(draws))
    for pid in ("lost", "late", "on-time"):
        labels.add(pid, actual=1, now=100.0)
    assert labels.never_labelled == 1 and labels.pending == 2
    assert labels.due(now=109.9) == []
    assert labels.due(now=110.0) == [("on-time", 1)]
    assert labels.last_due_at() == pytest.approx(114.0)
    assert labels.due(now=200.0) == [("late", 1)] and labels.pending == 0


def test_phases_follow_the_timetable_and_end_after_the_cycles() -> None:
    options = DemoOptions(healthy_seconds=5, drift_seconds=10, recovery_seconds=5, cycles=2)
    names = [(cycle, phase.name) for cycle, phase in map(options.phase_at, (0, 5, 14.9, 15, 20))]
    assert names == [(0, "healthy"), (0, "drift"), (0, "drift"), (0, "recovered"), (1, "healthy")]
    assert options.phase_at(40.0) is None
    forever = DemoOptions(cycles=0)
    assert forever.phase_at(10 * 300.0 + 61) == (10, forever.cycle[1])

"""A known dataset for the report tests, seeded through the real evaluator and alert engine.

Two models over the 48 complete hours before ``now``:

- ``fraud``, a binary classifier with versions ``1`` and ``2`` and a ``region`` segment key
  (``eu``, ``us``). Every window's confusion counts are set exactly; version ``2`` drops in
  quality in two known periods (``DROP_HOURS``), the second one lasting until ``now``, so
  that its rule ``fraud-f1-low`` (F1 < 0.75 for 2 windows) fired, resolved and fires again.
- ``price``, a regression model with one version.

Predictions and labels are inserted into ``ml_predictions`` and ``ml_labels``; then the
evaluator's passes fill ``ml_outcomes`` and ``ml_evaluations`` (a backfill of the first day,
a normal pass over the last day, which also measures drift against the 12 hours before it),
and the alert engine is run as if a pass had ended every hour, so ``ml_alerts`` holds the
history a service would have written. Everything is deterministic for a given ``now``.

::

    seeded = seed_data_dir(tmp_path / "data", now)   # the store closed again afterwards
    seeded.confusion("fraud", version="2")           # {("1", "0"): 57, ...}: what was seeded
    with serve_seeded(seeded) as service:            # inferwatch serve on that data
        browser.open_page(f"{service.url}/models/fraud")

    _, config = monitoring_config(tmp_path)          # or into an open, migrated client
    seeded = seed_store(client, now, config)
"""

from __future__ import annotations

import hashlib
import json
import random
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from service_process import ServeProcess

from inferwatch_collector.alert import dashboard_link, process_evaluations
from inferwatch_collector.evaluate.evaluation_pass import run_pass
from inferwatch_collector.monitoring_config import MonitoringConfig, load_monitoring_config
from inferwatch_collector.store import default_dsn, open_client, run_migrations

HOUR = timedelta(hours=1)
HOURS = 48
"""Complete hourly windows of data, ending at the start of the current hour."""
CLASSIFIER, REGRESSOR = "fraud", "price"
VERSIONS = ("1", "2")
DROPPING_VERSION = "2"
SEGMENT_KEY = "region"
RULE = "fraud-f1-low"
DROP_HOURS = ((20, 19, 18), (5, 4, 3, 2, 1))
"""The windows of version 2 whose quality drops, as hours before the current hour: one
period that fires then resolves, and one that is firing at ``now``."""
SEED = 20261127
NOT_APPLICABLE = {CLASSIFIER: {"model_errors"}, REGRESSOR: {"model_confusion_matrix"}}
"""The model-page reports that have no rows for a model, whatever the data: a classifier has
no regression errors, a regression model no confusion matrix."""

CONFIG = f"""
evaluation:
  windows: [1h]
  label_horizon: 24h
  schedule: 1h            # no scheduled pass while a test runs: the seeded rows stay as seeded
  drift_reference: 12h
  segment_top_k: 5
  segment_min_support: 10
  bootstrap_samples: 20
models:
  {CLASSIFIER}: {{task: binary_classification, positive_label: 1}}
  {REGRESSOR}: {{task: regression}}
rules:
  - name: {RULE}
    model: {CLASSIFIER}
    metric: f1
    window: 1h
    op: "<"
    threshold: 0.75
    for: 2
    min_samples: 5
    min_label_coverage: 0.5
    severity: page
notifiers:
  - type: log
"""

PREDICTION_COLUMNS = (
    "Timestamp", "ServiceName", "ModelName", "ModelVersion", "Task", "PredictionId",
    "PredictedLabel", "Score", "PredictedValue", "LatencyMs", "StatusCode", "TraceId", "SpanId",
    "Segments",
)  # fmt: skip
LABEL_COLUMNS = ("Timestamp", "ModelName", "PredictionId", "ActualLabel", "ActualValue")


@dataclass(frozen=True)
class SeededPrediction:
    """One inserted prediction and its label (``None``: never labelled)."""

    id: str
    model: str
    version: str
    time: datetime
    window_start: datetime
    region: str
    predicted: str
    """Predicted class ("" for the regression model)."""
    actual: str | None
    predicted_value: float | None = None
    actual_value: float | None = None
    score: float | None = None
    latency_ms: float = 0.0
    status: str = "ok"
    trace_id: str = ""
    span_id: str = ""

    @property
    def labelled(self) -> bool:
        return self.actual is not None or self.actual_value is not None

    @property
    def misclassified(self) -> bool:
        return self.actual is not None and self.actual != self.predicted


@dataclass(frozen=True)
class Transition:
    """An alert transition the seeded data must have produced."""

    version: str
    previous: str
    state: str
    at: datetime


@dataclass(frozen=True)
class SeededData:
    """What was seeded, for tests to derive expected report rows from."""

    now: datetime
    start: datetime
    """Start of the first window with data."""
    end: datetime
    """End of the last window with data: the start of ``now``'s hour."""
    predictions: tuple[SeededPrediction, ...]
    drop_windows: tuple[datetime, ...]
    """Window starts where version 2 of the classifier drops in quality."""
    transitions: tuple[Transition, ...]
    classifier: str = CLASSIFIER
    regressor: str = REGRESSOR
    versions: tuple[str, ...] = VERSIONS
    firing_version: str = DROPPING_VERSION
    segment_key: str = SEGMENT_KEY
    rule: str = RULE
    data_dir: Path | None = None
    config_path: Path | None = None
    window_starts: tuple[datetime, ...] = field(default=())

    def select(
        self,
        model: str,
        version: str = "",
        segment: str = "",
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> list[SeededPrediction]:
        """The predictions of ``model`` (one version, one ``region=..`` segment, a range)."""
        start, end = start or self.start, end or self.end
        return [
            p
            for p in self.predictions
            if p.model == model
            and version in ("", p.version)
            and segment in ("", f"{SEGMENT_KEY}={p.region}")
            and start <= p.time < end
        ]

    def volume(self, model: str, version: str = "", segment: str = "") -> dict[datetime, int]:
        """Predictions per window start."""
        return dict(Counter(p.window_start for p in self.select(model, version, segment)))

    def confusion(
        self,
        model: str,
        version: str = "",
        segment: str = "",
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> dict[tuple[str, str], int]:
        """Labelled predictions by ``(actual, predicted)`` class."""
        chosen = self.select(model, version, segment, start, end)
        return dict(Counter((p.actual, p.predicted) for p in chosen if p.actual is not None))

    def misclassified(self, model: str, window_start: datetime) -> list[SeededPrediction]:
        """The labelled, wrongly predicted predictions of one window, in time order."""
        found = self.select(model, start=window_start, end=window_start + HOUR)
        return sorted((p for p in found if p.misclassified), key=lambda p: p.time)


# --- generating the rows ------------------------------------------------------------------


def _ids(prediction_id: str) -> tuple[str, str]:
    digest = hashlib.sha256(prediction_id.encode()).hexdigest()
    return digest[:32], digest[32:48]


def _classifier_window(
    rng: random.Random, version: str, index: int, start: datetime, dropping: bool
) -> list[SeededPrediction]:
    """One window of the classifier with exact confusion counts (one in ten unlabelled)."""
    n = 36 + (7 * index + 5 * int(version)) % 13
    labelled = n - n // 10
    positives = 2 * labelled // 5
    negatives = labelled - positives
    missed = positives // 2 if dropping else positives // 10
    false_alarms = negatives // 3 if dropping else negatives // 12
    pairs: list[tuple[str | None, str]] = (
        [("1", "1")] * (positives - missed)
        + [("1", "0")] * missed
        + [("0", "1")] * false_alarms
        + [("0", "0")] * (negatives - false_alarms)
        + [(None, rng.choice("01")) for _ in range(n - labelled)]
    )
    rng.shuffle(pairs)
    rows = []
    for i, (actual, predicted) in enumerate(pairs):
        prediction_id = f"{CLASSIFIER}-{version}-{index:02d}-{i:03d}"
        trace_id, span_id = _ids(prediction_id)
        score = 0.55 + 0.44 * rng.random() if predicted == "1" else 0.45 * rng.random()
        rows.append(
            SeededPrediction(
                id=prediction_id, model=CLASSIFIER, version=version,
                # The versions' times never coincide: one order of a window's predictions.
                time=start + timedelta(milliseconds=int((i + 0.5) * 3_600_000 / n) + int(version)),
                window_start=start, region="eu" if i % 5 < 3 else "us",
                predicted=predicted, actual=actual, score=round(score, 4),
                latency_ms=round(5 + 40 * rng.random(), 1),
                status="error" if i % 20 == 7 else "ok", trace_id=trace_id, span_id=span_id,
            )
        )  # fmt: skip
    return rows


def _regression_window(rng: random.Random, index: int, start: datetime) -> list[SeededPrediction]:
    n = 20 + index % 4
    rows = []
    for i in range(n):
        prediction_id = f"{REGRESSOR}-1-{index:02d}-{i:03d}"
        trace_id, span_id = _ids(prediction_id)
        actual = round(rng.gauss(100, 20), 2)
        rows.append(
            SeededPrediction(
                id=prediction_id, model=REGRESSOR, version="1",
                time=start + timedelta(milliseconds=int((i + 0.5) * 3_600_000 / n)),
                window_start=start, region="eu", predicted="", actual=None,
                predicted_value=round(actual + rng.gauss(0, 5), 2), actual_value=actual,
                latency_ms=round(2 + 10 * rng.random(), 1), trace_id=trace_id, span_id=span_id,
            )
        )  # fmt: skip
    return rows


def generate(now: datetime) -> SeededData:
    """The dataset for ``now`` (nothing written yet)."""
    end = now.astimezone(timezone.utc).replace(minute=0, second=0, microsecond=0)
    start = end - HOURS * HOUR
    drops = tuple(end - hours * HOUR for period in DROP_HOURS for hours in period)
    rng = random.Random(SEED)
    predictions: list[SeededPrediction] = []
    starts = tuple(start + index * HOUR for index in range(HOURS))
    for index, window_start in enumerate(starts):
        for version in VERSIONS:
            dropping = version == DROPPING_VERSION and window_start in drops
            predictions += _classifier_window(rng, version, index, window_start, dropping)
        predictions += _regression_window(rng, index, window_start)
    return SeededData(
        now=now,
        start=start,
        end=end,
        predictions=tuple(predictions),
        drop_windows=drops,
        transitions=_expected_transitions(end),
        window_starts=starts,
    )


def _expected_transitions(end: datetime) -> tuple[Transition, ...]:
    """What the rule (F1 < 0.75 for 2 windows) must do with one pass at every hour's end:
    pending after the first bad window, firing after the second, resolved after the first
    good one; the versions that never drop stay inactive (no transition)."""
    (first, *_), (second, *_) = DROP_HOURS
    v = DROPPING_VERSION
    return (
        Transition(v, "inactive", "pending", end - (first - 1) * HOUR),
        Transition(v, "pending", "firing", end - (first - 2) * HOUR),
        Transition(v, "firing", "resolved", end - (first - len(DROP_HOURS[0]) - 1) * HOUR),
        Transition(v, "resolved", "pending", end - (second - 1) * HOUR),
        Transition(v, "pending", "firing", end - (second - 2) * HOUR),
    )


# --- writing them through the real pipeline -----------------------------------------------


def _prediction_row(p: SeededPrediction) -> list[Any]:
    task = "regression" if p.model == REGRESSOR else "binary_classification"
    return [
        p.time, "seed", p.model, p.version, task, p.id, p.predicted, p.score,
        p.predicted_value, p.latency_ms, p.status, p.trace_id, p.span_id,
        {SEGMENT_KEY: p.region},
    ]  # fmt: skip


def _label_row(p: SeededPrediction, now: datetime) -> list[Any]:
    at = min(p.time + timedelta(minutes=15), now)
    return [at, p.model, p.id, p.actual or "", p.actual_value]


def monitoring_config(folder: Path) -> tuple[Path, MonitoringConfig]:
    """Write the seeded data's config file into ``folder``; its path and its loaded form."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "inferwatch-seed.yaml"
    path.write_text(CONFIG)
    return path, load_monitoring_config(path)


def seed_store(client: Any, now: datetime, config: MonitoringConfig) -> SeededData:
    """Insert the dataset into a migrated store, evaluate it and run the alert engine."""
    data = generate(now)
    rows = [_prediction_row(p) for p in data.predictions]
    client.insert("ml_predictions", rows, column_names=PREDICTION_COLUMNS)
    labels = [_label_row(p, now) for p in data.predictions if p.labelled]
    client.insert("ml_labels", labels, column_names=LABEL_COLUMNS)
    settings = config.settings
    split = data.end - 24 * HOUR  # the normal pass covers the label horizon (24h) after it
    evaluated = run_pass(client, settings, now=now, start=data.start, end=split)
    evaluated += run_pass(client, settings, now=now)
    link = dashboard_link(config.alerting.dashboard_url)
    for hour in range(1, HOURS + 1):  # the alert engine after each hour's pass
        at = data.start + hour * HOUR
        process_evaluations(client, config.rules, [], evaluated, now=at, generator_url=link)
    return data


def seed_data_dir(data_dir: Path, now: datetime | None = None) -> SeededData:
    """Seed the embedded store of ``data_dir`` (closed again after) and write its config file
    beside it, ready for ``inferwatch serve --data-dir data_dir --config ...``."""
    now = now or datetime.now(timezone.utc)
    config_path, config = monitoring_config(data_dir.parent)
    client = open_client(default_dsn(data_dir))
    try:
        run_migrations(client, ttl_days=30)
        data = seed_store(client, now, config)
    finally:
        client.close()
    return replace(data, data_dir=data_dir, config_path=config_path)


# --- the service on it --------------------------------------------------------------------


@dataclass
class SeededService:
    """``inferwatch serve`` on the seeded data: the process and its dashboard's address."""

    process: ServeProcess
    data: SeededData
    dashboard_port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.dashboard_port}"


def dashboard_port(service: ServeProcess) -> int:
    """The dashboard's port: the ready line's ``http_port``, else ``service.json``'s."""
    if port := getattr(service, "dashboard_port", None):
        return int(port)
    stdout = service.log_path.with_suffix(".stdout")
    for line in stdout.read_text(errors="replace").splitlines():
        ready = json.loads(line) if line.startswith("{") else {}
        if ready.get("event") == "ready":
            for key in ("http_port", "dashboard_port"):
                if ready.get(key):
                    return int(ready[key])
    discovery = json.loads((service.data_dir / "service.json").read_text())
    return int(discovery["dashboard_port"])


@contextmanager
def serve_seeded(data: SeededData, *flags: str) -> Iterator[SeededService]:
    """``inferwatch serve`` on a folder ``seed_data_dir`` filled, dashboard on a free port;
    stopped (exit status 0) afterwards."""
    assert data.data_dir is not None and data.config_path is not None
    command: Sequence[str] = ("--config", str(data.config_path), "--http-port", "0", *flags)
    service = ServeProcess.start(data.data_dir, *command)
    try:
        yield SeededService(service, data, dashboard_port(service))
    finally:
        status = service.stop()
    assert status == 0, f"inferwatch serve exited with {status}\n{service.logs()}"

"""A pass that re-reads only what changed, and one that starts from the stored window
statistics, give the rows a pass over every window's raw rows gives, step after step."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np
import pytest
from evaluation_helpers import Statements, comparable

from inferwatch_collector.evaluate import outcomes
from inferwatch_collector.evaluate.evaluation_pass import run_pass
from inferwatch_collector.evaluate.settings import (
    EvaluationSettings,
    ModelSettings,
    MonitoringSettings,
)
from inferwatch_collector.evaluate.window_stats import stats_parameters
from inferwatch_collector.evaluate.windows import WindowRange
from inferwatch_collector.store.client import open_client

NOW = datetime.now(timezone.utc).replace(minute=30, second=0, microsecond=0)
HOURS = [NOW.replace(minute=0) - timedelta(hours=h) for h in range(4)]
SETTINGS = MonitoringSettings(
    evaluation=EvaluationSettings(
        windows=("1h",), label_horizon="6h", bootstrap_samples=20, segment_min_support=5
    ),
    models=(
        ModelSettings("fraud", task="binary_classification", positive_label="1"),
        ModelSettings("digits", task="multiclass_classification"),
    ),
)
COLUMNS = (
    "Timestamp", "ModelName", "ModelVersion", "Task", "PredictionId", "PredictedLabel",
    "Score", "LatencyMs", "StatusCode", "Segments",
)  # fmt: skip


def uuid7(moment: datetime, n: int) -> str:
    ms = int(moment.timestamp() * 1000)
    return f"{ms >> 16:08x}-{ms & 0xFFFF:04x}-7000-8000-{n:012x}"


class Stream:
    """Random arrivals: predictions, their labels, later labels replacing earlier ones."""

    def __init__(self, client: Any, seed: int) -> None:
        self.client, self.rng, self.n = client, np.random.default_rng(seed), 0
        self.unlabelled: list[tuple[str, str]] = []
        self.labelled: list[tuple[str, str]] = []
        self.clock = NOW

    def predictions(self, model: str, hour: datetime, count: int) -> None:
        rows = []
        for _ in range(count):
            self.n += 1
            moment = hour + timedelta(seconds=int(self.rng.integers(0, 3600)))
            pid = uuid7(moment, self.n) if self.rng.random() < 0.7 else f"key-{self.n}"
            classes = 2 if model == "fraud" else 4
            segments = {"region": str(self.rng.choice(["eu", "us", "apac"]))}
            rows.append([
                moment, model, str(self.rng.choice(["1", "2"])),
                "binary_classification" if model == "fraud" else "multiclass_classification",
                pid, str(self.rng.integers(0, classes)),
                float(self.rng.random()) if self.rng.random() < 0.8 else None,
                float(self.rng.integers(1, 100)), "error" if self.rng.random() < 0.1 else "ok",
                segments if self.rng.random() < 0.6 else {},
            ])  # fmt: skip
            self.unlabelled.append((model, pid))
        self.client.insert("ml_predictions", rows, column_names=COLUMNS)

    def labels(self, count: int, *, replace: bool = False) -> None:
        pool = self.labelled if replace else self.unlabelled
        picked = [pool.pop(int(self.rng.integers(len(pool)))) for _ in range(min(count, len(pool)))]
        self.clock += timedelta(seconds=1)  # a later label wins
        rows = [
            [self.clock, model, pid, str(self.rng.integers(0, 2 if model == "fraud" else 4))]
            for model, pid in picked
        ]
        if rows:
            self.client.insert(
                "ml_labels",
                rows,
                column_names=("Timestamp", "ModelName", "PredictionId", "ActualLabel"),
            )
        self.labelled += picked


def fresh_pass(
    store_dsn: str, settings: MonitoringSettings = SETTINGS, *, stored: bool = True
) -> list[Any]:
    """A pass of a process that remembers nothing (``inferwatch evaluate --once``); with
    ``stored=False`` the stored window statistics are dropped first."""
    client = open_client(store_dsn)
    try:
        if not stored:
            client.command("TRUNCATE TABLE ml_window_stats")
        return run_pass(client, settings, now=NOW)
    finally:
        client.close()


@pytest.mark.parametrize(
    ("seed", "overlap"),
    [(1, timedelta(0)), (2, timedelta(0)), (3, outcomes.OVERLAP)],
    ids=["no-overlap-1", "no-overlap-2", "overlap"],
)
def test_each_pass_of_a_running_evaluator_equals_a_full_pass(
    store_dsn: str, seed: int, overlap: timedelta, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Without the overlap (no insert runs while a pass reads) each arrival is folded once;
    # with it, every pass folds the previous passes' arrivals again, harmlessly.
    monkeypatch.setattr(outcomes, "OVERLAP", overlap)
    client = open_client(store_dsn)
    stream = Stream(client, seed)
    # Known before the first pass, as a full pass looks them up: the segment values of each
    # model, and the drift reference (the period before the label horizon).
    for model in ("fraud", "digits"):
        stream.predictions(model, HOURS[3], 30)
        stream.predictions(model, NOW.replace(minute=0) - timedelta(hours=9), 30)
    steps = [
        lambda: stream.predictions("fraud", HOURS[1], 60),
        lambda: stream.predictions("digits", HOURS[2], 60),
        lambda: stream.labels(50),  # labels reach both models' windows
        lambda: stream.predictions("digits", HOURS[0], 40),  # predictions only, one window
        lambda: stream.labels(10, replace=True),  # late labels replace earlier ones
        lambda: stream.predictions("fraud", HOURS[3], 30) or stream.labels(20),
        lambda: None,  # nothing arrives
    ]
    try:
        for step in steps:
            step()
            running = run_pass(client, SETTINGS, now=NOW)
            stored = fresh_pass(store_dsn)  # a new process: the stored window statistics
            raw = fresh_pass(store_dsn, stored=False)  # every window from the raw rows
            assert comparable(running) == comparable(raw)
            assert comparable(stored) == comparable(raw)
        assert {r.metric for r in running} >= {"f1", "f1_macro", "psi", "latency_p95_ms"}
        assert any(r.segment == "region=eu" for r in running)
    finally:
        client.close()


SPAN = WindowRange("1h", 3600, HOURS[3], NOW)


def test_windows_that_fill_their_range_are_read_by_range_alone() -> None:
    starts = [int(h.timestamp()) for h in HOURS[:2]]
    changed = [(model, start) for model in ("a", "b") for start in starts]
    parameters = stats_parameters(SETTINGS, SPAN, [], changed)
    assert (parameters["every"], parameters["exact"], parameters["models"]) == (0, 0, ["a", "b"])
    assert (parameters["lo"], parameters["hi"]) == (HOURS[1], NOW)


def test_scattered_windows_are_tested_one_by_one() -> None:
    changed = [("a", int(HOURS[0].timestamp())), ("b", int(HOURS[2].timestamp()))]
    parameters = stats_parameters(SETTINGS, SPAN, [], changed)
    assert parameters["exact"] == 1 and parameters["changed"] == changed
    assert parameters["hours"] == sorted(changed)
    five_minutes = WindowRange("5m", 300, HOURS[3], NOW)
    start = int(HOURS[1].timestamp()) + 600
    small = stats_parameters(SETTINGS, five_minutes, [], [("a", start), ("a", start + 1200)])
    assert small["exact"] == 1 and small["hours"] == [("a", int(HOURS[1].timestamp()))]


def seeded(
    store_dsn: str, monkeypatch: pytest.MonkeyPatch, settings: MonitoringSettings = SETTINGS
) -> Any:
    """A store with two models' windows evaluated once (their statistics stored)."""
    monkeypatch.setattr(outcomes, "OVERLAP", timedelta(0))
    client = open_client(store_dsn)
    stream = Stream(client, 5)
    for model, hour in (("fraud", HOURS[1]), ("digits", HOURS[2]), ("fraud", HOURS[3])):
        stream.predictions(model, hour, 40)
    stream.labels(80)
    run_pass(client, settings, now=NOW)
    return client


def sized(window: str) -> MonitoringSettings:
    return replace(SETTINGS, evaluation=replace(SETTINGS.evaluation, windows=(window,)))


def test_a_new_process_reads_only_the_windows_that_changed_since_they_were_stored(
    store_dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = seeded(store_dsn, monkeypatch)
    client.close()
    quiet = open_client(store_dsn)
    statements = Statements(quiet)
    rows = run_pass(quiet, SETTINGS, now=NOW)
    quiet.close()
    assert "PREDICTION_STATS" not in statements.run and "OUTCOME_STATS" not in statements.run
    assert {r.window_start for r in rows} == set(HOURS[1:])  # still every window
    client = open_client(store_dsn)
    Stream(client, 6).predictions("digits", HOURS[0], 10)
    client.close()
    busy = open_client(store_dsn)
    statements = Statements(busy)
    run_pass(busy, SETTINGS, now=NOW)
    busy.close()
    assert statements.run.count("PREDICTION_STATS") == 1  # the one new window


@pytest.mark.parametrize("window", ["1h", "20m", "90m"])  # nest with hours, or not
def test_windows_lost_from_the_store_are_read_again(
    store_dsn: str, window: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = seeded(store_dsn, monkeypatch, sized(window))
    expected = comparable(run_pass(client, sized(window), now=NOW))
    client.command(
        "ALTER TABLE ml_window_stats DELETE WHERE ModelName = 'digits' SETTINGS mutations_sync = 2"
    )
    client.close()
    assert comparable(fresh_pass(store_dsn, sized(window))) == expected
    assert any(key[0] == "digits" for key in expected)


def test_windows_stored_under_other_settings_are_read_again(
    store_dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    seeded(store_dsn, monkeypatch).close()
    fewer_segments = replace(
        SETTINGS, evaluation=replace(SETTINGS.evaluation, segment_top_k=1)
    )  # other segment series: region=eu and region=other
    raw = comparable(fresh_pass(store_dsn, fewer_segments, stored=False))
    fresh_pass(store_dsn, stored=False)  # stores the statistics under the first settings
    assert comparable(fresh_pass(store_dsn, fewer_segments)) == raw
    assert any(key[2] == "region=other" for key in raw)

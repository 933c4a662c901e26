"""A running evaluator looks up the top segment values and the drift reference again when its
own reads show them stale, and regression models drift on bins of their predicted values."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np
import pytest
from evaluation_helpers import Statements, comparable

from inferwatch_collector.evaluate import evaluation_pass, outcomes
from inferwatch_collector.evaluate.drift import population_stability_index
from inferwatch_collector.evaluate.evaluation_pass import _memories, run_pass
from inferwatch_collector.evaluate.settings import (
    EvaluationSettings,
    ModelSettings,
    MonitoringSettings,
)
from inferwatch_collector.evaluate.store import latest_evaluations
from inferwatch_collector.evaluate.window_stats import value_edges
from inferwatch_collector.store.client import open_client

START = datetime.now(timezone.utc).replace(second=0, microsecond=0) - timedelta(minutes=40)
MINUTE = timedelta(minutes=1)
SETTINGS = MonitoringSettings(
    evaluation=EvaluationSettings(
        windows=("1m",),
        label_horizon="15m",
        drift_reference="1h",
        segment_top_k=10,
        segment_min_support=5,
        bootstrap_samples=20,
    ),
    models=(ModelSettings("fraud", task="binary_classification", positive_label="1"),),
)
COLUMNS = (
    "Timestamp", "ModelName", "ModelVersion", "Task", "PredictionId", "PredictedLabel",
    "Score", "PredictedValue", "LatencyMs", "StatusCode", "Segments",
)  # fmt: skip


@pytest.fixture(autouse=True)
def no_overlap(monkeypatch: pytest.MonkeyPatch) -> None:
    # No insert runs while a pass reads here: each arrival is folded once.
    monkeypatch.setattr(outcomes, "OVERLAP", timedelta(0))


def classified(
    client: Any, minute: datetime, regions: dict[str, int], *, score: float, tag: str
) -> None:
    """``regions[r]`` predictions of fraud in ``minute``, each region's half labelled right."""
    rows, labels = [], []
    for region, count in regions.items():
        for i in range(count):
            pid = f"{tag}-{region}-{i}"
            at = minute + timedelta(seconds=i % 60)
            rows.append([at, "fraud", "1", "binary_classification", pid, str(i % 2), score,
                         None, 5.0, "ok", {"region": region}])  # fmt: skip
            if i % 2 == 0:
                labels.append([at, "fraud", pid, str(i % 2), None])
    client.insert("ml_predictions", rows, column_names=COLUMNS)
    client.insert(
        "ml_labels",
        labels,
        column_names=("Timestamp", "ModelName", "PredictionId", "ActualLabel", "ActualValue"),
    )


def fresh_pass(store_dsn: str, now: datetime, settings: MonitoringSettings = SETTINGS) -> list[Any]:
    """A pass of a process that remembers nothing, from the raw rows."""
    client = open_client(store_dsn)
    try:
        client.command("TRUNCATE TABLE ml_window_stats")
        return run_pass(client, settings, now=now)
    finally:
        client.close()


def segments(
    rows: list[Any], metric: str = "prediction_count"
) -> dict[tuple[datetime, str], float]:
    return {(r.window_start, r.segment): r.value for r in rows if r.metric == metric}


def test_new_segment_values_get_their_own_series_at_the_next_pass(store_dsn: str) -> None:
    client = open_client(store_dsn)
    try:
        now = START + 15 * MINUTE
        classified(client, START + 2 * MINUTE, {"eu": 10}, score=0.2, tag="a")
        first = run_pass(client, SETTINGS, now=now)  # a full pass: region eu is all it knows
        assert segments(first)[(START + 2 * MINUTE, "region=eu")] == 10
        # New regions arrive, in a new window and in the window already evaluated.
        classified(client, START + 2 * MINUTE, {"us": 12}, score=0.3, tag="b")
        classified(client, START + 3 * MINUTE, {"eu": 8, "apac": 6}, score=0.4, tag="c")
        statements = Statements(client)
        second = run_pass(client, SETTINGS, now=now)
        counts = segments(second)
        assert counts[(START + 2 * MINUTE, "region=us")] == 12
        assert counts[(START + 3 * MINUTE, "region=apac")] == 6
        assert not any(segment == "region=other" for _, segment in counts)
        assert statements.run.count("TOP_SEGMENT_VALUES") == 1
        assert comparable(second) == comparable(fresh_pass(store_dsn, now))  # as from scratch
        stored = latest_evaluations(client, model="fraud")
        assert {r.segment for r in stored} == {"", "region=eu", "region=us", "region=apac"}
    finally:
        client.close()


def test_a_full_top_k_keeps_pooling_and_a_new_top_drops_the_series_gone(
    store_dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    one = MonitoringSettings(
        evaluation=EvaluationSettings(**{**vars(SETTINGS.evaluation), "segment_top_k": 1}),
        models=SETTINGS.models,
    )
    client = open_client(store_dsn)
    try:
        now, minute = START + 15 * MINUTE, START + 2 * MINUTE
        classified(client, minute, {"eu": 10}, score=0.2, tag="a")
        run_pass(client, one, now=now)
        classified(client, minute, {"us": 7}, score=0.2, tag="b")
        statements = Statements(client)
        rows = run_pass(client, one, now=now)
        assert segments(rows)[(minute, "region=other")] == 7
        assert "TOP_SEGMENT_VALUES" not in statements.run  # the top value is known: no look-up
        # us overtakes eu: the next full pass (the hourly one) makes it the top value, and the
        # rows of region=eu, pooled as other now, leave ml_evaluations.
        classified(client, minute, {"us": 20}, score=0.2, tag="c")
        monkeypatch.setattr(evaluation_pass, "FULL_PASS_EVERY", timedelta(0))
        rows = run_pass(client, one, now=now + timedelta(seconds=1))
        expected = {(minute, ""): 37, (minute, "region=us"): 27, (minute, "region=other"): 10}
        assert segments(rows) == expected
        stored = latest_evaluations(client, model="fraud")
        assert segments(stored) == expected
    finally:
        client.close()


def test_drift_appears_once_the_first_windows_have_become_the_reference(store_dsn: str) -> None:
    client = open_client(store_dsn)
    try:
        run_pass(client, SETTINGS, now=START + 5 * MINUTE)  # a fresh store: nothing to look up
        memory = _memories[client][(SETTINGS, "1m")]
        classified(client, START + 1 * MINUTE, {"eu": 20, "us": 20}, score=0.15, tag="a")
        early = run_pass(client, SETTINGS, now=START + 5 * MINUTE)
        assert {r.metric for r in early} >= {"f1", "prediction_count"}
        assert not {"psi", "js_divergence"} & {r.metric for r in early}  # no reference yet
        assert segments(early)[(START + MINUTE, "region=us")] == 20

        # Nothing new: nothing is read or looked up again, the memory stays as it was.
        statements = Statements(client)
        idle = run_pass(client, SETTINGS, now=START + 5 * MINUTE)
        assert comparable(idle) == comparable(early)
        assert not {"TOP_SEGMENT_VALUES", "REFERENCE_BINS", "PREDICTION_STATS", "OUTCOME_STATS"} & {
            *statements.run
        }
        assert _memories[client][(SETTINGS, "1m")] is memory
        reference = memory.reference

        # 20 minutes on, the first window has left the range: it is the reference now.
        now = START + 20 * MINUTE
        classified(client, START + 12 * MINUTE, {"eu": 20, "us": 20}, score=0.85, tag="b")
        statements.run.clear()
        later = run_pass(client, SETTINGS, now=now)
        assert statements.run.count("REFERENCE_BINS") == 1
        assert memory.reference is not reference and memory.reference.histograms
        psi = {r.segment: r.value for r in later if r.metric == "psi"}
        assert psi.keys() == {"", "region=eu", "region=us"}
        assert min(psi.values()) > 1  # every score moved from bin 1 to bin 8
        assert comparable(later) == comparable(fresh_pass(store_dsn, now))
    finally:
        client.close()


REGRESSION = MonitoringSettings(
    evaluation=EvaluationSettings(
        windows=("1h",), label_horizon="3h", drift_reference="1d", bootstrap_samples=20
    )
)
HOUR = START.replace(minute=0) - timedelta(hours=1)


def regression(client: Any, model: str, start: datetime, values: np.ndarray, tag: str) -> None:
    step = timedelta(hours=1) / len(values)
    rows = [
        [start + i * step, model, "1", "regression", f"{tag}{i}", "", None, float(v), 5.0, "ok",
         {}]
        for i, v in enumerate(values)
    ]  # fmt: skip
    client.insert("ml_predictions", rows, column_names=COLUMNS)


def expected_psi(reference: np.ndarray, current: np.ndarray, bins: int = 10) -> float:
    """PSI on the documented bins, from the raw values: the reference's values at ranks
    ceil(i·n/bins), rounded by ``value_edges``; a value counts in the number of edges ≤ it."""
    ordered = np.sort(reference)
    ranks = [max(1, math.ceil(i * len(ordered) / bins)) for i in range(1, bins)]
    edges = value_edges([float(ordered[r - 1]) for r in ranks])
    count = lambda values: dict(  # noqa: E731
        zip(
            *np.unique(np.searchsorted(edges, values, side="right"), return_counts=True),
            strict=True,
        )
    )
    return population_stability_index(count(current), count(reference))


def test_regression_drift_bins_the_predicted_values_on_reference_quantiles(store_dsn: str) -> None:
    rng = np.random.default_rng(11)
    client = open_client(store_dsn)
    try:
        before = HOUR - timedelta(hours=6)
        history = {model: rng.normal(100, 10, 5000) for model in ("shifted", "steady")}
        current = {"shifted": rng.normal(108, 10, 2000), "steady": rng.normal(100, 10, 2000)}
        for model in history:
            regression(client, model, before, history[model], "ref-")
            regression(client, model, HOUR, current[model], "cur-")
        rows = run_pass(client, REGRESSION, now=START)
        psi = {r.model: r.value for r in rows if r.metric == "psi" and r.window_start == HOUR}
        assert psi["shifted"] > 0.1
        assert psi["steady"] < 0.02
        for model in history:
            assert psi[model] == pytest.approx(
                expected_psi(history[model], current[model]), rel=1e-9
            )
        again = open_client(store_dsn)  # a new process, from the stored window statistics
        try:
            assert comparable(run_pass(again, REGRESSION, now=START)) == comparable(rows)
        finally:
            again.close()
    finally:
        client.close()


def test_value_edges_are_rounded_to_the_spread_and_unique() -> None:
    assert value_edges([90.04, 100.06, 109.97]) == (90.0, 100.1, 110.0)  # steps of 0.1
    assert value_edges([93.613, 95.834, 97.442]) == (93.61, 95.83, 97.44)  # steps of 0.01
    assert value_edges([1.0, 1.0, 2.0, 2.0]) == (1.0, 2.0)
    assert value_edges([-0.0001, 0.0001]) == (-0.0001, 0.0001)
    assert value_edges([7.0, 7.0, 7.0]) == (7.0, math.nextafter(7.0, math.inf))

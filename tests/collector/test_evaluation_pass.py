"""An evaluation pass on a real chDB: known answers, late labels, horizon, segments, backfill."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn import metrics as skm

from inferwatch_collector.evaluate import outcomes
from inferwatch_collector.evaluate.evaluation_pass import run_pass
from inferwatch_collector.evaluate.settings import (
    EvaluationSettings,
    ModelSettings,
    MonitoringSettings,
)
from inferwatch_collector.evaluate.store import latest_evaluations
from inferwatch_collector.store.client import open_client
from inferwatch_collector.store.migrations import run_migrations

NOW = datetime.now(timezone.utc).replace(minute=30, second=0, microsecond=0)
HOUR = NOW.replace(minute=0) - timedelta(hours=2)  # a complete window, two hours ago

PREDICTION_COLUMNS = (
    "Timestamp", "ModelName", "ModelVersion", "Task", "PredictionId", "PredictedLabel",
    "Score", "PredictedValue", "LatencyMs", "StatusCode", "Segments",
)  # fmt: skip


@pytest.fixture
def client(tmp_path: Path) -> Iterator[Any]:
    client = open_client(f"chdb://{tmp_path / 'store'}")
    run_migrations(client, ttl_days=30)
    yield client
    client.close()


def predict(client: Any, rows: list[dict[str, Any]]) -> None:
    defaults = {
        "ModelVersion": "1", "Task": "binary_classification", "Score": None,
        "PredictedValue": None, "LatencyMs": 5.0, "StatusCode": "ok", "Segments": {},
        "PredictedLabel": "",
    }  # fmt: skip
    data = [[{**defaults, **row}[c] for c in PREDICTION_COLUMNS] for row in rows]
    client.insert("ml_predictions", data, column_names=PREDICTION_COLUMNS)


def label(client: Any, model: str, pairs: list[tuple[str, Any]], at: datetime = NOW) -> None:
    data = [
        [
            at,
            model,
            pid,
            "" if isinstance(v, float) else str(v),
            v if isinstance(v, float) else None,
        ]
        for pid, v in pairs
    ]
    client.insert(
        "ml_labels",
        data,
        column_names=("Timestamp", "ModelName", "PredictionId", "ActualLabel", "ActualValue"),
    )


def settings(**evaluation: Any) -> MonitoringSettings:
    base = {"windows": ("1h",), "label_horizon": "6h", "bootstrap_samples": 50}
    return MonitoringSettings(
        evaluation=EvaluationSettings(**{**base, **evaluation}),
        models=(ModelSettings("fraud", task="binary_classification", positive_label="1"),),
    )


def metric(rows: list, name: str, segment: str = "", start: datetime = HOUR) -> Any:
    found = [r for r in rows if (r.metric, r.segment, r.window_start) == (name, segment, start)]
    assert len(found) == 1, (name, segment, start, len(found))
    return found[0]


def binary_window(client: Any, n: int = 40, seed: int = 1) -> tuple[list[str], list[str]]:
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, 2, n).astype(str).tolist()
    y_pred = [t if rng.random() < 0.8 else str(1 - int(t)) for t in y_true]
    ids = [f"tx-{seed}-{i}" for i in range(n)]  # business keys, not UUIDs
    predict(
        client,
        [
            {"Timestamp": HOUR + timedelta(seconds=60 * i), "ModelName": "fraud",
             "PredictionId": pid, "PredictedLabel": p, "LatencyMs": float(i),
             "StatusCode": "error" if i == 0 else "ok"}
            for i, (pid, p) in enumerate(zip(ids, y_pred, strict=True))
        ],
    )  # fmt: skip
    label(client, "fraud", list(zip(ids, y_true, strict=True)))
    return y_true, y_pred


def test_a_window_gets_the_metrics_scikit_learn_gives(client: Any) -> None:
    y_true, y_pred = binary_window(client)
    rows = run_pass(client, settings(), now=NOW)
    expected = {
        "accuracy": skm.accuracy_score(y_true, y_pred),
        "precision": skm.precision_score(y_true, y_pred, pos_label="1", zero_division=0),
        "recall": skm.recall_score(y_true, y_pred, pos_label="1", zero_division=0),
        "f1": skm.f1_score(y_true, y_pred, pos_label="1", zero_division=0),
        "prediction_count": 40,
        "label_count": 40,
        "label_coverage": 1.0,
        "error_rate": 1 / 40,
        "latency_p50_ms": 20.0,  # quantileExact: the value at position floor(0.5 * n)
    }
    for name, value in expected.items():
        assert metric(rows, name).value == pytest.approx(value, abs=1e-12), name
    f1 = metric(rows, "f1")
    assert f1.ci_low < f1.value < f1.ci_high
    assert f1.window_end - f1.window_start == timedelta(hours=1)
    stored = {r.metric: r.value for r in latest_evaluations(client, model="fraud")}
    assert stored["accuracy"] == pytest.approx(expected["accuracy"])


def test_late_labels_change_the_window_on_the_next_pass(client: Any) -> None:
    predict(
        client,
        [{"Timestamp": HOUR, "ModelName": "fraud", "PredictionId": f"p{i}", "PredictedLabel": "1"}
         for i in range(4)],
    )  # fmt: skip
    label(client, "fraud", [("p0", "1"), ("p1", "0")])
    first = run_pass(client, settings(), now=NOW)
    assert metric(first, "accuracy").value == 0.5
    assert metric(first, "label_coverage").value == 0.5
    label(client, "fraud", [("p2", "1"), ("p3", "1"), ("p1", "1")], at=NOW + timedelta(minutes=1))
    second = run_pass(client, settings(), now=NOW + timedelta(minutes=5))
    assert metric(second, "accuracy").value == 1.0  # p1's later label replaced the first
    latest = [r for r in latest_evaluations(client, model="fraud") if r.metric == "accuracy"]
    assert [r.value for r in latest if r.segment == ""] == [1.0]


def test_windows_past_the_label_horizon_are_not_evaluated_again(client: Any) -> None:
    old = NOW.replace(minute=0) - timedelta(hours=10)
    predict(client, [{"Timestamp": old, "ModelName": "fraud", "PredictionId": "old",
                      "PredictedLabel": "1"}])  # fmt: skip
    binary_window(client)
    starts = {r.window_start for r in run_pass(client, settings(label_horizon="6h"), now=NOW)}
    assert HOUR in starts and old not in starts
    backfill = run_pass(client, settings(), now=NOW, start=old, end=old + timedelta(hours=1))
    assert {r.window_start for r in backfill} == {old}


def test_segments_keep_the_top_values_and_pool_the_rest_as_other(client: Any) -> None:
    regions = ["eu"] * 30 + ["us"] * 12 + ["apac"] * 10 + ["latam"] * 2
    predict(
        client,
        [{"Timestamp": HOUR, "ModelName": "fraud", "PredictionId": f"s{i}",
          "PredictedLabel": "1", "Segments": {"region": r}} for i, r in enumerate(regions)],
    )  # fmt: skip
    rows = run_pass(client, settings(segment_top_k=1, segment_min_support=10), now=NOW)
    counts = {r.segment: r.value for r in rows if r.metric == "prediction_count"}
    assert counts == {"": 54.0, "region=eu": 30.0, "region=other": 24.0}
    small = run_pass(client, settings(segment_top_k=3, segment_min_support=11), now=NOW)
    counts = {r.segment: r.value for r in small if r.metric == "prediction_count"}
    assert counts == {"": 54.0, "region=eu": 30.0, "region=us": 12.0}  # apac, other too small


def test_regression_metrics_equal_scikit_learn(client: Any) -> None:
    rng = np.random.default_rng(3)
    y = rng.normal(100, 20, 50)
    y_hat = y + rng.normal(0, 5, 50)
    predict(
        client,
        [{"Timestamp": HOUR, "ModelName": "price", "Task": "regression",
          "PredictionId": f"r{i}", "PredictedValue": float(v)} for i, v in enumerate(y_hat)],
    )  # fmt: skip
    label(client, "price", [(f"r{i}", float(v)) for i, v in enumerate(y)])
    rows = [r for r in run_pass(client, settings(), now=NOW) if r.model == "price"]
    assert metric(rows, "mae").value == pytest.approx(skm.mean_absolute_error(y, y_hat), 1e-9)
    assert metric(rows, "rmse").value == pytest.approx(
        np.sqrt(skm.mean_squared_error(y, y_hat)), 1e-9
    )
    assert metric(rows, "r2").value == pytest.approx(skm.r2_score(y, y_hat), 1e-9)
    assert metric(rows, "mape").value == pytest.approx(
        skm.mean_absolute_percentage_error(y, y_hat), 1e-9
    )


def test_drift_against_the_reference_period(client: Any) -> None:
    before = HOUR - timedelta(hours=10)
    predict(
        client,
        [{"Timestamp": before + timedelta(minutes=i), "ModelName": "fraud",
          "PredictionId": f"ref{i}", "PredictedLabel": "0", "Score": 0.1} for i in range(50)]
        + [{"Timestamp": HOUR + timedelta(minutes=i), "ModelName": "fraud",
            "PredictionId": f"cur{i}", "PredictedLabel": "1", "Score": 0.9} for i in range(50)],
    )  # fmt: skip
    rows = run_pass(client, settings(label_horizon="3h", drift_reference="1d"), now=NOW)
    assert metric(rows, "js_divergence").value == pytest.approx(1.0)  # disjoint score bins
    assert metric(rows, "psi").value > 1


def uuid7(moment: datetime, n: int) -> str:
    """A UUIDv7-shaped id of ``moment`` (the SDK's ids carry their prediction's millisecond)."""
    ms = int(moment.timestamp() * 1000)
    return f"{ms >> 16:08x}-{ms & 0xFFFF:04x}-7000-8000-{n:012x}"


def test_uuid7_ids_find_their_predictions_and_only_changed_windows_are_read_again(
    client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No insert runs concurrently here: arrivals need no second look after the pass.
    monkeypatch.setattr(outcomes, "OVERLAP", timedelta(0))
    earlier = HOUR - timedelta(hours=1)
    ids = {
        start: [uuid7(start + timedelta(minutes=i), i) for i in range(4)]
        for start in (earlier, HOUR)
    }
    for start, pids in ids.items():
        predict(client, [{"Timestamp": start + timedelta(minutes=i), "ModelName": "fraud",
                          "PredictionId": pid, "PredictedLabel": "1"}
                         for i, pid in enumerate(pids)])  # fmt: skip
        label(client, "fraud", [(pid, "1") for pid in pids[:2]])
    first = run_pass(client, settings(), now=NOW)
    assert metric(first, "label_count", start=earlier).value == 2
    label(client, "fraud", [(ids[HOUR][2], "0")], at=NOW + timedelta(minutes=1))
    second = run_pass(client, settings(), now=NOW)
    assert metric(second, "label_count").value == 3
    assert metric(second, "accuracy").value == pytest.approx(2 / 3)
    untouched = metric(second, "label_count", start=earlier)
    assert untouched.evaluated_at == metric(first, "label_count", start=earlier).evaluated_at


def test_a_prediction_arriving_after_its_label_is_joined(client: Any) -> None:
    label(client, "fraud", [("late-prediction", "0")])
    first = run_pass(client, settings(), now=NOW)
    assert [r for r in first if r.metric == "label_count"] == []
    predict(client, [{"Timestamp": HOUR, "ModelName": "fraud", "PredictionId": "late-prediction",
                      "PredictedLabel": "0"}])  # fmt: skip
    second = run_pass(client, settings(), now=NOW)
    assert metric(second, "label_count").value == 1
    assert metric(second, "accuracy").value == 1.0


def test_a_multiclass_window_equals_scikit_learn_with_every_average(client: Any) -> None:
    rng = np.random.default_rng(7)
    y_true = rng.integers(0, 4, 300).astype(str)
    y_pred = np.where(rng.random(300) < 0.7, y_true, rng.integers(0, 4, 300).astype(str))
    pids = [uuid7(HOUR + timedelta(seconds=10 * i), i) for i in range(300)]
    predict(client, [{"Timestamp": HOUR + timedelta(seconds=10 * i), "ModelName": "digits",
                      "Task": "multiclass_classification", "PredictionId": pid,
                      "PredictedLabel": str(p)}
                     for i, (pid, p) in enumerate(zip(pids, y_pred, strict=True))])  # fmt: skip
    label(client, "digits", list(zip(pids[:250], y_true[:250].tolist(), strict=True)))
    rows = [r for r in run_pass(client, settings(), now=NOW) if r.model == "digits"]
    t, p = y_true[:250], y_pred[:250]
    for average in ("macro", "micro", "weighted"):
        expected = skm.f1_score(t, p, average=average, zero_division=0)
        assert metric(rows, f"f1_{average}").value == pytest.approx(expected, abs=1e-12)
    assert metric(rows, "precision_macro").value == pytest.approx(
        skm.precision_score(t, p, average="macro", zero_division=0), abs=1e-12
    )
    assert metric(rows, "confusion:2:2").value == skm.confusion_matrix(t, p)[2, 2]
    assert metric(rows, "label_coverage").value == pytest.approx(250 / 300)


def test_backfill_chunks_never_cut_a_window() -> None:
    from inferwatch_collector.evaluate.windows import backfill_chunks

    start = datetime(2026, 11, 27, 9, 30, tzinfo=timezone.utc)
    end = start + timedelta(days=9)
    chunks = backfill_chunks(start, end, ["1h", "6h", "2d"])
    assert chunks[0][0] == start and chunks[-1][1] == end
    assert all(a == b for (_, a), (b, _) in zip(chunks, chunks[1:], strict=False))
    for lo, _ in chunks[1:]:  # every inner boundary is a boundary of every window size
        assert int(lo.timestamp()) % (2 * 86400) == 0


def test_coverage_and_error_rate_carry_wilson_intervals(client: Any) -> None:
    binary_window(client)  # 40 predictions, 1 error, all labelled
    rows = run_pass(client, settings(), now=NOW)
    errors = metric(rows, "error_rate")
    assert errors.value == 1 / 40 and errors.ci_low < 1 / 40 < errors.ci_high
    assert metric(rows, "label_coverage").ci_high == 1.0

"""How ml_outcomes is stored: migration 0015, compaction after a fold of the whole history."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from inferwatch_collector.evaluate import outcomes
from inferwatch_collector.evaluate.evaluation_pass import run_pass
from inferwatch_collector.evaluate.settings import EvaluationSettings, MonitoringSettings

NOW = datetime.now(timezone.utc).replace(minute=30, second=0, microsecond=0)
DAYS = [NOW.replace(hour=1, minute=0) - timedelta(days=d) for d in (1, 2)]
EARLIER = NOW - timedelta(hours=1)  # a label time earlier than the labels' (NOW)
SETTINGS = MonitoringSettings(evaluation=EvaluationSettings(windows=("1h",), label_horizon="3d"))
OUTCOME_COLUMNS = (
    "Timestamp", "ModelName", "ModelVersion", "PredictionId", "PredictedLabel", "ActualLabel",
    "LabelTimestamp", "UpdatedAt",
)  # fmt: skip


def parts_per_day(store: Any) -> dict[str, int]:
    rows = store.query(
        "SELECT partition, count() FROM system.parts "
        "WHERE active AND database = currentDatabase() AND table = 'ml_outcomes' "
        "GROUP BY partition"
    ).result_rows
    return dict(rows)


def labelled_predictions(store: Any, batches: int) -> None:
    """``batches`` separate inserts of predictions on two days, each labelled."""
    for batch in range(batches):
        ids = [(day, f"b{batch}-{day:%d}") for day in DAYS]
        store.insert(
            "ml_predictions",
            [[day, "fraud", "1", "binary_classification", pid, "1"] for day, pid in ids],
            column_names=("Timestamp", "ModelName", "ModelVersion", "Task", "PredictionId",
                          "PredictedLabel"),
        )  # fmt: skip
        store.insert(
            "ml_labels",
            [[NOW, "fraud", pid, "1"] for _, pid in ids],
            column_names=("Timestamp", "ModelName", "PredictionId", "ActualLabel"),
        )


def test_migration_0015_stores_labels_as_low_cardinality_and_indexes_updates(store: Any) -> None:
    columns = dict(
        store.query(
            "SELECT name, type FROM system.columns "
            "WHERE database = currentDatabase() AND table = 'ml_outcomes'"
        ).result_rows
    )
    assert columns["PredictedLabel"] == columns["ActualLabel"] == "LowCardinality(String)"
    ddl = store.command("SHOW CREATE TABLE ml_outcomes")
    assert "INDEX idx_updated_at UpdatedAt TYPE minmax" in ddl
    assert "min_age_to_force_merge_seconds = 3600" in ddl


def test_a_fold_of_the_whole_history_leaves_one_part_per_day(store: Any) -> None:
    labelled_predictions(store, batches=3)
    store.command("SYSTEM STOP MERGES ml_outcomes")
    for batch in range(3):  # outcomes already folded, three parts per day (a large fold's)
        store.insert(
            "ml_outcomes",
            [[day, "fraud", "1", f"b{batch}-{day:%d}", "1", "0", EARLIER, EARLIER] for day in DAYS],
            column_names=OUTCOME_COLUMNS,
        )
    assert sorted(parts_per_day(store).values()) == [3, 3]
    store.command("SYSTEM START MERGES ml_outcomes")
    rows = run_pass(store, SETTINGS, now=NOW)  # the first pass folds the whole history again
    assert sorted(parts_per_day(store).values()) == [1, 1]
    accuracy = {r.window_start: r.value for r in rows if r.metric == "accuracy"}
    assert accuracy == {DAYS[0]: 1.0, DAYS[1]: 1.0}  # the labels' rows replaced the others


def test_a_store_that_refuses_compaction_still_gets_its_pass(
    store: Any, caplog: pytest.LogCaptureFixture
) -> None:
    labelled_predictions(store, batches=2)
    store.command("SYSTEM STOP MERGES ml_outcomes")  # OPTIMIZE is then refused (ABORTED)
    with caplog.at_level(logging.WARNING, logger="inferwatch.evaluator"):
        rows = run_pass(store, SETTINGS, now=NOW)
    assert "ml_outcomes left uncompacted" in caplog.text
    assert [r.value for r in rows if r.metric == "accuracy"] == [1.0, 1.0]


def test_a_pass_nothing_arrived_for_writes_no_outcomes(
    store: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(outcomes, "OVERLAP", timedelta(0))  # nothing is folded twice
    labelled_predictions(store, batches=1)
    run_pass(store, SETTINGS, now=NOW)
    before = store.command("SELECT count() FROM ml_outcomes")
    run_pass(store, SETTINGS, now=NOW + timedelta(minutes=10))
    assert store.command("SELECT count() FROM ml_outcomes") == before == 2

"""The dashboard's pages read the latest evaluation of each window, also while
``ml_evaluations`` still holds the earlier ones (parts not merged yet after a re-evaluation):
their reports pick it with ``argMax(…, EvaluatedAt)`` instead of ``FINAL``
(docs/storage.md, "What the dashboard reads")."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from clickhouse_connect.driver import Client

from inferwatch_collector.evaluate.store import EvaluationRow, write_evaluations
from inferwatch_collector.report.definitions import load_definitions
from inferwatch_collector.report.pages import run_page

HOUR = timedelta(hours=1)
METRICS = ("prediction_count", "label_count", "accuracy", "label_coverage", "confusion:a:a",
           "confusion:a:b", "latency_p95_ms", "error_rate")  # fmt: skip
EARLY = dict(zip(METRICS, (100.0, 50.0, 0.5, 0.5, 40.0, 10.0, 30.0, 0.2), strict=True))
LATE = dict(zip(METRICS, (120.0, 95.0, 0.9, 0.8, 90.0, 5.0, 12.0, 0.01), strict=True))


def evaluation(start: datetime, metrics: dict[str, float], at: datetime) -> list[EvaluationRow]:
    return [
        EvaluationRow(
            "fraud", "1", "", "1h", start, start + HOUR, metric, value, 100, 0.8, None, None, at
        )  # fmt: skip
        for metric, value in metrics.items()
    ]


@pytest.fixture
def now(store: Client) -> datetime:
    """Three windows: the oldest evaluated once, the two newer ones evaluated again later, in
    parts that merges (held) cannot collapse."""
    now = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
    store.command("SYSTEM STOP MERGES ml_evaluations")
    starts = [now - 3 * HOUR, now - 2 * HOUR, now - HOUR]
    write_evaluations(store, [r for s in starts for r in evaluation(s, EARLY, now - 50 * HOUR)])
    write_evaluations(store, [r for s in starts[1:] for r in evaluation(s, LATE, now)])
    return now


def test_the_store_holds_both_evaluations(store: Client, now: datetime) -> None:
    stored, latest = store.query(
        "SELECT count(), (SELECT count() FROM ml_evaluations FINAL) FROM ml_evaluations"
    ).result_rows[0]
    assert (stored, latest) == (5 * len(EARLY), 3 * len(EARLY))


def test_model_page_reads_the_latest_evaluation_of_each_window(
    store: Client, now: datetime
) -> None:
    values = {"model": "fraud", "from": now - 4 * HOUR, "to": now + HOUR}
    page = run_page(store, load_definitions(), "model", values, now=now)
    [summary] = page["model_summary"].records()
    assert summary["predictions"] == 100 + 2 * 120
    assert summary["labels"] == 50 + 2 * 95
    assert (summary["accuracy"], summary["error_rate"]) == (0.9, 0.01)
    volume = [(r["time"], r["value"]) for r in page["model_volume"].records()]
    assert [value for _, value in volume] == [100.0, 120.0, 120.0]
    quality = [r["value"] for r in page["model_quality"].records()]
    assert quality == [0.5, 0.9, 0.9]
    coverage = [r["value"] for r in page["model_label_coverage"].records()]
    assert coverage == [0.5, 0.8, 0.8]
    matrix = page["model_confusion_matrix"].records()
    cells = {(r["actual"], r["predicted"]): r["count"] for r in matrix}
    assert cells == {("a", "a"): 40 + 2 * 90, ("a", "b"): 10 + 2 * 5}


def test_overview_reads_the_latest_evaluation_of_each_window(store: Client, now: datetime) -> None:
    values = {"from": now - 4 * HOUR, "to": now + HOUR}
    [model] = run_page(store, load_definitions(), "overview", values, now=now)[
        "overview_models"
    ].records()
    assert (model["model"], model["version"]) == ("fraud", "1")
    assert model["predictions"] == 100 + 2 * 120
    assert (model["accuracy"], model["label_coverage"], model["latency_p95_ms"]) == (0.9, 0.8, 12.0)
    assert model["last_window_end"] == now.isoformat(timespec="milliseconds").replace("+00:00", "Z")

"""The report definitions of ``dashboards/`` against a store seeded with known data
(``report_seed.py``), and definitions that are wrong.

Every expected row is derived from what was seeded (the exact confusion counts, the predictions
of each window, the alert transitions the rule must have made), never from the store itself.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from clickhouse_connect.driver import Client
from clickhouse_connect.driver.exceptions import ClickHouseError
from report_seed import HOUR, SeededData, SeededPrediction, monitoring_config, seed_store
from scipy.spatial.distance import jensenshannon
from sklearn import metrics as skm

from inferwatch_collector.report.definitions import (
    DefinitionError,
    ReportDefinition,
    load_definition,
    load_definitions,
)
from inferwatch_collector.report.run import ParameterError, ReportResult, check_syntax, run_report
from inferwatch_collector.store import default_dsn, open_client, run_migrations

DEFINITIONS = load_definitions()


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Client, SeededData]]:
    """One seeded store for the module (chDB: one folder per process, so the tests of this
    module use this client only)."""
    folder = tmp_path_factory.mktemp("reports")
    _, config = monitoring_config(folder)
    client = open_client(default_dsn(folder / "data"))
    run_migrations(client, ttl_days=30)
    try:
        yield client, seed_store(client, datetime.now(timezone.utc), config)
    finally:
        client.close()


@pytest.fixture
def client(seeded: tuple[Client, SeededData]) -> Client:
    return seeded[0]


@pytest.fixture
def data(seeded: tuple[Client, SeededData]) -> SeededData:
    return seeded[1]


def run(client: Client, data: SeededData, name: str, **values: Any) -> ReportResult:
    return run_report(client, DEFINITIONS[name], values, now=data.now)


def iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds")[:-6] + "Z"


def by_window(predictions: list[SeededPrediction]) -> dict[datetime, list[SeededPrediction]]:
    windows: dict[datetime, list[SeededPrediction]] = {}
    for p in predictions:
        windows.setdefault(p.window_start, []).append(p)
    return windows


def quality(predictions: list[SeededPrediction]) -> dict[str, float]:
    """What scikit-learn says of the labelled predictions."""
    pairs = [(p.actual, p.predicted) for p in predictions if p.actual is not None]
    y_true, y_pred = [a for a, _ in pairs], [b for _, b in pairs]
    kwargs = {"pos_label": "1", "zero_division": 0}
    return {
        "accuracy": skm.accuracy_score(y_true, y_pred),
        "precision": skm.precision_score(y_true, y_pred, **kwargs),
        "recall": skm.recall_score(y_true, y_pred, **kwargs),
        "f1": skm.f1_score(y_true, y_pred, **kwargs),
    }


def exact_quantile(values: list[float], q: float) -> float:
    """ClickHouse's quantileExact: the value at position floor(q * n) of the sorted values."""
    return sorted(values)[math.floor(q * len(values))]


def series_values(result: ReportResult) -> dict[tuple[str, str], float]:
    """``{(time, series): value}`` of a time series report."""
    assert len(result.rows) == len({(r["time"], r["series"]) for r in result.records()})
    return {(r["time"], r["series"]): r["value"] for r in result.records()}


# --- the model page -------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["", "1", "2"])
@pytest.mark.parametrize("segment", ["", "region=eu", "region=us"])
def test_confusion_matrix_cells_are_the_seeded_counts(
    client: Client, data: SeededData, version: str, segment: str
) -> None:
    result = run(client, data, "model_confusion_matrix", model="fraud", version=version,
                 segment=segment)  # fmt: skip
    assert result.columns == ["actual", "predicted", "count"]
    cells = {(a, p): n for a, p, n in result.rows}
    assert cells == data.confusion("fraud", version, segment)
    assert [tuple(row[:2]) for row in result.rows] == sorted(cells)


def test_confusion_matrix_of_a_range_counts_its_windows_only(
    client: Client, data: SeededData
) -> None:
    start = data.drop_windows[0]
    end = start + 3 * HOUR
    result = run(client, data, "model_confusion_matrix", model="fraud", version="2",
                 **{"from": iso(start), "to": iso(end)})  # fmt: skip
    cells = {(a, p): n for a, p, n in result.rows}
    assert cells == data.confusion("fraud", "2", start=start, end=end)
    healthy = data.confusion("fraud", "1", start=start, end=end)
    assert cells[("1", "0")] > 3 * healthy[("1", "0")]  # the drop shows in the missed cell


@pytest.mark.parametrize("segment", ["", "region=us"])
def test_volume_per_window_is_the_predictions_inserted(
    client: Client, data: SeededData, segment: str
) -> None:
    every = run(client, data, "model_volume", model="fraud", segment=segment)
    expected = {
        (iso(start), version): float(count)
        for version in data.versions
        for start, count in data.volume("fraud", version, segment).items()
    }
    assert series_values(every) == expected
    assert len(expected) == 2 * len(data.window_starts)
    one = run(client, data, "model_volume", model="fraud", version="2", segment=segment)
    assert series_values(one) == {
        (iso(start), "prediction_count"): float(count)
        for start, count in data.volume("fraud", "2", segment).items()
    }


def test_quality_per_window_equals_scikit_learn(client: Client, data: SeededData) -> None:
    result = run(client, data, "model_quality", model="fraud")
    found = series_values(result)
    expected = {}
    for version in data.versions:
        for start, window in by_window(data.select("fraud", version)).items():
            for metric, value in quality(window).items():
                expected[(iso(start), f"{metric} · {version}")] = value
    assert found.keys() == expected.keys()
    for key, value in expected.items():
        assert found[key] == pytest.approx(value, abs=1e-12), key
    f1 = {(t, s): v for (t, s), v in found.items() if s == "f1 · 2"}
    dropped = {iso(start) for start in data.drop_windows}
    assert {t for (t, _), v in f1.items() if v < 0.75} == dropped
    for row in result.records():
        assert row["low"] <= row["value"] <= row["high"], row
        assert row["support"] > 0


def test_quality_of_one_version_names_the_metrics_only(client: Client, data: SeededData) -> None:
    result = run(client, data, "model_quality", model="fraud", version="1")
    assert {r["series"] for r in result.records()} == {"accuracy", "precision", "recall", "f1"}
    assert len(result.rows) == 4 * len(data.window_starts)


def test_regression_errors_equal_scikit_learn(client: Client, data: SeededData) -> None:
    found = series_values(run(client, data, "model_errors", model="price", version="1"))
    expected = {}
    for start, window in by_window(data.select("price")).items():
        y = np.array([p.actual_value for p in window])
        y_hat = np.array([p.predicted_value for p in window])
        expected[(iso(start), "mae")] = skm.mean_absolute_error(y, y_hat)
        expected[(iso(start), "rmse")] = math.sqrt(skm.mean_squared_error(y, y_hat))
        expected[(iso(start), "mape")] = skm.mean_absolute_percentage_error(y, y_hat)
    assert found.keys() == expected.keys()
    for key, value in expected.items():
        assert found[key] == pytest.approx(value, rel=1e-9), key
    assert run(client, data, "model_errors", model="fraud").rows == []


def test_label_coverage_error_rate_and_latency_per_window(client: Client, data: SeededData) -> None:
    coverage = series_values(run(client, data, "model_label_coverage", model="fraud", version="2"))
    errors = series_values(run(client, data, "model_error_rate", model="fraud", version="2"))
    latency = series_values(run(client, data, "model_latency", model="fraud", version="2"))
    for start, window in by_window(data.select("fraud", "2")).items():
        t, n = iso(start), len(window)
        assert coverage[(t, "label_coverage")] == sum(p.labelled for p in window) / n
        assert errors[(t, "error_rate")] == sum(p.status == "error" for p in window) / n
        latencies = [p.latency_ms for p in window]
        for q in (50, 95, 99):
            assert latency[(t, f"latency_p{q}_ms")] == exact_quantile(latencies, q / 100)
    assert len(coverage) == len(errors) == len(latency) / 3 == len(data.window_starts)


def score_histogram(predictions: list[SeededPrediction]) -> dict[int, int]:
    histogram: dict[int, int] = {}
    for p in predictions:
        assert p.score is not None
        b = min(math.floor(p.score * 10), 9)
        histogram[b] = histogram.get(b, 0) + 1
    return histogram


def psi_and_js(current: dict[int, int], reference: dict[int, int]) -> tuple[float, float]:
    bins = sorted(set(current) | set(reference))
    p = np.array([current.get(b, 0) for b in bins], float)
    q = np.array([reference.get(b, 0) for b in bins], float)
    p, q = p / p.sum(), q / q.sum()
    js = float(jensenshannon(p, q, base=2) ** 2)
    p, q = np.maximum(p, 1e-4), np.maximum(q, 1e-4)
    return float(((p - q) * np.log(p / q)).sum()), js


def test_drift_against_the_twelve_hours_before_the_last_day(
    client: Client, data: SeededData
) -> None:
    found = series_values(run(client, data, "model_drift", model="fraud", version="1"))
    day = data.end - 24 * HOUR  # the normal pass's windows; the backfill had no reference
    reference = score_histogram(data.select("fraud", "1", start=day - 12 * HOUR, end=day))
    windows = by_window(data.select("fraud", "1", start=day))
    assert {t for t, _ in found} == {iso(start) for start in windows}
    for start, window in windows.items():
        psi, js = psi_and_js(score_histogram(window), reference)
        assert found[(iso(start), "psi")] == pytest.approx(psi, rel=1e-9)
        assert found[(iso(start), "js_divergence")] == pytest.approx(js, rel=1e-9, abs=1e-12)


def test_summary_of_a_version_and_a_segment(client: Client, data: SeededData) -> None:
    for segment in ("", "region=eu"):
        result = run(client, data, "model_summary", model="fraud", version="2", segment=segment)
        [row] = result.records()
        chosen = data.select("fraud", "2", segment)
        newest = [p for p in chosen if p.window_start == data.end - HOUR]
        assert row["predictions"] == len(chosen)
        assert row["labels"] == sum(p.labelled for p in chosen)
        assert row["accuracy"] == pytest.approx(quality(newest)["accuracy"], abs=1e-12)
        assert row["f1"] == pytest.approx(quality(newest)["f1"], abs=1e-12)
        assert row["error_rate"] == sum(p.status == "error" for p in newest) / len(newest)
        latencies = [p.latency_ms for p in newest]
        assert row["latency_p95_ms"] == exact_quantile(latencies, 0.95)
        assert row["mae"] is None  # a classifier has no regression error


def test_summary_of_every_version_counts_all_traffic(client: Client, data: SeededData) -> None:
    [row] = run(client, data, "model_summary", model="fraud").records()
    assert row["predictions"] == len(data.select("fraud"))
    assert row["labels"] == sum(p.labelled for p in data.select("fraud"))
    [price] = run(client, data, "model_summary", model="price").records()
    newest = [p for p in data.select("price") if p.window_start == data.end - HOUR]
    errors = [abs(p.predicted_value - p.actual_value) for p in newest]  # type: ignore[operator]
    assert price["mae"] == pytest.approx(sum(errors) / len(errors), rel=1e-9)
    assert price["accuracy"] is None


def test_model_alerts_are_the_rules_transitions(client: Client, data: SeededData) -> None:
    records = run(client, data, "model_alerts", model="fraud").records()
    expected = [(iso(t.at), t.version, t.previous, t.state) for t in reversed(data.transitions)]
    assert [(r["time"], r["version"], r["previous_state"], r["state"]) for r in records] == (
        expected
    )
    assert {r["rule"] for r in records} == {data.rule}
    assert run(client, data, "model_alerts", model="fraud", version="1").rows == []
    assert run(client, data, "model_alerts", model="price").rows == []


# --- the window page ------------------------------------------------------------------------


def test_window_metrics_of_a_dropped_window(client: Client, data: SeededData) -> None:
    start = data.drop_windows[-1]
    result = run(client, data, "window_metrics", model="fraud", version="2",
                 window_start=iso(start))  # fmt: skip
    metrics = {r["metric"]: r for r in result.records()}
    window = data.select("fraud", "2", start=start, end=start + HOUR)
    assert metrics["prediction_count"]["value"] == len(window)
    assert metrics["label_count"]["value"] == sum(p.labelled for p in window)
    for name, value in quality(window).items():
        assert metrics[name]["value"] == pytest.approx(value, abs=1e-12)
    assert not any(name.startswith("confusion:") for name in metrics)
    assert {r["window_end"] for r in result.records()} == {iso(start + HOUR)}
    both = run(client, data, "window_metrics", model="fraud", window_start=iso(start))
    assert {r["version"] for r in both.records()} == set(data.versions)


def test_misclassified_lists_the_wrong_predictions_of_the_window_with_their_traces(
    client: Client, data: SeededData
) -> None:
    start = data.drop_windows[-1]
    window = {"from": iso(start), "to": iso(start + HOUR)}
    records = run(client, data, "window_misclassified", model="fraud", **window).records()
    expected = sorted(
        (p for v in data.versions for p in data.misclassified("fraud", start) if p.version == v),
        key=lambda p: (p.time, p.id),
    )
    assert [(r["prediction_id"], r["trace_id"], r["span_id"]) for r in records] == [
        (p.id, p.trace_id, p.span_id) for p in expected
    ]
    assert all(r["predicted"] != r["actual"] for r in records)
    assert [r["time"] for r in records] == [iso(p.time) for p in expected]
    only = run(client, data, "window_misclassified", model="fraud", version="2", **window)
    assert {r["version"] for r in only.records()} == {"2"}
    assert len(only.rows) == sum(p.version == "2" for p in expected)
    assert len(run(client, data, "window_misclassified", model="fraud", limit=3,
                   **window).rows) == 3  # fmt: skip
    eu = run(client, data, "window_misclassified", model="fraud", segment="region=eu", **window)
    assert [r["prediction_id"] for r in eu.records()] == [
        p.id for p in expected if p.region == "eu"
    ]
    assert 0 < len(eu.rows) < len(records)


def test_misclassified_of_a_regression_model_puts_the_largest_errors_first(
    client: Client, data: SeededData
) -> None:
    start = data.end - HOUR
    records = run(client, data, "window_misclassified", model="price",
                  **{"from": iso(start), "to": iso(data.end)}).records()  # fmt: skip
    window = data.select("price", start=start)
    errors = sorted(
        (abs(p.predicted_value - p.actual_value), p.id)  # type: ignore[operator]
        for p in window
    )
    assert [r["prediction_id"] for r in records] == [i for _, i in reversed(errors)]


def test_a_raw_table_report_refuses_a_range_longer_than_its_max_range(
    client: Client, data: SeededData
) -> None:
    definition = DEFINITIONS["window_misclassified"]
    assert definition.reads_raw_rows and definition.max_range == timedelta(days=1)
    day = {"from": iso(data.end - 24 * HOUR), "to": iso(data.end)}
    assert run(client, data, "window_misclassified", model="fraud", **day).rows
    with pytest.raises(ParameterError, match="at most 1d, got 2 days"):
        run(client, data, "window_misclassified", model="fraud", **{"from": "now-2d", "to": "now"})


# --- the overview and alerts pages ----------------------------------------------------------


def test_overview_lists_every_model_with_its_status(client: Client, data: SeededData) -> None:
    records = run(client, data, "overview_models").records()
    assert [(r["model"], r["version"]) for r in records] == [
        ("fraud", "1"), ("fraud", "2"), ("price", "1"),
    ]  # fmt: skip
    status = {(r["model"], r["version"]): (r["status"], r["firing_alerts"]) for r in records}
    assert status == {("fraud", "1"): ("ok", 0), ("fraud", "2"): ("firing", 1),
                      ("price", "1"): ("ok", 0)}  # fmt: skip
    since = data.now - 24 * HOUR  # the default range: now-1d
    for r in records:
        chosen = [p for p in data.select(r["model"], r["version"]) if p.window_start >= since]
        newest = [p for p in chosen if p.window_start == data.end - HOUR]
        assert r["predictions"] == len(chosen)
        assert r["last_window_end"] == iso(data.end)
        assert r["label_coverage"] == sum(p.labelled for p in newest) / len(newest)
        if r["model"] == "fraud":
            assert r["f1"] == pytest.approx(quality(newest)["f1"], abs=1e-12)
            assert r["mae"] is None
        else:
            assert r["f1"] is None and r["mae"] > 0


def test_overview_firing_alerts_is_the_firing_series(client: Client, data: SeededData) -> None:
    [row] = run(client, data, "overview_firing_alerts").records()
    fired = data.transitions[-1]
    judged = fired.at - HOUR  # the newest complete window when the rule fired
    window = data.select("fraud", fired.version, start=judged, end=fired.at)
    assert (row["rule"], row["model"], row["version"], row["segment"]) == (
        data.rule, "fraud", fired.version, ""
    )  # fmt: skip
    assert (row["metric"], row["window"], row["severity"]) == ("f1", "1h", "page")
    assert row["firing_since"] == iso(fired.at)
    assert row["window_start"] == iso(judged)
    assert row["value"] == pytest.approx(quality(window)["f1"], abs=1e-12)
    assert row["threshold"] == 0.75
    assert (
        f"/models/fraud?window_start={iso(judged)[:19]}Z".replace(":", "%3A")
        in (row["generator_url"])
    )


def test_alert_history_has_every_transition_newest_first(client: Client, data: SeededData) -> None:
    records = run(client, data, "alerts_history").records()
    assert [(r["time"], r["version"], r["previous_state"], r["state"]) for r in records] == [
        (iso(t.at), t.version, t.previous, t.state) for t in reversed(data.transitions)
    ]
    firing = run(client, data, "alerts_history", state="firing").records()
    assert [r["time"] for r in firing] == [
        iso(t.at) for t in reversed(data.transitions) if t.state == "firing"
    ]
    assert run(client, data, "alerts_history", model="price").rows == []
    recent = {"from": iso(data.end - 6 * HOUR)}
    assert len(run(client, data, "alerts_history", **recent).rows) == 2


def test_alerts_by_rule_counts_the_firings(client: Client, data: SeededData) -> None:
    result = run(client, data, "alerts_by_rule")
    assert result.rows == [[data.rule, sum(t.state == "firing" for t in data.transitions)]]


def test_every_definition_runs_with_its_defaults(client: Client, data: SeededData) -> None:
    """Also the definitions added later: each shows rows for one of the seeded models."""
    for definition in DEFINITIONS.values():
        results = []
        for model in (data.classifier, data.regressor):
            values = {"model": model, "window_start": iso(data.end - HOUR),
                      "from": iso(data.end - HOUR), "to": iso(data.end)}  # fmt: skip
            given = {k: v for k, v in values.items() if k in definition.parameter_names}
            if definition.max_range is None:
                given = {k: v for k, v in given.items() if k not in ("from", "to")}
            results.append(run_report(client, definition, given, now=data.now))
        result = max(results, key=lambda r: len(r.rows))
        assert result.rows, definition.name
        for role in ("x", "y", "value", "series", "low", "high"):
            column = definition.columns.get(role)
            assert column is None or column in result.columns, (definition.name, role)
        assert not definition.link or definition.link in result.columns, definition.name


# --- definitions that are wrong -------------------------------------------------------------

GOOD = """\
-- title: Evaluations of a model
-- visualization: table
-- params:
--   model: {type: String, default: fraud}
SELECT count() AS evaluations FROM ml_evaluations WHERE ModelName = {model:String}
"""


def write(folder: Path, text: str, name: str = "custom_report.sql") -> Path:
    path = folder / name
    path.write_text(text)
    return path


def test_a_good_definition_loads_and_runs(client: Client, data: SeededData, tmp_path: Path) -> None:
    definition = load_definition(write(tmp_path, GOOD))
    check_syntax(client, definition)
    [[count]] = run_report(client, definition, {}, now=data.now).rows
    assert count > 0


VARIANT = """\
-- title: Drift only
-- page: model
-- order: 5
-- query: model_metric_series
-- params:
--   metrics: {default: [psi]}
"""


def test_a_definition_reuses_another_query_with_its_own_defaults(
    client: Client, data: SeededData, tmp_path: Path
) -> None:
    variant = load_definition(write(tmp_path, VARIANT))
    base = DEFINITIONS["model_metric_series"]
    assert variant.sql == base.sql and variant.columns == base.columns
    assert (variant.title, variant.page, variant.order) == ("Drift only", "model", 5)
    assert variant.parameter("metrics").type == "Array(String)"
    assert variant.parameter("metrics").default == ["psi"]
    result = run_report(client, variant, {"model": data.classifier, "from": iso(data.start)},
                        now=data.now)  # fmt: skip
    assert result.rows and {r["series"].split(" ")[0] for r in result.records()} == {"psi"}
    both = run_report(client, variant, {"model": data.classifier, "metrics": "psi,f1",
                                        "from": iso(data.start)}, now=data.now)  # fmt: skip
    assert {r["series"].split(" ")[0] for r in both.records()} == {"psi", "f1"}


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (VARIANT.replace("query: model_metric_series", "query: no_such_report"),
         "'query: no_such_report' names no definition file"),
        (VARIANT + "SELECT 1\n", "remove this SQL"),
        (VARIANT.replace("metrics: {default: [psi]}", "metrics: {default: [psi], colour: 1}"),
         "unknown key 'colour'"),
    ],
)  # fmt: skip
def test_a_wrong_reuse_fails_naming_the_file(tmp_path: Path, text: str, problem: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(DefinitionError) as raised:
        load_definition(path)
    assert str(raised.value).startswith(f"{path}: ") and problem in str(raised.value)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (GOOD.replace("-- title:", "-- colour: red\n-- title:"), "unknown header key 'colour'"),
        (GOOD.replace("default: fraud}", "default: [fraud}"), "not valid YAML"),
        (GOOD.replace("{model:String}", "{model:String} AND ModelVersion = {version:String}"),
         "does not declare 'version'"),
        (GOOD.replace("{model:String}", "{model:UInt32}"), "does not match the declared type"),
        (GOOD.replace("-- params:", "-- params:\n--   version: {type: String}"),
         "'version' is declared but not used"),
        (GOOD.replace("visualization: table", "visualization: pie"), "'visualization' must be"),
        (GOOD.replace("-- title: Evaluations of a model\n", ""), "needs 'title'"),
    ],
)  # fmt: skip
def test_a_wrong_header_fails_naming_the_file(tmp_path: Path, text: str, problem: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(DefinitionError) as raised:
        load_definition(path)
    message = str(raised.value)
    assert message.startswith(f"{path}: "), message
    assert problem in message


def test_sql_that_does_not_parse_fails_naming_the_file(client: Client, tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("SELECT count()", "SELEC count()"))
    definition = load_definition(path)  # the header is fine: only the store can tell
    with pytest.raises(DefinitionError) as raised:
        check_syntax(client, definition)
    assert str(raised.value).startswith(f"{path}: the SQL does not parse: ")


@pytest.mark.parametrize(
    "statement",
    [
        "INSERT INTO ml_alerts (RuleName) SELECT {model:String}",
        "DROP TABLE ml_alerts",
        "ALTER TABLE ml_alerts DELETE WHERE ModelName = {model:String}",
        "TRUNCATE TABLE ml_alerts",
    ],
)
def test_a_write_statement_is_refused_by_readonly(
    client: Client, data: SeededData, tmp_path: Path, statement: str
) -> None:
    header = GOOD.split("SELECT")[0]
    if "{model:String}" not in statement:
        header = header.replace("-- params:\n--   model: {type: String, default: fraud}\n", "")
    definition = load_definition(write(tmp_path, header + statement))
    before = client.query("SELECT count() FROM ml_alerts").result_rows[0][0]
    with pytest.raises(ClickHouseError, match="(?i)readonly"):
        run_report(client, definition, {}, now=data.now)
    assert client.query("SELECT count() FROM ml_alerts").result_rows[0][0] == before > 0


@pytest.mark.parametrize("definition", list(DEFINITIONS.values()), ids=list(DEFINITIONS))
def test_every_committed_definition_parses_in_chdb(
    client: Client, definition: ReportDefinition
) -> None:
    check_syntax(client, definition)

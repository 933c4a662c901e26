"""How long the dashboard's pages take to fetch their data on 10 million predictions.

Generates N predictions over the last 30 days straight into a chDB store (three models — a
binary classifier, a multiclass one, a regression —, a version rolled out two thirds of the
way, a ``region`` segment, 75 % labelled up to six hours late, bad periods that fire alerts),
runs the real evaluator over the 30 days (hourly windows, backfilled a day at a time) and
replays the alert engine hour by hour with a few rules, so that ``ml_evaluations`` and
``ml_alerts`` hold what a month of production leaves there.

Then it times the data of the overview page and of a model page exactly as the dashboard
fetches it (``report.pages.run_page``) over the last 1, 7 and 30 days, in two states of
``ml_evaluations``:

- **after a pass**: an evaluation job (``inferwatch evaluate --once``: a full pass rewrites
  every window of the 7-day label horizon) has just written its rows, merges held, so readers
  must still collapse the older evaluations of those windows — what a live store looks like
  after each hourly full pass until ClickHouse has merged;
- **merged**: after ``OPTIMIZE … FINAL``, one evaluation per window left.

The baseline, in the same run: a naive dashboard computing the same figures from the raw
prediction and label rows (each prediction joined to its latest label).

Printed per state, page and range: the median and p90 wall time, the first (warm-up) fetch,
the rows the store read, the raw rows it read (``ml_predictions``, ``ml_labels``,
``ml_outcomes``, from ``EXPLAIN ESTIMATE`` of every report), the tables read, the naive
route's median and the ratio; then each report's time, so the slowest shows.

    .venv/bin/python bench/dashboard.py                       # 10,000,000 predictions
    .venv/bin/python bench/dashboard.py --store /tmp/dash10m  # keep the store; reruns reuse it
    .venv/bin/python bench/dashboard.py --quick               # 1,000,000, a quick check
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from synthetic import UUID7_ROW

RANGES = (1, 7, 30)
"""Days of the ranges timed."""
PAGES = ("overview", "model")
RAW_TABLES = ("ml_predictions", "ml_labels", "ml_outcomes")
TARGET_MS = 300.0
MARKER = "bench-dashboard.json"

# Row g (= first + i): its time, model, version, region, prediction and label follow from g
# alone (as in bench/evaluate.py), so labels are generated apart from predictions. Ids are
# UUIDv7-shaped, as the SDK makes them. Bad periods: fraud on days 8 and 20 of the range,
# churn's version 2 in apac, eta on day 14.
_ROW = (
    UUID7_ROW
    + """
    g % 3 AS m,
    ['fraud', 'churn', 'eta'][m + 1] AS model,
    ['binary_classification', 'multiclass_classification', 'regression'][m + 1] AS task,
    if(ms >= {rollout_ms:UInt64} AND cityHash64(g, 20) % 2 = 0, '2', '1') AS version,
    ['eu', 'us', 'apac', 'latam', 'mea'][1 + cityHash64(g, 21) % 5] AS region,
    intDiv(ms - {start_ms:UInt64}, 86400000) AS day,
    (m = 0 AND day IN (8, 20)) OR (m = 1 AND version = '2' AND region = 'apac')
        OR (m = 2 AND day = 14) AS degraded,
    cityHash64(g, 4) % 100 < if(degraded, 70, 92) AS correct,
    if(m = 0, toUInt64(cityHash64(g, 1) % 100 < 30), cityHash64(g, 1) % 5) AS predicted,
    if(correct, predicted,
       if(m = 0, bitXor(predicted, 1), (predicted + 1 + cityHash64(g, 5) % 4) % 5)) AS actual,
    20 + (cityHash64(g, 1) % 4000) / 100 AS predicted_value,
    predicted_value + ((cityHash64(g, 5) % 2001) / 1000 - 1) * if(degraded, 12, 4)
        AS actual_value,
    ms + (cityHash64(g, 9) % 360) * 60000 AS label_ms,
    cityHash64(g, 3) % 100 < 75 AND label_ms <= {now_ms:UInt64} AS labelled
"""
)

GENERATE_PREDICTIONS = f"""
INSERT INTO ml_predictions (Timestamp, ServiceName, ModelName, ModelVersion, Task,
                            PredictionId, PredictedLabel, Score, PredictedValue, LatencyMs,
                            StatusCode, Segments)
SELECT toDateTime64(fromUnixTimestamp64Milli(toInt64(ms), 'UTC'), 9, 'UTC'), 'bench', model,
       version, task, id, if(m = 2, '', toString(predicted)),
       multiIf(m = 0, if(predicted = 1, 0.5, 0) + (cityHash64(g, 2) % 500) / 1000,
               m = 1, 0.2 + (cityHash64(g, 2) % 800) / 1000, NULL),
       if(m = 2, predicted_value, NULL),
       5 + (cityHash64(g, 6) % 4000) / 100 + if(m = 1, 20, 0),
       if(cityHash64(g, 7) % 200 = 0, 'error', 'ok'), map('region', region)
FROM (SELECT {_ROW} FROM numbers({{n:UInt64}}))
"""

GENERATE_LABELS = f"""
INSERT INTO ml_labels (Timestamp, ServiceName, ModelName, PredictionId, ActualLabel, ActualValue)
SELECT toDateTime64(fromUnixTimestamp64Milli(toInt64(label_ms), 'UTC'), 9, 'UTC'), 'bench',
       model, id, if(m = 2, '', toString(actual)), if(m = 2, actual_value, NULL)
FROM (SELECT {_ROW} FROM numbers({{n:UInt64}}))
WHERE labelled
"""

# The naive dashboard: the same figures from raw rows, each prediction joined to its latest
# label (a label is never older than its prediction, so the range bounds the labels too).
_LATEST_LABELS = """
    SELECT ModelName, PredictionId, argMax(ActualLabel, Timestamp) AS actual,
           argMax(ActualValue, Timestamp) AS actual_value
    FROM ml_labels
    WHERE Timestamp >= {from:DateTime64(3, 'UTC')} %s
    GROUP BY ModelName, PredictionId"""

NAIVE_OVERVIEW = f"""
SELECT p.ModelName AS model, p.ModelVersion AS version, count() AS predictions,
       countIf(l.PredictionId != '') / count() AS label_coverage,
       avgIf(p.PredictedLabel = l.actual, l.PredictionId != '' AND p.Task != 'regression')
           AS accuracy,
       avgIf(abs(p.PredictedValue - l.actual_value), l.PredictionId != '' AND p.Task = 'regression')
           AS mae,
       countIf(p.StatusCode = 'error') / count() AS error_rate,
       quantileExact(0.95)(p.LatencyMs) AS latency_p95_ms
FROM ml_predictions AS p
LEFT JOIN ({_LATEST_LABELS % ""}) AS l
    ON l.ModelName = p.ModelName AND l.PredictionId = p.PredictionId
WHERE p.Timestamp >= {{from:DateTime64(3, 'UTC')}} AND p.Timestamp < {{to:DateTime64(3, 'UTC')}}
GROUP BY model, version
ORDER BY model, version
"""

NAIVE_MODEL_VOLUME = """
SELECT toStartOfHour(Timestamp) AS time, ModelVersion AS version, count() AS predictions,
       countIf(StatusCode = 'error') / count() AS error_rate,
       quantilesExact(0.5, 0.95, 0.99)(LatencyMs) AS latency_ms
FROM ml_predictions
WHERE ModelName = {model:String}
  AND Timestamp >= {from:DateTime64(3, 'UTC')} AND Timestamp < {to:DateTime64(3, 'UTC')}
GROUP BY time, version
ORDER BY version, time
"""

NAIVE_MODEL_QUALITY = f"""
SELECT toStartOfHour(p.Timestamp) AS time, p.ModelVersion AS version, l.actual AS actual,
       p.PredictedLabel AS predicted, count() AS n,
       sum(abs(p.PredictedValue - l.actual_value)) AS absolute_error
FROM ml_predictions AS p
INNER JOIN ({_LATEST_LABELS % "AND ModelName = {model:String}"}) AS l
    ON l.ModelName = p.ModelName AND l.PredictionId = p.PredictionId
WHERE p.ModelName = {{model:String}}
  AND p.Timestamp >= {{from:DateTime64(3, 'UTC')}} AND p.Timestamp < {{to:DateTime64(3, 'UTC')}}
GROUP BY time, version, actual, predicted
ORDER BY version, time
"""

NAIVE_PAGES = {"overview": (NAIVE_OVERVIEW,), "model": (NAIVE_MODEL_VOLUME, NAIVE_MODEL_QUALITY)}


@dataclass
class PageTiming:
    """The timings of one page over one range, in one state of the store."""

    state: str
    page: str
    days: int
    wall_ms: list[float] = field(default_factory=list)
    first_ms: float = 0.0
    """The warm-up fetch (not counted in the median)."""
    reports_ms: dict[str, list[float]] = field(default_factory=dict)
    read_rows: dict[str, int] = field(default_factory=dict)
    tables: dict[str, dict[str, int]] = field(default_factory=dict)
    """Per report: the tables EXPLAIN ESTIMATE says it reads, with their rows."""
    naive_ms: list[float] = field(default_factory=list)

    @property
    def median_ms(self) -> float:
        return statistics.median(self.wall_ms)

    @property
    def raw_rows(self) -> int:
        return sum(n for found in self.tables.values() for t, n in found.items() if t in RAW_TABLES)

    @property
    def tables_read(self) -> list[str]:
        return sorted({table for found in self.tables.values() for table in found})

    def slowest(self) -> tuple[str, float]:
        name = max(self.reports_ms, key=lambda n: statistics.median(self.reports_ms[n]))
        return name, statistics.median(self.reports_ms[name])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000, help="predictions generated")
    parser.add_argument("--quick", action="store_true", help="1,000,000 predictions")
    parser.add_argument("--days", type=int, default=30, help="the history's length")
    parser.add_argument("--store", help="keep the generated store in this folder and reuse it")
    parser.add_argument("--rounds", type=int, default=10, help="timed fetches per page and range")
    parser.add_argument("--naive-rounds", type=int, default=3, help="naive route's rounds")
    parser.add_argument("--model", default="churn", help="the model page timed")
    parser.add_argument(
        "--dashboards-dir", help="definitions that replace the built-in ones of the same name"
    )
    args = parser.parse_args()
    rows = 1_000_000 if args.quick else args.rows
    if args.store:
        run(Path(args.store), rows, args)
    else:
        with tempfile.TemporaryDirectory() as folder:
            run(Path(folder), rows, args)


def run(folder: Path, rows: int, args: argparse.Namespace) -> None:
    from inferwatch_collector.report.definitions import load_definitions
    from inferwatch_collector.store.client import open_client

    now = prepare_store(folder, rows, args.days)
    load_before = os.getloadavg()
    client = open_client(f"chdb://{folder / 'store'}")
    try:
        describe_store(client)
        definitions = load_definitions(args.dashboards_dir)
        client.command("SYSTEM STOP MERGES ml_evaluations")
        started = time.perf_counter()
        live_job(folder, now)
        print(f"a live evaluation job (full pass over the 7-day label horizon, then the rules) "
              f"in {since(started):.1f} s; {describe_evaluations(client)}")  # fmt: skip
        timings = time_state(client, definitions, "after pass", now, args, naive=True)
        client.command("SYSTEM START MERGES ml_evaluations")
        client.command("OPTIMIZE TABLE ml_evaluations FINAL")
        print(f"merged: {describe_evaluations(client)}")
        merged = time_state(client, definitions, "merged", now, args, naive=False)
        for before, after in zip(timings, merged, strict=True):
            after.naive_ms = before.naive_ms  # the raw rows are the same in both states
        round_trip = median_ms(lambda: client.query("SELECT 1"), 50)
    finally:
        client.close()
    report(timings + merged, round_trip, rows, args, load_before, os.getloadavg())


# --- the store ------------------------------------------------------------------------------


def prepare_store(folder: Path, rows: int, days: int) -> datetime:
    """Generate and evaluate the store in ``folder`` unless a finished one is there; its now."""
    marker = folder / MARKER
    wanted = {"rows": rows, "days": days}
    if marker.exists():
        found = json.loads(marker.read_text())
        if {k: found[k] for k in wanted} != wanted:
            raise SystemExit(f"{folder} holds a store of {found}, not {wanted}: use another one")
        print(f"reusing the store in {folder} ({rows:,} predictions, generated {found['now']})")
        return datetime.fromisoformat(found["now"])
    if (folder / "store").exists():
        shutil.rmtree(folder / "store")  # an unfinished earlier run (no marker): start again
    now = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    build_store(folder, rows, days, now)
    marker.write_text(json.dumps({**wanted, "now": now.isoformat()}))
    return now


def build_store(folder: Path, rows: int, days: int, now: datetime) -> None:
    from inferwatch_collector.store.client import open_client
    from inferwatch_collector.store.migrations import run_migrations

    folder.mkdir(parents=True, exist_ok=True)
    client = open_client(f"chdb://{folder / 'store'}")
    try:
        run_migrations(client, ttl_days=days + 30)  # the store stays usable for a month
        started = time.perf_counter()
        generate(client, rows, now - timedelta(days=days), now)
        print(f"generated {rows:,} predictions over {days} days in {since(started):.1f} s")
        started = time.perf_counter()
        evaluations = evaluate(client, now - timedelta(days=days), now)
        print(f"evaluated {days} days of hourly windows in {since(started):.1f} s")
        started = time.perf_counter()
        transitions = replay_alerts(client, evaluations, now - timedelta(days=days), now)
        print(f"replayed the alert rules hour by hour in {since(started):.1f} s: "
              f"{transitions} transitions")  # fmt: skip
    finally:
        client.close()


def generate(client: Any, rows: int, start: datetime, end: datetime) -> None:
    """``rows`` predictions spread evenly over ``[start, end)``, and their labels."""
    start_ms = int(start.timestamp() * 1000)
    span_ms = int((end - start).total_seconds() * 1000)
    parameters = {
        "first": 0,
        "n": rows,
        "start_ms": start_ms,
        "span_ms": span_ms,
        "rollout_ms": start_ms + span_ms * 2 // 3,
        "now_ms": int(end.timestamp() * 1000),
    }
    client.command(GENERATE_PREDICTIONS, parameters=parameters)
    client.command(GENERATE_LABELS, parameters=parameters)


def monitoring_settings() -> Any:
    from inferwatch_collector.evaluate.settings import EvaluationSettings, MonitoringSettings

    return MonitoringSettings(evaluation=EvaluationSettings(windows=("1h",)))


def alert_rules() -> list[Any]:
    from inferwatch_collector.alert.rules import Rule

    return [
        Rule("fraud-accuracy-low", "fraud", "accuracy", "1h", "<", 0.85, for_windows=2,
             min_samples=100, severity="critical"),
        Rule("churn-f1-low", "churn", "f1_macro", "1h", "<", 0.8, segment="region=*",
             min_samples=50),
        Rule("eta-mae-high", "eta", "mae", "1h", ">", 3.0, for_windows=2, min_samples=100),
        Rule("fraud-error-rate-high", "fraud", "error_rate", "1h", ">", 0.01, for_windows=2),
    ]  # fmt: skip


def evaluate(client: Any, start: datetime, end: datetime) -> list[Any]:
    """The evaluator's backfill of ``[start, end)`` a day at a time (as ``evaluate --from``);
    returns the rows the alert rules read."""
    from inferwatch_collector.evaluate.evaluation_pass import run_pass
    from inferwatch_collector.evaluate.windows import backfill_chunks

    settings, rules = monitoring_settings(), alert_rules()
    kept = []
    for lo, hi in backfill_chunks(start, end, ["1h"]):
        rows = run_pass(client, settings, now=end, windows=["1h"], start=lo, end=hi)
        kept += [row for row in rows if any(rule.selects(row) for rule in rules)]
    return kept


def replay_alerts(client: Any, rows: Sequence[Any], start: datetime, end: datetime) -> int:
    """The alert engine after each hourly pass, on the windows that pass would have judged."""
    from inferwatch_collector.alert import dashboard_link, process_evaluations

    rules, link = alert_rules(), dashboard_link("http://127.0.0.1:8080")
    by_end: dict[datetime, list[Any]] = {}
    for row in rows:
        by_end.setdefault(row.window_end, []).append(row)
    transitions = 0
    hour = start.replace(minute=0) + timedelta(hours=2)
    while hour <= end:
        seen = [row for back in range(3) for row in by_end.get(hour - timedelta(hours=back), [])]
        now = hour + timedelta(minutes=5)
        transitions += len(process_evaluations(client, rules, [], seen, now=now,
                                               generator_url=link))  # fmt: skip
        hour += timedelta(hours=1)
    return transitions


def live_job(folder: Path, now: datetime) -> None:
    """One ``inferwatch evaluate --once`` in a client of its own: a process's first pass
    re-evaluates every window of the label horizon, then the rules run."""
    from inferwatch_collector.evaluate.job import EvaluationJob
    from inferwatch_collector.monitoring_config import MonitoringConfig
    from inferwatch_collector.store.client import open_client

    config = MonitoringConfig(monitoring_settings(), rules=tuple(alert_rules()), notifiers=())
    client = open_client(f"chdb://{folder / 'store'}")
    try:
        EvaluationJob(client, config).run(now=now)
    finally:
        client.close()


def describe_store(client: Any) -> None:
    counts = client.query(
        "SELECT (SELECT count() FROM ml_predictions), (SELECT count() FROM ml_labels),"
        " (SELECT count() FROM ml_outcomes), (SELECT count() FROM ml_evaluations FINAL),"
        " (SELECT count() FROM ml_alerts)"
    ).result_rows[0]
    names = ("ml_predictions", "ml_labels", "ml_outcomes", "ml_evaluations", "ml_alerts")
    print(
        "rows: " + ", ".join(f"{name} {count:,}" for name, count in zip(names, counts, strict=True))
    )


def describe_evaluations(client: Any) -> str:
    parts, rows, latest = client.query(
        "SELECT count(), sum(rows), (SELECT count() FROM ml_evaluations FINAL) FROM system.parts"
        " WHERE active AND database = currentDatabase() AND table = 'ml_evaluations'"
    ).result_rows[0]
    return f"ml_evaluations holds {rows:,} rows in {parts} parts, {latest:,} after FINAL"


# --- timing ---------------------------------------------------------------------------------


def time_state(
    client: Any,
    definitions: dict[str, Any],
    state: str,
    now: datetime,
    args: argparse.Namespace,
    *,
    naive: bool,
) -> list[PageTiming]:
    return [
        time_page(client, definitions, PageTiming(state, page, days), now, args, naive)
        for page in PAGES
        for days in RANGES
        if days <= args.days
    ]


def page_values(page: str, days: int, now: datetime, model: str) -> dict[str, Any]:
    values: dict[str, Any] = {"window": "1h", "from": now - timedelta(days=days), "to": now}
    return {"model": model, **values} if page == "model" else values


def time_page(
    client: Any,
    definitions: dict[str, Any],
    timing: PageTiming,
    now: datetime,
    args: argparse.Namespace,
    naive: bool,
) -> PageTiming:
    """The page's data as the dashboard fetches it (one warm-up fetch first), then each
    report alone, then the naive route."""
    from inferwatch_collector.report.pages import page_definitions, run_page
    from inferwatch_collector.report.run import _wire, bind, run_report

    values = page_values(timing.page, timing.days, now, args.model)
    fetch = lambda: run_page(client, definitions, timing.page, values, now=now)  # noqa: E731
    timing.first_ms = timed_ms(fetch)
    timing.wall_ms = [timed_ms(fetch) for _ in range(args.rounds)]
    for definition in page_definitions(definitions, timing.page):
        report = lambda d=definition: run_report(client, d, values, now=now, strict=False)  # noqa: E731
        timing.reports_ms[definition.name] = [timed_ms(report) for _ in range(args.rounds)]
        bound = _wire(bind(definition, values, now=now, strict=False))
        timing.read_rows[definition.name] = rows_read(client, definition.sql, bound)
        timing.tables[definition.name] = tables_read(client, definition.sql, bound)
    if naive:
        naive_values = {"model": args.model, "from": values["from"], "to": values["to"]}
        timing.naive_ms = [
            timed_ms(
                lambda: [
                    client.query(sql, parameters=naive_values) for sql in NAIVE_PAGES[timing.page]
                ]
            )  # fmt: skip
            for _ in range(args.naive_rounds)
        ]
    return timing


def tables_read(client: Any, sql: str, parameters: dict[str, Any]) -> dict[str, int]:
    """The tables the query reads, with the rows ClickHouse expects to read from each."""
    found: dict[str, int] = {}
    for _, table, _, rows, _ in client.query(
        f"EXPLAIN ESTIMATE {sql}", parameters=parameters
    ).result_rows:
        found[table] = found.get(table, 0) + int(rows)
    return found


def rows_read(client: Any, sql: str, parameters: dict[str, Any]) -> int:
    """The rows ``sql`` reads from storage.

    chDB has no ``system.query_log``, and clickhouse-connect's summary carries chDB's
    ``rows_read()``, which counts the rows of the result; chDB's ``storage_rows_read()``
    counts the rows read, so the query is run once more on the client's chDB connection.
    A server's summary is right as it is.
    """
    from clickhouse_connect.driver.binding import bind_query

    backend = getattr(client, "_backend", None)
    if backend is None or not hasattr(backend, "_run"):
        return int(client.query(sql, parameters=parameters).summary.get("read_rows", 0))
    query, bound = bind_query(sql, parameters)
    params = {name.removeprefix("param_"): value for name, value in bound.items()}
    return int(backend._run(query, "Null", params=params).storage_rows_read())


def timed_ms(fn: Callable[[], Any]) -> float:
    started = time.perf_counter()
    fn()
    return since(started) * 1000


def median_ms(fn: Callable[[], Any], rounds: int) -> float:
    return statistics.median(timed_ms(fn) for _ in range(rounds))


def since(started: float) -> float:
    return time.perf_counter() - started


def p90(values: Sequence[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]


# --- output ---------------------------------------------------------------------------------


def report(
    timings: list[PageTiming],
    round_trip: float,
    rows: int,
    args: argparse.Namespace,
    load_before: tuple[float, float, float],
    load_after: tuple[float, float, float],
) -> None:
    print(f"\n{rows:,} predictions; model page: {args.model}; {args.rounds} fetches per page "
          f"and range, naive route {args.naive_rounds}; SELECT 1 round trip "
          f"{round_trip:.2f} ms; load average {load_before[0]:.1f} before, "
          f"{load_after[0]:.1f} after, {os.cpu_count()} CPUs\n")  # fmt: skip
    print(f"{'state':<10} {'page':<8} {'range':>5} {'median ms':>9} {'p90 ms':>7} "
          f"{'first ms':>8} {'rows read':>10} {'raw rows':>8} {'naive ms':>8} {'naive /':>7}"
          f"  tables read")  # fmt: skip
    for t in timings:
        naive = statistics.median(t.naive_ms) if t.naive_ms else float("nan")
        print(f"{t.state:<10} {t.page:<8} {t.days:>4}d {t.median_ms:>9.1f} "
              f"{p90(t.wall_ms):>7.1f} {t.first_ms:>8.1f} {sum(t.read_rows.values()):>10,} "
              f"{t.raw_rows:>8,} {naive:>8.0f} {naive / t.median_ms:>6.0f}x  "
              f"{', '.join(t.tables_read)}")  # fmt: skip
    for state in dict.fromkeys(t.state for t in timings):
        for page in PAGES:
            report_breakdown([t for t in timings if (t.state, t.page) == (state, page)])
    print()
    for t in timings:
        measured = f"median {t.median_ms:.1f} ms, p90 {p90(t.wall_ms):.1f}"
        check(f"{t.state}: {t.page} page, {t.days}d <= {TARGET_MS:.0f} ms",
              t.median_ms <= TARGET_MS, measured)  # fmt: skip
        if t.days > 1:
            check(f"{t.state}: {t.page} page, {t.days}d reads no raw rows",
                  t.raw_rows == 0, f"raw rows {t.raw_rows:,}")  # fmt: skip


def report_breakdown(ranges: list[PageTiming]) -> None:
    print(f"\n{ranges[0].state}, {ranges[0].page} page: median ms (rows read) per report, "
          + ", ".join(f"{t.days}d" for t in ranges))  # fmt: skip
    for name in ranges[0].reports_ms:
        cells = "".join(
            f" {statistics.median(t.reports_ms[name]):>6.1f} ({t.read_rows[name]:>8,})"
            for t in ranges
        )
        tables = ", ".join(sorted({table for t in ranges for table in t.tables[name]})) or "-"
        print(f"  {name:<24}{cells}  {tables}")


def check(name: str, ok: bool, measured: str) -> None:
    print(f"  {'PASS' if ok else 'MISS'}  {name:<48} {measured}")


if __name__ == "__main__":
    main()

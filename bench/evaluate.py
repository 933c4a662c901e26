"""How long an evaluation pass takes on 10 million predictions, against the pandas route.

Generates N predictions over 7 days (3 models, 5 classes, about 80 % accuracy, 90 %
labelled, UUIDv7 ids as the SDK makes them) straight into a fresh chDB, then in one run
times:

- the first pass over that pre-existing data, which materializes ``ml_outcomes`` once (the
  one join of the whole history; live, this work is spread over the passes as data arrives);
- a full pass: every hourly window of the 7 days, every classification metric, in a process
  that remembers nothing (``inferwatch evaluate --once``): from the window statistics the
  previous passes stored (``ml_window_stats``), and again with none stored, every window read
  from its rows;
- a steady-state pass after 1 % new predictions and labels (the newest predictions, in the
  next slice of the last hour, 90 % of them labelled, plus late labels for older predictions
  of the last 6 hours), run a few seconds after they arrived, as a scheduled pass is;
- the obvious alternative: load both tables into pandas, merge on the prediction id, call
  scikit-learn per (model, hour); and checks that both give the same values (to 1e-9).

It then prints where each kind of pass spends its time, statement by statement. Timed passes
start once the background merges of the generated data are done.

    .venv/bin/python bench/evaluate.py            # 10,000,000 predictions (a few minutes)
    .venv/bin/python bench/evaluate.py --quick    # 1,000,000
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from synthetic import UUID7_ROW

# Row g (= first + i) of a batch: its time, model, prediction and label follow from g alone,
# so the labels can be generated apart from the predictions. Ids are UUIDv7-shaped: the
# prediction's millisecond, version 7, variant bits, then hash bits.
_ROW = (
    """
    number AS i,"""
    + UUID7_ROW
    + """
    concat('model-', toString(g % 3)) AS model,
    cityHash64(g, 1) % 5 AS predicted,
    if(cityHash64(g, 4) % 100 < 80, predicted, (predicted + 1 + cityHash64(g, 5) % 4) % 5)
        AS actual,
    cityHash64(g, 3) % 10 != 0 AS labelled
"""
)

GENERATE_PREDICTIONS = f"""
INSERT INTO ml_predictions (Timestamp, ServiceName, ModelName, ModelVersion, Task,
                            PredictionId, PredictedLabel, Score, LatencyMs, StatusCode)
SELECT toDateTime64(fromUnixTimestamp64Milli(toInt64(ms), 'UTC'), 9, 'UTC'), 'bench', model,
       '1', 'multiclass_classification', id, toString(predicted),
       (cityHash64(g, 2) % 1000) / 1000, (cityHash64(g, 6) % 5000) / 100,
       if(cityHash64(g, 7) % 200 = 0, 'error', 'ok')
FROM (SELECT {_ROW} FROM numbers({{n:UInt64}}))
"""

# Labels of the batch's rows from {from_row} on: the labelled ones ({late} = 0), or late
# labels for a third ({late} - 1) of the rows left unlabelled ({late} = 1, 2, 3).
GENERATE_LABELS = f"""
INSERT INTO ml_labels (Timestamp, ServiceName, ModelName, PredictionId, ActualLabel)
SELECT toDateTime64(fromUnixTimestamp64Milli(toInt64(ms), 'UTC'), 9, 'UTC') + INTERVAL 1 HOUR,
       'bench', model, id, toString(actual)
FROM (SELECT {_ROW} FROM numbers({{n:UInt64}}))
WHERE i >= {{from_row:UInt64}}
  AND if({{late:UInt8}} = 0, labelled,
         NOT labelled AND cityHash64(g, 8) % 3 = {{late:UInt8}} - 1)
"""

METRICS_COMPARED = (
    "accuracy",
    "precision_macro",
    "recall_macro",
    "f1_macro",
    "f1_micro",
    "f1_weighted",
)


def generate(client: Any, batch: dict[str, int], late: int = 0, from_row: int = 0) -> None:
    """Predictions (unless ``late``) and labels of one batch of rows."""
    if not late:
        client.command(GENERATE_PREDICTIONS, parameters=batch)
    client.command(GENERATE_LABELS, parameters={**batch, "late": late, "from_row": from_row})


def batch(first: int, n: int, start: datetime, span: timedelta) -> dict[str, int]:
    start_ms = int(start.timestamp() * 1000)
    return {
        "first": first,
        "n": n,
        "start_ms": start_ms,
        "span_ms": span // timedelta(milliseconds=1),
    }


def settle(client: Any, timeout: float = 120.0) -> None:
    """Wait until the background merges of what was just generated are done: a timed pass
    should not share the 2 cores with merges it did not cause."""
    deadline = time.monotonic() + timeout
    while client.command("SELECT count() FROM system.merges") and time.monotonic() < deadline:
        time.sleep(0.2)


def timed(fn: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


class StatementTimes:
    """Times each statement a client runs, named after its constant in ``evaluate/queries.py``
    (``insert:<table>`` for inserts), to show where a pass's time goes."""

    def __init__(self, client: Any) -> None:
        from inferwatch_collector.evaluate import queries

        self.names = {v: k for k, v in vars(queries).items() if k.isupper() and isinstance(v, str)}
        self.seconds: dict[str, float] = {}
        for method in ("query", "command", "insert"):
            setattr(client, method, self._timed(getattr(client, method), method))

    def _timed(self, run: Any, method: str) -> Any:
        def timed_run(statement: Any, *args: Any, **kwargs: Any) -> Any:
            name = (
                f"insert:{statement}" if method == "insert" else self.names.get(statement, "other")
            )
            started = time.perf_counter()
            try:
                return run(statement, *args, **kwargs)
            finally:
                self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - started

        return timed_run

    def take(self, total: float) -> dict[str, float]:
        """This pass's seconds per statement, and the rest (Python) under ``python``."""
        taken, self.seconds = self.seconds, {}
        return {**taken, "python": total - sum(taken.values())}


def pandas_route(client: Any) -> dict[tuple[str, datetime, str], float]:
    """Load both tables, merge on the id, scikit-learn per (model, hour)."""
    from sklearn import metrics as skm

    predictions = client.query_df(
        "SELECT ModelName, PredictionId, PredictedLabel, Timestamp FROM ml_predictions"
    )
    labels = client.query_df("SELECT ModelName, PredictionId, ActualLabel FROM ml_labels FINAL")
    joined = predictions.merge(labels, on=["ModelName", "PredictionId"])
    joined["hour"] = joined["Timestamp"].dt.floor("h")
    out: dict[tuple[str, datetime, str], float] = {}
    for (model, hour), group in joined.groupby(["ModelName", "hour"]):
        y_true, y_pred = group["ActualLabel"].to_numpy(), group["PredictedLabel"].to_numpy()
        classes = sorted(set(y_true) | set(y_pred))
        key = (model, hour.to_pydatetime().replace(tzinfo=timezone.utc))
        out[(*key, "accuracy")] = skm.accuracy_score(y_true, y_pred)
        for average in ("macro", "micro", "weighted"):
            out[(*key, f"f1_{average}")] = skm.f1_score(
                y_true, y_pred, labels=classes, average=average, zero_division=0
            )
        for name, score in (("precision", skm.precision_score), ("recall", skm.recall_score)):
            out[(*key, f"{name}_macro")] = score(
                y_true, y_pred, labels=classes, average="macro", zero_division=0
            )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--quick", action="store_true", help="1,000,000 rows")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    rows = 1_000_000 if args.quick else args.rows
    with tempfile.TemporaryDirectory() as folder:
        run(Path(folder), rows, args.rounds)


def run(folder: Path, rows: int, rounds: int) -> None:
    from inferwatch_collector.evaluate.evaluation_pass import run_pass
    from inferwatch_collector.evaluate.outcomes import OVERLAP
    from inferwatch_collector.evaluate.settings import EvaluationSettings, MonitoringSettings
    from inferwatch_collector.store.client import open_client
    from inferwatch_collector.store.migrations import run_migrations

    store = f"chdb://{folder / 'store'}"
    client = open_client(store)
    run_migrations(client, ttl_days=30)
    now = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
    history = batch(0, rows, now - timedelta(days=7), timedelta(days=7) - timedelta(hours=1))
    seconds, _ = timed(lambda: generate(client, history))
    print(f"generated {rows:,} predictions over 7 days in {seconds:.1f} s")
    time.sleep(OVERLAP.total_seconds() + 1)  # the first pass sees the data as arrived earlier
    settle(client)
    settings = MonitoringSettings(
        evaluation=EvaluationSettings(windows=("1h",), label_horizon="8d")
    )
    first, _ = timed(lambda: run_pass(client, settings, now=now))
    settle(client)

    breakdown: dict[str, list[dict[str, float]]] = {"stored": [], "raw": [], "steady": []}

    def full_pass(kind: str) -> float:
        time.sleep(OVERLAP.total_seconds() + 1)  # passes run a schedule apart
        fresh = open_client(store)  # a process that remembers no earlier pass
        if kind == "raw":  # nor finds any stored window statistics
            fresh.command("TRUNCATE TABLE ml_window_stats")
            settle(fresh)
        times = StatementTimes(fresh)
        seconds, _ = timed(lambda: run_pass(fresh, settings, now=now))
        breakdown[kind].append(times.take(seconds))
        fresh.close()
        settle(client)
        return seconds

    full = [full_pass("stored") for _ in range(rounds)]
    raw = [full_pass("raw") for _ in range(rounds)]
    times = StatementTimes(client)
    steady = []
    slice_ = timedelta(hours=1) / rounds
    for round_ in range(rounds):  # each round: 1 % more predictions and labels arrive
        # The newest predictions, in the next slice of the last hour (time-ordered UUIDv7
        # ids, as a live service makes them), their labels, and late labels of older ones.
        start = now - timedelta(hours=1) + round_ * slice_
        generate(client, batch(rows + round_ * rows // 100, rows // 100, start, slice_))
        generate(client, history, late=round_ % 3 + 1, from_row=rows - rows * 6 // 167)
        # On a schedule, the pass runs a while after most arrivals; arrivals of the last
        # OVERLAP before a pass are folded again by the next one (see docs/storage.md).
        time.sleep(OVERLAP.total_seconds() + 1)
        settle(client)
        times.take(0.0)  # the generation's statements
        seconds, evaluations = timed(lambda: run_pass(client, settings, now=now))
        breakdown["steady"].append(times.take(seconds))
        steady.append(seconds)
    pandas_seconds, expected = timed(lambda: pandas_route(client))
    ours = {
        (r.model, r.window_start, r.metric): r.value
        for r in evaluations
        if r.segment == "" and r.metric in METRICS_COMPARED
    }
    missing = [k for k in expected if k not in ours]
    worst = max(abs(ours[k] - expected[k]) for k in expected if k in ours)
    report(first, statistics.median(full), statistics.median(raw), statistics.median(steady),
           pandas_seconds, len(expected) - len(missing), len(missing), worst)  # fmt: skip
    report_breakdown(breakdown)
    client.close()


def report(
    first: float,
    full: float,
    raw: float,
    steady: float,
    pandas: float,
    compared: int,
    missing: int,
    worst: float,
) -> None:
    lines = [
        ("first pass: materializes ml_outcomes (once)", first),
        ("full pass, hourly windows, 7 days", full),
        ("  the same, no stored window statistics", raw),
        ("steady-state pass (+1 % predictions/labels)", steady),
        ("pandas merge + scikit-learn per group", pandas),
    ]
    print(f"{'route':<46} {'seconds':>9} {'pandas /':>9}")
    for name, seconds in lines:
        print(f"{name:<46} {seconds:>9.2f} {pandas / seconds:>8.1f}x")
    print(f"\nvalues compared: {compared} (model, hour, metric), missing {missing}; "
          f"largest difference {worst:.2e}")  # fmt: skip
    checks = [
        ("full pass <= 3 s", full <= 3.0, f"{full:.2f} s"),
        ("pandas / full pass >= 40", pandas / full >= 40, f"{pandas / full:.1f}x"),
        ("  the same, none stored: <= 3 s", raw <= 3.0, f"{raw:.2f} s"),
        ("  the same, none stored: >= 40x", pandas / raw >= 40, f"{pandas / raw:.1f}x"),
        ("steady-state pass <= 0.5 s", steady <= 0.5, f"{steady:.2f} s"),
        ("equal to 1e-9", worst <= 1e-9 and missing == 0, f"{worst:.1e}, {missing} missing"),
    ]
    for name, ok, measured in checks:
        print(f"  {'PASS' if ok else 'MISS'}  {name:<32} measured {measured}")


def report_breakdown(breakdown: dict[str, list[dict[str, float]]]) -> None:
    """Median seconds per statement of each kind of pass."""
    kinds = ("stored", "raw", "steady")
    names = sorted({name for passes in breakdown.values() for times in passes for name in times})
    print("\nwhere a pass's time goes (median s)  full: stored    raw  steady")
    for name in names:
        medians = [
            statistics.median(times.get(name, 0.0) for times in breakdown[kind]) for kind in kinds
        ]
        print(f"  {name:<34} {medians[0]:>12.3f} {medians[1]:>6.3f} {medians[2]:>7.3f}")


if __name__ == "__main__":
    main()

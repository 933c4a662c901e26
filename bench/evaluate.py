"""How long an evaluation pass takes on 10 million predictions, against the pandas route.

Generates N predictions over 7 days (3 models, 5 classes, about 80 % accuracy, 90 %
labelled) straight into a fresh chDB, then in one run times: one full pass with hourly
windows and every classification metric; a steady-state pass after 1 % new predictions and
labels; and the obvious alternative — load both tables into pandas, merge on the prediction
id, call scikit-learn per (model, hour) — and checks both give the same values (to 1e-9).

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

GENERATE_PREDICTIONS = """
INSERT INTO ml_predictions (Timestamp, ServiceName, ModelName, ModelVersion, Task,
                            PredictionId, PredictedLabel, Score, LatencyMs, StatusCode)
SELECT toDateTime64({start:UInt32} + intDiv(number * {span:UInt64}, {n:UInt64}), 9, 'UTC'),
       'bench', concat('model-', toString(number % 3)), '1', 'multiclass_classification',
       concat({prefix:String}, leftPad(toString(number), 12, '0')),
       toString(cityHash64(number, 1) % 5),
       (cityHash64(number, 2) % 1000) / 1000,
       (cityHash64(number, 6) % 5000) / 100,
       if(cityHash64(number, 7) % 200 = 0, 'error', 'ok')
FROM numbers({n:UInt64})
"""

GENERATE_LABELS = """
INSERT INTO ml_labels (Timestamp, ServiceName, ModelName, PredictionId, ActualLabel)
SELECT now64(9), 'bench', concat('model-', toString(number % 3)),
       concat({prefix:String}, leftPad(toString(number), 12, '0')),
       if(cityHash64(number, 4) % 100 < 80, toString(cityHash64(number, 1) % 5),
          toString((cityHash64(number, 1) % 5 + 1 + cityHash64(number, 5) % 4) % 5))
FROM numbers({n:UInt64})
WHERE cityHash64(number, 3) % 10 != 0
"""

METRICS_COMPARED = ("accuracy", "f1_macro", "f1_micro", "f1_weighted", "precision_macro")


def generate(client: Any, n: int, start: datetime, days: int, prefix: str) -> None:
    parameters = {"start": int(start.timestamp()), "span": days * 86400, "n": n, "prefix": prefix}
    client.command(GENERATE_PREDICTIONS, parameters=parameters)
    client.command(GENERATE_LABELS, parameters=parameters)


def timed(fn: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


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
        labels_ = sorted(set(y_true) | set(y_pred))
        key_hour = hour.to_pydatetime().replace(tzinfo=timezone.utc)
        out[(model, key_hour, "accuracy")] = skm.accuracy_score(y_true, y_pred)
        for average in ("macro", "micro", "weighted"):
            out[(model, key_hour, f"f1_{average}")] = skm.f1_score(
                y_true, y_pred, labels=labels_, average=average, zero_division=0
            )
        out[(model, key_hour, "precision_macro")] = skm.precision_score(
            y_true, y_pred, labels=labels_, average="macro", zero_division=0
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
    from inferwatch_collector.evaluate.settings import EvaluationSettings, MonitoringSettings
    from inferwatch_collector.store.client import open_client
    from inferwatch_collector.store.migrations import run_migrations

    client = open_client(f"chdb://{folder / 'store'}")
    run_migrations(client, ttl_days=30)
    now = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
    start = now - timedelta(days=7)
    seconds, _ = timed(lambda: generate(client, rows, start, 7, "p-"))
    print(f"generated {rows:,} predictions over 7 days in {seconds:.1f} s")
    settings = MonitoringSettings(
        evaluation=EvaluationSettings(windows=("1h",), label_horizon="7d", bootstrap_samples=0)
    )
    full = [timed(lambda: run_pass(client, settings, now=now, start=start, end=now))
            for _ in range(rounds)]  # fmt: skip
    generate(client, rows // 100, now - timedelta(hours=1), 0, "new-")  # 1 % more, last hour
    steady = [timed(lambda: run_pass(client, settings, now=now)) for _ in range(rounds)]
    evaluations = steady[-1][1]  # after the new data, like the pandas route below
    pandas_seconds, expected = timed(lambda: pandas_route(client))
    ours = {
        (r.model, r.window_start, r.metric): r.value
        for r in evaluations
        if r.segment == "" and r.metric in METRICS_COMPARED
    }
    compared = [k for k in expected if k in ours]
    worst = max(abs(ours[k] - expected[k]) for k in compared)
    report(statistics.median(s for s, _ in full), statistics.median(s for s, _ in steady),
           pandas_seconds,
           len(compared), worst)  # fmt: skip
    client.close()


def report(full: float, steady: float, pandas: float, compared: int, worst: float) -> None:
    print(f"{'route':<44} {'seconds':>9}")
    print(f"{'full pass, hourly windows, 7 days':<44} {full:>9.2f}")
    print(f"{'steady-state pass (+1 % predictions/labels)':<44} {steady:>9.2f}")
    print(f"{'pandas merge + scikit-learn per group':<44} {pandas:>9.2f}")
    print()
    print(f"values compared: {compared} (model, hour, metric); largest difference {worst:.2e}")
    checks = [
        ("full pass <= 3 s", full <= 3.0, f"{full:.2f} s"),
        ("pandas / full pass >= 40", pandas / full >= 40, f"{pandas / full:.1f}x"),
        ("steady-state pass <= 0.5 s", steady <= 0.5, f"{steady:.2f} s"),
        ("equal to 1e-9", worst <= 1e-9, f"{worst:.1e}"),
    ]
    for name, ok, measured in checks:
        print(f"  {'PASS' if ok else 'MISS'}  {name:<30} measured {measured}")


if __name__ == "__main__":
    main()

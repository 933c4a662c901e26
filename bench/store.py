"""Insert speed into ml_predictions on an embedded chDB, by batch size and insert method.

    .venv/bin/python bench/store.py [--sizes 100,1000,10000,100000]

Methods, each given the converter's columns (Python lists, timestamps as int nanoseconds):

- ``insert_tables``: the writer (columnar lists, column types cached per client and table);
- ``client.insert`` (baseline): the same columns, clickhouse-connect describing the table first;
- ``Arrow``: lists → ``pyarrow.Table`` (counted in the time) → ``client.insert_arrow``, when
  pyarrow is installed.

Every insert carries a fresh deduplication token, as the writer's do.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable

from clickhouse_connect.driver import Client

from inferwatch_collector.rows import ML_PREDICTIONS, TableColumns
from inferwatch_collector.store import default_dsn, insert_tables, open_client, run_migrations

Method = Callable[[Client, TableColumns, str], None]


def prediction_columns(rows: int) -> TableColumns:
    """``rows`` predictions with realistic cardinalities (ids unique, labels and maps few)."""
    start = time.time_ns()
    return TableColumns(
        ML_PREDICTIONS,
        {
            "Timestamp": [start + i * 1_000 for i in range(rows)],
            "ServiceName": ["checkout"] * rows,
            "ModelName": ["fraud"] * rows,
            "ModelVersion": ["3.1"] * rows,
            "Task": ["binary_classification"] * rows,
            "PredictionId": [f"{start:x}-{i:08x}" for i in range(rows)],
            "PredictedLabel": [str(i % 2) for i in range(rows)],
            "Score": [(i % 100) / 100 for i in range(rows)],
            "PredictedValue": [None] * rows,
            "LatencyMs": [0.5 + (i % 7) / 10 for i in range(rows)],
            "StatusCode": ["ok"] * rows,
            "TraceId": [f"{i:032x}" for i in range(rows)],
            "SpanId": [f"{i:016x}" for i in range(rows)],
            "Segments": [{"region": ("eu", "us", "apac")[i % 3]} for i in range(rows)],
            "Features": [{"amount": str(i % 500), "country": "fr"} for i in range(rows)],
            "Attributes": [{"http.route": "/predict"}] * rows,
        },
    )


def with_writer(client: Client, columns: TableColumns, token: str) -> None:
    insert_tables(client, {ML_PREDICTIONS: columns}, token)


def with_plain_insert(client: Client, columns: TableColumns, token: str) -> None:
    client.insert(
        ML_PREDICTIONS,
        data=list(columns.columns.values()),
        column_names=list(columns.columns),
        column_oriented=True,
        settings={"insert_deduplication_token": token},
    )


def with_arrow(client: Client, columns: TableColumns, token: str) -> None:
    import pyarrow as pa

    text_map = pa.map_(pa.string(), pa.string())
    types = {"Segments": text_map, "Features": text_map, "Attributes": text_map}
    arrays = {
        name: pa.array(values, type=types.get(name)) for name, values in columns.columns.items()
    }
    arrays["Timestamp"] = arrays["Timestamp"].cast(pa.timestamp("ns"))
    client.insert_arrow(
        ML_PREDICTIONS, pa.table(arrays), settings={"insert_deduplication_token": token}
    )


def methods() -> dict[str, Method]:
    found: dict[str, Method] = {"insert_tables": with_writer, "client.insert": with_plain_insert}
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return found
    found["Arrow"] = with_arrow
    return found


def rates_for(client: Client, found: dict[str, Method], rows: int) -> list[float]:
    """Rows/s per method: best of 3 rounds, methods interleaved so background merges of one
    method's parts weigh on all alike; a round inserts about 200,000 rows (≥ 3 inserts)."""
    columns = prediction_columns(rows)
    inserts = max(3, 200_000 // rows)
    best = dict.fromkeys(found, float("inf"))
    for round_ in range(3):
        for name, method in found.items():
            started = time.perf_counter()
            for i in range(inserts):
                method(client, columns, f"bench-{name}-{rows}-{round_}-{i}")
            best[name] = min(best[name], time.perf_counter() - started)
    return [rows * inserts / seconds for seconds in best.values()]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000,10000,100000")
    sizes = [int(size) for size in parser.parse_args(argv).sizes.split(",")]
    with tempfile.TemporaryDirectory() as data_dir:
        client = open_client(default_dsn(data_dir))
        run_migrations(client, ttl_days=30)
        print_table(client, methods(), sizes)
        client.close()


def print_table(client: Client, found: dict[str, Method], sizes: list[int]) -> None:
    print(f"{'rows/insert':>11} " + " ".join(f"{name:>15}" for name in found) + "   (rows/s)")
    for rows in sizes:
        rates = rates_for(client, found, rows)
        print(f"{rows:>11,} " + " ".join(f"{rate:>15,.0f}" for rate in rates))
        client.command("TRUNCATE TABLE ml_predictions")


if __name__ == "__main__":
    main()

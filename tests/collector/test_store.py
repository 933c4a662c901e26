"""Storage on a real chDB in a temporary folder: DSNs, migrations, retention, inserts, faults."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from clickhouse_connect.driver import Client
from clickhouse_connect.driver.exceptions import OperationalError
from faults import FaultyClient

from inferwatch_collector.rows import TABLE_COLUMNS, TableColumns
from inferwatch_collector.store import (
    InvalidDsnError,
    Migration,
    MigrationChecksumError,
    MigrationError,
    StoreUnavailableError,
    default_dsn,
    insert_tables,
    load_migrations,
    open_client,
    run_migrations,
)

NOW_NS = time.time_ns() // 1000 * 1000 + 789  # recent (older rows expire) and not µs-round


def sample_rows(ts: int = NOW_NS) -> dict[str, dict[str, Any]]:
    """One row per table, shaped as the converter fills them (see rows.py)."""
    resource = {"service.name": "checkout", "host.name": "h1"}
    scope = {"ScopeName": "inferwatch", "ScopeVersion": "0.1.0"}
    exemplars = {
        "Exemplars.FilteredAttributes": [[{"k": "v"}]],
        "Exemplars.TimeUnix": [[ts - 5]],
        "Exemplars.Value": [[0.25]],
        "Exemplars.SpanId": [["00f067aa0ba902b7"]],
        "Exemplars.TraceId": [["4bf92f3577b34da6a3ce929d0e0e4736"]],
    }
    metric = {
        "ResourceAttributes": [resource],
        "ResourceSchemaUrl": ["https://opentelemetry.io/schemas/1.21.0"],
        "ScopeName": [scope["ScopeName"]],
        "ScopeVersion": [scope["ScopeVersion"]],
        "ScopeAttributes": [{}],
        "ScopeDroppedAttrCount": [0],
        "ScopeSchemaUrl": [""],
        "ServiceName": ["checkout"],
        "MetricName": ["ml.prediction.duration"],
        "MetricDescription": ["duration of one call"],
        "MetricUnit": ["s"],
        "Attributes": [{"ml.model.name": "fraud"}],
        "StartTimeUnix": [ts - 60_000_000_000],
        "TimeUnix": [ts],
    }
    return {
        "otel_traces": {
            "Timestamp": [ts],
            "TraceId": ["4bf92f3577b34da6a3ce929d0e0e4736"],
            "SpanId": ["00f067aa0ba902b7"],
            "ParentSpanId": [""],
            "TraceState": ["vendor=1"],
            "SpanName": ["predict fraud"],
            "SpanKind": ["Internal"],
            "ServiceName": ["checkout"],
            "ResourceAttributes": [resource],
            "ScopeName": [scope["ScopeName"]],
            "ScopeVersion": [scope["ScopeVersion"]],
            "SpanAttributes": [{"ml.model.name": "fraud"}],
            "Duration": [1_500_000],
            "StatusCode": ["Ok"],
            "StatusMessage": [""],
            "Events.Timestamp": [[ts + 1, ts + 2]],
            "Events.Name": [["exception", "retry"]],
            "Events.Attributes": [[{"exception.type": "ValueError"}, {}]],
            "Links.TraceId": [["5bf92f3577b34da6a3ce929d0e0e4736"]],
            "Links.SpanId": [["10f067aa0ba902b7"]],
            "Links.TraceState": [[""]],
            "Links.Attributes": [[{"link": "1"}]],
        },
        "otel_logs": {
            "Timestamp": [ts],
            "TraceId": [""],
            "SpanId": [""],
            "TraceFlags": [1],
            "SeverityText": ["INFO"],
            "SeverityNumber": [9],
            "ServiceName": ["labeler"],
            "Body": ["label recorded"],
            "ResourceSchemaUrl": [""],
            "ResourceAttributes": [resource],
            "ScopeSchemaUrl": [""],
            "ScopeName": [scope["ScopeName"]],
            "ScopeVersion": [scope["ScopeVersion"]],
            "ScopeAttributes": [{}],
            "LogAttributes": [{"ml.prediction.id": "p-1"}],
            "EventName": ["ml.label"],
        },
        "otel_metrics_gauge": {**metric, "Value": [3.5], "Flags": [0], **exemplars},
        "otel_metrics_sum": {
            **metric,
            "Value": [42.0],
            "Flags": [0],
            **exemplars,
            "AggregationTemporality": [2],
            "IsMonotonic": [True],
        },
        "otel_metrics_histogram": {
            **metric,
            "Count": [3],
            "Sum": [0.6],
            "BucketCounts": [[1, 2, 0]],
            "ExplicitBounds": [[0.1, 0.5]],
            **exemplars,
            "Flags": [0],
            "Min": [0.1],
            "Max": [0.3],
            "AggregationTemporality": [2],
        },
        "otel_metrics_exponential_histogram": {
            **metric,
            "Count": [4],
            "Sum": [2.5],
            "Scale": [3],
            "ZeroCount": [1],
            "PositiveOffset": [-2],
            "PositiveBucketCounts": [[1, 2]],
            "NegativeOffset": [0],
            "NegativeBucketCounts": [[]],
            **exemplars,
            "Flags": [0],
            "Min": [0.0],
            "Max": [1.5],
            "AggregationTemporality": [1],
        },
        "otel_metrics_summary": {
            **metric,
            "Count": [10],
            "Sum": [5.0],
            "ValueAtQuantiles.Quantile": [[0.5, 0.99]],
            "ValueAtQuantiles.Value": [[0.4, 0.9]],
            "Flags": [0],
        },
        "ml_predictions": {
            "Timestamp": [ts],
            "ServiceName": ["checkout"],
            "ModelName": ["fraud"],
            "ModelVersion": ["3.1"],
            "Task": ["binary_classification"],
            "PredictionId": ["p-1"],
            "PredictedLabel": ["1"],
            "Score": [0.87],
            "PredictedValue": [None],
            "LatencyMs": [1.5],
            "StatusCode": ["ok"],
            "TraceId": ["4bf92f3577b34da6a3ce929d0e0e4736"],
            "SpanId": ["00f067aa0ba902b7"],
            "Segments": [{"region": "eu"}],
            "Features": [{"amount": "12.5", "country": "fr"}],
            "Attributes": [{"http.route": "/predict"}],
        },
        "ml_labels": {
            "Timestamp": [ts],
            "ServiceName": ["labeler"],
            "ModelName": ["fraud"],
            "PredictionId": ["p-1"],
            "ActualLabel": ["1"],
            "ActualValue": [None],
            "Attributes": [{}],
        },
    }


def as_tables(rows: dict[str, dict[str, Any]]) -> dict[str, TableColumns]:
    return {table: TableColumns(table, columns) for table, columns in rows.items()}


def read_columns(client: Client, table: str, names: tuple[str, ...]) -> dict[str, list[Any]]:
    """The stored columns, timestamps as int nanoseconds (DateTime64 read as raw ticks)."""
    listed = ", ".join(f"`{name}`" for name in names)
    result = client.query(
        f"SELECT {listed} FROM {table} ORDER BY tuple()", query_formats={"DateTime64": "int"}
    )
    return dict(zip(names, map(list, result.result_columns), strict=True))


def count(client: Client, table: str) -> int:
    return int(client.command(f"SELECT count() FROM {table}"))


def prediction_rows(model: str, count_: int, start_ns: int = NOW_NS) -> TableColumns:
    base = sample_rows(start_ns)["ml_predictions"]
    columns = {name: values * count_ for name, values in base.items()}
    columns["ModelName"] = [model] * count_
    columns["Timestamp"] = [start_ns + i for i in range(count_)]
    columns["PredictionId"] = [f"{model}-{i}" for i in range(count_)]
    return TableColumns("ml_predictions", columns)


# --- DSN → client --------------------------------------------------------------------------


def test_default_dsn_is_a_chdb_folder_inside_the_data_dir(tmp_path: Path) -> None:
    assert default_dsn(tmp_path / "data") == f"chdb://{tmp_path}/data/store"


def test_open_client_creates_the_embedded_folder(tmp_path: Path) -> None:
    folder = tmp_path / "a" / "b"
    client = open_client(f"chdb://{folder}")
    try:
        assert client.command("SELECT 1") == 1
        assert folder.is_dir()
    finally:
        client.close()


@pytest.mark.parametrize(
    ("dsn", "reason"),
    [
        ("mysql://u:pw@db/x", "scheme must be chdb://, http:// or https://"),
        ("chdb://relative/folder", "chdb:///absolute/path"),
        ("chdb:///abs/folder?udf_path=x", "chdb:///absolute/path"),
        ("http:///inferwatch", "host is missing"),
        ("http://u:pw@db:port/x", "Port could not be cast"),
        ("https://u:pw@db:8443/a/b", "one database"),
    ],
)
def test_bad_dsn_is_refused_naming_it_without_its_password(dsn: str, reason: str) -> None:
    with pytest.raises(InvalidDsnError, match=reason) as refused:
        open_client(dsn)
    message = str(refused.value)
    assert dsn.replace(":pw@", ":***@") in message
    assert ":pw@" not in message


def test_unreachable_server_is_unavailable_naming_the_redacted_dsn() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    dsn = f"http://writer:secret@127.0.0.1:{port}/inferwatch"
    with pytest.raises(StoreUnavailableError) as refused:
        open_client(dsn)
    assert f"writer:***@127.0.0.1:{port}/inferwatch" in str(refused.value)
    assert "secret" not in str(refused.value)


def test_two_clients_on_one_folder_share_its_data(store: Client, tmp_path: Path) -> None:
    second = open_client(default_dsn(tmp_path))
    try:
        insert_tables(store, as_tables({"ml_labels": sample_rows()["ml_labels"]}), "t")
        assert count(second, "ml_labels") == 1
    finally:
        second.close()


def test_a_second_folder_in_the_same_process_is_refused_clearly(
    store: Client, tmp_path: Path
) -> None:
    with pytest.raises(StoreUnavailableError, match="already has another chDB folder open"):
        open_client(f"chdb://{tmp_path}/other")


def test_a_folder_open_in_another_process_is_refused_clearly(store: Client, tmp_path: Path) -> None:
    script = (
        "import sys\n"
        "from inferwatch_collector.store import open_client, StoreUnavailableError\n"
        "try:\n"
        f"    open_client({default_dsn(tmp_path)!r})\n"
        "except StoreUnavailableError as exc:\n"
        "    sys.exit(str(exc))\n"
    )
    other = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert other.returncode == 1
    assert "in use by another process" in other.stderr


def test_one_client_serves_a_writer_thread_and_reader_threads_at_once(store: Client) -> None:
    errors: list[BaseException] = []

    def guarded(work: Any) -> Any:
        def run() -> None:
            try:
                work()
            except BaseException as exc:  # surfaced by the assertion below
                errors.append(exc)

        return threading.Thread(target=run)

    def write() -> None:
        for flush in range(20):
            rows = prediction_rows(f"m{flush}", 50)
            insert_tables(store, {"ml_predictions": rows}, f"flush-{flush}")

    def read() -> None:
        for _ in range(40):
            (stored,) = store.query("SELECT count() FROM ml_predictions").result_rows[0]
            assert stored % 50 == 0  # whole flushes only: an insert is atomic

    threads = [guarded(write), guarded(read), guarded(read)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert count(store, "ml_predictions") == 20 * 50


# --- migrations ----------------------------------------------------------------------------


def test_migrations_create_every_table_with_the_converter_columns(store: Client) -> None:
    insertable = store.query(
        "SELECT table, groupArray(name) FROM (SELECT table, name FROM system.columns "
        "WHERE database = currentDatabase() AND default_kind = '' ORDER BY table, position) "
        "GROUP BY table"
    ).result_rows
    tables = {table: tuple(names) for table, names in insertable}
    for table, columns in TABLE_COLUMNS.items():
        assert tables[table] == columns, table


def test_the_ingest_tables_merge_as_migrations_0017_and_0020_set(store: Client) -> None:
    # Fewer rewrites of each row; otel_traces merged column by column (storage.md).
    predictions = store.command("SHOW CREATE TABLE ml_predictions")
    traces = store.command("SHOW CREATE TABLE otel_traces")
    assert "merge_selector_base = 20" in predictions
    assert "merge_selector_base = 20" in traces
    assert "vertical_merge_algorithm_min_rows_to_activate = 1" in traces
    assert "merge_selector_base" not in store.command("SHOW CREATE TABLE ml_labels")


@pytest.mark.parametrize(
    ("table", "columns", "flush_rows"),
    [
        ("ml_predictions", "Timestamp, ModelName, PredictionId, TraceId, Attributes", 150_000),
        ("otel_traces", "Timestamp, TraceId, SpanId, SpanName, SpanAttributes", 90_000),
    ],
)
def test_flush_parts_are_compact_and_larger_ones_wide_as_migration_0019_sets(
    store: Client, table: str, columns: str, flush_rows: int
) -> None:
    # One file per flush part instead of two per column (storage.md, "Parts and merges"); a
    # part of more rows than a flush makes, as merges make them, is Wide.
    def part_of(rows: int) -> tuple[str, int]:
        store.command(f"TRUNCATE TABLE {table}")
        store.command(
            f"INSERT INTO {table} ({columns}) SELECT now64(9), 'fraud', "
            "toString(generateUUIDv4(number)), hex(generateUUIDv4(number)), "
            "map('http.route', concat('/score/', repeat('x', 64), toString(number))) "
            f"FROM numbers({rows})"
        )
        (part,) = store.query(
            "SELECT part_type, data_uncompressed_bytes FROM system.parts "
            "WHERE database = currentDatabase() AND table = {table:String} AND active",
            parameters={"table": table},
        ).result_rows
        return part

    part_type, size = part_of(flush_rows)
    assert part_type == "Compact"
    assert size > 10 * 1024 * 1024  # Wide under ClickHouse's defaults
    merged = {"ml_predictions": 1_000_000, "otel_traces": 100_000}[table]
    assert part_of(merged)[0] == "Wide"


def test_migration_0021_gives_the_prediction_maps_plain_keys_keeping_stored_rows(
    store: Client,
) -> None:
    # Merging these maps cost about twice as much with LowCardinality keys (storage.md).
    database = "before_0021"
    earlier = [m for m in load_migrations() if m.version < 21]
    run_migrations(store, ttl_days=30, database=database, migrations=earlier)

    def map_types() -> dict[str, str]:
        return dict(
            store.query(
                "SELECT name, type FROM system.columns WHERE database = {db:String} "
                "AND table = 'ml_predictions' AND type LIKE 'Map%'",
                parameters={"db": database},
            ).result_rows
        )

    assert set(map_types().values()) == {"Map(LowCardinality(String), String)"}
    stored = "map('region', 'eu', 'tier', 'gold')"
    store.command(
        f"INSERT INTO {database}.ml_predictions (Timestamp, ModelName, PredictionId, Segments, "
        f"Features, Attributes) VALUES (now64(9), 'fraud', 'p1', {stored}, map('amount', '12.5'), "
        "map('http.route', '/score'))"
    )
    applied = run_migrations(store, ttl_days=30, database=database)
    assert [m.file_name for m in applied] == ["0021_ml_predictions_map_keys.sql"]
    assert map_types() == dict.fromkeys(
        ("Segments", "Features", "Attributes"), "Map(String, String)"
    )
    assert store.query(
        f"SELECT Segments, Features, Attributes, Segments['tier'] FROM {database}.ml_predictions"
    ).result_rows == [
        ({"region": "eu", "tier": "gold"}, {"amount": "12.5"}, {"http.route": "/score"}, "gold")
    ]


def test_running_migrations_twice_changes_nothing(store: Client) -> None:
    def schema() -> list[tuple[Any, ...]]:
        return store.query(
            "SELECT name, create_table_query FROM system.tables "
            "WHERE database = currentDatabase() ORDER BY name"
        ).result_rows

    before, recorded = schema(), count(store, "schema_migrations")
    assert run_migrations(store, ttl_days=30) == []
    assert schema() == before
    assert count(store, "schema_migrations") == recorded == len(load_migrations())


def test_migrations_are_recorded_with_name_and_checksum(store: Client) -> None:
    recorded = store.query("SELECT version, name, checksum FROM schema_migrations ORDER BY version")
    expected = [(m.version, m.name, m.checksum) for m in load_migrations()]
    assert recorded.result_rows == expected
    assert expected[0][:2] == (1, "otel_traces")


def test_a_changed_applied_migration_is_an_error_naming_it(store: Client) -> None:
    changed = [
        Migration(m.version, m.name, m.sql + ";\nSELECT 1") if m.name == "ml_labels" else m
        for m in load_migrations()
    ]
    with pytest.raises(MigrationChecksumError, match="0009_ml_labels.sql was changed"):
        run_migrations(store, ttl_days=30, migrations=changed)


def test_a_migration_unknown_to_this_version_is_an_error(store: Client) -> None:
    known = load_migrations()
    with pytest.raises(MigrationError, match=f"{known[-1].file_name}, which this version"):
        run_migrations(store, ttl_days=30, migrations=known[:-1])


def test_a_new_migration_is_applied_once_with_several_statements(store: Client) -> None:
    sql = (
        "-- two statements; parameters bound server-side\n"
        "ALTER TABLE {database:Identifier}.ml_labels ADD COLUMN IF NOT EXISTS Note String;\n"
        "ALTER TABLE {database:Identifier}.ml_labels COMMENT COLUMN Note 'why';\n"
    )
    next_version = load_migrations()[-1].version + 1
    migrations = [*load_migrations(), Migration(next_version, "label_note", sql)]
    assert [m.file_name for m in run_migrations(store, ttl_days=30, migrations=migrations)] == [
        f"{next_version:04d}_label_note.sql"
    ]
    assert run_migrations(store, ttl_days=30, migrations=migrations) == []
    assert (
        store.command(
            "SELECT comment FROM system.columns WHERE table = 'ml_labels' AND name = 'Note'"
        )
        == "why"
    )


def test_a_failing_migration_names_its_file_and_is_not_recorded(store: Client) -> None:
    version = load_migrations()[-1].version + 1
    broken = Migration(version, "broken", "ALTER TABLE {database:Identifier}.no_such_table DROP X")
    with pytest.raises(MigrationError, match=f"{version:04d}_broken.sql failed"):
        run_migrations(store, ttl_days=30, migrations=[*load_migrations(), broken])
    assert count(store, "schema_migrations") == len(load_migrations())


def test_migration_statements_split_at_semicolons_ending_a_line() -> None:
    migration = Migration(
        1, "x", "-- note;\nCREATE TABLE a (x String)\nENGINE = Log;\n\nSELECT ';'"
    )
    assert migration.statements() == ["CREATE TABLE a (x String)\nENGINE = Log", "SELECT ';'"]


def test_a_changed_retention_is_applied_to_existing_tables(store: Client) -> None:
    run_migrations(store, ttl_days=7)
    engines = dict(
        store.query(
            "SELECT name, engine_full FROM system.tables WHERE database = currentDatabase() "
            "AND name != 'schema_migrations'"
        ).result_rows
    )
    assert set(TABLE_COLUMNS) <= set(engines)
    for name in TABLE_COLUMNS:  # the tables of received data expire; alert history does not
        assert "toIntervalDay(_CAST(7, 'UInt32'))" in engines[name], name


@pytest.mark.parametrize("ttl_days", [0, -1, 10_001, 36_500, 1.5, True])
def test_a_retention_outside_1_to_10000_days_is_refused(store: Client, ttl_days: Any) -> None:
    with pytest.raises(ValueError, match="ttl_days"):
        run_migrations(store, ttl_days=ttl_days)


# --- inserts -------------------------------------------------------------------------------


def test_every_table_stores_converter_rows_exactly(store: Client) -> None:
    rows = sample_rows()
    assert insert_tables(store, as_tables(rows), "flush-1") == dict.fromkeys(rows, 1)
    for table, columns in rows.items():
        assert read_columns(store, table, tuple(columns)) == columns, table


def test_timestamps_round_trip_exact_to_the_nanosecond(store: Client) -> None:
    stamps = [NOW_NS, NOW_NS + 1, NOW_NS - 999_999_999, NOW_NS + 123_456]
    rows = prediction_rows("fraud", len(stamps))
    rows.columns["Timestamp"] = stamps
    insert_tables(store, {"ml_predictions": rows}, "ns")
    stored = store.query(
        "SELECT toUnixTimestamp64Nano(Timestamp) FROM ml_predictions ORDER BY PredictionId"
    ).result_columns[0]
    assert stored == stamps


def test_a_replayed_flush_is_stored_once_and_another_flush_again(store: Client) -> None:
    tables = as_tables(sample_rows())
    insert_tables(store, tables, "wal-1-9")
    insert_tables(store, tables, "wal-1-9")
    assert {table: count(store, table) for table in tables} == dict.fromkeys(tables, 1)
    insert_tables(store, tables, "wal-10-19")
    assert {table: count(store, table) for table in tables} == dict.fromkeys(tables, 2)


def test_a_large_replayed_flush_is_stored_once(store: Client) -> None:
    rows = prediction_rows("fraud", 30_000)
    for _ in range(2):
        insert_tables(store, {"ml_predictions": rows}, "wal-big")
    assert count(store, "ml_predictions") == 30_000


def test_a_flush_that_failed_half_way_is_replayed_without_duplicates(store: Client) -> None:
    faulty = FaultyClient(store)
    faulty.fail_inserts_into = {"ml_labels"}
    tables = as_tables(sample_rows())
    with pytest.raises(OperationalError):
        insert_tables(faulty, tables, "wal-7")
    assert count(store, "ml_predictions") == 1 and count(store, "ml_labels") == 0
    faulty.fail_inserts_into = set()
    insert_tables(faulty, tables, "wal-7")
    assert {table: count(store, table) for table in tables} == dict.fromkeys(tables, 1)


def test_empty_tables_are_counted_and_not_inserted(store: Client) -> None:
    counts = insert_tables(store, {"ml_labels": TableColumns.empty("ml_labels")}, "empty")
    assert counts == {"ml_labels": 0}
    assert count(store, "ml_labels") == 0


def test_a_later_label_replaces_the_earlier_one_for_readers(store: Client) -> None:
    first, later = sample_rows(NOW_NS)["ml_labels"], sample_rows(NOW_NS + 60)["ml_labels"]
    later = {**later, "ActualLabel": ["0"]}
    insert_tables(store, as_tables({"ml_labels": later}), "labels-2")  # arrives out of order
    insert_tables(store, as_tables({"ml_labels": first}), "labels-1")
    final = store.query("SELECT PredictionId, ActualLabel FROM ml_labels FINAL").result_rows
    latest = store.query(
        "SELECT PredictionId, argMax(ActualLabel, Timestamp) FROM ml_labels GROUP BY PredictionId"
    ).result_rows
    assert final == latest == [("p-1", "0")]


def test_rows_older_than_the_retention_are_not_kept(store: Client) -> None:
    old = prediction_rows("fraud", 1, start_ns=NOW_NS - 40 * 86_400 * 10**9)
    recent = prediction_rows("fraud", 1)
    insert_tables(store, {"ml_predictions": old}, "old")
    insert_tables(store, {"ml_predictions": recent}, "recent")
    store.command("OPTIMIZE TABLE ml_predictions FINAL")  # TTL applies at merge time, or sooner
    assert read_columns(store, "ml_predictions", ("Timestamp",)) == {"Timestamp": [NOW_NS]}


WINDOW_QUERY = (
    "SELECT count(), avg(LatencyMs) FROM ml_predictions WHERE ModelName = {model:String} "
    "AND Timestamp >= fromUnixTimestamp64Nano({start:Int64})"
)


def test_a_window_query_by_model_skips_the_other_models_granules(store: Client) -> None:
    for model in ("fraud", "churn"):
        insert_tables(store, {"ml_predictions": prediction_rows(model, 20_000)}, model)
    store.command("OPTIMIZE TABLE ml_predictions FINAL")
    parameters = {"model": "churn", "start": NOW_NS}
    assert store.query(WINDOW_QUERY, parameters=parameters).result_rows == [(20_000, 1.5)]
    plan = [
        line.strip()
        for (line,) in store.query(
            f"EXPLAIN indexes = 1 {WINDOW_QUERY}", parameters=parameters
        ).result_rows
    ]
    by_primary_key = next(
        line for line in plan[plan.index("PrimaryKey") :] if line.startswith("Granules:")
    )
    selected, total = map(int, by_primary_key.removeprefix("Granules:").split("/"))
    assert 0 < selected < total


# --- the faulty store ----------------------------------------------------------------------


def test_the_faulty_store_fails_while_flagged_then_serves_again(store: Client) -> None:
    faulty = FaultyClient(store, failing=True)
    tables = as_tables({"ml_labels": sample_rows()["ml_labels"]})
    with pytest.raises(OperationalError, match="injected fault"):
        insert_tables(faulty, tables, "down")
    with pytest.raises(OperationalError):
        faulty.query("SELECT 1")
    assert faulty.ping() is False and faulty.refused == 2
    faulty.failing = False
    assert insert_tables(faulty, tables, "down") == {"ml_labels": 1}
    assert faulty.ping() is True and count(faulty, "ml_labels") == 1  # type: ignore[arg-type]

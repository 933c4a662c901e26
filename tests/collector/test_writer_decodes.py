"""The writer lets chDB decode the trace requests logged for it, and stores the same rows.

Requests go through the real ingestor (validation decides each record's kind) into a real
write-ahead log; one writer drains it with the ClickHouse decode, another with the Python
converter only. Every row of every table must be the same, and so must the rows the writer
counts in its metrics.
"""

from __future__ import annotations

import logging
import math
import random
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from clickhouse_connect.driver import Client
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

from inferwatch import semconv
from inferwatch_collector import record_kinds
from inferwatch_collector.durable_ingest import DurableIngestor
from inferwatch_collector.receive import Signal
from inferwatch_collector.rows import TABLE_COLUMNS
from inferwatch_collector.selfmetrics import SelfMetrics
from inferwatch_collector.store import open_client, run_migrations
from inferwatch_collector.store_writer import (
    BYTE_WEIGHTS,
    PYTHON_BYTES_WEIGHT,
    StoreHealth,
    StoreWriter,
    WriterSettings,
    convert_batch,
)
from inferwatch_collector.wal import WriteAheadLog

NOW_NS = time.time_ns() - 60_000_000_000


def _any(value: Any) -> AnyValue:
    if isinstance(value, list):
        return AnyValue(array_value={"values": [_any(item) for item in value]})
    if isinstance(value, str):
        return AnyValue(string_value=value)
    if isinstance(value, float):
        return AnyValue(double_value=value)
    return AnyValue(int_value=value)


def _trace_request(rng: random.Random, shapes: list[str]) -> ExportTraceServiceRequest:
    request = ExportTraceServiceRequest()
    resource = request.resource_spans.add()
    resource.resource.attributes.append(KeyValue(key="service.name", value=_any("svc")))
    scope = resource.scope_spans.add()
    for index, shape in enumerate(shapes):
        span = scope.spans.add(trace_id=rng.randbytes(16), span_id=rng.randbytes(8))
        span.start_time_unix_nano = NOW_NS + index
        span.end_time_unix_nano = NOW_NS + index + 1_500_000
        span.name = "GET /" if shape == "plain" else "predict fraud"
        values: dict[str, Any] = {"http.route": "/"}
        if shape == "tagged":  # an array on a prediction span: left to Python by the decode
            values["tags"] = ["a", "b"]
        if shape == "mixed":  # an array of mixed kinds: the spans' statement leaves it too
            values["mixed"] = ["a", 1]
        if shape in ("single", "tagged"):
            values |= {
                semconv.ML_MODEL_NAME: "fraud",
                semconv.ML_PREDICTION_ID: f"p{rng.getrandbits(64)}",
                semconv.ML_PREDICTION_SCORE: rng.choice([0.25, math.nan]),
                semconv.ML_SEGMENT_PREFIX + "region": "eu",
            }
        elif shape in ("batch", "featured"):
            values |= {
                semconv.ML_MODEL_NAME: "fraud",
                semconv.ML_PREDICTION_ID: [f"b{rng.getrandbits(64)}" for _ in range(3)],
                semconv.ML_PREDICTION_SCORE: [0.5, 0.25, math.nan],
            }
            if shape == "featured":  # per-prediction features: the Python converter's
                values[semconv.ML_FEATURE_PREFIX + "amount"] = ["12.5", "3", "40"]
        span.attributes.extend(KeyValue(key=k, value=_any(v)) for k, v in values.items())
    return request


def _label_records() -> ExportLogsServiceRequest:
    request = ExportLogsServiceRequest()
    record = request.resource_logs.add().scope_logs.add().log_records.add()
    record.event_name, record.time_unix_nano = semconv.LABEL_EVENT_NAME, NOW_NS
    for key, value in {semconv.ML_MODEL_NAME: "fraud", semconv.ML_PREDICTION_ID: "p1"}.items():
        record.attributes.append(KeyValue(key=key, value=_any(value)))
    record.attributes.append(KeyValue(key=semconv.ML_LABEL, value=_any("1")))
    return request


def _log_requests(wal: WriteAheadLog, decode_batch_spans: str, extra: list[list[str]]) -> list[int]:
    """Trace requests of every shape (and ``extra`` ones) and a log request, through the real
    ingestor."""
    ingestor = DurableIngestor(
        wal, SelfMetrics(), StoreHealth(), max_bytes=1 << 30, decode_batch_spans=decode_batch_spans
    )
    rng = random.Random(4)
    shapes = [["single"] * 40, ["plain", "single"] * 10, ["single", "batch"], ["plain"] * 5]
    for shape in [*shapes * 3, ["tagged", "single"], *extra]:
        request = _trace_request(rng, shape)
        ingestor.ingest(Signal.TRACES, request, request.SerializeToString())
    ingestor.ingest(Signal.LOGS, _label_records())
    batch = wal.read_batch(max_records=1000, max_bytes=1 << 30)
    return [record.kind for record in batch]


@pytest.mark.parametrize(
    ("decode", "kinds"),
    [
        ("false", [record_kinds.TRACES] * 2),
        ("true", [record_kinds.DECODABLE_BATCH_TRACES] * 2),
        ("spans", [record_kinds.DECODABLE_BATCH_SPANS] * 2),
        # by default chDB decodes it all, unless a batch span carries per-prediction features
        ("auto", [record_kinds.DECODABLE_BATCH_TRACES, record_kinds.DECODABLE_BATCH_SPANS]),
    ],
)
def test_decode_batch_spans_decides_the_kind_of_requests_with_batch_spans(
    tmp_path: Path, decode: str, kinds: list[int]
) -> None:
    rng = random.Random(1)
    requests = [_trace_request(rng, ["single", shape]) for shape in ("batch", "featured")]
    wal = WriteAheadLog(tmp_path / "wal", fsync=False)
    ingestor = DurableIngestor(
        wal, SelfMetrics(), StoreHealth(), max_bytes=1 << 30, decode_batch_spans=decode
    )
    for request in requests:
        ingestor.ingest(Signal.TRACES, request, request.SerializeToString())
    assert [record.kind for record in wal.read_batch(max_records=10, max_bytes=1 << 30)] == kinds
    wal.close()


def _drain(
    tmp_path: Path,
    name: str,
    decode_min_rows: int,
    max_records: int = 1000,
    decode_batch_spans: str = "true",
    extra: tuple[list[str], ...] = (),
) -> tuple[dict[str, Any], bytes]:
    client = open_client(f"chdb://{tmp_path / name}/store")
    try:
        run_migrations(client, ttl_days=30)
        wal = WriteAheadLog(tmp_path / name / "wal", fsync=False)
        kinds = _log_requests(wal, decode_batch_spans, list(extra))
        assert kinds.count(record_kinds.DECODABLE_TRACES) == 10
        batch = 3 + len(extra)  # requests holding a batch span
        featured = sum("featured" in shapes for shapes in extra)
        expected = {
            "true": (batch, 0),
            "spans": (0, batch),
            "auto": (batch - featured, featured),
        }[decode_batch_spans]
        kinds_5_6 = record_kinds.DECODABLE_BATCH_TRACES, record_kinds.DECODABLE_BATCH_SPANS
        assert tuple(map(kinds.count, kinds_5_6)) == expected
        metrics = SelfMetrics()
        settings = WriterSettings(
            batch_max_records=max_records, batch_interval=0.01, decode_min_rows=decode_min_rows
        )
        writer = StoreWriter(wal, client, settings, metrics, StoreHealth(), "test")
        writer.start()
        assert writer.stop(drain_timeout=60)
        wal.close()
        return {table: _rows(client, table) for table in TABLE_COLUMNS}, metrics.render()[1]
    finally:
        client.close()


def _rows(client: Client, table: str) -> list[Any]:
    columns = ", ".join(f"`{name}`" for name in TABLE_COLUMNS[table])
    rows = client.query(f"SELECT {columns} FROM {table}").result_rows
    return sorted(repr(row) for row in rows)


def _inserted(rendered: bytes) -> list[bytes]:
    """The non-zero ``inferwatch_insert_rows_total`` lines."""
    lines = rendered.splitlines()
    return sorted(
        line
        for line in lines
        if line.startswith(b"inferwatch_insert_rows_total") and not line.endswith(b" 0.0")
    )


def test_decoded_and_python_writers_store_the_same_rows_and_count_them(tmp_path: Path) -> None:
    # Batches of 4 records: some decoded by chDB, the last one left to Python by it.
    decoded, decoded_metrics = _drain(tmp_path, "decoded", decode_min_rows=0, max_records=4)
    python, python_metrics = _drain(tmp_path, "python", decode_min_rows=1 << 40)
    assert decoded == python
    assert len(decoded["otel_traces"]) == 3 * (40 + 20 + 2 + 5) + 2
    assert len(decoded["ml_predictions"]) == 3 * (40 + 10 + 1 + 3) + 2
    assert len(decoded["ml_labels"]) == 1
    assert _inserted(decoded_metrics) == _inserted(python_metrics)
    assert b'inferwatch_insert_rows_total{table="ml_predictions"} 164.0' in decoded_metrics


def test_split_writer_stores_the_same_rows_as_the_python_converter(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # chDB stores the spans of batches holding a batch span while Python stores their
    # predictions; the batch with a mixed array falls back to Python for its spans too.
    extra = (["single", "batch", "mixed"],)
    caplog.set_level(logging.DEBUG, logger="inferwatch.collector")
    split, split_metrics = _drain(
        tmp_path, "split", 0, max_records=4, decode_batch_spans="spans", extra=extra
    )
    python, python_metrics = _drain(
        tmp_path, "python", 1 << 40, decode_batch_spans="spans", extra=extra
    )
    assert split == python
    assert len(split["otel_traces"]) == 3 * (40 + 20 + 2 + 5) + 2 + 3
    assert len(split["ml_predictions"]) == 3 * (40 + 10 + 1 + 3) + 2 + 4
    assert _inserted(split_metrics) == _inserted(python_metrics)
    assert b'inferwatch_insert_rows_total{table="otel_traces"} 206.0' in split_metrics
    assert "the Python converter takes these spans" in caplog.text


def test_auto_writer_stores_the_same_rows_as_the_python_converter(tmp_path: Path) -> None:
    # By default chDB decodes batch spans whole, and splits those carrying per-prediction
    # features (kind 6): the Python converter makes their rows.
    extra = (["single", "featured"], ["featured", "batch"])
    auto, auto_metrics = _drain(
        tmp_path, "auto", 0, max_records=4, decode_batch_spans="auto", extra=extra
    )
    python, python_metrics = _drain(
        tmp_path, "python", 1 << 40, decode_batch_spans="auto", extra=extra
    )
    assert auto == python
    assert len(auto["ml_predictions"]) == 3 * (40 + 10 + 1 + 3) + 2 + (1 + 3) + (3 + 3)
    assert sum("'amount': '12.5'" in row for row in auto["ml_predictions"]) == 2
    assert _inserted(auto_metrics) == _inserted(python_metrics)


def _first_batch(tmp_path: Path, records: list[tuple[int, int]], max_bytes: int) -> list[int]:
    """The seqs of the writer's first batch of a log holding ``(kind, n)``, ``n`` a number kept
    in the payload to name each record."""
    wal = WriteAheadLog(tmp_path / f"wal-{uuid.uuid4().hex}", fsync=False)
    try:
        for kind, n in records:
            wal.append(kind, n.to_bytes(4, "big") + b"x" * 96)
        batch = wal.read_batch(1000, max_bytes, BYTE_WEIGHTS)
        return [int.from_bytes(record.payload[:4], "big") for record in batch]
    finally:
        wal.close()


def test_requests_for_the_python_converter_weigh_more_against_the_batch_bound(
    tmp_path: Path,
) -> None:
    python = [(record_kinds.TRACES, n) for n in range(1, 5)]
    decodable = [(record_kinds.DECODABLE_TRACES, n) for n in range(5, 9)]
    weighed = 100 * PYTHON_BYTES_WEIGHT  # a 100-byte record the Python converter parses
    assert PYTHON_BYTES_WEIGHT > 1
    assert _first_batch(tmp_path, python + decodable, 2 * weighed) == [1, 2]
    assert _first_batch(tmp_path, decodable, 400) == [5, 6, 7, 8]
    assert _first_batch(tmp_path, decodable + python, 400 + weighed) == [5, 6, 7, 8, 1]
    # One record bigger than the bound still makes a batch of its own.
    assert _first_batch(tmp_path, python, 50) == [1]
    # Split requests: the Python converter parses them for their predictions.
    split = [(record_kinds.DECODABLE_BATCH_SPANS, n) for n in range(9, 13)]
    assert _first_batch(tmp_path, split + decodable, 3 * weighed) == [9, 10, 11]


def test_a_batch_left_to_python_is_stored_part_by_part_and_once(tmp_path: Path) -> None:
    # A batch chDB was to decode holds up to batch_max_bytes of requests; when a statement
    # leaves it to Python, the Python converter takes a quarter of that at a time, as it does
    # for the requests logged for it, and a replay stores nothing twice.
    client = open_client(f"chdb://{tmp_path}/store")
    try:
        run_migrations(client, ttl_days=30)
        client.command("SYSTEM STOP MERGES")
        wal = WriteAheadLog(tmp_path / "wal", fsync=False)
        ingestor = DurableIngestor(
            wal, SelfMetrics(), StoreHealth(), max_bytes=1 << 30, decode_batch_spans="auto"
        )
        rng = random.Random(7)
        for shapes in [["single"] * 20] * 7 + [["tagged", "single"]]:
            request = _trace_request(rng, shapes)
            ingestor.ingest(Signal.TRACES, request, request.SerializeToString())
        records = wal.read_batch(max_records=100, max_bytes=1 << 30)
        assert {record.kind for record in records} == {record_kinds.DECODABLE_TRACES}
        logged = sum(len(record.payload) for record in records)
        settings = WriterSettings(batch_max_bytes=logged, decode_min_rows=0)
        writer = StoreWriter(wal, client, settings, SelfMetrics(), StoreHealth(), "test")

        def store_once() -> dict[str, int]:
            flush = convert_batch(records, decode_min_rows=0)
            return writer._insert_flush(flush, "test-1-8")

        try:
            stored = {table: rows for table, rows in store_once().items() if rows}
            assert stored == {"otel_traces": 7 * 20 + 2, "ml_predictions": 7 * 20 + 2}
            parts = client.query(
                "SELECT count() FROM system.parts WHERE database = currentDatabase() "
                "AND table = 'ml_predictions' AND active"
            ).result_rows[0][0]
            assert parts >= PYTHON_BYTES_WEIGHT  # a quarter of the batch or less per part
            store_once()  # a replay of the same batch
            assert len(_rows(client, "ml_predictions")) == 7 * 20 + 2
            assert len(_rows(client, "otel_traces")) == 7 * 20 + 2
        finally:
            writer.stop(drain_timeout=0)  # never started: closes its second connection
            wal.close()
    finally:
        client.close()

"""The fast path (ClickHouse decodes OTLP) stores exactly the rows of the Python converter.

Differential: the same validated requests go through ``convert_traces`` + ``insert_tables`` and
through ``fastpath.insert_trace_requests``; every row of ``otel_traces``, ``ml_predictions`` and
``ml_labels`` must be equal, read back from a real chDB.
"""

from __future__ import annotations

import math
import random
from typing import Any

import pytest
from clickhouse_connect.driver import Client
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

from inferwatch import semconv
from inferwatch_collector.convert import convert_traces
from inferwatch_collector.fastpath import insert_trace_requests
from inferwatch_collector.fastpath.trace_insert import length_delimited
from inferwatch_collector.store import open_client, run_migrations
from inferwatch_collector.store.writer import insert_tables
from inferwatch_collector.validate import validate_traces

TABLES = ("otel_traces", "ml_predictions", "ml_labels")
NOW_NS = 1_750_000_000_000_000_000


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Client:
    store = open_client(f"chdb://{tmp_path_factory.mktemp('fastpath')}/store")
    run_migrations(store, ttl_days=10000)
    return store


def _any(value: Any) -> AnyValue:
    if isinstance(value, list):
        return AnyValue(array_value={"values": [_any(item) for item in value]})
    if value is None:
        return AnyValue()
    kinds = {
        bool: "bool_value",
        int: "int_value",
        float: "double_value",
        str: "string_value",
        bytes: "bytes_value",
    }
    return AnyValue(**{kinds[type(value)]: value})


def _attributes(values: dict[str, Any]) -> list[KeyValue]:
    return [KeyValue(key=key, value=_any(value)) for key, value in values.items()]


DOUBLES = [0.0, -0.0, 0.5, 2.0, 1e-05, 1.5e-07, 1e16, 1.2345678901234567e17, 0.0001, 123.25,
           -3.5e300, math.inf, -math.inf, math.nan, 9999999999999998.0]  # fmt: skip
STRINGS = ["", "a", 'quote " and \\', "line\nbreak\ttab", "ctl\x01\x1f", "é ü 中", "2"]


def _scalar(rng: random.Random) -> Any:
    pick = rng.randrange(6)
    if pick == 0:
        return rng.choice(DOUBLES)
    if pick == 1:
        return rng.choice([0, 1, -7, 2**62])
    if pick == 2:
        return rng.choice([True, False])
    if pick == 3:
        return rng.choice([b"", b"\x00\xffab"])
    return rng.choice(STRINGS)


def _other_attributes(rng: random.Random) -> dict[str, Any]:
    values: dict[str, Any] = {"http.route": "/predict"}
    for index in range(rng.randrange(4)):
        values[f"extra.{index}"] = _scalar(rng)
    if rng.random() < 0.3:
        values["list"] = [_scalar(rng) for _ in range(rng.randrange(4))] + [None]
    if rng.random() < 0.5:
        values[semconv.ML_SEGMENT_PREFIX + "region"] = rng.choice(["eu", "us"])
    if rng.random() < 0.5:
        values[semconv.ML_FEATURE_PREFIX + "amount"] = rng.choice(DOUBLES)
    return values


def _single(rng: random.Random, index: int) -> dict[str, Any]:
    values = {
        semconv.ML_MODEL_NAME: "fraud",
        semconv.ML_MODEL_VERSION: "3.1",
        semconv.ML_TASK: semconv.TASK_BINARY,
        semconv.ML_PREDICTION_ID: rng.choice([f"p{index}", ""]),
        semconv.ML_PREDICTION_LABEL: rng.choice(["1", "0", 1, True]),
        semconv.ML_PREDICTION_SCORE: rng.choice([0.25, 1, math.nan]),
    }
    if rng.random() < 0.5:
        values[semconv.ML_PREDICTION_DURATION] = rng.choice([0.002, 3])
        values[semconv.ML_PREDICTION_TIMESTAMP] = NOW_NS + index
        values[semconv.ML_PREDICTION_STATUS] = rng.choice(["ok", "error"])
    if rng.random() < 0.3:
        values[semconv.ML_PREDICTION_TRACE_ID] = f"{index + 7:032X}"
        values[semconv.ML_PREDICTION_SPAN_ID] = f"{index + 7:016X}"
    return values | _other_attributes(rng)


def _batch(rng: random.Random, index: int) -> dict[str, Any]:
    size = rng.randrange(0, 5)
    values = {
        semconv.ML_MODEL_NAME: "fraud",
        semconv.ML_PREDICTION_COUNT: size,
        semconv.ML_PREDICTION_ID: [rng.choice([f"b{index}-{i}", ""]) for i in range(size)],
        semconv.ML_PREDICTION_SCORE: [rng.choice([0.5, math.nan, 2]) for _ in range(size)],
        semconv.ML_PREDICTION_LABEL: [rng.choice(["a", "b"]) for _ in range(size)],
    }
    if rng.random() < 0.6:  # as the SDK's hot-path buffer sends them
        values[semconv.ML_PREDICTION_TIMESTAMP] = [NOW_NS + i for i in range(size)]
        values[semconv.ML_PREDICTION_DURATION] = [
            rng.choice([0.001, math.nan]) for _ in range(size)
        ]
        values[semconv.ML_PREDICTION_STATUS] = [rng.choice(["ok", "error"]) for _ in range(size)]
        values[semconv.ML_PREDICTION_TRACE_ID] = [
            rng.choice(["", f"{i:032x}"]) for i in range(size)
        ]
        values[semconv.ML_PREDICTION_SPAN_ID] = [rng.choice(["", f"{i:016x}"]) for i in range(size)]
    if rng.random() < 0.5:
        values[semconv.ML_FEATURE_PREFIX + "age"] = [
            rng.choice([30, 4.5, "x"]) for _ in range(size)
        ]
    if rng.random() < 0.3:
        values[semconv.ML_PREDICTION_VALUE] = [rng.choice([1.5, -2]) for _ in range(size)]
    return values | _other_attributes(rng)


def _label(rng: random.Random, index: int) -> dict[str, Any]:
    values: dict[str, Any] = {semconv.ML_MODEL_NAME: "fraud", "tenant": "t1"}
    if rng.random() < 0.5:
        values[semconv.ML_PREDICTION_ID] = [f"p{index}", f"q{index}"]
        values[semconv.ML_LABEL] = rng.choice([["1", "0"], "1"])
    else:
        values[semconv.ML_PREDICTION_ID] = f"p{index}"
        values[semconv.ML_LABEL_VALUE] = rng.choice([2.5, 3])
    return values


def _span(scope_spans: Any, rng: random.Random, index: int) -> None:
    span = scope_spans.spans.add()
    span.trace_id = bytes(16) if rng.random() < 0.1 else rng.randbytes(16)
    span.span_id = rng.randbytes(8)
    span.parent_span_id = rng.choice([b"", bytes(8), rng.randbytes(8)])
    span.trace_state = rng.choice(["", "k=v"])
    span.kind = rng.randrange(7)
    span.start_time_unix_nano = NOW_NS + index * 1000
    span.end_time_unix_nano = span.start_time_unix_nano + rng.choice([-5, 0, 2_000_000])
    span.status.code = rng.randrange(3)
    span.status.message = rng.choice(["", "boom"])
    shape = rng.choice([_single, _batch, _label, _other_attributes])
    span.name = semconv.LABEL_EVENT_NAME if shape is _label else f"predict {index}"
    span.attributes.extend(
        _attributes(shape(rng, index) if shape is not _other_attributes else shape(rng))
    )
    for _ in range(rng.randrange(3)):
        event = span.events.add(time_unix_nano=NOW_NS + rng.randrange(1000), name="exception")
        event.attributes.extend(_attributes({"exception.type": "E", "n": _scalar(rng)}))
    if rng.random() < 0.3:
        link = span.links.add(
            trace_id=rng.randbytes(16), span_id=rng.randbytes(8), trace_state="a=b"
        )
        link.attributes.extend(_attributes({"why": _scalar(rng)}))


def generated_request(seed: int, spans: int = 30) -> bytes:
    """A validated request of every span shape the converter knows, from ``seed``."""
    rng = random.Random(seed)
    request = ExportTraceServiceRequest()
    for r in range(2):
        resource_spans = request.resource_spans.add()
        resource = {"service.name": f"svc-{r}", "host.cpu": rng.choice(DOUBLES), "tags": ["a", 1]}
        resource_spans.resource.attributes.extend(_attributes(resource))
        scope_spans = resource_spans.scope_spans.add()
        scope_spans.scope.name, scope_spans.scope.version = "inferwatch", rng.choice(["", "1.0"])
        for index in range(spans):
            _span(scope_spans, rng, r * 1000 + index)
    kept, _rejected, _message = validate_traces(request)
    return kept.SerializeToString()


def _rows(client: Client, table: str) -> list[tuple[Any, ...]]:
    rows = client.query(f"SELECT * FROM {table}").result_rows
    return sorted((tuple(_comparable(value) for value in row) for row in rows), key=repr)


def _comparable(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple(sorted(value.items()))
    if isinstance(value, list):
        return tuple(_comparable(item) for item in value)
    return value


def _stored_by(client: Client, insert: Any, payloads: list[bytes]) -> dict[str, list[Any]]:
    for table in TABLES:
        client.command(f"TRUNCATE TABLE {table}")
    insert(payloads)
    return {table: _rows(client, table) for table in TABLES}


def _python_path(client: Client, token: str) -> Any:
    def insert(payloads: list[bytes]) -> dict[str, int]:
        requests = [ExportTraceServiceRequest.FromString(payload) for payload in payloads]
        return insert_tables(client, convert_traces(requests), token)

    return insert


@pytest.mark.parametrize("seed", range(4))
def test_fast_path_rows_equal_python_conversion(client: Client, seed: int) -> None:
    payloads = [generated_request(seed * 10 + n) for n in range(3)]
    python_counts: dict[str, int] = {}
    expected = _stored_by(
        client,
        lambda p: python_counts.update(_python_path(client, f"py-{seed}")(p)),
        payloads,
    )
    counts: dict[str, int] = {}
    actual = _stored_by(
        client,
        lambda p: counts.update(insert_trace_requests(client, p, f"fast-{seed}")),
        payloads,
    )
    assert sum(len(rows) for rows in expected.values()) > 100
    for table in TABLES:
        assert actual[table] == expected[table], table
        assert counts[table] == python_counts[table]  # rows inserted (ml_labels replaces)


def test_fast_path_replay_with_the_same_token_stores_nothing_twice(client: Client) -> None:
    payloads = [generated_request(99)]
    first = _stored_by(client, lambda p: insert_trace_requests(client, p, "replay"), payloads)
    insert_trace_requests(client, payloads, "replay")
    assert {table: _rows(client, table) for table in TABLES} == first


def test_requests_with_maps_go_through_python_with_the_same_rows(client: Client) -> None:
    request = ExportTraceServiceRequest.FromString(generated_request(7, spans=3))
    kvlist = AnyValue(kvlist_value={"values": [KeyValue(key="k", value=AnyValue(int_value=1))]})
    span = request.resource_spans[0].scope_spans[0].spans[0]
    span.attributes.append(KeyValue(key="nested", value=kvlist))
    payloads = [request.SerializeToString()]
    expected = _stored_by(client, _python_path(client, "map-py"), payloads)
    actual = _stored_by(client, lambda p: insert_trace_requests(client, p, "map-fast"), payloads)
    assert actual == expected
    assert any("nested" in dict(row[11]) for row in actual["otel_traces"])


def test_length_delimited_prefixes_each_payload_with_its_varint_size() -> None:
    assert length_delimited([b"x" * 300, b""]) == b"\xac\x02" + b"x" * 300 + b"\x00"

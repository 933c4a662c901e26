"""ClickHouse decoding trace requests itself stores exactly the rows of the Python converter.

Differential: the same validated requests go through ``convert_traces`` + ``insert_tables`` and
through ``insert_decoded_traces`` (chDB reads the protobuf); every row of ``otel_traces`` and
``ml_predictions`` must be equal, read back from a real chDB. What a statement leaves to
Python must stop it before it stores anything; the Python converter then stores that table,
and a replay of the whole flush stores nothing twice.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from clickhouse_connect.driver import Client
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

from inferwatch import semconv
from inferwatch_collector.convert import convert_traces
from inferwatch_collector.convert.clickhouse.expressions import double_text
from inferwatch_collector.rows import TABLE_COLUMNS
from inferwatch_collector.store import open_client, run_migrations
from inferwatch_collector.store.decoded import (
    DecodedTraceInserter,
    LeftToPython,
    decodes_in_clickhouse,
    insert_decoded_traces,
    length_delimited,
)
from inferwatch_collector.store.writer import insert_tables
from inferwatch_collector.validate import validate_traces

TABLES = ("otel_traces", "ml_predictions")
NOW_NS = time.time_ns() - 3_600_000_000_000

DOUBLES = [0.0, -0.0, 0.5, 2.0, 1e-05, 1.5e-07, 1e16, 1.2345678901234567e17, 0.0001, 123.25,
           -3.5e300, math.inf, -math.inf, math.nan, 9999999999999998.0, 5e-324, 0.1 + 0.2,
           -0.00009, 1e15, 123456789012345.67]  # fmt: skip
STRINGS = ["", "a", 'quote " and \\', "line\nbreak\ttab", "é ü 中 😀", "2", "a/b", "\x7f"]


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Client]:
    store = open_client(f"chdb://{tmp_path_factory.mktemp('decode')}/store")
    run_migrations(store, ttl_days=30)
    yield store
    store.close()


def _any(value: Any) -> AnyValue:
    if isinstance(value, list):
        return AnyValue(array_value={"values": [_any(item) for item in value]})
    if isinstance(value, dict):
        return AnyValue(kvlist_value={"values": _attributes(value)})
    if value is None:
        return AnyValue()
    kinds = {bool: "bool_value", int: "int_value", float: "double_value", str: "string_value"}
    kinds[bytes] = "bytes_value"
    return AnyValue(**{kinds[type(value)]: value})


def _attributes(values: dict[str, Any]) -> list[KeyValue]:
    return [KeyValue(key=key, value=_any(value)) for key, value in values.items()]


def _scalar(rng: random.Random) -> Any:
    pick = rng.randrange(6)
    if pick == 0:
        return rng.choice(DOUBLES)
    if pick == 1:
        return rng.choice([0, 1, -7, 2**62, -(2**63)])
    if pick == 2:
        return rng.choice([True, False])
    if pick == 3:
        return rng.choice([b"", b"\x00\xffab", None])
    return rng.choice(STRINGS)


def _array(rng: random.Random) -> list[Any]:
    """An array of one kind, as SDKs send them (what the statements format)."""
    size = rng.randrange(4)
    make = rng.choice(
        [
            lambda: rng.choice(DOUBLES),
            lambda: rng.choice([0, -3, 2**62]),
            lambda: rng.choice([True, False]),
            lambda: rng.choice(STRINGS),
        ]
    )
    return [make() for _ in range(size)]


def _other_attributes(rng: random.Random, arrays: bool = True) -> dict[str, Any]:
    values: dict[str, Any] = {"http.route": "/predict"}
    for index in range(rng.randrange(4)):
        values[f"extra.{index}"] = _scalar(rng)
    if rng.random() < 0.3:
        values["list"] = _array(rng) if arrays else []
    if rng.random() < 0.1:
        values["empty.map"] = {}
    if rng.random() < 0.5:
        values[semconv.ML_SEGMENT_PREFIX + "region"] = rng.choice(["eu", "us", 3])
    if rng.random() < 0.5:
        values[semconv.ML_FEATURE_PREFIX + "amount"] = rng.choice(DOUBLES)
    return values


def _single(rng: random.Random, index: int) -> dict[str, Any]:
    values: dict[str, Any] = {
        semconv.ML_MODEL_NAME: "fraud",
        semconv.ML_MODEL_VERSION: rng.choice(["3.1", 3]),
        semconv.ML_TASK: semconv.TASK_BINARY,
        semconv.ML_PREDICTION_ID: rng.choice([f"p{index}", ""]),
        semconv.ML_PREDICTION_LABEL: rng.choice(["1", "0", 1, True]),
        semconv.ML_PREDICTION_SCORE: rng.choice([0.25, 1, math.nan, 1e-07]),
        semconv.ML_PREDICTION_COUNT: 1,
    }
    if rng.random() < 0.5:
        values[semconv.ML_PREDICTION_DURATION] = rng.choice([0.002, 3, math.nan])
        values[semconv.ML_PREDICTION_TIMESTAMP] = rng.choice([NOW_NS + index, 0])
        values[semconv.ML_PREDICTION_STATUS] = rng.choice(["ok", "error"])
    if rng.random() < 0.3:
        values[semconv.ML_PREDICTION_VALUE] = rng.choice([1.5, -2])
    if rng.random() < 0.3:
        values[semconv.ML_PREDICTION_TRACE_ID] = f"{index + 7:032X}"
        if rng.random() < 0.8:
            values[semconv.ML_PREDICTION_SPAN_ID] = f"{index + 7:016X}"
    return values | _other_attributes(rng, arrays=False)  # arrays there: left to Python


def _batch(rng: random.Random, index: int) -> dict[str, Any]:
    """A batch span's attributes: per-prediction arrays, some absent, some with stray items
    (validation judges an array by its first item), as the converter must take them."""
    n = rng.choice([0, 1, 3, 5])
    values: dict[str, Any] = {semconv.ML_MODEL_NAME: "churn", semconv.ML_TASK: "binary"}
    if rng.random() < 0.7:
        values[semconv.ML_PREDICTION_COUNT] = n
    if rng.random() < 0.5:
        values[semconv.ML_MODEL_VERSION] = rng.choice(["2", 2])
    arrays = {
        semconv.ML_PREDICTION_ID: lambda i: rng.choice([f"b{index}-{i}", f"b{index}-{i}", "", 7]),
        semconv.ML_PREDICTION_LABEL: lambda i: rng.choice(["1", "0", "yes", 1, True, None, 0.5]),
        semconv.ML_PREDICTION_SCORE: lambda i: rng.choice([0.25, math.nan, 1, 1e-07, "x"]),
        semconv.ML_PREDICTION_VALUE: lambda i: rng.choice([1.5, -2, math.nan]),
        semconv.ML_PREDICTION_TIMESTAMP: lambda i: rng.choice([NOW_NS + i, 0, -1, 2.5]),
        semconv.ML_PREDICTION_DURATION: lambda i: rng.choice([0.002, 3, math.nan, "slow"]),
        semconv.ML_PREDICTION_STATUS: lambda i: rng.choice(["ok", "error", "weird", 1]),
        semconv.ML_PREDICTION_TRACE_ID: lambda i: rng.choice([f"{i + 9:032X}", f"{i:032x}", ""]),
        semconv.ML_PREDICTION_SPAN_ID: lambda i: rng.choice([f"{i + 9:016X}", ""]),
    }
    firsts = {  # the first item of each array has the kind validation wants
        semconv.ML_PREDICTION_SCORE: 0.5,
        semconv.ML_PREDICTION_TIMESTAMP: NOW_NS,
        semconv.ML_PREDICTION_DURATION: 0.001,
        semconv.ML_PREDICTION_STATUS: rng.choice(["ok", "error"]),
        semconv.ML_PREDICTION_ID: f"b{index}-first",
        semconv.ML_PREDICTION_LABEL: "first",
        semconv.ML_PREDICTION_VALUE: 2.5,
        semconv.ML_PREDICTION_TRACE_ID: "ab" * 16,
        semconv.ML_PREDICTION_SPAN_ID: "CD" * 8,
    }
    for key, make in arrays.items():
        if key == semconv.ML_PREDICTION_ID or rng.random() < 0.6:
            items = [make(i) for i in range(n)]
            if items and rng.random() < 0.7:
                items[0] = firsts[key]
            values[key] = items
    return values | _other_attributes(rng)


def _span(scope_spans: Any, rng: random.Random, index: int, batch: bool = False) -> None:
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
    prediction = rng.random() < 0.7
    span.name = f"predict {index}" if prediction else "GET /"
    values = _single(rng, index) if prediction else _other_attributes(rng)
    if batch and rng.random() < 0.5:
        values = _batch(rng, index)
    span.attributes.extend(_attributes(values))
    for _ in range(rng.randrange(3)):
        event = span.events.add(time_unix_nano=NOW_NS + rng.randrange(1000), name="exception")
        event.attributes.extend(_attributes({"exception.type": "E", "n": _scalar(rng)}))
    if rng.random() < 0.3:
        link = span.links.add(
            trace_id=rng.randbytes(16), span_id=rng.randbytes(8), trace_state="a=b"
        )
        link.attributes.extend(_attributes({"why": _scalar(rng), "more": _array(rng)}))


def generated_request(seed: int, spans: int = 40, batch: bool = False) -> bytes:
    """A validated request of plain and single-prediction spans (and, with ``batch``, batch
    spans), from ``seed``."""
    rng = random.Random(seed)
    request = ExportTraceServiceRequest()
    for r in range(2):
        resource_spans = request.resource_spans.add()
        resource = {"service.name": f"svc-{r}", "host.cpu": rng.choice(DOUBLES), "tags": ["a"]}
        resource_spans.resource.attributes.extend(_attributes(resource))
        for s in range(2):
            scope_spans = resource_spans.scope_spans.add()
            scope_spans.scope.name = "inferwatch"
            scope_spans.scope.version = rng.choice(["", "1.0"])
            for index in range(spans // 4):
                _span(scope_spans, rng, r * 1000 + s * 100 + index, batch)
    kept, _rejected, _message = validate_traces(request)
    return kept.SerializeToString()


def _rows(client: Client, table: str) -> list[tuple[Any, ...]]:
    columns = ", ".join(f"`{name}`" for name in TABLE_COLUMNS[table])  # not InsertedAt
    rows = client.query(f"SELECT {columns} FROM {table}").result_rows
    return sorted((tuple(_comparable(value) for value in row) for row in rows), key=repr)


def _comparable(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple(value.items())  # order kept: both paths write attributes in order
    if isinstance(value, list):
        return tuple(_comparable(item) for item in value)
    if isinstance(value, float) and math.isnan(value):
        return "nan"
    return value


def _stored_by(client: Client, insert: Callable[[], Any]) -> dict[str, list[Any]]:
    for table in TABLES:
        client.command(f"TRUNCATE TABLE {table}")
    insert()
    return {table: _rows(client, table) for table in TABLES}


def _in_python(
    client: Client, payloads: list[bytes], token: str, but: frozenset[str] = frozenset()
) -> None:
    """The Python converter's rows, but for the tables in ``but``."""
    requests = [ExportTraceServiceRequest.FromString(payload) for payload in payloads]
    tables = convert_traces(requests)
    insert_tables(client, {table: tables[table] for table in tables if table not in but}, token)


def _decoded_else_python(client: Client, payloads: list[bytes], token: str) -> frozenset[str]:
    """As the writer stores a flush: decoded, and what a statement left by Python; returns
    the tables the decode stored."""
    try:
        insert_decoded_traces(client, payloads, token, batch=True)
    except LeftToPython as left:
        _in_python(client, payloads, token, but=left.stored)
        return left.stored
    return frozenset(TABLES)


def test_the_embedded_store_decodes_in_clickhouse(client: Client) -> None:
    assert decodes_in_clickhouse(client)


@pytest.mark.parametrize("seed", range(5))
def test_decoded_rows_equal_the_python_conversion(client: Client, seed: int) -> None:
    payloads = [generated_request(seed * 10 + n) for n in range(3)]
    expected = _stored_by(client, lambda: _in_python(client, payloads, f"py-{seed}"))
    actual = _stored_by(client, lambda: insert_decoded_traces(client, payloads, f"decoded-{seed}"))
    assert len(expected["otel_traces"]) == 120
    assert len(expected["ml_predictions"]) > 50
    for table in TABLES:
        assert actual[table] == expected[table], table


@pytest.mark.parametrize("seed", range(5))
def test_decoded_batch_spans_equal_the_python_conversion(client: Client, seed: int) -> None:
    payloads = [generated_request(seed * 10 + n, batch=True) for n in range(3)]
    expected = _stored_by(client, lambda: _in_python(client, payloads, f"py-batch-{seed}"))
    decoded: list[frozenset[str]] = []
    actual = _stored_by(
        client,
        lambda: decoded.append(_decoded_else_python(client, payloads, f"decoded-batch-{seed}")),
    )
    # Stray items make mixed arrays, which the spans statement leaves to Python; the
    # predictions statement takes them.
    assert "ml_predictions" in decoded[0]
    assert len(expected["ml_predictions"]) > 100
    for table in TABLES:
        assert actual[table] == expected[table], table


def test_batch_spans_alone_need_no_single_prediction_statement(client: Client) -> None:
    payloads = [_with_span({**MODEL, semconv.ML_PREDICTION_ID: ["a", "b"]}, spans=0)]
    expected = _stored_by(client, lambda: _in_python(client, payloads, "py-batch-alone"))
    actual = _stored_by(
        client,
        lambda: insert_decoded_traces(client, payloads, "batch-alone", single=False, batch=True),
    )
    assert [row[5] for row in actual["ml_predictions"]] == ["a", "b"]  # PredictionId
    assert actual == expected


def test_a_batch_span_stops_a_statement_not_told_of_one(client: Client) -> None:
    payload = _with_span({**MODEL, semconv.ML_PREDICTION_ID: ["a", "b"]})
    with pytest.raises(LeftToPython):
        insert_decoded_traces(client, [payload], "no-batch-expected")


def test_every_double_is_written_as_python_writes_it(client: Client) -> None:
    rng = random.Random(5)
    doubles = DOUBLES + [rng.uniform(-1e20, 1e20) * 10 ** rng.randrange(-300, 300)
                         for _ in range(300)]  # fmt: skip
    texts = [client.query(f"SELECT {double_text(f'toFloat64({value!r})')}").result_rows[0][0]
             for value in doubles if math.isfinite(value)]  # fmt: skip
    expected = [repr(value).removesuffix(".0") for value in doubles if math.isfinite(value)]
    assert texts == expected


def test_a_replay_with_the_same_token_stores_nothing_twice(client: Client) -> None:
    payloads = [generated_request(99)]
    first = _stored_by(client, lambda: insert_decoded_traces(client, payloads, "replay"))
    insert_decoded_traces(client, payloads, "replay")
    assert {table: _rows(client, table) for table in TABLES} == first


def test_a_flush_of_many_requests_is_one_block_per_table_and_replays_once(client: Client) -> None:
    # More requests than ClickHouse decodes at a time: still one part per table, so a replay
    # (the same token) is recognised whole.
    payloads = [generated_request(200 + n, spans=8, batch=True) for n in range(20)]
    decoded: list[frozenset[str]] = []
    first = _stored_by(
        client, lambda: decoded.append(_decoded_else_python(client, payloads, "many"))
    )
    assert "ml_predictions" in decoded[0]
    for table in TABLES:
        assert client.query(f"SELECT uniqExact(_part) FROM {table}").result_rows == [(1,)]
    _decoded_else_python(client, payloads, "many")
    assert {table: _rows(client, table) for table in TABLES} == first
    kept = [ExportTraceServiceRequest.FromString(payload) for payload in payloads]
    spans = sum(len(s.spans) for r in kept for x in r.resource_spans for s in x.scope_spans)
    assert len(first["otel_traces"]) == spans > 100


def _with_span(attributes: dict[str, Any], name: str = "predict x", spans: int = 8) -> bytes:
    request = ExportTraceServiceRequest.FromString(generated_request(7, spans=spans))
    scope_spans = request.resource_spans[0].scope_spans[0]
    span = scope_spans.spans.add(trace_id=b"\1" * 16, span_id=b"\2" * 8, name=name)
    span.start_time_unix_nano = span.end_time_unix_nano = NOW_NS
    span.attributes.extend(_attributes(attributes))
    return request.SerializeToString()


MODEL = {semconv.ML_MODEL_NAME: "m"}
LEFT_TO_PYTHON = {
    "a map": {"nested": {"k": 1}},
    "an array on a prediction span": {**MODEL, "tags": ["a", "b"]},
    "an array in an array": {"deep": [[1]]},
    "a mixed array": {"mixed": [1, "a"]},
    "an array of bytes": {"blobs": [b"x"]},
    "an array with an empty value": {"holes": ["a", None]},
    "a control character in an array": {"ctl": ["a\x01"]},
    "a repeated key": {"k": 1, "k ": 2},
    "per-prediction features": {
        **MODEL,
        semconv.ML_PREDICTION_ID: ["a", "b"],
        semconv.ML_FEATURE_PREFIX + "amount": ["1", "2"],
    },
    "a non-ASCII own trace id": {**MODEL, semconv.ML_PREDICTION_TRACE_ID: "İd"},
}


@pytest.mark.parametrize("case", LEFT_TO_PYTHON)
def test_what_the_statements_leave_to_python_stops_them_before_they_store(
    client: Client, case: str
) -> None:
    payload = (
        _repeated_key_request() if case == "a repeated key" else _with_span(LEFT_TO_PYTHON[case])
    )
    expected = _stored_by(client, lambda: _in_python(client, [payload], f"py-{case}"))
    decoded: list[frozenset[str]] = []
    actual = _stored_by(
        client, lambda: decoded.append(_decoded_else_python(client, [payload], f"left-{case}"))
    )
    assert actual == expected
    assert decoded[0] != frozenset(TABLES)  # something was left to Python
    # A replay (after a crash) takes the same paths, and the tokens recognise every block.
    _decoded_else_python(client, [payload], f"left-{case}")
    assert {table: _rows(client, table) for table in TABLES} == expected


def _repeated_key_request() -> bytes:
    request = ExportTraceServiceRequest.FromString(_with_span({"k": 1}))
    span = request.resource_spans[0].scope_spans[0].spans[-1]
    span.attributes.append(KeyValue(key="k", value=AnyValue(int_value=2)))
    return request.SerializeToString()


def test_a_label_span_is_left_to_python(client: Client) -> None:
    payload = _with_span({**MODEL, semconv.ML_PREDICTION_ID: "p", semconv.ML_LABEL: "1"},
                         name=semconv.LABEL_EVENT_NAME)  # fmt: skip
    with pytest.raises(LeftToPython):
        insert_decoded_traces(client, [payload], "label")


def test_a_flush_stopped_after_its_spans_is_completed_by_python_once(client: Client) -> None:
    # service.name that is not a string: otel_traces formats it, the predictions statement
    # leaves it to Python; the spans stay chDB's, the predictions are Python's.
    request = ExportTraceServiceRequest.FromString(generated_request(3, spans=8))
    service = request.resource_spans[0].resource.attributes[0]
    assert service.key == "service.name"
    service.value.CopyFrom(AnyValue(int_value=42))
    payload = request.SerializeToString()
    expected = _stored_by(client, lambda: _in_python(client, [payload], "py-half"))
    stored: list[frozenset[str]] = []
    actual = _stored_by(
        client, lambda: stored.append(_decoded_else_python(client, [payload], "half"))
    )
    assert stored == [frozenset({"otel_traces"})]
    assert actual == expected


def test_requests_without_predictions_need_one_statement(client: Client) -> None:
    rng = random.Random(1)
    request = ExportTraceServiceRequest()
    scope_spans = request.resource_spans.add().scope_spans.add()
    for index in range(5):
        span = scope_spans.spans.add(trace_id=rng.randbytes(16), span_id=rng.randbytes(8))
        span.name, span.start_time_unix_nano = "GET /", NOW_NS + index
    payload = request.SerializeToString()
    stored = _stored_by(
        client, lambda: insert_decoded_traces(client, [payload], "plain", single=False)
    )
    assert len(stored["otel_traces"]) == 5
    assert stored["ml_predictions"] == []


def test_length_delimited_prefixes_each_payload_with_its_varint_size() -> None:
    assert b"".join(length_delimited([b"x" * 300, b""])) == b"\xac\x02" + b"x" * 300 + b"\x00"


@pytest.mark.parametrize("seed", range(3))
def test_predictions_converted_without_spans_equal_those_of_the_full_conversion(
    seed: int,
) -> None:
    # The split path: the Python converter makes the predictions of requests whose spans chDB
    # stores; it skips the spans' rows and the per-prediction arrays' JSON, nothing else.
    payloads = [generated_request(seed * 10 + n, batch=n > 0) for n in range(3)]
    requests = [ExportTraceServiceRequest.FromString(payload) for payload in payloads]
    full = convert_traces(requests)
    alone = convert_traces(requests, spans=False)
    assert "otel_traces" not in alone
    assert full["ml_predictions"].row_count > 100
    for table in ("ml_predictions", "ml_labels"):
        assert _comparable(alone[table].columns) == _comparable(full[table].columns), table


def _homogeneous_batch(seed: int) -> bytes:
    """A request with a batch span whose arrays have one kind each, as SDKs send them."""
    rng = random.Random(seed)
    n = rng.randrange(2, 9)
    return _with_span(
        {
            **MODEL,
            semconv.ML_PREDICTION_ID: [f"h{seed}-{i}" for i in range(n)],
            semconv.ML_PREDICTION_SCORE: [rng.choice([0.25, math.nan, 1e-07]) for _ in range(n)],
            semconv.ML_PREDICTION_LABEL: [rng.choice(["1", "0"]) for _ in range(n)],
            semconv.ML_PREDICTION_TIMESTAMP: [NOW_NS + i for i in range(n)],
            semconv.ML_SEGMENT_PREFIX + "region": "eu",
        },
        spans=12,
    )


def _split(client: Client, payloads: list[bytes], token: str) -> LeftToPython | None:
    """As the writer stores a kind-6 flush: chDB the spans beside Python the predictions,
    and Python the spans too if chDB left them; returns what chDB left."""
    inserter = DecodedTraceInserter(client)
    try:
        spans = inserter.start_spans(payloads, token)
        _in_python(client, payloads, token, but=frozenset({"otel_traces"}))
        left = spans.result()
    finally:
        inserter.close()
    if left is not None:
        _in_python(client, payloads, token, but=frozenset({"ml_predictions"}))
    return left


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("stray", [False, True], ids=["as-sdks-send-them", "stray-items"])
def test_spans_decoded_beside_python_predictions_equal_the_python_conversion(
    client: Client, seed: int, stray: bool
) -> None:
    if stray:  # mixed arrays: chDB leaves the spans to Python
        payloads = [generated_request(seed * 10 + n, batch=True) for n in (1, 2)]
    else:
        payloads = [generated_request(seed), _homogeneous_batch(seed)]
    token = f"{stray}-{seed}"
    expected = _stored_by(client, lambda: _in_python(client, payloads, f"py-{token}"))
    left: list[LeftToPython | None] = []
    actual = _stored_by(client, lambda: left.append(_split(client, payloads, f"split-{token}")))
    assert (left[0] is not None) == stray
    assert len(expected["ml_predictions"]) > 10
    for table in TABLES:
        assert actual[table] == expected[table], table

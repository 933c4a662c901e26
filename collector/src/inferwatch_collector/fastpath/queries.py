"""The fast path's statements: ``INSERT … SELECT`` over OTLP trace requests ClickHouse decodes.

Every statement reads the requests from ``source`` — ``file('<path>', 'Protobuf', …)`` on chDB,
``input(…)`` on a server (the request body) — flattens them with ``ARRAY JOIN`` to one row per
span (:func:`spans_query`) and fills one table, with the columns and values the Python converter
(``convert/traces.py``) produces. The proto schema travels inline in the SETTINGS as a string
literal (``format_schema_source='string'``), so no schema file is installed anywhere.

>>> "otel_traces" in insert_traces("input('x')")
True
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files

from inferwatch import semconv

from .expressions import (
    STRUCTURE,
    any_text,
    attribute_map,
    hex_id,
    leaf_text,
    number,
    sql_string,
    unsupported,
)

MESSAGE = "ExportTraceServiceRequest"
PREDICTION_ATTRIBUTES = ", ".join(map(sql_string, semconv.PER_PREDICTION_ARRAYS))
_ZERO_TRACE_ID = sql_string("0" * 32)
_ZERO_SPAN_ID = sql_string("0" * 16)


@cache
def schema_settings() -> str:
    """The SETTINGS clause that makes ClickHouse read ``otlp_flat.proto`` messages."""
    schema = files(__package__).joinpath("otlp_flat.proto").read_text(encoding="utf-8")
    return (
        f"SETTINGS format_schema_source = 'string', format_schema = {sql_string(schema)}, "
        f"format_schema_message_name = '{MESSAGE}', input_format_protobuf_oneof_presence = 1, "
        "max_threads = 1, max_insert_threads = 1, min_insert_block_size_rows = 0, "
        "min_insert_block_size_bytes = 0, max_insert_block_size = 1000000000, "
        "short_circuit_function_evaluation = 'force_enable'"
    )


def file_source(path: str) -> str:
    """Length-delimited requests in a local file (chDB reads it in-process)."""
    return f"file({sql_string(path)}, 'Protobuf', {sql_string(STRUCTURE)})"


def input_source() -> str:
    """Length-delimited requests in the body of the INSERT (a ClickHouse server)."""
    return f"input({sql_string(STRUCTURE)})"


def spans_query(source: str) -> str:
    """One row per span, with its resource and scope, attribute keys and string forms."""
    return f"""
SELECT
    {attribute_map("rs.resource.attributes")} AS resource,
    resource['service.name'] AS service,
    ss.scope.name AS scope_name,
    ss.scope.version AS scope_version,
    sp.trace_id AS raw_trace_id,
    sp.span_id AS raw_span_id,
    if({hex_id("raw_trace_id")} = {_ZERO_TRACE_ID}, '', {hex_id("raw_trace_id")}) AS trace_id,
    {hex_id("raw_span_id")} AS span_id,
    sp.parent_span_id AS parent_span_id,
    sp.trace_state AS trace_state,
    sp.name AS name,
    sp.kind AS kind,
    sp.start_time_unix_nano AS start,
    sp.end_time_unix_nano AS end,
    sp.status.code AS code,
    sp.status.message AS status_message,
    sp.events AS events,
    sp.links AS links,
    sp.attributes.key AS keys,
    sp.attributes.value AS vals,
    arrayMap(v -> {any_text("v")}, vals) AS texts
FROM {source}
ARRAY JOIN resource_spans AS rs
ARRAY JOIN rs.scope_spans AS ss
ARRAY JOIN ss.spans AS sp
"""


def survey(source: str) -> str:
    """One cheap pass: ``(spans, spans the fast path cannot decode, prediction rows, label
    rows)`` — whether to take the fast path, and the row counts it will insert."""
    checks = " OR ".join(
        (
            unsupported("rs.resource.attributes"),
            unsupported("sp.attributes"),
            f"arrayExists(e -> {unsupported('e.attributes')}, sp.events)",
            f"arrayExists(l -> {unsupported('l.attributes')}, sp.links)",
        )
    )
    return f"""
SELECT count(), countIf({checks}),
    sumIf(if(arrayExists((k, v) -> {_IS_BATCH_ITEM}, keys, vals), {_batch_size()}, 1),
        name != {_LABEL_SPAN} AND has(keys, {sql_string(semconv.ML_MODEL_NAME)})),
    sumIf({_label_count()}, name = {_LABEL_SPAN})
FROM (
    SELECT rs, sp, sp.name AS name, sp.attributes.key AS keys, sp.attributes.value AS vals
    FROM {source}
    ARRAY JOIN resource_spans AS rs ARRAY JOIN rs.scope_spans AS ss ARRAY JOIN ss.spans AS sp
)
{schema_settings()}"""


_KINDS = "['Unspecified', 'Internal', 'Server', 'Client', 'Producer', 'Consumer']"
_CODES = "['Unset', 'Ok', 'Error']"


def _enum_name(names: str, number: str, count: int) -> str:
    # The converter indexes a Python tuple: negative numbers count from the end, as here.
    return (
        f"if({number} < {count}, if({number} >= 0, {names}[{number} + 1], {names}[{number}]), '')"
    )


def insert_traces(source: str) -> str:
    """``otel_traces``: every span, as the OpenTelemetry Collector's exporter writes it."""
    return f"""
INSERT INTO otel_traces
SELECT
    fromUnixTimestamp64Nano(toInt64(start)) AS Timestamp,
    trace_id AS TraceId,
    span_id AS SpanId,
    if({hex_id("parent_span_id")} = {_ZERO_SPAN_ID}, '', {hex_id("parent_span_id")}),
    trace_state,
    name,
    {_enum_name(_KINDS, "kind", 6)},
    service,
    resource,
    scope_name,
    scope_version,
    mapFromArrays(keys, texts),
    if(end > start, end - start, 0),
    {_enum_name(_CODES, "code", 3)},
    status_message,
    arrayMap(e -> fromUnixTimestamp64Nano(toInt64(e.time_unix_nano)), events),
    events.name,
    arrayMap(e -> {attribute_map("e.attributes")}, events),
    arrayMap(l -> {hex_id("l.trace_id")}, links),
    arrayMap(l -> {hex_id("l.span_id")}, links),
    links.trace_state,
    arrayMap(l -> {attribute_map("l.attributes")}, links)
FROM ({spans_query(source)})
{schema_settings()}"""


def _text(key: str) -> str:
    return f"texts[indexOf(keys, {sql_string(key)})]"


def _value(key: str) -> str:
    return f"vals[indexOf(keys, {sql_string(key)})]"


def _items(key: str) -> str:
    """The per-prediction array under ``key``, one item per row (absent: ``kind = 'none'``)."""
    return f"arrayResize({_value(key)}.array_value.values, count)"


def _prefixed(name: str, keep: str) -> str:
    """A Map of the attributes whose key satisfies ``keep`` (a lambda body over ``k``)."""
    return (
        f"mapFromArrays(arrayMap(k -> {name}, arrayFilter(k -> {keep}, keys)), "
        f"arrayFilter((t, k) -> {keep}, texts, keys)) "
    )


_SEGMENT = sql_string(semconv.ML_SEGMENT_PREFIX)
_FEATURE = sql_string(semconv.ML_FEATURE_PREFIX)
_UNPREFIXED = f"substring(k, {len(semconv.ML_SEGMENT_PREFIX) + 1})"
_IS_BATCH_ITEM = f"v.kind = 'array' AND k IN ({PREDICTION_ATTRIBUTES})"
_LABEL_SPAN = sql_string(semconv.LABEL_EVENT_NAME)
_ERROR = sql_string(semconv.STATUS_ERROR)
_OK = sql_string(semconv.STATUS_OK)


def _batch_size() -> str:
    return (
        f"length(vals[arrayFirstIndex((k, v) -> {_IS_BATCH_ITEM}, keys, vals)].array_value.values)"
    )


def _label_values() -> list[str]:
    return [
        _value(key) for key in (semconv.ML_PREDICTION_ID, semconv.ML_LABEL, semconv.ML_LABEL_VALUE)
    ]


def _label_count() -> str:
    # labels.py zips the arrays among id/label/value (scalars repeat): the shortest decides.
    sizes = ", ".join(
        f"if({v}.kind = 'array', length({v}.array_value.values), 4294967295)"
        for v in _label_values()
    )
    return f"if(least({sizes}) = 4294967295, 1, least({sizes}))"


def _prediction_spans(source: str) -> str:
    """Per prediction span: what every row repeats, and one array item per row."""
    m = semconv
    return f"""
SELECT
    start, end, service, trace_id, span_id, code,
    arrayExists((k, v) -> {_IS_BATCH_ITEM}, keys, vals) AS batch,
    if(batch, {_batch_size()}, 1) AS count,
    {_prefixed(_UNPREFIXED, f"startsWith(k, {_SEGMENT})")} AS segments,
    {_prefixed(_UNPREFIXED, f"startsWith(k, {_FEATURE})")} AS features,
    {_prefixed("k", "NOT startsWith(k, 'ml.')")} AS others,
    arrayFilter((v, k) -> startsWith(k, {_FEATURE}), vals, keys) AS feature_values,
    if(batch AND arrayExists(v -> v.kind = 'array' AND length(v.array_value.values) = count,
        feature_values), arrayMap(i -> mapFromArrays(mapKeys(features), arrayMap((v, t) ->
        if(v.kind = 'array' AND length(v.array_value.values) = count,
        {leaf_text("v.array_value.values[i]")}, t), feature_values, mapValues(features))),
        range(1, count + 1)), []) AS feature_rows,
    {_items(m.ML_PREDICTION_ID)} AS id_items,
    {_items(m.ML_PREDICTION_LABEL)} AS label_items,
    {_items(m.ML_PREDICTION_SCORE)} AS score_items,
    {_items(m.ML_PREDICTION_VALUE)} AS value_items,
    {_items(m.ML_PREDICTION_TIMESTAMP)} AS timestamp_items,
    {_items(m.ML_PREDICTION_DURATION)} AS duration_items,
    {_items(m.ML_PREDICTION_STATUS)} AS status_items,
    {_items(m.ML_PREDICTION_TRACE_ID)} AS trace_id_items,
    {_items(m.ML_PREDICTION_SPAN_ID)} AS span_id_items,
    {_timestamp(_value(m.ML_PREDICTION_TIMESTAMP))} AS own_start,
    {number(_value(m.ML_PREDICTION_DURATION))} AS own_duration,
    {_text(m.ML_PREDICTION_STATUS)} AS own_status,
    {_text(m.ML_PREDICTION_TRACE_ID)} AS own_trace_id,
    {_text(m.ML_PREDICTION_SPAN_ID)} AS own_span_id,
    {_text(m.ML_PREDICTION_ID)} AS own_id,
    {_text(m.ML_PREDICTION_LABEL)} AS own_label,
    {number(_value(m.ML_PREDICTION_SCORE))} AS own_score,
    {number(_value(m.ML_PREDICTION_VALUE))} AS own_value,
    {_text(m.ML_MODEL_NAME)} AS model,
    {_text(m.ML_MODEL_VERSION)} AS version,
    {_text(m.ML_TASK)} AS task,
    has(keys, {sql_string(m.ML_PREDICTION_STATUS)}) AS has_statuses
FROM ({spans_query(source)})
WHERE name != {sql_string(m.LABEL_EVENT_NAME)} AND has(keys, {sql_string(m.ML_MODEL_NAME)})
"""


def _timestamp(v: str) -> str:
    return f"if({v}.kind = 'int' AND {v}.int_value > 0, {v}.int_value, toInt64(start))"


def insert_predictions(source: str) -> str:
    """``ml_predictions``: one row per prediction, batch arrays exploded (``predictions.py``)."""
    span_ms = "(toInt64(end) - toInt64(start)) / 1e6"
    own_item = "{0}.kind = 'string' AND {0}.string_value != ''"
    return f"""
INSERT INTO ml_predictions
SELECT
    fromUnixTimestamp64Nano(if(batch, {_timestamp("t")}, own_start)),
    service,
    model,
    version,
    task,
    if(batch, if({own_item.format("id")}, id.string_value, concat(span_id, '-', toString(i - 1))),
        if(own_id != '', own_id, span_id)),
    if(batch, {leaf_text("label")}, own_label),
    if(batch, {number("score")}, own_score),
    if(batch, {number("value")}, own_value),
    ifNull(if(batch, {number("duration")}, own_duration) * 1000.0, {span_ms}),
    if(if(batch, if(has_statuses, status.kind = 'string' AND status.string_value = {_ERROR},
        code = 2), if(own_status != '', own_status = {_ERROR}, code = 2)), {_ERROR}, {_OK}),
    if(batch, if({own_item.format("tid")}, lowerUTF8(tid.string_value), trace_id),
        if(own_trace_id != '', lowerUTF8(own_trace_id), trace_id)),
    if(batch, if({own_item.format("sid")}, lowerUTF8(sid.string_value), span_id),
        if(own_trace_id != '', lowerUTF8(own_span_id), span_id)),
    segments,
    if(empty(feature_rows), features, feature_row),
    others
FROM ({_prediction_spans(source)})
ARRAY JOIN
    arrayEnumerate(id_items) AS i, id_items AS id, label_items AS label,
    score_items AS score, value_items AS value, timestamp_items AS t,
    duration_items AS duration, status_items AS status, trace_id_items AS tid,
    span_id_items AS sid, arrayResize(feature_rows, count) AS feature_row
{schema_settings()}"""


def insert_labels(source: str) -> str:
    """``ml_labels``: the labels of spans named ``ml.label`` (``labels.py``)."""
    m = semconv
    found = _label_values()
    kept = "NOT startsWith(k, 'ml.') AND k != 'event.name'"
    return f"""
INSERT INTO ml_labels
SELECT
    fromUnixTimestamp64Nano(toInt64(start)),
    service,
    {_text(m.ML_MODEL_NAME)},
    if(id_array, {leaf_text("id")}, {_text(m.ML_PREDICTION_ID)}),
    if(label_array, {leaf_text("label")}, {_text(m.ML_LABEL)}),
    if(value_array, {number("actual")}, {number(found[2])}),
    {_prefixed("k", kept)}
FROM (
    SELECT
        *,
        {_label_count()} AS count,
        {found[0]}.kind = 'array' AS id_array,
        {found[1]}.kind = 'array' AS label_array,
        {found[2]}.kind = 'array' AS value_array,
        arrayResize({found[0]}.array_value.values, count) AS ids,
        arrayResize({found[1]}.array_value.values, count) AS labels,
        arrayResize({found[2]}.array_value.values, count) AS actuals
    FROM ({spans_query(source)})
    WHERE name = {sql_string(m.LABEL_EVENT_NAME)}
)
ARRAY JOIN ids AS id, labels AS label, actuals AS actual
{schema_settings()}"""

"""``INSERT … SELECT`` statements that decode OTLP trace requests inside ClickHouse.

Each statement reads the length-delimited requests of a flush from a file (``file(…)``),
flattens them with ``ARRAY JOIN`` to one row per span and fills one table with the rows
``convert/traces.py`` and ``convert/predictions.py`` make of the same requests:
:func:`insert_traces` every span into ``otel_traces``, :func:`insert_predictions` every
single-prediction span into ``ml_predictions``. Batch spans and label spans are not decoded
here: the receiver logs the requests holding one for the Python converter, and the statements
stop on one (``NEEDS_PYTHON``) should it come anyway.

ClickHouse analyses each statement anew, in time that grows with its expressions, so each
formatter appears once per statement: the traces statement formats the resource's, the
span's, its events' and its links' attributes in one pass and slices the result. An alias
used again in the SELECT that defines it is analysed again at each use (its whole
expression), while a column of the subquery below costs nothing more. So what is used several
times — the attribute texts above all — is computed one subquery below its users: that took
the batch-span predictions statement's analysis from about 290 to 165 ms (bench/ingest.py,
"statement analysis").

>>> "otel_traces" in insert_traces("/tmp/flush.otlp", "token")
True
"""

from __future__ import annotations

from inferwatch import semconv

from ...rows import ML_PREDICTIONS_COLUMNS, OTEL_TRACES_COLUMNS
from .expressions import (
    Value,
    ascii_lower,
    attribute_texts,
    hex_id,
    leaf_text,
    leaf_texts,
    needs_python,
    number,
    sql_string,
    unique_keys,
)
from .schema import BATCH, PREDICTIONS, SETTINGS, TRACES, Reading, file_source

_KINDS = "['Unspecified', 'Internal', 'Server', 'Client', 'Producer', 'Consumer']"
_CODES = "['Unset', 'Ok', 'Error']"
_ZERO_TRACE_ID = sql_string("0" * 32)
_ZERO_SPAN_ID = sql_string("0" * 16)
_LABEL_SPAN = sql_string(semconv.LABEL_EVENT_NAME)
_PER_PREDICTION = "[" + ", ".join(map(sql_string, semconv.PER_PREDICTION_ARRAYS)) + "]"
_ERROR = sql_string(semconv.STATUS_ERROR)
_OK = sql_string(semconv.STATUS_OK)
_SERVICE = sql_string("service.name")


def settings_clause(token: str, reading: Reading | None = None) -> str:
    """The SETTINGS of a decoding statement, deduplicated by ``token``; the message of
    ``reading`` when it reads one (else each subquery names its own)."""
    message = {} if reading is None else {"format_schema_message_name": reading.message}
    settings = {
        **SETTINGS,
        **message,
        "insert_deduplicate": 1,
        "insert_deduplication_token": token,
    }
    return "SETTINGS " + ", ".join(
        f"{name} = {sql_string(value) if isinstance(value, str) else value}"
        for name, value in settings.items()
    )


def spans_query(source: str, resource: dict[str, str]) -> str:
    """One row per span (``sp``) with its scope (``ss``) and the ``resource`` columns (name:
    expression over ``rs``, the resource's spans)."""
    computed = ", ".join(f"{expression} AS {name}" for name, expression in resource.items())
    return f"""
SELECT {", ".join(resource)}, ss, sp
FROM (
    SELECT {computed}, rs.scope_spans AS scopes
    FROM {source}
    ARRAY JOIN resource_spans AS rs
)
ARRAY JOIN scopes AS ss
ARRAY JOIN ss.spans AS sp"""


def _enum_name(names: str, number: str, count: int) -> str:
    # The converter indexes a Python tuple: negative numbers count from the end, as here.
    return (
        f"if({number} < {count}, if({number} >= 0, {names}[{number} + 1], {names}[{number}]), '')"
    )


def _attribute_map(keys: str, start: str, size: str) -> str:
    """A Map of ``keys`` and their texts, sliced out of ``texts`` from position ``start``."""
    return f"mapFromArrays({unique_keys(keys)}, arraySlice(texts, {start}, {size}))"


def _sliced_maps(items: str, sizes: str, base: str) -> str:
    """Per event (or link) in ``items``, its attribute Map (texts after position ``base``)."""
    start = f"{base} + end - size + 1"
    return (
        f"arrayMap((e, size, end) -> {_attribute_map('e.attributes.key', start, 'size')}, "
        f"{items}, {sizes}, arrayCumSum({sizes}))"
    )


def insert_traces(path: str, token: str) -> str:
    """``otel_traces`` from the requests in ``path``: every span, as the OpenTelemetry
    Collector's exporter writes it."""
    columns = ", ".join(f"`{name}`" for name in OTEL_TRACES_COLUMNS)
    start, end = "sp.start_time_unix_nano", "sp.end_time_unix_nano"
    every_value = (
        "arrayConcat(resource_attributes.value, sp.attributes.value, "
        "arrayFlatten(sp.events.attributes.value), arrayFlatten(sp.links.attributes.value))"
    )
    resource = {"resource_attributes": "rs.resource.attributes"}
    spans = spans_query(file_source(path, TRACES), resource)
    return f"""
INSERT INTO otel_traces ({columns})
SELECT
    fromUnixTimestamp64Nano(toInt64({start})),
    if(trace_id = {_ZERO_TRACE_ID}, '', trace_id),
    {hex_id("sp.span_id")},
    if(parent = {_ZERO_SPAN_ID}, '', parent),
    sp.trace_state,
    if(sp.name = {_LABEL_SPAN}, {needs_python(f"sp.name = {_LABEL_SPAN}")}, sp.name),
    {_enum_name(_KINDS, "sp.kind", 6)},
    resource[{_SERVICE}],
    resource,
    ss.scope.name,
    ss.scope.version,
    {_attribute_map("sp.attributes.key", "resource_size + 1", "length(sp.attributes)")},
    if({end} > {start}, {end} - {start}, 0),
    {_enum_name(_CODES, "sp.status.code", 3)},
    sp.status.message,
    arrayMap(e -> fromUnixTimestamp64Nano(toInt64(e.time_unix_nano)), sp.events),
    sp.events.name,
    {_sliced_maps("sp.events", "event_sizes", "resource_size + length(sp.attributes)")},
    arrayMap(l -> {hex_id("l.trace_id")}, sp.links),
    arrayMap(l -> {hex_id("l.span_id")}, sp.links),
    sp.links.trace_state,
    {_sliced_maps("sp.links", "link_sizes", "own_end + arraySum(event_sizes)")}
FROM (
    SELECT
        *,
        length(resource_attributes) AS resource_size,
        resource_size + length(sp.attributes) AS own_end,
        {_attribute_map("resource_attributes.key", "1", "resource_size")} AS resource
    FROM (
        SELECT
            *,
            {hex_id("sp.trace_id")} AS trace_id,
            {hex_id("sp.parent_span_id")} AS parent,
            {attribute_texts(every_value)} AS texts,
            arrayMap(e -> length(e.attributes), sp.events) AS event_sizes,
            arrayMap(e -> length(e.attributes), sp.links) AS link_sizes
        FROM ({spans})
    )
)
{settings_clause(token, TRACES)}"""


# --- ml_predictions -------------------------------------------------------------------------

_ML_TEXTS = {
    "model": semconv.ML_MODEL_NAME,
    "version": semconv.ML_MODEL_VERSION,
    "task": semconv.ML_TASK,
    "id": semconv.ML_PREDICTION_ID,
    "label": semconv.ML_PREDICTION_LABEL,
    "status": semconv.ML_PREDICTION_STATUS,
    "trace": semconv.ML_PREDICTION_TRACE_ID,
    "span": semconv.ML_PREDICTION_SPAN_ID,
}
"""Attributes read as text, as ``t_<name>``."""
_ML_VALUES = {
    "score": semconv.ML_PREDICTION_SCORE,
    "value": semconv.ML_PREDICTION_VALUE,
    "ts": semconv.ML_PREDICTION_TIMESTAMP,
    "duration": semconv.ML_PREDICTION_DURATION,
}
"""Attributes read as values, as ``v_<name>`` (a ``LeafValue``)."""


_PER_ITEM_ARRAY = f"(kind = 'array' AND has({_PER_PREDICTION}, k))"
"""An attribute (key ``k``, ``kind``) that is a per-prediction array."""


def _has_batch_arrays(keys: str = "keys", kinds: str = "kinds") -> str:
    """Whether a span's attributes (``keys``, their ``kinds``) hold a per-prediction array."""
    return f"arrayExists((k, kind) -> {_PER_ITEM_ARRAY}, {keys}, {kinds})"


_BATCH = _has_batch_arrays()
_SEGMENT = f"startsWith(k, {sql_string(semconv.ML_SEGMENT_PREFIX)})"
_FEATURE = f"startsWith(k, {sql_string(semconv.ML_FEATURE_PREFIX)})"
_NOT_ML = "NOT startsWith(k, 'ml.')"


def _prefixed(strip: bool, keep: str) -> str:
    """A Map of the attributes whose key satisfies ``keep`` (a lambda body over ``k``)."""
    cut = len(semconv.ML_SEGMENT_PREFIX) + 1
    name = f"substring(k, {cut})" if strip else "k"
    return (
        f"mapFromArrays(arrayMap(k -> {name}, arrayFilter(k -> {keep}, keys)), "
        f"arrayFilter((t, k) -> {keep}, texts, keys))"
    )


def _service() -> dict[str, str]:
    """The resource column ``service``: service.name as the SDKs send it, a string; anything
    else is Python's."""
    attributes = "rs.resource.attributes"
    service = f"{attributes}.value[indexOf({attributes}.key, {_SERVICE})]"
    not_string = f"{service}.kind NOT IN ('string', 'none')"
    return {"service": f"if({not_string}, {needs_python(not_string)}, {service}.string_value)"}


def _span_columns(trace_id: str) -> str:
    """What every prediction row may take from its span (``trace_id``: its hex expression)."""
    return f"""service,
    sp.start_time_unix_nano AS start,
    sp.end_time_unix_nano AS end,
    sp.status.code AS code,
    if({trace_id} = {_ZERO_TRACE_ID}, '', {trace_id}) AS trace_id,
    {hex_id("sp.span_id")} AS span_id"""


def _span_attributes(keys: str, kinds: str) -> str:
    """:func:`_span_columns` and the span's attributes: their ``keys``, values (``vals``) and
    the values' ``kinds``."""
    return f"""{_span_columns(hex_id("sp.trace_id"))},
    sp.attributes.key AS {keys},
    sp.attributes.value AS vals,
    vals.kind AS {kinds}"""


def _message(reading: Reading) -> str:
    # Per subquery, so that one statement can read the file twice, as two messages.
    return f"SETTINGS format_schema_message_name = {sql_string(reading.message)}"


def _prediction_spans(path: str, *, batch_apart: bool) -> str:
    """One row per single-prediction span, with what ``predictions._single_row`` reads.

    A batch span stops the statement, or, with ``batch_apart``, is left out (to
    :func:`_batch_rows`)."""
    values = ",\n    ".join(
        f"vals[indexOf(keys, {sql_string(key)})] AS v_{name}" for name, key in _ML_VALUES.items()
    )
    texts = ",\n    ".join(
        f"texts[indexOf(keys, {sql_string(key)})] AS t_{name}" for name, key in _ML_TEXTS.items()
    )
    batch = f"AND NOT {_BATCH}" if batch_apart else ""
    return f"""
SELECT *, {values}, {texts}
FROM (
    SELECT
        {_span_attributes("keys", "kinds")},
        {leaf_texts("vals")} AS texts,
        {_BATCH} AS is_batch
    FROM ({spans_query(file_source(path, PREDICTIONS), _service())})
    WHERE sp.name != {_LABEL_SPAN} AND has(keys, {sql_string(semconv.ML_MODEL_NAME)}) {batch}
    {_message(PREDICTIONS)}
)"""


def _prediction_row(**expressions: str) -> str:
    """The SELECT list of an ``ml_predictions`` row, in the table's column order; the columns
    not given are those every prediction of a span shares (``service``, ``t_model``…)."""
    shared = {
        "ServiceName": "service",
        "ModelName": "t_model",
        "ModelVersion": "t_version",
        "Task": "t_task",
    }
    row = shared | expressions
    return ",\n    ".join(row[name] for name in ML_PREDICTIONS_COLUMNS)


def _single_rows(path: str, *, batch_apart: bool) -> str:
    """The ``ml_predictions`` columns of every single-prediction span
    (``predictions._single_row``)."""
    own_start = "v_ts.kind = 'int' AND v_ts.int_value > 0"
    own_trace = "t_trace != ''"
    error = f"if(t_status != '', t_status = {_ERROR}, code = 2)"
    latency = f"{number(Value('v_duration.'))} * 1000.0"
    row = _prediction_row(
        Timestamp=f"fromUnixTimestamp64Nano(if({own_start}, v_ts.int_value, toInt64(start)))",
        PredictionId="if(t_id != '', t_id, span_id)",
        PredictedLabel=f"if(is_batch, {needs_python('is_batch')}, t_label)",
        Score=number(Value("v_score.")),
        PredictedValue=number(Value("v_value.")),
        LatencyMs=f"ifNull({latency}, (toInt64(end) - toInt64(start)) / 1e6)",
        StatusCode=f"if({error}, {_ERROR}, {_OK})",
        TraceId=f"if({own_trace}, {ascii_lower('t_trace')}, trace_id)",
        SpanId=f"if({own_trace}, {ascii_lower('t_span')}, span_id)",
        Segments=_prefixed(True, _SEGMENT),
        Features=_prefixed(True, _FEATURE),
        Attributes=_prefixed(False, _NOT_ML),
    )
    return f"""
SELECT {row}
FROM ({_prediction_spans(path, batch_apart=batch_apart)})"""


# --- batch spans: one row per item of their per-prediction arrays ---------------------------

_ITEMS = {
    name: key
    for name, key in (_ML_TEXTS | _ML_VALUES).items()
    if key in semconv.PER_PREDICTION_ARRAYS
}
"""Per-prediction arrays, joined item by item as ``i_<name>`` (a ``LeafValue``)."""
_FEATURE_ARRAYS = f"arrayExists((k, kind) -> kind = 'array' AND {_FEATURE}, keys, kinds)"
"""Per-prediction features: left to Python (``predictions._feature_rows``)."""


def _batch_spans(path: str) -> str:
    """One row per batch span: its facts, its per-prediction arrays (``a_<name>``, all cut
    or padded to the span's prediction count ``n``, as ``predictions._items`` does) and what
    every row of the span takes from its other attributes (``t_<name>``, the Maps)."""

    def array(key: str) -> str:
        return f"all_items[indexOf(all_keys, {sql_string(key)})]"

    arrays = ",\n        ".join(
        f"arrayResize({array(key)}, n) AS a_{name}" for name, key in _ITEMS.items()
    )
    id_array = f"all_kinds[indexOf(all_keys, {sql_string(semconv.ML_PREDICTION_ID)})] = 'array'"
    first_array = f"arrayFirstIndex((k, kind) -> {_PER_ITEM_ARRAY}, all_keys, all_kinds)"
    status_array = f"all_kinds[indexOf(all_keys, {sql_string(semconv.ML_PREDICTION_STATUS)})]"
    others = f"arrayFilter((v, k, kind) -> NOT {_PER_ITEM_ARRAY}, vals, all_keys, all_kinds)"
    own = "NOT " + _PER_ITEM_ARRAY
    texts = ",\n    ".join(
        f"texts[indexOf(keys, {sql_string(key)})] AS t_{name}"
        for name, key in _ML_TEXTS.items()
        if name in ("version", "task", "label")
    )
    model = f"texts[indexOf(keys, {sql_string(semconv.ML_MODEL_NAME)})]"
    per_item = ", ".join(f"a_{name}" for name in ("index", *_ITEMS))
    return f"""
SELECT
    service, start, end, code, trace_id, span_id, own_status, {per_item},
    if({_FEATURE_ARRAYS}, {needs_python(_FEATURE_ARRAYS)}, {model}) AS t_model,
    {texts},
    {_prefixed(True, _SEGMENT)} AS segments,
    {_prefixed(True, _FEATURE)} AS features,
    {_prefixed(False, _NOT_ML)} AS attributes
FROM (
SELECT
    service, start, end, code, trace_id, span_id, own_status, keys, kinds,
    {attribute_texts("others")} AS texts,
    length(ids) AS n,
    range(n) AS a_index,
    {arrays}
FROM (
    SELECT
        {_span_attributes("all_keys", "all_kinds")},
        vals.array_value.values AS all_items,
        arrayFilter((k, kind) -> {own}, all_keys, all_kinds) AS keys,
        arrayFilter((kind, k) -> {own}, all_kinds, all_keys) AS kinds,
        {others} AS others,
        if({id_array}, {array(semconv.ML_PREDICTION_ID)}, all_items[{first_array}]) AS ids,
        {status_array} = 'array' AS own_status
    FROM ({spans_query(file_source(path, BATCH), _service())})
    WHERE sp.name != {_LABEL_SPAN} AND has(all_keys, {sql_string(semconv.ML_MODEL_NAME)})
        AND {_has_batch_arrays("all_keys", "all_kinds")}
    {_message(BATCH)}
)
)"""


def _batch_rows(path: str) -> str:
    """The ``ml_predictions`` columns of every prediction of a batch span
    (``predictions._batch_rows``). Per-prediction features (``ml.feature.*`` arrays) are
    left to Python (:data:`_FEATURE_ARRAYS`)."""
    joined = ", ".join(f"a_{name} AS i_{name}" for name in ("index", *_ITEMS))
    own_start = "i_ts.kind = 'int' AND i_ts.int_value > 0"
    made_up_id = "concat(span_id, '-', toString(i_index))"
    own_error = f"i_status.kind = 'string' AND i_status.string_value = {_ERROR}"
    error = f"if(own_status, {own_error}, code = 2)"
    latency = f"{number(Value('i_duration.'))} * 1000.0"

    def own(name: str) -> str:  # the item is a non-empty string
        return f"i_{name}.kind = 'string' AND i_{name}.string_value != ''"

    def own_id_of(name: str, default: str) -> str:
        return f"if({own(name)}, {ascii_lower(f'i_{name}.string_value')}, {default})"

    row = _prediction_row(
        Timestamp=f"fromUnixTimestamp64Nano(if({own_start}, i_ts.int_value, toInt64(start)))",
        PredictionId=f"if({own('id')}, i_id.string_value, {made_up_id})",
        PredictedLabel=f"if(i_label.kind = 'none', t_label, {leaf_text(Value('i_label.'))})",
        Score=number(Value("i_score.")),
        PredictedValue=number(Value("i_value.")),
        LatencyMs=f"ifNull({latency}, (toInt64(end) - toInt64(start)) / 1e6)",
        StatusCode=f"if({error}, {_ERROR}, {_OK})",
        TraceId=own_id_of("trace", "trace_id"),
        SpanId=own_id_of("span", "span_id"),
        Segments="segments",
        Features="features",
        Attributes="attributes",
    )
    return f"""
SELECT {row}
FROM ({_batch_spans(path)})
ARRAY JOIN {joined}"""


def insert_predictions(path: str, token: str, *, single: bool = True, batch: bool = False) -> str:
    """``ml_predictions`` from the requests in ``path``: one row per single-prediction span
    (``predictions._single_row``) and, with ``batch``, one row per prediction of every
    batch span (``predictions._batch_rows``); without it, a batch span stops the statement.
    ``single=False`` reads batch spans only (a flush of batch spans alone)."""
    columns = ", ".join(f"`{name}`" for name in ML_PREDICTIONS_COLUMNS)
    parts = []
    if single:
        parts.append(_single_rows(path, batch_apart=batch))
    if batch:
        parts.append(_batch_rows(path))
    return f"""
INSERT INTO ml_predictions ({columns})
{" UNION ALL ".join(parts)}
{settings_clause(token)}"""

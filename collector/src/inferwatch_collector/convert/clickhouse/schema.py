"""The OTLP trace request as ClickHouse's ``Protobuf`` input format reads it.

ClickHouse refuses recursive messages, and OTLP's ``AnyValue`` is recursive (arrays and maps
of ``AnyValue``). ``PROTO`` holds wire-compatible copies of the OTLP messages (same field
numbers and wire types) whose recursion is cut: an array holds ``LeafValue`` items, and a
map, or an array inside an array, is read as raw bytes. The statements only ever format
those when they are empty (``{}``, ``[]``); anything deeper is left to the Python converter.

Three readings of the same bytes: :data:`TRACES` (every field ``otel_traces`` needs),
:data:`PREDICTIONS` (only what a single-prediction row needs; attribute values as
``LeafValue``, their arrays left undecoded) and :data:`BATCH` (what a batch span's rows need:
its attributes with their arrays' items). Fields a reading leaves out are skipped on the
wire, and the smaller types make the statements quicker for ClickHouse to analyse.
``SETTINGS`` carries the schema inline (``format_schema_source='string'``), so nothing is
installed beside the store.
"""

from __future__ import annotations

from dataclasses import dataclass

from .expressions import sql_string

PROTO = """
syntax = "proto3";
package inferwatch.decode;
message ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }
message ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2; }
message Resource { repeated KeyValue attributes = 1; }
message ScopeSpans { InstrumentationScope scope = 1; repeated Span spans = 2; }
message InstrumentationScope { string name = 1; string version = 2; }
message Span {
  bytes trace_id = 1;
  bytes span_id = 2;
  string trace_state = 3;
  bytes parent_span_id = 4;
  string name = 5;
  int32 kind = 6;
  fixed64 start_time_unix_nano = 7;
  fixed64 end_time_unix_nano = 8;
  repeated KeyValue attributes = 9;
  repeated Event events = 11;
  repeated Link links = 13;
  Status status = 15;
}
message Event { fixed64 time_unix_nano = 1; string name = 2; repeated KeyValue attributes = 3; }
message Link {
  bytes trace_id = 1;
  bytes span_id = 2;
  string trace_state = 3;
  repeated KeyValue attributes = 4;
}
message Status { string message = 2; int32 code = 3; }
message KeyValue { string key = 1; AnyValue value = 2; }
message AnyValue {
  oneof kind {
    string string_value = 1;
    bool bool_value = 2;
    int64 int_value = 3;
    double double_value = 4;
    ArrayValue array_value = 5;
    bytes kvlist_value = 6;
    bytes bytes_value = 7;
  }
}
message ArrayValue { repeated LeafValue values = 1; }
message LeafValue {
  oneof kind {
    string string_value = 1;
    bool bool_value = 2;
    int64 int_value = 3;
    double double_value = 4;
    bytes array_value = 5;
    bytes kvlist_value = 6;
    bytes bytes_value = 7;
  }
}
"""


def _shallow_messages(name: str, key_value: str) -> str:
    """A request of spans with only what prediction rows need, attributes as ``key_value``."""
    return f"""
message {name}Request {{ repeated {name}ResourceSpans resource_spans = 1; }}
message {name}ResourceSpans {{
  ShallowResource resource = 1;
  repeated {name}ScopeSpans scope_spans = 2;
}}
message {name}ScopeSpans {{ repeated {name}Span spans = 2; }}
message {name}Span {{
  bytes trace_id = 1;
  bytes span_id = 2;
  string name = 5;
  fixed64 start_time_unix_nano = 7;
  fixed64 end_time_unix_nano = 8;
  repeated {key_value} attributes = 9;
  Status status = 15;
}}"""


PROTO += (
    _shallow_messages("Shallow", "ShallowKeyValue")
    + "\nmessage ShallowResource { repeated ShallowKeyValue attributes = 1; }"
    + "\nmessage ShallowKeyValue { string key = 1; LeafValue value = 2; }"
    + _shallow_messages("Batch", "KeyValue")
    + "\n"
)

KIND = (
    "Enum8('none' = 0, 'string' = 1, 'bool' = 2, 'int' = 3, 'double' = 4, "
    "'array' = 5, 'kvlist' = 6, 'bytes' = 7)"
)
"""The ``oneof kind`` of a value, filled by ``input_format_protobuf_oneof_presence``."""

_LEAF = (
    "string_value String, bool_value UInt8, int_value Int64, double_value Float64, "
    f"array_value String, kvlist_value String, bytes_value String, kind {KIND}"
)
_ANY = (
    "string_value String, bool_value UInt8, int_value Int64, double_value Float64, "
    f"array_value Tuple(values Array(Tuple({_LEAF}))), kvlist_value String, "
    f"bytes_value String, kind {KIND}"
)


def _attributes(value: str) -> str:
    return f"Array(Tuple(key String, value Tuple({value})))"


_SPAN = (
    "trace_id String, span_id String, trace_state String, parent_span_id String, name String, "
    "kind Int32, start_time_unix_nano UInt64, end_time_unix_nano UInt64, "
    f"attributes {_attributes(_ANY)}, "
    f"events Array(Tuple(time_unix_nano UInt64, name String, attributes {_attributes(_ANY)})), "
    "links Array(Tuple(trace_id String, span_id String, trace_state String, "
    f"attributes {_attributes(_ANY)})), status Tuple(message String, code Int32)"
)
_SPAN_HEAD = (
    "trace_id String, span_id String, name String, start_time_unix_nano UInt64, "
    "end_time_unix_nano UInt64"
)
_SHALLOW_SPAN = f"{_SPAN_HEAD}, attributes {_attributes(_LEAF)}, status Tuple(code Int32)"
_BATCH_SPAN = f"{_SPAN_HEAD}, attributes {_attributes(_ANY)}, status Tuple(code Int32)"


@dataclass(frozen=True)
class Reading:
    """One reading of the length-delimited requests: a message of ``PROTO`` and its columns."""

    message: str
    structure: str


TRACES = Reading(
    "ExportTraceServiceRequest",
    f"resource_spans Array(Tuple(resource Tuple(attributes {_attributes(_ANY)}), "
    "scope_spans Array(Tuple(scope Tuple(name String, version String), "
    f"spans Array(Tuple({_SPAN}))))))",
)


def _shallow_request(span: str) -> str:
    return (
        f"resource_spans Array(Tuple(resource Tuple(attributes {_attributes(_LEAF)}), "
        f"scope_spans Array(Tuple(spans Array(Tuple({span}))))))"
    )


PREDICTIONS = Reading("ShallowRequest", _shallow_request(_SHALLOW_SPAN))
BATCH = Reading("BatchRequest", _shallow_request(_BATCH_SPAN))

SETTINGS = {
    "format_schema_source": "string",
    "format_schema": PROTO,
    "input_format_protobuf_oneof_presence": 1,
    # One thread, and the whole flush squashed into one block before anything is written:
    # a statement that stops on a value it leaves to Python (throwIf) has then stored
    # nothing, and a replay forms the very same block, which deduplication recognises.
    # Requests are decoded 8 at a time: as fast, and a third of the memory of decoding the
    # flush at once (bench/ingest.py, overload).
    "max_block_size": 8,
    "max_threads": 1,
    "max_insert_threads": 1,
    "min_insert_block_size_rows": 1 << 40,
    "min_insert_block_size_bytes": 0,
    "max_insert_block_size": 1 << 40,
    "short_circuit_function_evaluation": "force_enable",
    # That pass (it adds comparisons implied by AND chains, for filters) took 3-4 ms of
    # analysis per AND: the batch predictions statement's analysis went from 165 to 91 ms.
    "optimize_and_compare_chain": 0,
    # toJSONString as json.dumps writes: "/" unescaped, 64-bit integers unquoted.
    "output_format_json_escape_forward_slashes": 0,
    "output_format_json_quote_64bit_integers": 0,
}
"""Settings of every decoding statement (``format_schema_message_name`` is the reading's)."""


def file_source(path: str, reading: Reading) -> str:
    """Length-delimited requests in a local file (chDB reads it in-process)."""
    return f"file({sql_string(path)}, 'Protobuf', {sql_string(reading.structure)})"

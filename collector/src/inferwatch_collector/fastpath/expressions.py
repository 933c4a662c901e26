"""SQL expressions that turn decoded OTLP values into the Python converter's strings and numbers.

Each function takes the SQL text of a value (e.g. ``"v"``, a lambda parameter bound to an
``AnyValue`` tuple) and returns SQL text; the results are pasted into the statements of
``queries.py``. All of it is our own constant text, never user input. The rules are those of
``convert/attributes.py`` (``format_value``), which the differential test
(``tests/collector/test_fastpath.py``) holds both sides to:

- doubles as Python's ``repr`` without a trailing ``.0`` (``2``, ``0.5``, ``1e-05``,
  ``1e+16``); ClickHouse's ``toString`` agrees in ``[1e-4, 1e16)`` and is rewritten outside;
- arrays as compact JSON as ``json.dumps`` writes it (``[1.0,"a",true,null]``, ``NaN``,
  ``Infinity``), bytes as base64.

>>> any_text("v").startswith("multiIf(")
True
"""

from __future__ import annotations

KIND = (
    "Enum8('none' = 0, 'string' = 1, 'bool' = 2, 'int' = 3, 'double' = 4, "
    "'array' = 5, 'kvlist' = 6, 'bytes' = 7)"
)
"""The ``oneof kind`` of ``AnyValue``, filled by ``input_format_protobuf_oneof_presence``."""

_LEAF = (
    "string_value String, bool_value UInt8, int_value Int64, double_value Float64, "
    f"array_value String, kvlist_value String, bytes_value String, kind {KIND}"
)
_ANY = (
    "string_value String, bool_value UInt8, int_value Int64, double_value Float64, "
    f"array_value Tuple(values Array(Tuple({_LEAF}))), kvlist_value String, "
    f"bytes_value String, kind {KIND}"
)
_ATTRIBUTES = f"Array(Tuple(key String, value Tuple({_ANY})))"
_SPAN = (
    "trace_id String, span_id String, trace_state String, parent_span_id String, name String, "
    "kind Int32, start_time_unix_nano UInt64, end_time_unix_nano UInt64, "
    f"attributes {_ATTRIBUTES}, "
    f"events Array(Tuple(time_unix_nano UInt64, name String, attributes {_ATTRIBUTES})), "
    "links Array(Tuple(trace_id String, span_id String, trace_state String, "
    f"attributes {_ATTRIBUTES})), status Tuple(message String, code Int32)"
)
STRUCTURE = (
    f"resource_spans Array(Tuple(resource Tuple(attributes {_ATTRIBUTES}), "
    "scope_spans Array(Tuple(scope Tuple(name String, version String), "
    f"spans Array(Tuple({_SPAN}))))))"
)
"""The columns ClickHouse reads from ``otlp_flat.proto``'s ``ExportTraceServiceRequest``
(only the fields the tables need: the rest is skipped on the wire)."""


def sql_string(text: str) -> str:
    """``text`` as a ClickHouse string literal.

    >>> sql_string("it's")
    "'it\\\\'s'"
    """
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def double_text(x: str) -> str:
    """A Float64 as ``format_double`` writes it (``repr`` without ``.0``)."""
    t = f"toString({x})"
    return (
        f"multiIf(isNaN({x}), 'nan', "
        f"{x} = 0 OR isInfinite({x}) OR (abs({x}) >= 0.0001 AND abs({x}) < 1e16), {t}, "
        f"{_scientific(t)})"
    )


def _scientific(t: str) -> str:
    # Python writes d.ddde±XX outside [1e-4, 1e16); ClickHouse writes the same shortest digits
    # positionally (0.00001) or as 1e-7/1.5e300. Take its digits and decimal exponent apart.
    m = f"splitByChar('e', {t})"
    whole = f"trim(LEADING '-' FROM splitByChar('.', {m}[1])[1])"
    fraction = f"splitByChar('.', {m}[1])[2]"
    exponent = (
        f"if(length({m}) > 1, toInt32({m}[2]) + length({whole}) - 1, "
        f"if({whole} != '0', length({whole}) - 1, "
        f"length(trim(LEADING '0' FROM {fraction})) - length({fraction}) - 1))"
    )
    digits = f"trim(BOTH '0' FROM replaceRegexpAll({m}[1], '[^0-9]', ''))"
    return (
        f"concat(if(startsWith({t}, '-'), '-', ''), substring({digits}, 1, 1), "
        f"if(length({digits}) > 1, concat('.', substring({digits}, 2)), ''), "
        f"'e', if({exponent} < 0, '-', '+'), if(abs({exponent}) < 10, '0', ''), "
        f"toString(abs({exponent})))"
    )


def _json_double(x: str) -> str:
    # json.dumps writes repr(float): 1.0 keeps its ".0"; NaN and infinities are JS names.
    text = double_text(x)
    return (
        f"multiIf(isNaN({x}), 'NaN', isInfinite({x}), if({x} > 0, 'Infinity', '-Infinity'), "
        f"match({text}, '[.e]'), {text}, concat({text}, '.0'))"
    )


def _json_string(s: str) -> str:
    # json.dumps(ensure_ascii=False) escapes only quotes, backslashes and control characters.
    escaped = (
        "arrayStringConcat(arrayMap(c -> multiIf(c = '\"', '\\\\\"', c = '\\\\', '\\\\\\\\', "
        "c = '\\n', '\\\\n', c = '\\r', '\\\\r', c = '\\t', '\\\\t', c = '\\b', '\\\\b', "
        "c = '\\f', '\\\\f', length(c) = 1 AND ascii(c) < 32, concat('\\\\u00', lower(hex(c))), "
        f"c), extractAll({s}, '(?s).')))"
    )
    return f"concat('\"', if(match({s}, '[\\\\x00-\\\\x1f\"\\\\\\\\]'), {escaped}, {s}), '\"')"


def _leaf_json(v: str) -> str:
    """An array item (``LeafValue``) as ``json.dumps`` writes it inside the array."""
    return (
        f"multiIf({v}.kind = 'string', {_json_string(f'{v}.string_value')}, "
        f"{v}.kind = 'int', toString({v}.int_value), "
        f"{v}.kind = 'double', {_json_double(f'{v}.double_value')}, "
        f"{v}.kind = 'bool', if({v}.bool_value, 'true', 'false'), "
        f"{v}.kind = 'bytes', concat('\"', base64Encode({v}.bytes_value), '\"'), 'null')"
    )


def leaf_text(v: str) -> str:
    """An array item (``LeafValue``) as ``format_value`` writes it on its own (None: ``""``)."""
    return (
        f"multiIf({v}.kind = 'string', {v}.string_value, "
        f"{v}.kind = 'int', toString({v}.int_value), "
        f"{v}.kind = 'double', {double_text(f'{v}.double_value')}, "
        f"{v}.kind = 'bool', if({v}.bool_value, 'true', 'false'), "
        f"{v}.kind = 'bytes', base64Encode({v}.bytes_value), '')"
    )


def any_text(v: str) -> str:
    """An attribute value (``AnyValue``) as the ``Map(…, String)`` columns hold it."""
    items = f"arrayMap(x -> {_leaf_json('x')}, {v}.array_value.values)"
    return (
        f"multiIf({v}.kind = 'string', {v}.string_value, "
        f"{v}.kind = 'int', toString({v}.int_value), "
        f"{v}.kind = 'double', {double_text(f'{v}.double_value')}, "
        f"{v}.kind = 'bool', if({v}.bool_value, 'true', 'false'), "
        f"{v}.kind = 'array', concat('[', arrayStringConcat({items}, ','), ']'), "
        f"{v}.kind = 'bytes', base64Encode({v}.bytes_value), '')"
    )


def attribute_map(attributes: str) -> str:
    """An attribute list (``Array(Tuple(key, value))``) as ``Map(String, String)``."""
    return f"mapFromArrays({attributes}.key, arrayMap(v -> {any_text('v')}, {attributes}.value))"


def unsupported(attributes: str) -> str:
    """Whether an attribute list holds what the fast path leaves undecoded: maps, or arrays
    inside arrays (such requests go through the Python converter)."""
    return (
        f"arrayExists(v -> v.kind = 'kvlist' OR (v.kind = 'array' AND arrayExists("
        f"x -> x.kind IN ('array', 'kvlist'), v.array_value.values)), {attributes}.value)"
    )


def number(v: str) -> str:
    """``_number``: an int or a non-NaN double of an ``AnyValue``/``LeafValue``, else NULL."""
    return (
        f"multiIf({v}.kind = 'double' AND NOT isNaN({v}.double_value), "
        f"toNullable({v}.double_value), {v}.kind = 'int', toNullable(toFloat64({v}.int_value)), "
        "NULL)"
    )


def hex_id(raw: str) -> str:
    """Bytes as lowercase hex (``bytes.hex()``)."""
    return f"lower(hex({raw}))"

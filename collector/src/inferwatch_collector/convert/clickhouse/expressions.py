"""SQL expressions that give decoded OTLP values the Python converter's strings and numbers.

The functions return SQL text, pasted into the statements of ``statements.py``; all of it is
our own constant text, never user input. The rules are those of ``convert/attributes.py``
(``format_value``), and ``tests/collector/test_convert_clickhouse.py`` holds both sides to
them row for row:

- doubles as Python's ``repr`` without a trailing ``.0``; ClickHouse's ``toString`` writes the
  same shortest digits in ``[1e-4, 1e16)``, and the rare others are rewritten;
- arrays of one kind as compact JSON, as ``json.dumps`` writes them (``[1.0,0.5,NaN]``);
- bytes as base64.

What these expressions do not format exactly — a non-empty map, an array mixing kinds or
holding bytes, empty values, arrays or maps, a repeated attribute key, a non-ASCII id to
lower-case, a control character in an array's string — stops the statement with
``NEEDS_PYTHON`` before it stores anything, and the flush goes through the Python converter.
Branches are evaluated only for the rows that take them (``short_circuit_function_evaluation =
'force_enable'``), so the rare cases cost nothing when absent.

ClickHouse analyses a statement anew each time it runs, in time that grows with its
expressions, and lambdas over the decoded tuple types are the slowest to analyse (several
milliseconds each). So values are handled through their fields' arrays of simple types
(``kind``, ``string_value``, …), named by a :class:`Value` (bench/ingest.py, "(a-ch)").
"""

from __future__ import annotations

from dataclasses import dataclass

NEEDS_PYTHON = "inferwatch: a value the ClickHouse decode leaves to the Python converter"
"""The message of the ``throwIf`` that hands a flush back to Python (matched by the writer)."""

SCALAR_FIELDS = ("kind", "string_value", "int_value", "double_value", "bool_value")
ITEM_FIELDS = (*SCALAR_FIELDS, "bytes_value", "kvlist_value", "array_value")
"""The fields of an array item (``LeafValue``); its arrays and maps are raw bytes."""
VALUE_FIELDS = (*SCALAR_FIELDS, "bytes_value", "kvlist_value")
"""The fields of an ``AnyValue`` besides its array (see :data:`ARRAY_FIELDS`)."""
ARRAY_FIELDS = SCALAR_FIELDS
"""The fields of an ``AnyValue``'s array items that arrays are formatted from."""


@dataclass(frozen=True)
class Value:
    """SQL names of one value's fields: ``kind``, ``string_value`` … and, for an ``AnyValue``,
    its array items' fields as arrays (``items``)."""

    prefix: str
    items: bool = False

    def __getattr__(self, field: str) -> str:
        return f"{self.prefix}{field}"

    def item(self, field: str) -> str:
        """The array of the array items' ``field``."""
        return f"{self.prefix}a_{field}"


def lambda_over(column: str, prefix: str, fields: tuple[str, ...], *, items: bool) -> str:
    """``(params) -> `` and its arrays: a lambda head that binds :class:`Value` ``prefix``'s
    fields to the subcolumns of ``column`` (an array of values), for ``arrayMap``."""
    params = [f"{prefix}{field}" for field in fields]
    arrays = [f"{column}.{field}" for field in fields]
    if items:
        params += [f"{prefix}a_{field}" for field in ARRAY_FIELDS]
        arrays += [f"{column}.array_value.values.{field}" for field in ARRAY_FIELDS]
    return f"({', '.join(params)}) -> {{}}, {', '.join(arrays)}"


def map_values(column: str, body: str, prefix: str = "v_", *, items: bool = True) -> str:
    """``arrayMap`` of ``body`` (over :class:`Value` ``prefix``) on the values in ``column``."""
    fields = VALUE_FIELDS if items else ITEM_FIELDS
    return "arrayMap(" + lambda_over(column, prefix, fields, items=items).format(body) + ")"


def sql_string(text: str) -> str:
    """``text`` as a ClickHouse string literal.

    >>> sql_string("it's")
    "'it\\\\'s'"
    """
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def needs_python(condition: str) -> str:
    """A String expression that stops the statement where ``condition`` holds (else ``''``).

    ``condition`` must read a column: a constant one would be folded, and throw, while the
    statement is analysed.
    """
    return f"toString(throwIf({condition}, {sql_string(NEEDS_PYTHON)}))"


def _let(names: str, values: list[str], body: str) -> str:
    """``body`` with ``names`` bound once to ``values`` (a one-item ``arrayMap``).

    A rare branch written this way is one node of the expression, skipped whole for the rows
    that do not take it; sub-expressions used in several places of a branch would otherwise
    be computed for every row.
    """
    arrays = ", ".join(f"[{value}]" for value in values)
    return f"arrayMap(({names}) -> {body}, {arrays})[1]"


def _fast(x: str) -> str:
    # Where ClickHouse's toString and Python's repr write the same digits (both shortest).
    return f"abs({x}) >= 0.0001 AND abs({x}) < 1e16"


def double_text(x: str) -> str:
    """A Float64 as ``format_double`` writes it (``repr`` without ``.0``: ``2``, ``0.5``,
    ``1e-05``, ``nan``, ``-inf``)."""
    return (
        f"if({_fast(x)} OR {x} = 0 OR NOT isFinite({x}), toString({x}), "
        f"{_scientific(f'toString({x})')})"
    )


def _scientific(t: str) -> str:
    # Python writes d.ddde±XX outside [1e-4, 1e16); ClickHouse writes the same shortest digits
    # positionally (0.00001) or as 1e-7 / 1.5e300. Take its digits and decimal exponent apart.
    exponent = (
        "if(length(m) > 1, toInt32OrZero(m[2]) + length(whole) - 1, "
        "if(whole != '0', length(whole) - 1, "
        "length(trim(LEADING '0' FROM fraction)) - length(fraction) - 1))"
    )
    digits = "trim(BOTH '0' FROM replaceRegexpAll(m[1], '[^0-9]', ''))"
    text = (
        "concat(if(startsWith(s, '-'), '-', ''), substring(digits, 1, 1), "
        "if(length(digits) > 1, concat('.', substring(digits, 2)), ''), "
        "'e', if(exponent < 0, '-', '+'), if(abs(exponent) < 10, '0', ''), "
        "toString(abs(exponent)))"
    )
    parts = _let("digits, exponent", [digits, exponent], text)
    split = [
        "trim(LEADING '-' FROM splitByChar('.', m[1])[1])",
        "arrayElement(splitByChar('.', m[1]), 2)",
    ]
    pieces = _let("whole, fraction", split, parts)
    return _let("s", [t], _let("m", ["splitByChar('e', s)"], pieces))


def _json_double(x: str) -> str:
    # json.dumps writes repr(float): 2.0 keeps its ".0"; NaN and infinities are JS names.
    return (
        f"multiIf({x} = floor({x}) AND abs({x}) < 1e16, concat(toString({x}), '.0'), "
        f"{_fast(x)}, toString({x}), "
        f"isNaN({x}), 'NaN', isInfinite({x}), if({x} > 0, 'Infinity', '-Infinity'), "
        f"{_scientific(f'toString({x})')})"
    )


def _json_array(v: Value) -> str:
    """An ``AnyValue``'s array as ``json.dumps`` writes the list.

    Arrays of one kind, as OpenTelemetry SDKs send them: strings, ints and bools through
    ``toJSONString`` (it escapes strings as ``json.dumps`` does, except some control
    characters and U+2028/9 — any ``\\u`` escape in its output is left to Python), doubles item
    by item. Mixed arrays, and arrays of bytes, empty values, arrays or maps, are left to Python.
    """
    kinds = v.item("kind")
    mixed = f"NOT arrayAll(k -> k = {kinds}[1], {kinds})"
    escaped = "position(j, '\\\\u') > 0"
    strings = _let("j", [f"toJSONString({v.item('string_value')})"],
                   f"if({escaped}, {needs_python(escaped)}, j)")  # fmt: skip
    doubles = (
        f"arrayStringConcat(arrayMap(d -> {_json_double('d')}, {v.item('double_value')}), ',')"
    )
    return (
        f"multiIf(empty({kinds}), '[]', "
        f"{mixed}, {needs_python(mixed)}, "
        f"{kinds}[1] = 'string', {strings}, "
        f"{kinds}[1] = 'double', concat('[', {doubles}, ']'), "
        f"{kinds}[1] = 'int', toJSONString({v.item('int_value')}), "
        f"{kinds}[1] = 'bool', toJSONString(CAST({v.item('bool_value')} AS Array(Bool))), "
        f"{needs_python(f'{kinds}[1] NOT IN (1, 2, 3, 4)')})"
    )


def leaf_text(v: Value) -> str:
    """A value without items (``LeafValue``) as ``format_value`` writes it (None: ``""``); a
    non-empty array or map is left to Python."""
    other = f"{v.kind} IN ('array', 'kvlist')"
    return (
        f"multiIf({v.kind} = 'string', {v.string_value}, "
        f"{v.kind} = 'int', toString({v.int_value}), "
        f"{v.kind} = 'double', {double_text(v.double_value)}, "
        f"{v.kind} = 'bool', if({v.bool_value}, 'true', 'false'), "
        f"{v.kind} = 'bytes', base64Encode({v.bytes_value}), "
        f"{v.kind} = 'none', '', "
        f"{v.kind} = 'array' AND {v.array_value} = '', '[]', "
        f"{v.kind} = 'kvlist' AND {v.kvlist_value} = '', '{{}}', "
        f"{needs_python(other)})"
    )


def any_text(v: Value) -> str:
    """An attribute value (``AnyValue``, with ``items``) as the ``Map(…, String)`` columns hold
    it; a non-empty map is left to Python."""
    kvlist = f"{v.kind} = 'kvlist'"
    return (
        f"multiIf({v.kind} = 'string', {v.string_value}, "
        f"{v.kind} = 'int', toString({v.int_value}), "
        f"{v.kind} = 'double', {double_text(v.double_value)}, "
        f"{v.kind} = 'array', {_json_array(v)}, "
        f"{v.kind} = 'bool', if({v.bool_value}, 'true', 'false'), "
        f"{v.kind} = 'bytes', base64Encode({v.bytes_value}), "
        f"{v.kind} = 'none', '', "
        f"{kvlist} AND {v.kvlist_value} = '', '{{}}', "
        f"{needs_python(kvlist)})"
    )


def attribute_texts(values: str) -> str:
    """The string forms of an array of ``AnyValue`` (``Array(String)``)."""
    return map_values(values, any_text(Value("v_", items=True)))


def leaf_texts(values: str) -> str:
    """The string forms of an array of ``LeafValue`` (``Array(String)``)."""
    return map_values(values, leaf_text(Value("v_")), items=False)


def unique_keys(keys: str) -> str:
    """``keys`` itself, stopping the statement when a key repeats (Python keeps the last)."""
    repeated = f"arrayUniq({keys}) != length({keys})"
    return f"if(length({keys}) < 2 OR NOT {repeated}, {keys}, [{needs_python(repeated)}])"


def number(v: Value) -> str:
    """``_number``: an int or a non-NaN double, else NULL."""
    return (
        f"multiIf({v.kind} = 'double' AND NOT isNaN({v.double_value}), "
        f"toNullable({v.double_value}), {v.kind} = 'int', toNullable(toFloat64({v.int_value})), "
        "NULL)"
    )


def hex_id(raw: str) -> str:
    """Bytes as lowercase hex (``bytes.hex()``)."""
    return f"lower(hex({raw}))"


def ascii_lower(text: str) -> str:
    """``str.lower()`` of an id; a non-ASCII one (where ClickHouse and Python may differ) stops
    the statement."""
    wide = f"length({text}) != lengthUTF8({text})"
    return f"if(NOT {wide}, lower({text}), {needs_python(wide)})"

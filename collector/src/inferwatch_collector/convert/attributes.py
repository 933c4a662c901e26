"""OTLP ``AnyValue`` and attribute lists → Python values and the exporter's strings.

Strings follow what the OpenTelemetry Collector's ClickHouse exporter stores (pdata's
``Value.AsString``): booleans ``true``/``false``, integral doubles without ``.0``, bytes as
base64, arrays and maps as compact JSON.

>>> from opentelemetry.proto.common.v1.common_pb2 import AnyValue
>>> value = AnyValue(double_value=2.0)
>>> any_value(value), format_value(any_value(value))
(2.0, '2')
>>> format_value([1, "a", True])
'[1,"a",true]'
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from operator import attrgetter, methodcaller
from typing import Any

from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

from .arrays import read_fixed

_SCALAR_READERS = {
    "string_value": attrgetter("string_value"),
    "bool_value": attrgetter("bool_value"),
    "int_value": attrgetter("int_value"),
    "double_value": attrgetter("double_value"),
    "bytes_value": attrgetter("bytes_value"),
}
_KIND_OF = methodcaller("WhichOneof", "value")
# The value a reader returns for an item of another kind: seeing it means "check the kinds".
_DEFAULTS = {"string_value": "", "bool_value": False, "int_value": 0, "double_value": 0.0}


def any_value(value: AnyValue) -> Any:
    """The Python value of an ``AnyValue``: str, bool, int, float, bytes, list, dict or None."""
    kind = value.WhichOneof("value")
    reader = _SCALAR_READERS.get(kind)  # type: ignore[arg-type]
    if reader is not None:
        return reader(value)
    if kind == "array_value":
        array = value.array_value
        fixed = read_fixed(array)
        return fixed if fixed is not None else array_values(array.values)
    if kind == "kvlist_value":
        return {kv.key: any_value(kv.value) for kv in value.kvlist_value.values}
    return None


def array_values(items: Any) -> list[Any]:
    """The Python list of an ``ArrayValue``'s items, fast for the usual homogeneous arrays.

    All items are read with the reader of the first item's kind; only when that yields the
    reader's default value somewhere (``""``, ``0``…) are the kinds checked one by one.
    """
    if not items:
        return []
    kind = items[0].WhichOneof("value")
    default = _DEFAULTS.get(kind, _DEFAULTS)
    if default is _DEFAULTS:
        return [any_value(item) for item in items]
    out = list(map(_SCALAR_READERS[kind], items))
    if default in out and set(map(_KIND_OF, items)) != {kind}:
        return [any_value(item) for item in items]
    return out


def _json_default(value: Any) -> Any:
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    raise TypeError(f"{type(value).__name__} is not an OTLP value")


def format_double(value: float) -> str:
    """A double as the exporter writes it: ``2`` not ``2.0``; ``0.5``; ``inf``; ``nan``."""
    text = repr(value)
    return text[:-2] if text.endswith(".0") else text


def format_value(value: Any) -> str:
    """The string form of a Python OTLP value, as stored in the ``Map(…, String)`` columns."""
    kind = type(value)
    if kind is str:
        return value  # type: ignore[no-any-return]
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        return str(value)
    if kind is float:
        return format_double(value)
    if value is None:
        return ""
    if kind is bytes:
        return base64.b64encode(value).decode("ascii")
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=_json_default)


def any_value_string(value: AnyValue) -> str:
    """The string form of an ``AnyValue`` (e.g. a log body)."""
    text = value.string_value
    return text if text else format_value(any_value(value))


def attribute_map(attributes: Iterable[KeyValue]) -> dict[str, str]:
    """An attribute list as the exporter's ``Map(LowCardinality(String), String)``."""
    out: dict[str, str] = {}
    for kv in attributes:
        value = kv.value
        text = value.string_value
        out[kv.key] = text if text else format_value(any_value(value))
    return out


def split_attributes(attributes: Iterable[KeyValue]) -> tuple[dict[str, str], dict[str, Any]]:
    """Both forms of an attribute list in one pass: every value as a string, and the Python
    values of those that are not non-empty strings (numbers, arrays, …) — the strings are
    their own Python value, so they are not repeated.

    >>> from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
    >>> split_attributes([KeyValue(key="a", value=AnyValue(int_value=3)),
    ...                   KeyValue(key="b", value=AnyValue(string_value="x"))])
    ({'a': '3', 'b': 'x'}, {'a': 3})
    """
    # Hot loop (bench/convert.py): most attribute values are strings, read without WhichOneof.
    strings: dict[str, str] = {}
    values: dict[str, Any] = {}
    for kv in attributes:
        value = kv.value
        text = value.string_value
        if text:
            strings[kv.key] = text
        else:
            key = kv.key
            python = values[key] = any_value(value)
            strings[key] = format_value(python)
    return strings, values


def hex_id(raw: bytes) -> str:
    """A trace or span id as lowercase hex; ``""`` for an absent (empty or all-zero) id."""
    return raw.hex() if raw.strip(b"\0") else ""

"""OTLP/JSON request bodies to opentelemetry-proto request messages.

The OTLP/JSON encoding is the proto3 JSON mapping with three deviations, all followed here:
trace and span ids are case-insensitive hex (not base64), enums are integers, and unknown
field names are ignored. Being lenient where it costs nothing, proto field names
(`start_time_unix_nano`) and enum names (`"SPAN_KIND_SERVER"`) are accepted as well.

    >>> request = decode_json_request(Signal.TRACES, b'{"resourceSpans": [{"scopeSpans": '
    ...     b'[{"spans": [{"traceId": "5B8EFFF798038103D269B633813FC60C", "kind": 2}]}]}]}')
    >>> request.resource_spans[0].scope_spans[0].spans[0].trace_id.hex()
    '5b8efff798038103d269b633813fc60c'

Errors raise `DecodeError`, whose message names the field path, e.g.
`resourceSpans[0].scopeSpans[0].spans[3].traceId: expected 32 hex digits, got "xyz"`.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import math
import re
from collections.abc import Callable
from typing import Any, NamedTuple

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from inferwatch_collector.receive.ingest import Signal
from inferwatch_collector.receive.messages import REQUEST_TYPES

__all__ = ["DecodeError", "decode_json_request"]

# OTLP bytes fields written as hex in JSON, with their length in bytes.
_HEX_ID_LENGTHS = {"trace_id": 16, "span_id": 8, "parent_span_id": 8}
_INTEGER = re.compile(r"-?[0-9]+")
_HEX = re.compile(r"[0-9a-fA-F]*")
_FLOAT_WORDS = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


class DecodeError(ValueError):
    """A request body that cannot be decoded; `str()` gives the field path and the reason.

    >>> error = DecodeError("expected a JSON object")
    >>> error.prepend("[0]"); error.prepend("resourceSpans")
    >>> str(error)
    'resourceSpans[0]: expected a JSON object'
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self._segments: list[str] = []

    def prepend(self, segment: str) -> None:
        """Add the enclosing field name or `[index]` while the error travels outwards."""
        self._segments.append(segment)

    @property
    def path(self) -> str:
        """The field path in JSON names, e.g. `resourceSpans[0].resource`; empty at the top."""
        path = ""
        for segment in reversed(self._segments):
            path += segment if segment.startswith("[") or not path else "." + segment
        return path

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}" if self._segments else self.reason


def decode_json_request(signal: Signal, body: bytes) -> Message:
    """Decode an OTLP/JSON body into the Export*ServiceRequest of `signal`.

    Raises:
        DecodeError: the body is not JSON, or a field does not fit the OTLP schema.
    """
    try:
        document = json.loads(body)
    except UnicodeDecodeError as error:
        raise DecodeError(f"body is not UTF-8 text: {error.reason}") from None
    except json.JSONDecodeError as error:
        where = f"line {error.lineno} column {error.colno}"
        raise DecodeError(f"invalid JSON at {where}: {error.msg}") from None
    except RecursionError:
        raise DecodeError("JSON nested too deeply") from None
    if not isinstance(document, dict):
        raise DecodeError(f"expected a JSON object, got {_json_type(document)}")
    request = REQUEST_TYPES[signal]()
    try:
        _fill(request, document)
    except RecursionError:
        raise DecodeError("JSON nested too deeply") from None
    return request


def _fill(message: Message, document: dict[str, Any]) -> None:
    fields = _fields_by_json_key(message.DESCRIPTOR)
    for key, value in document.items():
        field = fields.get(key)
        # Unknown names are ignored (OTLP/JSON says MUST); null means "not set" in proto3 JSON.
        if field is None or value is None:
            continue
        try:
            _set(message, field, value)
        except DecodeError as error:
            error.prepend(key)
            raise


def _set(message: Message, field: _Field, value: Any) -> None:
    if field.repeated:
        _set_repeated(message, field, value)
    elif field.convert is None:
        child = getattr(message, field.name)
        child.SetInParent()  # `"value": {}` still selects the oneof member / marks presence
        _fill(child, _expect_object(value))
    else:
        converted = field.convert(value)
        try:
            setattr(message, field.name, converted)
        except (ValueError, TypeError) as error:  # e.g. a uint32 out of range
            raise DecodeError(str(error)) from None


def _set_repeated(message: Message, field: _Field, value: Any) -> None:
    if not isinstance(value, list):
        raise DecodeError(f"expected a JSON array, got {_json_type(value)}")
    container = getattr(message, field.name)
    convert = field.convert
    for index, item in enumerate(value):
        try:
            if convert is None:
                _fill(container.add(), _expect_object(item))
            else:
                container.append(convert(item))
        except (ValueError, TypeError) as error:
            if not isinstance(error, DecodeError):
                error = DecodeError(str(error))
            error.prepend(f"[{index}]")
            raise error from None


def _integer(value: Any) -> int:
    # 64-bit integers come as decimal strings or numbers; both are accepted for every width.
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and _INTEGER.fullmatch(value):
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    raise DecodeError(f"expected an integer, got {_show(value)}")


def _double(value: Any) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        if value in _FLOAT_WORDS:
            return _FLOAT_WORDS[value]
        try:
            return float(value)
        except ValueError:
            pass
    raise DecodeError(f"expected a number, got {_show(value)}")


def _enum(numbers: dict[str, int], value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value in numbers:
        return numbers[value]
    raise DecodeError(f"expected an integer enum value, got {_show(value)}")


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise DecodeError(f"expected true or false, got {_show(value)}")


def _string(value: Any) -> str:
    if isinstance(value, str):
        return value
    raise DecodeError(f"expected a string, got {_show(value)}")


def _hex_id(length: int, value: Any) -> bytes:
    text = _string_value(value)
    if text == "":
        return b""  # an empty id means "not set", e.g. the parentSpanId of a root span
    if len(text) != 2 * length or not _HEX.fullmatch(text):
        raise DecodeError(f"expected {2 * length} hex digits, got {_show(value)}")
    return bytes.fromhex(text)


def _base64(value: Any) -> bytes:
    # proto3 JSON accepts standard and URL-safe base64, with or without padding.
    text = _string_value(value).replace("-", "+").replace("_", "/")
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except binascii.Error:
        raise DecodeError(f"expected base64, got {_show(value)}") from None


def _string_value(value: Any) -> str:
    if not isinstance(value, str):
        raise DecodeError(f"expected a string, got {_show(value)}")
    return value


def _expect_object(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise DecodeError(f"expected a JSON object, got {_json_type(value)}")
    return value


def _json_type(value: Any) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}
    return names.get(type(value), "null" if value is None else "a number")


def _show(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) <= 60 else text[:57] + "..."


_SCALAR_CONVERTERS: dict[int, Callable[[Any], Any]] = {
    FieldDescriptor.CPPTYPE_INT32: _integer,
    FieldDescriptor.CPPTYPE_INT64: _integer,
    FieldDescriptor.CPPTYPE_UINT32: _integer,
    FieldDescriptor.CPPTYPE_UINT64: _integer,
    FieldDescriptor.CPPTYPE_DOUBLE: _double,
    FieldDescriptor.CPPTYPE_FLOAT: _double,
    FieldDescriptor.CPPTYPE_BOOL: _bool,
    FieldDescriptor.CPPTYPE_STRING: _string,
}


class _Field(NamedTuple):
    """What the walk needs to know of a field, worked out once per message type."""

    name: str
    repeated: bool
    convert: Callable[[Any], Any] | None  # None for message fields


def _describe(field: FieldDescriptor) -> _Field:
    # `is_repeated` replaced `label` in recent protobuf releases; older ones have only `label`.
    repeated = getattr(field, "is_repeated", None)
    if repeated is None:
        repeated = field.label == FieldDescriptor.LABEL_REPEATED
    return _Field(field.name, bool(repeated), _converter(field))


def _converter(field: FieldDescriptor) -> Callable[[Any], Any] | None:
    if field.message_type is not None:
        return None
    if field.type == FieldDescriptor.TYPE_BYTES:
        length = _HEX_ID_LENGTHS.get(field.name)
        return _base64 if length is None else functools.partial(_hex_id, length)
    if field.enum_type is not None:
        numbers = {value.name: int(value.number) for value in field.enum_type.values}
        return functools.partial(_enum, numbers)
    return _SCALAR_CONVERTERS[field.cpp_type]


_FIELDS_CACHE: dict[str, dict[str, _Field]] = {}


def _fields_by_json_key(descriptor: Descriptor) -> dict[str, _Field]:
    """The fields of a message by lowerCamelCase name and by proto name (computed once)."""
    fields = _FIELDS_CACHE.get(descriptor.full_name)
    if fields is None:
        fields = {f.json_name: _describe(f) for f in descriptor.fields}
        fields.update({f.name: _describe(f) for f in descriptor.fields})
        _FIELDS_CACHE[descriptor.full_name] = fields
    return fields

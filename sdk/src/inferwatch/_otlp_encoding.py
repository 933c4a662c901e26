"""Fast OTLP encoding of the long attribute arrays of batch prediction spans.

The OpenTelemetry exporters encode an array attribute item by item, building one protobuf
``AnyValue`` object per item (about 1 µs each here); a buffered batch span carries five
arrays of a thousand items. Here a homogeneous array is written straight as protobuf wire
bytes, 0.03–0.1 µs per item (bench/sdk_overhead.py); for gRPC those bytes are parsed
into the request once, for OTLP/HTTP they are spliced into the serialized request as they
are. The result is the same ``ExportTraceServiceRequest`` the standard encoder builds,
attributes in another order.
"""

from __future__ import annotations

import copy
import re
import struct
from collections.abc import Sequence
from itertools import chain
from typing import Any

from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.metrics.v1.metrics_pb2 import ExponentialHistogramDataPoint
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span
from opentelemetry.sdk.trace import ReadableSpan

LONG_ARRAY = 32
"""Arrays at least this long take the fast path; shorter ones are not worth it."""

# AnyValue fields: string_value = 1 (LEN), bool_value = 2, int_value = 3 (varint),
# double_value = 4 (fixed64). ArrayValue.values = 1 (LEN, repeated AnyValue).
# Each item is ``0a <item length> <AnyValue field tag> [<length>] <payload>``.
#
# Hot loops of the export (bench/sdk_overhead.py, batched=True): every item of a column is
# laid out by C code — joins, and slice assignments with a step that write the n-th byte of
# every item at once — never by a Python statement per item.

_SMALL = [bytes([n]) for n in range(128)]
_VARINT = re.compile(rb"[\x80-\xff]*[\x00-\x7f]", re.DOTALL)
_ASCII_PREFIXES = ["\n" + chr(n + 2) + "\n" + chr(n) for n in range(126)]
"""The item prefix of an ASCII string of each length below 126, as text."""


def _varint(value: int) -> bytes:
    value &= (1 << 64) - 1
    if value < 128:
        return _SMALL[value]
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _interleave(prefix: bytes, payload: bytes, count: int) -> bytes:
    """``count`` items, each ``prefix`` followed by its equal share of ``payload``.

    One slice assignment per byte position of an item, each writing that byte of all items.
    """
    size = len(payload) // count
    step = len(prefix) + size
    out = bytearray(step * count)
    for offset, byte in enumerate(prefix):
        out[offset::step] = _SMALL[byte] * count
    for offset in range(size):
        out[len(prefix) + offset :: step] = payload[offset::size]
    return bytes(out)


def _string_items(texts: Sequence[str]) -> bytes:
    lengths = list(map(len, texts))
    if max(lengths) < 126:  # ASCII strings this short have a one-byte length: joins
        size = lengths[0]
        if lengths.count(size) == len(lengths):  # one length (ids, labels): one separator
            prefix = _ASCII_PREFIXES[size]
            text = prefix + prefix.join(texts)
        else:
            prefixes = map(_ASCII_PREFIXES.__getitem__, lengths)
            text = "".join(chain.from_iterable(zip(prefixes, texts, strict=True)))
        if text.isascii():
            return text.encode("ascii")
    small, parts = _SMALL, []
    for text in texts:
        raw = text.encode("utf-8")
        n = len(raw)
        if n < 126:
            parts.append(b"\x0a" + small[n + 2] + b"\x0a" + small[n] + raw)
        else:
            inner = b"\x0a" + _varint(n) + raw
            parts.append(b"\x0a" + _varint(len(inner)) + inner)
    return b"".join(parts)


def _double_items(values: Sequence[float]) -> bytes:
    return _interleave(b"\x0a\x09\x21", struct.pack(f"<{len(values)}d", *values), len(values))


def _int_items(values: Sequence[int]) -> bytes:
    low, high = min(values), max(values)
    if 0 <= low and high <= _UINT64:
        body = _varints(values)
        size = len(_varint(low))
        if size == len(_varint(high)):  # all varints of one length (timestamps)
            return _interleave(b"\x0a" + _SMALL[size + 1] + b"\x18", body, len(values))
    else:  # a negative int64 is the ten-byte varint of its two's complement
        body = _varints([value & _UINT64 for value in values])
    small = _SMALL  # a regex splits varints of different lengths
    return b"".join([b"\x0a" + small[len(v) + 1] + b"\x18" + v for v in _VARINT.findall(body)])


_UINT64 = (1 << 64) - 1


def _varints(values: Sequence[int]) -> bytes:
    """The varints of ``values`` (each below 2**64), concatenated; upb writes them."""
    serialized = ExponentialHistogramDataPoint.Buckets(bucket_counts=values).SerializeToString()
    return _packed_payload(serialized)


def _packed_payload(serialized: bytes) -> bytes:
    """The varints of ``Buckets.bucket_counts`` (field 2, packed) without tag and length."""
    index = 1
    while serialized[index] & 0x80:
        index += 1
    return serialized[index + 1 :]


def encode_array(values: Sequence[Any]) -> bytes | None:
    """Wire bytes of an ``ArrayValue`` holding ``values``; None unless all share one type."""
    kind = type(values[0])
    if list(map(type, values)).count(kind) != len(values):
        return None
    if kind is float:
        return _double_items(values)
    if kind is str:
        return _string_items(values)
    if kind is int:
        return _int_items(values)
    return None


def encode_spans_fast(spans: Sequence[ReadableSpan]) -> ExportTraceServiceRequest:
    """``encode_spans`` with long homogeneous arrays encoded in bulk (for gRPC)."""
    request, heavy = _encode_light(spans)
    if heavy:
        _add_arrays(request, heavy)
    return request


def serialize_spans_fast(spans: Sequence[ReadableSpan]) -> bytes:
    """``encode_spans_fast(spans).SerializePartialToString()``, for OTLP/HTTP, cheaper.

    The bulk-encoded arrays are spliced into the serialized request as they are, never
    parsed into protobuf objects and serialized again.
    """
    request, heavy = _encode_light(spans)
    if heavy:
        return _spliced_request(request, heavy)
    serialized: bytes = request.SerializePartialToString()
    return serialized


def _encode_light(
    spans: Sequence[ReadableSpan],
) -> tuple[ExportTraceServiceRequest, dict[int, dict[str, bytes]]]:
    """The request without the long arrays, and those arrays' bytes by span id."""
    light: list[ReadableSpan] = []
    heavy: dict[int, dict[str, bytes]] = {}
    for span in spans:
        arrays = _long_arrays(span)
        if arrays:
            heavy[span.context.span_id] = arrays
            span = copy.copy(span)
            span._attributes = {k: v for k, v in span.attributes.items() if k not in arrays}
        light.append(span)
    return encode_spans(light), heavy


def _long_arrays(span: ReadableSpan) -> dict[str, bytes]:
    arrays = {}
    for key, value in (span.attributes or {}).items():
        if isinstance(value, (tuple, list)) and len(value) >= LONG_ARRAY:
            encoded = encode_array(value)
            if encoded is not None:
                arrays[key] = encoded
    return arrays


def _add_arrays(request: ExportTraceServiceRequest, heavy: dict[int, dict[str, bytes]]) -> None:
    for resource_spans in request.resource_spans:
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                arrays = heavy.get(int.from_bytes(span.span_id, "big"))
                for key, encoded in (arrays or {}).items():
                    attribute = span.attributes.add()
                    attribute.key = key
                    attribute.value.array_value.ParseFromString(encoded)


def _tag(message: Any, field: str) -> bytes:
    """The tag byte of a length-delimited field (wire type 2) of a protobuf message type."""
    number: int = message.DESCRIPTOR.fields_by_name[field].number
    return _SMALL[number << 3 | 2]


_RESOURCE_SPANS = _tag(ExportTraceServiceRequest, "resource_spans")
_SCOPE_SPANS = _tag(ResourceSpans, "scope_spans")
_SPANS = _tag(ScopeSpans, "spans")
_ATTRIBUTES = _tag(Span, "attributes")
_KEY = _tag(KeyValue, "key")
_VALUE = _tag(KeyValue, "value")
_ARRAY_VALUE = _tag(AnyValue, "array_value")


def _framed(tag: bytes, parts: list[bytes]) -> list[bytes]:
    """A length-delimited field holding ``parts``, as parts: they are copied once, at the end."""
    return [tag, _varint(sum(map(len, parts))), *parts]


def _spliced_request(
    request: ExportTraceServiceRequest, heavy: dict[int, dict[str, bytes]]
) -> bytes:
    """Serialize ``request`` level by level, appending each span's arrays as attributes.

    Protobuf lets the entries of a repeated field follow the message's other fields, so a
    span's serialized bytes plus more ``attributes`` entries is that span with those too.
    """
    parts: list[bytes] = []
    for resource_spans in request.resource_spans:
        scopes: list[bytes] = []
        for scope_spans in resource_spans.scope_spans:
            spans: list[bytes] = []
            for span in scope_spans.spans:
                arrays = heavy.get(int.from_bytes(span.span_id, "big")) or {}
                spans += _framed(_SPANS, [span.SerializePartialToString(), *_attributes(arrays)])
            scope_spans.ClearField("spans")
            scopes += _framed(_SCOPE_SPANS, [scope_spans.SerializePartialToString(), *spans])
        resource_spans.ClearField("scope_spans")
        parts += _framed(_RESOURCE_SPANS, [resource_spans.SerializePartialToString(), *scopes])
    return b"".join(parts)


def _attributes(arrays: dict[str, bytes]) -> list[bytes]:
    """Serialized ``attributes`` entries (KeyValue with an ArrayValue) of a span's arrays."""
    parts: list[bytes] = []
    for key, encoded in arrays.items():
        value = _framed(_VALUE, _framed(_ARRAY_VALUE, [encoded]))
        parts += _framed(_ATTRIBUTES, [*_framed(_KEY, [key.encode("utf-8")]), *value])
    return parts

"""Fast OTLP encoding of the long attribute arrays of batch prediction spans.

The OpenTelemetry exporters encode an array attribute item by item, building one protobuf
``AnyValue`` object per item (about 1 µs each here); a buffered batch span carries five
arrays of a thousand items. Here a homogeneous array is written straight as protobuf wire
bytes and parsed once (about 0.1 µs per item, bench/sdk_overhead.py). The result is the
same ``ExportTraceServiceRequest`` the standard encoder builds, attributes in another order.
"""

from __future__ import annotations

import copy
import re
import struct
from collections.abc import Sequence
from typing import Any

from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.metrics.v1.metrics_pb2 import ExponentialHistogramDataPoint
from opentelemetry.sdk.trace import ReadableSpan

LONG_ARRAY = 32
"""Arrays at least this long take the fast path; shorter ones are not worth it."""

# AnyValue fields: string_value = 1 (LEN), bool_value = 2, int_value = 3 (varint),
# double_value = 4 (fixed64). ArrayValue.values = 1 (LEN, repeated AnyValue).
_DOUBLE_ITEM = struct.Struct("<3sd")
_DOUBLE_PREFIX = b"\x0a\x09\x21"


_SMALL = [bytes([n]) for n in range(128)]
_VARINT = re.compile(rb"[\x80-\xff]*[\x00-\x7f]", re.DOTALL)


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


def _string_items(texts: Sequence[str]) -> bytes:
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


def _int_items(values: Sequence[int]) -> bytes:
    # upb writes the varints (a packed repeated uint64 field); a regex splits them.
    unsigned = [value & 0xFFFFFFFFFFFFFFFF for value in values]
    body = _packed_payload(
        ExponentialHistogramDataPoint.Buckets(bucket_counts=unsigned).SerializeToString()
    )
    small = _SMALL
    return b"".join([b"\x0a" + small[len(v) + 1] + b"\x18" + v for v in _VARINT.findall(body)])


def _packed_payload(serialized: bytes) -> bytes:
    """The varints of ``Buckets.bucket_counts`` (field 2, packed) without tag and length."""
    index = 1
    while serialized[index] & 0x80:
        index += 1
    return serialized[index + 1 :]


def encode_array(values: Sequence[Any]) -> bytes | None:
    """Wire bytes of an ``ArrayValue`` holding ``values``; None unless all share one type."""
    kind = type(values[0])
    if not all(type(value) is kind for value in values):
        return None
    if kind is float:
        pack = _DOUBLE_ITEM.pack
        return b"".join([pack(_DOUBLE_PREFIX, value) for value in values])
    if kind is str:
        return _string_items(values)
    if kind is int:
        return _int_items(values)
    return None


def encode_spans_fast(spans: Sequence[ReadableSpan]) -> ExportTraceServiceRequest:
    """``encode_spans`` with long homogeneous arrays encoded in bulk."""
    light: list[ReadableSpan] = []
    heavy: dict[int, dict[str, bytes]] = {}
    for span in spans:
        arrays = _long_arrays(span)
        if arrays:
            heavy[span.context.span_id] = arrays
            span = copy.copy(span)
            span._attributes = {k: v for k, v in span.attributes.items() if k not in arrays}
        light.append(span)
    request = encode_spans(light)
    if heavy:
        _add_arrays(request, heavy)
    return request


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

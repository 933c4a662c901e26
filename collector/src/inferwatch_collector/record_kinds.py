"""What the collector's write-ahead log records hold, by record kind.

- kinds 1, 2, 3: a serialized ``Export{Trace,Metrics,Logs}ServiceRequest``, converted by the
  Python converter;
- kind 4: a serialized ``ExportTraceServiceRequest`` that ClickHouse may decode itself (no
  batch span, no label span; ``store/decoded.py``), behind an 8-byte header holding its span
  and single-prediction counts, so that the writer knows the rows it stores without reading
  them back.

>>> kind, payload = decodable_trace_record(b"request", spans=3, predictions=2)
>>> spans, predictions, request = split_decodable(payload)
>>> kind, spans, predictions, bytes(request)
(4, 3, 2, b'request')
"""

from __future__ import annotations

import struct

TRACES, METRICS, LOGS, DECODABLE_TRACES = 1, 2, 3, 4
_COUNTS = struct.Struct("<II")


def decodable_trace_record(request: bytes, *, spans: int, predictions: int) -> tuple[int, bytes]:
    """The kind and payload of a trace request for the ClickHouse decode."""
    return DECODABLE_TRACES, _COUNTS.pack(spans, predictions) + request


def split_decodable(payload: bytes) -> tuple[int, int, memoryview]:
    """``(spans, predictions, request bytes)`` of a kind-4 payload (a view, not a copy)."""
    spans, predictions = _COUNTS.unpack_from(payload)
    return spans, predictions, memoryview(payload)[_COUNTS.size :]

"""What the collector's write-ahead log records hold, by record kind.

- kinds 1, 2, 3: a serialized ``Export{Trace,Metrics,Logs}ServiceRequest``, converted by the
  Python converter;
- kind 4: a serialized ``ExportTraceServiceRequest`` that ClickHouse may decode itself (no
  batch span, no label span; ``store/decoded.py``), behind an 8-byte header holding its span
  and single-prediction counts, so that the writer knows the rows it stores without reading
  them back;
- kind 5: the same for a request that holds batch spans (no label span), behind a 12-byte
  header: spans, predictions (one per single-prediction span, one per item of a batch
  span's arrays), and single-prediction spans;
- kind 6: as kind 5, but ClickHouse decodes only its spans (``otel_traces``) and the Python
  converter makes its ``ml_predictions`` rows (the ``decode_batch_spans`` setting's
  ``spans``, and ``auto`` for a request whose batch spans carry per-prediction features).
  The kind, not the setting, tells the writer which path stores which table, so a replay
  after a restart with another setting takes the same paths.

>>> kind, payload = decodable_trace_record(b"request", spans=3, predictions=2, single=2)
>>> counts = split_decodable(kind, payload)
>>> kind, counts.spans, counts.predictions, counts.batch, bytes(counts.request)
(4, 3, 2, False, b'request')
>>> kind, payload = decodable_trace_record(b"r", spans=2, predictions=1001, single=1)
>>> counts = split_decodable(kind, payload)
>>> kind, counts.predictions, counts.single, counts.batch, counts.spans_only
(5, 1001, 1, True, False)
>>> kind, payload = decodable_trace_record(b"r", spans=1, predictions=9, single=0, spans_only=True)
>>> kind, split_decodable(kind, payload).spans_only
(6, True)
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

TRACES, METRICS, LOGS, DECODABLE_TRACES, DECODABLE_BATCH_TRACES = 1, 2, 3, 4, 5
DECODABLE_BATCH_SPANS = 6
DECODABLE = frozenset((DECODABLE_TRACES, DECODABLE_BATCH_TRACES, DECODABLE_BATCH_SPANS))
"""The kinds ClickHouse may decode."""
_COUNTS = struct.Struct("<II")
_BATCH_COUNTS = struct.Struct("<III")


@dataclass(frozen=True, slots=True)
class Decodable:
    """A decodable record's counts and its request's bytes (a view, not a copy)."""

    spans: int
    predictions: int
    single: int
    """Single-prediction spans (each one of ``predictions``)."""
    request: memoryview
    spans_only: bool = False
    """ClickHouse decodes only the spans; the predictions are the Python converter's (kind 6)."""

    @property
    def batch(self) -> bool:
        """Whether the request holds batch spans (predictions beyond the single ones)."""
        return self.predictions > self.single


def decodable_trace_record(
    request: bytes, *, spans: int, predictions: int, single: int, spans_only: bool = False
) -> tuple[int, bytes]:
    """The kind and payload of a trace request for the ClickHouse decode: kind 4 when every
    prediction is a single-prediction span, else kind 5, or kind 6 with ``spans_only``."""
    if predictions == single:
        return DECODABLE_TRACES, _COUNTS.pack(spans, predictions) + request
    kind = DECODABLE_BATCH_SPANS if spans_only else DECODABLE_BATCH_TRACES
    return kind, _BATCH_COUNTS.pack(spans, predictions, single) + request


def split_decodable(kind: int, payload: bytes) -> Decodable:
    """The counts and request of a kind-4, 5 or 6 payload."""
    if kind == DECODABLE_TRACES:
        spans, predictions = _COUNTS.unpack_from(payload)
        return Decodable(spans, predictions, predictions, memoryview(payload)[_COUNTS.size :])
    spans, predictions, single = _BATCH_COUNTS.unpack_from(payload)
    request = memoryview(payload)[_BATCH_COUNTS.size :]
    return Decodable(spans, predictions, single, request, kind == DECODABLE_BATCH_SPANS)

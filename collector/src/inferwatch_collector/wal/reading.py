"""Reading records back across segments, between two positions of the log."""

from __future__ import annotations

import bisect
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field

from inferwatch_collector.wal.frame import FrameHeader, WalRecord
from inferwatch_collector.wal.segment import Position, Segment, SegmentReader


@dataclass(frozen=True, slots=True)
class ReadLimits:
    max_records: int = sys.maxsize
    max_bytes: int = sys.maxsize  # payload bytes; one record is returned even if larger
    last_seq: int = sys.maxsize
    weights: Mapping[int, int] = field(default_factory=dict)
    """How many times a record's payload counts against ``max_bytes``, by kind (default 1)."""


def read_records(
    segments: list[Segment], start: Position, end: Position, limits: ReadLimits
) -> tuple[list[WalRecord], Position]:
    """Records from ``start`` up to ``end`` within ``limits``, and where the next one starts."""
    records: list[WalRecord] = []
    taken = 0
    for segment in segments[segments.index(start.segment) : segments.index(end.segment) + 1]:
        begin = start.offset if segment is start.segment else 0
        stop = end.offset if segment is end.segment else segment.size
        with SegmentReader(segment) as reader:
            for offset, header in reader.walk(begin, stop):
                cost = header.length * limits.weights.get(header.kind, 1)
                if _limit_reached(records, taken + cost, header, limits):
                    return records, Position(segment, offset)
                payload = reader.payload_at(offset, header)
                records.append(WalRecord(header.seq, header.kind, payload))
                taken += cost
    return records, end


def locate(segments: list[Segment], end: Position, seq: int) -> Position:
    """Position of the first record with ``seq`` or more before ``end``; ``end`` if none."""
    last = segments.index(end.segment)
    index = bisect.bisect_right(segments, seq, hi=last + 1, key=lambda each: each.first_seq)
    for segment in segments[max(0, index - 1) : last + 1]:
        stop = end.offset if segment is end.segment else segment.size
        with SegmentReader(segment) as reader:
            offset = reader.find(seq, stop)
        if offset is not None:
            return Position(segment, offset)
    return end


def _limit_reached(
    records: list[WalRecord], taken: int, header: FrameHeader, limits: ReadLimits
) -> bool:
    """Whether the record of ``header`` stays out, ``taken`` counting it in."""
    if header.seq > limits.last_seq or len(records) >= limits.max_records:
        return True
    return bool(records) and taken > limits.max_bytes

"""Tumbling windows by prediction time: which ones a pass evaluates."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from .durations import parse_duration

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


@dataclass(frozen=True)
class WindowRange:
    """Windows of one size covering ``[start, end)``; ``start`` is on a window boundary."""

    size: str
    seconds: int
    start: datetime
    end: datetime

    def count(self) -> int:
        return max(0, -(-int((self.end - self.start).total_seconds()) // self.seconds))


def floor_to_window(moment: datetime, seconds: int) -> datetime:
    """The start of the window of ``seconds`` holding ``moment`` (aligned to the Unix epoch)."""
    elapsed = int((moment - EPOCH).total_seconds())
    return EPOCH + timedelta(seconds=elapsed - elapsed % seconds)


def pass_range(
    size: str,
    *,
    now: datetime,
    label_horizon: str,
    start: datetime | None = None,
    end: datetime | None = None,
) -> WindowRange:
    """The windows of one pass: those still inside the label horizon (and the current one),
    or, for a backfill, those overlapping ``[start, end)``."""
    seconds = int(parse_duration(size).total_seconds())
    if start is None or end is None:
        start, end = now - parse_duration(label_horizon), now
    return WindowRange(size, seconds, floor_to_window(start, seconds), end)


def backfill_chunks(
    start: datetime, end: datetime, sizes: list[str], at_least: timedelta = timedelta(days=1)
) -> list[tuple[datetime, datetime]]:
    """Split a backfill into consecutive chunks that never cut a window of any size.

    Chunks are a common multiple of the window sizes (and at least ``at_least`` long),
    aligned to the epoch like the windows, so each window lies whole inside one chunk.

    >>> t = datetime(2026, 11, 27, 9, tzinfo=timezone.utc)
    >>> [(a.hour, b.hour) for a, b in backfill_chunks(t, t + timedelta(hours=30), ["1h"])]
    [(9, 0), (0, 15)]
    """
    seconds = 1
    for size in sizes:
        seconds = math.lcm(seconds, int(parse_duration(size).total_seconds()))
    seconds *= max(1, -(-int(at_least.total_seconds()) // seconds))
    chunks = []
    lo = floor_to_window(start, seconds)
    while lo < end:
        hi = lo + timedelta(seconds=seconds)
        chunks.append((max(lo, start), min(hi, end)))
        lo = hi
    return chunks
